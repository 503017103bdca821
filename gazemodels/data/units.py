"""Conversions between pixels and degrees of visual angle.

All conversions live here. ``px_per_degree`` is the number of pixels that one
degree of visual angle spans at the centre of the screen, the convention of
most eye-tracking datasets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazemodels.errors import FixationTableError


def _check_positive(name: str, value) -> float:
    """``value`` as a float, or ValueError naming ``name`` when it is not a positive finite number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


def px_per_degree(screen_width_px: float, screen_width_cm: float, distance_cm: float) -> float:
    """Pixels per degree of visual angle at the screen centre.

    One degree centred on the line of sight spans ``2 d tan(0.5 deg)`` cm on a flat
    screen at distance ``d``.

    Parameters
    ----------
    screen_width_px : float
        Horizontal resolution of the screen in pixels.
    screen_width_cm : float
        Physical width of the screen in cm.
    distance_cm : float
        Eye-to-screen distance in cm.

    Returns
    -------
    float
        Pixels per degree.

    Examples
    --------
    A 1920 px wide screen, 53 cm wide, seen from 60 cm: 1920 / 53 = 36.23 px/cm and
    one degree spans 2 * 60 * tan(0.5 deg) = 1.047 cm, so

    >>> round(px_per_degree(1920, 53.0, 60.0), 2)
    37.94
    """
    for name, v in (("screen_width_px", screen_width_px), ("screen_width_cm", screen_width_cm),
                    ("distance_cm", distance_cm)):
        _check_positive(name, v)
    cm_per_degree = 2.0 * distance_cm * np.tan(np.radians(0.5))
    return float(screen_width_px / screen_width_cm * cm_per_degree)


def px_to_deg(px, px_per_deg: float):
    """Convert a length (or offset from the screen centre) in pixels to degrees.

    Linear (small-angle) conversion with the centre value of ``px_per_deg``.

    Parameters
    ----------
    px : float or array_like
        Length in pixels.
    px_per_deg : float
        Pixels per degree.

    Returns
    -------
    float or numpy.ndarray
        Length in degrees of visual angle.
    """
    return np.asarray(px, dtype=float) / _check_positive("px_per_deg", px_per_deg)


def deg_to_px(deg, px_per_deg: float):
    """Convert degrees of visual angle to pixels; the inverse of :func:`px_to_deg`.

    Parameters
    ----------
    deg : float or array_like
        Length in degrees.
    px_per_deg : float
        Pixels per degree.

    Returns
    -------
    float or numpy.ndarray
        Length in pixels.
    """
    return np.asarray(deg, dtype=float) * _check_positive("px_per_deg", px_per_deg)


def px_to_deg_exact(offset_px, distance_px: float):
    """Exact visual angle of an offset from the screen centre on a flat screen.

    ``theta = atan(offset / distance)``, with both in pixels.

    Parameters
    ----------
    offset_px : float or array_like
        Offset from the point straight ahead of the eye, in pixels.
    distance_px : float
        Eye-to-screen distance expressed in pixels (``distance_cm * px_per_cm``).

    Returns
    -------
    float or numpy.ndarray
        Angle in degrees.
    """
    d = _check_positive("distance_px", distance_px)
    return np.degrees(np.arctan2(np.asarray(offset_px, dtype=float), d))


def deg_to_px_exact(angle_deg, distance_px: float):
    """Offset on a flat screen that an angle from the line of sight subtends; the inverse of
    :func:`px_to_deg_exact`.

    ``offset = distance * tan(theta)``, with both in pixels.

    Parameters
    ----------
    angle_deg : float or array_like
        Angle from the line of sight in degrees, within (-90, 90).
    distance_px : float
        Eye-to-screen distance in pixels.

    Returns
    -------
    float or numpy.ndarray
        Offset from the point straight ahead of the eye, in pixels.
    """
    d = _check_positive("distance_px", distance_px)
    a = np.asarray(angle_deg, dtype=float)
    if np.any(np.abs(a) >= 90):
        raise ValueError("angle_deg must lie strictly between -90 and 90 degrees")
    return d * np.tan(np.radians(a))


def add_degrees(fixations: pd.DataFrame, stimuli: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``fixations`` with ``x_deg`` and ``y_deg`` added.

    Degrees are measured from the stimulus centre, positive to the right and
    **upwards** (the usual psychophysics convention; pixel ``y`` grows downwards).

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    stimuli : pandas.DataFrame
        Stimulus table with ``stimulus``, ``width``, ``height`` and ``px_per_degree``.

    Returns
    -------
    pandas.DataFrame
        A new table; the input is not modified. ``x_deg``/``y_deg`` columns that
        the input already has are recomputed in the copy.

    Raises
    ------
    FixationTableError
        If a column is missing, a stimulus has no (or conflicting) geometry, or its
        ``px_per_degree`` is not a positive number.

    Notes
    -----
    The conversion is linear, ``(x - width / 2) / px_per_degree``, like
    :func:`px_to_deg`; use :func:`px_to_deg_exact` for the exact angle far from
    the centre.
    """
    need = [c for c in ("stimulus", "width", "height", "px_per_degree") if c not in stimuli.columns]
    if need:
        raise FixationTableError(f"add_degrees: stimulus table is missing column(s) {need}")
    need = [c for c in ("stimulus", "x", "y") if c not in fixations.columns]
    if need:
        raise FixationTableError(f"add_degrees: fixation table is missing column(s) {need}")
    geo = stimuli[["stimulus", "width", "height", "px_per_degree"]].drop_duplicates()
    conflict = geo["stimulus"].duplicated(keep=False)
    if conflict.any():
        raise FixationTableError(
            "add_degrees: stimulus table gives different geometry for stimulus id(s) "
            f"{sorted(map(str, pd.unique(geo.loc[conflict, 'stimulus'])))[:5]}"
        )
    geo = geo.set_index("stimulus")
    missing = set(pd.unique(fixations["stimulus"])) - set(geo.index)
    if missing:
        raise FixationTableError(
            f"add_degrees: {len(missing)} stimulus id(s) have no geometry in the stimulus "
            f"table, e.g. {sorted(map(str, missing))[:5]}"
        )
    ppd = fixations["stimulus"].map(geo["px_per_degree"]).to_numpy(dtype=float)
    bad = ~(np.isfinite(ppd) & (ppd > 0))
    if bad.any():
        raise FixationTableError(
            "add_degrees: px_per_degree is not a positive number for stimulus id(s) "
            f"{sorted(map(str, pd.unique(fixations.loc[bad, 'stimulus'])))[:5]}"
        )
    cx = fixations["stimulus"].map(geo["width"]).to_numpy(dtype=float) / 2.0
    cy = fixations["stimulus"].map(geo["height"]).to_numpy(dtype=float) / 2.0
    out = fixations.copy()
    out["x_deg"] = (fixations["x"].to_numpy(dtype=float) - cx) / ppd
    out["y_deg"] = (cy - fixations["y"].to_numpy(dtype=float)) / ppd
    return out
