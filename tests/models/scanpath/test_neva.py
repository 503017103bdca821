"""NeVA: the gradient search, a known-answer case with a toy classifier, seeds, the contract."""

from __future__ import annotations

import doctest
import importlib
import inspect

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from gazemodels.foveation import Foveation
from gazemodels.models import get_model, validate_scanpath_model
from gazemodels.models.scanpath.neva import NeVA, image_to_tensor, search_scanpaths

PATCH_XY = (80, 14)
"""Centre (px) of the checkerboard patch in the toy image (96 x 64 px)."""


def toy_image(path, size=(96, 64), patch_xy=PATCH_XY, patch=8):
    """Uniform grey image with one 1-px checkerboard patch: only the patch has fine detail."""
    w, h = size
    img = np.full((h, w, 3), 128, np.uint8)
    x, y = patch_xy
    yy, xx = np.mgrid[y - patch // 2 : y + patch // 2, x - patch // 2 : x + patch // 2]
    img[yy, xx] = np.where(((yy + xx) % 2 == 0)[..., None], 255, 0).astype(np.uint8)
    Image.fromarray(img).save(path)
    return img


class DetailClassifier(torch.nn.Module):
    """Toy two-class 'classifier' whose logit 0 grows with the fine detail in the image.

    Its prediction on the full image is class 0 with near certainty (the patch is sharp);
    a foveated image keeps that prediction only when the fovea is on the patch, so NeVA's
    objective is minimal there.
    """

    def forward(self, x):
        lap = 4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]
        energy = lap.pow(2).mean(dim=(1, 2, 3))
        return torch.stack([40.0 * energy.sqrt(), torch.full_like(energy, 1.0)], dim=1)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: one thread avoids OpenMP oversubscription on a shared 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def toy_stimuli(tmp_path):
    toy_image(tmp_path / "toy.png")
    return pd.DataFrame([{"stimulus": "toy.png", "path": str(tmp_path / "toy.png"), "width": 96.0,
                          "height": 64.0, "px_per_degree": 8.0}])


def toy_model(**kw):
    settings = dict(classifier=DetailClassifier(), input_size=64, fovea_sigma_deg=1.0, blur_sigma_deg=0.5,
                    n_iter=20, n_candidates=2, forgetting=1.0)
    settings.update(kw)
    return NeVA(**settings)


def toy_search_inputs(toy_stimuli):
    """The toy model's foveation, blur levels and loss on the toy image."""
    model = toy_model()
    img = np.asarray(Image.open(toy_stimuli["path"][0]).convert("RGB"))
    x, ppd = model.network_input(img, toy_stimuli.iloc[0])
    fov = model.foveation(ppd)
    return fov, fov.levels(x), model.make_loss(x, toy_stimuli.iloc[0])


# ------------------------------------------------------------------------------ known answer
@pytest.mark.parametrize("foveation", [{}, {"fovea": "eccentricity", "e2_deg": 1.0, "periphery": "pyramid",
                                          "n_levels": 4, "blur_sigma_deg": 0.25}])
def test_fixations_follow_the_objective_to_the_patch(toy_stimuli, foveation):
    model = toy_model(**foveation)
    out = model.predict(toy_stimuli, n_scanpaths=6, n_fixations=3, seed=0)
    first = out[out["fix_index"] == 0]
    np.testing.assert_allclose(first[["x", "y"]].to_numpy(), [[48.0, 32.0]] * 6)  # the centre
    second = out[out["fix_index"] == 1][["x", "y"]].to_numpy()
    dist = np.hypot(second[:, 0] - PATCH_XY[0], second[:, 1] - PATCH_XY[1])
    assert (dist < 6.0).all(), second
    assert np.median(dist) < 4.0


def test_gradient_steps_move_the_candidate_towards_the_patch(toy_stimuli):
    fov, levels, loss_fn = toy_search_inputs(toy_stimuli)
    pos = torch.tensor([[[40.0, 35.0]]], requires_grad=True)
    loss = loss_fn(fov(None, pos, levels=levels)[0])
    (grad,) = torch.autograd.grad(loss.sum(), pos)
    # Descent goes right and up, towards the patch at (80, 14).
    assert grad[0, 0, 0] < 0 < grad[0, 0, 1]
    # And a search with one evaluation (the random starts) is worse than with twenty.
    gen = [torch.Generator().manual_seed(3) for _ in range(2)]
    kw = dict(n_candidates=1, generator=None, first_fixation="search")
    one = search_scanpaths(levels, fov, loss_fn, 8, 1, n_iter=1, **{**kw, "generator": gen[0]})
    many = search_scanpaths(levels, fov, loss_fn, 8, 1, n_iter=20, **{**kw, "generator": gen[1]})

    def d(p):
        return np.hypot(p[:, 0, 0] - PATCH_XY[0], p[:, 0, 1] - PATCH_XY[1]).mean()

    assert d(many.numpy()) < d(one.numpy()) / 3


def test_search_settings_do_not_change_the_answer_but_batching_is_exact(toy_stimuli):
    fov, levels, loss_fn = toy_search_inputs(toy_stimuli)
    runs = [search_scanpaths(levels, fov, loss_fn, 5, 3, n_iter=6, n_candidates=2, max_batch=b,
                             generator=torch.Generator().manual_seed(1)) for b in (1, 3, 16)]
    for r in runs[1:]:
        torch.testing.assert_close(r, runs[0])
    jit = search_scanpaths(levels, fov, loss_fn, 4, 2, n_iter=20, n_candidates=2, restart="jitter",
                           generator=torch.Generator().manual_seed(2)).numpy()
    assert np.hypot(jit[:, 1, 0] - PATCH_XY[0], jit[:, 1, 1] - PATCH_XY[1]).max() < 8.0


@pytest.mark.parametrize("start", ["uniform", "centre", "previous"])
def test_candidates_start_where_asked(toy_stimuli, start):
    # One evaluation per fixation: the fixation is where its candidate started.
    fov, levels, loss_fn = toy_search_inputs(toy_stimuli)
    p = search_scanpaths(levels, fov, loss_fn, 20, 6, n_iter=1, start=start, start_spread=0.05,
                         generator=torch.Generator().manual_seed(0)).numpy()
    u = p / np.array([96.0, 64.0]) * 2 - 1  # image coordinates [-1, 1]
    np.testing.assert_allclose(u[:, 0], 0.0)  # first fixation at the centre
    steps = np.abs(np.diff(u, axis=1)).max()
    off_centre = np.abs(u[:, 1:]).max()
    if start == "uniform":
        assert off_centre > 0.8 and steps > 0.8
    elif start == "centre":
        assert off_centre < 0.25
    else:  # a random walk of small steps from the centre
        assert steps < 0.25 and off_centre > 0.1


# ------------------------------------------------------------------------------ seeds and contract
def test_toy_model_passes_the_contract_validator(stimuli):
    model = toy_model(n_iter=3, n_candidates=1)
    model.name = "neva"
    out = validate_scanpath_model(model, stimuli, n_scanpaths=3, n_fixations=3, seed=0, other_seed=5)
    assert out.attrs["model"] == "neva"
    assert (out["duration"] > 0).all()


def test_seed_reproduces_and_changes_the_scanpaths(toy_stimuli):
    model = toy_model(n_iter=4, num_threads=2)
    a = model.predict(toy_stimuli, n_scanpaths=4, n_fixations=4, seed=11)
    b = model.predict(toy_stimuli, n_scanpaths=4, n_fixations=4, seed=11)
    c = model.predict(toy_stimuli, n_scanpaths=4, n_fixations=4, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert torch.get_num_threads() == 1  # restored after predict
    assert not np.allclose(a[["x", "y"]].to_numpy(), c[["x", "y"]].to_numpy())
    # Scanpaths of one image differ from each other (their random starts differ).
    later = a[a["fix_index"] == 2][["x", "y"]].to_numpy()
    assert len(np.unique(later.round(3), axis=0)) > 1


def test_pretrained_efficientnet_runs_on_a_tiny_input(stimuli):
    model = get_model("neva", input_size=32, n_iter=1)
    out = model.predict(stimuli.iloc[:1], n_scanpaths=2, n_fixations=2, seed=0)
    assert len(out) == 4
    net = model.classifier
    with torch.no_grad():
        logits = net(torch.rand(1, 3, 32, 32))
    assert logits.shape == (1, 1000)
    assert not any(p.requires_grad for p in net.parameters())


def test_network_picks_the_imagenet_classifier():
    model = NeVA(pretrained=False, network="efficientnet_lite1", input_size=32, fast=False)
    net = model._network().net
    assert len(net.blocks[1]) == 3  # lite1 has three blocks in stage 1, lite0 two
    with pytest.raises(ValueError, match="network must be one of"):
        NeVA(network="resnet50")


# ------------------------------------------------------------------------------ input and settings
def test_network_input_keeps_the_aspect_ratio_and_scales_px_per_degree():
    model = NeVA(classifier=DetailClassifier(), input_size=224)
    img = np.zeros((600, 800, 3), np.uint8)
    x, (ppx, ppy) = model.network_input(img, pd.Series({"stimulus": "s", "px_per_degree": 24.0}))
    assert tuple(x.shape) == (1, 3, 224, 299)
    assert ppx == pytest.approx(24.0 * 299 / 800) and ppy == pytest.approx(24.0 * 224 / 600)
    # Fovea and blur keep their size in degrees.
    fov = model.foveation((ppx, ppy))
    assert fov.level_sigmas_px()[1] == pytest.approx((0.8 * ppy, 0.8 * ppx))
    t = image_to_tensor(np.full((4, 6, 3), 255, np.uint8), 4, 6)
    assert t.shape == (1, 3, 4, 6) and float(t.min()) == 1.0


@pytest.mark.parametrize(
    "kw,match",
    [({"n_iter": 0}, "n_iter"), ({"lr": -1.0}, "lr"), ({"restart": "never"}, "restart"),
     ({"first_fixation": "corner"}, "first_fixation"), ({"forgetting": 2.0}, "forgetting"),
     ({"fovea": "square"}, "fovea"), ({"input_size": 8}, "input_size"), ({"n_candidates": 0}, "n_candidates"),
     ({"num_threads": 0}, "num_threads"), ({"start": "edge"}, "start"), ({"start_spread": -1.0}, "start_spread")],
)
def test_bad_settings_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        NeVA(classifier=DetailClassifier(), **kw)


def test_loss_of_the_wrong_shape_is_an_error():
    fov = Foveation(8.0)
    levels = fov.levels(torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="one loss per image"):
        search_scanpaths(levels, fov, lambda s: s.sum(), 2, 2, n_iter=1)


def test_doctests_and_numpydoc():
    module = importlib.import_module("gazemodels.models.scanpath.neva")
    assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            doc = inspect.getdoc(obj) or ""
            assert "Parameters\n----------" in doc and "Returns\n-------" in doc, name


# ------------------------------------------------------------------------------ speed-ups, same answer
def _randomise_batchnorm(net, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
    return net


def test_folded_efficientnet_is_the_same_function_with_the_same_input_gradient():
    from gazemodels.backbone.stems import load_efficientnet_lite0
    from gazemodels.models.scanpath.neva import _TFLiteClassifier, fold_batchnorm

    torch.manual_seed(0)
    base = _randomise_batchnorm(load_efficientnet_lite0(pretrained=False))
    folded = fold_batchnorm(base)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in base.modules())  # the original is untouched
    ref, fast = _TFLiteClassifier(base), _TFLiteClassifier(folded, channels_last=True)
    x = torch.rand(2, 3, 40, 56)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), ref(x), atol=1e-4, rtol=1e-4)
    grads = []
    for net in (ref, fast):
        xi = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(torch.log_softmax(net(xi), -1)[:, 3].sum(), xi)
        grads.append(g)
    # Rounding can move a unit across a ReLU6 kink, which changes the gradient of a few
    # pixels slightly (about 1% of its norm at most, over seeds); a wrong fold changes all of it.
    assert float((grads[1] - grads[0]).norm() / grads[0].norm()) < 0.05


def test_fold_batchnorm_skips_a_batchnorm_without_a_convolution_before_it():
    from gazemodels.models.scanpath.neva import fold_batchnorm

    net = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.BatchNorm2d(3), torch.nn.Conv2d(3, 3, 1),
                              torch.nn.Identity(), torch.nn.BatchNorm2d(3)).eval()
    _randomise_batchnorm(net, seed=1)
    folded = fold_batchnorm(net)
    assert isinstance(folded[1], torch.nn.BatchNorm2d) and isinstance(folded[4], torch.nn.Identity)
    x = torch.rand(1, 3, 5, 5)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), atol=1e-5, rtol=1e-5)


def test_last_evaluation_of_each_fixation_is_a_forward_pass_only(toy_stimuli):
    fov, levels, inner = toy_search_inputs(toy_stimuli)
    calls = []

    def loss_fn(seen):
        calls.append(torch.is_grad_enabled())
        return inner(seen)

    n_iter, n_fix = 4, 3
    search_scanpaths(levels, fov, loss_fn, 2, n_fix, n_iter=n_iter, generator=torch.Generator().manual_seed(0))
    # first fixation at the centre; then per fixation n_iter - 1 gradient passes and one forward pass
    assert calls == ([True] * (n_iter - 1) + [False]) * (n_fix - 1)


def test_fast_and_plain_efficientnet_give_the_same_scanpaths(stimuli):
    kw = dict(pretrained=False, input_size=48, n_iter=3, num_threads=1)
    nets = {}
    for fast in (True, False):
        torch.manual_seed(0)
        from gazemodels.backbone.stems import load_efficientnet_lite0
        from gazemodels.models.scanpath.neva import _TFLiteClassifier, fold_batchnorm

        base = _randomise_batchnorm(load_efficientnet_lite0(pretrained=False), seed=2)
        nets[fast] = _TFLiteClassifier(fold_batchnorm(base), channels_last=True) if fast else _TFLiteClassifier(base)
    out = {fast: NeVA(classifier=nets[fast], **{k: v for k, v in kw.items() if k != "pretrained"})
           .predict(stimuli.iloc[:1], n_scanpaths=4, n_fixations=4, seed=0) for fast in (True, False)}
    d = np.hypot(out[True]["x"] - out[False]["x"], out[True]["y"] - out[False]["y"])
    assert (d < 1.0).mean() >= 0.9, d.to_numpy()
    # and the default model uses the fast network
    model = get_model("neva", pretrained=False, input_size=32, n_iter=1)
    net = model._network()
    assert net.channels_last and not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert not NeVA(pretrained=False, fast=False)._network().channels_last


def test_neva_defaults_are_the_ones_chosen_on_the_fitting_half():
    from gazemodels.models.scanpath.neva import NeVASearchModel

    model = NeVA(classifier=DetailClassifier())
    assert (model.input_size, model.fovea_sigma_deg, model.blur_sigma_deg) == (128, 1.5, 0.8)
    assert (model.start, model.start_spread, model.forgetting, model.n_iter) == ("centre", 0.15, 0.5, 6)
    assert NeVA(classifier=DetailClassifier(), fovea_sigma_deg=3.0).fovea_sigma_deg == 3.0
    # NevaClip (and the shared base) keep their own fovea default
    assert inspect.signature(NeVASearchModel.__init__).parameters["fovea_sigma_deg"].default == 2.0
