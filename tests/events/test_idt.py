"""I-DT: exact recovery on hand-built traces, missing data, units, driver checks, real EFIX events."""

import numpy as np
import pandas as pd
import pytest
from conftest import dataset_dir

from gazemodels.data import validate_fixations
from gazemodels.datasets.readers import read_asc
from gazemodels.events import detect_fixations, list_detectors
from gazemodels.events.idt import DISPERSION_THRESHOLD_DEG, MIN_DURATION_MS

PPD = 30.0


def trace(fixations, rate=1000.0, gap=3, t0=0.0):
    """Samples for fixations ``(x, y, n_samples)`` joined by ``gap`` samples on the straight line.

    Returns the samples and the true fixations ``(t_start, duration, x, y)``.
    """
    dt = 1000.0 / rate
    xs, ys, truth = [], [], []
    for i, (x, y, n) in enumerate(fixations):
        truth.append((t0 + len(xs) * dt, n * dt, x, y))
        xs += [x] * n
        ys += [y] * n
        if i + 1 < len(fixations):
            nx, ny, _ = fixations[i + 1]
            for k in range(1, gap + 1):
                xs.append(x + (nx - x) * k / (gap + 1))
                ys.append(y + (ny - y) * k / (gap + 1))
    t = t0 + np.arange(len(xs)) * dt
    return pd.DataFrame({"time": t, "x": np.array(xs, float), "y": np.array(ys, float)}), truth


def check(fx, truth):
    """Detected ``(t_start, duration, x, y)`` equal the truth (to float rounding)."""
    got = fx[["t_start", "duration", "x", "y"]].to_numpy(dtype=float)
    assert got.shape == (len(truth), 4), f"{len(got)} fixations detected, {len(truth)} expected"
    np.testing.assert_allclose(got, np.asarray(truth, dtype=float), rtol=0, atol=1e-6)


def test_defaults_are_documented_values():
    assert (DISPERSION_THRESHOLD_DEG, MIN_DURATION_MS) == (1.0, 100.0)
    assert list_detectors() == ["idt", "ivt"]


@pytest.mark.parametrize("rate", [250.0, 500.0, 1000.0, 2000.0])
def test_exact_onsets_and_durations(rate):
    n = int(rate * 0.3)  # 300 ms fixations
    samples, truth = trace([(100, 100, n), (500, 400, n // 2), (900, 100, n)], rate=rate, t0=1408660.0)
    fx = detect_fixations(samples, "idt", px_per_degree=PPD)
    check(fx, truth)
    assert fx["fix_index"].tolist() == [0, 1, 2]
    assert fx["n_samples"].tolist() == [n, n // 2, n]
    assert validate_fixations(fx) is fx


def test_blink_breaks_a_fixation():
    samples, _ = trace([(300, 300, 400), (700, 300, 300)])
    samples.loc[150:249, ["x", "y"]] = np.nan  # a 100 ms blink inside the first fixation
    fx = detect_fixations(samples, "idt", px_per_degree=PPD)
    check(fx, [(0, 150, 300, 300), (250, 150, 300, 300), (403, 300, 700, 300)])
    one = samples.copy()
    one.loc[:, ["x", "y"]] = trace([(300, 300, 400), (700, 300, 300)])[0][["x", "y"]]
    one.loc[200, "x"] = np.nan  # a single lost sample also ends the fixation
    assert detect_fixations(one, "idt", px_per_degree=PPD)["duration"].tolist()[:2] == [200, 199]


def test_time_gap_breaks_a_fixation():
    samples, _ = trace([(300, 300, 400)])
    cut = samples.drop(index=range(150, 250))  # samples not recorded
    fx = detect_fixations(cut, "idt", px_per_degree=PPD)
    check(fx, [(0, 150, 300, 300), (250, 150, 300, 300)])


def test_short_fixation_dropped():
    samples, truth = trace([(100, 100, 300), (500, 500, 80), (900, 100, 300)])
    fx = detect_fixations(samples, "idt", px_per_degree=PPD)
    check(fx, [truth[0], truth[2]])
    fx = detect_fixations(samples, "idt", px_per_degree=PPD, min_duration=50)
    check(fx, truth)


def test_threshold_is_in_degrees():
    # A slow drift of 40 px in x over 400 samples: 1.33 deg at 30 px/deg, 0.8 deg at 50 px/deg.
    x = 500 + np.linspace(0, 40, 400)
    samples = pd.DataFrame({"time": np.arange(400.0), "x": x, "y": np.full(400, 300.0)})
    assert detect_fixations(samples, "idt", px_per_degree=50)["duration"].tolist() == [400]
    # At 30 px/deg the first fixation stops where the spread would exceed 30 px (after sample
    # 299, x = 29.97 px); the remaining 100 samples (9.9 px) form a second fixation.
    assert detect_fixations(samples, "idt", px_per_degree=30)["duration"].tolist() == [300, 100]
    assert detect_fixations(samples, "idt", px_per_degree=30, min_duration=101)["duration"].tolist() == [300]
    assert detect_fixations(samples, "idt", px_per_degree=30, dispersion_threshold=1.5)["duration"].tolist() == [400]


def test_noisy_trace_with_smooth_saccades():
    rng = np.random.default_rng(1)
    truth = []
    xs, ys = [], []
    pos = [(200, 200), (700, 300), (400, 800), (1100, 600)]
    for i, (x, y) in enumerate(pos):
        n = 200 + 50 * i
        truth.append((len(xs), n))
        xs += list(x + rng.normal(0, 0.03 * PPD, n))
        ys += list(y + rng.normal(0, 0.03 * PPD, n))
        if i + 1 < len(pos):  # 40 ms minimum-jerk saccade (Flash & Hogan 1985)
            tau = np.arange(1, 40) / 40
            s = tau**3 * (10 - 15 * tau + 6 * tau**2)
            xs += list(x + (pos[i + 1][0] - x) * s)
            ys += list(y + (pos[i + 1][1] - y) * s)
    samples = pd.DataFrame({"time": np.arange(len(xs), dtype=float), "x": xs, "y": ys})
    fx = detect_fixations(samples, "idt", px_per_degree=PPD)
    assert len(fx) == len(truth)
    onset_err = fx["t_start"].to_numpy() - np.array([t for t, _ in truth])
    dur_err = fx["duration"].to_numpy() - np.array([d for _, d in truth])
    # I-DT takes in the slow start and end of a minimum-jerk saccade that lie within the
    # dispersion threshold (observed onset errors 0, -7, -6, -6 ms; durations +7 .. -16 ms).
    assert np.abs(onset_err).max() <= 8 and np.abs(dur_err).max() <= 25
    np.testing.assert_allclose(fx[["x", "y"]].to_numpy(), pos, atol=1.0)


def test_scanpath_columns_split_the_samples():
    a, _ = trace([(100, 100, 200), (600, 100, 200)])
    b, _ = trace([(300, 300, 150)])
    samples = pd.concat([a.assign(stimulus="s1", subject=1, trial=0), b.assign(stimulus="s1", subject=2, trial=0)])
    fx = detect_fixations(samples, "idt", px_per_degree=PPD)
    assert fx[["subject", "fix_index"]].values.tolist() == [[1, 0], [1, 1], [2, 0]]
    assert validate_fixations(fx) is fx
    one = detect_fixations(a, "idt", px_per_degree=PPD, stimulus="img.png", subject="p1")
    assert set(one["stimulus"]) == {"img.png"} and set(one["subject"]) == {"p1"} and set(one["trial"]) == {0}
    with pytest.raises(ValueError, match="already have such column"):
        detect_fixations(samples, "idt", px_per_degree=PPD, subject=3)


def test_driver_rejects_bad_input():
    samples, _ = trace([(100, 100, 200)])
    with pytest.raises(ValueError, match=r"lack column\(s\) \['y'\]"):
        detect_fixations(samples.drop(columns="y"), "idt", px_per_degree=PPD)
    back = samples.copy()
    back.loc[50, "time"] = 10.0
    with pytest.raises(ValueError, match=r"strictly increasing; row 50 has time 10\.0 after 49\.0"):
        detect_fixations(back, "idt", px_per_degree=PPD)
    with pytest.raises(ValueError, match="px_per_degree must be a positive number"):
        detect_fixations(samples, "idt", px_per_degree=0)
    with pytest.raises(KeyError, match=r"unknown fixation detector 'idx'; known: \['idt', 'ivt'\]"):
        detect_fixations(samples, "idx", px_per_degree=PPD)
    with pytest.raises(ValueError, match="dispersion_threshold must be > 0"):
        detect_fixations(samples, "idt", px_per_degree=PPD, dispersion_threshold=-1)
    with pytest.raises(TypeError):
        detect_fixations(samples, "idt", px_per_degree=PPD, velocity_threshold=30)
    empty = detect_fixations(samples.assign(x=np.nan), "idt", px_per_degree=PPD)
    assert len(empty) == 0 and list(empty.columns[:8]) == ["stimulus", "subject", "trial", "fix_index", "x", "y",
                                                          "t_start", "duration"]


# --- real EyeLink samples against the tracker's own EFIX events -------------------------

def match(efix, det):
    """Onset difference (detected - tracker) for each tracker fixation that a detection overlaps,
    taking among the overlapping detections the one with the closest onset."""
    out = []
    d0 = det["t_start"].to_numpy(float)
    d1 = d0 + det["duration"].to_numpy(float)
    for s, e in zip(efix["t_start_tracker"], efix["t_end_tracker"] + 1):
        ov = (np.minimum(e, d1) - np.maximum(s, d0)) > 0
        if ov.any():
            diffs = d0[ov] - s
            out.append(float(diffs[np.argmin(np.abs(diffs))]))
    return np.array(out)


@pytest.mark.parametrize("eye", ["left", "right"])
def test_binocular_file_against_efix(shared_data, eye):
    rec = read_asc(dataset_dir(shared_data, "eyelink-samples") / "eyelink_binocular_example.asc")
    ppd = rec.metadata["blocks"][0]["resolution"][0]  # END ... RES 47.75 px/deg
    det = detect_fixations(rec.gaze(eye), "idt", px_per_degree=ppd, sampling_rate=rec.metadata["sampling_rate"])
    efix = rec.fixations[rec.fixations["eye"] == eye]
    assert len(det) == len(efix) == 2
    diff = match(efix, det)
    assert len(diff) == 2 and np.median(np.abs(diff)) <= 15  # observed 7-9 ms


def test_500hz_file_against_efix(shared_data):
    rec = read_asc(dataset_dir(shared_data, "eyelink-samples") / "eyelink_monocular_no_dummy_example.asc")
    # No END line, so no RES: px/deg from the tracker's own saccade (amplitude in deg).
    s = rec.saccades.dropna().iloc[0]
    ppd = np.hypot(s["x_end"] - s["x_start"], s["y_end"] - s["y_start"]) / s["amplitude"]
    assert ppd == pytest.approx(59.5, abs=0.1)
    det = detect_fixations(rec.gaze(), "idt", px_per_degree=ppd, dispersion_threshold=2.0, min_duration=60)
    efix = rec.fixations
    assert abs(len(det) - len(efix)) <= 1  # the tracker's 326 ms fixation drifts; I-DT splits it
    diff = match(efix, det)
    assert len(diff) == len(efix) and np.median(np.abs(diff)) <= 10  # observed 0 and 8 ms
    assert (det["t_start"] >= rec.samples["time"].min()).all()


@pytest.mark.parametrize("name", ["eyelink_monocular_example.asc", "eyelink_monocular_2khz_example.asc"])
def test_sparse_excerpts_never_bridge_gaps(shared_data, name):
    # These excerpts hold 16 samples with gaps of up to 96 ms: no EFIX comparison is possible,
    # but no detected fixation may span a gap.
    rec = read_asc(dataset_dir(shared_data, "eyelink-samples") / name)
    period = 1000.0 / rec.metadata["sampling_rate"]
    det = detect_fixations(rec.gaze(), "idt", px_per_degree=37.17, sampling_rate=rec.metadata["sampling_rate"],
                           min_duration=period)
    assert len(det) >= 2
    assert (det["duration"] == det["n_samples"] * period).all()
