"""The differentiable foveation operator: gradients, fovea, periphery, memory, units."""

from __future__ import annotations

import doctest
import importlib
import inspect
import itertools

import numpy as np
import pytest
import torch

from gazemodels.foveation import (
    Foveation,
    combine,
    eccentricity_resolution,
    gaussian_blur,
    gaussian_fovea,
    level_sigmas,
    level_weights,
    memory_over_scanpath,
    update_memory,
)

COMBOS = list(itertools.product(["gaussian", "eccentricity"], ["blend", "pyramid"]))


def noise_image(b=1, c=3, h=40, w=56, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, c, h, w, generator=g, dtype=dtype)


def make(fovea, periphery, **kw):
    base = dict(px_per_degree=8.0, fovea=fovea, fovea_sigma_deg=1.0, e2_deg=1.0, periphery=periphery,
                blur_sigma_deg=0.5, n_levels=4)
    base.update(kw)
    return Foveation(**base)


# ------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("fovea,periphery", COMBOS)
def test_gradient_wrt_fixation_matches_finite_differences(fovea, periphery):
    fov = make(fovea, periphery, forgetting=0.7)
    image = noise_image()
    levels = fov.levels(image)
    h, w = image.shape[-2:]
    memory = fov.update_memory(None, torch.tensor([[[10.3, 12.1]]], dtype=torch.float64), h, w)
    weight = torch.randn(1, 1, 3, h, w, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def f(pos):
        return (fov(None, pos, memory, levels=levels) * weight).sum()

    pos = torch.tensor([[[30.2, 21.7]]], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(f(pos), pos)
    assert grad.abs().min() > 1e-6, "the gradient with respect to the fixation must not vanish"
    eps = 1e-5
    fd = torch.zeros(2, dtype=torch.float64)
    for k in range(2):
        d = torch.zeros(1, 1, 2, dtype=torch.float64)
        d[..., k] = eps
        fd[k] = (f(pos.detach() + d) - f(pos.detach() - d)) / (2 * eps)
    np.testing.assert_allclose(grad.view(2).numpy(), fd.numpy(), rtol=1e-5, atol=1e-8)


def test_gradcheck_batched_over_images_and_fixations():
    fov = make("eccentricity", "pyramid", forgetting=0.5, memory="max")
    image = noise_image(b=2, h=16, w=20)
    levels = fov.levels(image)
    mem = fov.update_memory(None, torch.tensor([[[4.2, 5.1]], [[15.3, 9.9]]], dtype=torch.float64), 16, 20)
    pos = torch.tensor([[[8.3, 7.7], [12.6, 3.2]], [[5.4, 10.1], [17.2, 12.8]]], dtype=torch.float64,
                       requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: fov(None, p, mem, levels=levels), (pos,), atol=1e-6)


def test_batched_call_equals_separate_calls():
    fov = make("gaussian", "pyramid")
    image = noise_image(b=2)
    pos = torch.tensor([[[5.5, 6.5], [40.0, 30.0], [20.0, 10.0]], [[50.0, 3.0], [1.0, 39.0], [28.0, 20.0]]],
                       dtype=torch.float64)
    out = fov(image, pos)
    assert out.shape == (2, 3, 3, 40, 56)
    for b in range(2):
        for f in range(3):
            one = fov(image[b:b + 1], pos[b:b + 1, f:f + 1])
            torch.testing.assert_close(out[b, f], one[0, 0])


# ------------------------------------------------------------------------------ fovea and periphery
@pytest.mark.parametrize("fovea,periphery", COMBOS)
def test_output_equals_input_at_the_fovea(fovea, periphery):
    fov = make(fovea, periphery)
    image = noise_image()
    # Fixation on the centre of pixel (row 17, column 23).
    out = fov(image, torch.tensor([[[23.5, 17.5]]], dtype=torch.float64))
    torch.testing.assert_close(out[0, 0, :, 17, 23], image[0, :, 17, 23], rtol=0, atol=1e-12)
    # And the image as a whole is not left sharp.
    assert (out[0, 0] - image[0]).abs().max() > 0.05


@pytest.mark.parametrize("fovea,periphery", COMBOS)
def test_far_periphery_equals_the_most_blurred_level(fovea, periphery):
    # A tiny fovea in the top-left corner: the bottom-right corner is far periphery.
    fov = make(fovea, periphery, fovea_sigma_deg=0.25, e2_deg=0.01)
    image = noise_image(h=64, w=64)
    levels = fov.levels(image)
    blurred = levels[:, -1]
    sigma_px = fov.level_sigmas_px()[-1]
    torch.testing.assert_close(blurred, gaussian_blur(image, sigma_px))
    out = fov(image, torch.tensor([[[0.5, 0.5]]], dtype=torch.float64))
    # The pyramid clips at its last level; blending by e2 / (e2 + e) approaches the
    # blurred copy as 1 / e (here r < 1e-3 in the corner).
    atol = 2e-3 if (fovea, periphery) == ("eccentricity", "blend") else 1e-6
    torch.testing.assert_close(out[0, 0, :, 48:, 48:], blurred[0, :, 48:, 48:], rtol=0, atol=atol)
    assert (blurred[0, :, 48:, 48:] - image[0, :, 48:, 48:]).abs().max() > 0.05


def test_pyramid_blur_grows_with_eccentricity():
    # On white noise, the variance left after blurring falls as the blur grows.
    fov = make("eccentricity", "pyramid", e2_deg=10.0, blur_sigma_deg=0.125, n_levels=6)
    image = noise_image(b=1, c=1, h=48, w=400, seed=3)
    out = fov(image, torch.tensor([[[0.5, 24.0]]], dtype=torch.float64))[0, 0, 0]
    # High-pass energy (differences between neighbours) in bands of growing eccentricity.
    hp = (out[:, 1:] - out[:, :-1]).pow(2).mean(0)
    bands = [hp[a:a + 40].mean().item() for a in range(0, 360, 40)]
    assert all(a > b for a, b in zip(bands, bands[1:])), bands


def test_level_weights_interpolate_between_levels():
    r = torch.tensor([1.0, 0.5, 2 ** -1.5, 0.25, 1e-9]).view(1, 5, 1)
    w = level_weights(r, 3)[0].squeeze(-1)  # (L=3, 5)
    expect = torch.tensor([[1, 0, 0, 0, 0], [0, 1, 0.5, 0, 0], [0, 0, 0.5, 1, 1]], dtype=torch.float32).T
    torch.testing.assert_close(w.T, expect)
    torch.testing.assert_close(w.sum(0), torch.ones(5))
    assert level_sigmas(2.0, 4) == [0.0, 2.0, 6.0, 14.0]


def test_gaussian_blur_matches_scipy():
    ndimage = pytest.importorskip("scipy.ndimage")
    img = noise_image(b=1, c=2, h=30, w=25)
    ours = gaussian_blur(img, (1.5, 2.5)).numpy()
    ref = np.stack([ndimage.gaussian_filter(img[0, c].numpy(), (1.5, 2.5), mode="nearest", truncate=3.0)
                    for c in range(2)])
    # scipy rounds the kernel radius as int(truncate * sigma + 0.5); ours is ceil(): equal here.
    np.testing.assert_allclose(ours[0], ref, atol=1e-12)


# ------------------------------------------------------------------------------ units
@pytest.mark.parametrize("fovea", ["gaussian", "eccentricity"])
def test_fovea_size_in_degrees_scales_with_px_per_degree(fovea):
    def half_width(ppd):
        fov = make(fovea, "blend", px_per_degree=ppd, fovea_sigma_deg=2.0, e2_deg=2.0)
        r = fov.resolution(torch.tensor([[[0.5, 0.5]]], dtype=torch.float64), 1, 400)[0, 0, 0]
        return int((r >= 0.5).sum())

    small, big = half_width(5.0), half_width(10.0)
    assert small > 3
    assert abs(big - 2 * small) <= 1
    # Gaussian: r = 0.5 at sigma * sqrt(2 ln 2); Geisler-Perry: r = 0.5 at e = e2.
    expect = 2.0 * 5.0 * (np.sqrt(2 * np.log(2)) if fovea == "gaussian" else 1.0)
    assert abs(small - expect) <= 1
    # The blur is in degrees too.
    assert make(fovea, "blend", px_per_degree=10.0).level_sigmas_px()[1] == (5.0, 5.0)


def test_anisotropic_px_per_degree_gives_a_round_fovea_in_degrees():
    r = gaussian_fovea(torch.tensor([[50.5, 50.5]], dtype=torch.float64), 101, 101, 1.0, (10.0, 5.0))[0]
    # 1 deg to the right is 10 px, 1 deg down is 5 px: same value.
    torch.testing.assert_close(r[50, 60], r[55, 50])
    e = eccentricity_resolution(torch.tensor([[50.5, 50.5]], dtype=torch.float64), 101, 101, (10.0, 5.0), 1.0)[0]
    torch.testing.assert_close(e[50, 60], torch.tensor(0.5, dtype=torch.float64), atol=1e-3, rtol=0)
    torch.testing.assert_close(e[50, 60], e[55, 50])


# ------------------------------------------------------------------------------ memory
def test_memory_accumulates_and_forgets():
    a = torch.tensor([1.0, 0.0, 0.0])
    b = torch.tensor([0.0, 1.0, 0.0])
    for f in (1.0, 0.5, 0.0):
        m = update_memory(update_memory(None, a, f), b, f)
        torch.testing.assert_close(m, torch.tensor([f, 1.0, 0.0]))
        m3 = update_memory(m, torch.zeros(3), f)
        torch.testing.assert_close(m3, torch.tensor([f * f, f, 0.0]))
    # sum mode can exceed 1 but is seen clipped; max keeps the best resolution.
    s = update_memory(update_memory(None, a), a)
    torch.testing.assert_close(s, torch.tensor([2.0, 0.0, 0.0]))
    torch.testing.assert_close(combine(s, b), torch.tensor([1.0, 1.0, 0.0]))
    mx = update_memory(update_memory(None, 0.6 * a, 1.0, "max"), 0.4 * a + b, 1.0, "max")
    torch.testing.assert_close(mx, torch.tensor([0.6, 1.0, 0.0]))
    seq = memory_over_scanpath(torch.stack([a, b, a]).view(1, 3, 1, 3), forgetting=0.5)
    torch.testing.assert_close(seq[0, :, 0], torch.tensor([[1.0, 0, 0], [0.5, 1, 0], [1.25, 0.5, 0]]))
    with pytest.raises(ValueError, match="forgetting"):
        update_memory(None, a, 1.5)
    with pytest.raises(ValueError, match="memory mode"):
        combine(None, a, "min")


@pytest.mark.parametrize("periphery", ["blend", "pyramid"])
def test_remembered_region_stays_sharp_unless_forgotten(periphery):
    image = noise_image(h=32, w=120)
    path = torch.tensor([[[8.5, 16.5], [60.5, 16.5], [112.5, 16.5]]], dtype=torch.float64)

    def error_at_first(forgetting):
        fov = make("gaussian", periphery, forgetting=forgetting, fovea_sigma_deg=0.5)
        seen = fov.scanpath(image, path)  # (1, 3, C, H, W)
        # At the first fixation the image is sharp there; at the second the memory
        # holds the first fixation whatever the forgetting (it is applied when the
        # next fixation is added)...
        for t in (0, 1):
            torch.testing.assert_close(seen[0, t, :, 16, 8], image[0, :, 16, 8], rtol=0, atol=1e-12)
        # ...and at the third, the first place is as sharp as the memory says: f * 1.
        return (seen[0, 2, :, 16, 8] - image[0, :, 16, 8]).abs().max().item()

    full, half, none = error_at_first(1.0), error_at_first(0.5), error_at_first(0.0)
    assert full < 1e-9
    assert 1e-3 < half < none
    # With forgetting 0 the memory holds the last fixation only (NevaClip's setting).
    fov = make("gaussian", periphery, forgetting=0.0, fovea_sigma_deg=0.5)
    mem = fov.update_memory(fov.update_memory(None, path[:, :1], 32, 120), path[:, 1:2], 32, 120)
    torch.testing.assert_close(mem, fov.resolution(path[:, 1:2], 32, 120))


def test_memory_broadcasts_over_fixations():
    fov = make("gaussian", "blend")
    image = noise_image(b=2)
    mem = fov.update_memory(None, torch.tensor([[[5.0, 5.0]], [[30.0, 30.0]]], dtype=torch.float64), 40, 56)
    pos = torch.tensor([[[20.0, 20.0], [40.0, 10.0]], [[10.0, 30.0], [50.0, 5.0]]], dtype=torch.float64)
    out = fov(image, pos, mem)
    for f in range(2):
        torch.testing.assert_close(out[:, f], fov(image, pos[:, f:f + 1], mem)[:, 0])


# ------------------------------------------------------------------------------ errors and docs
def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="fovea must be"):
        Foveation(8.0, fovea="square")
    with pytest.raises(ValueError, match="periphery must be"):
        Foveation(8.0, periphery="box")
    with pytest.raises(ValueError, match="px_per_degree"):
        Foveation(-1.0)
    with pytest.raises(ValueError, match="fovea_sigma_deg"):
        Foveation(8.0, fovea_sigma_deg=0.0)
    with pytest.raises(ValueError, match="n_levels"):
        Foveation(8.0, periphery="pyramid", n_levels=1)
    with pytest.raises(ValueError, match="forgetting"):
        Foveation(8.0, forgetting=-0.1)
    fov = Foveation(8.0)
    with pytest.raises(ValueError, match=r"\(B, F, 2\)"):
        fov(torch.rand(1, 3, 8, 8), torch.rand(1, 2))
    with pytest.raises(ValueError, match="image must be"):
        fov.levels(torch.rand(3, 8, 8))


@pytest.mark.parametrize("name", ["blur", "maps", "memory", "operator", "__init__"])
def test_doctests_and_numpydoc(name):
    module = importlib.import_module("gazemodels.foveation" + ("" if name == "__init__" else f".{name}"))
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0
    for obj_name in getattr(module, "__all__", []):
        obj = getattr(module, obj_name)
        if inspect.isfunction(obj):
            doc = inspect.getdoc(obj) or ""
            assert "Returns\n-------" in doc, f"{name}.{obj_name}"
            if inspect.signature(obj).parameters:
                assert "Parameters\n----------" in doc, f"{name}.{obj_name}"
