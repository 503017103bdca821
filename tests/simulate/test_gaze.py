import numpy as np
import pandas as pd
import pytest

from gazemodels.errors import FixationTableError
from gazemodels.simulate import saccade_duration_ms, simulate_samples


def _fix(durations=(200.0, 250.0, 300.0)):
    n = len(durations)
    return pd.DataFrame(dict(stimulus="s", subject=1, trial=0, fix_index=range(n),
                             x=[100.0, 400.0, 420.0][:n], y=[100.0, 300.0, 100.0][:n],
                             t_start=np.nan, duration=list(durations)))


def test_main_sequence_values():
    # Carpenter 1988: 2.2 ms/deg * A + 21 ms
    assert saccade_duration_ms(10.0) == pytest.approx(43.0)
    assert saccade_duration_ms(0.0) == pytest.approx(21.0)


def test_fixation_onsets_and_lengths_follow_durations_and_saccades():
    samples, truth = simulate_samples(_fix(), px_per_degree=30.0, rate_hz=1000.0, seed=0)
    # fixation i lasts its duration in samples; saccade length from the main sequence
    amp1 = np.hypot(300, 200) / 30.0
    sacc1 = int(round(saccade_duration_ms(amp1)))
    assert truth["onset_sample"].tolist()[:2] == [0, 200 + sacc1]
    assert (truth["offset_sample"] - truth["onset_sample"]).tolist() == [200, 250, 300]
    assert len(samples) == truth["offset_sample"].iloc[-1]
    assert np.allclose(np.diff(samples["time"]), 1.0)


def test_fixation_centroids_equal_the_true_positions_up_to_noise():
    samples, truth = simulate_samples(_fix(), px_per_degree=30.0, noise_deg=0.05, seed=3)
    for _, row in truth.iterrows():
        seg = samples.iloc[int(row.onset_sample):int(row.offset_sample)]
        # white noise of 1.5 px over >= 200 samples: centroid within 0.5 px
        assert abs(seg["x"].mean() - row.x) < 0.5
        assert abs(seg["y"].mean() - row.y) < 0.5
        assert seg["x"].std() == pytest.approx(0.05 * 30.0, rel=0.25)


def test_saccade_peak_velocity_is_physiological():
    samples, _ = simulate_samples(_fix(), px_per_degree=30.0, noise_deg=0.0, drift_deg_per_s=0.0, seed=0)
    v = np.hypot(np.diff(samples.x), np.diff(samples.y)) * 1000.0 / 30.0  # deg/s
    # min-jerk peak velocity = 1.875 A / D; for A = 12 deg, D = 47.4 ms: ~475 deg/s
    amp = np.hypot(300, 200) / 30.0
    expected = 1.875 * amp / (saccade_duration_ms(amp) / 1000.0)
    assert v.max() == pytest.approx(expected, rel=0.1)


def test_blinks_are_missing_samples():
    samples, _ = simulate_samples(_fix(), px_per_degree=30.0, blink_prob=1.0, seed=0)
    assert samples["x"].isna().sum() >= 2 * 120


def test_same_seed_same_samples_other_seed_other_samples():
    a, _ = simulate_samples(_fix(), px_per_degree=30.0, seed=7)
    b, _ = simulate_samples(_fix(), px_per_degree=30.0, seed=7)
    c, _ = simulate_samples(_fix(), px_per_degree=30.0, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["x"], c["x"])


def test_missing_duration_is_an_error_naming_the_row():
    with pytest.raises(FixationTableError, match="duration"):
        simulate_samples(_fix((200.0, np.nan, 100.0)), px_per_degree=30.0)
