"""Registry of scanpath-similarity metrics and the tidy batch API :func:`pairwise`.

Every metric module registers a *batch* function under a name::

    @register_metric("multimatch", columns=(...), needs=("x", "y", "duration"))
    def multimatch_batch(scanpaths, pairs, screen_size, **params):
        ...
        return values, reasons          # (n_pairs, n_columns) floats, reason per pair

so that :func:`pairwise` and the command line can look metrics up by name.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazemodels.data.schema import SCANPATH_KEYS
from gazemodels.errors import FixationTableError

__all__ = ["MetricSpec", "get_metric", "list_metrics", "pairwise", "register_metric", "split_scanpaths"]


@dataclass(frozen=True)
class MetricSpec:
    """A registered scanpath metric.

    Attributes
    ----------
    name : str
        Registry name (``"multimatch"``, ``"scanmatch"``, ...).
    batch : callable
        ``batch(scanpaths, pairs, **params) -> (values, reasons)``; ``values`` is
        ``(n_pairs, len(columns))``.
    columns : tuple of str
        Output column names.
    needs : tuple of str
        Fixation-table columns each scanpath array is built from, in order.
    per_stimulus : tuple of str
        Parameters that :func:`pairwise` accepts per stimulus (a mapping or a
        stimulus table) and hands on as one value per pair.
    per_scanpath : tuple of str
        Parameters that :func:`pairwise` fills itself with one value per scanpath:
        ``groups`` (the ``by`` group of each scanpath) and ``reference`` (True for
        scanpaths of ``against``, or for all without it).
    higher_is_better : bool
        Whether larger values mean more similar scanpaths.
    """

    name: str
    batch: Callable
    columns: tuple[str, ...]
    needs: tuple[str, ...] = ("x", "y")
    per_stimulus: tuple[str, ...] = ()
    per_scanpath: tuple[str, ...] = ()
    higher_is_better: bool = True

    @property
    def doc(self) -> str:
        """First line of the batch function's docstring."""
        return (inspect.getdoc(self.batch) or "").split("\n", 1)[0]


_REGISTRY: dict[str, MetricSpec] = {}

_CONTEXT_PARAMS = frozenset({"screen_size", "px_per_degree"})
"""Parameters describing the display rather than a metric: :func:`pairwise` hands them
to the metrics that take them and ignores them for the others."""


def register_metric(
    name: str,
    *,
    columns: Sequence[str],
    needs: Sequence[str] = ("x", "y"),
    per_stimulus: Sequence[str] = (),
    per_scanpath: Sequence[str] = (),
    higher_is_better: bool = True,
) -> Callable:
    """Decorator registering a batch metric function under ``name``.

    Parameters
    ----------
    name : str
        Registry name; lower case.
    columns : sequence of str
        Names of the values the function returns per pair.
    needs : sequence of str
        Fixation-table columns the scanpath arrays are built from.
    per_stimulus : sequence of str
        Parameters that may differ by stimulus (e.g. ``"screen_size"``).
    per_scanpath : sequence of str
        Parameters filled by :func:`pairwise` per scanpath (``groups``, ``reference``).
    higher_is_better : bool
        Direction of the metric.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.
    """

    def deco(fn: Callable) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].batch is not fn:
            raise ValueError(f"metric {name!r} is already registered")
        _REGISTRY[name] = MetricSpec(name, fn, tuple(columns), tuple(needs), tuple(per_stimulus),
                                     tuple(per_scanpath), higher_is_better)
        return fn

    return deco


def get_metric(name: str) -> MetricSpec:
    """Look a registered metric up by name (case-insensitive).

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"multimatch"``.

    Returns
    -------
    MetricSpec
        The batch function, its output columns and its needs.

    Raises
    ------
    KeyError
        With the list of known names.
    """
    key = name.strip().lower()
    if key not in _REGISTRY:
        raise KeyError(f"unknown scanpath metric {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key]


def list_metrics() -> list[str]:
    """Names of all registered scanpath metrics.

    Parameters
    ----------
    None

    Returns
    -------
    list of str
        Sorted registry names.
    """
    return sorted(_REGISTRY)


def split_scanpaths(
    fixations: pd.DataFrame,
    columns: Sequence[str],
    keys: Sequence[str] = SCANPATH_KEYS,
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Split a fixation table into one array per scanpath, sorting once.

    Faster than :func:`gazemodels.data.scanpaths.to_arrays` for many scanpaths
    (one sort of the whole table instead of one per scanpath).

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    columns : sequence of str
        Columns of the arrays. A missing ``duration`` is filled with NaN; other
        columns that are not numeric (e.g. ``object`` labels) come back as object
        arrays when they are the only column asked for.
    keys : sequence of str
        Columns identifying a scanpath.

    Returns
    -------
    arrays : list of numpy.ndarray
        One ``(n_fixations, len(columns))`` array per scanpath, in fixation order.
    index : pandas.DataFrame
        The key columns of each scanpath, aligned with ``arrays``.
    """
    missing = [c for c in list(keys) + ["fix_index"] if c not in fixations.columns]
    if missing:
        raise FixationTableError(f"pairwise: fixation table lacks column(s) {missing}")
    absent = [c for c in columns if c not in fixations.columns and c != "duration"]
    if absent:
        raise FixationTableError(f"pairwise: the metric needs column(s) {absent}, absent from the table")
    df = fixations.sort_values(list(keys) + ["fix_index"], kind="stable")
    if len(df) == 0:
        return [], pd.DataFrame(columns=list(keys))
    codes = df.groupby(list(keys), sort=False, dropna=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(df)]
    numeric = all(c in ("x", "y", "duration", "t_start") or
                  (c in df.columns and pd.api.types.is_numeric_dtype(df[c])) for c in columns)
    if numeric:
        cols = [df[c].to_numpy(dtype=float) if c in df.columns else np.full(len(df), np.nan)
                for c in columns]
        data = np.column_stack(cols)
    else:
        data = df[list(columns)].to_numpy(dtype=object)
    arrays = [data[s:e] for s, e in zip(starts, ends)]
    index = df.iloc[starts][list(keys)].reset_index(drop=True)
    return arrays, index


def _pairs_within(group_codes: np.ndarray, ordered: bool, include_self: bool) -> np.ndarray:
    """All pairs of scanpaths sharing a group code."""
    out = []
    order = np.argsort(group_codes, kind="stable")
    gc = group_codes[order]
    starts = np.flatnonzero(np.r_[True, gc[1:] != gc[:-1]]) if len(gc) else np.empty(0, int)
    ends = np.r_[starts[1:], len(gc)]
    for s, e in zip(starts, ends):
        members = order[s:e]
        n = len(members)
        if ordered:
            i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            keep = np.ones((n, n), bool) if include_self else (i != j)
        else:
            i, j = np.triu_indices(n, k=0 if include_self else 1)
            keep = np.ones(len(i), bool)
        out.append(np.column_stack([members[i[keep]], members[j[keep]]]))
    return np.concatenate(out) if out else np.empty((0, 2), dtype=np.int64)


def _per_stimulus_values(value, stim_of_pair: np.ndarray, name: str) -> np.ndarray:
    """One parameter value per pair from a scalar/tuple, a mapping or a stimulus table."""
    if isinstance(value, pd.DataFrame):
        if name == "screen_size":
            need = ("stimulus", "width", "height")
            if not all(c in value.columns for c in need):
                raise FixationTableError(
                    f"pairwise: a stimulus table for screen_size needs columns {need}"
                )
            table = value.drop_duplicates("stimulus").set_index("stimulus")
            mapping = {k: (w, h) for k, w, h in zip(table.index, table["width"], table["height"])}
        else:
            raise ValueError(f"pairwise: {name} cannot be given as a DataFrame")
        value = mapping
    if isinstance(value, Mapping):
        missing = sorted({str(s) for s in stim_of_pair if s not in value})
        if missing:
            raise FixationTableError(f"pairwise: no {name} for stimulus/stimuli {missing[:5]}")
        return np.array([value[s] for s in stim_of_pair], dtype=float)
    return np.asarray(value, dtype=float)


def _run_batch(args):
    spec_name, arrays, pairs, params = args
    spec = get_metric(spec_name)
    return spec.batch(arrays, pairs, **params)


def _compute(spec: MetricSpec, arrays: list, pairs: np.ndarray, params: dict, n_jobs: int):
    if n_jobs == 1 or len(pairs) < 2000:
        return spec.batch(arrays, pairs, **params)
    # processes: each gets a contiguous block of pairs and the scanpaths it needs (with
    # every scanpath of the groups it touches, for metrics fitted per group)
    parts = [p for p in np.array_split(np.arange(len(pairs)), n_jobs) if len(p)]
    groups = params.get("groups")
    jobs = []
    for part in parts:
        used = np.unique(pairs[part])
        if groups is not None:
            g = np.asarray(groups)
            used = np.flatnonzero(np.isin(g, g[used]))
        remap = np.full(len(arrays), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        sub_params = {}
        for k, v in params.items():
            if k in spec.per_stimulus and np.ndim(v) == 2:
                v = np.asarray(v)[part]
            elif k in spec.per_scanpath and v is not None:
                v = np.asarray(v)[used]
            sub_params[k] = v
        jobs.append((spec.name, [arrays[u] for u in used], remap[pairs[part]], sub_params))
    with ProcessPoolExecutor(max_workers=n_jobs) as ex:
        results = list(ex.map(_run_batch, jobs))
    values = np.concatenate([r[0] for r in results])
    reasons = [x for r in results for x in r[1]]
    return values, reasons


def pairwise(
    fixations: pd.DataFrame,
    metric: str | Sequence[str] = "multimatch",
    by: str | Sequence[str] | None = "stimulus",
    *,
    against: pd.DataFrame | None = None,
    ordered: bool = False,
    include_self: bool = False,
    n_jobs: int = 1,
    **params,
) -> pd.DataFrame:
    """Score pairs of scanpaths of a fixation table with registered metric(s).

    Without ``against``, every pair of scanpaths of ``fixations`` that share the
    ``by`` columns is scored (e.g. all within-image pairs of observers). With
    ``against`` (e.g. model predictions vs human scanpaths), every scanpath of
    ``fixations`` is paired with every scanpath of ``against`` that has the same
    ``by`` values.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table (see :mod:`gazemodels.data.schema`); scanpaths are identified
        by ``stimulus, subject, trial``.
    metric : str or sequence of str
        Registered metric name(s), see :func:`list_metrics`.
    by : str or sequence of str or None
        Columns whose values two scanpaths must share to be paired; ``None`` pairs
        all scanpaths.
    against : pandas.DataFrame, optional
        Second fixation table; pairs are (scanpath of ``fixations``, scanpath of
        ``against``).
    ordered : bool
        Without ``against``: score both (a, b) and (b, a) (default: a < b only).
    include_self : bool
        Without ``against``: also score each scanpath with itself.
    n_jobs : int
        Worker processes for large sets (``-1``: all cores).
    **params
        Metric parameters, e.g. ``screen_size=(1280, 1024)``, each handed to the
        metrics that take it; a parameter that no requested metric takes is an
        error, except the display parameters ``screen_size`` and ``px_per_degree``.
        A per-stimulus parameter (``screen_size``) may also be a mapping
        ``stimulus -> value`` or a stimulus table with ``width`` and ``height``
        columns.

    Returns
    -------
    pandas.DataFrame
        One row per pair: the ``by`` columns; ``subject_1, trial_1, subject_2,
        trial_2`` (and ``stimulus_1``/``stimulus_2`` when ``stimulus`` is not in
        ``by``); ``n_fix_1, n_fix_2``; one column per metric value; and ``reason``,
        which says why values are NaN (``None`` where all are defined).

    Examples
    --------
    >>> import pandas as pd
    >>> from gazemodels.metrics.scanpath import pairwise
    >>> fx = pd.DataFrame({"stimulus": "a", "subject": [1, 1, 1, 2, 2, 2], "trial": 0,
    ...                    "fix_index": [0, 1, 2] * 2, "x": [10, 200, 300, 12, 210, 290.],
    ...                    "y": [10, 50, 400, 12, 60, 380.], "t_start": 0.,
    ...                    "duration": [200, 250, 300, 210, 240, 320.]})
    >>> pairwise(fx, "multimatch", screen_size=(800, 600))[["subject_1", "subject_2", "multimatch_vector"]].round(3)
       subject_1  subject_2  multimatch_vector
    0          1          2              0.988
    """
    names = [metric] if isinstance(metric, str) else list(metric)
    specs = [get_metric(n) for n in names]
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    needs = []
    for s in specs:
        needs.extend(c for c in s.needs if c not in needs)
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1

    tables = [fixations] if against is None else [fixations, against]
    keyset = list(SCANPATH_KEYS) + [c for c in by_cols if c not in SCANPATH_KEYS]
    arrays, index = [], []
    for t in tables:
        arr, idx = split_scanpaths(t, needs, keyset)
        arrays.append(arr)
        index.append(idx)
    if against is None:
        all_arrays, idx = arrays[0], index[0]
        codes = (idx.groupby(by_cols, sort=False, dropna=False).ngroup().to_numpy()
                 if by_cols else np.zeros(len(idx), dtype=np.int64))
        pairs = _pairs_within(codes, ordered, include_self)
        idx1 = idx2 = idx
        p1, p2 = pairs[:, 0], pairs[:, 1]
    else:
        n1 = len(arrays[0])
        all_arrays = arrays[0] + arrays[1]
        both = pd.concat([index[0], index[1]], ignore_index=True)
        codes = (both.groupby(by_cols, sort=False, dropna=False).ngroup().to_numpy()
                 if by_cols else np.zeros(len(both), dtype=np.int64))
        c1, c2 = codes[:n1], codes[n1:]
        rows = []
        order2 = np.argsort(c2, kind="stable")
        sc2 = c2[order2]
        for i in range(n1):
            lo, hi = np.searchsorted(sc2, c1[i], "left"), np.searchsorted(sc2, c1[i], "right")
            js = order2[lo:hi]
            rows.append(np.column_stack([np.full(len(js), i), js + n1]))
        pairs = np.concatenate(rows) if rows else np.empty((0, 2), dtype=np.int64)
        idx1, idx2 = both, both
        p1, p2 = pairs[:, 0], pairs[:, 1]
    pairs = pairs.astype(np.int64)

    out = pd.DataFrame({c: idx1[c].to_numpy()[p1] for c in by_cols})
    for side, (ix, p) in enumerate(((idx1, p1), (idx2, p2)), start=1):
        for c in SCANPATH_KEYS:
            if c not in by_cols:
                out[f"{c}_{side}"] = ix[c].to_numpy()[p]
    lengths = np.array([len(a) for a in all_arrays], dtype=np.int64)
    out["n_fix_1"] = lengths[p1] if len(pairs) else np.empty(0, np.int64)
    out["n_fix_2"] = lengths[p2] if len(pairs) else np.empty(0, np.int64)

    stim = (idx1["stimulus"].to_numpy()[p1] if "stimulus" in idx1.columns else None)
    accepted = set()
    for spec in specs:
        accepted |= set(inspect.signature(spec.batch).parameters)
    unknown = sorted(set(params) - accepted - _CONTEXT_PARAMS)
    if unknown:
        raise TypeError(f"pairwise: parameter(s) {unknown} are not accepted by metric(s) {names}")
    n_first = len(arrays[0])
    per_scanpath = {"groups": codes.astype(np.int64),
                    "reference": (np.ones(len(all_arrays), dtype=bool) if against is None
                                  else np.arange(len(all_arrays)) >= n_first)}
    reasons_all: list = [None] * len(pairs)
    for spec in specs:
        cols_idx = [needs.index(c) for c in spec.needs]
        sub_arrays = all_arrays if cols_idx == list(range(len(needs))) else [a[:, cols_idx] for a in all_arrays]
        kw = {}
        sig = inspect.signature(spec.batch).parameters
        for k, v in params.items():
            if k not in sig:
                continue
            if k in spec.per_stimulus and (isinstance(v, (Mapping, pd.DataFrame))):
                if stim is None:
                    raise FixationTableError(f"pairwise: a per-stimulus {k} needs a 'stimulus' column")
                v = _per_stimulus_values(v, stim, k)
            kw[k] = v
        for k in spec.per_scanpath:
            if k in sig and k not in kw:
                kw[k] = per_scanpath[k]
        missing = [k for k, p in sig.items() if p.default is inspect.Parameter.empty
                   and k not in ("scanpaths", "pairs") and k not in kw]
        if missing:
            raise TypeError(f"pairwise: metric {spec.name!r} needs parameter(s) {missing}")
        values, reasons = _compute(spec, sub_arrays, pairs, kw, n_jobs)
        values = np.asarray(values, dtype=float).reshape(len(pairs), len(spec.columns))
        for k, c in enumerate(spec.columns):
            out[c] = values[:, k]
        for p, r in enumerate(reasons):
            if r is not None:
                reasons_all[p] = r if reasons_all[p] is None else f"{reasons_all[p]}; {spec.name}: {r}"
    out["reason"] = pd.Series(reasons_all, dtype=object)
    return out
