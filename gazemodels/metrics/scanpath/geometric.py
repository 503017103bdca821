"""Point-set and curve distances between two scanpaths.

Each scanpath is the sequence of its fixation positions; ``d(i, j)`` is the
Euclidean distance between fixation ``i`` of scanpath 1 and fixation ``j`` of
scanpath 2, in px (or degrees of visual angle with ``px_per_degree``).

==============================  ==========================================================
metric                          definition
==============================  ==========================================================
dynamic time warping (DTW)      least sum of ``d`` along a monotone alignment that pairs
                                every fixation with at least one of the other scanpath
discrete Frechet distance       least, over such alignments, of the largest ``d``
Hausdorff distance              ``max(max_i min_j d, max_j min_i d)``
mean minimal distance (MMD)     ``(mean_i min_j d + mean_j min_i d) / 2``
==============================  ==========================================================

All are 0 for identical scanpaths and grow with dissimilarity; DTW grows with
scanpath length too (it is a sum).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gazemodels.metrics.scanpath._common import (
    as_scanpath,
    check_pairs,
    chunk_by_size,
    gather_padded,
    handle_undefined,
    wavefront,
)
from gazemodels.metrics.scanpath.registry import register_metric

__all__ = [
    "GEOMETRIC_METRICS",
    "dtw",
    "dtw_batch",
    "frechet",
    "frechet_batch",
    "geometric_batch",
    "hausdorff",
    "hausdorff_batch",
    "mean_minimal_distance",
    "mmd_batch",
]

GEOMETRIC_METRICS: tuple[str, ...] = ("dtw", "frechet", "hausdorff", "mmd")


def geometric_batch(
    scanpaths: Sequence,
    pairs,
    *,
    metrics: Sequence[str] = GEOMETRIC_METRICS,
    px_per_degree: float | None = None,
    chunk_cells: int = 1 << 21,
) -> tuple[np.ndarray, list]:
    """DTW, discrete Frechet, Hausdorff and mean minimal distance of many pairs.

    Parameters
    ----------
    scanpaths : sequence of array_like or DataFrame
        Scanpaths, ``(n, 2)``/``(n, 3)`` with x, y in px.
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths``.
    metrics : sequence of str
        Which of ``"dtw", "frechet", "hausdorff", "mmd"`` to compute, in this order
        of output columns.
    px_per_degree : float, optional
        Convert distances to degrees of visual angle (divide by this); px otherwise.
    chunk_cells : int
        Memory budget of one batch.

    Returns
    -------
    values : numpy.ndarray
        ``(n_pairs, len(metrics))`` distances in px (or deg).
    reasons : list of str or None
        Why values are NaN (a scanpath without fixations).
    """
    bad = [m for m in metrics if m not in GEOMETRIC_METRICS]
    if bad:
        raise ValueError(f"unknown geometric metric(s) {bad}; choose from {GEOMETRIC_METRICS}")
    fix = [as_scanpath(s, ("x", "y"), name=f"scanpaths[{k}]") for k, s in enumerate(scanpaths)]
    pairs = check_pairs(pairs, len(fix))
    scale = 1.0
    if px_per_degree is not None:
        if not (np.isfinite(px_per_degree) and px_per_degree > 0):
            raise ValueError(f"px_per_degree must be positive, got {px_per_degree}")
        scale = 1.0 / float(px_per_degree)
    lens = np.array([len(f) for f in fix], dtype=np.int64)
    off = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) if len(fix) else lens
    flat = np.concatenate(fix) if fix else np.empty((0, 2))
    P = len(pairs)
    out = np.full((P, len(metrics)), np.nan)
    reasons: list = [None] * P
    if P == 0:
        return out, reasons
    a, b = pairs[:, 0], pairs[:, 1]
    la, lb = lens[a], lens[b]
    ok = np.flatnonzero((la > 0) & (lb > 0))
    for p in np.flatnonzero((la == 0) | (lb == 0)):
        which = " and ".join(str(k + 1) for k, n in enumerate((la[p], lb[p])) if n == 0)
        reasons[p] = f"scanpath {which} has no fixations"
    for sel in chunk_by_size(la[ok], lb[ok], chunk_cells):
        p = ok[sel]
        R, C, B = int(la[p].max()), int(lb[p].max()), len(p)
        pa, ma = gather_padded(flat, off[a[p]], la[p], R)
        pb, mb = gather_padded(flat, off[b[p]], lb[p], C)
        dx = pa[:, None, :, 0] - pb[None, :, :, 0]
        dy = pa[:, None, :, 1] - pb[None, :, :, 1]
        d = np.sqrt(dx * dx + dy * dy) * scale  # (R, C, B)
        real = ma[:, None, :] & mb[None, :, :]
        cols = np.arange(B)
        end = la[p] * (C + 1) + lb[p]
        for k, m in enumerate(metrics):
            if m in ("dtw", "frechet"):
                D = np.full((R + 1, C + 1, B), np.inf)
                D[0, 0] = 0.0
                extra = np.zeros((R + 1, C + 1, B))
                extra[1:, 1:] = d
                if m == "dtw":  # Berndt & Clifford 1994: D = d + min(neighbours)
                    wavefront(D, extra, lambda u, l, g, e: np.minimum(np.minimum(u, l), g) + e)
                else:  # Eiter & Mannila 1994: D = max(d, min(neighbours))
                    wavefront(D, extra, lambda u, l, g, e: np.maximum(np.minimum(np.minimum(u, l), g), e))
                out[p, k] = D.reshape(-1, B)[end, cols]
            else:
                dm = np.where(real, d, np.inf)
                to_b = dm.min(axis=1)  # (R, B): each fixation of 1 to its nearest in 2
                to_a = dm.min(axis=0)  # (C, B)
                if m == "hausdorff":  # Hausdorff 1914; cf. scipy directed_hausdorff
                    h_ab = np.where(ma, to_b, -np.inf).max(axis=0)
                    h_ba = np.where(mb, to_a, -np.inf).max(axis=0)
                    out[p, k] = np.maximum(h_ab, h_ba)
                else:  # mean minimal distance (Mannan et al. 1995; Fahimi & Bruce 2021)
                    m_ab = np.where(ma, to_b, 0.0).sum(axis=0) / la[p]
                    m_ba = np.where(mb, to_a, 0.0).sum(axis=0) / lb[p]
                    out[p, k] = (m_ab + m_ba) / 2.0
    return out, reasons


def _single(name: str, scanpath1, scanpath2, px_per_degree, on_undefined) -> float:
    values, reasons = geometric_batch([scanpath1, scanpath2], [[0, 1]], metrics=(name,),
                                      px_per_degree=px_per_degree)
    handle_undefined(reasons[0], on_undefined, name)
    return float(values[0, 0])


def dtw(scanpath1, scanpath2, *, px_per_degree: float | None = None, on_undefined: str = "warn") -> float:
    """Dynamic time warping distance between two scanpaths.

    Definition: ``DTW = min over warping paths W of sum_{(i, j) in W} d(i, j)``, a
    warping path being a monotone sequence of index pairs from ``(0, 0)`` to
    ``(n-1, m-1)`` with steps (1, 0), (0, 1) or (1, 1) (Berndt & Clifford 1994;
    used for scanpaths e.g. by Kummerer & Bethge 2021). Computed exactly (no
    FastDTW approximation).

    Parameters
    ----------
    scanpath1, scanpath2 : array_like or pandas.DataFrame
        ``(n, 2)``/``(n, 3)`` fixations, x and y in px.
    px_per_degree : float, optional
        Return degrees of visual angle instead of px.
    on_undefined : {"warn", "nan", "raise"}
        A scanpath without fixations makes the distance NaN.

    Returns
    -------
    float
        Sum of distances along the optimal warping path, px (or deg).

    Examples
    --------
    >>> dtw([[0, 0], [10, 0]], [[0, 0], [0, 0], [10, 0]])
    0.0
    """
    return _single("dtw", scanpath1, scanpath2, px_per_degree, on_undefined)


def frechet(scanpath1, scanpath2, *, px_per_degree: float | None = None, on_undefined: str = "warn") -> float:
    """Discrete Frechet distance between two scanpaths (Eiter & Mannila 1994).

    Definition: ``min over warping paths W of max_{(i, j) in W} d(i, j)`` (warping
    paths as in :func:`dtw`): the shortest leash with which one could walk both
    scanpaths forward, fixation by fixation.

    Parameters
    ----------
    scanpath1, scanpath2 : array_like or pandas.DataFrame
        Fixations, x and y in px.
    px_per_degree : float, optional
        Return degrees instead of px.
    on_undefined : {"warn", "nan", "raise"}
        A scanpath without fixations makes the distance NaN.

    Returns
    -------
    float
        px (or deg).
    """
    return _single("frechet", scanpath1, scanpath2, px_per_degree, on_undefined)


def hausdorff(scanpath1, scanpath2, *, px_per_degree: float | None = None, on_undefined: str = "warn") -> float:
    """Hausdorff distance between the fixation sets of two scanpaths.

    Definition: ``max(max_i min_j d(i, j), max_j min_i d(i, j))``: the largest
    distance from a fixation of either scanpath to the nearest fixation of the
    other (order is ignored).

    Parameters
    ----------
    scanpath1, scanpath2 : array_like or pandas.DataFrame
        Fixations, x and y in px.
    px_per_degree : float, optional
        Return degrees instead of px.
    on_undefined : {"warn", "nan", "raise"}
        A scanpath without fixations makes the distance NaN.

    Returns
    -------
    float
        px (or deg).
    """
    return _single("hausdorff", scanpath1, scanpath2, px_per_degree, on_undefined)


def mean_minimal_distance(scanpath1, scanpath2, *, px_per_degree: float | None = None,
                          on_undefined: str = "warn") -> float:
    """Mean minimal distance between the fixations of two scanpaths.

    Definition: ``(1/n sum_i min_j d(i, j) + 1/m sum_j min_i d(i, j)) / 2``, the
    symmetric mean nearest-neighbour distance (Mannan, Ruddock & Wooding 1995's
    linear distance without its normalisation; Fahimi & Bruce 2021). Order is
    ignored.

    Parameters
    ----------
    scanpath1, scanpath2 : array_like or pandas.DataFrame
        Fixations, x and y in px.
    px_per_degree : float, optional
        Return degrees instead of px.
    on_undefined : {"warn", "nan", "raise"}
        A scanpath without fixations makes the distance NaN.

    Returns
    -------
    float
        px (or deg).
    """
    return _single("mmd", scanpath1, scanpath2, px_per_degree, on_undefined)


def _register(name: str):
    def batch(scanpaths: Sequence, pairs, *, px_per_degree: float | None = None):
        return geometric_batch(scanpaths, pairs, metrics=(name,), px_per_degree=px_per_degree)

    batch.__name__ = f"{name}_batch"
    batch.__qualname__ = batch.__name__
    batch.__doc__ = (
        f"{ {'dtw': 'Dynamic time warping distance', 'frechet': 'Discrete Frechet distance', 'hausdorff': 'Hausdorff distance', 'mmd': 'Mean minimal distance'}[name]} "
        f"(px, or deg with px_per_degree) of many pairs; see :func:`geometric_batch`."
    )
    return register_metric(name, columns=(name,), needs=("x", "y"), higher_is_better=False)(batch)


dtw_batch = _register("dtw")
frechet_batch = _register("frechet")
hausdorff_batch = _register("hausdorff")
mmd_batch = _register("mmd")
