"""ScanMatch (Cristino, Mathot, Theeuwes & Gilchrist 2010).

The screen is divided into a grid of ``nx x ny`` regions; each fixation becomes the
letter of its region, repeated once per ``temporal_bin`` ms of its duration when
temporal binning is on. Two letter sequences are aligned globally with the
Needleman-Wunsch algorithm; substituting region ``r`` by region ``s`` scores
``threshold - dist(r, s)`` where ``dist`` is the Euclidean distance between the
region centres in grid units, and a gap scores ``gap``. The score is normalised by
the best possible alignment, ``max(S) x max(len1, len2)``, so identical sequences
score 1.

Defaults are those of the ScanMatch toolbox (``ScanMatch_Struct``: 12 x 8 grid,
threshold 3.5, gap 0, no temporal binning) and its pixel convention
(``matlab_compat=True``, see :func:`scanmatch_sequence`).

Published scores
----------------
:data:`IVSN_SCANMATCH` documents the parameters that come closest to the
human-human ScanMatch scores published with the IVSN / eccNET visual-search data
(Zhang et al. 2018; Gupta et al. 2021; ``ivsn-human-search/*/ss_score/human.npy``,
computed with a compiled, closed MATLAB wrapper of the toolbox whose parameters
are not published). Mean over the 105 subject pairs of the mean over images:

=============  =========  ==============  ==========================================
data set       published  these settings  best 2-parameter fit (grid 6 x 5, thr 2.5)
=============  =========  ==============  ==========================================
ObjArr         0.4411     0.4517          0.4569
NaturalDesign  0.3953     0.4044          0.4395
Waldo          0.3520     0.2717          0.3110
=============  =========  ==============  ==========================================

The toolbox defaults reproduce ObjArr and NaturalDesign to about 0.01 but not
Waldo (long scanpaths, mean 28.6 fixations). A search over grids (4x4 .. 32x24),
thresholds (2 .. 5), gap values (0, -0.5, -1), keeping or dropping the first
fixation, cutting both scanpaths to the shorter one, and averaging over scanpath
prefixes (the IVSN authors' "across time" variant) found no setting that matches
all three; ``tests/metrics/scanpath/test_scanmatch.py`` checks the closeness above.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gazemodels.metrics.scanpath._align import needleman_wunsch_batch
from gazemodels.metrics.scanpath._common import as_scanpath, check_pairs, handle_undefined
from gazemodels.metrics.scanpath.registry import register_metric

__all__ = [
    "IVSN_SCANMATCH",
    "scanmatch",
    "scanmatch_batch",
    "scanmatch_sequence",
    "scanmatch_substitution_matrix",
]

IVSN_SCANMATCH: dict = {
    "screen_size": (1024, 768),
    "grid": (12, 8),
    "threshold": 3.5,
    "gap": 0.0,
    "temporal_bin": 0.0,
    "matlab_compat": True,
}
"""ScanMatch settings closest to the published IVSN human-human scores (toolbox defaults).

Procedure (as in the IVSN authors' MATLAB evaluation code, ``fcn_MMevalSS``): each
scanpath is cut at the fixation that found the target, its first (central)
fixation is dropped when it has more than one, and x, y (px on the 1280 x 1024
display) are rescaled to the 1024 x 768 screen of the toolbox's default
``ScanMatch_Struct`` before binning. How close this gets: see the module docstring.
"""


def scanmatch_substitution_matrix(grid: tuple[int, int] = (12, 8), threshold: float = 3.5) -> np.ndarray:
    """Substitution matrix of ScanMatch for a grid of regions.

    ``S[r, s] = threshold - dist(r, s)``, ``dist`` the Euclidean distance between the
    centres of regions ``r`` and ``s`` in grid units (Cristino et al. 2010, eq. 1;
    the toolbox's ``abs(d - max d) - (max d - threshold)``). Regions are numbered
    row by row: ``r = row * nx + col``.

    Parameters
    ----------
    grid : (int, int)
        ``(nx, ny)``: number of columns and rows.
    threshold : float
        Distance (grid units) at which a substitution scores 0. The toolbox suggests
        ``2 * std(saccade amplitude) / region width``.

    Returns
    -------
    numpy.ndarray
        ``(nx * ny, nx * ny)``.
    """
    nx, ny = _grid(grid)
    col = np.tile(np.arange(nx), ny)
    row = np.repeat(np.arange(ny), nx)
    d = np.sqrt((col[:, None] - col[None, :]) ** 2 + (row[:, None] - row[None, :]) ** 2)
    dmax = d.max()
    return np.abs(d - dmax) - (dmax - threshold)


def _grid(grid) -> tuple[int, int]:
    nx, ny = (int(g) for g in grid)
    if nx < 1 or ny < 1 or nx * ny > 26 * 26 * 64:
        raise ValueError(f"grid must be two positive integers (nx, ny), got {grid!r}")
    return nx, ny


def _round_half_up(v: np.ndarray) -> np.ndarray:
    """MATLAB's rounding (half away from zero) for conversions to integer types."""
    return np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5))


def scanmatch_sequence(
    scanpath,
    screen_size: tuple[float, float],
    grid: tuple[int, int] = (12, 8),
    temporal_bin: float = 0.0,
    matlab_compat: bool = True,
) -> np.ndarray:
    """Region sequence of one scanpath, as ScanMatch builds it.

    Parameters
    ----------
    scanpath : array_like or pandas.DataFrame
        ``(n, 2)`` or ``(n, 3)`` fixations ``[x (px), y (px), duration]``.
    screen_size : (float, float)
        ``(width, height)`` in px of the area divided into the grid.
    grid : (int, int)
        ``(nx, ny)`` regions.
    temporal_bin : float
        If > 0, each fixation is repeated ``round(duration / temporal_bin)`` times
        (duration and ``temporal_bin`` in the same unit, ms for a fixation table).
    matlab_compat : bool
        ``True`` reproduces ``ScanMatch_FixationToSequence`` of the toolbox:
        coordinates and durations are rounded to integers (half away from zero,
        negatives to 0), 0 becomes 1, and the value is taken as a 1-based pixel
        index (``x > width`` becomes ``width - 1``); the region column is
        ``floor((px - 1) * nx / width)``. With temporal binning the toolbox skips
        the first fixation (its loop starts at 2), and so does this. ``False``
        bins the coordinates geometrically, ``floor(x * nx / width)`` clipped to the
        grid, and keeps every fixation.

    Returns
    -------
    numpy.ndarray
        0-based region indices ``row * nx + col`` (int64).
    """
    fix = as_scanpath(scanpath, name="scanpath")
    return _sequence(fix, np.asarray(screen_size, dtype=float), _grid(grid), temporal_bin, matlab_compat)


def _sequence(fix: np.ndarray, screen: np.ndarray, grid: tuple[int, int], temporal_bin: float,
              matlab_compat: bool) -> np.ndarray:
    nx, ny = grid
    w, h = float(screen[0]), float(screen[1])
    x, y = fix[:, 0], fix[:, 1]
    if matlab_compat:
        # ScanMatch_FixationToSequence: uint16(data); data(data==0)=1; clip > res to res-1
        px = np.clip(_round_half_up(x), 0, 65535)
        py = np.clip(_round_half_up(y), 0, 65535)
        px[px == 0] = 1
        py[py == 0] = 1
        px[px > w] = w - 1
        py[py > h] = h - 1
        # ScanMatch_GridMask: pixel p (1-based) lies in region column floor(1 + (p-1) nx/X)
        col = np.floor((px - 1) * nx / w).astype(np.int64)
        row = np.floor((py - 1) * ny / h).astype(np.int64)
    else:
        col = np.floor(x * nx / w).astype(np.int64)
        row = np.floor(y * ny / h).astype(np.int64)
    col = np.clip(col, 0, nx - 1)
    row = np.clip(row, 0, ny - 1)
    seq = row * nx + col
    if temporal_bin and temporal_bin > 0:
        dur = fix[:, 2] if fix.shape[1] > 2 else np.full(len(fix), np.nan)
        if np.isnan(dur).any():
            raise ValueError("scanmatch: temporal binning needs fixation durations (some are NaN)")
        if matlab_compat:
            d = np.clip(_round_half_up(dur), 0, 65535)
            d[d == 0] = 1
            reps = _round_half_up(d / temporal_bin).astype(np.int64)
            reps[0] = 0  # the toolbox's loop starts at the second fixation
        else:
            reps = _round_half_up(dur / temporal_bin).astype(np.int64)
        seq = np.repeat(seq, np.maximum(reps, 0))
    return seq


@register_metric(
    "scanmatch",
    columns=("scanmatch",),
    needs=("x", "y", "duration"),
    per_stimulus=("screen_size",),
    higher_is_better=True,
)
def scanmatch_batch(
    scanpaths: Sequence,
    pairs,
    screen_size,
    *,
    grid: tuple[int, int] = (12, 8),
    threshold: float = 3.5,
    gap: float = 0.0,
    temporal_bin: float = 0.0,
    substitution: np.ndarray | None = None,
    matlab_compat: bool = True,
) -> tuple[np.ndarray, list]:
    """ScanMatch scores of many pairs of scanpaths at once.

    Parameters
    ----------
    scanpaths : sequence of array_like or DataFrame
        ``(n, 2)``/``(n, 3)`` fixations ``[x (px), y (px), duration]``.
    pairs : array_like of int, shape (n_pairs, 2)
        Indices into ``scanpaths``.
    screen_size : (width, height) or array of shape (n_pairs, 2)
        Area divided into the grid, px. Per-pair sizes must give every scanpath
        one size (a scanpath is binned once).
    grid, threshold, gap, temporal_bin, matlab_compat
        See :func:`scanmatch`.
    substitution : numpy.ndarray, optional
        Custom ``(nx*ny, nx*ny)`` substitution matrix (replaces ``threshold``).

    Returns
    -------
    values : numpy.ndarray
        ``(n_pairs, 1)`` scores.
    reasons : list of str or None
        Why a score is NaN.
    """
    fix = [as_scanpath(s, name=f"scanpaths[{k}]") for k, s in enumerate(scanpaths)]
    pairs = check_pairs(pairs, len(fix))
    nx, ny = _grid(grid)
    sub = scanmatch_substitution_matrix((nx, ny), threshold) if substitution is None else np.asarray(
        substitution, dtype=float)
    if sub.shape != (nx * ny, nx * ny):
        raise ValueError(f"substitution matrix must be {(nx * ny, nx * ny)}, got {sub.shape}")
    screen = _screen_per_scanpath(screen_size, pairs, len(fix))
    seqs = []
    for k, f in enumerate(fix):
        seqs.append(_sequence(f, screen[k], (nx, ny), temporal_bin, matlab_compat) if len(f)
                    else np.empty(0, np.int64))
    raw = needleman_wunsch_batch(seqs, pairs, sub, gap)
    lens = np.array([len(s) for s in seqs])
    P = len(pairs)
    values = np.full((P, 1), np.nan)
    reasons: list = [None] * P
    if P:
        la, lb = lens[pairs[:, 0]], lens[pairs[:, 1]]
        ok = (la > 0) & (lb > 0)
        # normalise by the best possible score (Cristino et al. 2010; ScanMatch.m)
        values[ok, 0] = raw[ok] / (sub.max() * np.maximum(la[ok], lb[ok]))
        for p in np.flatnonzero(~ok):
            which = [str(k + 1) for k, n in enumerate((la[p], lb[p])) if n == 0]
            nf = [len(fix[pairs[p, 0]]), len(fix[pairs[p, 1]])]
            why = "no fixations" if min(nf) == 0 else "no temporal bins (all durations round to 0 bins)"
            reasons[p] = f"scanpath {' and '.join(which)} has an empty ScanMatch sequence ({why})"
    return values, reasons


def _screen_per_scanpath(screen_size, pairs: np.ndarray, n: int) -> np.ndarray:
    s = np.asarray(screen_size, dtype=float)
    if s.shape == (2,):
        out = np.broadcast_to(s, (n, 2)).copy()
    elif s.ndim == 2 and s.shape == (len(pairs), 2):
        out = np.full((n, 2), np.nan)
        for col in (0, 1):
            idx = pairs[:, col]
            prev = out[idx]
            clash = ~np.isnan(prev).any(1) & (prev != s).any(1)
            if clash.any():
                raise ValueError("scanmatch: a scanpath is paired under two different screen sizes")
            out[idx] = s
        out[np.isnan(out).any(1)] = 1.0  # unpaired scanpaths: never used
    else:
        raise ValueError(f"screen_size must be (width, height) or (n_pairs, 2), got shape {s.shape}")
    if not (np.isfinite(out).all() and (out > 0).all()):
        raise ValueError("screen_size must be positive and finite")
    return out


def scanmatch(
    scanpath1,
    scanpath2,
    screen_size: tuple[float, float],
    *,
    grid: tuple[int, int] = (12, 8),
    threshold: float = 3.5,
    gap: float = 0.0,
    temporal_bin: float = 0.0,
    substitution: np.ndarray | None = None,
    matlab_compat: bool = True,
    on_undefined: str = "warn",
) -> float:
    """ScanMatch similarity of two scanpaths (Cristino et al. 2010).

    Definition: each scanpath becomes a sequence of grid regions (one symbol per
    fixation, or per ``temporal_bin`` of fixation time); the two sequences are
    aligned by Needleman-Wunsch with substitution score
    ``S[r, s] = threshold - dist(r, s)`` (grid units) and gap score ``gap``; the
    alignment score is divided by ``max(S) * max(len1, len2)``.

    Parameters
    ----------
    scanpath1, scanpath2 : array_like or pandas.DataFrame
        ``(n, 2)``/``(n, 3)`` fixations ``[x (px), y (px), duration]``.
    screen_size : (float, float)
        ``(width, height)`` in px of the area divided into the grid.
    grid : (int, int)
        ``(nx, ny)`` regions; the toolbox default is 12 x 8.
    threshold : float
        Substitution threshold in grid units (toolbox default 3.5).
    gap : float
        Gap score (toolbox default 0).
    temporal_bin : float
        Temporal bin in the unit of the durations (ms); 0 disables temporal binning.
    substitution : numpy.ndarray, optional
        Custom substitution matrix (e.g. from semantic similarity of regions).
    matlab_compat : bool
        Reproduce the toolbox's pixel rounding and its temporal-binning loop (see
        :func:`scanmatch_sequence`).
    on_undefined : {"warn", "nan", "raise"}
        An empty sequence (no fixations, or no temporal bins) makes the score NaN.

    Returns
    -------
    float
        Unitless score, at most 1 (identical sequences); can be negative when most
        aligned regions are farther apart than ``threshold``.

    References
    ----------
    Cristino, F., Mathot, S., Theeuwes, J., & Gilchrist, I. D. (2010). ScanMatch: A
    novel method for comparing fixation sequences. Behavior Research Methods, 42(3),
    692-700.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[100, 100], [600, 400], [900, 700]])
    >>> scanmatch(a, a, (1024, 768))
    1.0
    """
    values, reasons = scanmatch_batch(
        [scanpath1, scanpath2], [[0, 1]], screen_size, grid=grid, threshold=threshold, gap=gap,
        temporal_bin=temporal_bin, substitution=substitution, matlab_compat=matlab_compat,
    )
    handle_undefined(reasons[0], on_undefined, "scanmatch")
    return float(values[0, 0])
