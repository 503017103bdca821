"""The OSIE free-viewing benchmark script, on generated data and (if present) on a few OSIE images."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazemodels.models import ScanpathModel, register_model
from gazemodels.models import registry as reg

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_osie_freeview", ROOT / "benchmarks" / "bench_osie_freeview.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def data(tmp_path, stimulus_factory, human_factory):
    specs = [(f"s{i:02d}.png", 64, 48, (10 + 6 * i, 12 + 3 * i)) for i in range(8)]
    stimuli = stimulus_factory(tmp_path, specs=specs)
    return human_factory(stimuli, n_subjects=5, n_fixations=7), stimuli


@pytest.fixture
def blob_data(tmp_path, stimulus_factory):
    """Humans who look from the centre to the image's bright blob, then anywhere."""
    specs = [(f"s{i:02d}.png", 64, 48, (10 + 6 * i, 40 - 4 * i)) for i in range(8)]
    stimuli = stimulus_factory(tmp_path, specs=specs)
    rng = np.random.default_rng(0)
    rows = []
    for (name, w, h, (bx, by)) in specs:
        for subj in range(5):
            pts = [(w / 2, h / 2), (bx, by) + rng.normal(0, 2, 2)] + list(rng.uniform([0, 0], [w, h], (5, 2)))
            for i, (x, y) in enumerate(pts):
                rows.append((name, subj, 0, i, float(np.clip(x, 0, w)), float(np.clip(y, 0, h)), np.nan,
                             rng.gamma(4, 50)))
    cols = ["stimulus", "subject", "trial", "fix_index", "x", "y", "t_start", "duration"]
    return pd.DataFrame(rows, columns=cols), stimuli


def test_split_is_fixed_disjoint_and_skips_absent_images(bench):
    st = pd.DataFrame({"stimulus": [f"{i}.jpg" for i in range(11)], "path": ["p"] * 10 + [None]})
    a_fit, a_eval = bench.split_stimuli(st)
    b_fit, b_eval = bench.split_stimuli(st.sample(frac=1, random_state=3))
    assert (a_fit, a_eval) == (b_fit, b_eval)
    assert len(a_fit) == len(a_eval) == 5 and not set(a_fit) & set(a_eval)
    assert "10.jpg" not in a_fit + a_eval
    assert bench.split_stimuli(st, seed=1) != (a_fit, a_eval)


@pytest.fixture
def spy(monkeypatch):
    """A registered model that records the stimuli it is fitted on and predicts for."""
    reg.list_models()  # load the built-in models into the real registry before copying it
    monkeypatch.setattr(reg, "_MODELS", dict(reg._MODELS))
    seen = {"fit": set(), "predict": set()}

    @register_model("test-spy")
    class Spy(ScanpathModel):
        needs_image = False

        def fit(self, fixations, stimuli=None, **kw):
            seen["fit"] |= set(fixations["stimulus"]) | set(stimuli["stimulus"])
            return super().fit(fixations, stimuli, **kw)

        def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
            seen["predict"].add(stimulus["stimulus"])
            return rng.uniform([0, 0], [stimulus["width"], stimulus["height"]], (n_scanpaths, n_fixations, 2))

    return seen


def test_models_are_fitted_on_the_fitting_half_only(bench, data, spy):
    humans, stimuli = data
    res = bench.run_benchmark(humans, stimuli, ["test-spy"], n_scanpaths=2, n_boot=20, progress=False)
    fit_names, eval_names = bench.split_stimuli(stimuli)
    assert spy["fit"] == set(fit_names)
    assert spy["predict"] == set(eval_names)
    assert res["settings"]["n_fixations"] == 7  # the median human length of the fitting half


def test_benchmark_table_orders_models_sensibly(bench, blob_data):
    humans, stimuli = blob_data
    models = ["random", "centre", "saliency", "human-shuffled"]
    res = bench.run_benchmark(humans, stimuli, models, n_scanpaths=4, n_boot=50, progress=False)
    s = res["summary"]
    assert set(s) == set(models) | {"human (LOSO ceiling)"}
    for m in s:
        for col, _, _ in bench.COLUMNS:
            e = s[m][col]
            assert e["low"] <= e["mean"] <= e["high"], (m, col)
            assert e["n_images"] == 4
    # humans go from the centre to the salient blob, as the saliency model does: saliency and ceiling beat random
    for col in ("multimatch_position", "ss", "scanmatch"):
        assert s["human (LOSO ceiling)"][col]["mean"] > s["random"][col]["mean"], col
        assert s["saliency"][col]["mean"] > s["random"][col]["mean"], col
    assert all(res["seconds_per_image"][m]["seconds_per_image"] > 0 for m in models)
    table = bench.format_table(res)
    assert table.count("\n") == 1 + len(models) + 1
    assert "human (LOSO ceiling)" in table and "100.0%" in table
    per = res["per_scanpath"]
    assert set(per["model"]) == set(s)
    assert len(per[per["model"] == "random"]) == 4 * 4


def test_n_images_takes_a_prefix_of_the_evaluation_half(bench, data):
    humans, stimuli = data
    res = bench.run_benchmark(humans, stimuli, ["random"], n_images=2, n_scanpaths=2, n_boot=0, progress=False)
    _, eval_names = bench.split_stimuli(stimuli)
    assert set(res["per_scanpath"]["stimulus"]) == set(eval_names[:2])
    assert math.isnan(res["summary"]["random"]["mm_mean"]["low"])  # no bootstrap


@pytest.mark.realdata
def test_on_four_osie_images(bench, shared_data):
    from gazemodels.datasets import load

    folder = shared_data / "osie"
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load("osie", root=folder)
    res = bench.run_benchmark(ds.fixations, ds.stimuli, ["random", "centre"], n_images=4, n_boot=100,
                              progress=False)
    s = res["summary"]
    assert res["settings"]["n_fit_images"] == 300 and res["settings"]["n_fixations"] == 9
    ceiling = s["human (LOSO ceiling)"]
    for col in ("multimatch_position", "scanmatch", "ss"):
        assert ceiling[col]["mean"] > s["random"][col]["mean"], col
    assert s["random"]["edit_distance_norm"]["mean"] > ceiling["edit_distance_norm"]["mean"]
    assert np.isfinite([s[m]["mm_mean"]["mean"] for m in s]).all()


def test_half_fitting_scores_fitting_images_and_models_still_fit_on_the_fitting_half(bench, data, spy):
    humans, stimuli = data
    res = bench.run_benchmark(humans, stimuli, ["test-spy"], n_images=3, n_scanpaths=2, n_boot=0, progress=False,
                              half="fitting")
    fit_names, eval_names = bench.split_stimuli(stimuli)
    assert spy["predict"] == set(fit_names[:3])
    assert spy["fit"] == set(fit_names)
    assert not spy["predict"] & set(eval_names)
    assert set(res["per_scanpath"]["stimulus"]) == set(fit_names[:3])
    assert res["settings"]["half"] == "fitting"
    with pytest.raises(ValueError, match="half"):
        bench.run_benchmark(humans, stimuli, ["random"], half="validation", progress=False)


def test_saved_predictions_resume_and_score_like_a_direct_run(bench, data, tmp_path):
    humans, stimuli = data
    path = tmp_path / "pred.csv"
    kw = dict(n_scanpaths=3, seed=4)
    bench.save_predictions(humans, stimuli, "random", path, n_images=2, progress=False, **kw)
    assert pd.read_csv(path)["stimulus"].nunique() == 2
    # a second call resumes: the first two images are not predicted again
    full = bench.save_predictions(humans, stimuli, "random", path, n_images=3, progress=False, **kw)
    times = pd.read_csv(str(path) + ".times.csv")
    assert len(times) == 3 and full["stimulus"].nunique() == 3 and len(full) == 3 * 3 * 7
    direct = bench.run_benchmark(humans, stimuli, ["random"], n_images=3, n_boot=0, progress=False, **kw)
    saved = bench.run_benchmark(humans, stimuli, ["random"], n_images=3, n_boot=0, progress=False,
                                predictions={"random": full}, prediction_seconds={"random": 1.5}, **kw)
    cols = [c for c, _, _ in bench.COLUMNS]
    pd.testing.assert_frame_equal(direct["per_scanpath"][cols], saved["per_scanpath"][cols])
    assert saved["seconds_per_image"]["random"]["seconds_per_image"] == 1.5
    assert saved["settings"]["predictions_saved"] == ["random"]
    with pytest.raises(ValueError, match="missing"):
        bench.run_benchmark(humans, stimuli, ["random"], n_images=4, n_boot=0, progress=False,
                            predictions={"random": full}, **kw)
    with pytest.raises(ValueError, match="asks for"):
        bench.run_benchmark(humans, stimuli, ["random"], n_images=3, n_boot=0, progress=False,
                            predictions={"random": full}, n_scanpaths=2)


def test_explicit_images_must_come_from_the_scored_half(bench, data):
    humans, stimuli = data
    fit_names, eval_names = bench.split_stimuli(stimuli)
    res = bench.run_benchmark(humans, stimuli, ["random"], n_scanpaths=2, n_boot=0, progress=False, half="fitting",
                              images=[fit_names[2], fit_names[0]])
    assert set(res["per_scanpath"]["stimulus"]) == {fit_names[0], fit_names[2]}
    with pytest.raises(ValueError, match="not in the fitting half"):
        bench.run_benchmark(humans, stimuli, ["random"], n_scanpaths=2, n_boot=0, progress=False, half="fitting",
                            images=[eval_names[0]])


def test_mbr_decoding_of_a_baseline_scores_like_its_saved_predictions(bench, data, tmp_path):
    """--mbr MODEL=N wraps the model in the MBR decoder, directly and when predictions are saved."""
    humans, stimuli = data
    kw = dict(n_scanpaths=2, seed=1, n_images=2)
    direct = bench.run_benchmark(humans, stimuli, ["random"], n_boot=0, progress=False, mbr={"random": 3}, **kw)
    plain = bench.run_benchmark(humans, stimuli, ["random"], n_boot=0, progress=False, **kw)
    path = tmp_path / "mbr.csv"
    saved = bench.save_predictions(humans, stimuli, "random", path, progress=False, mbr=3, **kw)
    again = bench.run_benchmark(humans, stimuli, ["random"], n_boot=0, progress=False,
                                predictions={"random": saved}, **kw)
    cols = [c for c, _, _ in bench.COLUMNS]
    pd.testing.assert_frame_equal(direct["per_scanpath"][cols], again["per_scanpath"][cols])
    assert not np.allclose(direct["per_scanpath"]["multimatch_vector"], plain["per_scanpath"]["multimatch_vector"])
    assert type(direct["models"]["random"]).__name__ != "MBRDecoder"  # the fitted model itself
    assert direct["settings"]["mbr_candidates"] == {"random": 3} and plain["settings"]["mbr_candidates"] == {}
    with pytest.raises(SystemExit, match="--mbr must be MODEL=N"):
        bench.main(["--models", "random", "--mbr", "centre=4", "--n-images", "1"])
