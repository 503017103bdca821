"""Behaviour of each baseline scanpath model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gazemodels.models import get_model
from gazemodels.models.scanpath.baselines import OSIE_CENTRE_MEAN, SaliencyWTAModel
from gazemodels.saliency import itti_koch, saliency_map, spectral_residual


def _blob_stimulus(tmp_path, w=160, h=120, blob=(120, 30), size=10, ppd=10.0):
    rng = np.random.default_rng(0)
    img = (110 + 8 * rng.standard_normal((h, w, 3))).clip(0, 255).astype(np.uint8)
    x, y = blob
    img[y - size // 2: y + size // 2, x - size // 2: x + size // 2] = 255
    path = tmp_path / "blob.png"
    Image.fromarray(img).save(path)
    return pd.DataFrame([{"stimulus": "blob.png", "path": str(path), "width": float(w), "height": float(h),
                          "px_per_degree": ppd}])


# ---------------------------------------------------------------- random


def test_random_covers_the_stimulus_uniformly(stimuli):
    out = get_model("random").predict(stimuli.iloc[[1]], n_scanpaths=200, n_fixations=10, seed=0)
    assert out["x"].mean() == pytest.approx(40, abs=2)
    assert out["y"].mean() == pytest.approx(30, abs=1.5)
    assert out["x"].std() == pytest.approx(80 / np.sqrt(12), rel=0.1)


# ---------------------------------------------------------------- centre


def _humans_at(stimuli, mean_uv, sd_uv, n=400, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for _, st in stimuli.iterrows():
        uv = np.clip(rng.normal(mean_uv, sd_uv, size=(n, 2)), 0, 1)
        for k, (u, v) in enumerate(uv):
            rows.append((st["stimulus"], k // 10, 0, k % 10, u * st["width"], v * st["height"], np.nan,
                         rng.gamma(4, 50)))
    return pd.DataFrame(rows, columns=["stimulus", "subject", "trial", "fix_index", "x", "y", "t_start",
                                       "duration"])


@pytest.mark.parametrize("density", ["gaussian", "kde"])
def test_centre_mean_is_near_the_fitted_mean(density, stimuli):
    humans = _humans_at(stimuli, (0.3, 0.65), (0.06, 0.04))
    model = get_model("centre", density=density).fit(humans, stimuli)
    assert model.mean == pytest.approx([0.3, 0.65], abs=0.01)
    out = model.predict(stimuli, n_scanpaths=100, n_fixations=10, seed=0)
    for _, st in stimuli.iterrows():
        o = out[out["stimulus"] == st["stimulus"]]
        assert (o["x"] / st["width"]).mean() == pytest.approx(0.3, abs=0.015)
        assert (o["y"] / st["height"]).mean() == pytest.approx(0.65, abs=0.015)
        assert (o["x"] / st["width"]).std() == pytest.approx(0.06, rel=0.2)


def test_centre_default_is_the_osie_density(stimuli):
    out = get_model("centre").predict(stimuli, n_scanpaths=100, n_fixations=10, seed=1)
    u = out["x"] / out["stimulus"].map(dict(zip(stimuli["stimulus"], stimuli["width"])))
    assert u.mean() == pytest.approx(OSIE_CENTRE_MEAN[0], abs=0.02)


def test_centre_fit_needs_the_stimulus_table(stimuli, humans):
    with pytest.raises(ValueError, match="stimulus table"):
        get_model("centre").fit(humans)
    with pytest.raises(ValueError, match="absent from the stimulus table"):
        get_model("centre").fit(humans, stimuli.iloc[[0]])


# ---------------------------------------------------------------- saliency


def test_saliency_maps_peak_on_the_blob(tmp_path):
    st = _blob_stimulus(tmp_path)
    img = np.asarray(Image.open(st["path"][0]).convert("RGB"))
    for fn in (spectral_residual, itti_koch):
        s = fn(img)
        assert s.shape == (120, 160) and s.max() == pytest.approx(1.0)
        r, c = np.unravel_index(s.argmax(), s.shape)
        assert abs(c - 120) <= 8 and abs(r - 30) <= 8, fn.__name__
    flat = np.full((30, 40, 3), 77, np.uint8)
    assert spectral_residual(flat).max() == 0 and itti_koch(flat).max() == 0
    with pytest.raises(ValueError, match="unknown saliency map"):
        saliency_map(img, "deepgaze")


@pytest.mark.parametrize("method", ["spectral_residual", "itti_koch"])
def test_wta_starts_at_the_centre_then_goes_to_the_blob(method, tmp_path):
    st = _blob_stimulus(tmp_path)
    out = get_model("saliency", method=method).predict(st, n_scanpaths=5, n_fixations=4, seed=0)
    first = out[out["fix_index"] == 0]
    assert np.allclose(first[["x", "y"]], [80, 60])
    second = out[out["fix_index"] == 1]
    assert (np.hypot(second["x"] - 120, second["y"] - 30) < 10).all()


def test_wta_first_fixation_on_saliency(tmp_path):
    st = _blob_stimulus(tmp_path)
    out = get_model("saliency", first="saliency", noise=0.0).predict(st, n_scanpaths=2, n_fixations=1, seed=0)
    assert (np.hypot(out["x"] - 120, out["y"] - 30) < 10).all()


def test_inhibition_of_return_prevents_refixation(tmp_path):
    st = _blob_stimulus(tmp_path)
    ior = SaliencyWTAModel(noise=0.0, ior_radius_deg=2.0)
    out = ior.predict(st, n_scanpaths=1, n_fixations=6, seed=0)
    xy = out.sort_values("fix_index")[["x", "y"]].to_numpy()
    on_blob = np.hypot(xy[:, 0] - 120, xy[:, 1] - 30) < 10
    assert on_blob[1] and not on_blob[2:].any()
    assert (np.hypot(*np.diff(xy[1:], axis=0).T) > 10).all()  # no immediate refixation
    # without inhibition, winner-take-all stays on the winner
    stuck = SaliencyWTAModel(noise=0.0, ior_strength=0.0).predict(st, n_scanpaths=1, n_fixations=6, seed=0)
    xy = stuck.sort_values("fix_index")[["x", "y"]].to_numpy()
    assert (np.hypot(xy[1:, 0] - 120, xy[1:, 1] - 30) < 10).all()


def test_saliency_noise_makes_scanpaths_differ(tmp_path):
    st = _blob_stimulus(tmp_path)
    out = get_model("saliency").predict(st, n_scanpaths=6, n_fixations=6, seed=0)
    late = out[out["fix_index"] >= 3].groupby("subject")[["x", "y"]].apply(lambda g: tuple(g.round().to_numpy().ravel()))
    assert late.nunique() > 1


def test_saliency_parameters_are_checked():
    with pytest.raises(ValueError, match="unknown saliency map"):
        SaliencyWTAModel(method="nope")
    with pytest.raises(ValueError, match="first"):
        SaliencyWTAModel(first="left")
    with pytest.raises(ValueError, match="ior_radius_deg"):
        SaliencyWTAModel(ior_radius_deg=0)


# ---------------------------------------------------------------- human-shuffled


def test_human_shuffled_never_uses_the_same_images_scanpaths(stimuli):
    st = pd.concat([stimuli, stimuli.assign(stimulus=["c.png", "d.png"])], ignore_index=True)
    rng = np.random.default_rng(0)
    rows = []
    for _, s in st.iterrows():  # every human fixation has its own coordinates
        for subj in range(4):
            uv = rng.uniform(0, 1, size=(7, 2))
            for i, (u, v) in enumerate(uv):
                rows.append((s["stimulus"], subj, 0, i, u * s["width"], v * s["height"], np.nan, 200.0 + i))
    humans = pd.DataFrame(rows, columns=["stimulus", "subject", "trial", "fix_index", "x", "y", "t_start",
                                         "duration"])
    owner = {}
    for (stim, subj), g in humans.groupby(["stimulus", "subject"]):
        w, h = st.set_index("stimulus").loc[stim, ["width", "height"]]
        owner[tuple(np.round(g.sort_values("fix_index")[["x", "y"]].to_numpy()[:5] / [w, h], 6).ravel())] = stim
    model = get_model("human-shuffled").fit(humans, st)
    out = model.predict(st, n_scanpaths=8, n_fixations=5, seed=3)
    used = set()
    for (stim, subj), g in out.groupby(["stimulus", "subject"]):
        w, h = st.set_index("stimulus").loc[stim, ["width", "height"]]
        key = tuple(np.round(g.sort_values("fix_index")[["x", "y"]].to_numpy() / [w, h], 6).ravel())
        assert key in owner, "not a rescaled human scanpath"
        assert owner[key] != stim, f"{stim} got its own human scanpath"
        used.add(owner[key])
    assert used == set(st["stimulus"])  # every image's scanpaths do get used for the others


def test_human_shuffled_without_long_enough_scanpaths(stimuli, humans):
    model = get_model("human-shuffled").fit(humans, stimuli)
    with pytest.raises(ValueError, match="9 fixations"):
        model.predict(stimuli, n_scanpaths=2, n_fixations=9, seed=0)
