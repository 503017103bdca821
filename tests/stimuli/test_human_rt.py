"""Packaged human RTs: the shared transcription, the hard/easy pairing and the citations."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gazemodels.stimuli as S
from conftest import dataset_dir

PAIRS = {  # the table: hard / easy for humans
    "curvature": ("line_in_curves", "curve_in_lines"),
    "lighting_direction": ("left_right", "top_down"),
    "intersection": ("cross", "non_cross"),
    "t_vs_l": ("Ls", "Ts"),
    "orientation_homo": ("homo_t0", "homo_t20"),
    "orientation_hetero": ("hetero_t20", "hetero_t0"),
}


def test_packaged_values_equal_the_shared_transcription(shared_data):
    path = dataset_dir(shared_data, "search-asymmetry") / "human_rt_by_setsize.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    shared = json.loads(path.read_text())["conditions"]
    assert set(shared) == {c for p in PAIRS.values() for c in p}
    for cond, entry in shared.items():
        sizes, rts = S.human_rt(cond)
        assert sizes.tolist() == entry["set_size"], cond
        np.testing.assert_array_equal(rts, entry["rt_ms"], err_msg=cond)


def test_pairs_follow_the_paper_and_hard_has_the_larger_human_slope():
    assert S.experiment_pairs() == PAIRS
    assert list(S.experiment_pairs()) == list(S.ASYMMETRY_EXPERIMENTS)
    slopes = S.human_slopes()
    for exp, (hard, easy) in PAIRS.items():
        assert slopes[hard] > slopes[easy] > 0, exp
        # the registry lists each experiment's conditions as (hard, easy) too
        assert S.get_stimulus_set(exp).conditions == (hard, easy)


def test_slopes_and_asymmetry_indices_by_hand():
    s = S.human_slopes()
    # Wolfe & DiMase (2003) fits as Gupta et al. transcribe them: 541 + 96 n, 510 + 45 n, 474 + 33 n, 499 + 14 n
    assert (s["cross"], s["non_cross"], s["Ls"], s["Ts"]) == pytest.approx((96, 45, 33, 14))
    assert s["curve_in_lines"] == pytest.approx(0.8)
    # line_in_curves: 565, 640, 750 at 8, 16, 32 -> slope by hand
    x, y = np.array([8, 16, 32.0]), np.array([565, 640, 750.0])
    assert s["line_in_curves"] == pytest.approx(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
    ai = S.human_asymmetry_index()
    assert ai["intersection"] == pytest.approx((96 - 45) / (96 + 45))
    # Gupta et al. (2021) report a mean human asymmetry index of 0.564
    assert np.mean(list(ai.values())) == pytest.approx(0.564, abs=5e-4)


def test_tidy_table_and_set_sizes_match_the_generators():
    t = S.load_human_rt()
    assert len(t) == 40 and list(t.columns) == ["experiment", "condition", "role", "set_size", "rt_ms", "citation"]
    for exp, g in t.groupby("experiment", sort=False):
        sizes = tuple(sorted(set(g["set_size"])))
        assert sizes == S.get_stimulus_set(exp).set_sizes
        assert g.groupby("condition")["role"].first().to_dict() == dict(zip(PAIRS[exp], ("hard", "easy")))


def test_citations():
    authors = {"curvature": "Wolfe, J. M., Yee", "lighting_direction": "Kleffner", "intersection": "DiMase",
               "t_vs_l": "DiMase", "orientation_homo": "categorization", "orientation_hetero": "categorization"}
    for exp, key in authors.items():
        c = S.experiment_citation(exp)
        assert key in c and "doi.org/10." in c
    src = S.human_rt_source()
    assert "Gupta" in src["source"] and "2106.02953" in src["source"]
    assert "2e41a9ed6b3a02b7a827ef8f3d3903a5e700d323" in src["source_code"]
    with pytest.raises(KeyError):
        S.experiment_citation("colour")
    with pytest.raises(KeyError):
        S.human_rt("homo_t40")
    with pytest.raises(ValueError):
        S.rt_slope([4, 4], [1.0, 2.0])
