"""NevaClip with random open_clip weights offline: weights errors, captions, mechanics, contract."""

from __future__ import annotations

import socket
import time

import numpy as np
import open_clip
import pandas as pd
import pytest
import torch
from PIL import Image

from gazemodels.models import get_model, validate_scanpath_model
from gazemodels.models.scanpath import nevaclip as nc
from gazemodels.models.scanpath.nevaclip import (
    TINY_CLIP_CONFIG,
    MissingCaptionError,
    NevaClip,
    PretrainedWeightsError,
    load_open_clip,
)

PATCH_XY = (80, 14)


@pytest.fixture(autouse=True)
def offline_one_thread(monkeypatch):
    """No network (HF_HUB_OFFLINE=1) and one torch thread (tiny tensors on a shared machine)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def toy_image(path, size=(96, 64), patch_xy=PATCH_XY, patch=8):
    """Uniform grey with one 1-px checkerboard patch (the only fine detail)."""
    w, h = size
    img = np.full((h, w, 3), 128, np.uint8)
    x, y = patch_xy
    yy, xx = np.mgrid[y - patch // 2 : y + patch // 2, x - patch // 2 : x + patch // 2]
    img[yy, xx] = np.where(((yy + xx) % 2 == 0)[..., None], 255, 0).astype(np.uint8)
    Image.fromarray(img).save(path)


class DetailClip(torch.nn.Module):
    """Toy CLIP: the image embedding turns towards the text embedding as fine detail grows."""

    def encode_image(self, x):
        lap = 4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]
        detail = lap.pow(2).mean(dim=(1, 2, 3)).sqrt()
        return torch.stack([40.0 * detail, torch.ones_like(detail)], dim=1)

    def encode_text(self, tokens):
        return torch.tensor([[1.0, 0.0]]).expand(tokens.shape[0], 2)


def tiny(**kw):
    settings = dict(model_cfg=TINY_CLIP_CONFIG, pretrained=None, n_iter=2)
    settings.update(kw)
    return NevaClip(**settings)


@pytest.fixture
def toy_stimuli(tmp_path):
    toy_image(tmp_path / "toy.png")
    return pd.DataFrame([{"stimulus": "toy.png", "path": str(tmp_path / "toy.png"), "width": 96.0,
                          "height": 64.0, "px_per_degree": 8.0, "caption": "a checkerboard"}])


# ------------------------------------------------------------------------------ weights
def test_offline_without_cached_weights_fails_at_once_with_a_clear_message(tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(PretrainedWeightsError, match=r"'RN50'/'openai' are not in the local cache.*HF_HUB_OFFLINE"):
        NevaClip(cache_dir=tmp_path)
    with pytest.raises(PretrainedWeightsError, match="pretrained=None for random weights"):
        get_model("nevaclip", model_name="ViT-B-32", pretrained="openai", cache_dir=tmp_path)
    assert time.perf_counter() - t0 < 5.0


def test_unreachable_hub_fails_at_once(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    for v in nc._PROXY_VARS:
        monkeypatch.delenv(v, raising=False)
    calls = []

    def refuse(address, timeout=None, *a, **k):
        calls.append((address, timeout))
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    t0 = time.perf_counter()
    with pytest.raises(PretrainedWeightsError, match="huggingface.co cannot be reached"):
        load_open_clip("RN50", "openai", cache_dir=tmp_path)
    assert time.perf_counter() - t0 < 5.0
    assert calls == [(nc.HUB_HOST, 3.0)]


def test_unknown_model_or_tag_lists_the_choices():
    with pytest.raises(PretrainedWeightsError, match=r"no pretrained tag 'nope'.*'openai'"):
        load_open_clip("RN50", "nope")
    with pytest.raises(PretrainedWeightsError, match="unknown open_clip model"):
        load_open_clip("no-such-clip", None)


def test_cached_weights_are_used_without_the_network(monkeypatch, tmp_path):
    # A cached file is found offline, and create_model then runs with the Hub client offline.
    monkeypatch.setattr(nc, "_cached_weights", lambda hf_hub, cache_dir: str(tmp_path / "w.bin"))
    seen = {}

    def fake_create(name, pretrained=None, cache_dir=None):
        from huggingface_hub import constants

        seen["offline"] = constants.HF_HUB_OFFLINE
        return torch.nn.Linear(1, 1)

    monkeypatch.setattr(open_clip, "create_model", fake_create)
    model, tok = load_open_clip("RN50", "openai")
    assert isinstance(model, torch.nn.Linear) and seen["offline"] is True


# ------------------------------------------------------------------------------ captions
def test_missing_caption_names_the_image(stimuli):
    model = tiny()
    with pytest.raises(MissingCaptionError, match=r"caption for image 'a.png'"):
        model.predict(stimuli, n_scanpaths=1, n_fixations=2, seed=0)
    with_caps = stimuli.assign(caption=["a dog", None])
    with pytest.raises(MissingCaptionError, match=r"'b.png'"):
        model.predict(with_caps, n_scanpaths=1, n_fixations=2, seed=0)
    # A mapping fills the gap and takes precedence over the column.
    model = tiny(captions={"b.png": "a cat", "a.png": "a bird"})
    assert model.caption_of(with_caps.iloc[0]) == "a bird"
    assert model.caption_of(with_caps.iloc[1]) == "a cat"
    assert tiny(default_caption="a photo").caption_of(stimuli.iloc[0]) == "a photo"
    assert model.needs_caption


def test_caption_changes_the_scanpaths(stimuli):
    model = tiny(n_iter=3)
    a = model.predict(stimuli.assign(caption="a red square"), n_scanpaths=3, n_fixations=3, seed=0)
    b = model.predict(stimuli.assign(caption="an empty field of snow"), n_scanpaths=3, n_fixations=3, seed=0)
    assert not np.allclose(a[["x", "y"]].to_numpy(), b[["x", "y"]].to_numpy())


# ------------------------------------------------------------------------------ mechanics
def test_gradients_move_the_fixation_with_random_clip_weights(stimuli):
    model = tiny()
    img = np.asarray(Image.open(stimuli["path"][0]).convert("RGB"))
    row = stimuli.iloc[0].copy()
    row["caption"] = "a yellow square on grey noise"
    x, ppd = model.network_input(img, row)
    assert tuple(x.shape[-2:]) == (48, 48)
    assert ppd == pytest.approx((8.0 * 48 / 64, 8.0 * 48 / 48))
    fov = model.foveation(ppd)
    loss_fn = model.make_loss(x, row)
    pos = torch.tensor([[[20.0, 30.0], [10.0, 10.0]]], requires_grad=True)
    loss = loss_fn(fov(x, pos)[0])
    assert loss.shape == (2,) and torch.all((loss >= 0) & (loss <= 2))
    (grad,) = torch.autograd.grad(loss.sum(), pos)
    assert torch.isfinite(grad).all() and (grad.abs() > 0).all()


def test_fixations_follow_the_caption_objective_to_the_patch(toy_stimuli):
    model = tiny(fovea_sigma_deg=1.0, blur_sigma_deg=0.5, n_iter=20, n_candidates=2, forgetting=1.0)
    # Swap in a toy CLIP whose similarity to the caption grows with the patch's detail.
    model.clip = DetailClip()
    model.image_size = (64, 96)
    model.mean, model.std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    model._text_cache.clear()
    out = model.predict(toy_stimuli, n_scanpaths=6, n_fixations=2, seed=0)
    second = out[out["fix_index"] == 1][["x", "y"]].to_numpy()
    dist = np.hypot(second[:, 0] - PATCH_XY[0], second[:, 1] - PATCH_XY[1])
    assert (dist < 6.0).all(), second


# ------------------------------------------------------------------------------ contract
def test_tiny_nevaclip_passes_the_contract_validator(stimuli):
    model = get_model("nevaclip", model_cfg=TINY_CLIP_CONFIG, pretrained=None, n_iter=2)
    out = validate_scanpath_model(model, stimuli.assign(caption=["a dog", "a cat"]), n_scanpaths=2,
                                  n_fixations=3, seed=0, other_seed=3)
    assert out.attrs["model"] == "nevaclip"
    assert model.model_name == "custom" and model.pretrained is None


def test_model_is_picklable_for_save_model(tmp_path, stimuli):
    from gazemodels.models import load_model, save_model

    model = get_model("nevaclip", model_cfg=TINY_CLIP_CONFIG, pretrained=None, n_iter=1, default_caption="x")
    save_model(model, tmp_path / "m.pt")
    again = load_model(tmp_path / "m.pt")
    a = model.predict(stimuli, n_scanpaths=1, n_fixations=2, seed=0)
    b = again.predict(stimuli, n_scanpaths=1, n_fixations=2, seed=0)
    pd.testing.assert_frame_equal(a, b)


def test_doctests_and_numpydoc():
    import doctest
    import inspect

    assert doctest.testmod(nc, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
    for name in nc.__all__:
        obj = getattr(nc, name)
        if inspect.isfunction(obj):
            doc = inspect.getdoc(obj) or ""
            assert "Parameters\n----------" in doc and "Returns\n-------" in doc, name
