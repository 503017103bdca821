"""Scoring of the search-asymmetry experiment against hand-computed values, and a tiny end-to-end run."""

import dataclasses
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazemodels.experiments.search_asymmetry import (
    DEFAULTS,
    ECCNET_RESULTS,
    bootstrap_slopes,
    resolve_variants,
    score_trials,
    trials_from_fixations,
    variant_config,
)
from gazemodels.models.search import SearchModelConfig, apply_ablation
from conftest import dataset_dir

REPO = Path(__file__).resolve().parents[2]


def _fixations(rows):
    """A fixation table from (stimulus, condition, set_size, [found flags])."""
    out = []
    for stim, cond, n, flags in rows:
        for i, f in enumerate(flags):
            out.append({"stimulus": stim, "subject": 0, "trial": 0, "fix_index": i, "x": 1.0, "y": 1.0,
                        "t_start": np.nan, "duration": np.nan, "experiment": "e", "condition": cond,
                        "set_size": n, "found": f})
    return pd.DataFrame(out)


def test_trials_count_fixations_after_the_central_one_and_convert_to_rt():
    fx = _fixations([
        ("a", "A", 4, [False, True]),  # found by the first saccade: 1 fixation
        ("b", "A", 4, [False, False, False, True]),  # 3 fixations
        ("c", "A", 8, [False, False, False]),  # never found: counts as the set size, 8
    ])
    t = trials_from_fixations(fx).set_index("stimulus")
    assert t["n_fix_to_target"].tolist() == [1.0, 3.0, 8.0]
    # Gupta et al. 2021: RT = 252.359 ms x fixations + 376.271 ms
    assert t["rt_ms"].tolist() == pytest.approx([628.63, 1133.348, 2395.143])
    assert t["found"].tolist() == [True, True, False]


def _trials(spec):
    """Trials table from {condition: {set_size: [rts]}}."""
    rows = []
    for cond, by_size in spec.items():
        for n, rts in by_size.items():
            for i, rt in enumerate(rts):
                rows.append({"stimulus": f"{cond}-{n}-{i}", "subject": 0, "trial": 0, "experiment": "e",
                             "condition": cond, "set_size": n, "found": True, "n_fix_to_target": 1.0, "rt_ms": rt})
    return pd.DataFrame(rows)


PAIRS = {"exp1": ("A", "B"), "exp2": ("C", "D")}
HUMAN = {"A": 50.0, "B": 5.0, "C": 30.0, "D": 10.0}


def test_slopes_and_asymmetry_indices_by_hand():
    # A: means 600 (n=2) and 800 (n=4): slope 100 ms/item; B: 500, 520: 10 ms/item
    # C: 400, 400: 0; D: 400, 480: 40 (the model gets exp2 backwards)
    trials = _trials({
        "A": {2: [590, 610], 4: [780, 820]},
        "B": {2: [500, 500], 4: [520, 520]},
        "C": {2: [400, 400], 4: [400, 400]},
        "D": {2: [390, 410], 4: [470, 490]},
    })
    slopes, asym, summ = score_trials(trials, HUMAN, PAIRS, n_boot=200, seed=0)
    s = slopes.set_index("condition")["model_slope"]
    assert s.to_dict() == pytest.approx({"A": 100.0, "B": 10.0, "C": 0.0, "D": 40.0})
    a = asym.set_index("experiment")
    assert a.loc["exp1", "model_ai"] == pytest.approx(90 / 110)  # (100 - 10) / (100 + 10)
    assert a.loc["exp2", "model_ai"] == pytest.approx(-1.0)  # (0 - 40) / (0 + 40)
    assert a.loc["exp1", "human_ai"] == pytest.approx(45 / 55)
    assert a.loc["exp2", "human_ai"] == pytest.approx(0.5)
    assert a["polarity_match"].tolist() == [True, False]
    assert summ["mean_ai"] == pytest.approx((90 / 110 - 1.0) / 2)
    assert summ["polarity_matches"] == 1 and summ["n_experiments"] == 2
    # Pearson r of (100, 10, 0, 40) with (50, 5, 30, 10), by hand
    m, h = np.array([100, 10, 0, 40.0]), np.array([50, 5, 30, 10.0])
    r = ((m - m.mean()) * (h - h.mean())).sum() / np.sqrt(((m - m.mean()) ** 2).sum() * ((h - h.mean()) ** 2).sum())
    assert summ["slope_r"] == pytest.approx(r)
    # the CIs bracket the estimates
    assert a.loc["exp1", "model_ai_ci_low"] <= a.loc["exp1", "model_ai"] <= a.loc["exp1", "model_ai_ci_high"]
    assert summ["mean_ai_ci"][0] <= summ["mean_ai"] <= summ["mean_ai_ci"][1]
    lo, hi = slopes.set_index("condition").loc["A", ["model_slope_ci_low", "model_slope_ci_high"]]
    assert lo < 100 < hi
    # C has no spread at all: its slope interval is a point
    assert slopes.set_index("condition").loc["C", "model_slope_ci_low"] == pytest.approx(0.0)


def test_negative_slopes_are_clipped_in_the_index():
    trials = _trials({"A": {2: [600, 600], 4: [500, 500]}, "B": {2: [500, 500], 4: [520, 520]}})
    _, asym, summ = score_trials(trials, HUMAN, {"exp1": ("A", "B")}, n_boot=0)
    assert asym["model_ai"].iloc[0] == pytest.approx(-1.0)  # max(0, -50) = 0 against 10
    assert np.isnan(summ["slope_r"])  # fewer than three conditions
    assert np.isnan(asym["model_ai_ci_low"].iloc[0])


def test_joint_bootstrap_reproduces_exact_slopes_without_spread():
    trials = _trials({"A": {2: [600] * 3, 4: [800] * 3}, "B": {2: [500] * 2, 4: [540] * 2}})
    b = bootstrap_slopes(trials, ["A", "B"], 50, 0)
    assert b.shape == (50, 2) and np.allclose(b, [100.0, 20.0])


def test_variants():
    assert resolve_variants("none") == ["none"]
    assert resolve_variants(["none", "no_ecc"]) == ["none", "no_ecc"]
    with pytest.raises(ValueError, match="unknown"):
        resolve_variants("no_brain")
    with pytest.raises(ValueError, match="repeat"):
        resolve_variants(["none", "none"])
    mine = {"gains": {"gain": "snr"}}
    assert resolve_variants(["none", "gains"], mine) == ["none", "gains"]
    with pytest.raises(ValueError, match="unknown.*gains"):
        resolve_variants(["gains"])
    with pytest.raises(ValueError, match="already name ablations"):
        resolve_variants("none", {"no_ecc": {"slope": [0, 0, 0]}})
    with pytest.raises(ValueError, match="table of tables"):
        resolve_variants("none", {"gains": "snr"})


def test_variant_config_changes_only_its_options_and_names_itself_in_errors():
    model = DEFAULTS["model"]
    cfg = variant_config(model, {"gains": {"gain": "snr", "priority_noise": 0.02}}, "gains")
    assert cfg.gain == "snr" and cfg.priority_noise == 0.02
    assert cfg == SearchModelConfig.from_dict({**model, "gain": "snr", "priority_noise": 0.02})
    assert variant_config(model, {}, "no_ecc").eccentricity is False
    with pytest.raises(ValueError, match="variants.typo: unknown search model option"):
        variant_config(model, {"typo": {"gian": "snr"}}, "typo")


def test_shipped_variants_config_resolves_every_variant():
    from gazemodels.experiments.registry import load_config_file, merge_config

    shipped = load_config_file(REPO / "experiments" / "search_asymmetry_variants.toml")
    assert shipped.pop("experiment") == "search-asymmetry"
    cfg = merge_config(DEFAULTS, shipped)
    names = resolve_variants(cfg["ablation"], cfg["variants"])
    assert names[0] == "none" and len(names) == 6
    cfgs = {n: variant_config(cfg["model"], cfg["variants"], n) for n in names}
    assert cfgs["snr_gain"].gain == "snr" and cfgs["coarse_guidance"].topdown_stages == (4, 6)
    assert cfgs["coarse_stages"].stages == (4, 6) and cfgs["none"] == SearchModelConfig()
    # eccNET's choices: the default with the three differing choices reverted, nothing else
    assert cfgs["eccnet_choices"] == dataclasses.replace(SearchModelConfig(), match="dot", bottom_up=0.0,
                                                         priority_noise=0.0)


def _shipped_variants(toml_name: str) -> dict:
    """The resolved model config of every variant a shipped TOML runs, in its order."""
    from gazemodels.experiments.registry import load_config_file, merge_config

    shipped = load_config_file(REPO / "experiments" / toml_name)
    cfg = merge_config(DEFAULTS, {k: v for k, v in shipped.items() if k != "experiment"})
    names = resolve_variants(cfg["ablation"], cfg["variants"])
    return {n: variant_config(cfg["model"], cfg["variants"], n) for n in names}


def test_shipped_stems_config_changes_only_the_stem_and_its_fitted_noise():
    cfgs = _shipped_variants("search_asymmetry_stems.toml")
    assert list(cfgs) == ["none", "lite1", "lite2", "lite1_eccnet_choices", "lite2_eccnet_choices",
                          "lite1_no_ecc_fovea", "lite2_no_ecc_fovea"]
    for name, stem, noise in (("lite1", "efficientnet_lite1", 0.015), ("lite2", "efficientnet_lite2", 0.025)):
        assert cfgs[name] == dataclasses.replace(SearchModelConfig(), stem=stem, priority_noise=noise)
        assert cfgs[f"{name}_eccnet_choices"] == dataclasses.replace(
            SearchModelConfig(), stem=stem, match="dot", bottom_up=0.0, priority_noise=0.0)
        assert cfgs[f"{name}_no_ecc_fovea"] == apply_ablation(
            dataclasses.replace(SearchModelConfig(), stem=stem, priority_noise=noise), "no_ecc_fovea")


def test_shipped_crowding_config_changes_only_the_pooling_growth_and_its_fitted_noise():
    cfgs = _shipped_variants("search_asymmetry_crowding.toml")
    assert list(cfgs) == ["crowding", "crowding_no_ecc_fovea"]
    # Freeman & Simoncelli's V2 scaling: FWHM 0.46 x eccentricity as a Gaussian sigma
    slope = round(0.46 / (2 * math.sqrt(2 * math.log(2))), 3)
    crowding = dataclasses.replace(SearchModelConfig(), slope=(slope,) * 3, priority_noise=0.005)
    assert cfgs["crowding"] == crowding
    assert cfgs["crowding_no_ecc_fovea"] == apply_ablation(crowding, "no_ecc_fovea")


def test_shipped_noise_growth_config_changes_only_the_noise_and_the_pooling_growth():
    cfgs = _shipped_variants("search_asymmetry_noise_growth.toml")
    assert list(cfgs) == ["constant_noise", "crowding_constant_noise"]
    constant = dataclasses.replace(SearchModelConfig(), noise_growth="constant", priority_noise=0.08)
    assert cfgs["constant_noise"] == constant
    assert cfgs["crowding_constant_noise"] == dataclasses.replace(constant, slope=(0.195,) * 3, priority_noise=0.06)


def test_shipped_max_pooling_config_changes_only_the_reduction_and_its_fitted_noise():
    cfgs = _shipped_variants("search_asymmetry_max_pooling.toml")
    assert list(cfgs) == ["max_pooling", "max_pooling_no_ecc_fovea"]
    max_pooling = dataclasses.replace(SearchModelConfig(), pooling="max", priority_noise=0.02)
    assert cfgs["max_pooling"] == max_pooling
    assert cfgs["max_pooling_no_ecc_fovea"] == apply_ablation(max_pooling, "no_ecc_fovea")


def test_shipped_moments_config_changes_only_the_statistics_widths_gains_stems_and_fitted_noise():
    from gazemodels.experiments.registry import load_config_file

    cfgs = _shipped_variants("search_asymmetry_moments.toml")
    assert list(cfgs) == ["moments", "moments_crowding", "moments_crowding_no_ecc_fovea"]
    moments = dataclasses.replace(SearchModelConfig(), pooling="moments", priority_noise=0.02)
    crowding = dataclasses.replace(moments, slope=(0.195,) * 3, priority_noise=0.01)
    assert cfgs["moments"] == moments and cfgs["moments_crowding"] == crowding
    assert cfgs["moments_crowding_no_ecc_fovea"] == apply_ablation(crowding, "no_ecc_fovea")
    # the variants run by naming them in `ablation` (the TOML's comments give each run)
    variants = load_config_file(REPO / "experiments" / "search_asymmetry_moments.toml")["variants"]
    assert set(variants) == {"moments", "moments_crowding", "moments_crowding_no_ecc_fovea", "moments_snr",
                             "moments_no_ecc_fovea", "moments_lite1", "moments_lite2"}
    model = DEFAULTS["model"]
    assert variant_config(model, variants, "moments_snr") == dataclasses.replace(moments, gain="snr",
                                                                                 priority_noise=0.01)
    assert variant_config(model, variants, "moments_no_ecc_fovea") == apply_ablation(moments, "no_ecc_fovea")
    assert variant_config(model, variants, "moments_lite1") == dataclasses.replace(moments, stem="efficientnet_lite1")
    assert variant_config(model, variants, "moments_lite2") == dataclasses.replace(
        moments, stem="efficientnet_lite2", priority_noise=0.03)


def test_shipped_contain_config_changes_only_the_match_statistics_and_fitted_noise():
    from gazemodels.experiments.registry import load_config_file

    cfgs = _shipped_variants("search_asymmetry_contain.toml")
    assert list(cfgs) == ["contain", "moments_contain"]
    contain = dataclasses.replace(SearchModelConfig(), match="contain", priority_noise=0.005)
    moments = dataclasses.replace(contain, pooling="moments", priority_noise=0.015)
    assert cfgs["contain"] == contain and cfgs["moments_contain"] == moments
    variants = load_config_file(REPO / "experiments" / "search_asymmetry_contain.toml")["variants"]
    assert set(variants) == {"contain", "moments_contain", "contain_no_ecc_fovea", "moments_contain_no_ecc_fovea",
                             "moments_contain_lite1", "moments_contain_lite2", "moments_contain_lite2_no_ecc_fovea",
                             "moments_contain_no_ecc"}
    model = DEFAULTS["model"]
    assert variant_config(model, variants, "contain_no_ecc_fovea") == apply_ablation(contain, "no_ecc_fovea")
    assert variant_config(model, variants, "moments_contain_no_ecc_fovea") == apply_ablation(moments, "no_ecc_fovea")
    assert variant_config(model, variants, "moments_contain_no_ecc") == apply_ablation(moments, "no_ecc")
    assert variant_config(model, variants, "moments_contain_lite1") == dataclasses.replace(
        moments, stem="efficientnet_lite1")
    lite2 = dataclasses.replace(moments, stem="efficientnet_lite2", priority_noise=0.02)
    assert variant_config(model, variants, "moments_contain_lite2") == lite2
    assert variant_config(model, variants, "moments_contain_lite2_no_ecc_fovea") == apply_ablation(lite2, "no_ecc_fovea")


def test_shipped_config_matches_the_embedded_defaults():
    shipped = tomllib.loads((REPO / "experiments" / "search_asymmetry.toml").read_text())
    assert shipped.pop("experiment") == "search-asymmetry"
    assert shipped == DEFAULTS


def test_shipped_snr_gain_variant_differs_from_the_defaults_only_in_its_gain_noise_and_repeats():
    variant = tomllib.loads((REPO / "experiments" / "search_asymmetry_snr_gain.toml").read_text())
    assert variant.pop("experiment") == "search-asymmetry"
    model = variant.pop("model")
    assert {k: v for k, v in model.items() if model[k] != DEFAULTS["model"][k]} == {
        "gain": "snr", "priority_noise": 0.02}
    assert set(model) == set(DEFAULTS["model"])
    assert variant.pop("repeats") == 3
    assert variant == {k: v for k, v in DEFAULTS.items() if k not in ("model", "repeats")}


def test_eccnet_values_are_their_published_means():
    ai = ECCNET_RESULTS["asymmetry_index"]
    assert round(float(np.mean(list(ai.values()))), 3) == ECCNET_RESULTS["mean_ai"]
    assert sum(v > 0 for v in ai.values()) == ECCNET_RESULTS["polarity_matches"]


@pytest.mark.realdata
def test_eccnet_values_recomputed_from_their_outputs(shared_data):
    """The packaged eccNET figures are what the metrics give on eccNET's published outputs."""
    import gazemodels.metrics.search as M
    from gazemodels.stimuli import experiment_pairs, human_slopes

    root = dataset_dir(shared_data, "search-asymmetry")
    files = {"curvature": "curvature", "lighting_direction": "lightning_dir", "intersection": "intersection",
             "t_vs_l": "intersection", "orientation_homo": "categorization", "orientation_hetero": "categorization"}
    human = json.loads((root / "human_rt_by_setsize.json").read_text())["conditions"]
    hs = human_slopes()
    slopes = {}
    for exp, pair in experiment_pairs().items():
        for cond in pair:
            found = np.loadtxt(root / "model_outputs" / "eccNET" / "out_data" / f"{files[exp]}_{cond}.csv",
                               delimiter=",").astype(bool)
            sizes = np.asarray(human[cond]["set_size"], dtype=float)
            trial_size = np.repeat(sizes, found.shape[0] // len(sizes))
            rts = M.fixations_to_rt(M.fixations_to_target(found, set_size=trial_size))
            slopes[cond] = M.rt_setsize_slope(trial_size, rts, n_boot=0).slope
            assert slopes[cond] == pytest.approx(ECCNET_RESULTS["slopes"][cond], abs=0.01)
        ai = M.asymmetry_index([slopes[pair[0]], slopes[pair[1]]], [hs[pair[0]], hs[pair[1]]])
        assert ai == pytest.approx(ECCNET_RESULTS["asymmetry_index"][exp], abs=1e-4)
    r, _ = M.slope_correlation([slopes[c] for c in hs], [hs[c] for c in hs])
    assert round(r, 2) == ECCNET_RESULTS["slope_r"]


def test_tiny_run_end_to_end_writes_every_output(tmp_path, capsys):
    from gazemodels.cli import main

    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        'experiment = "search-asymmetry"\nseed = 3\nexperiments = ["lighting_direction"]\n'
        "n_per_set_size = 2\nn_boot = 50\nprogress = false\n"
        '[model]\nstages = [3]\nsigma0_deg = [0.15]\nslope = [0.1]\n'
    )
    out = tmp_path / "res"
    assert main(["run", "search-asymmetry", "--config", str(cfg), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "lighting_direction" in printed and "mean AI" in printed and "eccNET" in printed
    for name in ("slopes.csv", "asymmetry.csv", "summary.json", "config.json", "trials.csv", "fixations.csv",
                 "rt_vs_setsize.png", "asymmetry_index.png", "slopes_vs_human.png"):
        assert (out / name).stat().st_size > 0, name
    slopes = pd.read_csv(out / "slopes.csv")
    assert slopes["condition"].tolist() == ["left_right", "top_down"]
    assert {"model_slope", "model_slope_ci_low", "model_slope_ci_high", "human_slope"} <= set(slopes.columns)
    asym = pd.read_csv(out / "asymmetry.csv")
    assert asym[["hard", "easy"]].values.tolist() == [["left_right", "top_down"]]
    assert {"human_ai", "model_ai", "model_ai_ci_low", "model_ai_ci_high", "polarity_match"} <= set(asym.columns)
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 2 * 3 * 2  # conditions x set sizes x displays
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["config"]["model"]["stages"] == [3]
    assert summary["n_experiments"] == 1 and summary["polarity_matches"] in (0, 1)
    assert summary["mean_ai"] == pytest.approx(asym["model_ai"].mean(), abs=1e-4)


def test_a_named_variant_runs_beside_the_model_and_equals_its_config_run_alone(tmp_path):
    from gazemodels.experiments import run_experiment

    base = {"experiments": ["lighting_direction"], "n_per_set_size": 1, "n_boot": 0, "progress": False,
            "workers": 1, "model": {"stages": [3], "sigma0_deg": [0.2], "slope": [0.1]}}
    out = run_experiment("search-asymmetry", {**base, "ablation": ["none", "no_bu"],
                                              "variants": {"no_bu": {"bottom_up": 0.0}}}, tmp_path / "both")
    alone = run_experiment("search-asymmetry", {**base, "model": {**base["model"], "bottom_up": 0.0}},
                           tmp_path / "alone")
    both = pd.read_csv(out / "trials.csv")
    assert sorted(set(both["variant"])) == ["no_bu", "none"]
    one = pd.read_csv(alone / "trials.csv").drop(columns="variant")
    pd.testing.assert_frame_equal(both[both["variant"] == "no_bu"].drop(columns="variant").reset_index(drop=True),
                                  one)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["variants"] == {"no_bu": {"bottom_up": 0.0}}


def test_ablation_list_runs_every_variant(tmp_path):
    from gazemodels.experiments import run_experiment

    cfg = {"experiments": ["lighting_direction"], "n_per_set_size": 1, "n_boot": 0, "progress": False,
           "ablation": ["no_topdown", "no_ecc"], "workers": 1,
           "model": {"stages": [3], "sigma0_deg": [0.2], "slope": [0.1]}}
    out = run_experiment("search-asymmetry", cfg, tmp_path / "abl")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["variant"] == "no_topdown" and set(summary["variants"]) == {"no_topdown", "no_ecc"}
    asym = pd.read_csv(out / "asymmetry.csv")
    assert asym["variant"].tolist() == ["no_topdown", "no_ecc"]
    for name in ("rt_vs_setsize_no_topdown.png", "rt_vs_setsize_no_ecc.png", "asymmetry_index.png",
                 "slopes_vs_human_no_topdown.png", "slopes_vs_human_no_ecc.png"):
        assert (out / name).stat().st_size > 0


def test_repeats_pool_runs_that_equal_single_runs_with_the_next_seeds(tmp_path):
    """repeats = 2: the pooled trials are the trials of seed 5 and of seed 6, run alone."""
    from gazemodels.experiments import run_experiment

    cfg = {"experiments": ["lighting_direction"], "n_per_set_size": 2, "n_boot": 0, "progress": False,
           "seed": 5, "workers": 1, "model": {"stages": [3], "sigma0_deg": [0.2], "slope": [0.1], "priority_noise": 0.2}}
    pooled = run_experiment("search-asymmetry", {**cfg, "repeats": 2}, tmp_path / "pooled")
    trials = pd.read_csv(pooled / "trials.csv")
    assert len(trials) == 2 * (2 * 3 * 2)
    for r, seed in enumerate((5, 6)):
        alone = pd.read_csv(run_experiment("search-asymmetry", {**cfg, "seed": seed}, tmp_path / f"s{seed}")
                            / "trials.csv")
        mine = trials[trials["stimulus"].str.endswith(f"-r{r}")].reset_index(drop=True)
        assert mine["stimulus"].str.removesuffix(f"-r{r}").tolist() == alone["stimulus"].tolist()
        np.testing.assert_allclose(mine["rt_ms"], alone["rt_ms"])
    summary = json.loads((pooled / "summary.json").read_text())
    assert summary["repeats"] == 2
    per = summary["variants"]["none"]["per_repeat"]
    assert [p["seed"] for p in per] == [5, 6]
    one = json.loads((tmp_path / "s6" / "summary.json").read_text())
    assert per[1]["mean_ai"] == pytest.approx(one["mean_ai"], abs=1e-4)
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        run_experiment("search-asymmetry", {**cfg, "repeats": 0}, tmp_path / "bad")
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        run_experiment("search-asymmetry", {**cfg, "workers": 0}, tmp_path / "bad")


def test_summary_table_with_many_variants_has_one_row_each_and_stays_narrow():
    from gazemodels.experiments.search_asymmetry import summary_table

    exps = list(ECCNET_RESULTS["asymmetry_index"])
    rows, results = [], {}
    for k, v in enumerate(["none", "no_ecc", "extra"]):
        ai = np.linspace(-0.5, 0.5, len(exps)) + 0.1 * k
        rows += [{"variant": v, "experiment": e, "human_ai": 0.5, "eccnet_ai": ECCNET_RESULTS["asymmetry_index"][e],
                  "model_ai": a} for e, a in zip(exps, ai)]
        results[v] = {"mean_ai": float(ai.mean()), "mean_ai_ci": [float(ai.mean()) - 0.1, float(ai.mean()) + 0.1],
                      "human_mean_ai": 0.5, "polarity_matches": int((ai > 0).sum()), "n_experiments": len(exps),
                      "slope_r": 0.25 * k, "slope_r_ci": [float("nan"), float("nan")]}
    text = summary_table(pd.DataFrame(rows), results, ["none", "no_ecc", "extra"])
    lines = text.splitlines()
    assert max(map(len, lines)) <= 140
    ours = [ln for ln in lines if ln.startswith("ours ")]
    assert len(ours) == 1 and ours[0].split()[1:7] == [f"{a:+.3f}" for a in np.linspace(-0.5, 0.5, len(exps))]
    extra = [ln for ln in lines if ln.startswith("extra ")][0]
    assert f"{results['extra']['mean_ai']:+.3f} [+0.10,+0.30]" in extra and extra.split()[-2:] == ["4/6", "+0.500"]
    assert [ln for ln in lines if ln.startswith("eccNET (published)")][0].endswith("0.40")
