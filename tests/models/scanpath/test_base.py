"""The scanpath-model contract: the validator catches each kind of breach; image loading errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazemodels.models import ScanpathModel, get_model, validate_scanpath_model
from gazemodels.models.scanpath.base import (
    ImageReadError,
    ModelNotFittedError,
    ScanpathContractError,
    load_image,
    stimulus_rng,
)


class Uniform(ScanpathModel):
    needs_image = False

    def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
        return rng.uniform([0, 0], [stimulus["width"], stimulus["height"]], size=(n_scanpaths, n_fixations, 2))


class OffScreen(Uniform):
    def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
        pos = super().generate(image, stimulus, n_scanpaths, n_fixations, rng)
        pos[0, 0, 0] = stimulus["width"] + 5
        return pos


class Normalised(Uniform):
    """A typical bug: coordinates in [0, 1] instead of px are on-screen but this one returns [-1, 1]."""

    def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
        return rng.uniform(-1, 1, size=(n_scanpaths, n_fixations, 2))


class WrongShape(Uniform):
    def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
        return super().generate(image, stimulus, n_scanpaths, n_fixations + 1, rng)


class IgnoresSeed(Uniform):
    def predict(self, stimuli, n_scanpaths, n_fixations, seed):
        return Uniform().predict(stimuli, n_scanpaths, n_fixations, 0).pipe(_with_seed, seed)


class NotReproducible(Uniform):
    def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
        return np.random.default_rng().uniform(
            [0, 0], [stimulus["width"], stimulus["height"]], size=(n_scanpaths, n_fixations, 2)
        )


class SharedStream(Uniform):
    """One random stream across images: results depend on which images are predicted together."""

    def predict(self, stimuli, n_scanpaths, n_fixations, seed):
        rng = np.random.default_rng(seed)
        self.generate = lambda image, stimulus, n, m, _rng: Uniform.generate(self, image, stimulus, n, m, rng)
        return super().predict(stimuli, n_scanpaths, n_fixations, seed)


class DropsARow(Uniform):
    def predict(self, stimuli, n_scanpaths, n_fixations, seed):
        out = super().predict(stimuli, n_scanpaths, n_fixations, seed)
        return _with_seed(out.iloc[:-1].copy(), seed)


class SubjectsFromOne(Uniform):
    def predict(self, stimuli, n_scanpaths, n_fixations, seed):
        out = super().predict(stimuli, n_scanpaths, n_fixations, seed)
        out["subject"] += 1
        return out


class NoSeedRecorded(Uniform):
    def predict(self, stimuli, n_scanpaths, n_fixations, seed):
        out = super().predict(stimuli, n_scanpaths, n_fixations, seed)
        out.attrs = {}
        return out


class BadTStart(Uniform):
    def predict(self, stimuli, n_scanpaths, n_fixations, seed):
        out = super().predict(stimuli, n_scanpaths, n_fixations, seed)
        out["t_start"] = 0.0
        return out


def _with_seed(df, seed):
    df.attrs = {"seed": seed}
    return df


def test_a_correct_model_passes(stimuli):
    out = validate_scanpath_model(Uniform(), stimuli, n_scanpaths=2, n_fixations=5)
    assert out.attrs == {"model": "Uniform", "seed": 0, "n_scanpaths": 2, "n_fixations": 5}
    first = out[out["fix_index"] == 0]
    assert (first["t_start"] == 0).all()


@pytest.mark.parametrize(
    "model, message",
    [
        (OffScreen(), "off the"),
        (Normalised(), "off the"),
        (WrongShape(), "shape"),
        (IgnoresSeed(), "the seed is ignored"),
        (NotReproducible(), "not reproducible"),
        (SharedStream(), "own random stream"),
        (DropsARow(), "fixations per scanpath"),
        (SubjectsFromOne(), "expected 0..2"),
        (NoSeedRecorded(), "attrs"),
        (BadTStart(), "t_start"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_the_validator_catches_each_breach(model, message, stimuli):
    with pytest.raises(ScanpathContractError, match=message):
        validate_scanpath_model(model, stimuli, n_scanpaths=3, n_fixations=4)


def test_predict_checks_its_arguments(stimuli):
    m = Uniform()
    for kwargs in ({"n_scanpaths": 0}, {"n_fixations": 0}, {"seed": -1}, {"seed": 1.5}):
        args = {"n_scanpaths": 2, "n_fixations": 2, "seed": 0} | kwargs
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            m.predict(stimuli, **args)
    with pytest.raises(ValueError, match="missing column"):
        m.predict(stimuli.drop(columns="px_per_degree"), 2, 2, 0)
    with pytest.raises(ValueError, match="more than once"):
        m.predict(pd.concat([stimuli, stimuli]), 2, 2, 0)


def test_a_model_that_needs_fitting_says_so(stimuli):
    with pytest.raises(ModelNotFittedError, match="human-shuffled.*fit"):
        get_model("human-shuffled").predict(stimuli, 2, 2, 0)


def test_image_models_need_a_path(stimuli):
    st = stimuli.copy()
    st.loc[1, "path"] = None
    with pytest.raises(ImageReadError, match="b.png"):
        get_model("saliency").predict(st, 1, 2, 0)


def test_load_image_reads_rgb_and_resizes(stimuli):
    img = load_image(stimuli["path"][0])
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert load_image(stimuli["path"][0], size=(32, 20)).shape == (20, 32, 3)


def test_load_image_names_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ImageReadError, match="nothere.png.*not found"):
        load_image(tmp_path / "nothere.png")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    with pytest.raises(ImageReadError, match="broken.jpg.*cannot read"):
        load_image(bad)
    with pytest.raises(ImageReadError, match="no image file"):
        load_image(None)


def test_stimulus_streams_are_stable_and_distinct():
    a = stimulus_rng(3, "x.jpg").random(4)
    assert np.array_equal(a, stimulus_rng(3, "x.jpg").random(4))
    assert not np.array_equal(a, stimulus_rng(3, "y.jpg").random(4))
    assert not np.array_equal(a, stimulus_rng(3, "x.jpg", stream=1).random(4))
    assert not np.array_equal(a, stimulus_rng(4, "x.jpg").random(4))
