"""Conditional (next-fixation) metrics: cLL, cIG, cNSS, cAUC.

Models such as DeepGaze III predict, for every fixation of a scanpath, a
density over the image for where that fixation lands *given the fixations
before it*. Kümmerer & Bethge (2021), "State-of-the-art in human scanpath
prediction" (arXiv:2102.12239), and Kümmerer, Bethge & Wallis (2022),
"DeepGaze III: Modeling free-viewing human scanpaths with deep learning"
(JoV 22(5):7), score such models by evaluating the usual saliency metrics on
each fixation with its own conditional map and averaging over fixations:

* **cLL** / **cIG**: the log-likelihood of each fixation under its
  conditional density, minus that of a baseline for cIG, in bits per fixation;
* **cNSS**: the standardised value of the conditional map at the fixation;
* **cAUC**: the AUC of the conditional map with the fixation as the single
  positive and all pixels as negatives, i.e. the share of pixels with a lower
  value (ties count one half).

A conditional prediction is given either as a sequence of maps, one per scored
fixation, or as a callable ``model(history) -> map`` where ``history`` is the
``(i, 2)`` array of the ``(x, y)`` px of the fixations before fixation ``i``.
Map and fixation conventions are those of :mod:`gazemodels.metrics.saliency`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from gazemodels.data.schema import SCANPATH_KEYS
from gazemodels.metrics.saliency import (
    _as_map,
    _as_xy,
    _baseline_density,
    _log2_density,
    _pixel_index,
    _same_shape,
)

__all__ = [
    "CONDITIONAL_METRICS",
    "cauc",
    "cig",
    "cll",
    "cnss",
    "conditional_scores",
    "score_conditional",
]

CONDITIONAL_METRICS = ("cll", "cig", "cnss", "cauc")
"""Names of the conditional metrics, the columns :func:`conditional_scores` returns."""


def _iter_maps(predictions, xy: np.ndarray, start: int):
    """Yield ``(i, map)`` for fixations ``start..n-1``."""
    n = len(xy)
    if callable(predictions):
        for i in range(start, n):
            yield i, predictions(xy[:i].copy())
        return
    preds = list(predictions) if not isinstance(predictions, np.ndarray) or predictions.ndim != 3 else predictions
    if len(preds) != n - start:
        raise ValueError(
            f"got {len(preds)} conditional maps for a scanpath of {n} fixations scored from fixation "
            f"{start}; expected one map per scored fixation ({n - start})"
        )
    for k, m in enumerate(preds):
        yield start + k, m


def conditional_scores(
    predictions: Sequence[np.ndarray] | np.ndarray | Callable[[np.ndarray], np.ndarray],
    scanpath,
    *,
    start: int = 1,
    log_density: bool = False,
    baseline="uniform",
    metrics: Sequence[str] = CONDITIONAL_METRICS,
) -> pd.DataFrame:
    """Per-fixation conditional scores of one scanpath.

    For each fixation ``i >= start`` the conditional map ``m_i`` (the model's
    prediction given fixations ``0..i-1``) is scored at fixation ``i``:

    * ``cll``: ``log2 m_i(x_i)`` (bits; needs a density);
    * ``cig``: ``log2 m_i(x_i) - log2 q(x_i)`` against the baseline ``q``
      (Kümmerer et al. 2015, eq. 2, per fixation; bits);
    * ``cnss``: ``(m_i(x_i) - mean m_i) / std m_i`` (Peters et al. 2005; 0 for a constant map);
    * ``cauc``: ``(#{pixels: m_i < m_i(x_i)} + 0.5 #{pixels: m_i = m_i(x_i)}) / (H W)``,
      the AUC of one positive against all pixels (pysaliency's ``AUCs`` with
      uniform nonfixations; Kümmerer & Bethge 2021).

    Parameters
    ----------
    predictions : sequence of maps, (k, H, W) array, or callable
        One map per scored fixation (``k = n - start``), or
        ``predictions(history)`` returning the map for the fixation after
        ``history`` (an ``(i, 2)`` array of earlier (x, y) px).
    scanpath : (n, 2) array or fixation table
        The human scanpath in fixation order, (x, y) px.
    start : int, default 1
        First fixation to score. Fixation 0 has no history and, in most
        free-viewing data, is the forced central fixation, so it is left out
        by default.
    log_density : bool, default False
        Whether the maps hold natural-log densities (DeepGaze output).
    baseline : {"uniform", "centre"} or array_like, default "uniform"
        Baseline of ``cig`` (see :func:`gazemodels.metrics.saliency.information_gain`).
    metrics : sequence of str
        Subset of :data:`CONDITIONAL_METRICS`. ``cll`` and ``cig`` need the maps
        to be densities; ``cnss`` and ``cauc`` accept any saliency map (with
        ``log_density=True`` they are computed on the log-density, which
        leaves ``cauc`` unchanged).

    Returns
    -------
    pandas.DataFrame
        One row per scored fixation: ``fix_index`` and one column per metric.

    Raises
    ------
    ValueError
        On an empty scanpath, ``start`` out of range, a wrong number of maps,
        a map of the wrong size, or a fixation off its map.
    """
    unknown = [m for m in metrics if m not in CONDITIONAL_METRICS]
    if unknown:
        raise ValueError(f"unknown conditional metric(s) {unknown}; known: {list(CONDITIONAL_METRICS)}")
    xy = _as_xy(scanpath, "scanpath")
    if not 0 <= start < len(xy):
        raise ValueError(
            f"start={start} leaves no fixation to score in a scanpath of {len(xy)} fixation(s)"
        )
    need_density = any(m in ("cll", "cig") for m in metrics)
    rows = []
    base_log2 = None
    for i, raw in _iter_maps(predictions, xy, start):
        name = f"conditional map of fixation {i}"
        if log_density:
            lg = np.asarray(raw, dtype=float)
            if lg.ndim != 2 or lg.size == 0:
                raise ValueError(f"{name} must be a non-empty 2-D array, got shape {lg.shape}")
            if np.isnan(lg).any() or np.isposinf(lg).any():
                raise ValueError(f"{name} has NaN or +inf log-density values")
            m = np.exp(lg)  # NSS and AUC of a probabilistic model are taken on its density
        else:
            m = _as_map(raw, name)
        r, c = _pixel_index(xy[i : i + 1], m.shape, f"fixation {i}")
        r, c = int(r[0]), int(c[0])
        row: dict = {"fix_index": i}
        if need_density:
            l2 = _log2_density(raw, log_density, name)
            if "cll" in metrics:
                row["cll"] = float(l2[r, c])
            if "cig" in metrics:
                if base_log2 is None or base_log2.shape != l2.shape:
                    base = _baseline_density(baseline, l2.shape)
                    base_log2 = _log2_density(base, False, "baseline")
                    _same_shape(l2, base_log2, name, "baseline")
                row["cig"] = float(l2[r, c] - base_log2[r, c])  # Kümmerer et al. 2015, eq. 2 per fixation
        v = m[r, c]
        if "cnss" in metrics:
            sd = m.std()
            row["cnss"] = 0.0 if sd == 0 else float((v - m.mean()) / sd)  # Bylinskii et al. 2019, eq. 3
        if "cauc" in metrics:
            below = np.count_nonzero(m < v)
            ties = np.count_nonzero(m == v)
            row["cauc"] = float((below + 0.5 * ties) / m.size)  # one positive vs all pixels
        rows.append(row)
    return pd.DataFrame(rows, columns=["fix_index", *metrics])


def _mean_of(metric: str, predictions, scanpath, **kw) -> float:
    df = conditional_scores(predictions, scanpath, metrics=(metric,), **kw)
    return float(df[metric].mean())


def cll(predictions, scanpath, *, start: int = 1, log_density: bool = False) -> float:
    """Conditional log-likelihood: mean ``log2`` conditional density at each fixation.

    ``cLL = (1/N) sum_i log2 p(x_i | x_<i)`` (Kümmerer & Bethge 2021). See
    :func:`conditional_scores` for the inputs. Units: bits per fixation
    (depends on the image size; prefer :func:`cig` to compare models).
    """
    return _mean_of("cll", predictions, scanpath, start=start, log_density=log_density)


def cig(predictions, scanpath, *, baseline="uniform", start: int = 1, log_density: bool = False) -> float:
    """Conditional information gain over a baseline, bits per fixation.

    ``cIG = (1/N) sum_i [log2 p(x_i | x_<i) - log2 q(x_i)]`` (Kümmerer & Bethge
    2021; Kümmerer, Bethge & Wallis 2022, DeepGaze III). ``baseline`` is
    ``"uniform"``, ``"centre"`` (Clarke & Tatler 2014 centre bias) or a density
    array. See :func:`conditional_scores` for the other inputs.
    """
    return _mean_of("cig", predictions, scanpath, baseline=baseline, start=start, log_density=log_density)


def cnss(predictions, scanpath, *, start: int = 1, log_density: bool = False) -> float:
    """Conditional NSS: mean standardised conditional map value at each fixation.

    ``cNSS = (1/N) sum_i (m_i(x_i) - mean m_i) / std m_i`` (NSS of Peters et al.
    2005 on each fixation's conditional map; Kümmerer & Bethge 2021). Unitless
    (standard deviations); 0 is chance. See :func:`conditional_scores`.
    """
    return _mean_of("cnss", predictions, scanpath, start=start, log_density=log_density)


def cauc(predictions, scanpath, *, start: int = 1, log_density: bool = False) -> float:
    """Conditional AUC: mean over fixations of the AUC of one positive against all pixels.

    ``cAUC = (1/N) sum_i P_pixels(m_i < m_i(x_i)) + 0.5 P_pixels(m_i = m_i(x_i))``
    (Kümmerer & Bethge 2021; Kümmerer, Bethge & Wallis 2022). In [0, 1]; 0.5
    is chance and a constant map scores exactly 0.5. See :func:`conditional_scores`.
    """
    return _mean_of("cauc", predictions, scanpath, start=start, log_density=log_density)


def score_conditional(
    model: Callable[[object, np.ndarray], np.ndarray],
    fixations: pd.DataFrame,
    *,
    start: int = 1,
    log_density: bool = False,
    baseline="uniform",
    metrics: Sequence[str] = CONDITIONAL_METRICS,
    by: Sequence[str] = SCANPATH_KEYS,
) -> pd.DataFrame:
    """Conditional scores of every fixation of every scanpath in a fixation table.

    Parameters
    ----------
    model : callable
        ``model(stimulus, history)`` returns the conditional map (density, or
        natural-log density with ``log_density=True``) of the next fixation on
        ``stimulus`` given ``history``, the ``(i, 2)`` array of earlier (x, y) px.
    fixations : pandas.DataFrame
        Human fixation table.
    start, log_density, baseline, metrics
        As in :func:`conditional_scores`.
    by : sequence of str
        Scanpath key columns; must include ``stimulus``.

    Returns
    -------
    pandas.DataFrame
        One row per scored fixation with the ``by`` columns, ``fix_index`` and the
        metrics. Average a column for the pooled, per-fixation mean that
        Kümmerer & Bethge (2021) report. Scanpaths too short to score are skipped.
    """
    if "stimulus" not in by:
        raise ValueError("score_conditional: the scanpath keys must include 'stimulus'")
    from gazemodels.data.scanpaths import iter_scanpaths

    frames = []
    for key, sp in iter_scanpaths(fixations, by):
        if len(sp) <= start:
            continue
        keyd = dict(zip(by, key))
        stim = keyd["stimulus"]
        try:
            df = conditional_scores(
                lambda hist, _s=stim: model(_s, hist),
                sp,
                start=start,
                log_density=log_density,
                baseline=baseline,
                metrics=metrics,
            )
        except ValueError as e:
            raise ValueError(f"scanpath {keyd}: {e}") from None
        df["fix_index"] = sp["fix_index"].to_numpy()[df["fix_index"].to_numpy()]
        for k, v in reversed(list(keyd.items())):
            df.insert(0, k, v)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[*by, "fix_index", *metrics])
    return pd.concat(frames, ignore_index=True)
