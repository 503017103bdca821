"""Shared machinery of the scanpath-similarity metrics.

* :func:`as_scanpath` brings one scanpath (array or fixation-table slice) to a float
  array and checks it.
* :class:`UndefinedMetricWarning` / :class:`UndefinedMetricError` report a metric that
  is undefined for a pair (too few fixations, no durations, ...). Metrics never
  return a silent number there: single-pair functions return NaN and warn (or raise,
  with ``on_undefined="raise"``); batch functions return NaN and a reason per pair.
* :func:`wavefront` runs a dynamic programme over a batch of padded grids one
  anti-diagonal at a time; DTW, Frechet, Needleman-Wunsch, Levenshtein and the
  MultiMatch alignment are all instances of it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from gazemodels.errors import GazemodelsError

__all__ = [
    "UndefinedMetricError",
    "UndefinedMetricWarning",
    "as_scanpath",
    "check_pairs",
    "chunk_by_size",
    "handle_undefined",
    "wavefront",
]


class UndefinedMetricWarning(RuntimeWarning):
    """A metric is undefined for the given scanpaths; NaN was returned."""


class UndefinedMetricError(GazemodelsError, ValueError):
    """A metric is undefined for the given scanpaths and NaN was not allowed."""


def handle_undefined(reason: str | None, on_undefined: str, metric: str) -> None:
    """Warn or raise for an undefined single-pair result.

    Parameters
    ----------
    reason : str or None
        Why the metric is undefined; ``None`` means it is defined (nothing happens).
    on_undefined : {"nan", "warn", "raise"}
        ``"warn"`` (default of the public functions) returns NaN with an
        :class:`UndefinedMetricWarning`; ``"nan"`` returns NaN silently (the reason is
        still available from the batch functions); ``"raise"`` raises
        :class:`UndefinedMetricError`.
    metric : str
        Metric name for the message.
    """
    if reason is None:
        return
    if on_undefined == "raise":
        raise UndefinedMetricError(f"{metric}: {reason}")
    if on_undefined == "warn":
        warnings.warn(f"{metric} is NaN: {reason}", UndefinedMetricWarning, stacklevel=3)
    elif on_undefined != "nan":
        raise ValueError(f"on_undefined must be 'warn', 'nan' or 'raise', got {on_undefined!r}")


def as_scanpath(
    scanpath,
    columns: Sequence[str] = ("x", "y", "duration"),
    *,
    name: str = "scanpath",
    require_duration: bool = False,
) -> np.ndarray:
    """One scanpath as a float array ``(n_fixations, k)``.

    Parameters
    ----------
    scanpath : array_like or pandas.DataFrame
        Either an array of shape ``(n, 2)`` (x, y in px) or ``(n, 3)`` (x, y in px,
        duration), or the rows of one scanpath of a fixation table (sorted by
        ``fix_index`` if that column is present; ``columns`` are taken from it).
    columns : sequence of str
        Columns read from a DataFrame. A missing ``duration`` column gives NaN
        durations unless ``require_duration``.
    name : str
        Name used in error messages.
    require_duration : bool
        Raise if there is no duration column / third array column.

    Returns
    -------
    numpy.ndarray
        ``(n, 3)`` float array ``[x, y, duration]`` (duration NaN when absent), or
        ``(n, 2)`` if only two columns were asked for.

    Raises
    ------
    ValueError
        On a wrong shape or non-finite positions; the message names the fixations.
    """
    want = len(columns)
    if isinstance(scanpath, pd.DataFrame):
        df = scanpath
        if "fix_index" in df.columns and len(df) > 1:
            df = df.sort_values("fix_index", kind="stable")
        cols = []
        for c in columns:
            if c in df.columns:
                cols.append(df[c].to_numpy(dtype=float))
            elif c == "duration" and not require_duration:
                cols.append(np.full(len(df), np.nan))
            else:
                raise ValueError(f"{name}: fixation table has no column {c!r}")
        arr = np.column_stack(cols) if cols else np.empty((len(df), 0))
        arr = arr.reshape(len(df), want)
    else:
        arr = np.asarray(scanpath, dtype=float)
        if arr.ndim == 1 and arr.size == 0:
            arr = arr.reshape(0, want)
        if arr.ndim != 2 or arr.shape[1] not in (2, 3):
            raise ValueError(
                f"{name}: expected an (n, 2) [x, y] or (n, 3) [x, y, duration] array, got shape {arr.shape}"
            )
        if arr.shape[1] < want:
            if require_duration:
                raise ValueError(f"{name}: a duration column is needed, got shape {arr.shape}")
            arr = np.column_stack([arr, np.full(len(arr), np.nan)])
        arr = arr[:, :want]
    bad = ~np.isfinite(arr[:, :2]).all(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise ValueError(
            f"{name}: non-finite x/y at fixation(s) {idx[:10].tolist()}"
            + (" ..." if len(idx) > 10 else "")
        )
    return np.ascontiguousarray(arr)


def check_pairs(pairs, n_scanpaths: int) -> np.ndarray:
    """Validate an ``(n_pairs, 2)`` array of scanpath indices."""
    p = np.asarray(pairs)
    if p.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n_pairs, 2), got {p.shape}")
    if not np.issubdtype(p.dtype, np.integer):
        raise ValueError(f"pairs must be integer indices, got dtype {p.dtype}")
    if (p < 0).any() or (p >= n_scanpaths).any():
        raise ValueError(f"pairs index outside 0..{n_scanpaths - 1}")
    return p.astype(np.int64, copy=False)


def chunk_by_size(rows: np.ndarray, cols: np.ndarray, budget: int = 1 << 21):
    """Split pair indices into chunks of similar grid size.

    Parameters
    ----------
    rows, cols : numpy.ndarray
        Grid height and width of each pair's dynamic programme.
    budget : int
        Largest number of grid cells (padded) per chunk.

    Yields
    ------
    numpy.ndarray
        Indices (into ``rows``) of one chunk; a chunk's grids are padded to its
        largest height and width.
    """
    n = len(rows)
    if n == 0:
        return
    big = np.maximum(rows, cols)
    small = np.minimum(rows, cols)
    order = np.lexsort((small, big))
    big_sorted = big[order]
    starts = np.flatnonzero(np.r_[True, big_sorted[1:] != big_sorted[:-1]])
    ends = np.r_[starts[1:], n]
    for s, e in zip(starts, ends):
        b = int(big_sorted[s])
        per = max(1, budget // max(1, b * b))
        for c in range(s, e, per):
            yield order[c : min(e, c + per)]


@lru_cache(maxsize=512)
def _diagonals(n_rows: int, n_cols: int, first: int) -> tuple:
    """Flat indices of the interior cells of an ``(n_rows, n_cols)`` grid, per anti-diagonal.

    Interior cells are those with row >= first and col >= first. For each
    anti-diagonal (row + col = k, increasing k) returns ``(idx, up, left, diag)``,
    flat indices of the cells and of their three predecessors.
    """
    out = []
    for k in range(2 * first, n_rows + n_cols - 1):
        i = np.arange(max(first, k - n_cols + 1), min(k - first, n_rows - 1) + 1)
        if i.size == 0:
            continue
        j = k - i
        idx = i * n_cols + j
        out.append((idx, idx - n_cols, idx - 1, idx - n_cols - 1))
    return tuple(out)


def wavefront(
    grid: np.ndarray,
    extra: np.ndarray | None,
    combine: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None], np.ndarray],
    first: int = 1,
) -> np.ndarray:
    """Fill a batch of dynamic-programming grids one anti-diagonal at a time.

    Parameters
    ----------
    grid : numpy.ndarray
        ``(n_rows, n_cols, batch)`` array; row/column ``< first`` hold the boundary
        values and are not changed. The layout puts the batch last so that the
        cells of one anti-diagonal are read as contiguous rows.
    extra : numpy.ndarray or None
        ``(n_rows, n_cols, batch)`` per-cell term handed to ``combine``.
    combine : callable
        ``combine(up, left, diag, extra) -> values`` with ``(n_cells, batch)``
        arrays: the values of cell ``(i-1, j)``, ``(i, j-1)``, ``(i-1, j-1)`` and the
        cell's own term. It must apply the same floating-point operations as the
        scalar recurrence it replaces so that results are bit-identical.
    first : int
        Index of the first interior row/column (1 for grids with a boundary row and
        column).

    Returns
    -------
    numpy.ndarray
        ``grid``, filled in place.
    """
    n_rows, n_cols, batch = grid.shape
    flat = grid.reshape(n_rows * n_cols, batch)
    ex = None if extra is None else extra.reshape(n_rows * n_cols, batch)
    for idx, up, left, diag in _diagonals(n_rows, n_cols, first):
        flat[idx] = combine(flat[up], flat[left], flat[diag], None if ex is None else ex[idx])
    return grid


def gather_padded(values: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, width: int, fill=0.0):
    """Gather variable-length segments of a flat array into a padded ``(width, n)`` array.

    Parameters
    ----------
    values : numpy.ndarray
        Flat array (or ``(total, k)``) holding all segments back to back.
    offsets, lengths : numpy.ndarray
        Start and length of each segment.
    width : int
        Padded length (>= max(lengths)).
    fill : scalar
        Value of the padding.

    Returns
    -------
    out : numpy.ndarray
        ``(width, n)`` (or ``(width, n, k)``), element ``[t, s]`` = ``values[offsets[s] + t]``.
    mask : numpy.ndarray
        ``(width, n)`` bool, True where real.
    """
    t = np.arange(width)[:, None]
    mask = t < lengths[None, :]
    idx = np.where(mask, offsets[None, :] + t, 0)
    if len(values) == 0:
        shape = (width, len(offsets)) + values.shape[1:]
        return np.full(shape, fill, dtype=values.dtype), mask
    out = values[idx]
    out[~mask] = fill
    return out, mask


def median_rows(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Median of the first ``lengths[b]`` entries of each column ``b`` of ``values``.

    Same arithmetic as :func:`numpy.median` (the mean of the two middle values for
    an even count; NaN if any counted entry is NaN).

    Parameters
    ----------
    values : numpy.ndarray
        ``(width, batch)``.
    lengths : numpy.ndarray
        ``(batch,)`` number of real entries per column, >= 1.

    Returns
    -------
    numpy.ndarray
        ``(batch,)``.
    """
    width, batch = values.shape
    real = np.arange(width)[:, None] < lengths[None, :]
    has_nan = (np.isnan(values) & real).any(axis=0)
    v = np.where(real, values, np.inf)
    v = np.where(np.isnan(v), np.inf, v)
    v.sort(axis=0)
    cols = np.arange(batch)
    lo = v[(lengths - 1) // 2, cols]
    hi = v[lengths // 2, cols]
    med = np.where(lengths % 2 == 1, lo, (lo + hi) / 2.0)
    med[has_nan] = np.nan
    return med
