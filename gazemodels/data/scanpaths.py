"""Iteration over scanpaths and conversion to and from numpy arrays."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS, SCANPATH_KEYS
from gazemodels.errors import FixationTableError


def iter_scanpaths(
    fixations: pd.DataFrame, by: Sequence[str] = SCANPATH_KEYS
) -> Iterator[tuple[tuple, pd.DataFrame]]:
    """Iterate over scanpaths, each sorted by ``fix_index``.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    by : sequence of str, default ``("stimulus", "subject", "trial")``
        Columns identifying a scanpath.

    Yields
    ------
    key : tuple
        Values of the ``by`` columns.
    scanpath : pandas.DataFrame
        The rows of that scanpath, in fixation order (a view-like copy; the
        input table is not modified).
    """
    missing = [c for c in list(by) + ["fix_index"] if c not in fixations.columns]
    if missing:
        raise FixationTableError(f"iter_scanpaths: missing column(s) {missing}")
    for key, group in fixations.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield key, group.sort_values("fix_index", kind="stable")


def n_scanpaths(fixations: pd.DataFrame, by: Sequence[str] = SCANPATH_KEYS) -> int:
    """Number of distinct scanpaths in a fixation table.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    by : sequence of str
        Columns identifying a scanpath.

    Returns
    -------
    int
    """
    if len(fixations) == 0:
        return 0
    return int(fixations.groupby(list(by), dropna=False).ngroups)


def to_arrays(
    fixations: pd.DataFrame,
    columns: Sequence[str] = ("x", "y", "duration"),
    by: Sequence[str] = SCANPATH_KEYS,
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Split a fixation table into one float array per scanpath.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    columns : sequence of str, default ``("x", "y", "duration")``
        Columns to put in each array, in this order.
    by : sequence of str
        Columns identifying a scanpath.

    Returns
    -------
    arrays : list of numpy.ndarray
        One ``(n_fixations, len(columns))`` array per scanpath, in fixation order.
    keys : pandas.DataFrame
        One row per scanpath with the ``by`` columns, aligned with ``arrays``.
    """
    missing = [c for c in columns if c not in fixations.columns]
    if missing:
        raise FixationTableError(f"to_arrays: missing column(s) {missing}")
    arrays, keys = [], []
    for key, sp in iter_scanpaths(fixations, by):
        arrays.append(sp[list(columns)].to_numpy(dtype=float))
        keys.append(key)
    return arrays, pd.DataFrame(keys, columns=list(by))


def to_padded(
    fixations: pd.DataFrame,
    columns: Sequence[str] = ("x", "y", "duration"),
    by: Sequence[str] = SCANPATH_KEYS,
    pad_value: float = np.nan,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Stack scanpaths into one padded array, as batched metrics and models expect.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    columns : sequence of str
        Columns to put in the array.
    by : sequence of str
        Columns identifying a scanpath.
    pad_value : float, default NaN
        Value written after the end of each scanpath.

    Returns
    -------
    padded : numpy.ndarray
        ``(n_scanpaths, max_len, len(columns))``.
    lengths : numpy.ndarray
        ``(n_scanpaths,)`` number of real fixations per row.
    keys : pandas.DataFrame
        The ``by`` columns per row.
    """
    arrays, keys = to_arrays(fixations, columns, by)
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    max_len = int(lengths.max()) if len(lengths) else 0
    padded = np.full((len(arrays), max_len, len(columns)), pad_value, dtype=float)
    for i, a in enumerate(arrays):
        padded[i, : len(a)] = a
    return padded, lengths, keys


def from_arrays(
    arrays: Sequence[np.ndarray],
    keys: pd.DataFrame | Sequence[tuple],
    columns: Sequence[str] = ("x", "y", "duration"),
    by: Sequence[str] = SCANPATH_KEYS,
) -> pd.DataFrame:
    """Build a fixation table from one array per scanpath; the inverse of :func:`to_arrays`.

    Parameters
    ----------
    arrays : sequence of numpy.ndarray
        ``(n_fixations, len(columns))`` arrays.
    keys : pandas.DataFrame or sequence of tuple
        The ``by`` values of each scanpath.
    columns : sequence of str
        Names of the array columns. Columns of the schema that are absent
        (``t_start``, ``duration``) are filled with NaN.
    by : sequence of str
        Scanpath key columns.

    Returns
    -------
    pandas.DataFrame
        A fixation table with ``fix_index`` 0..n-1 per scanpath.
    """
    key_rows = keys.to_numpy().tolist() if isinstance(keys, pd.DataFrame) else [tuple(k) for k in keys]
    if len(key_rows) != len(arrays):
        raise FixationTableError(
            f"from_arrays: got {len(arrays)} arrays but {len(key_rows)} keys"
        )
    frames = []
    for i, (a, key) in enumerate(zip(arrays, key_rows)):
        a = np.asarray(a, dtype=float)
        if a.ndim != 2 or a.shape[1] != len(columns):
            raise FixationTableError(
                f"from_arrays: array {i} has shape {a.shape}, expected (n, {len(columns)}) "
                f"for columns {list(columns)}"
            )
        f = pd.DataFrame(a, columns=list(columns))
        for name, value in zip(by, key):
            f[name] = value
        f["fix_index"] = np.arange(len(a), dtype=np.int64)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns) + list(by) + ["fix_index"])
    for c in FIXATION_COLUMNS:
        if c not in out.columns:
            out[c] = 0 if c in ("subject", "trial") else np.nan
    rest = [c for c in out.columns if c not in FIXATION_COLUMNS]
    return out[list(FIXATION_COLUMNS) + rest]
