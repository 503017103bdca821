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
        The rows of that scanpath, in fixation order (a copy; the input table is
        not modified). The original index labels are kept.

    Notes
    -----
    Scanpaths come in the sorted order of their keys (stimulus, then subject,
    then trial); keys holding NaN come last. Rows with equal ``fix_index`` keep
    their table order.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"stimulus": ["b", "a", "a"], "subject": 1, "trial": 0,
    ...                    "fix_index": [0, 1, 0], "x": [1.0, 2.0, 3.0], "y": 0.0})
    >>> [(key, sp["x"].tolist()) for key, sp in iter_scanpaths(df)]
    [(('a', 1, 0), [3.0, 2.0]), (('b', 1, 0), [1.0])]
    """
    missing = [c for c in list(by) + ["fix_index"] if c not in fixations.columns]
    if missing:
        raise FixationTableError(f"iter_scanpaths: missing column(s) {missing}")
    for key, group in fixations.groupby(list(by), sort=True, dropna=False, observed=True):
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
    return int(fixations.groupby(list(by), dropna=False, observed=True).ngroups)


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
        One ``(n_fixations, len(columns))`` array per scanpath, in fixation order,
        scanpaths in the order of :func:`iter_scanpaths`.
    keys : pandas.DataFrame
        One row per scanpath with the ``by`` columns (their dtypes kept), aligned
        with ``arrays``.
    """
    columns, by = list(columns), list(by)
    missing = [c for c in columns + by + ["fix_index"] if c not in fixations.columns]
    if missing:
        raise FixationTableError(f"to_arrays: missing column(s) {missing}")
    if len(fixations) == 0:
        return [], pd.DataFrame({c: fixations[c].iloc[:0] for c in by}, columns=by)
    # One stable sort by (scanpath, fix_index) and a split: the same order as
    # iter_scanpaths, without a Python loop over groups.
    grouped = fixations.groupby(by, sort=True, dropna=False, observed=True)
    gid = grouped.ngroup().to_numpy()
    fi = fixations["fix_index"].to_numpy()
    order = np.lexsort((np.arange(len(gid)), fi, gid))
    try:
        values = fixations[columns].to_numpy(dtype=float)[order]
    except (TypeError, ValueError) as exc:
        raise FixationTableError(f"to_arrays: columns {columns} must be numeric ({exc})") from None
    counts = np.bincount(gid, minlength=grouped.ngroups)
    arrays = np.split(values, np.cumsum(counts)[:-1])
    firsts = np.asarray(order)[np.concatenate([[0], np.cumsum(counts)[:-1]])]
    keys = fixations[by].iloc[firsts].reset_index(drop=True)
    return arrays, keys


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
        Names of the array columns. Columns of the schema that are absent are
        filled: ``x``, ``y``, ``t_start``, ``duration`` with NaN, and ``subject``
        and ``trial`` (when not among ``by``) with 0.
    by : sequence of str
        Scanpath key columns. With a DataFrame of keys the columns are taken by
        name and keep their dtype.

    Returns
    -------
    pandas.DataFrame
        A fixation table with ``fix_index`` 0..n-1 per scanpath, rows in the order
        of ``arrays``, columns in the canonical order followed by any others.

    Examples
    --------
    >>> import numpy as np
    >>> df = from_arrays([np.array([[1.0, 2.0, 200.0], [3.0, 4.0, 150.0]])], [("a.jpg", 1, 0)])
    >>> df[["stimulus", "subject", "fix_index", "x", "duration"]].to_numpy().tolist()
    [['a.jpg', 1, 0, 1.0, 200.0], ['a.jpg', 1, 1, 3.0, 150.0]]
    """
    by, columns = list(by), list(columns)
    clash = [c for c in columns if c in by or c == "fix_index"]
    if clash:
        raise FixationTableError(
            f"from_arrays: array column(s) {clash} clash with the key columns {by} or fix_index"
        )
    if isinstance(keys, pd.DataFrame):
        missing = [c for c in by if c not in keys.columns]
        if missing:
            raise FixationTableError(f"from_arrays: keys lack column(s) {missing}")
        # Select by name (the keys' column order may differ from ``by``) and keep
        # each column's own dtype (to_numpy would upcast a mix of int and float).
        key_cols = {c: keys[c].reset_index(drop=True) for c in by}
        n_keys = len(keys)
    else:
        key_rows = [tuple(k) if isinstance(k, (tuple, list)) else (k,) for k in keys]
        bad = [i for i, k in enumerate(key_rows) if len(k) != len(by)]
        if bad:
            raise FixationTableError(
                f"from_arrays: key {bad[0]} is {key_rows[bad[0]]!r}, expected {len(by)} values for {by}"
            )
        key_cols = {c: pd.Series([k[j] for k in key_rows]) for j, c in enumerate(by)}
        n_keys = len(key_rows)
    if n_keys != len(arrays):
        raise FixationTableError(f"from_arrays: got {len(arrays)} arrays but {n_keys} keys")
    blocks = []
    for i, a in enumerate(arrays):
        a = np.asarray(a, dtype=float)
        if a.ndim == 1 and a.size == 0:
            a = a.reshape(0, len(columns))
        if a.ndim != 2 or a.shape[1] != len(columns):
            raise FixationTableError(
                f"from_arrays: array {i} has shape {a.shape}, expected (n, {len(columns)}) "
                f"for columns {columns}"
            )
        blocks.append(a)
    lengths = np.array([len(a) for a in blocks], dtype=np.int64)
    values = np.concatenate(blocks) if blocks else np.empty((0, len(columns)))
    out = pd.DataFrame(values, columns=columns)
    for c in by:
        out[c] = key_cols[c].repeat(lengths).reset_index(drop=True)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else np.empty(0, np.int64)
    out["fix_index"] = np.arange(len(values), dtype=np.int64) - np.repeat(starts, lengths)
    for c in FIXATION_COLUMNS:
        if c not in out.columns:
            out[c] = 0 if c in ("subject", "trial") else np.nan
    rest = [c for c in out.columns if c not in FIXATION_COLUMNS]
    return out[list(FIXATION_COLUMNS) + rest]
