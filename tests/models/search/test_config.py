"""The search model's config: validation, serialisation, ablations, eccNET's pooling widths."""

import numpy as np
import pytest

from gazemodels.models.search.config import ABLATIONS, SearchModelConfig, apply_ablation, eccnet_gaussian_pooling


def test_ablation_names():
    assert set(ABLATIONS) == {"none", "no_ecc", "no_ecc_fovea", "no_topdown", "random_stem"}
    assert apply_ablation(SearchModelConfig(), "none") == SearchModelConfig()
    with pytest.raises(ValueError, match="unknown ablation"):
        apply_ablation(SearchModelConfig(), "no_eyes")


def test_config_round_trip_and_validation():
    c = SearchModelConfig()
    d = c.to_dict()
    assert d["max_fixations"] == 0 and isinstance(d["stages"], list)
    assert SearchModelConfig.from_dict(d) == c
    with pytest.raises(ValueError, match="unknown search model option"):
        SearchModelConfig.from_dict({"stage": [2]})
    with pytest.raises(ValueError, match="one value per stage"):
        SearchModelConfig(stages=(2, 4), sigma0_deg=(0.1,), slope=(0.1,))
    with pytest.raises(ValueError, match="stages"):
        SearchModelConfig(stages=(9,), sigma0_deg=(0.1,), slope=(0.1,))
    with pytest.raises(ValueError, match="layer_weights"):
        SearchModelConfig(layer_weights="mean")


def test_max_pooling_needs_non_negative_features_and_the_windowed_path():
    assert SearchModelConfig(pooling="max").pooling == "max"  # hidden ReLU6 units, no baseline
    assert SearchModelConfig(pooling="max", layer="output", rectify=True).pooling == "max"
    with pytest.raises(ValueError, match="pooling must be one of"):
        SearchModelConfig(pooling="median")
    with pytest.raises(ValueError, match="non-negative features.*baseline='background'"):
        SearchModelConfig(pooling="max", baseline="background")
    with pytest.raises(ValueError, match="non-negative features.*rectify=False, layer='output'"):
        SearchModelConfig(pooling="max", layer="output", rectify=False)
    with pytest.raises(ValueError, match="pool_impl must be 'auto' or 'window', got 'dense'"):
        SearchModelConfig(pooling="max", pool_impl="dense")


def test_moments_pooling_takes_any_features_and_implementation():
    for kw in ({}, {"pool_impl": "dense"}, {"baseline": "background"}, {"layer": "output", "rectify": False}):
        assert SearchModelConfig(pooling="moments", **kw).pooling == "moments"


def test_default_pooling_is_eccnets():
    """eccNET's box windows (2 px at blocks 3-5, growing 2 * ecc_slope per degree) as Gaussians."""
    s0, k = eccnet_gaussian_pooling(5)
    assert s0 == pytest.approx(1.0 / np.sqrt(12.0))  # 2 px at 2 px/deg is 1 deg wide
    assert k == pytest.approx(2 * 16 * 0.02 / np.sqrt(12.0))
    c = SearchModelConfig()
    assert c.sigma0_deg == pytest.approx([eccnet_gaussian_pooling(b)[0] for b in (3, 4, 5)], abs=1e-4)
    assert c.slope == pytest.approx([eccnet_gaussian_pooling(b)[1] for b in (3, 4, 5)], abs=1e-4)
