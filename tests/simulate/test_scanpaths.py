import numpy as np
import pytest

from gazemodels.data import validate_fixations
from gazemodels.simulate import GammaModel, sample_scanpaths


def test_scanpaths_are_valid_on_screen_and_start_at_centre():
    import pandas as pd

    f = sample_scanpaths(20, 12, width=800, height=600, px_per_degree=24, seed=1)
    stim = pd.DataFrame(dict(stimulus=["synthetic"], path=[None], width=[800], height=[600],
                             px_per_degree=[24.0]))
    validate_fixations(f, stim)  # raises if anything is off-screen or malformed
    assert len(f) == 240
    first = f[f.fix_index == 0]
    assert np.allclose(first[["x", "y"]].to_numpy(), [400, 300])


def test_durations_and_amplitudes_follow_the_models():
    f = sample_scanpaths(400, 20, width=4000, height=4000, px_per_degree=24, seed=2,
                         durations=GammaModel(4.0, 50.0), amplitudes=GammaModel(2.0, 2.0))
    assert f["duration"].mean() == pytest.approx(200.0, rel=0.03)
    amps = []
    for _, sp in f.groupby("subject"):
        amps.append(np.hypot(np.diff(sp.x), np.diff(sp.y)) / 24)
    # on a very large screen almost no redraws happen: mean amplitude = 4 deg
    assert np.concatenate(amps).mean() == pytest.approx(4.0, rel=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError):
        sample_scanpaths(0, 3, width=10, height=10, px_per_degree=1)
    with pytest.raises(ValueError, match="start"):
        sample_scanpaths(1, 3, width=10, height=10, px_per_degree=1, start="corner")
