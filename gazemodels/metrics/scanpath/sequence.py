"""String-based scanpath metrics: sequence score, semantic sequence score, edit distance.

A scanpath becomes a string of symbols, one per fixation:

* **grid** strings: the region of a ``nx x ny`` grid over the screen
  (:func:`grid_string`);
* **cluster** strings: the mean-shift cluster of the fixation, clusters being fitted
  on all (human) fixations of the stimulus (Yang et al. 2020; :func:`fixation_clusters`);
* **AOI / semantic** strings: the object or area-of-interest label of the fixation
  (the ``object`` column of a fixation table; see :mod:`gazemodels.data.aoi`).

The **sequence score** (SS) aligns two strings with Needleman-Wunsch, scoring 1 per
matched symbol and 0 for mismatches and gaps, and divides by the longer length; it
is the length of the longest common subsequence over ``max(n, m)``, in [0, 1]. The
**semantic sequence score** is the same on object labels (Mondal et al. 2023). The
**edit distance** is the Levenshtein distance (insertions, deletions, substitutions
of cost 1), raw or divided by the longer length.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazemodels.metrics.scanpath._align import levenshtein_batch, needleman_wunsch_batch
from gazemodels.metrics.scanpath._common import as_scanpath, check_pairs, handle_undefined
from gazemodels.metrics.scanpath.registry import register_metric

__all__ = [
    "FixationClusters",
    "edit_distance",
    "edit_distance_batch",
    "edit_distance_aoi_batch",
    "estimate_bandwidth",
    "fixation_clusters",
    "grid_string",
    "mean_shift",
    "semantic_sequence_score",
    "semantic_sequence_score_batch",
    "sequence_score",
    "sequence_score_batch",
]

YANG_BANDWIDTH_FACTORS: tuple[float, ...] = (0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8)
"""Multiples of the estimated bandwidth tried by Yang et al. (2020)."""


# ---------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------


def grid_string(scanpath, screen_size: tuple[float, float], grid: tuple[int, int]) -> np.ndarray:
    """Grid-region string of a scanpath.

    Region of fixation ``(x, y)``: column ``floor(x * nx / width)``, row
    ``floor(y * ny / height)``, both clipped to the grid (fixations off the screen
    go to the nearest border region); symbol ``row * nx + col``.

    Parameters
    ----------
    scanpath : array_like or pandas.DataFrame
        ``(n, 2)``/``(n, 3)`` fixations, x and y in px.
    screen_size : (float, float)
        ``(width, height)`` in px.
    grid : (int, int)
        ``(nx, ny)`` regions.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` int64 region indices.
    """
    fix = as_scanpath(scanpath, ("x", "y"), name="scanpath")
    return _grid_codes(fix, np.asarray(screen_size, dtype=float), grid)


def _grid_codes(fix: np.ndarray, screen: np.ndarray, grid) -> np.ndarray:
    nx, ny = (int(g) for g in grid)
    if nx < 1 or ny < 1:
        raise ValueError(f"grid must be two positive integers, got {grid!r}")
    if not (np.isfinite(screen).all() and (screen > 0).all()):
        raise ValueError(f"screen_size must be positive, got {screen!r}")
    col = np.clip(np.floor(fix[:, 0] * nx / screen[0]), 0, nx - 1).astype(np.int64)
    row = np.clip(np.floor(fix[:, 1] * ny / screen[1]), 0, ny - 1).astype(np.int64)
    return row * nx + col


def estimate_bandwidth(points, quantile: float = 0.3) -> float:
    """Mean-shift bandwidth estimate of scikit-learn (``sklearn.cluster.estimate_bandwidth``).

    The mean, over points, of the distance to the ``k``-th nearest point (the point
    itself counted), ``k = max(1, int(n * quantile))``.

    Parameters
    ----------
    points : array_like
        ``(n, 2)`` positions in px.
    quantile : float
        Fraction of the points in a neighbourhood.

    Returns
    -------
    float
        Bandwidth in px.
    """
    X = np.asarray(points, dtype=float)
    n = len(X)
    if n == 0:
        raise ValueError("estimate_bandwidth: no points")
    k = max(1, int(n * quantile))
    d = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    d.sort(axis=1)
    return float(d[:, k - 1].mean())


def mean_shift(points, bandwidth: float, max_iter: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Flat-kernel mean-shift clustering with every point as a seed.

    Follows ``sklearn.cluster.MeanShift(bandwidth=...)`` with its defaults (Comaniciu
    & Meer 2002): each seed moves to the mean of the points within ``bandwidth``
    until it moves less than ``1e-3 * bandwidth`` (or ``max_iter``); converged modes
    are visited by decreasing number of points within and a mode closer than
    ``bandwidth`` to a kept one is dropped; every point gets the nearest kept mode.

    Parameters
    ----------
    points : array_like
        ``(n, 2)`` positions in px.
    bandwidth : float
        Kernel radius in px (> 0).
    max_iter : int
        Iteration limit per seed.

    Returns
    -------
    centers : numpy.ndarray
        ``(k, 2)`` cluster centres.
    labels : numpy.ndarray
        ``(n,)`` index of each point's centre.
    """
    X = np.asarray(points, dtype=float)
    if len(X) == 0:
        raise ValueError("mean_shift: no points")
    if not bandwidth > 0:
        raise ValueError(f"mean_shift: bandwidth must be > 0, got {bandwidth}")
    centers = _mean_shift_many(X, np.array([float(bandwidth)]), max_iter)[0]
    return centers, _nearest(X, centers)


def _mean_shift_many(X: np.ndarray, bandwidths: np.ndarray, max_iter: int = 300) -> list[np.ndarray]:
    """Mean-shift modes of ``X`` for several bandwidths at once (one seed per point and bandwidth)."""
    n, F = len(X), len(bandwidths)
    bw = np.repeat(bandwidths, n)
    means = np.tile(X, (F, 1))
    count = np.zeros(n * F, dtype=np.int64)
    active = np.ones(n * F, dtype=bool)
    it = np.zeros(n * F, dtype=np.int64)
    stop = 1e-3 * bw
    idx = np.arange(n * F)
    px, py = X[:, 0], X[:, 1]
    while len(idx):
        mx, my = means[idx, 0], means[idx, 1]
        dx = mx[:, None] - px[None, :]
        dy = my[:, None] - py[None, :]
        within = np.sqrt(dx * dx + dy * dy) <= bw[idx, None]
        w = within.astype(float)
        cnt = np.count_nonzero(within, axis=1)
        new = (w @ X) / np.maximum(cnt, 1)[:, None]
        ddx, ddy = new[:, 0] - mx, new[:, 1] - my
        moved = np.sqrt(ddx * ddx + ddy * ddy)
        empty = cnt == 0
        done = empty | (moved <= stop[idx]) | (it[idx] == max_iter)
        means[idx[~empty]] = new[~empty]
        count[idx] = cnt
        it[idx] += 1
        active[idx[done]] = False
        idx = idx[~done]
    out = []
    for f in range(F):
        m, c = means[f * n:(f + 1) * n], count[f * n:(f + 1) * n]
        keep = c > 0
        modes = dict(zip(map(tuple, m[keep].tolist()), c[keep].tolist()))
        ordered = sorted(modes.items(), key=lambda t: (t[1], t[0]), reverse=True)
        cand = np.array([k for k, _ in ordered])
        unique = np.ones(len(cand), dtype=bool)
        b = bandwidths[f]
        cx, cy = cand[:, 0], cand[:, 1]
        for i in range(len(cand)):
            if unique[i]:
                near = np.sqrt((cx - cx[i]) ** 2 + (cy - cy[i]) ** 2) <= b
                unique[near] = False
                unique[i] = True
        out.append(cand[unique])
    return out


def _nearest(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    dx = X[:, 0, None] - centers[None, :, 0]
    dy = X[:, 1, None] - centers[None, :, 1]
    return np.argmin(dx * dx + dy * dy, axis=1).astype(np.int64)


@dataclass(frozen=True)
class FixationClusters:
    """Mean-shift fixation clusters of one stimulus.

    Attributes
    ----------
    centers : numpy.ndarray
        ``(k, 2)`` cluster centres, px.
    bandwidth : float
        Bandwidth used, px.
    """

    centers: np.ndarray
    bandwidth: float

    def labels(self, scanpath) -> np.ndarray:
        """Cluster index of each fixation of a scanpath (nearest centre)."""
        fix = as_scanpath(scanpath, ("x", "y"), name="scanpath")
        return _nearest(fix, self.centers) if len(fix) else np.empty(0, np.int64)


def _improved_rate(labels_per_scanpath: list[np.ndarray], n_clusters: int) -> float:
    """(transitions between clusters - transitions within) / clusters (Yang et al. 2020)."""
    nb = nw = 0
    for s in labels_per_scanpath:
        same = s[1:] == s[:-1]
        nw += int(same.sum())
        nb += int((~same).sum())
    return (nb - nw) / n_clusters


def fixation_clusters(
    scanpaths: Sequence,
    bandwidth: float | None = None,
    factors: Sequence[float] = YANG_BANDWIDTH_FACTORS,
) -> FixationClusters:
    """Mean-shift clusters of the fixations of one stimulus, as Yang et al. (2020) fit them.

    All fixations of ``scanpaths`` are pooled. Without ``bandwidth``, the bandwidth
    is :func:`estimate_bandwidth` times the factor (of ``factors``) whose clustering
    maximises the "improved rate" ``(N_between - N_within) / N_clusters`` of the
    scanpaths' consecutive fixations (first maximum on ties).

    Parameters
    ----------
    scanpaths : sequence of array_like
        Scanpaths of one stimulus (x, y in px).
    bandwidth : float, optional
        Fixed bandwidth in px.
    factors : sequence of float
        Multiples of the estimated bandwidth to try.

    Returns
    -------
    FixationClusters
    """
    fix = [as_scanpath(s, ("x", "y"), name="scanpath") for s in scanpaths]
    pts = np.concatenate(fix) if fix else np.empty((0, 2))
    if len(pts) == 0:
        raise ValueError("fixation_clusters: no fixations")
    if bandwidth is not None:
        centers, _ = mean_shift(pts, bandwidth)
        return FixationClusters(centers, float(bandwidth))
    base = estimate_bandwidth(pts)
    if base <= 0:  # all fixations at one place
        return FixationClusters(pts[:1].copy(), 0.0)
    best = None
    bands = base * np.asarray(factors, dtype=float)
    for centers, b in zip(_mean_shift_many(pts, bands), bands):
        labels = _nearest(pts, centers)
        per = np.split(labels, np.cumsum([len(s) for s in fix])[:-1])
        rate = _improved_rate([p for p in per if len(p)], len(centers))
        if best is None or rate > best[0]:
            best = (rate, centers, b)
    return FixationClusters(best[1], float(best[2]))


# ---------------------------------------------------------------------------
# Scores on symbol sequences
# ---------------------------------------------------------------------------


def _codes(sequences: Sequence, background: Hashable = None) -> list[np.ndarray]:
    """Integer codes of label sequences over one shared vocabulary; missing labels share a code."""
    lens = [len(s) for s in sequences]
    flat = [x for s in sequences for x in (s.tolist() if isinstance(s, np.ndarray) else list(s))]
    if not flat:
        return [np.empty(0, np.int64) for _ in sequences]
    ser = pd.Series(flat, dtype=object)
    ser = ser.where(~ser.isna(), "__gazemodels_background__" if background is None else background)
    codes, _ = pd.factorize(ser)
    out, k = [], 0
    for n in lens:
        out.append(codes[k : k + n].astype(np.int64))
        k += n
    return out


def _nw_score(seqs: list[np.ndarray], pairs: np.ndarray, truncate: int | None) -> tuple[np.ndarray, list]:
    if truncate is not None:
        seqs = [s[: int(truncate)] for s in seqs]
    lens = np.array([len(s) for s in seqs])
    raw = needleman_wunsch_batch(seqs, pairs, None, 0.0)
    P = len(pairs)
    values = np.full((P, 1), np.nan)
    reasons: list = [None] * P
    if P:
        la, lb = lens[pairs[:, 0]], lens[pairs[:, 1]]
        ok = (la > 0) & (lb > 0)
        # score / length of the longer string (Yang et al. 2020)
        values[ok, 0] = raw[ok] / np.maximum(la[ok], lb[ok])
        for p in np.flatnonzero(~ok):
            which = " and ".join(str(k + 1) for k, n in enumerate((la[p], lb[p])) if n == 0)
            reasons[p] = f"scanpath {which} has no fixations"
    return values, reasons


def _to_symbols(sp) -> np.ndarray | None:
    """A 1-D sequence of labels, or None if ``sp`` is a scanpath (positions)."""
    if isinstance(sp, pd.DataFrame):
        return None
    if isinstance(sp, str):
        return np.array(list(sp), dtype=object)
    arr = np.asarray(sp, dtype=object) if not isinstance(sp, np.ndarray) else sp
    if arr.ndim == 1:
        return arr
    return None


def _pair_codes(sp1, sp2, screen_size, grid, clusters) -> list[np.ndarray]:
    s1, s2 = _to_symbols(sp1), _to_symbols(sp2)
    if s1 is not None and s2 is not None:
        return _codes([s1, s2])
    if s1 is not None or s2 is not None:
        raise ValueError("give two label sequences or two scanpaths, not one of each")
    if clusters is not None:
        return [clusters.labels(sp1), clusters.labels(sp2)]
    if screen_size is None or grid is None:
        raise ValueError("scanpaths need an encoding: clusters=..., or screen_size=... and grid=...")
    screen = np.asarray(screen_size, dtype=float)
    return [_grid_codes(as_scanpath(s, ("x", "y"), name=f"scanpath{k + 1}"), screen, grid)
            for k, s in enumerate((sp1, sp2))]


def sequence_score(
    scanpath1,
    scanpath2,
    *,
    screen_size: tuple[float, float] | None = None,
    grid: tuple[int, int] | None = None,
    clusters: FixationClusters | None = None,
    truncate: int | None = None,
    on_undefined: str = "warn",
) -> float:
    """Sequence score of two scanpaths (Yang et al. 2020).

    Definition: both scanpaths become symbol strings (cluster, grid region, or given
    labels); Needleman-Wunsch with match 1, mismatch 0 and gap 0 aligns them, and
    the score is divided by the longer length: ``SS = LCS(a, b) / max(|a|, |b|)``.

    Parameters
    ----------
    scanpath1, scanpath2 : array_like, str or pandas.DataFrame
        Either two label sequences (1-D: cluster ids, region letters, ...) or two
        scanpaths (``(n, 2)``/``(n, 3)`` arrays, x and y in px), which are encoded
        with ``clusters`` or with ``screen_size`` and ``grid``.
    screen_size : (float, float), optional
        ``(width, height)`` px, for grid strings.
    grid : (int, int), optional
        ``(nx, ny)`` regions, for grid strings.
    clusters : FixationClusters, optional
        Fixation clusters of the stimulus (:func:`fixation_clusters`), for cluster
        strings as in Yang et al.
    truncate : int, optional
        Keep only the first ``truncate`` fixations of each scanpath.
    on_undefined : {"warn", "nan", "raise"}
        An empty scanpath makes the score NaN.

    Returns
    -------
    float
        Unitless, in [0, 1]; 1 for identical strings.

    References
    ----------
    Yang, Z., Huang, L., Chen, Y., Wei, Z., Ahn, S., Zelinsky, G., Samaras, D., &
    Hoai, M. (2020). Predicting goal-directed human attention using inverse
    reinforcement learning. CVPR 2020, 193-202.

    Examples
    --------
    >>> sequence_score("ABCD", "ACBD")
    0.75
    """
    seqs = _pair_codes(scanpath1, scanpath2, screen_size, grid, clusters)
    values, reasons = _nw_score(seqs, np.array([[0, 1]]), truncate)
    handle_undefined(reasons[0], on_undefined, "sequence_score")
    return float(values[0, 0])


def semantic_sequence_score(labels1, labels2, *, truncate: int | None = None,
                            on_undefined: str = "warn") -> float:
    """Semantic sequence score of two scanpaths given object labels (Mondal et al. 2023).

    Definition: the sequence score (:func:`sequence_score`) of the strings of object
    / area-of-interest labels of the fixations. Missing labels (``None``/NaN, a
    fixation on no object) form one "background" label that matches itself.

    Parameters
    ----------
    labels1, labels2 : sequence of hashable
        Object label of each fixation, in fixation order.
    truncate : int, optional
        Keep only the first ``truncate`` fixations.
    on_undefined : {"warn", "nan", "raise"}
        An empty sequence makes the score NaN.

    Returns
    -------
    float
        Unitless, in [0, 1].

    References
    ----------
    Mondal, S., Yang, Z., Ahn, S., Samaras, D., Zelinsky, G., & Hoai, M. (2023).
    Gazeformer: Scalable, effective and fast prediction of goal-directed human
    attention. CVPR 2023, 1441-1450.

    Examples
    --------
    >>> semantic_sequence_score(["cup", "table", "cup"], ["cup", "cup"])
    0.6666666666666666
    """
    seqs = _codes([list(labels1), list(labels2)])
    values, reasons = _nw_score(seqs, np.array([[0, 1]]), truncate)
    handle_undefined(reasons[0], on_undefined, "semantic_sequence_score")
    return float(values[0, 0])


def edit_distance(
    scanpath1,
    scanpath2,
    *,
    normalize: bool = False,
    screen_size: tuple[float, float] | None = None,
    grid: tuple[int, int] | None = None,
    on_undefined: str = "warn",
) -> float:
    """String edit (Levenshtein) distance of two scanpaths' grid or AOI strings.

    Definition: the least number of insertions, deletions and substitutions that
    turn one string into the other (Levenshtein 1966; Privitera & Stark 2000 for
    scanpaths); normalised, divided by the longer length.

    Parameters
    ----------
    scanpath1, scanpath2 : array_like, str or pandas.DataFrame
        Two label sequences (AOI letters, object labels), or two scanpaths
        (x, y px) encoded on a grid with ``screen_size`` and ``grid``.
    normalize : bool
        Divide by ``max(|a|, |b|)`` (in [0, 1]; 0 for identical strings).
    screen_size, grid : optional
        Grid encoding of scanpaths (see :func:`grid_string`).
    on_undefined : {"warn", "nan", "raise"}
        The normalised distance of two empty strings is NaN.

    Returns
    -------
    float
        Number of edits (raw), or edits per symbol (normalised).

    Examples
    --------
    >>> edit_distance("kitten", "sitting")
    3.0
    """
    seqs = _pair_codes(scanpath1, scanpath2, screen_size, grid, None)
    values, reasons = _edit(seqs, np.array([[0, 1]]))
    col = 1 if normalize else 0
    handle_undefined(reasons[0] if np.isnan(values[0, col]) else None, on_undefined, "edit_distance")
    return float(values[0, col])


def _edit(seqs: list[np.ndarray], pairs: np.ndarray) -> tuple[np.ndarray, list]:
    lens = np.array([len(s) for s in seqs])
    raw = levenshtein_batch(seqs, pairs)
    P = len(pairs)
    values = np.full((P, 2), np.nan)
    values[:, 0] = raw
    reasons: list = [None] * P
    if P:
        longer = np.maximum(lens[pairs[:, 0]], lens[pairs[:, 1]])
        ok = longer > 0
        values[ok, 1] = raw[ok] / longer[ok]
        for p in np.flatnonzero(~ok):
            reasons[p] = "both scanpaths are empty; the normalised edit distance is undefined"
    return values, reasons


# ---------------------------------------------------------------------------
# Batch functions
# ---------------------------------------------------------------------------


def _per_scanpath_screen(screen_size, pairs: np.ndarray, n: int) -> np.ndarray:
    from gazemodels.metrics.scanpath.scanmatch import _screen_per_scanpath

    return _screen_per_scanpath(screen_size, pairs, n)


@register_metric(
    "ss",
    columns=("ss",),
    needs=("x", "y"),
    per_stimulus=("screen_size",),
    per_scanpath=("groups", "reference"),
)
def sequence_score_batch(
    scanpaths: Sequence,
    pairs,
    *,
    encoding: str = "cluster",
    screen_size=None,
    grid: tuple[int, int] | None = None,
    groups=None,
    reference=None,
    bandwidth: float | None = None,
    truncate: int | None = None,
) -> tuple[np.ndarray, list]:
    """Sequence score (Yang et al. 2020) of many pairs of scanpaths.

    Parameters
    ----------
    scanpaths : sequence of array_like
        Scanpaths, x and y in px.
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths``.
    encoding : {"cluster", "grid"}
        ``"cluster"``: mean-shift clusters fitted per group (stimulus) on the
        fixations of the ``reference`` scanpaths of the group, as Yang et al. do
        on the human fixations (:func:`fixation_clusters`); ``"grid"``: regions of
        a ``grid`` over ``screen_size``.
    screen_size : (width, height) or (n_pairs, 2) array, optional
        For grid strings.
    grid : (int, int), optional
        ``(nx, ny)`` for grid strings.
    groups : array_like, optional
        Group (stimulus) of each scanpath, for cluster strings; all scanpaths
        form one group if omitted. :func:`~gazemodels.metrics.scanpath.pairwise`
        passes the stimulus.
    reference : array_like of bool, optional
        Which scanpaths the clusters are fitted on (default: all).
    bandwidth : float, optional
        Fixed mean-shift bandwidth in px instead of Yang et al.'s selection.
    truncate : int, optional
        Keep the first ``truncate`` fixations of each scanpath.

    Returns
    -------
    values : numpy.ndarray
        ``(n_pairs, 1)`` scores in [0, 1].
    reasons : list of str or None
        Why a score is NaN (an empty scanpath).
    """
    fix = [as_scanpath(s, ("x", "y"), name=f"scanpaths[{k}]") for k, s in enumerate(scanpaths)]
    pairs = check_pairs(pairs, len(fix))
    if encoding == "grid":
        if screen_size is None or grid is None:
            raise ValueError("sequence score on grid strings needs screen_size and grid")
        screen = _per_scanpath_screen(screen_size, pairs, len(fix))
        seqs = [_grid_codes(f, screen[k], grid) for k, f in enumerate(fix)]
    elif encoding == "cluster":
        seqs = _cluster_codes(fix, groups, reference, bandwidth)
    else:
        raise ValueError(f"encoding must be 'cluster' or 'grid', got {encoding!r}")
    return _nw_score(seqs, pairs, truncate)


def _cluster_codes(fix: list[np.ndarray], groups, reference, bandwidth) -> list[np.ndarray]:
    n = len(fix)
    g = np.zeros(n, dtype=np.int64) if groups is None else pd.factorize(pd.Series(list(groups)))[0]
    ref = np.ones(n, dtype=bool) if reference is None else np.asarray(reference, dtype=bool)
    if len(g) != n or len(ref) != n:
        raise ValueError("groups and reference must have one entry per scanpath")
    seqs: list = [None] * n
    for code in np.unique(g):
        members = np.flatnonzero(g == code)
        fit_on = [fix[k] for k in members if ref[k] and len(fix[k])]
        if not fit_on:
            fit_on = [fix[k] for k in members if len(fix[k])]
        if not fit_on:
            for k in members:
                seqs[k] = np.empty(0, np.int64)
            continue
        cl = fixation_clusters(fit_on, bandwidth=bandwidth)
        for k in members:
            seqs[k] = _nearest(fix[k], cl.centers) if len(fix[k]) else np.empty(0, np.int64)
    return seqs


@register_metric("semantic_ss", columns=("semantic_ss",), needs=("object",))
def semantic_sequence_score_batch(scanpaths: Sequence, pairs, *, truncate: int | None = None):
    """Semantic sequence score (Mondal et al. 2023) of many pairs of label sequences.

    Parameters
    ----------
    scanpaths : sequence of array_like
        Per scanpath, the object label of each fixation (1-D, or an ``(n, 1)``
        column of a fixation table).
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths``.
    truncate : int, optional
        Keep the first ``truncate`` fixations.

    Returns
    -------
    values, reasons
        ``(n_pairs, 1)`` scores in [0, 1]; reasons for NaN.
    """
    labels = [np.asarray(s, dtype=object).reshape(-1) for s in scanpaths]
    pairs = check_pairs(pairs, len(labels))
    return _nw_score(_codes(labels), pairs, truncate)


@register_metric(
    "edit_distance",
    columns=("edit_distance", "edit_distance_norm"),
    needs=("x", "y"),
    per_stimulus=("screen_size",),
    higher_is_better=False,
)
def edit_distance_batch(scanpaths: Sequence, pairs, screen_size, *, grid: tuple[int, int] = (5, 5)):
    """Levenshtein distance of the grid strings of many pairs of scanpaths.

    Parameters
    ----------
    scanpaths : sequence of array_like
        Scanpaths, x and y in px.
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths``.
    screen_size : (width, height) or (n_pairs, 2) array
        Screen size in px.
    grid : (int, int)
        ``(nx, ny)`` regions (default 5 x 5, the usual choice since Privitera &
        Stark 2000 / FixaTons).

    Returns
    -------
    values : numpy.ndarray
        ``(n_pairs, 2)``: raw distance (edits) and distance / longer length.
    reasons : list of str or None
    """
    fix = [as_scanpath(s, ("x", "y"), name=f"scanpaths[{k}]") for k, s in enumerate(scanpaths)]
    pairs = check_pairs(pairs, len(fix))
    screen = _per_scanpath_screen(screen_size, pairs, len(fix))
    seqs = [_grid_codes(f, screen[k], grid) for k, f in enumerate(fix)]
    return _edit(seqs, pairs)


@register_metric(
    "edit_distance_aoi",
    columns=("edit_distance_aoi", "edit_distance_aoi_norm"),
    needs=("object",),
    higher_is_better=False,
)
def edit_distance_aoi_batch(scanpaths: Sequence, pairs):
    """Levenshtein distance of the AOI-label strings of many pairs of scanpaths.

    Parameters
    ----------
    scanpaths : sequence of array_like
        Per scanpath, the AOI/object label of each fixation; missing labels form
        one background label.
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths``.

    Returns
    -------
    values : numpy.ndarray
        ``(n_pairs, 2)``: raw distance and distance / longer length.
    reasons : list of str or None
    """
    labels = [np.asarray(s, dtype=object).reshape(-1) for s in scanpaths]
    pairs = check_pairs(pairs, len(labels))
    return _edit(_codes(labels), pairs)
