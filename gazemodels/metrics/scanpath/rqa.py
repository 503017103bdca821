"""Cross-recurrence quantification of two scanpaths (Anderson, Bischof, Laidlaw,
Risko & Kingstone 2013).

Both scanpaths are cut to the length ``N`` of the shorter. Fixation ``i`` of
scanpath 1 and fixation ``j`` of scanpath 2 are cross-recurrent, ``c[i, j] = 1``,
when they are at most ``radius`` apart. With ``C = sum c`` recurrent points:

===========  ===================================================================
measure      definition (Anderson et al. 2013, "cross-recurrence analysis")
===========  ===================================================================
REC          ``100 C / N^2``: percentage of fixation pairs that are close
DET          ``100 D_L / C``: percentage of recurrent points on diagonal lines
             of at least ``L`` points (the same sub-sequence of locations in both)
LAM          ``100 (H_L + V_L) / (2 C)``: percentage of recurrent points on
             horizontal and on vertical lines of at least ``L`` points (a place
             fixated repeatedly in one scanpath and once in the other)
CORM         ``100 sum (j - i) c[i, j] / ((N - 1) C)``: centre of recurrence mass,
             the dominant lag; > 0 when scanpath 2 visits scanpath 1's places later
===========  ===================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from gazemodels.metrics.scanpath._common import (
    as_scanpath,
    check_pairs,
    chunk_by_size,
    gather_padded,
    handle_undefined,
)
from gazemodels.metrics.scanpath.registry import register_metric

__all__ = ["RQA_MEASURES", "RQAResult", "cross_recurrence", "rqa_batch"]

RQA_MEASURES: tuple[str, ...] = ("rec", "det", "lam", "corm")


class RQAResult(NamedTuple):
    """Cross-recurrence measures of one pair, in percent."""

    rec: float
    det: float
    lam: float
    corm: float


def _points_on_lines(c: np.ndarray, axis_step: tuple[int, int], min_line: int) -> np.ndarray:
    """Number of recurrent points on lines of >= ``min_line`` points, per batch column.

    ``c`` is ``(N, N, B)`` bool; ``axis_step`` is (1, 1) for diagonals, (0, 1) for
    horizontal (along j) and (1, 0) for vertical (along i) lines.
    """
    N = c.shape[0]
    ci = c.astype(np.int32)
    fwd = np.zeros_like(ci)
    bwd = np.zeros_like(ci)
    di, dj = axis_step
    # run length ending at (i, j) and starting at (i, j), one sweep each way
    if (di, dj) == (1, 1):
        fwd[0] = ci[0]
        fwd[:, 0] = ci[:, 0]
        for i in range(1, N):
            fwd[i, 1:] = ci[i, 1:] * (fwd[i - 1, :-1] + 1)
        bwd[N - 1] = ci[N - 1]
        bwd[:, N - 1] = ci[:, N - 1]
        for i in range(N - 2, -1, -1):
            bwd[i, :-1] = ci[i, :-1] * (bwd[i + 1, 1:] + 1)
    elif (di, dj) == (0, 1):
        fwd[:, 0] = ci[:, 0]
        for j in range(1, N):
            fwd[:, j] = ci[:, j] * (fwd[:, j - 1] + 1)
        bwd[:, N - 1] = ci[:, N - 1]
        for j in range(N - 2, -1, -1):
            bwd[:, j] = ci[:, j] * (bwd[:, j + 1] + 1)
    else:
        fwd[0] = ci[0]
        for i in range(1, N):
            fwd[i] = ci[i] * (fwd[i - 1] + 1)
        bwd[N - 1] = ci[N - 1]
        for i in range(N - 2, -1, -1):
            bwd[i] = ci[i] * (bwd[i + 1] + 1)
    run = fwd + bwd - 1  # length of the line through each recurrent point
    return ((run >= min_line) & c).sum(axis=(0, 1))


@register_metric(
    "rqa",
    columns=tuple(f"rqa_{m}" for m in RQA_MEASURES),
    needs=("x", "y"),
    higher_is_better=True,
)
def rqa_batch(
    scanpaths: Sequence,
    pairs,
    radius: float,
    *,
    min_line: int = 2,
    chunk_cells: int = 1 << 21,
) -> tuple[np.ndarray, list]:
    """Cross-recurrence measures (REC, DET, LAM, CORM) of many pairs of scanpaths.

    Parameters
    ----------
    scanpaths : sequence of array_like or DataFrame
        Scanpaths, x and y in px.
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths``.
    radius : float
        Recurrence radius in px (typically the size of the fovea, 1-2 degrees of
        visual angle, converted to px).
    min_line : int
        Shortest line ``L`` counted by DET and LAM (default 2).
    chunk_cells : int
        Memory budget of one batch.

    Returns
    -------
    values : numpy.ndarray
        ``(n_pairs, 4)``: REC, DET, LAM, CORM in percent.
    reasons : list of str or None
        Why values are NaN: an empty scanpath (all four), no recurrent point (DET,
        LAM and CORM are 0/0), a single fixation after truncation (CORM).
    """
    if not (np.isfinite(radius) and radius >= 0):
        raise ValueError(f"radius must be a non-negative number of px, got {radius}")
    if int(min_line) < 1:
        raise ValueError(f"min_line must be >= 1, got {min_line}")
    fix = [as_scanpath(s, ("x", "y"), name=f"scanpaths[{k}]") for k, s in enumerate(scanpaths)]
    pairs = check_pairs(pairs, len(fix))
    lens = np.array([len(f) for f in fix], dtype=np.int64)
    off = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) if len(fix) else lens
    flat = np.concatenate(fix) if fix else np.empty((0, 2))
    P = len(pairs)
    out = np.full((P, 4), np.nan)
    reasons: list = [None] * P
    if P == 0:
        return out, reasons
    a, b = pairs[:, 0], pairs[:, 1]
    N = np.minimum(lens[a], lens[b])
    ok = np.flatnonzero(N > 0)
    for sel in chunk_by_size(N[ok], N[ok], chunk_cells):
        p = ok[sel]
        n, B = N[p], len(p)
        W = int(n.max())
        pa, ma = gather_padded(flat, off[a[p]], n, W)  # truncated to N per pair
        pb, mb = gather_padded(flat, off[b[p]], n, W)
        dx = pa[:, None, :, 0] - pb[None, :, :, 0]
        dy = pa[:, None, :, 1] - pb[None, :, :, 1]
        c = (np.sqrt(dx * dx + dy * dy) <= radius) & ma[:, None, :] & mb[None, :, :]
        C = c.sum(axis=(0, 1)).astype(float)
        lag = (np.arange(W)[None, :] - np.arange(W)[:, None])[:, :, None]
        # Anderson et al. 2013, cross-recurrence: REC, DET, LAM, CORM
        with np.errstate(invalid="ignore", divide="ignore"):
            out[p, 0] = 100.0 * C / n.astype(float) ** 2
            out[p, 1] = 100.0 * _points_on_lines(c, (1, 1), min_line) / C
            out[p, 2] = 100.0 * (_points_on_lines(c, (0, 1), min_line)
                                 + _points_on_lines(c, (1, 0), min_line)) / (2.0 * C)
            out[p, 3] = 100.0 * (lag * c).sum(axis=(0, 1)) / ((n - 1) * C)
        out[p[C == 0], 1:] = np.nan
        out[p[n == 1], 3] = np.nan
    for k in range(P):
        if N[k] == 0:
            which = " and ".join(str(i + 1) for i, m in enumerate((lens[a[k]], lens[b[k]])) if m == 0)
            reasons[k] = f"scanpath {which} has no fixations"
        elif np.isnan(out[k, 1]):
            reasons[k] = "no cross-recurrent fixations within radius: DET, LAM and CORM are undefined"
        elif np.isnan(out[k, 3]):
            reasons[k] = "one fixation after truncation to the shorter scanpath: CORM is undefined"
    return out, reasons


def cross_recurrence(
    scanpath1,
    scanpath2,
    radius: float,
    *,
    min_line: int = 2,
    on_undefined: str = "warn",
) -> RQAResult:
    """Cross-recurrence quantification of two scanpaths (Anderson et al. 2013).

    Definition: see the module docstring. Both scanpaths are cut to the length of
    the shorter; ``c[i, j] = d(f_i, g_j) <= radius``; REC, DET, LAM and CORM follow.

    Parameters
    ----------
    scanpath1, scanpath2 : array_like or pandas.DataFrame
        Fixations, x and y in px.
    radius : float
        Recurrence radius, px.
    min_line : int
        Shortest diagonal/horizontal/vertical line counted (``L``, default 2).
    on_undefined : {"warn", "nan", "raise"}
        Measures that are 0/0 (no recurrence, a single fixation) are NaN.

    Returns
    -------
    RQAResult
        ``(rec, det, lam, corm)`` in percent; CORM is signed, in [-100, 100].

    References
    ----------
    Anderson, N. C., Bischof, W. F., Laidlaw, K. E. W., Risko, E. F., & Kingstone,
    A. (2013). Recurrence quantification analysis of eye movements. Behavior
    Research Methods, 45(3), 842-856.

    Examples
    --------
    >>> sp = [[0, 0], [100, 0], [200, 0]]
    >>> [round(v, 3) for v in cross_recurrence(sp, sp, radius=10)]
    [33.333, 100.0, 0.0, 0.0]
    """
    values, reasons = rqa_batch([scanpath1, scanpath2], [[0, 1]], radius, min_line=min_line)
    handle_undefined(reasons[0], on_undefined, "cross_recurrence")
    return RQAResult(*(float(v) for v in values[0]))
