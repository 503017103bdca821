"""Search-behaviour metrics, and the published search-asymmetry indices recomputed from real model outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gazemodels.metrics import search as M
from conftest import dataset_dir

# --------------------------------------------------------------------------- fixations to target


def test_fixations_to_target_counts_after_the_initial_fixation():
    found = np.array(
        [
            [0, 0, 1, 0],  # found by the second saccade -> 2
            [1, 0, 0, 0],  # found by the initial fixation -> 0
            [0, 0, 0, 0],  # never found
            [0, 1, 1, 0],  # first hit counts
        ]
    )
    np.testing.assert_array_equal(M.fixations_to_target(found), [2, 0, np.inf, 1])
    np.testing.assert_array_equal(M.fixations_to_target(found, set_size=12), [2, 0, 12, 1])
    np.testing.assert_array_equal(M.fixations_to_target(found, set_size=[3, 6, 9, 12]), [2, 0, 9, 1])
    np.testing.assert_array_equal(M.fixations_to_target(found, include_initial=True), [3, 1, np.inf, 2])
    # ragged input
    np.testing.assert_array_equal(M.fixations_to_target([[0, 1], [0, 0, 0, 1], []], set_size=5), [1, 3, 5])


def test_target_found_box_and_margin():
    xy = np.array([[10.0, 10.0], [15.0, 15.0], [20.0, 12.0], [21.0, 12.0]])
    box = (10, 10, 10, 10)
    assert M.target_found(xy, box).tolist() == [False, True, False, False]  # strictly inside
    assert M.target_found(xy, box, inclusive=True).tolist() == [True, True, True, False]
    assert M.target_found(xy, box, margin_px=2).tolist() == [True, True, True, True]


def test_fixations_to_target_by_scanpath():
    df = pd.DataFrame(
        {
            "stimulus": ["a"] * 3 + ["b"] * 2,
            "subject": [1, 1, 1, 2, 2],
            "trial": 0,
            "fix_index": [2, 0, 1, 0, 1],  # unsorted on purpose
            "found": [True, False, False, False, False],
            "set_size": [4, 4, 4, 8, 8],
        }
    )
    out = M.fixations_to_target_by_scanpath(df, set_size="set_size")
    assert out["n_fix_to_target"].tolist() == [2.0, 8.0]
    assert out["found"].tolist() == [True, False]
    assert np.isinf(M.fixations_to_target_by_scanpath(df)["n_fix_to_target"].iloc[1])


# --------------------------------------------------------------------------- TFP, AUC, mismatch


def test_tfp_curve_auc_and_mismatch_hand_computed():
    counts = np.array([0, 1, 1, 3, np.inf])
    curve = M.target_fixation_probability(counts, max_fixations=3)
    np.testing.assert_allclose(curve, [0.2, 0.6, 0.6, 0.8])
    assert M.tfp_auc(curve) == pytest.approx(2.2)
    assert M.probability_mismatch(curve, [0.0, 0.5, 0.7, 1.0]) == pytest.approx(0.2 + 0.1 + 0.1 + 0.2)
    assert M.probability_mismatch(curve, curve) == 0.0
    # per-group curves averaged with equal weight
    g = M.target_fixation_probability([0, 0, 0, 5], max_fixations=1, groups=["a", "a", "a", "b"])
    np.testing.assert_allclose(g, [0.5, 0.5])
    with pytest.raises(ValueError, match="lengths 4 and 2"):
        M.probability_mismatch(curve, [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        M.target_fixation_probability([1, np.nan])


@pytest.mark.realdata
@pytest.mark.parametrize("dataset", ["NaturalDesign", "Waldo", "ObjArr"])
def test_tfp_curve_of_ivsn_humans(shared_data, dataset):
    """The human cumulative-performance curve of Zhang et al. 2018 / Gupta et al. 2021.

    Their score_analysis.py plots ``cumsum(mean(CP, 0))``, CP being the per-fixation
    found indicator (column 0 the initial fixation). Our curve comes from the
    per-trial first-found counts instead.
    """
    cp = np.load(dataset_dir(shared_data, "ivsn-human-search") / dataset / "cp" / "CP_human_all.npy")
    assert cp.sum(axis=1).max() == 1  # each trial is found at most once
    expected = np.cumsum(cp.mean(axis=0))
    counts = M.fixations_to_target(cp.astype(bool))
    curve = M.target_fixation_probability(counts, max_fixations=cp.shape[1] - 1)
    np.testing.assert_allclose(curve, expected, atol=1e-12)
    assert np.all(np.diff(curve) >= 0)


# --------------------------------------------------------------------------- scanpath ratio


def test_scanpath_ratio_hand_computed():
    box = (25, 35, 10, 10)  # centre (30, 40)
    sp = np.array([[0.0, 0.0], [30.0, 0.0], [30.0, 40.0], [0.0, 0.0]])
    # direct 50 px, travelled 30 + 40 up to the first on-target fixation
    assert M.scanpath_ratio(sp, box) == pytest.approx(50.0 / 70.0)
    assert M.scanpath_ratio(sp[[0, 2]], box) == pytest.approx(1.0)
    assert np.isnan(M.scanpath_ratio(sp[[2, 0]], box))  # found by the initial fixation
    assert np.isnan(M.scanpath_ratio(sp[:2], box))  # never found
    assert np.isnan(M.scanpath_ratio(sp, box, max_fixations=1))  # found too late
    with pytest.raises(ValueError, match="empty scanpath"):
        M.scanpath_ratio(np.empty((0, 2)), box)


# --------------------------------------------------------------------------- RTs and slopes


def test_fixations_to_rt_gupta2021():
    np.testing.assert_allclose(M.fixations_to_rt([0, 2]), [376.271, 2 * 252.359 + 376.271])
    custom = M.RTParameterisation("unit", 100.0, 50.0, "test")
    np.testing.assert_allclose(M.fixations_to_rt([1, 3], custom), [150.0, 350.0])
    with pytest.raises(ValueError, match="unknown RT parameterisation 'x'"):
        M.fixations_to_rt([1], "x")
    with pytest.raises(ValueError, match="set size"):
        M.fixations_to_rt([1, np.inf])


def test_rt_setsize_slope_exact_line_and_bootstrap():
    sizes = np.repeat([4, 8, 16], 3)
    rts = 500 + 25 * sizes + np.tile([-10.0, 0.0, 10.0], 3)  # mean exactly on the line
    res = M.rt_setsize_slope(sizes, rts, n_boot=500, seed=0)
    assert res.slope == pytest.approx(25.0)
    assert res.intercept == pytest.approx(500.0)
    assert res.ci_low < 25.0 < res.ci_high
    np.testing.assert_allclose(res.mean_rt, 500 + 25 * np.array([4, 8, 16]))
    # means only: no interval
    means_only = M.rt_setsize_slope([4, 8, 16], [600, 700, 900])
    assert means_only.slope == pytest.approx(np.polyfit([4, 8, 16], [600, 700, 900], 1)[0])
    assert np.isnan(means_only.ci_low) and np.isnan(means_only.ci_high)
    with pytest.raises(ValueError, match="two distinct set sizes"):
        M.rt_setsize_slope([4, 4], [1.0, 2.0])


def test_rt_slope_bootstrap_interval_covers_truth_usually():
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(40):
        sizes = np.repeat([1, 6, 12], 30)
        rts = 400 + 20 * sizes + rng.normal(0, 150, sizes.size)
        r = M.rt_setsize_slope(sizes, rts, n_boot=300, seed=int(rng.integers(1 << 30)))
        covered += r.ci_low <= 20 <= r.ci_high
    assert covered >= 32  # nominal 95 %; allow sampling error over 40 repetitions


def test_asymmetry_index_hand_computed():
    # hard is the condition with the larger human slope (the second here)
    assert M.asymmetry_index([10.0, 30.0], [5.0, 20.0]) == pytest.approx(20.0 / 40.0)
    # ... and the first here: the model finds the human-easy one harder -> negative
    assert M.asymmetry_index([10.0, 30.0], [20.0, 5.0]) == pytest.approx(-0.5)
    # slopes are clipped at 0
    assert M.asymmetry_index([-5.0, 10.0], [1.0, 2.0]) == pytest.approx(1.0)
    assert M.asymmetry_index([-5.0, -1.0], [1.0, 2.0]) == 0.0
    np.testing.assert_allclose(M.asymmetry_index([[10, 30], [3, 1]], [[5, 20], [2, 1]]), [0.5, 0.5])
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        M.asymmetry_index([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])


def test_slope_correlation():
    m = np.array([1.0, 5.0, 2.0, 8.0])
    h = np.array([2.0, 9.0, 3.0, 20.0])
    r, p = M.slope_correlation(m, h)
    assert r == pytest.approx(np.corrcoef(m, h)[0, 1])
    assert 0 < p < 1
    with pytest.raises(ValueError, match="undefined"):
        M.slope_correlation([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])


# --------------------------------------------------------------------------- published asymmetry indices

# Experiments and the order of their two conditions, the number of stimuli per set size, as in
# Gupta et al. 2021 (kreimanlab/VisualSearchAsymmetry vs_exp/rt_plot.py: file_names, tasks,
# num_stimuli_per_case_tasks). Set sizes come from the data file.
_EXPERIMENTS = [
    ("curvature", ("curve_in_lines", "line_in_curves"), 30),
    ("lightning_dir", ("top_down", "left_right"), 30),
    ("intersection", ("non_cross", "cross"), 36),
    ("intersection", ("Ts", "Ls"), 36),
    ("categorization", ("homo_t20", "homo_t0"), 30),
    ("categorization", ("hetero_t0", "hetero_t20"), 30),
]
# Published mean asymmetry index over the six experiments (Gupta et al. 2021, Fig. 4).
_PUBLISHED = {"eccNET": 0.513, "IVSN": 0.316, "chance": -0.003, "pixelMatch": -0.178}
_PUBLISHED_HUMAN = 0.564


def _slopes(root, model):
    human = json.loads((root / "human_rt_by_setsize.json").read_text())["conditions"]
    model_slopes, human_slopes = [], []
    for task, conds, per_size in _EXPERIMENTS:
        ms, hs = [], []
        for cond in conds:
            found = np.loadtxt(root / "model_outputs" / model / "out_data" / f"{task}_{cond}.csv", delimiter=",")
            set_sizes = np.asarray(human[cond]["set_size"], dtype=float)
            assert found.shape[0] == per_size * len(set_sizes)
            trial_size = np.repeat(set_sizes, per_size)  # stimuli are stored set size by set size
            counts = M.fixations_to_target(found.astype(bool), set_size=trial_size)
            rts = M.fixations_to_rt(counts, "gupta2021")
            ms.append(M.rt_setsize_slope(trial_size, rts, n_boot=0).slope)
            hs.append(M.rt_setsize_slope(set_sizes, human[cond]["rt_ms"], n_boot=0).slope)
        model_slopes.append(ms)
        human_slopes.append(hs)
    return np.array(model_slopes), np.array(human_slopes)


@pytest.mark.realdata
@pytest.mark.parametrize("model", sorted(_PUBLISHED))
def test_published_asymmetry_index_is_reproduced(shared_data, model):
    root = dataset_dir(shared_data, "search-asymmetry")
    ms, hs = _slopes(root, model)
    ai = M.asymmetry_index(ms, hs)
    assert ai.shape == (6,)
    # the paper reports the mean rounded to 3 decimals
    assert round(float(np.mean(ai)), 3) == pytest.approx(_PUBLISHED[model], abs=1e-9)
    human_ai = M.asymmetry_index(hs, hs)
    assert round(float(np.mean(human_ai)), 3) == pytest.approx(_PUBLISHED_HUMAN, abs=1e-9)
