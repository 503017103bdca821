"""The model registry, and every registered scanpath model through the contract validator."""

from __future__ import annotations

import pytest

from gazemodels.models import (
    ScanpathModel,
    get_model,
    get_model_spec,
    list_models,
    register_model,
    validate_scanpath_model,
)
from gazemodels.models import registry as reg

BASELINES = {"random", "centre", "saliency", "human-shuffled"}


def test_baselines_are_registered():
    names = set(list_models("scanpath"))
    assert BASELINES <= names
    assert set(list_models()) >= names


@pytest.mark.parametrize("name", list_models("scanpath"))
def test_every_scanpath_model_passes_the_validator(name, stimuli, humans):
    spec = get_model_spec(name)
    model = get_model(name, **spec.smoke_kwargs)
    assert isinstance(model, ScanpathModel)
    assert model.name == name
    if model.requires_fit:
        model.fit(humans, stimuli)
    out = validate_scanpath_model(model, stimuli, n_scanpaths=2, n_fixations=3, seed=0, other_seed=7)
    assert out.attrs["model"] == name
    assert len(out) == 2 * 2 * 3


def test_unknown_model_names_the_known_ones():
    with pytest.raises(KeyError, match="registered models.*random"):
        get_model("no-such-model")


def test_unknown_family_is_refused():
    with pytest.raises(ValueError, match="unknown model family"):
        register_model("x", family="saliency-maps")
    with pytest.raises(ValueError, match="unknown model family"):
        list_models("nope")


def test_register_twice_fails_and_smoke_kwargs_are_kept(monkeypatch):
    reg.list_models()  # load the built-in models into the real registry before copying it
    monkeypatch.setattr(reg, "_MODELS", dict(reg._MODELS))

    @register_model("test-tiny", smoke_kwargs={"k": 1})
    def factory(k=5):
        """A tiny factory."""
        m = get_model("random")
        m.name = ""
        m.k = k
        return m

    spec = get_model_spec("test-tiny")
    assert spec.smoke_kwargs == {"k": 1}
    assert spec.summary == "A tiny factory."
    model = get_model("test-tiny", **spec.smoke_kwargs)
    assert model.k == 1 and model.name == "test-tiny"
    with pytest.raises(ValueError, match="registered twice"):
        register_model("test-tiny")(factory)
