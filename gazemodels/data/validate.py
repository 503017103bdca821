"""Validation of fixation and stimulus tables.

Validators never modify what they are given: they return the very same object,
or raise :class:`~gazemodels.errors.FixationTableError` naming the offending rows
and the problem.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS, SCANPATH_KEYS, STIMULUS_COLUMNS
from gazemodels.errors import FixationTableError

_MAX_LISTED = 8


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def _list_rows(df: pd.DataFrame, mask: np.ndarray, cols: Iterable[str]) -> str:
    """Describe the first offending rows as 'row <index> (stimulus=..., ...)'."""
    bad = df.loc[mask]
    parts = []
    for idx, row in bad.head(_MAX_LISTED).iterrows():
        desc = ", ".join(f"{c}={row[c]!r}" for c in cols if c in df.columns)
        parts.append(f"row {idx!r} ({desc})")
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
        If a required column is missing, a coordinate is NaN or infinite, a fixation
        lies off its stimulus, a duration is negative, or ``fix_index`` is not
        ``0, 1, ..., n-1`` within each scanpath. The message names the offending rows.
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
    ident = list(SCANPATH_KEYS) + ["fix_index", "x", "y"]

    for col in ("x", "y", "t_start", "duration", "fix_index"):
        if not (pd.api.types.is_numeric_dtype(fixations[col]) or fixations[col].isna().all()):
            raise FixationTableError(
                f"{where}column {col!r} must be numeric, got dtype {fixations[col].dtype}"
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
    grouped = fixations.groupby(keys, sort=False, dropna=False)["fix_index"]
    stats = grouped.agg(["min", "max", "count", "nunique"])
    ok = (stats["min"] == 0) & (stats["max"] == stats["count"] - 1) & (stats["nunique"] == stats["count"])
    if not ok.all():
        offenders = stats.loc[~ok]
        listed = []
        for key, row in offenders.head(_MAX_LISTED).iterrows():
            idx = sorted(fixations.loc[grouped.groups[key], "fix_index"].tolist())
            shown = idx if len(idx) <= 12 else idx[:12] + ["..."]
            listed.append(f"{dict(zip(keys, key))}: fix_index {shown}")
        more = len(offenders) - _MAX_LISTED
        raise FixationTableError(
            f"{where}{len(offenders)} scanpath(s) do not have contiguous fix_index 0..n-1 "
            "(duplicates or gaps): " + "; ".join(listed) + (f"; and {more} more" if more > 0 else "")
        )


def _check_on_stimulus(fixations, stimuli, allow_offscreen, where, ident) -> None:
    need = [c for c in ("stimulus", "width", "height") if c not in stimuli.columns]
    if need:
        raise FixationTableError(f"{where}stimulus table is missing column(s) {need}")
    sizes = stimuli.drop_duplicates("stimulus").set_index("stimulus")[["width", "height"]]
    known = fixations["stimulus"].isin(sizes.index).to_numpy()
    if not known.all():
        unknown = pd.unique(fixations.loc[~known, "stimulus"])[:_MAX_LISTED]
        raise FixationTableError(
            f"{where}{int((~known).sum())} fixation(s) refer to stimuli absent from the "
            f"stimulus table, e.g. {list(unknown)}"
        )
    if allow_offscreen:
        return
    w = fixations["stimulus"].map(sizes["width"]).to_numpy(dtype=float)
    h = fixations["stimulus"].map(sizes["height"]).to_numpy(dtype=float)
    x = fixations["x"].to_numpy(dtype=float)
    y = fixations["y"].to_numpy(dtype=float)
    bad = (x < 0) | (y < 0) | (x > w) | (y > h)
    if bad.any():
        raise FixationTableError(
            f"{where}{int(bad.sum())} fixation(s) lie off their stimulus "
            "(pass allow_offscreen=True to keep them knowingly): "
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
