"""The fixation-duration model: maximum-likelihood gamma fit, used by every model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazemodels.models import get_model
from gazemodels.models.scanpath.durations import DEFAULT_DURATION_MODEL, fit_duration_model
from gazemodels.simulate.scanpaths import OSIE_DURATION_MS, GammaModel


def test_default_is_the_osie_fit():
    assert DEFAULT_DURATION_MODEL == OSIE_DURATION_MS
    assert DEFAULT_DURATION_MODEL.shape * DEFAULT_DURATION_MODEL.scale == pytest.approx(214.3, abs=0.5)


def test_fit_recovers_known_parameters():
    d = np.random.default_rng(1).gamma(5.0, 40.0, size=20000)
    m = fit_duration_model(pd.DataFrame({"duration": np.r_[d, np.nan, 0.0, -3.0]}))
    assert isinstance(m, GammaModel)
    assert m.shape == pytest.approx(5.0, rel=0.05)
    assert m.scale == pytest.approx(40.0, rel=0.05)


def test_fit_refuses_too_little_data():
    with pytest.raises(ValueError, match="at least 10"):
        fit_duration_model(pd.DataFrame({"duration": [200.0] * 5 + [np.nan] * 20}))
    with pytest.raises(ValueError, match="no 'duration'"):
        fit_duration_model(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="all 30 positive durations equal 250 ms"):
        fit_duration_model(pd.DataFrame({"duration": [250.0] * 30}))


@pytest.mark.parametrize("name", ["random", "centre", "human-shuffled"])
def test_models_sample_durations_from_the_fitted_model(name, stimuli, humans):
    humans = humans.copy()
    humans["duration"] = np.random.default_rng(0).gamma(20.0, 25.0, size=len(humans))  # mean 500 ms, narrow
    model = get_model(name).fit(humans, stimuli)
    assert model.durations.shape * model.durations.scale == pytest.approx(500, rel=0.1)
    out = model.predict(stimuli, n_scanpaths=20, n_fixations=6, seed=0)
    assert out["duration"].mean() == pytest.approx(500, rel=0.1)
    # the default model (mean 214 ms) would be far from this
    unfitted = get_model("random").predict(stimuli, n_scanpaths=20, n_fixations=6, seed=0)
    assert unfitted["duration"].mean() == pytest.approx(214, rel=0.15)


def test_fit_durations_false_keeps_the_model(stimuli, humans):
    model = get_model("centre").fit(humans, stimuli, fit_durations=False)
    assert model.durations == DEFAULT_DURATION_MODEL
