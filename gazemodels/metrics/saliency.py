"""Density and saliency metrics: a predicted map against human fixations or a human map.

Conventions shared by every function here
------------------------------------------
* A **map** is a 2-D array ``(height, width)`` in stimulus pixels, row 0 at the
  top, as the fixation table's ``y`` axis.
* **Fixations** are an ``(n, 2)`` array of ``(x, y)`` in px, or a fixation table
  (only its ``x`` and ``y`` columns are read). Pixel ``(row, col)`` covers
  ``[col, col+1) x [row, row+1)`` px, so a fixation falls in
  ``(floor(y), floor(x))``; a fixation exactly on the right or bottom border
  (``x == width``), which the fixation schema allows, counts in the last
  pixel. A fixation outside the map is an error, never silently clipped.
* A **density** is a map of non-negative probability masses per pixel that sum
  to 1. :func:`to_density` turns a saliency map into one.
* Logarithms: KL divergence is in **nats** (as the MIT/Tuebingen benchmark
  reports it); log-likelihood and information gain are in **bits per
  fixation** (Kümmerer et al. 2015).

The definitions follow Bylinskii, Judd, Oliva, Torralba & Durand (2019),
"What do different evaluation metrics tell us about saliency models?", IEEE
TPAMI 41(3):740-757, and the MIT saliency benchmark code that accompanies it,
except where a docstring says otherwise (and why).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import ndimage, stats

__all__ = [
    "auc_judd",
    "auc_borji",
    "shuffled_auc",
    "nss",
    "cc",
    "kl_divergence",
    "sim",
    "log_likelihood",
    "information_gain",
    "to_density",
    "uniform_density",
    "centre_bias_density",
    "fixation_map",
    "empirical_saliency_map",
    "resize_map",
    "score_saliency",
    "SALIENCY_METRICS",
]

KL_EPS = 2.2204e-16
"""Regulariser of :func:`kl_divergence`, MATLAB's ``eps`` as in the MIT benchmark's ``KLdiv.m``."""


# --------------------------------------------------------------------------- input checks


def _as_map(a, name: str = "saliency_map") -> np.ndarray:
    """Return ``a`` as a finite 2-D float array, or raise naming the problem."""
    m = np.asarray(a, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (height, width) array, got shape {m.shape}")
    if m.size == 0:
        raise ValueError(f"{name} is empty (shape {m.shape})")
    bad = ~np.isfinite(m)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite value(s), the first at row {r}, column {c}"
        )
    return m


def _check_image_size(m: np.ndarray, image_size, name: str) -> None:
    if image_size is None:
        return
    w, h = (int(v) for v in image_size)
    if m.shape != (h, w):
        raise ValueError(
            f"{name} is {m.shape[1]}x{m.shape[0]} px (width x height) but the stimulus is {w}x{h} px; "
            "resize the map to the stimulus first (gazemodels.metrics.saliency.resize_map)"
        )


def _as_xy(fixations, name: str = "fixations") -> np.ndarray:
    """Return fixations as an ``(n, 2)`` float array of (x, y) px."""
    if isinstance(fixations, pd.DataFrame):
        missing = [c for c in ("x", "y") if c not in fixations.columns]
        if missing:
            raise ValueError(f"{name}: fixation table lacks column(s) {missing}")
        xy = fixations[["x", "y"]].to_numpy(dtype=float)
    else:
        xy = np.asarray(fixations, dtype=float)
        if xy.ndim == 1 and xy.size == 2:
            xy = xy[None, :]
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"{name} must be an (n, 2) array of (x, y) px, got shape {xy.shape}")
    if len(xy) == 0:
        raise ValueError(f"{name}: no fixations given; the metric is undefined without fixations")
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: {int(bad.sum())} fixation(s) have NaN or infinite coordinates, "
            f"the first is fixation {i} at (x={xy[i, 0]}, y={xy[i, 1]})"
        )
    return xy


def _pixel_index(xy: np.ndarray, shape: tuple[int, int], name: str = "fixations") -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels the fixations fall in; raise if any lies off the map."""
    h, w = shape
    x, y = xy[:, 0], xy[:, 1]
    off = (x < 0) | (y < 0) | (x > w) | (y > h)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"{name}: {int(off.sum())} fixation(s) lie outside the {w}x{h} px map, the first is "
            f"fixation {i} at (x={x[i]:g}, y={y[i]:g}) px; rescale the fixations or the map"
        )
    cols = np.minimum(np.floor(x).astype(np.int64), w - 1)  # x == width counts in the last column
    rows = np.minimum(np.floor(y).astype(np.int64), h - 1)
    return rows, cols


def _values_at(m: np.ndarray, fixations, name: str = "fixations") -> np.ndarray:
    rows, cols = _pixel_index(_as_xy(fixations, name), m.shape, name)
    return m[rows, cols]


def _same_shape(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{na} is {a.shape[1]}x{a.shape[0]} px but {nb} is {b.shape[1]}x{b.shape[0]} px "
            "(width x height); the two maps must have the same size"
        )


def _minmax01(m: np.ndarray) -> np.ndarray:
    """Rescale to [0, 1]; a constant map becomes all zeros (MIT code would divide by zero)."""
    lo, hi = m.min(), m.max()
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


# --------------------------------------------------------------------------- densities


def to_density(saliency_map, *, name: str = "saliency_map") -> np.ndarray:
    """Turn a saliency map into a density (non-negative, summing to 1).

    A map with negative values is first shifted so that its minimum is 0; then
    it is divided by its sum. A map that is zero everywhere becomes the uniform
    density. This is the convention of pysaliency's
    ``convert_saliency_map_to_density`` and of the MIT benchmark's ``KLdiv.m``
    and ``similarity.m`` for non-negative maps.

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Any finite map.
    name : str
        Used in error messages.

    Returns
    -------
    numpy.ndarray
        Probability mass per pixel, summing to 1 (unitless).
    """
    m = _as_map(saliency_map, name)
    if m.min() < 0:
        m = m - m.min()
    s = m.sum()
    return m / s if s > 0 else np.full_like(m, 1.0 / m.size)


def uniform_density(shape: tuple[int, int]) -> np.ndarray:
    """The uniform density over a ``(height, width)`` map: ``1 / (height * width)`` per pixel."""
    h, w = (int(v) for v in shape)
    if h <= 0 or w <= 0:
        raise ValueError(f"uniform_density: shape must be positive, got {shape}")
    return np.full((h, w), 1.0 / (h * w))


def centre_bias_density(
    shape: tuple[int, int],
    *,
    variance: float = 0.22,
    vertical_ratio: float = 0.45,
    fixations=None,
    bandwidth_px: float | None = None,
) -> np.ndarray:
    """A centre-bias baseline density, parametric or fitted to fixations.

    **Parametric (default):** an anisotropic Gaussian at the image centre in
    the form of Clarke & Tatler (2014), "Deriving an appropriate baseline for
    describing fixation behaviour", Vision Research 102:41-51. Coordinates are
    scaled so that ``x`` runs over ``[-1, 1]`` across the image width and ``y``
    over ``[-a, a]`` with ``a = height / width``; the Gaussian has horizontal
    variance ``variance`` and vertical variance ``vertical_ratio * variance``
    in those units. The defaults are their values (0.22 and 0.45).

    **Fitted:** with ``fixations`` (typically all fixations on *other*
    stimuli, rescaled to this size), a Gaussian kernel density estimate of
    those fixations with an isotropic kernel of ``bandwidth_px`` px, the
    leave-one-image-out centre-bias model of Kümmerer, Wallis & Bethge (2015),
    PNAS 112(52):16054.

    Either way the map is evaluated at pixel centres and normalised to sum to 1.

    Parameters
    ----------
    shape : (int, int)
        ``(height, width)`` in px.
    variance : float, default 0.22
        Horizontal variance of the parametric Gaussian in half-width units squared.
    vertical_ratio : float, default 0.45
        Ratio of vertical to horizontal variance.
    fixations : (n, 2) array or fixation table, optional
        Fixations to fit the baseline to; selects the fitted form.
    bandwidth_px : float, optional
        Kernel standard deviation in px; required with ``fixations``.

    Returns
    -------
    numpy.ndarray
        Density, shape ``(height, width)``, summing to 1.
    """
    h, w = (int(v) for v in shape)
    if h <= 0 or w <= 0:
        raise ValueError(f"centre_bias_density: shape must be positive, got {shape}")
    if fixations is not None:
        if bandwidth_px is None or not bandwidth_px > 0:
            raise ValueError("centre_bias_density: a fitted baseline needs bandwidth_px > 0")
        counts = fixation_map(fixations, (h, w), name="centre-bias fixations")
        d = ndimage.gaussian_filter(counts, sigma=float(bandwidth_px), mode="constant")
        # a tiny uniform floor keeps the log finite far from every fixation
        d = d / d.sum()
        d = 0.999999 * d + 0.000001 / d.size
        return d / d.sum()
    if not (variance > 0 and vertical_ratio > 0):
        raise ValueError("centre_bias_density: variance and vertical_ratio must be positive")
    xs = ((np.arange(w) + 0.5) / w) * 2.0 - 1.0  # pixel centres, x in [-1, 1]
    ys = (((np.arange(h) + 0.5) / h) * 2.0 - 1.0) * (h / w)  # y in [-h/w, h/w]
    # Clarke & Tatler 2014: N(0, diag(s2, nu * s2))
    logp = -0.5 * (xs[None, :] ** 2 / variance + ys[:, None] ** 2 / (vertical_ratio * variance))
    p = np.exp(logp - logp.max())
    return p / p.sum()


def fixation_map(fixations, shape: tuple[int, int], *, name: str = "fixations") -> np.ndarray:
    """Count of fixations per pixel.

    Parameters
    ----------
    fixations : (n, 2) array or fixation table
        Fixation positions in px.
    shape : (int, int)
        ``(height, width)`` of the map.
    name : str
        Used in error messages.

    Returns
    -------
    numpy.ndarray
        Float array of counts, shape ``(height, width)``.
    """
    h, w = (int(v) for v in shape)
    rows, cols = _pixel_index(_as_xy(fixations, name), (h, w), name)
    return np.bincount(rows * w + cols, minlength=h * w).reshape(h, w).astype(float)


def empirical_saliency_map(fixations, shape: tuple[int, int], *, sigma_px: float) -> np.ndarray:
    """Human fixation density: the fixation map blurred by a Gaussian.

    The reference map of CC, KL divergence and SIM (Bylinskii et al. 2019,
    sec. 2.1: fixation maps blurred with a Gaussian of about 1 degree of visual
    angle). The blur treats the outside of the image as empty
    (``mode="constant"``), and the result is normalised to sum to 1.

    Parameters
    ----------
    fixations : (n, 2) array or fixation table
        Human fixations in px.
    shape : (int, int)
        ``(height, width)``.
    sigma_px : float
        Standard deviation of the Gaussian in px (e.g. one degree in px).

    Returns
    -------
    numpy.ndarray
        Density, summing to 1.
    """
    if not sigma_px > 0:
        raise ValueError(f"empirical_saliency_map: sigma_px must be positive, got {sigma_px}")
    m = ndimage.gaussian_filter(fixation_map(fixations, shape), sigma=float(sigma_px), mode="constant")
    return m / m.sum()


def resize_map(saliency_map, image_size: tuple[int, int], *, order: int = 1) -> np.ndarray:
    """Resize a map to a stimulus size with spline interpolation.

    Parameters
    ----------
    saliency_map : array_like, shape (h, w)
        The map.
    image_size : (int, int)
        Target ``(width, height)`` in px (the stimulus size, width first as in
        the stimulus table).
    order : int, default 1
        Spline order (1: bilinear, as the MIT benchmark's ``imresize``).

    Returns
    -------
    numpy.ndarray
        Shape ``(height, width)``. Masses are not renormalised: pass the result
        through :func:`to_density` if it must be a density.
    """
    m = _as_map(saliency_map)
    w, h = (int(v) for v in image_size)
    if m.shape == (h, w):
        return m.copy()
    out = ndimage.zoom(m, (h / m.shape[0], w / m.shape[1]), order=order, mode="nearest", grid_mode=True)
    if out.shape != (h, w):  # zoom rounds the output size; pad or crop the last row/column
        out = np.pad(out, ((0, max(0, h - out.shape[0])), (0, max(0, w - out.shape[1]))), mode="edge")[:h, :w]
    return out


# --------------------------------------------------------------------------- AUCs


def _roc_auc(pos: np.ndarray, neg: np.ndarray, thresholds: np.ndarray) -> float:
    """Trapezoidal area under the ROC through the given thresholds, from (0,0) to (1,1)."""
    thr = np.sort(thresholds)[::-1]
    ps, ns = np.sort(pos), np.sort(neg)
    tpr = (len(ps) - np.searchsorted(ps, thr, side="left")) / len(ps)  # share of positives >= threshold
    fpr = (len(ns) - np.searchsorted(ns, thr, side="left")) / len(ns)
    tpr = np.concatenate([[0.0], tpr, [1.0]])
    fpr = np.concatenate([[0.0], fpr, [1.0]])
    return float(np.trapezoid(tpr, fpr))


def auc_judd(saliency_map, fixations, *, image_size=None) -> float:
    """AUC-Judd: area under the ROC of the map as a classifier of fixated pixels.

    Positives are the map values at the fixations; negatives are the values at
    every pixel that holds no fixation. The thresholds are the values at the
    fixations (Judd et al. 2009, "Learning to predict where humans look",
    ICCV; Bylinskii et al. 2019, sec. 3.1.2). At a threshold ``t`` the true
    positive rate is the share of fixations with value ``>= t`` and the false
    positive rate the share of unfixated pixels with value ``>= t``; the curve
    runs from (0, 0) to (1, 1) and its area is taken with the trapezoid rule.

    Ties are counted exactly (all fixations at or above a threshold), so no
    random jitter is needed: the MIT code adds noise of 1e-7 to break ties and
    counts the i-th threshold as i fixations, which matches this when no two
    fixated values are equal. This is pysaliency's
    ``AUC_Judd(jitter=False)``.

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Predicted map; only the order of its values matters.
    fixations : (n, 2) array or fixation table
        Human fixations in px on this stimulus.
    image_size : (int, int), optional
        ``(width, height)`` of the stimulus; when given the map must have that size.

    Returns
    -------
    float
        AUC in [0, 1] (unitless); 0.5 is chance, and a constant map scores 0.5.
    """
    m = _as_map(saliency_map)
    _check_image_size(m, image_size, "saliency_map")
    rows, cols = _pixel_index(_as_xy(fixations), m.shape)
    pos = m[rows, cols]
    fixated = np.zeros(m.shape, dtype=bool)
    fixated[rows, cols] = True
    neg = m[~fixated]
    if neg.size == 0:
        raise ValueError("auc_judd: every pixel of the map is fixated; there are no negatives")
    return _roc_auc(pos, neg, np.unique(pos))  # Judd et al. 2009: thresholds at fixated values


def _auc_split_sampled(pos: np.ndarray, neg_splits: np.ndarray, step_size: float) -> float:
    """Mean over splits of the MIT step-threshold AUC (AUC_Borji.m / AUC_shuffled.m)."""
    top = max(pos.max(), neg_splits.max())
    k = int(np.floor(top / step_size + 1e-9))
    thr = (np.arange(k + 1) * step_size)[::-1]  # MIT: fliplr(0:stepSize:max([Sth; curfix]))
    tp = (pos[None, :] >= thr[:, None]).mean(axis=1)  # same for every split
    # share of sampled negatives >= each threshold, per split: (n_splits, n_thr)
    fp = (neg_splits[:, None, :] >= thr[None, :, None]).mean(axis=2)
    tp = np.concatenate([[0.0], tp, [1.0]])
    ones = np.ones((fp.shape[0], 1))
    fp = np.concatenate([0 * ones, fp, ones], axis=1)
    areas = np.trapezoid(np.broadcast_to(tp, fp.shape), fp, axis=1)
    return float(areas.mean())


def auc_borji(
    saliency_map,
    fixations,
    *,
    n_splits: int = 100,
    step_size: float = 0.1,
    seed: int | None = 0,
    image_size=None,
) -> float:
    """AUC-Borji: ROC area against uniformly sampled pixels, averaged over random splits.

    The map is rescaled to [0, 1]. Positives are its values at the fixations.
    For each of ``n_splits`` splits, as many negatives as there are fixations
    are drawn uniformly (with replacement) from all pixels. Thresholds run
    from the largest value down to 0 in steps of ``step_size``; the ROC area is
    taken with the trapezoid rule and averaged over splits (Borji, Tavakoli,
    Sihite & Itti 2013, "Analysis of scores, datasets, and models in visual
    saliency prediction", ICCV; the MIT benchmark's ``AUC_Borji.m``;
    Bylinskii et al. 2019, sec. 3.1.2).

    Each fixation is one positive; the MIT code takes each *fixated pixel*
    once, which is the same when no two fixations share a pixel.

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Predicted map.
    fixations : (n, 2) array or fixation table
        Human fixations in px.
    n_splits : int, default 100
        Number of random negative samples.
    step_size : float, default 0.1
        Threshold step on the [0, 1]-rescaled map.
    seed : int or None, default 0
        Seed of the sampling.
    image_size : (int, int), optional
        ``(width, height)`` of the stimulus, checked against the map.

    Returns
    -------
    float
        AUC in [0, 1]; a constant map scores exactly 0.5.
    """
    m = _as_map(saliency_map)
    _check_image_size(m, image_size, "saliency_map")
    if not step_size > 0 or int(n_splits) < 1:
        raise ValueError("auc_borji: step_size must be positive and n_splits at least 1")
    s = _minmax01(m)
    pos = _values_at(s, fixations)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, s.size, size=(int(n_splits), pos.size))  # MIT: randi([1 Npixels], Nfix, Nsplits)
    return _auc_split_sampled(pos, s.ravel()[idx], step_size)


def shuffled_auc(
    saliency_map,
    fixations,
    other_fixations,
    *,
    method: str = "exact",
    n_splits: int = 100,
    step_size: float = 0.1,
    seed: int | None = 0,
    image_size=None,
) -> float:
    """Shuffled AUC (sAUC): ROC area with fixations from *other* images as negatives.

    Sampling negatives from the fixations on other stimuli makes the centre
    bias, shared by all images, useless for the score (Zhang, Tong, Marks, Shan
    & Cottrell 2008, "SUN: A Bayesian framework for saliency using natural
    statistics", JoV 8(7):32; Bylinskii et al. 2019, sec. 3.1.2).

    ``method="exact"`` (default) uses every other fixation and every threshold:
    the area equals the Mann-Whitney probability that a fixation's value
    exceeds a negative's, ties counting one half, i.e.
    ``(sum of positive ranks - P(P+1)/2) / (P N)``. It is deterministic and
    equals pysaliency's ``AUC(nonfixations=...)``.

    ``method="mit"`` follows the MIT benchmark's ``AUC_shuffled.m``: the map is
    rescaled to [0, 1]; in each of ``n_splits`` splits ``min(P, N)`` negatives
    are drawn without replacement from the other fixations; thresholds step
    down from the maximum in ``step_size`` steps; the split areas are averaged.

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Predicted map.
    fixations : (n, 2) array or fixation table
        Fixations on this stimulus, px.
    other_fixations : (m, 2) array or fixation table
        Fixations on other stimuli, already in this map's pixel frame (rescale
        them when the stimuli differ in size).
    method : {"exact", "mit"}
        See above.
    n_splits, step_size, seed
        Used by ``method="mit"`` only.
    image_size : (int, int), optional
        ``(width, height)`` of the stimulus, checked against the map.

    Returns
    -------
    float
        AUC in [0, 1]; a constant map scores 0.5.
    """
    m = _as_map(saliency_map)
    _check_image_size(m, image_size, "saliency_map")
    pos = _values_at(m, fixations)
    neg = _values_at(m, other_fixations, "other_fixations")
    if method == "exact":
        ranks = stats.rankdata(np.concatenate([pos, neg]))  # average ranks: ties count 1/2
        u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0  # Mann-Whitney U of the positives
        return float(u / (pos.size * neg.size))
    if method == "mit":
        if not step_size > 0 or int(n_splits) < 1:
            raise ValueError("shuffled_auc: step_size must be positive and n_splits at least 1")
        s = _minmax01(m)
        pos = _values_at(s, fixations)
        neg_all = _values_at(s, other_fixations, "other_fixations")
        k = min(pos.size, neg_all.size)
        rng = np.random.default_rng(seed)
        # MIT: randperm over the other fixations, first min(Nfix, Nothers) of them
        draws = np.argsort(rng.random((int(n_splits), neg_all.size)), axis=1)[:, :k]
        return _auc_split_sampled(pos, neg_all[draws], step_size)
    raise ValueError(f"shuffled_auc: unknown method {method!r}; use 'exact' or 'mit'")


# --------------------------------------------------------------------------- NSS, CC, KL, SIM


def nss(saliency_map, fixations, *, image_size=None) -> float:
    """Normalized scanpath saliency: the mean standardised map value at the fixations.

    ``NSS = (1/N) sum_i (S(x_i) - mean(S)) / std(S)`` (Peters, Iyer, Itti &
    Koch 2005, "Components of bottom-up gaze allocation in natural images",
    Vision Research 45:2397; Bylinskii et al. 2019, eq. 3). ``std`` is the
    population standard deviation (``ddof=0``, as pysaliency; the MATLAB code
    uses ``ddof=1``, a relative difference of ``1/(2 H W)``).

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Predicted map.
    fixations : (n, 2) array or fixation table
        Human fixations in px. Repeated fixations on a pixel count each time.
    image_size : (int, int), optional
        ``(width, height)`` of the stimulus, checked against the map.

    Returns
    -------
    float
        In standard deviations above the map mean; 0 is chance, and a constant
        map scores 0 (by convention; its standardisation is undefined).
    """
    m = _as_map(saliency_map)
    _check_image_size(m, image_size, "saliency_map")
    v = _values_at(m, fixations)
    sd = m.std()
    if sd == 0:
        return 0.0
    return float(np.mean((v - m.mean()) / sd))  # Bylinskii et al. 2019, eq. 3


def cc(saliency_map, reference_map) -> float:
    """Pearson's linear correlation coefficient between two maps.

    ``CC = cov(P, Q) / (std(P) std(Q))`` over pixels (Le Meur, Le Callet &
    Barba 2007, Vision Research 47:2483; Bylinskii et al. 2019, eq. 5). The
    reference is usually the human fixation density
    (:func:`empirical_saliency_map`). Symmetric in its arguments.

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Predicted map.
    reference_map : array_like, same shape
        Reference (human) map.

    Returns
    -------
    float
        In [-1, 1]. If exactly one map is constant the score is 0 (no linear
        relation can be shown, pysaliency's convention); if both are constant
        it is NaN (undefined).
    """
    p = _as_map(saliency_map)
    q = _as_map(reference_map, "reference_map")
    _same_shape(p, q, "saliency_map", "reference_map")
    sp, sq = p.std(), q.std()
    if sp == 0 and sq == 0:
        return float("nan")
    if sp == 0 or sq == 0:
        return 0.0
    return float(np.mean((p - p.mean()) * (q - q.mean())) / (sp * sq))  # Bylinskii et al. 2019, eq. 5


def kl_divergence(saliency_map, reference_map, *, eps: float = KL_EPS) -> float:
    """Kullback-Leibler divergence of the prediction from the human density.

    Both maps become densities ``P`` (prediction) and ``Q`` (reference) with
    :func:`to_density`; then ``KL = sum_x Q(x) log(eps + Q(x) / (P(x) + eps))``
    (Bylinskii et al. 2019, eq. 4; the MIT benchmark's ``KLdiv.m``, also
    pysaliency's ``MIT_KLDiv``). The ``eps`` terms keep the score finite where
    the prediction is 0.

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Predicted map or density.
    reference_map : array_like, same shape
        Human map or density (the distribution the expectation is taken under).
    eps : float, default 2.2204e-16
        Regulariser.

    Returns
    -------
    float
        In nats, >= 0 up to the regulariser; 0 for a perfect prediction.
        Not symmetric.
    """
    p = to_density(saliency_map)
    q = to_density(reference_map, name="reference_map")
    _same_shape(p, q, "saliency_map", "reference_map")
    return float(np.sum(q * np.log(eps + q / (p + eps))))  # Bylinskii et al. 2019, eq. 4


def sim(saliency_map, reference_map) -> float:
    """Similarity (histogram intersection) of two maps as densities.

    ``SIM = sum_x min(P(x), Q(x))`` with both maps made densities by
    :func:`to_density` (Swain & Ballard 1991; Judd, Durand & Torralba 2012, MIT
    tech. rep.; Bylinskii et al. 2019, eq. 6).

    The MIT code first rescales each map to [0, 1], which also removes a
    non-zero floor; here a non-negative map is only divided by its sum (as
    pysaliency does), so that a density with a floor is scored as the density
    it is.

    Parameters
    ----------
    saliency_map : array_like, shape (height, width)
        Predicted map.
    reference_map : array_like, same shape
        Human map.

    Returns
    -------
    float
        In [0, 1]; 1 when the two densities are identical. Symmetric.
    """
    p = to_density(saliency_map)
    q = to_density(reference_map, name="reference_map")
    _same_shape(p, q, "saliency_map", "reference_map")
    return float(np.minimum(p, q).sum())  # Bylinskii et al. 2019, eq. 6


# --------------------------------------------------------------------------- likelihoods


def _log2_density(density, log_density: bool, name: str, atol: float = 1e-3) -> np.ndarray:
    """Validate a density (or natural-log density) and return its log2."""
    if log_density:
        lg = np.asarray(density, dtype=float)
        if lg.ndim != 2 or lg.size == 0:
            raise ValueError(f"{name} must be a non-empty 2-D log-density, got shape {lg.shape}")
        if np.isnan(lg).any() or np.isposinf(lg).any():
            raise ValueError(f"{name} has NaN or +inf log-density values")
        total = float(np.exp(lg).sum())
        if abs(total - 1.0) > atol:
            raise ValueError(
                f"{name}: exp(log-density) sums to {total:.6g}, not 1; normalise it "
                "(subtract its logsumexp)"
            )
        return lg / np.log(2.0)
    d = _as_map(density, name)
    if d.min() < 0:
        r, c = np.unravel_index(np.argmin(d), d.shape)
        raise ValueError(f"{name} has negative probability {d.min():g} at row {r}, column {c}")
    total = float(d.sum())
    if abs(total - 1.0) > atol:
        raise ValueError(
            f"{name} sums to {total:.6g}, not 1; it must be a density over pixels "
            "(use gazemodels.metrics.saliency.to_density on a saliency map)"
        )
    with np.errstate(divide="ignore"):
        return np.log2(d)


def _baseline_density(baseline, shape: tuple[int, int]) -> np.ndarray:
    """The baseline density named by ``baseline`` (or the array itself) for a map of ``shape``."""
    if isinstance(baseline, str):
        key = baseline.lower().replace("-", "_")
        if key == "uniform":
            return uniform_density(shape)
        if key in ("centre", "center", "centre_bias", "center_bias"):
            return centre_bias_density(shape)
        raise ValueError(
            f"unknown baseline {baseline!r}; use 'uniform', 'centre' (Clarke & Tatler 2014 centre bias) "
            "or pass a density array"
        )
    return np.asarray(baseline, dtype=float)


def log_likelihood(density, fixations, *, log_density: bool = False, image_size=None) -> float:
    """Mean log-likelihood of the fixations under a predicted density.

    ``LL = (1/N) sum_i log2 p(x_i)``, with ``p`` the probability mass of the
    pixel a fixation falls in (Kümmerer, Wallis & Bethge 2015, PNAS
    112(52):16054, eq. 1). Being per pixel, it depends on the image size;
    compare models with :func:`information_gain`, which does not.

    Parameters
    ----------
    density : array_like, shape (height, width)
        Predicted density summing to 1, or its natural logarithm with
        ``log_density=True`` (as DeepGaze models output).
    fixations : (n, 2) array or fixation table
        Human fixations in px.
    log_density : bool, default False
        Whether ``density`` holds natural-log probabilities.
    image_size : (int, int), optional
        ``(width, height)`` of the stimulus, checked against the map.

    Returns
    -------
    float
        Bits per fixation (<= 0); ``-inf`` if a fixation falls where the density is 0.
    """
    lg = _log2_density(density, log_density, "density")
    _check_image_size(lg, image_size, "density")
    return float(np.mean(_values_at(lg, fixations)))


def information_gain(
    density,
    fixations,
    baseline="uniform",
    *,
    log_density: bool = False,
    image_size=None,
) -> float:
    """Information gain of a predicted density over a baseline, in bits per fixation.

    ``IG = (1/N) sum_i [log2 p(x_i) - log2 q(x_i)]`` (Kümmerer, Wallis & Bethge
    2015, PNAS 112(52):16054, eq. 2): how many bits per fixation the model's
    density saves over the baseline ``q`` in coding the human fixations.

    Parameters
    ----------
    density : array_like, shape (height, width)
        Predicted density summing to 1 (or natural-log density with ``log_density=True``).
    fixations : (n, 2) array or fixation table
        Human fixations in px.
    baseline : {"uniform", "centre"} or array_like, default "uniform"
        ``"uniform"``: ``1/(H W)`` per pixel. ``"centre"``: the parametric centre
        bias of :func:`centre_bias_density` (Clarke & Tatler 2014). An array is
        used as the baseline density itself (it must sum to 1; it is not made
        natural-log even with ``log_density=True``).
    log_density : bool, default False
        Whether ``density`` holds natural-log probabilities.
    image_size : (int, int), optional
        ``(width, height)`` of the stimulus, checked against the maps.

    Returns
    -------
    float
        Bits per fixation; 0 for the baseline itself, positive when the model is better.
    """
    lg = _log2_density(density, log_density, "density")
    _check_image_size(lg, image_size, "density")
    base = _baseline_density(baseline, lg.shape)
    lb = _log2_density(base, False, "baseline")
    _same_shape(lg, lb, "density", "baseline")
    rows, cols = _pixel_index(_as_xy(fixations), lg.shape)
    return float(np.mean(lg[rows, cols] - lb[rows, cols]))  # Kümmerer et al. 2015, eq. 2


# --------------------------------------------------------------------------- batch over stimuli

SALIENCY_METRICS: dict[str, str] = {
    "auc_judd": "AUC-Judd (fixated values as thresholds, unfixated pixels as negatives)",
    "auc_borji": "AUC-Borji (uniform random negatives, 100 splits)",
    "sauc": "shuffled AUC (fixations on other stimuli as negatives)",
    "nss": "normalized scanpath saliency",
    "cc": "linear correlation with the human fixation density",
    "kl": "KL divergence from the human fixation density (nats)",
    "sim": "similarity (histogram intersection) with the human fixation density",
    "ig": "information gain over the baseline (bits/fixation)",
    "ll": "log-likelihood (bits/fixation)",
}
"""Names accepted by :func:`score_saliency`, with one-line descriptions."""


def score_saliency(
    maps: Mapping[object, np.ndarray] | Callable[[object], np.ndarray],
    fixations: pd.DataFrame,
    metrics: Sequence[str] = ("auc_judd", "auc_borji", "sauc", "nss"),
    *,
    sigma_px: float | None = None,
    baseline="uniform",
    stimuli: Sequence | None = None,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Score predicted maps against the human fixations of many stimuli.

    Parameters
    ----------
    maps : mapping or callable
        ``maps[stimulus]`` (or ``maps(stimulus)``) gives the predicted map of a
        stimulus in its pixel frame. For ``"ig"`` and ``"ll"`` it must be a density.
    fixations : pandas.DataFrame
        Human fixation table with ``stimulus``, ``x``, ``y``.
    metrics : sequence of str
        Names from :data:`SALIENCY_METRICS`.
    sigma_px : float, optional
        Gaussian blur of the human fixation density, px; required for ``cc``,
        ``kl`` and ``sim``.
    baseline : {"uniform", "centre"} or callable
        Baseline of ``ig``; a callable gets ``(stimulus, shape)`` and returns a density.
    stimuli : sequence, optional
        Stimuli to score; default every stimulus in ``fixations``.
    seed : int or None, default 0
        Seed of the random splits of ``auc_borji``.

    Returns
    -------
    pandas.DataFrame
        One row per stimulus: ``stimulus``, ``n_fixations`` and one column per metric.
        For ``sauc`` the negatives are the fixations on every *other* stimulus
        of the table, rescaled by the ratio of the two maps' sizes.
    """
    unknown = [m for m in metrics if m not in SALIENCY_METRICS]
    if unknown:
        raise ValueError(f"score_saliency: unknown metric(s) {unknown}; known: {sorted(SALIENCY_METRICS)}")
    if any(m in ("cc", "kl", "sim") for m in metrics) and sigma_px is None:
        raise ValueError("score_saliency: cc, kl and sim need sigma_px for the human fixation density")
    for col in ("stimulus", "x", "y"):
        if col not in fixations.columns:
            raise ValueError(f"score_saliency: fixation table lacks column {col!r}")
    get = maps if callable(maps) else maps.__getitem__
    groups = {k: g[["x", "y"]].to_numpy(float) for k, g in fixations.groupby("stimulus", sort=True)}
    todo = list(stimuli) if stimuli is not None else list(groups)
    shapes: dict = {}

    def _map(stim):
        try:
            m = _as_map(get(stim), f"map of stimulus {stim!r}")
        except KeyError:
            raise KeyError(f"score_saliency: no predicted map for stimulus {stim!r}") from None
        shapes[stim] = m.shape
        return m

    if "sauc" in metrics:
        for stim in groups:
            if stim not in shapes:
                _map(stim)
    rows = []
    for stim in todo:
        if stim not in groups:
            raise KeyError(f"score_saliency: stimulus {stim!r} has no human fixations")
        m = _map(stim)
        xy = groups[stim]
        row: dict = {"stimulus": stim, "n_fixations": len(xy)}
        ref = empirical_saliency_map(xy, m.shape, sigma_px=sigma_px) if sigma_px is not None else None
        for name in metrics:
            try:
                if name == "auc_judd":
                    row[name] = auc_judd(m, xy)
                elif name == "auc_borji":
                    row[name] = auc_borji(m, xy, seed=seed)
                elif name == "sauc":
                    others = [
                        groups[o] * [m.shape[1] / shapes[o][1], m.shape[0] / shapes[o][0]]
                        for o in groups
                        if o != stim
                    ]
                    if not others:
                        raise ValueError("sauc needs fixations on at least one other stimulus")
                    row[name] = shuffled_auc(m, xy, np.concatenate(others))
                elif name == "nss":
                    row[name] = nss(m, xy)
                elif name == "cc":
                    row[name] = cc(m, ref)
                elif name == "kl":
                    row[name] = kl_divergence(m, ref)
                elif name == "sim":
                    row[name] = sim(m, ref)
                elif name == "ll":
                    row[name] = log_likelihood(m, xy)
                elif name == "ig":
                    base = baseline(stim, m.shape) if callable(baseline) else baseline
                    row[name] = information_gain(m, xy, base)
            except ValueError as e:
                raise ValueError(f"stimulus {stim!r}, metric {name}: {e}") from None
        rows.append(row)
    return pd.DataFrame(rows, columns=["stimulus", "n_fixations", *metrics])
