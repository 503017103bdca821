"""Validation of fixation and stimulus tables.

Validators never modify what they are given: they return the very same object,
or raise :class:`~gazemodels.errors.FixationTableError` naming the offending rows
and the problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS, SCANPATH_KEYS, STIMULUS_COLUMNS
from gazemodels.errors import FixationTableError

_MAX_LISTED = 8


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def _py(value):
    """A numpy scalar as the plain Python value, so that messages read ``3``, not ``np.int64(3)``."""
    return value.item() if isinstance(value, np.generic) else value


def _list_rows(df: pd.DataFrame, mask: np.ndarray, cols: Iterable[str]) -> str:
    """Describe the first offending rows as 'row <index> (stimulus=..., ...)'."""
    bad = df.loc[mask]
    parts = []
    for idx, row in bad.head(_MAX_LISTED).iterrows():
        desc = ", ".join(f"{c}={_py(row[c])!r}" for c in cols if c in df.columns)
        parts.append(f"row {_py(idx)!r} ({desc})")
    more = len(bad) - _MAX_LISTED
    text = "; ".join(parts)
    if more > 0:
        text += f"; and {more} more"
    return text


def validate_fixations(
    fixations: pd.DataFrame,
    stimuli: pd.DataFrame | None = None,
    *,
    allow_offscreen: bool = False,
    require_duration: bool = False,
    source: str | None = None,
) -> pd.DataFrame:
    """Check that a fixation table follows the documented schema.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table with the columns of :data:`gazemodels.data.schema.FIXATION_COLUMNS`.
    stimuli : pandas.DataFrame, optional
        Stimulus table with ``stimulus``, ``width`` and ``height`` (px). When given,
        every fixation must refer to a known stimulus and lie on it
        (``0 <= x <= width``, ``0 <= y <= height``).
    allow_offscreen : bool, default False
        Keep fixations that lie outside the stimulus. Real eye trackers record
        such fixations; set this to accept them knowingly.
    require_duration : bool, default False
        Also reject NaN durations (by default NaN means "unknown", as the schema allows).
    source : str, optional
        Name of the file or dataset the table came from, used in error messages.

    Returns
    -------
    pandas.DataFrame
        The same object that was passed in, unchanged.

    Raises
    ------
    FixationTableError
        If a required column is missing or duplicated, a numeric column is not
        numeric, a coordinate is NaN or infinite, a duration is negative or
        infinite, ``fix_index`` is not ``0, 1, ..., n-1`` within each scanpath
        (gaps or duplicates), or, with ``stimuli``, a fixation refers to an
        unknown stimulus or lies off its stimulus. The message names the
        offending rows (by index label) or scanpaths.

    Notes
    -----
    Checks run in this order and the first failing one raises: columns, dtypes,
    coordinates, durations, ``t_start``, ``fix_index``, stimuli.
    ``t_start`` and ``duration`` may be NaN (unknown). Off-stimulus means
    ``x < 0``, ``y < 0``, ``x > width`` or ``y > height``: coordinates on the
    border are on the stimulus.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"stimulus": ["a.jpg"] * 2, "subject": 1, "trial": 0,
    ...                    "fix_index": [0, 1], "x": [10.0, 20.0], "y": [5.0, 6.0],
    ...                    "t_start": [0.0, 250.0], "duration": [200.0, 180.0]})
    >>> validate_fixations(df) is df
    True
    """
    where = _where(source)
    if not isinstance(fixations, pd.DataFrame):
        raise FixationTableError(
            f"{where}expected a pandas DataFrame, got {type(fixations).__name__}"
        )
    missing = [c for c in FIXATION_COLUMNS if c not in fixations.columns]
    if missing:
        raise FixationTableError(
            f"{where}fixation table is missing required column(s) {missing}; "
            f"it has {list(fixations.columns)}"
        )
    dup_cols = sorted({str(c) for c in fixations.columns[fixations.columns.duplicated()]})
    if dup_cols:
        raise FixationTableError(f"{where}fixation table has duplicated column name(s) {dup_cols}")
    ident = list(SCANPATH_KEYS) + ["fix_index", "x", "y"]

    for col in ("x", "y", "t_start", "duration", "fix_index"):
        series = fixations[col]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if not (numeric or series.isna().all()):
            raise FixationTableError(
                f"{where}column {col!r} must be numeric, got dtype {series.dtype}"
            )

    xy = fixations[["x", "y"]].to_numpy(dtype=float)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise FixationTableError(
            f"{where}{int(bad.sum())} fixation(s) have NaN or infinite coordinates: "
            + _list_rows(fixations, bad, ident)
        )

    dur = fixations["duration"].to_numpy(dtype=float)
    bad = dur < 0
    if bad.any():
        raise FixationTableError(
            f"{where}{int(bad.sum())} fixation(s) have negative duration: "
            + _list_rows(fixations, bad, ident + ["duration"])
        )
    bad = np.isinf(dur)
    if require_duration:
        bad |= np.isnan(dur)
    if bad.any():
        raise FixationTableError(
            f"{where}{int(bad.sum())} fixation(s) have a missing or infinite duration: "
            + _list_rows(fixations, bad, ident + ["duration"])
        )
    t0 = fixations["t_start"].to_numpy(dtype=float)
    bad = np.isinf(t0)
    if bad.any():
        raise FixationTableError(
            f"{where}{int(bad.sum())} fixation(s) have an infinite t_start: "
            + _list_rows(fixations, bad, ident + ["t_start"])
        )

    _check_fix_index(fixations, where)

    if stimuli is not None:
        _check_on_stimulus(fixations, stimuli, allow_offscreen, where, ident)
    return fixations


def _check_fix_index(fixations: pd.DataFrame, where: str) -> None:
    fi = fixations["fix_index"].to_numpy(dtype=float)
    bad = ~np.isfinite(fi) | (fi != np.round(fi)) | (fi < 0)
    if bad.any():
        raise FixationTableError(
            f"{where}fix_index must be a non-negative integer: "
            + _list_rows(fixations, bad, list(SCANPATH_KEYS) + ["fix_index"])
        )
    if len(fixations) == 0:
        return
    keys = list(SCANPATH_KEYS)
    # Group ids instead of group labels: labels holding NaN cannot be looked up again.
    gid = fixations.groupby(keys, sort=False, dropna=False, observed=True).ngroup().to_numpy()
    n_groups = int(gid.max()) + 1
    count = np.bincount(gid, minlength=n_groups)
    fmin = np.full(n_groups, np.inf)
    fmax = np.full(n_groups, -np.inf)
    np.minimum.at(fmin, gid, fi)
    np.maximum.at(fmax, gid, fi)
    order = np.lexsort((fi, gid))
    same = (gid[order][1:] == gid[order][:-1]) & (fi[order][1:] == fi[order][:-1])
    has_dup = np.zeros(n_groups, dtype=bool)
    has_dup[gid[order][1:][same]] = True
    ok = (fmin == 0) & (fmax == count - 1) & ~has_dup
    if ok.all():
        return
    offenders = np.flatnonzero(~ok)
    listed = []
    for g in offenders[:_MAX_LISTED]:
        rows = np.flatnonzero(gid == g)
        first = fixations.iloc[rows[0]]
        ident = {k: _py(first[k]) for k in keys}
        idx = sorted(int(v) for v in fi[rows])
        present = set(idx)
        dups = sorted(v for v, n in Counter(idx).items() if n > 1)
        gaps = [v for v in range(idx[-1] + 1) if v not in present]
        problems = []
        if dups:
            problems.append(f"duplicate fix_index {dups[:8]}")
        if gaps:
            problems.append(f"missing fix_index {gaps[:8]}" + (" ..." if len(gaps) > 8 else ""))
        shown = idx if len(idx) <= 12 else idx[:12] + ["..."]
        labels = [_py(v) for v in fixations.index[rows[:_MAX_LISTED]]]
        listed.append(
            f"scanpath {ident} (rows {labels}{' ...' if len(rows) > _MAX_LISTED else ''}): "
            + ", ".join(problems)
            + f"; has fix_index {shown}"
        )
    more = len(offenders) - _MAX_LISTED
    raise FixationTableError(
        f"{where}{len(offenders)} scanpath(s) do not have contiguous fix_index 0..n-1 "
        "(duplicates or gaps): " + "; ".join(listed) + (f"; and {more} more" if more > 0 else "")
    )


def _check_on_stimulus(fixations, stimuli, allow_offscreen, where, ident) -> None:
    if not isinstance(stimuli, pd.DataFrame):
        raise FixationTableError(
            f"{where}stimuli must be a pandas DataFrame, got {type(stimuli).__name__}"
        )
    need = [c for c in ("stimulus", "width", "height") if c not in stimuli.columns]
    if need:
        raise FixationTableError(f"{where}stimulus table is missing column(s) {need}")
    sizes = stimuli[["stimulus", "width", "height"]].drop_duplicates()
    conflict = sizes["stimulus"].duplicated(keep=False).to_numpy()
    if conflict.any():
        raise FixationTableError(
            f"{where}stimulus table gives different sizes for the same stimulus: "
            + _list_rows(sizes, conflict, ["stimulus", "width", "height"])
        )
    sizes = sizes.set_index("stimulus")
    known = fixations["stimulus"].isin(sizes.index).to_numpy()
    if not known.all():
        unknown = [_py(v) for v in pd.unique(fixations.loc[~known, "stimulus"])]
        raise FixationTableError(
            f"{where}{int((~known).sum())} fixation(s) refer to {len(unknown)} stimulus id(s) "
            f"absent from the stimulus table ({unknown[:_MAX_LISTED]}"
            f"{' ...' if len(unknown) > _MAX_LISTED else ''}): "
            + _list_rows(fixations, ~known, ident)
        )
    if allow_offscreen:
        return
    w = pd.to_numeric(fixations["stimulus"].map(sizes["width"]), errors="coerce").to_numpy(dtype=float)
    h = pd.to_numeric(fixations["stimulus"].map(sizes["height"]), errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(w) & np.isfinite(h) & (w > 0) & (h > 0))
    if bad.any():
        unsized = [_py(v) for v in pd.unique(fixations.loc[bad, "stimulus"])]
        raise FixationTableError(
            f"{where}stimulus table has no positive finite width/height for stimulus id(s) "
            f"{unsized[:_MAX_LISTED]}, so fixations on them cannot be checked: "
            + _list_rows(fixations, bad, ident)
        )
    x = fixations["x"].to_numpy(dtype=float)
    y = fixations["y"].to_numpy(dtype=float)
    bad = (x < 0) | (y < 0) | (x > w) | (y > h)
    if bad.any():
        raise FixationTableError(
            f"{where}{int(bad.sum())} fixation(s) lie off their stimulus "
            "(0 <= x <= width, 0 <= y <= height; "
            "pass allow_offscreen=True to keep them knowingly): "
            + _list_rows(fixations, bad, ident)
        )


def validate_stimuli(stimuli: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check that a stimulus table follows the documented schema.

    Parameters
    ----------
    stimuli : pandas.DataFrame
        Table with the columns of :data:`gazemodels.data.schema.STIMULUS_COLUMNS`.
    source : str, optional
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        The same object, unchanged.

    Raises
    ------
    FixationTableError
        If a column is missing, a stimulus is listed twice, or a size or
        ``px_per_degree`` is not a positive finite number.
    """
    where = _where(source)
    missing = [c for c in STIMULUS_COLUMNS if c not in stimuli.columns]
    if missing:
        raise FixationTableError(
            f"{where}stimulus table is missing required column(s) {missing}; "
            f"it has {list(stimuli.columns)}"
        )
    dup = stimuli["stimulus"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise FixationTableError(
            f"{where}stimuli listed more than once: " + _list_rows(stimuli, dup, ["stimulus"])
        )
    for col in ("width", "height", "px_per_degree"):
        v = pd.to_numeric(stimuli[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            raise FixationTableError(
                f"{where}{col} must be a positive number: "
                + _list_rows(stimuli, bad, ["stimulus", col])
            )
    return stimuli
