"""The fixation-conditioned free-viewing model: densities, maximum-likelihood training, sampling, fit task."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gazemodels.metrics.conditional import conditional_scores
from gazemodels.models import get_model, load_model, save_model, validate_scanpath_model
from gazemodels.models.scanpath.base import load_image
from gazemodels.models.scanpath.freeview import (
    FreeviewModel,
    FreeviewNet,
    FreeviewTask,
    freeview_loss,
)
from gazemodels.models.scanpath.freeview_data import Geometry, build_transitions, collate_images

ROOT = Path(__file__).resolve().parents[3]
OSIE = ROOT.parent / "shared" / "data" / "osie"
HAS_OSIE = (OSIE / "stimuli" / "1001.jpg").is_file()

TINY = {"input_height": 48, "input_width": 64, "stem_stage": 3, "pretrained": False, "depth": 1, "width": 16,
        "heads": 2, "head_width": 8, "fourier_bands": 4}
"""A network small enough for the tests (random stem, 3 x 4 tokens, 12 x 16 density cells)."""


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def alternating_humans(stimuli: pd.DataFrame, n_subjects: int = 6, n_fix: int = 8, seed: int = 0) -> pd.DataFrame:
    """Observers who alternate between the left and the right quarter of the image, starting at the centre."""
    rng = np.random.default_rng(seed)
    rows = []
    for _, st in stimuli.iterrows():
        w, h = st["width"], st["height"]
        for subj in range(n_subjects):
            side = rng.integers(2)
            for i in range(n_fix):
                if i == 0:
                    x, y = w / 2, h / 2
                else:
                    x = (0.2 if side else 0.8) * w + rng.normal(0, 0.03 * w)
                    y = h / 2 + rng.normal(0, 0.15 * h)
                    side = 1 - side
                rows.append((st["stimulus"], subj + 1, 0, i, float(np.clip(x, 0, w)), float(np.clip(y, 0, h)),
                             np.nan, float(rng.gamma(4, 50))))
    return pd.DataFrame(rows, columns=["stimulus", "subject", "trial", "fix_index", "x", "y", "t_start", "duration"])


def test_density_sums_to_one_over_the_image(stimuli, humans):
    model = FreeviewModel(epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    row = stimuli.iloc[1]
    image = load_image(row["path"], size=(int(row["width"]), int(row["height"])))
    sps = [g.sort_values("fix_index")[["x", "y"]].to_numpy(float)
           for _, g in humans[humans["stimulus"] == row["stimulus"]].groupby("subject")]
    maps = model.conditional_log_density(image, row, sps)
    assert [m.shape for m in maps] == [(len(sp) - 1, *model.density_grid) for sp in sps]
    rows, cols = model.density_grid
    cell_area = (row["width"] / cols) * (row["height"] / rows)
    for m in maps:
        p = np.exp(m)
        np.testing.assert_allclose(p.sum(axis=(1, 2)), 1.0, atol=1e-9)
        # as a density per px^2, uniform inside each cell, it integrates to 1 over the image
        np.testing.assert_allclose((p / cell_area).sum(axis=(1, 2)) * cell_area, 1.0, atol=1e-9)
        assert (p > 0).all()
    # the network's own normalisation, on arbitrary logits
    net = model.net
    enc = net.encode_images(torch.randn(3, 80, 3, 4), torch.full((3,), 8.0))
    hist = torch.rand(3, 5, net.history, 2) * torch.tensor([64.0, 48.0])
    mask = torch.rand(3, 5, net.history) > 0.3
    with torch.no_grad():
        net.saccade_table.normal_(0, 3)
        net.momentum_table.normal_(0, 3)
    fine = net.fine_logits(torch.randn(3, 5, net.grid[0] * net.grid[1]) * 4, enc, hist, mask)
    logp = net.fine_log_probs(fine)
    assert logp.shape == (3, 5, net.n_cells)
    torch.testing.assert_close(logp.exp().sum(-1), torch.ones(3, 5), atol=1e-5, rtol=0)


def test_history_changes_the_density(stimuli, humans):
    model = FreeviewModel(epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    row = stimuli.iloc[0]
    image = load_image(row["path"], size=(int(row["width"]), int(row["height"])))
    a, b = model.conditional_log_density(image, row, [np.array([[10.0, 10.0], [0, 0]]),
                                                      np.array([[50.0, 40.0], [0, 0]])])
    assert not np.allclose(a, b)


@pytest.fixture
def tiny_batch(stimuli):
    humans = alternating_humans(stimuli)
    net = FreeviewNet(**TINY)
    from gazemodels.models.scanpath.freeview import _prepare

    ds = _prepare(net, humans, stimuli, list(stimuli["stimulus"]), cache_dir="")
    return net, ds


def test_nll_decreases_with_training(tiny_batch):
    torch.manual_seed(0)
    net, ds = tiny_batch
    batch = collate_images([ds[i] for i in range(len(ds))])
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=5e-3)
    first = None
    for _ in range(25):
        loss, metrics = freeview_loss(net, batch, n_cells=net.n_cells)
        first = metrics if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    _, last = freeview_loss(net, batch, n_cells=net.n_cells)
    assert last["nll_pos"] < first["nll_pos"] - 0.3
    assert last["nll_dur"] < first["nll_dur"]
    assert last["ig_uniform_bits"] > 0.4  # the alternation is learnable from the history


def test_fitted_model_follows_the_history(stimuli):
    """Observers alternate sides: the density after a left fixation must lie mostly on the right."""
    humans = alternating_humans(stimuli, n_subjects=10)
    model = FreeviewModel(epochs=25, lr=5e-3, val_fraction=0.0, cache_dir="", **TINY).fit(humans, stimuli)
    row = stimuli.iloc[0]
    w, h = row["width"], row["height"]
    image = load_image(row["path"], size=(int(w), int(h)))
    left = np.array([[w / 2, h / 2], [0.2 * w, h / 2], [0.8 * w, h / 2]])
    right = np.array([[w / 2, h / 2], [0.8 * w, h / 2], [0.2 * w, h / 2]])
    m_left, m_right = model.conditional_log_density(image, row, [left, right], start=2)
    cols = model.density_grid[1]
    mass_right_after_left = np.exp(m_left[0])[:, cols // 2:].sum()
    mass_left_after_right = np.exp(m_right[0])[:, : cols // 2].sum()
    assert mass_right_after_left > 0.75 and mass_left_after_right > 0.75


def test_sampling_is_reproducible_and_passes_the_contract(stimuli, humans):
    model = get_model("freeview", epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    out = validate_scanpath_model(model, stimuli, n_scanpaths=3, n_fixations=5, seed=3, other_seed=4)
    again = model.predict(stimuli, n_scanpaths=3, n_fixations=5, seed=3)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), again.reset_index(drop=True))
    # fixation 0 is the training data's mean first fixation; durations come from the head
    first = out[out["fix_index"] == 0]
    size = stimuli.set_index("stimulus").loc[first["stimulus"], ["width", "height"]].to_numpy(float)
    np.testing.assert_allclose(first[["x", "y"]].to_numpy(float) / size, np.tile(model.first_uv, (len(first), 1)),
                               atol=1e-9)
    assert (out["duration"] > 0).all() and out["duration"].nunique() > 10
    # predict's positions equal generate's with the image's stream 0
    from gazemodels.models.scanpath.base import stimulus_rng

    row = stimuli.iloc[0]
    image = load_image(row["path"], size=(int(row["width"]), int(row["height"])))
    pos = model.generate(image, row, 3, 5, stimulus_rng(3, row["stimulus"], 0))
    mine = out[out["stimulus"] == row["stimulus"]].sort_values(["subject", "fix_index"])[["x", "y"]].to_numpy()
    np.testing.assert_allclose(pos.reshape(-1, 2), mine)


def test_conditional_metrics_run_on_the_model_densities(stimuli, humans):
    model = FreeviewModel(epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    row = stimuli.iloc[0]
    w, h = row["width"], row["height"]
    image = load_image(row["path"], size=(int(w), int(h)))
    sp = humans[(humans["stimulus"] == row["stimulus"]) & (humans["subject"] == 1)].sort_values("fix_index")
    xy = sp[["x", "y"]].to_numpy(float)
    (maps,) = model.conditional_log_density(image, row, [xy])
    rows, cols = model.density_grid
    grid_xy = np.column_stack([xy[:, 0] / w * cols, xy[:, 1] / h * rows])
    sc = conditional_scores(maps, grid_xy, start=1, log_density=True, baseline="centre")
    assert len(sc) == len(xy) - 1
    assert np.isfinite(sc[["cll", "cig", "cnss"]].to_numpy()).all()
    assert ((sc["cauc"] >= 0) & (sc["cauc"] <= 1)).all()
    # cLL of the cell probabilities equals the model's log-probability of each fixation's cell
    rr = np.minimum((grid_xy[1:, 1]).astype(int), rows - 1)
    cc = np.minimum((grid_xy[1:, 0]).astype(int), cols - 1)
    np.testing.assert_allclose(sc["cll"], maps[np.arange(len(maps)), rr, cc] / math.log(2), rtol=1e-9)


def test_benchmark_conditional_metrics(tmp_path, stimulus_factory, human_factory):
    spec = importlib.util.spec_from_file_location("bench_osie_freeview", ROOT / "benchmarks" / "bench_osie_freeview.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    more = [(f"s{i:02d}.png", 64, 48, (10 + 6 * i, 12 + 3 * i)) for i in range(4)]
    st = stimulus_factory(tmp_path, specs=more)
    hu = human_factory(st, n_subjects=4, n_fixations=6)
    fit_names, eval_names = bench.split_stimuli(st)
    fit_st, fit_hu = st[st["stimulus"].isin(fit_names)], hu[hu["stimulus"].isin(fit_names)]
    models = {"centre": get_model("centre").fit(fit_hu, fit_st),
              "freeview": FreeviewModel(epochs=1, cache_dir="", **TINY).fit(fit_hu, fit_st),
              "random": get_model("random")}
    res = bench.run_conditional(hu, st, models, n_boot=50, grid=(12, 16), progress=False)
    assert set(res["summary"]) == {"centre", "freeview"}  # random gives no density
    assert set(res["per_fixation"]["stimulus"]) == set(eval_names)
    assert res["summary"]["centre"]["cig"]["mean"] == pytest.approx(0.0, abs=1e-9)  # the baseline itself
    for m in ("centre", "freeview"):
        s = res["summary"][m]
        assert 0 <= s["cauc"]["mean"] <= 1 and np.isfinite(s["cnss"]["mean"]) and np.isfinite(s["cll"]["mean"])
    table = bench.format_conditional_table(res)
    assert "freeview" in table and "cIG" in table


def test_checkpoint_refuses_data_without_its_training_images(stimuli, humans, tmp_path):
    model = FreeviewModel(epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    path = tmp_path / "fv.pt"
    save_model(model, path)
    loaded = FreeviewModel(checkpoint=path, temperature=0.5)
    assert loaded.fitted and loaded.temperature == 0.5
    loaded.fit(humans, stimuli)  # the same data: accepted, not retrained
    one = stimuli.iloc[:1]
    with pytest.raises(ValueError, match="not in the fitting data"):
        loaded.fit(humans[humans["stimulus"] == one["stimulus"].iloc[0]], one)
    a = model.predict(stimuli, 2, 4, seed=0)
    b = load_model(path).predict(stimuli, 2, 4, seed=0)
    pd.testing.assert_frame_equal(a, b)


def test_unfitted_model_and_bad_arguments():
    from gazemodels.models.scanpath.base import ModelNotFittedError

    with pytest.raises(ValueError, match="unknown argument"):
        FreeviewModel(depthh=2)
    with pytest.raises(ValueError, match="temperature"):
        FreeviewModel(temperature=0)
    with pytest.raises(ValueError, match="multiples of 16"):
        FreeviewNet(input_height=50)
    st = pd.DataFrame({"stimulus": ["a"], "path": ["x.png"], "width": [64.0], "height": [48.0],
                       "px_per_degree": [8.0]})
    with pytest.raises(ModelNotFittedError):
        FreeviewModel().predict(st, 1, 2, seed=0)


def test_other_imagenet_stems_and_checkpoints_from_before_the_stem_option():
    net = FreeviewNet(input_height=32, input_width=48, stem="efficientnet_lite2", stem_stage=3, pretrained=False,
                      depth=1, width=16, heads=2)
    assert net.backbone.stem.variant == "efficientnet_lite2" and net.backbone.stem.out_channels == 88
    with pytest.raises(ValueError, match="stem"):
        FreeviewNet(input_height=32, input_width=48, stem="vgg16", pretrained=False)
    # a checkpoint written before the option has no "stem" key: it gets lite0, its stem then
    old = {k: v for k, v in FreeviewNet(input_height=32, input_width=48, stem_stage=3, pretrained=False, depth=1,
                                        width=16, heads=2).cfg.items() if k != "stem"}
    assert FreeviewNet(**old).backbone.stem.variant == "efficientnet_lite0"


def test_transitions_and_geometry():
    st = pd.DataFrame({"stimulus": ["a"], "path": ["x"], "width": [800.0], "height": [600.0],
                       "px_per_degree": [24.0]})
    fx = pd.DataFrame({"stimulus": "a", "subject": 1, "trial": 0, "fix_index": [0, 1, 2],
                       "x": [400.0, 100.0, 700.0], "y": [300.0, 60.0, 540.0], "duration": [200.0, 150.0, 300.0]})
    g = Geometry.of(st.iloc[0], (240, 320))
    assert g.model_ppd == pytest.approx(9.6)
    tr = build_transitions(fx, st, history=3, input_hw=(240, 320))
    assert tr.history.shape == (2, 3, 2)
    np.testing.assert_allclose(tr.history[1, :2], [[40.0, 24.0], [160.0, 120.0]])
    assert tr.mask.tolist() == [[True, False, False], [True, True, False]]
    np.testing.assert_allclose(tr.target, [[40.0, 24.0], [280.0, 216.0]])
    np.testing.assert_allclose(tr.duration, [150.0, 300.0])


@pytest.mark.skipif(not HAS_OSIE, reason="OSIE images not in ../shared/data/osie")
def test_fit_task_on_osie_and_predict_from_best(tmp_path):
    """``gazemodels fit`` with the freeview task on four OSIE images of the fitting half, then predict."""
    from gazemodels.datasets import load
    from gazemodels.datasets.splits import fixed_halves
    from gazemodels.training.trainer import fit

    cfg = {"task": {"name": "freeview", "data_root": str(OSIE), "max_images": 4, "val_fraction": 0.25,
                    "cache_dir": str(tmp_path / "cache"), **TINY},
           "optim": {"name": "adam", "lr": 5e-3},
           "train": {"epochs": 2, "batch_size": 2, "seed": 0}}
    res = fit(cfg, tmp_path / "run", progress=False)
    rows = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert {"val_loss", "val_nll_pos", "val_ig_uniform_bits"} <= set(rows.columns)
    assert rows["train_nll_pos"].iloc[-1] < rows["train_nll_pos"].iloc[0]
    assert res.best_epoch >= 1
    model = load_model(tmp_path / "run" / "best.pt")
    assert isinstance(model, FreeviewModel) and model.fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load("osie", root=str(OSIE))
    fit_names, eval_names = fixed_halves(ds.stimuli)
    assert set(model.trained_on) == set(fit_names[:4])
    st = ds.stimuli[ds.stimuli["stimulus"].astype(str) == eval_names[0]]
    out = validate_scanpath_model(model, st, n_scanpaths=2, n_fixations=4)
    assert len(out) == 8


@pytest.mark.skipif(not HAS_OSIE, reason="OSIE images not in ../shared/data/osie")
def test_task_items_are_images_of_the_fitting_half(tmp_path):
    task = FreeviewTask.from_config({"name": "freeview", "data_root": str(OSIE), "max_images": 3,
                                     "val_fraction": 0.34, "cache_dir": str(tmp_path), **TINY})
    task.build_model()
    splits = task.datasets()
    assert len(splits.train) == 2 and len(splits.val) == 1
    item = splits.train[0]
    assert item["features"].shape[0] == 80  # EfficientNet-lite0 stage 3: 80 channels at stride 16
    assert item["history"].shape[1:] == (4, 2) and len(item["target"]) > 50  # ~15 observers x ~9 transitions
    assert len(list(tmp_path.glob("*.pt"))) == 3  # the cached feature maps


def test_one_fixation_history_has_no_momentum_term(stimuli, humans):
    model = FreeviewModel(epochs=1, cache_dir="", history=1, **TINY).fit(humans, stimuli)
    out = model.predict(stimuli, n_scanpaths=2, n_fixations=4, seed=0)
    assert len(out) == 2 * 2 * 4 and np.isfinite(out[["x", "y", "duration"]].to_numpy()).all()


def test_first_fixation_mean_or_sampled(stimuli, humans):
    humans = humans.copy()
    f0 = humans["fix_index"] == 0
    humans.loc[f0, "x"] += np.random.default_rng(0).uniform(-8, 8, f0.sum())  # first fixations scattered
    model = FreeviewModel(epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    first = humans.sort_values("fix_index").groupby(["stimulus", "subject"]).head(1)
    size = stimuli.set_index("stimulus").loc[first["stimulus"], ["width", "height"]].to_numpy(float)
    np.testing.assert_allclose(model.first_uv, (first[["x", "y"]].to_numpy(float) / size).mean(axis=0), atol=1e-9)
    model.first_fixation = "sample"
    a = model.predict(stimuli, n_scanpaths=6, n_fixations=2, seed=0)
    b = model.predict(stimuli, n_scanpaths=6, n_fixations=2, seed=0)
    pd.testing.assert_frame_equal(a, b)
    f0 = a[a["fix_index"] == 0]
    assert f0.groupby("stimulus")["x"].nunique().min() == 6  # drawn, not fixed
    with pytest.raises(ValueError, match="first_fixation"):
        FreeviewModel(first_fixation="centre")


def test_saccade_prior_pulls_sampled_directions_toward_the_humans(stimuli):
    """Observers make horizontal saccades only: a direction prior makes sampled saccades more horizontal."""
    humans = alternating_humans(stimuli, n_subjects=6)
    model = FreeviewModel(epochs=1, val_fraction=0.0, cache_dir="", **TINY).fit(humans, stimuli)

    def horizontal_share(m):
        out = m.predict(stimuli, n_scanpaths=20, n_fixations=6, seed=0).sort_values(["stimulus", "subject",
                                                                                      "fix_index"])
        d = out.groupby(["stimulus", "subject"])[["x", "y"]].diff().dropna().to_numpy()
        d = d[np.hypot(d[:, 0], d[:, 1]) > 1.0]
        return np.mean(np.abs(d[:, 0]) > 2 * np.abs(d[:, 1]))

    base = horizontal_share(model)
    for kind in ("direction", "vector"):
        with_prior = FreeviewModel.from_network(model.net, first_uv=model.first_uv, first_cov=model.first_cov,
                                                durations=model.durations, trained_on=model.trained_on)
        with_prior.saccade_prior, with_prior.saccade_prior_kind = 3.0, kind
        hist = with_prior.fit_saccade_prior(humans, stimuli)
        assert hist.shape == (73, 73) and np.isfinite(hist).all()
        assert horizontal_share(with_prior) > base + 0.2, kind
    with pytest.raises(ValueError, match="saccade_prior"):
        FreeviewModel(saccade_prior=-1.0)
    with pytest.raises(ValueError, match="saccade_prior"):
        FreeviewModel(saccade_prior=float("nan"))
    with pytest.raises(ValueError, match="saccade_prior_kind"):
        FreeviewModel(saccade_prior=1.0, saccade_prior_kind="angle")


def test_mbr_decoding_returns_a_subset_of_the_sampled_candidates(stimuli, humans):
    """decode="mbr" draws n x mbr_candidates scanpaths from the same stream and keeps n of them."""
    model = FreeviewModel(epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    mbr = FreeviewModel.from_network(model.net, first_uv=model.first_uv, first_cov=model.first_cov,
                                     durations=model.durations, trained_on=model.trained_on)
    mbr.decode, mbr.mbr_candidates = "mbr", 3
    out = validate_scanpath_model(mbr, stimuli, n_scanpaths=2, n_fixations=5, seed=1, other_seed=2)
    pool = model.predict(stimuli, n_scanpaths=6, n_fixations=5, seed=1)
    for name, got in out.groupby("stimulus"):
        cand = {tuple(np.round(g.sort_values("fix_index")[["x", "y"]].to_numpy().ravel(), 6))
                for _, g in pool[pool["stimulus"] == name].groupby("subject")}
        for _, g in got.groupby("subject"):
            assert tuple(np.round(g.sort_values("fix_index")[["x", "y"]].to_numpy().ravel(), 6)) in cand
    with pytest.raises(ValueError, match="decode"):
        FreeviewModel(decode="beam")
    with pytest.raises(ValueError, match="mbr_candidates"):
        FreeviewModel(decode="mbr", mbr_candidates=0)


def test_amplitude_temperature_keeps_the_fitted_amplitude_distribution(stimuli, humans):
    """temperature_mode="amplitude": every 1-degree ring around the fixation keeps its fitted mass."""
    model = FreeviewModel(epochs=1, cache_dir="", temperature=0.3, temperature_mode="amplitude",
                          **TINY).fit(humans, stimuli)
    row = stimuli.iloc[0]
    geom = Geometry.of(row, model.net.input_hw)
    rows, cols = model.density_grid
    rng = np.random.default_rng(0)
    p_fit = rng.dirichlet(np.ones(rows * cols), size=2)
    p = p_fit ** (1 / 0.3)
    fix = np.array([[10.0, 12.0], [40.0, 30.0]])
    dx, dy = model._cell_offsets_deg(geom, fix, rows, cols)
    out = model._keep_amplitudes(p, p_fit, dx, dy)
    ring = np.rint(np.hypot(dx, dy)).reshape(2, -1).astype(int)
    for b in range(2):
        np.testing.assert_allclose(np.bincount(ring[b], out[b]), np.bincount(ring[b], p_fit[b]), rtol=1e-10)
        inner = ring[b] == np.bincount(ring[b]).argmax()
        assert np.ptp(out[b][inner] / p_fit[b][inner]) > 0  # sharpened within the ring, not just copied
    with pytest.raises(ValueError, match="temperature_mode"):
        FreeviewModel(temperature_mode="ring")


def test_predict_settings_of_a_saved_model(stimuli, humans, tmp_path):
    """A fitted model keeps its network; its sampling settings can change, and bad ones name the key."""
    model = FreeviewModel(epochs=1, cache_dir="", **TINY).fit(humans, stimuli)
    path = tmp_path / "fv.pt"
    save_model(model, path)
    loaded = load_model(path).set_predict_settings(decode="mbr", mbr_candidates=2, temperature=0.5)
    assert (loaded.decode, loaded.mbr_candidates, loaded.temperature) == ("mbr", 2, 0.5)
    out = loaded.predict(stimuli, n_scanpaths=2, n_fixations=4, seed=0)
    assert len(out) == 2 * 2 * 4
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['depth'\]"):
        loaded.set_predict_settings(depth=3)
    with pytest.raises(ValueError, match="mbr_candidates"):
        loaded.set_predict_settings(mbr_candidates=1.5)
    with pytest.raises(ValueError, match="first_fixation"):
        loaded.set_predict_settings(first_fixation="centre")
