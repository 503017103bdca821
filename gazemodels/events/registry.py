"""Registry of fixation detectors and the common driver :func:`detect_fixations`.

A detector is a function registered with :func:`register_detector` that finds
fixations in **one contiguous stretch of valid samples**::

    @register_detector("name")
    def detector(t, x, y, *, period_ms, px_per_degree, **params) -> (starts, ends)

``t`` (ms), ``x``, ``y`` (px) are float arrays without NaN and without gaps;
``starts`` and ``ends`` are integer arrays of the first and last sample (inclusive)
of each fixation, in order and not overlapping. :func:`detect_fixations` does the
rest for every detector: input checks, one scanpath per (stimulus, subject, trial)
group, splitting at missing samples, and the output table.

Missing samples
---------------
A sample with NaN ``x`` or ``y`` (blink, track loss) **ends** any fixation in
progress; the next fixation can only start after it. A time gap longer than 1.5
sample periods (samples not recorded) is treated the same way. Fixations therefore
never span missing data, and the blink time is never counted in a duration.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS, SCANPATH_KEYS

Detector = Callable[..., tuple[np.ndarray, np.ndarray]]
_DETECTORS: dict[str, Detector] = {}

GAP_FACTOR = 1.5
"""A time step longer than this many sample periods is a gap in the recording."""

_KEY_DEFAULTS = {"stimulus": "", "subject": 0, "trial": 0}


def register_detector(name: str) -> Callable[[Detector], Detector]:
    """Register a fixation detector under ``name``.

    Parameters
    ----------
    name : str
        Name used as ``method=`` in :func:`detect_fixations`.

    Returns
    -------
    callable
        Decorator returning the detector unchanged.
    """

    def deco(fn: Detector) -> Detector:
        if name in _DETECTORS:
            raise ValueError(f"fixation detector {name!r} is registered twice")
        _DETECTORS[name] = fn
        return fn

    return deco


def list_detectors() -> list[str]:
    """Names of the registered detectors, sorted.

    Returns
    -------
    list of str
    """
    return sorted(_DETECTORS)


def get_detector(name: str) -> Detector:
    """The detector registered under ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    callable
    """
    try:
        return _DETECTORS[name]
    except KeyError:
        raise KeyError(f"unknown fixation detector {name!r}; known: {list_detectors()}") from None


def _check_samples(samples: pd.DataFrame) -> None:
    if not isinstance(samples, pd.DataFrame):
        raise TypeError(f"samples must be a pandas DataFrame with time, x, y; got {type(samples).__name__}")
    missing = [c for c in ("time", "x", "y") if c not in samples.columns]
    if missing:
        raise ValueError(
            f"samples lack column(s) {missing} (need time in ms, x and y in px); "
            f"they have {list(samples.columns)}"
        )


def _period(t: np.ndarray, sampling_rate: float | None) -> float:
    if sampling_rate is not None:
        if not np.isfinite(sampling_rate) or sampling_rate <= 0:
            raise ValueError(f"sampling_rate must be a positive number of Hz, got {sampling_rate!r}")
        return 1000.0 / float(sampling_rate)
    if len(t) < 2:
        raise ValueError("cannot infer the sampling rate from fewer than 2 samples; pass sampling_rate")
    return float(np.median(np.diff(t)))


def segments(t: np.ndarray, x: np.ndarray, y: np.ndarray, period_ms: float) -> list[tuple[int, int]]:
    """Contiguous stretches of valid samples, as ``(first, last + 1)`` index pairs.

    A stretch ends at a NaN coordinate or at a time step above
    :data:`GAP_FACTOR` sample periods.

    Parameters
    ----------
    t, x, y : numpy.ndarray
        Times (ms) and coordinates.
    period_ms : float
        Sample period.

    Returns
    -------
    list of (int, int)
    """
    valid = np.isfinite(x) & np.isfinite(y)
    n = len(t)
    if n == 0:
        return []
    new = np.ones(n, dtype=bool)
    new[1:] = ~valid[:-1] | (np.diff(t) > GAP_FACTOR * period_ms)
    starts = np.flatnonzero(valid & new)
    stops = np.r_[np.flatnonzero(~valid | new), n]  # a stretch cannot continue at these
    ends = stops[np.searchsorted(stops, starts, side="right")]
    return [(int(a), int(b)) for a, b in zip(starts, ends)]


def detect_fixations(
    samples: pd.DataFrame,
    method: str = "idt",
    *,
    px_per_degree: float,
    sampling_rate: float | None = None,
    stimulus=None,
    subject=None,
    trial=None,
    **params,
) -> pd.DataFrame:
    """Detect fixations in raw gaze samples.

    Parameters
    ----------
    samples : pandas.DataFrame
        ``time`` (ms, strictly increasing within a scanpath), ``x``, ``y`` (px;
        NaN where the eye was not tracked). Optional ``stimulus``, ``subject``,
        ``trial`` columns split the samples into scanpaths.
    method : str, default "idt"
        A registered detector: ``"idt"`` (dispersion threshold) or ``"ivt"``
        (velocity threshold), see :func:`list_detectors`.
    px_per_degree : float
        Pixels per degree of visual angle, to turn the thresholds (in degrees and
        deg/s) into pixels.
    sampling_rate : float, optional
        In Hz; inferred from the median time step (per scanpath) when None.
    stimulus, subject, trial : optional
        Values of these columns in the output when ``samples`` has no such column
        (default ``""``, ``0``, ``0``). Giving one that ``samples`` has is an error.
    **params
        Detector parameters, e.g. ``dispersion_threshold``, ``min_duration``
        (see :func:`gazemodels.events.idt.idt` and :func:`gazemodels.events.ivt.ivt`).

    Returns
    -------
    pandas.DataFrame
        A fixation table: ``stimulus``, ``subject``, ``trial``, ``fix_index``,
        ``x``, ``y`` (centroid, px), ``t_start`` (time of the first sample, in the
        samples' time base), ``duration`` (ms, last - first sample + one period),
        and ``n_samples``.

    Raises
    ------
    KeyError
        For an unknown method.
    ValueError
        For missing columns, non-increasing times, or a non-positive
        ``px_per_degree``/``sampling_rate``; the message names the first bad row.
    """
    detector = get_detector(method)
    _check_samples(samples)
    if px_per_degree is None or not np.isfinite(px_per_degree) or px_per_degree <= 0:
        raise ValueError(f"px_per_degree must be a positive number, got {px_per_degree!r}")
    keys = [k for k in SCANPATH_KEYS if k in samples.columns]
    given = {"stimulus": stimulus, "subject": subject, "trial": trial}
    clash = [k for k, v in given.items() if v is not None and k in keys]
    if clash:
        raise ValueError(f"{clash} given as argument(s), but samples already have such column(s)")
    defaults = dict(_KEY_DEFAULTS)
    defaults.update({k: v for k, v in given.items() if v is not None})
    groups = samples.groupby(keys, sort=False, dropna=False) if keys else [((), samples)]
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        kv = dict(defaults)
        kv.update(zip(keys, key))
        t = g["time"].to_numpy(dtype=float)
        x = g["x"].to_numpy(dtype=float)
        y = g["y"].to_numpy(dtype=float)
        bad = ~np.isfinite(t)
        if len(t) > 1:
            bad[1:] |= np.diff(t) <= 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"samples{' of ' + str(dict(zip(keys, key))) if keys else ''}: time must be finite and "
                f"strictly increasing; row {g.index[i]!r} has time {float(t[i])!r}"
                + (f" after {float(t[i - 1])!r}" if i > 0 else "")
            )
        if len(t) == 0:
            continue
        period = _period(t, sampling_rate)
        cx = np.r_[0.0, np.cumsum(np.nan_to_num(x))]
        cy = np.r_[0.0, np.cumsum(np.nan_to_num(y))]
        fix_index = 0
        for s, e in segments(t, x, y, period):
            starts, ends = detector(t[s:e], x[s:e], y[s:e], period_ms=period,
                                    px_per_degree=float(px_per_degree), **params)
            starts = np.asarray(starts, dtype=np.int64) + s
            ends = np.asarray(ends, dtype=np.int64) + s
            if not len(starts):
                continue
            n = ends - starts + 1
            rows.append(pd.DataFrame({
                **{k: [kv[k]] * len(starts) for k in SCANPATH_KEYS},
                "fix_index": np.arange(fix_index, fix_index + len(starts), dtype=np.int64),
                "x": (cx[ends + 1] - cx[starts]) / n,
                "y": (cy[ends + 1] - cy[starts]) / n,
                "t_start": t[starts],
                "duration": t[ends] - t[starts] + period,
                "n_samples": n,
            }))
            fix_index += len(starts)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("x", "y", "t_start", "duration") else object)
                             for c in list(FIXATION_COLUMNS) + ["n_samples"]})
    return pd.concat(rows, ignore_index=True)[list(FIXATION_COLUMNS) + ["n_samples"]]
