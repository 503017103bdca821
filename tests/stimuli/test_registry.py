"""The stimulus-set registry and its seeding."""

from __future__ import annotations

import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.stimuli.registry import register_stimulus_set


def test_lookup_and_listing():
    assert S.list_stimulus_sets()[:6] == list(S.ASYMMETRY_EXPERIMENTS)
    assert "object_array" in S.list_stimulus_sets()
    with pytest.raises(KeyError, match="unknown stimulus set"):
        S.get_stimulus_set("nope")
    assert S.condition_experiment("Ts") == "t_vs_l"
    assert S.condition_experiment("hetero_t0") == "orientation_hetero"
    with pytest.raises(KeyError):
        S.condition_experiment("nope")


def test_registering_a_name_twice_fails():
    with pytest.raises(ValueError, match="registered twice"):
        register_stimulus_set("curvature", conditions=("a",), set_sizes=(1,))(lambda *a, **k: None)


def test_display_seeds_are_stable_and_distinct():
    s = S.get_stimulus_set("curvature")
    seeds = {s.display_seed(0, c, k, i) for c in s.conditions for k in s.set_sizes for i in range(30)}
    assert len(seeds) == 180
    assert s.display_seed(0, "line_in_curves", 8, 0) == s.display_seed(0, "line_in_curves", 8, 0)
    other = S.get_stimulus_set("t_vs_l")
    assert other.display_seed(0, "Ls", 3, 0) != S.get_stimulus_set("intersection").display_seed(0, "Ls", 3, 0)


def test_iteration_order_identifiers_and_arguments():
    s = S.get_stimulus_set("orientation_homo")
    ds = s.generate(seed=0, n_per_set_size=2, set_sizes=[4, 1])
    assert [(d.condition, d.set_size) for d in ds] == [
        ("homo_t0", 4), ("homo_t0", 4), ("homo_t0", 1), ("homo_t0", 1),
        ("homo_t20", 4), ("homo_t20", 4), ("homo_t20", 1), ("homo_t20", 1),
    ]
    assert ds[1].stimulus == "orientation_homo-homo_t0-n04-001"
    assert S.generate("orientation_homo", n_per_set_size=0) == []
    with pytest.raises(ValueError, match="unknown condition"):
        s.generate(conditions=["hetero_t0"])
    with pytest.raises(ValueError, match="n_per_set_size"):
        s.generate(n_per_set_size=-1)
    d = s.generate(seed=0, n_per_set_size=1, px_per_degree=15.0)[0]
    assert d.px_per_degree == 15.0 and d.width == round(11.3 * 15)
    np.testing.assert_array_equal(d.image, s.render(d.condition, d.set_size, seed=d.seed, px_per_degree=15.0).image)
