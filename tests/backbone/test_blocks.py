"""Blocks: eccNET pooling by hand, dense attention by hand, the kinds agree in their limits."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gazemodels.backbone import AttentionContext, BackboneConfig, Block


def _grid(n: int, spacing: float = 1.0) -> torch.Tensor:
    g = torch.arange(n, dtype=torch.float32) * spacing
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], -1)


def gaussian_pooling_by_hand(x, pos, fix, sigma0, slope, cutoff):
    """Explicit eccNET-style pooling: token i becomes the normalised Gaussian-weighted mean of the
    tokens within cutoff * sigma_i, sigma_i = sigma0 + slope * |p_i - f|, one sigma per head."""
    B, N, C = x.shape
    H = len(sigma0)
    D = C // H
    out = torch.zeros(B, N, C, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            for i in range(N):
                s = sigma0[h] + slope[h] * math.dist(pos[i].tolist(), fix[b].tolist())
                wsum, acc = 0.0, torch.zeros(D, dtype=torch.float64)
                for j in range(N):
                    d = math.dist(pos[i].tolist(), pos[j].tolist())
                    if d <= cutoff * s:
                        wgt = math.exp(-d * d / (2 * s * s))
                        wsum += wgt
                        acc += wgt * x[b, j, h * D:(h + 1) * D].double()
                out[b, i, h * D:(h + 1) * D] = acc / wsum
    return out


@pytest.mark.parametrize("impl", ["reference", "auto"])
def test_pooling_only_is_explicit_gaussian_pooling(impl):
    cfg = BackboneConfig(depth=1, width=6, heads=2, attention="ecc", pooling_only=True, mlp_ratio=0,
                         sigma0=0.6, slope=0.3, cutoff=2.5, attention_impl=impl)
    block = Block(cfg)
    with torch.no_grad():  # two heads with different widths
        block.attn.sigma0_raw.copy_(block.attn.sigma0_raw + torch.tensor([0.0, 0.7]))
    assert block.attn.sigma0[0].item() == pytest.approx(0.6, rel=1e-5)
    pos = _grid(5, 0.75)  # 25 tokens, 0.75 deg apart
    fix = torch.tensor([[0.0, 0.0], [1.6, 2.2]])  # a different fixation per image
    x = torch.randn(2, 25, 6)
    got = block(x, AttentionContext(pos, fix))
    want = gaussian_pooling_by_hand(x, pos, fix, block.attn.sigma0.tolist(), block.attn.slope.tolist(), 2.5)
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-5)
    # Pooling averages: a constant image stays constant.
    const = torch.full((2, 25, 6), 3.0)
    torch.testing.assert_close(block(const, AttentionContext(pos, fix)), const)


def test_dense_block_is_softmax_attention_by_hand():
    cfg = BackboneConfig(depth=1, width=8, heads=2, attention="dense", mlp_ratio=2.0)
    block = Block(cfg).eval()
    x = torch.randn(3, 7, 8)
    bias = torch.randn(3, 2, 7, 7)
    got = block(x, AttentionContext(_grid(3)[:7], torch.zeros(3, 2), bias))
    a = block.attn
    q, k, v = a.qkv(block.norm1(x)).view(3, 7, 3, 2, 4).permute(2, 0, 3, 1, 4)
    w = torch.softmax(q @ k.transpose(-1, -2) / 2.0 + bias, dim=-1)
    h = x + a.proj((w @ v).transpose(1, 2).reshape(3, 7, 8))
    want = h + block.mlp.fc2(F.gelu(block.mlp.fc1(block.norm2(h))))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_ecc_with_huge_sigma_equals_dense():
    """With sigma -> infinity and no cutoff the Gaussian term vanishes: ecc attention is dense attention."""
    ecc = Block(BackboneConfig(depth=1, width=8, heads=2, attention="ecc", sigma0=1e6, slope=0.0,
                               cutoff=math.inf, learn_slope=False, attention_impl="reference"))
    dense = Block(BackboneConfig(depth=1, width=8, heads=2, attention="dense"))
    dense.load_state_dict({k: v for k, v in ecc.state_dict().items() if "sigma" not in k and "slope" not in k})
    x = torch.randn(2, 16, 8)
    ctx = AttentionContext(_grid(4), torch.zeros(2, 2))
    torch.testing.assert_close(ecc(x, ctx), dense(x, ctx), atol=1e-5, rtol=1e-5)


def test_foveal_tokens_attend_locally_peripheral_ones_widely():
    cfg = BackboneConfig(depth=1, width=4, heads=1, attention="ecc", pooling_only=True, mlp_ratio=0,
                         sigma0=0.5, slope=0.5, cutoff=3.0, attention_impl="reference")
    block = Block(cfg)
    pos = _grid(9) - 4.0  # 81 tokens from -4 to 4 deg, fixation at the centre token (index 40)
    fix = torch.zeros(1, 2)
    x = torch.zeros(1, 81, 4)
    x[0, 42] = 1.0  # a token 2 deg right of the fixation
    out = block(x, AttentionContext(pos, fix))
    # sigma at the fovea is 0.5 deg: reach 1.5 deg < 2 deg, so the foveal token ignores it ...
    assert out[0, 40].abs().max() == 0
    # ... while a token 2 deg further out (sigma 1.5 deg, reach 4.5 deg) pools it in.
    assert out[0, 44].abs().max() > 0.01


def test_sigma_parameters():
    learn = Block(BackboneConfig(depth=1, width=8, heads=4, sigma0=1.5, slope=0.2))
    names = dict(learn.named_parameters())
    assert "attn.sigma0_raw" in names and "attn.slope_raw" in names
    torch.testing.assert_close(learn.attn.sigma0, torch.full((4,), 1.5))
    torch.testing.assert_close(learn.attn.slope, torch.full((4,), 0.2))
    fixed = Block(BackboneConfig(depth=1, width=8, heads=4, slope=0.0, learn_sigma0=False, learn_slope=False))
    assert not any("sigma" in n or "slope" in n for n, _ in fixed.named_parameters())
    assert fixed.attn.slope.tolist() == [0.0] * 4
    assert "attn.sigma0_raw" in fixed.state_dict()  # fixed values still travel with checkpoints


def test_gradients_reach_sigma_and_slope():
    block = Block(BackboneConfig(depth=1, width=8, heads=2, sigma0=0.8, slope=0.3, attention_impl="reference"))
    x = torch.randn(2, 16, 8)
    out = block(x, AttentionContext(_grid(4), torch.tensor([[0.0, 0.0], [3.0, 1.0]])))
    (out * torch.randn_like(out)).sum().backward()
    for p in (block.attn.sigma0_raw, block.attn.slope_raw, block.attn.qkv.weight, block.mlp.fc1.weight):
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_zero_sublayers_make_the_block_the_identity():
    block = Block(BackboneConfig(depth=1, width=8, heads=2, attention="dense"))
    with torch.no_grad():
        for lin in (block.attn.proj, block.mlp.fc2):
            lin.weight.zero_()
            lin.bias.zero_()
    x = torch.randn(2, 5, 8)
    torch.testing.assert_close(block(x, AttentionContext(_grid(3)[:5], torch.zeros(2, 2))), x)
