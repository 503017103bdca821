"""Object-level attention: box relation features and bias, OAT positional encoding."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from gazemodels.attention import ecc_attention
from gazemodels.attention.objects import (
    BoxRelationBias,
    box_centres,
    box_relation_bias,
    box_relation_features,
    oat_positional_encoding,
)

from ._helpers import rel_err

BOXES = torch.tensor(
    [
        [0.0, 0.0, 2.0, 2.0],  # A: centre (1, 1)
        [1.0, 0.0, 2.0, 2.0],  # B: A shifted by 1 deg: IoU = 2 / 6
        [4.0, 4.0, 4.0, 1.0],  # C: centre (6, 4.5), no overlap, twice as wide, half as high as A
    ],
    dtype=torch.float64,
)


def test_relation_features_hand_checked():
    f = box_relation_features(BOXES)[0]
    assert f.shape == (3, 3, 4)
    torch.testing.assert_close(f[0, 1], torch.tensor([1.0, 0.0, 0.0, 2 / 6], dtype=torch.float64))
    torch.testing.assert_close(
        f[0, 2], torch.tensor([math.hypot(5.0, 3.5), math.log(2.0), math.log(0.5), 0.0], dtype=torch.float64)
    )
    torch.testing.assert_close(f.diagonal(dim1=0, dim2=1).T, torch.tensor([[0.0, 0, 0, 1]] * 3, dtype=torch.float64))
    # Distance and IoU symmetric, log size ratios antisymmetric.
    torch.testing.assert_close(f[..., [0, 3]], f.transpose(0, 1)[..., [0, 3]])
    torch.testing.assert_close(f[..., 1:3], -f.transpose(0, 1)[..., 1:3])


def test_centres_and_bad_boxes():
    torch.testing.assert_close(box_centres(BOXES)[0, 2], torch.tensor([6.0, 4.5], dtype=torch.float64))
    with pytest.raises(ValueError, match="width and height >= 0"):
        box_relation_features(torch.tensor([[0.0, 0.0, -1.0, 1.0]]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        box_relation_features(torch.tensor([[0.0, math.nan, 1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"shape \(M, 4\) or \(B, M, 4\)"):
        box_relation_features(torch.zeros(3, 5))


def test_degenerate_box_stays_finite():
    boxes = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    f = box_relation_features(boxes)
    assert torch.isfinite(f).all()
    assert f[0, 0, 0, 3] == 0  # IoU of an empty box with itself is 0, not NaN


def test_linear_bias_is_features_times_weights():
    w = torch.randn(4, 3, dtype=torch.float64)
    bias = box_relation_bias(BOXES, w)
    assert bias.shape == (1, 3, 3, 3)
    f = box_relation_features(BOXES)[0]
    torch.testing.assert_close(bias[0, 2, 0, 2], f[0, 2] @ w[:, 2])
    with pytest.raises(ValueError, match=r"weights must have shape \(4, H\)"):
        box_relation_bias(BOXES, torch.zeros(3, 2))


@pytest.mark.parametrize("hidden", [0, 8])
def test_module_starts_neutral_and_learns(hidden):
    torch.manual_seed(0)
    rel = BoxRelationBias(n_heads=2, hidden=hidden).double()
    boxes = BOXES[None].repeat(2, 1, 1)
    bias = rel(boxes)
    assert bias.shape == (2, 2, 3, 3) and torch.all(bias == 0)
    # Object tokens through the same operation: pos = box centres, bias = relation bias.
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 2, 3, 8, generator=g, dtype=torch.float64) for _ in range(3))
    fix = torch.tensor([[0.0, 0.0], [5.0, 4.0]], dtype=torch.float64)
    pos = box_centres(boxes)
    out = ecc_attention(q, k, v, pos, fix, 1.0, 0.3, cutoff=math.inf, bias=bias)
    plain = ecc_attention(q, k, v, pos, fix, 1.0, 0.3, cutoff=math.inf)
    torch.testing.assert_close(out, plain)
    out.square().sum().backward()
    grads = [p.grad for p in rel.parameters()]
    assert all(gr is not None for gr in grads)
    assert any(gr.abs().sum() > 0 for gr in grads)


@pytest.mark.parametrize("impl", ["reference", "cpu"])
def test_object_attention_cpu_matches_reference_with_relation_bias(impl):
    torch.manual_seed(1)
    B, H, M, D = 2, 4, 11, 8
    xy = torch.rand(B, M, 2) * 10
    wh = torch.rand(B, M, 2) * 2 + 0.2
    boxes = torch.cat([xy, wh], -1)
    rel = BoxRelationBias(H, hidden=0)
    with torch.no_grad():
        rel.net.weight.normal_()
    q, k, v = (torch.randn(B, H, M, D) for _ in range(3))
    fix = torch.rand(B, 2) * 10
    out = ecc_attention(q, k, v, box_centres(boxes), fix, 1.0, 0.3, bias=rel(boxes), impl=impl)
    (gw,) = torch.autograd.grad(out.square().sum(), [rel.net.weight])
    rel64 = copy.deepcopy(rel).double().requires_grad_(False)
    b64 = boxes.double()
    ref = ecc_attention(q.double(), k.double(), v.double(), box_centres(b64), fix.double(), 1.0, 0.3,
                        bias=rel64(b64), impl="reference")
    # The linear module is the functional bias with its weight matrix.
    torch.testing.assert_close(rel64(b64), box_relation_bias(b64, rel64.net.weight.T))
    assert rel_err(out, ref) <= 1e-4
    assert gw.abs().sum() > 0


def test_padding_objects_are_ignored():
    rel = BoxRelationBias(2, hidden=0)
    boxes = torch.cat([BOXES.float(), torch.zeros(2, 4)])  # two padding rows
    valid = torch.tensor([True, True, True, False, False])
    bias = rel(boxes, valid)
    assert torch.isneginf(bias[..., 3:]).all() and torch.isfinite(bias[..., :3]).all()
    q, k = torch.randn(2, 1, 2, 5, 4).unbind(0)
    v = torch.randn(1, 2, 5, 4)
    pos = box_centres(boxes)
    fix = torch.zeros(1, 2)
    out = ecc_attention(q, k, v, pos, fix, 1.0, 0.3, cutoff=math.inf, bias=bias)
    v2 = v.clone()
    v2[:, :, 3:] = 100.0  # changing padding values must not change the real objects' outputs
    out2 = ecc_attention(q, k, v2, pos, fix, 1.0, 0.3, cutoff=math.inf, bias=bias)
    torch.testing.assert_close(out[:, :, :3], out2[:, :, :3])
    with pytest.raises(ValueError, match="valid must be a bool tensor"):
        rel(boxes, torch.ones(4, dtype=torch.bool))


def test_oat_encoding_similarity_is_gaussian_in_distance():
    sigma = 1.5
    x = torch.linspace(-5, 5, 41, dtype=torch.float64)
    boxes = torch.stack([x, torch.zeros_like(x), torch.ones_like(x), torch.ones_like(x)], -1)
    enc = oat_positional_encoding(boxes, 128, sigma=sigma)[0]
    torch.testing.assert_close(enc.norm(dim=-1), torch.ones(41, dtype=torch.float64))
    sim = enc @ enc.T
    dx = x[:, None] - x[None]
    # y is equal, so the y half contributes 1; x half the Gaussian of the difference.
    expected = 0.5 * (1 + torch.exp(-dx**2 / (2 * sigma**2)))
    near = dx.abs() <= 3 * sigma
    assert (sim - expected)[near].abs().max() < 0.02
    # Translation invariance: the similarity depends only on the difference.
    shifted = oat_positional_encoding(boxes + torch.tensor([3.0, -2.0, 0.0, 0.0], dtype=torch.float64), 128, sigma=sigma)[0]
    torch.testing.assert_close(shifted @ shifted.T, sim)


def test_oat_encoding_shapes_and_errors():
    enc = oat_positional_encoding(BOXES[None].repeat(2, 1, 1), 64, with_size=True)
    assert enc.shape == (2, 3, 64)
    # With sizes, boxes A and B (same size) are more alike than A and C.
    assert enc[0, 0] @ enc[0, 1] > enc[0, 0] @ enc[0, 2]
    with pytest.raises(ValueError, match="multiple of 4"):
        oat_positional_encoding(BOXES, 30)
    with pytest.raises(ValueError, match="multiple of 8"):
        oat_positional_encoding(BOXES, 36, with_size=True)
    with pytest.raises(ValueError, match="sigma must be a positive float"):
        oat_positional_encoding(BOXES, 32, sigma=0.0)
