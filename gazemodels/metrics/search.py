"""Search-behaviour metrics: fixations to target, target-fixation probability,
scanpath ratio, reaction times from fixation counts, RT-set-size slopes and the
search asymmetry index.

Counting convention
-------------------
A search scanpath starts with the **initial fixation** (usually forced at the
screen centre), fixation 0. "Fixations to target" counts the fixations made
*after* it up to and including the first one on the target, so a target found
by the initial fixation scores 0 and one found by the first saccade scores 1.
This is the convention of Gupta et al. (2021) for reaction times and of Yang et
al. (2020) for the target-fixation probability curve (their step counts
include the initial fixation; ours are theirs minus one, and the curves agree).

References
----------
Gupta, Zhang, Sen, Kreiman (2021), "Visual search asymmetry: Deep nets and
humans share similar inherent biases", NeurIPS; code
github.com/kreimanlab/VisualSearchAsymmetry (vs_exp/rt_plot.py,
vs_exp/eval_asym_metric.py).

Yang, Huang, Chen, Wei, Ahn, Zelinsky, Samaras, Hoai (2020), "Predicting
goal-directed human attention using inverse reinforcement learning", CVPR;
code github.com/cvlab-stonybrook/Scanpath_Prediction (irl_dcb/metrics.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from gazemodels.data.schema import SCANPATH_KEYS

__all__ = [
    "RTParameterisation",
    "RT_PARAMETERISATIONS",
    "GUPTA2021",
    "SlopeResult",
    "asymmetry_index",
    "fixations_to_rt",
    "fixations_to_target",
    "fixations_to_target_by_scanpath",
    "probability_mismatch",
    "rt_by_set_size",
    "rt_setsize_slope",
    "scanpath_ratio",
    "slope_correlation",
    "target_fixation_probability",
    "tfp_auc",
    "target_found",
]


# --------------------------------------------------------------------------- found / fixations to target


def target_found(fixations, bbox, *, margin_px: float = 0.0, inclusive: bool = False) -> np.ndarray:
    """Whether each fixation lies on the target's bounding box.

    Parameters
    ----------
    fixations : (n, 2) array or fixation table
        ``(x, y)`` px.
    bbox : (x, y, w, h)
        Target box in px, top-left origin (the stimulus table's ``target_bbox``).
    margin_px : float, default 0
        Grow the box by this many px on every side (fixation-accuracy tolerance).
    inclusive : bool, default False
        Count fixations exactly on the border. The default (strict inequality)
        is Yang et al. (2020)'s ``get_num_step2target``.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    xy = fixations[["x", "y"]].to_numpy(float) if isinstance(fixations, pd.DataFrame) else np.asarray(fixations, float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"target_found: fixations must be (n, 2) (x, y) px, got shape {xy.shape}")
    bx, by, bw, bh = (float(v) for v in bbox)
    if not (bw >= 0 and bh >= 0):
        raise ValueError(f"target_found: bbox width and height must be >= 0, got {bbox}")
    x0, y0, x1, y1 = bx - margin_px, by - margin_px, bx + bw + margin_px, by + bh + margin_px
    x, y = xy[:, 0], xy[:, 1]
    if inclusive:
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return (x > x0) & (x < x1) & (y > y0) & (y < y1)  # Yang et al. 2020, get_num_step2target


def fixations_to_target(found, *, set_size=None, include_initial: bool = False) -> np.ndarray:
    """Number of fixations needed to land on the target, per trial.

    Parameters
    ----------
    found : (n_trials, n_fix) array of bool, or sequence of 1-D bool arrays
        ``found[t, i]`` is true when fixation ``i`` of trial ``t`` is on the
        target; column 0 is the initial fixation. Padding after the end of a
        scanpath must be false.
    set_size : float or (n_trials,) array, optional
        Count given to trials whose target is never fixated. Gupta et al.
        (2021) use the trial's set size (number of items), so that the RT of a
        miss is that of an exhaustive search. Without it, misses are ``inf``.
    include_initial : bool, default False
        Count the initial fixation too (adds 1 to every found count; Yang et
        al. 2020's "step number").

    Returns
    -------
    numpy.ndarray of float, shape (n_trials,)
        Index of the first on-target fixation (fixations after the initial one),
        or the miss value.
    """
    if isinstance(found, np.ndarray) and found.ndim == 2:
        f = found.astype(bool)
    else:
        rows = [np.asarray(r, dtype=bool).ravel() for r in found]
        width = max((len(r) for r in rows), default=0)
        f = np.zeros((len(rows), width), dtype=bool)
        for i, r in enumerate(rows):
            f[i, : len(r)] = r
    if f.shape[0] == 0:
        raise ValueError("fixations_to_target: no trials given")
    hit = f.any(axis=1)
    counts = np.argmax(f, axis=1).astype(float)  # Gupta et al. 2021, rt_plot.py: argmax of the found indicator
    if include_initial:
        counts = counts + 1.0
    if set_size is None:
        miss = np.inf
    else:
        miss = np.broadcast_to(np.asarray(set_size, dtype=float), hit.shape)[~hit]
    counts[~hit] = miss  # Gupta et al. 2021: a miss counts as the set size
    return counts


def fixations_to_target_by_scanpath(
    fixations: pd.DataFrame,
    *,
    found: str = "found",
    set_size: str | float | None = None,
    by: Sequence[str] = SCANPATH_KEYS,
) -> pd.DataFrame:
    """Fixations to target for every scanpath of a fixation table.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table with a boolean column ``found`` (the target was fixated
        at this fixation); fix_index 0 is the initial fixation.
    found : str, default "found"
        Name of the found column.
    set_size : str or float, optional
        Column holding each trial's set size, or one number for all, used as
        the count of misses (see :func:`fixations_to_target`).
    by : sequence of str
        Scanpath keys.

    Returns
    -------
    pandas.DataFrame
        One row per scanpath: the ``by`` columns, ``found`` (bool) and
        ``n_fix_to_target`` (float; ``inf`` for a miss without ``set_size``).
    """
    need = [*by, "fix_index", found] + ([set_size] if isinstance(set_size, str) else [])
    missing = [c for c in need if c not in fixations.columns]
    if missing:
        raise ValueError(f"fixations_to_target_by_scanpath: missing column(s) {missing}")
    if fixations[found].isna().any():
        raise ValueError(f"fixations_to_target_by_scanpath: column {found!r} has missing values")
    df = fixations.sort_values([*by, "fix_index"], kind="stable")
    g = df.groupby(list(by), sort=True, dropna=False)
    out = g.size().reset_index(name="_n")
    # position of each fixation in its scanpath (0 = initial fixation)
    pos = g.cumcount().to_numpy().astype(float)
    hit = df[found].to_numpy(dtype=bool)
    first = (
        pd.DataFrame({"_pos": np.where(hit, pos, np.inf)}, index=df.index)
        .groupby([df[c] for c in by], sort=True, dropna=False)["_pos"]
        .min()
        .to_numpy()
    )
    is_found = np.isfinite(first)
    if set_size is None:
        miss = np.full(len(out), np.inf)
    elif isinstance(set_size, str):
        miss = g[set_size].first().to_numpy(dtype=float)
    else:
        miss = np.full(len(out), float(set_size))
    out["found"] = is_found
    out["n_fix_to_target"] = np.where(is_found, first, miss)  # Gupta et al. 2021: a miss counts as the set size
    return out.drop(columns="_n")


# --------------------------------------------------------------------------- TFP curve


def target_fixation_probability(counts, max_fixations: int = 6, *, groups=None) -> np.ndarray:
    """Target-fixation probability (TFP) curve: P(target fixated within k fixations).

    ``TFP(k) = P(n_fix_to_target <= k)`` for ``k = 0, 1, ..., max_fixations``
    (k = 0: found by the initial fixation). This is the cumulative
    search-efficiency curve of Yang et al. (2020) (their ``get_CDF`` over
    step numbers ``1..max_step+1``, which include the initial fixation).

    Parameters
    ----------
    counts : array_like, shape (n_trials,)
        Fixations to target per trial (:func:`fixations_to_target`); misses are
        ``inf`` (or any value above ``max_fixations``). NaN is an error.
    max_fixations : int, default 6
        Last k of the curve. Yang et al. (2020) use 6 on COCO-Search18.
    groups : array_like, shape (n_trials,), optional
        Group label per trial (e.g. target category). The curve is computed per
        group and the group curves averaged with equal weight, as Yang et al.
        (2020)'s ``compute_search_cdf`` does per task.

    Returns
    -------
    numpy.ndarray, shape (max_fixations + 1,)
        Probabilities in [0, 1], non-decreasing.
    """
    c = np.asarray(counts, dtype=float).ravel()
    if c.size == 0:
        raise ValueError("target_fixation_probability: no trials given")
    if np.isnan(c).any():
        raise ValueError(
            f"target_fixation_probability: {int(np.isnan(c).sum())} NaN count(s); mark misses as inf"
        )
    if int(max_fixations) < 0:
        raise ValueError("target_fixation_probability: max_fixations must be >= 0")
    ks = np.arange(int(max_fixations) + 1)
    if groups is None:
        return (c[:, None] <= ks[None, :]).mean(axis=0)  # Yang et al. 2020, get_CDF
    g = np.asarray(groups).ravel()
    if g.size != c.size:
        raise ValueError(f"target_fixation_probability: {c.size} counts but {g.size} group labels")
    curves = [(c[g == u][:, None] <= ks[None, :]).mean(axis=0) for u in pd.unique(g)]
    return np.mean(curves, axis=0)  # Yang et al. 2020: mean over tasks of the per-task curves


def tfp_auc(curve) -> float:
    """Area under the target-fixation probability curve.

    ``TFP-AUC = sum_k TFP(k)`` over the points of the curve, unit spacing
    (Yang et al. 2020, ``compute_cdf_auc``: ``cdf[0] + cdf[-1] + sum(cdf[1:-1])``,
    which is the plain sum). Units: fixations; the maximum is the number of points.

    Parameters
    ----------
    curve : array_like
        A TFP curve from :func:`target_fixation_probability`.

    Returns
    -------
    float
    """
    v = np.asarray(curve, dtype=float).ravel()
    if v.size == 0 or np.isnan(v).any():
        raise ValueError("tfp_auc: the curve is empty or has NaN values")
    return float(v.sum())  # Yang et al. 2020, compute_cdf_auc


def probability_mismatch(curve, reference_curve) -> float:
    """Probability mismatch between two TFP curves: ``sum_k |TFP_a(k) - TFP_b(k)|``.

    Yang et al. (2020), ``compute_prob_mismatch``; 0 when the model finds
    targets at the human rate at every fixation. Units: fixations (a sum of
    probabilities over unit steps).

    Parameters
    ----------
    curve, reference_curve : array_like
        TFP curves of the same length (model and humans).

    Returns
    -------
    float
    """
    a = np.asarray(curve, dtype=float).ravel()
    b = np.asarray(reference_curve, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"probability_mismatch: curves have lengths {a.size} and {b.size}; they must match")
    if np.isnan(a).any() or np.isnan(b).any():
        raise ValueError("probability_mismatch: a curve has NaN values")
    return float(np.abs(a - b).sum())  # Yang et al. 2020, compute_prob_mismatch


# --------------------------------------------------------------------------- scanpath ratio


def scanpath_ratio(scanpath, target_bbox, *, found=None, max_fixations: int | None = None) -> float:
    """Scanpath ratio: straight-line distance to the target over the path travelled.

    ``SR = min(1, ||c_t - f_0|| / sum_{i=1}^{m} ||f_i - f_{i-1}||)``, where
    ``f_0`` is the initial fixation, ``f_m`` the first fixation on the target
    and ``c_t`` the centre of the target box (Yang et al. 2020,
    ``scanpath_ratio`` and ``compute_avgSPRatio``). 1 is a direct path.

    Parameters
    ----------
    scanpath : (n, 2) array or fixation table
        Fixations (x, y) px in order, the initial fixation first.
    target_bbox : (x, y, w, h)
        Target box, px.
    found : array_like of bool, shape (n,), optional
        Which fixations are on the target; default :func:`target_found` with
        the box (strictly inside).
    max_fixations : int, optional
        Treat a target found later than this many fixations after the initial
        one as a miss (Yang et al. skip scanpaths with step > max_step + 1).

    Returns
    -------
    float
        In (0, 1], or NaN when the ratio is undefined: the target is never
        fixated (within ``max_fixations``), or it is fixated by the initial
        fixation (no path travelled). Yang et al. skip those scanpaths;
        average with :func:`numpy.nanmean` to do the same.
    """
    xy = scanpath[["x", "y"]].to_numpy(float) if isinstance(scanpath, pd.DataFrame) else np.asarray(scanpath, float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"scanpath_ratio: scanpath must be (n, 2) (x, y) px, got shape {xy.shape}")
    if len(xy) == 0:
        raise ValueError("scanpath_ratio: empty scanpath")
    if not np.isfinite(xy).all():
        raise ValueError("scanpath_ratio: the scanpath has NaN or infinite coordinates")
    hit = target_found(xy, target_bbox) if found is None else np.asarray(found, dtype=bool).ravel()
    if hit.size != len(xy):
        raise ValueError(f"scanpath_ratio: {hit.size} found flags for {len(xy)} fixations")
    if not hit.any():
        return float("nan")
    m = int(np.argmax(hit))
    if m == 0 or (max_fixations is not None and m > max_fixations):
        return float("nan")
    path = np.linalg.norm(np.diff(xy[: m + 1], axis=0), axis=1).sum()  # summed saccade amplitudes
    if path == 0:
        return float("nan")
    bx, by, bw, bh = (float(v) for v in target_bbox)
    direct = np.hypot(bx + bw / 2.0 - xy[0, 0], by + bh / 2.0 - xy[0, 1])  # initial fixation to target centre
    return float(min(direct / path, 1.0))  # Yang et al. 2020, scanpath_ratio


# --------------------------------------------------------------------------- reaction times


@dataclass(frozen=True)
class RTParameterisation:
    """A linear map from fixation counts to reaction times.

    ``RT = slope_ms * n_fixations + intercept_ms``.

    Attributes
    ----------
    name : str
        Registry name.
    slope_ms : float
        ms per fixation.
    intercept_ms : float
        ms.
    reference : str
        Where it comes from.
    """

    name: str
    slope_ms: float
    intercept_ms: float
    reference: str

    def __call__(self, n_fixations) -> np.ndarray:
        """Reaction time in ms for each fixation count."""
        return self.slope_ms * np.asarray(n_fixations, dtype=float) + self.intercept_ms


GUPTA2021 = RTParameterisation(
    name="gupta2021",
    slope_ms=252.359,
    intercept_ms=376.271,
    reference=(
        "Gupta, Zhang, Sen & Kreiman (2021), NeurIPS: RT = 252.359 ms x fixations + 376.271 ms, "
        "fitted to human search data; fixations exclude the initial central one and a miss counts "
        "as the set size (vs_exp/generateAsymIndex.ipynb rt_fxn_model)."
    ),
)
"""The default fixation-to-RT conversion (Gupta et al. 2021)."""

RT_PARAMETERISATIONS: dict[str, RTParameterisation] = {GUPTA2021.name: GUPTA2021}
"""Named fixation-to-RT conversions; add one with ``RT_PARAMETERISATIONS[p.name] = p``."""


def fixations_to_rt(n_fixations, parameterisation: str | RTParameterisation = "gupta2021") -> np.ndarray:
    """Convert fixation counts to reaction times.

    Parameters
    ----------
    n_fixations : array_like
        Fixations to target, counted as in :func:`fixations_to_target` with
        ``set_size`` for misses (the Gupta et al. 2021 convention).
    parameterisation : str or RTParameterisation, default "gupta2021"
        A name in :data:`RT_PARAMETERISATIONS` or a parameterisation.
        ``"gupta2021"``: ``RT = 252.359 ms x n + 376.271 ms``.

    Returns
    -------
    numpy.ndarray
        Reaction times in ms.
    """
    if isinstance(parameterisation, str):
        try:
            p = RT_PARAMETERISATIONS[parameterisation]
        except KeyError:
            raise ValueError(
                f"unknown RT parameterisation {parameterisation!r}; known: {sorted(RT_PARAMETERISATIONS)}"
            ) from None
    else:
        p = parameterisation
    n = np.asarray(n_fixations, dtype=float)
    if np.isnan(n).any() or np.isinf(n).any():
        raise ValueError(
            "fixations_to_rt: counts must be finite; give misses the set size "
            "(fixations_to_target(..., set_size=...))"
        )
    return p(n)  # Gupta et al. 2021: RT = slope * fixations + intercept


# --------------------------------------------------------------------------- slopes


@dataclass(frozen=True)
class SlopeResult:
    """Slope of mean RT against set size.

    Attributes
    ----------
    slope : float
        ms per item.
    intercept : float
        ms.
    ci_low, ci_high : float
        Percentile bootstrap interval of the slope (NaN without trial-level data).
    level : float
        Coverage of the interval.
    set_sizes : numpy.ndarray
        The distinct set sizes.
    mean_rt : numpy.ndarray
        Mean RT (ms) at each set size.
    """

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    level: float
    set_sizes: np.ndarray
    mean_rt: np.ndarray


def rt_by_set_size(set_sizes, rts) -> tuple[np.ndarray, np.ndarray]:
    """Mean RT per set size.

    Parameters
    ----------
    set_sizes : array_like, shape (n,)
        Set size of each trial.
    rts : array_like, shape (n,)
        RT (ms) of each trial.

    Returns
    -------
    sizes : numpy.ndarray
        Sorted distinct set sizes.
    mean_rt : numpy.ndarray
        Mean RT at each.
    """
    s = np.asarray(set_sizes, dtype=float).ravel()
    r = np.asarray(rts, dtype=float).ravel()
    if s.size != r.size:
        raise ValueError(f"rt_by_set_size: {s.size} set sizes but {r.size} RTs")
    if s.size == 0:
        raise ValueError("rt_by_set_size: no trials")
    if not (np.isfinite(s).all() and np.isfinite(r).all()):
        raise ValueError("rt_by_set_size: set sizes and RTs must be finite")
    sizes, inv = np.unique(s, return_inverse=True)
    means = np.bincount(inv, weights=r) / np.bincount(inv)
    return sizes, means


def _ols_slope(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope and intercept of y on x; y may carry leading batch axes."""
    xc = x - x.mean()
    slope = (y * xc).sum(axis=-1) / (xc**2).sum()
    return slope, y.mean(axis=-1) - slope * x.mean()


def rt_setsize_slope(
    set_sizes,
    rts,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | None = 0,
) -> SlopeResult:
    """Slope of reaction time against set size, with a bootstrap confidence interval.

    The slope is the least-squares line through the *mean* RT at each set size
    (Gupta et al. 2021, ``FxnData.calcModelRT``: ``linregress(set sizes, mean
    RTs)``); with equal trial counts per set size it equals the trial-level
    slope. The interval resamples trials with replacement *within* each set
    size, recomputes the means and the slope, and takes percentiles.

    Parameters
    ----------
    set_sizes : array_like, shape (n,)
        Set size of each trial, or of each mean RT when only means are known.
    rts : array_like, shape (n,)
        RT in ms per trial (e.g. :func:`fixations_to_rt` of the model's counts),
        or the mean RTs.
    n_boot : int, default 1000
        Bootstrap resamples; 0 skips the interval.
    level : float, default 0.95
        Coverage.
    seed : int or None, default 0
        Seed of the resampling.

    Returns
    -------
    SlopeResult
        ``slope`` in ms/item. The interval is NaN when every set size has a
        single value (means only) or ``n_boot == 0``.

    Raises
    ------
    ValueError
        With fewer than two distinct set sizes (the slope is undefined).
    """
    s = np.asarray(set_sizes, dtype=float).ravel()
    r = np.asarray(rts, dtype=float).ravel()
    sizes, means = rt_by_set_size(s, r)
    if sizes.size < 2:
        raise ValueError(f"rt_setsize_slope: needs at least two distinct set sizes, got {sizes.tolist()}")
    slope, intercept = _ols_slope(sizes, means)  # Gupta et al. 2021: linregress(num_items, mean RT)
    lo = hi = float("nan")
    inv = np.searchsorted(sizes, s)
    counts = np.bincount(inv, minlength=sizes.size)
    if n_boot > 0 and counts.max() > 1:
        if not 0 < level < 1:
            raise ValueError(f"rt_setsize_slope: level must lie in (0, 1), got {level}")
        rng = np.random.default_rng(seed)
        boot_means = np.empty((int(n_boot), sizes.size))
        for j in range(sizes.size):
            vals = r[inv == j]
            idx = rng.integers(0, vals.size, size=(int(n_boot), vals.size))  # resample trials within set size
            boot_means[:, j] = vals[idx].mean(axis=1)
        bs, _ = _ols_slope(sizes, boot_means)
        lo, hi = (float(v) for v in np.quantile(bs, [(1 - level) / 2, (1 + level) / 2]))
    return SlopeResult(float(slope), float(intercept), lo, hi, level, sizes, means)


def asymmetry_index(model_slopes, human_slopes) -> np.ndarray | float:
    """Search asymmetry index of each pair of conditions.

    ``AI = (s_hard - s_easy) / (s_hard + s_easy)`` with the slopes clipped at 0
    and the **hard** condition of a pair being the one with the larger *human*
    slope (Gupta et al. 2021, ``calcAsymScore``). When both clipped slopes are
    0 the index is 0, as in their code. Pass the human slopes as
    ``model_slopes`` too to get the human index.

    Parameters
    ----------
    model_slopes : array_like, shape (..., 2)
        RT-set-size slopes (ms/item) of the two conditions of each experiment.
    human_slopes : array_like, shape (..., 2)
        Human slopes of the same conditions, in the same order.

    Returns
    -------
    float or numpy.ndarray
        In [-1, 1], one per pair; positive when the model finds hard what humans find hard.
    """
    m = np.asarray(model_slopes, dtype=float)
    h = np.asarray(human_slopes, dtype=float)
    if m.shape != h.shape or m.shape[-1:] != (2,):
        raise ValueError(
            f"asymmetry_index: slopes must both have shape (..., 2), got {m.shape} and {h.shape}"
        )
    if np.isnan(m).any() or np.isnan(h).any():
        raise ValueError("asymmetry_index: NaN slope")
    hard_first = h[..., 0] > h[..., 1]  # Gupta et al. 2021: hard = larger human slope (ties: the second)
    s_hard = np.maximum(0.0, np.where(hard_first, m[..., 0], m[..., 1]))  # slopes clipped at 0
    s_easy = np.maximum(0.0, np.where(hard_first, m[..., 1], m[..., 0]))
    total = s_hard + s_easy
    with np.errstate(invalid="ignore", divide="ignore"):
        ai = np.where(total == 0, 0.0, (s_hard - s_easy) / np.where(total == 0, 1.0, total))
    return float(ai) if ai.ndim == 0 else ai


def slope_correlation(model_slopes, human_slopes) -> tuple[float, float]:
    """Pearson correlation between model and human RT-set-size slopes.

    Gupta et al. (2021), ``calcCorrScore``: one slope per condition (each
    condition once), ``scipy.stats.pearsonr(human, model)``.

    Parameters
    ----------
    model_slopes, human_slopes : array_like, shape (n,)
        Slopes (ms/item) per condition, aligned.

    Returns
    -------
    r : float
        Correlation coefficient (unitless).
    p : float
        Two-sided p-value of no correlation.
    """
    m = np.asarray(model_slopes, dtype=float).ravel()
    h = np.asarray(human_slopes, dtype=float).ravel()
    if m.size != h.size:
        raise ValueError(f"slope_correlation: {m.size} model slopes but {h.size} human slopes")
    if m.size < 3:
        raise ValueError("slope_correlation: needs at least 3 conditions")
    if np.ptp(m) == 0 or np.ptp(h) == 0:
        raise ValueError("slope_correlation: the slopes of one side are all equal; r is undefined")
    res = stats.pearsonr(h, m)
    return float(res.statistic), float(res.pvalue)
