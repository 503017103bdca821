"""Raw gaze samples rendered from a known fixation table.

The generator turns a fixation table into what an eye tracker would record:
samples at a fixed rate, measurement noise and slow drift during fixations,
saccades whose duration follows the main sequence and whose position follows a
minimum-jerk profile, and optional blinks recorded as missing samples. Because
the fixations that produced the samples are known, fixation detectors can be
scored against ground truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazemodels.data.scanpaths import iter_scanpaths
from gazemodels.data.validate import validate_fixations
from gazemodels.errors import FixationTableError


def saccade_duration_ms(amplitude_deg, slope_ms_per_deg: float = 2.2, intercept_ms: float = 21.0):
    """Saccade duration from its amplitude by the linear main sequence.

    ``D = 2.2 ms/deg * A + 21 ms`` (Carpenter 1988, *Movements of the Eyes*, ch. 4).

    Parameters
    ----------
    amplitude_deg : float or array_like
        Saccade amplitude in degrees.
    slope_ms_per_deg, intercept_ms : float
        Main-sequence parameters.

    Returns
    -------
    float or numpy.ndarray
        Duration in ms.
    """
    return slope_ms_per_deg * np.asarray(amplitude_deg, dtype=float) + intercept_ms


def _min_jerk(tau: np.ndarray) -> np.ndarray:
    # Minimum-jerk position profile (Flash & Hogan 1985): s = 10t^3 - 15t^4 + 6t^5.
    return tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2)


def simulate_samples(
    fixations: pd.DataFrame,
    *,
    px_per_degree: float,
    rate_hz: float = 1000.0,
    noise_deg: float = 0.03,
    drift_deg_per_s: float = 0.1,
    blink_prob: float = 0.0,
    blink_ms: float = 120.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Render raw gaze samples from fixations, with a saccade between consecutive ones.

    Each scanpath becomes one recording. Fixation ``i`` occupies its ``duration``;
    then a saccade to fixation ``i+1`` takes the main-sequence duration of its
    amplitude. The fixation table's ``t_start`` is ignored: the onsets are derived
    from durations and saccade times, and returned in the ground truth.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table with durations (ms); validated first.
    px_per_degree : float
        Pixels per degree, to express noise and amplitudes in degrees.
    rate_hz : float, default 1000
        Sampling rate.
    noise_deg : float, default 0.03
        Standard deviation of white measurement noise per axis, in degrees
        (about the precision of a video-based tracker).
    drift_deg_per_s : float, default 0.1
        Standard deviation of the drift random walk per axis over one second.
    blink_prob : float, default 0
        Probability that a saccade is replaced by a blink, recorded as NaN samples
        lasting ``max(blink_ms, saccade duration)``.
    blink_ms : float, default 120
        Blink duration.
    seed : int, default 0
        Seed of the random generator.

    Returns
    -------
    samples : pandas.DataFrame
        ``stimulus, subject, trial, time`` (ms from recording onset), ``x``, ``y`` (px).
    truth : pandas.DataFrame
        The input fixations with ``t_start`` set to their onsets in the recording
        (ms), and ``onset_sample``/``offset_sample`` indices.

    Raises
    ------
    FixationTableError
        If a duration is missing, since the recording cannot be rendered without it.
    """
    validate_fixations(fixations, require_duration=True)
    if rate_hz <= 0 or px_per_degree <= 0:
        raise ValueError("rate_hz and px_per_degree must be positive")
    rng = np.random.default_rng(seed)
    dt = 1000.0 / rate_hz
    sample_frames, truth_frames = [], []
    for key, sp in iter_scanpaths(fixations):
        xy = sp[["x", "y"]].to_numpy(float)
        dur = sp["duration"].to_numpy(float)
        n = len(sp)
        amp_deg = np.linalg.norm(np.diff(xy, axis=0), axis=1) / px_per_degree
        sacc = saccade_duration_ms(amp_deg)
        xs, ys, onsets, offsets = [], [], [], []
        t = 0
        for i in range(n):
            k = max(1, int(round(dur[i] / dt)))
            onsets.append(t)
            # fixation: drift random walk + white noise, both in px
            step = drift_deg_per_s * px_per_degree * np.sqrt(dt / 1000.0)
            drift = np.cumsum(rng.normal(0.0, step, size=(k, 2)), axis=0)
            drift -= drift.mean(axis=0)  # keep the fixation centroid at the true position
            pts = xy[i] + drift + rng.normal(0.0, noise_deg * px_per_degree, size=(k, 2))
            xs.append(pts[:, 0])
            ys.append(pts[:, 1])
            t += k
            offsets.append(t)
            if i == n - 1:
                break
            m = max(2, int(round(sacc[i] / dt)))
            if rng.random() < blink_prob:
                m = max(m, int(round(blink_ms / dt)))
                xs.append(np.full(m, np.nan))
                ys.append(np.full(m, np.nan))
            else:
                s = _min_jerk((np.arange(1, m + 1)) / (m + 1))
                path = xy[i] + s[:, None] * (xy[i + 1] - xy[i])
                path += rng.normal(0.0, noise_deg * px_per_degree, size=(m, 2))
                xs.append(path[:, 0])
                ys.append(path[:, 1])
            t += m
        x = np.concatenate(xs)
        y = np.concatenate(ys)
        frame = pd.DataFrame({"time": np.arange(len(x)) * dt, "x": x, "y": y})
        for name, value in zip(("stimulus", "subject", "trial"), key):
            frame[name] = value
        sample_frames.append(frame)
        tr = sp.copy()
        tr["t_start"] = np.asarray(onsets, float) * dt
        tr["onset_sample"] = onsets
        tr["offset_sample"] = offsets
        truth_frames.append(tr)
    if not sample_frames:
        raise FixationTableError("simulate_samples: the fixation table is empty")
    samples = pd.concat(sample_frames, ignore_index=True)
    samples = samples[["stimulus", "subject", "trial", "time", "x", "y"]]
    return samples, pd.concat(truth_frames, ignore_index=True)
