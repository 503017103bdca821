"""Eccentricity-dependent pooling: every path equals the backbone's pooling-only ecc attention."""

import math

import numpy as np
import pytest
import torch

from gazemodels.attention import ecc_attention
from gazemodels.backbone import BackboneConfig
from gazemodels.backbone.blocks import Attention, AttentionContext
from gazemodels.models.search.matching import _shift_sum, cross_correlate
from gazemodels.models.search.pooling import EccentricityPooling, grid_positions_deg, pairwise_d2


def _reference(features, pos, fix, sigma0, slope, cutoff):
    C, rows, cols = features.shape
    v = features.reshape(1, 1, C, -1).transpose(-1, -2).double()
    z = torch.zeros(1, 1, rows * cols, 1, dtype=torch.float64)
    out = ecc_attention(z, z, v, pos, torch.tensor([fix], dtype=torch.float64), sigma0, slope, cutoff=cutoff,
                        impl="reference")
    return out[0, 0].transpose(0, 1).reshape(C, rows, cols).float()


@pytest.mark.parametrize("impl", ["dense", "window", "attention", "auto"])
@pytest.mark.parametrize("sigma0,slope,fix", [(0.1, 0.05, (2.0, 1.5)), (0.3, 0.2, (0.0, 0.0)), (0.5, 0.0, (3.0, 4.0))])
def test_every_implementation_equals_the_reference_ecc_attention(impl, sigma0, slope, fix):
    torch.manual_seed(0)
    f = torch.rand(5, 11, 14)
    pos = grid_positions_deg(11, 14, 8, 30.0)
    ref = _reference(f, pos, fix, sigma0, slope, 3.0)
    out = EccentricityPooling(sigma0, slope, 3.0, impl)(f, pos, fix, 8 / 30.0)
    assert torch.allclose(out, ref, atol=1e-5)


def test_dense_path_with_cached_distances():
    torch.manual_seed(1)
    f = torch.rand(3, 9, 9)
    pos = grid_positions_deg(9, 9, 16, 30.0)
    p = EccentricityPooling(0.2, 0.1, 3.0, "dense")
    assert torch.allclose(p(f, pos, (1.0, 2.0), 16 / 30, d2=pairwise_d2(pos)), p(f, pos, (1.0, 2.0), 16 / 30))


def test_equals_the_backbone_pooling_only_attention():
    """The backbone's eccNET mode (pooling_only) is the same operation."""
    torch.manual_seed(2)
    C, rows, cols = 4, 8, 10
    f = torch.rand(C, rows, cols)
    pos = grid_positions_deg(rows, cols, 16, 20.0).float()
    cfg = BackboneConfig(width=C, heads=1, attention="ecc", pooling_only=True, sigma0=0.4, slope=0.15,
                         learn_sigma0=False, learn_slope=False, mlp_ratio=0, attention_impl="reference")
    attn = Attention(cfg)
    x = f.reshape(C, -1).T[None]  # (1, N, C)
    fix = torch.tensor([[2.0, 3.0]])
    with torch.no_grad():
        out = attn(x, AttentionContext(pos, fix))[0].T.reshape(C, rows, cols)
    sigma0, slope = float(attn.sigma0[0]), float(attn.slope[0])
    ours = EccentricityPooling(sigma0, slope, 3.0, "window")(f, pos, (2.0, 3.0), 16 / 20.0)
    assert torch.allclose(ours, out, atol=1e-5)


def test_sigma_grows_linearly_with_eccentricity_and_slope_zero_is_constant():
    pos = torch.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert EccentricityPooling(0.5, 0.1).sigma(pos, (0.0, 0.0)).tolist() == pytest.approx([0.5, 1.0, 1.5])
    assert EccentricityPooling(0.5, 0.0).sigma(pos, (9.0, 9.0)).tolist() == pytest.approx([0.5] * 3)


def test_pooling_is_sharp_at_the_fixation_and_coarse_in_the_periphery():
    """A checkerboard stays a checkerboard at the fixation and averages out 14 deg away."""
    yy, xx = torch.meshgrid(torch.arange(21), torch.arange(21), indexing="ij")
    f = ((yy + xx) % 2).float()[None]
    pos = grid_positions_deg(21, 21, 30, 30.0)  # 1-deg cells
    p = EccentricityPooling(0.3, 0.3)
    near = p(f, pos, (10.5, 10.5), 1.0)  # fixating cell (10, 10)
    far = p(f, pos, (0.5, 0.5), 1.0)  # fixating the corner cell
    assert abs(float(near[0, 10, 10]) - float(f[0, 10, 10])) < 0.05
    assert abs(float(far[0, 10, 10]) - 0.5) < 0.05
    assert abs(float(far[0, 0, 0]) - float(f[0, 0, 0])) < 0.05


def test_invalid_parameters_are_refused():
    with pytest.raises(ValueError, match="sigma0"):
        EccentricityPooling(0.0, 0.1)
    with pytest.raises(ValueError, match="slope"):
        EccentricityPooling(0.1, -0.1)
    with pytest.raises(ValueError, match="impl"):
        EccentricityPooling(0.1, 0.1, impl="gpu")
    with pytest.raises(ValueError, match="pos_deg"):
        EccentricityPooling(0.1, 0.1)(torch.zeros(1, 3, 3), torch.zeros(8, 2), (0, 0), 1.0)


def test_cross_correlation_paths_agree():
    torch.manual_seed(3)
    f = torch.rand(6, 17, 23)
    for kh, kw in [(1, 1), (3, 5), (9, 7)]:
        k = torch.rand(6, kh, kw)
        direct = torch.nn.functional.conv2d(f[None], k[None], padding=(kh // 2, kw // 2))[0, 0]
        assert torch.allclose(cross_correlate(f, k), direct, rtol=1e-4, atol=1e-3)
        # the factorised path: project on every tap, shift and sum
        proj = (k.reshape(6, -1).T @ f.reshape(6, -1)).reshape(kh * kw, 17, 23)
        assert torch.allclose(_shift_sum(proj, kh, kw), direct, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="odd"):
        cross_correlate(f, torch.rand(6, 2, 3))


def test_grid_positions():
    pos = grid_positions_deg(2, 3, 10, 10.0, offset_px=(-5.0, 0.0))
    assert pos.shape == (6, 2)
    assert pos[0].tolist() == [0.0, 0.5]
    assert pos[-1].tolist() == [2.0, 1.5]
    assert math.isclose(float(pairwise_d2(pos)[0, -1]), 4.0 + 1.0)
    assert np.allclose(pairwise_d2(pos).diagonal().numpy(), 0.0)


@pytest.mark.parametrize("sigma0,slope,fix", [(0.1, 0.2, (1.0, 2.0)), (0.3, 0.0, (0.0, 0.0))])
def test_max_pooling_is_the_gaussian_weighted_maximum_over_the_admitted_keys(sigma0, slope, fix):
    torch.manual_seed(2)
    rows, cols, C = 12, 15, 4
    f = torch.rand(C, rows, cols)
    pos = grid_positions_deg(rows, cols, 8, 30.0)
    pool = EccentricityPooling(sigma0, slope, 3.0, "auto", "max")
    sig = pool.sigma(pos, fix)
    d2 = torch.cdist(pos, pos).pow(2)  # brute force over every pair of cells
    w = torch.exp(-d2 / (2 * sig[:, None] ** 2)) * (d2 <= 9 * sig[:, None] ** 2)
    ref = (f.reshape(C, -1)[:, None, :].double() * w[None]).amax(-1).reshape(C, rows, cols).float()
    out = pool(f, pos, fix, 8 / 30.0)
    assert torch.allclose(out, ref, atol=1e-6)
    assert not torch.allclose(out, EccentricityPooling(sigma0, slope, 3.0, "window")(f, pos, fix, 8 / 30.0))


def test_max_pooling_keeps_a_lone_feature_that_the_mean_dilutes():
    f = torch.zeros(1, 9, 9)
    f[0, 4, 6] = 1.0  # one active cell, 2 cells right of the centre
    pos = grid_positions_deg(9, 9, 30, 30.0)  # 1-deg cells
    fix = tuple(pos[4 * 9 + 4].tolist())  # fixate the centre cell
    kw = dict(sigma0=1.0, slope=0.0, cutoff=3.0)
    mx = EccentricityPooling(**kw, reduce="max")(f, pos, fix, 1.0)
    mean = EccentricityPooling(**kw)(f, pos, fix, 1.0)
    assert float(mx[0, 4, 6]) == 1.0  # the feature's own cell: weight 1
    assert float(mx[0, 4, 4]) == pytest.approx(math.exp(-4 / 2))  # 2 deg away: exp(-d^2 / 2 sigma^2)
    assert float(mx[0, 4, 0]) == 0.0  # 6 deg away: beyond 3 sigma
    assert float(mean[0, 4, 6]) < 0.25  # the mean shares it out among the window's cells


def test_max_pooling_refuses_the_dense_paths_and_unknown_reductions():
    with pytest.raises(ValueError, match="windowed implementation only"):
        EccentricityPooling(0.1, 0.1, 3.0, "dense", "max")
    with pytest.raises(ValueError, match="reduce must be one of"):
        EccentricityPooling(0.1, 0.1, 3.0, "auto", "median")


@pytest.mark.parametrize("impl", ["dense", "window", "attention"])
@pytest.mark.parametrize("sigma0,slope,fix", [(0.1, 0.2, (1.0, 2.0)), (0.3, 0.0, (0.0, 0.0))])
def test_moments_pooling_is_the_weighted_mean_and_standard_deviation(impl, sigma0, slope, fix):
    torch.manual_seed(3)
    rows, cols, C = 12, 15, 4
    f = torch.rand(C, rows, cols) * 3.0 + 5.0  # an offset, so that E[x^2] - E[x]^2 would round badly
    pos = grid_positions_deg(rows, cols, 8, 30.0)
    pool = EccentricityPooling(sigma0, slope, 3.0, impl, "moments")
    sig = pool.sigma(pos, fix)
    d2 = torch.cdist(pos, pos).pow(2)  # brute force in float64 over every pair of cells
    w = torch.exp(-d2 / (2 * sig[:, None] ** 2)) * (d2 <= 9 * sig[:, None] ** 2)
    w = w / w.sum(-1, keepdim=True)
    x = f.reshape(C, -1).double()
    mean = x @ w.T
    sd = (((x[:, None, :] - mean[:, :, None]) ** 2) * w[None]).sum(-1).sqrt()
    out = pool(f, pos, fix, 8 / 30.0)
    assert out.shape == (2 * C, rows, cols)
    assert torch.allclose(out[:C].double(), mean.reshape(C, rows, cols), atol=1e-4)
    assert torch.allclose(out[C:].double(), sd.reshape(C, rows, cols), atol=2e-3)
    assert float(sd.max()) > 0.3  # the windows do vary
    assert torch.allclose(out[:C], EccentricityPooling(sigma0, slope, 3.0, impl)(f, pos, fix, 8 / 30.0), atol=1e-4)


def test_moments_pooling_tells_a_mixed_window_from_a_uniform_one_with_the_same_mean():
    # two 1-deg-cell maps with equal means everywhere in the centre window: one uniform at 0.5,
    # one a checkerboard of 0 and 1; the mean cannot tell them apart, the deviation can
    uniform = torch.full((1, 9, 9), 0.5)
    checker = ((torch.arange(9)[:, None] + torch.arange(9)[None, :]) % 2).float()[None]
    pos = grid_positions_deg(9, 9, 30, 30.0)
    fix = tuple(pos[4 * 9 + 4].tolist())
    pool = EccentricityPooling(1.5, 0.0, 3.0, "dense", "moments")
    u, c = pool(uniform, pos, fix, 1.0), pool(checker, pos, fix, 1.0)
    assert float(u[1, 4, 4]) == pytest.approx(0.0, abs=1e-4)
    assert float(c[1, 4, 4]) == pytest.approx(0.5, abs=0.02)  # a 0/1 mix near half and half
    assert float(c[0, 4, 4]) == pytest.approx(0.5, abs=0.05)
    # the narrowest window (one cell) has no spread at all
    one = EccentricityPooling(0.05, 0.0, 3.0, "dense", "moments")(checker, pos, fix, 1.0)
    assert torch.equal(one[:1], checker) and float(one[1:].abs().max()) == 0.0


@pytest.mark.parametrize("reduce", ["mean", "max", "moments"])
@pytest.mark.parametrize("sigma0,slope,fix", [(0.3, 0.2, (1.0, 2.0)), (0.6, 0.0, (0.0, 0.0))])
def test_pooling_at_a_few_cells_equals_pooling_the_whole_map_there(reduce, sigma0, slope, fix):
    torch.manual_seed(4)
    rows, cols, C = 12, 15, 3
    f = torch.rand(C, rows, cols) + 2.0
    pos = grid_positions_deg(rows, cols, 8, 30.0)
    pool = EccentricityPooling(sigma0, slope, 3.0, "auto", reduce)
    full = pool(f, pos, fix, 8 / 30.0)
    cells = torch.tensor([0, 17, 5 * cols + 7, rows * cols - 1])
    got = pool.at(f, pos, cells, fix)
    want = full.reshape(full.shape[0], -1)[:, cells]
    assert got.shape == want.shape == (full.shape[0], 4)
    assert torch.allclose(got, want, atol=2e-4)
    assert float(want.std()) > 0.01  # the cells' windows differ
    with pytest.raises(ValueError, match="flat indices"):
        pool.at(f, pos, torch.tensor([rows * cols]), fix)
