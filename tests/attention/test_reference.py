"""The float64 reference: hand-checked values, a naive loop, gradcheck, properties."""

from __future__ import annotations

import math

import pytest
import torch

from gazemodels.attention import ecc_attention, ecc_attention_reference
from ._helpers import random_problem, rel_err


def naive_loop(q, k, v, pos, fixation, sigma0, slope, cutoff, bias=None):
    """Per-(b, h, i, j) Python loop of the definition, in float64 with the math module."""
    B, H, N, D = q.shape
    pos = pos.expand(B, N, 2) if pos.dim() == 3 else pos[None].expand(B, N, 2)
    s0 = torch.as_tensor(sigma0, dtype=torch.float64).reshape(-1).expand(H)
    sl = torch.as_tensor(slope, dtype=torch.float64).reshape(-1).expand(H)
    out = torch.zeros(B, H, N, v.shape[-1], dtype=torch.float64)
    for b in range(B):
        fx, fy = float(fixation[b, 0]), float(fixation[b, 1])
        for h in range(H):
            for i in range(N):
                xi, yi = float(pos[b, i, 0]), float(pos[b, i, 1])
                sigma = float(s0[h]) + float(sl[h]) * math.hypot(xi - fx, yi - fy)
                scores = {}
                for j in range(N):
                    xj, yj = float(pos[b, j, 0]), float(pos[b, j, 1])
                    dist = math.hypot(xi - xj, yi - yj)
                    if dist > cutoff * sigma:
                        continue  # excluded key
                    s = sum(float(q[b, h, i, d]) * float(k[b, h, j, d]) for d in range(D)) / math.sqrt(D)
                    s -= dist**2 / (2 * sigma**2)
                    if bias is not None:
                        s += float(bias[min(b, bias.shape[0] - 1), min(h, bias.shape[1] - 1), i, j])
                    scores[j] = s
                m = max(scores.values())
                z = sum(math.exp(s - m) for s in scores.values())
                for j, s in scores.items():
                    out[b, h, i] += math.exp(s - m) / z * v[b, h, j].double()
    return out


def test_hand_checked_values():
    # Three tokens on a line, fixation on the first; zero scores, one-hot values, so the
    # output rows are the normalised Gaussian weights of the kept keys.
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]], dtype=torch.float64)
    q = torch.zeros(1, 1, 3, 4, dtype=torch.float64)
    v = torch.eye(3, dtype=torch.float64)[None, None]
    fix = torch.zeros(1, 2, dtype=torch.float64)
    out = ecc_attention_reference(q, q, v, pos, fix, 1.0, 0.5, cutoff=2.0)[0, 0]
    # Token 0: sigma = 1, reach 2: keys at distance 0 and 1 kept, the one at 3 excluded.
    w0 = torch.tensor([1.0, math.exp(-0.5), 0.0], dtype=torch.float64)
    # Token 1: sigma = 1.5, reach 3: distances 1, 0, 2 all kept.
    w1 = torch.tensor([math.exp(-1 / 4.5), 1.0, math.exp(-4 / 4.5)], dtype=torch.float64)
    # Token 2: sigma = 1 + 0.5 * 3 = 2.5 (peripheral, wider), reach 5: distances 3, 2, 0 kept.
    w2 = torch.tensor([math.exp(-9 / 12.5), math.exp(-4 / 12.5), 1.0], dtype=torch.float64)
    expected = torch.stack([w0 / w0.sum(), w1 / w1.sum(), w2 / w2.sum()])
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("per_head,pos_batched,bias", [(True, False, False), (False, True, True), (True, True, True)])
def test_reference_matches_naive_loop(per_head, pos_batched, bias):
    p = random_problem(B=2, H=2, N=9, D=3, per_head=per_head, pos_batched=pos_batched, bias=bias,
                       dtype=torch.float64, cutoff=1.5, requires_grad=False)
    out = ecc_attention_reference(**p)
    expected = naive_loop(p["q"], p["k"], p["v"], p["pos"], p["fixation"], p["sigma0"], p["slope"], p["cutoff"], p["bias"])
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-12)
    # Something is actually excluded at this cutoff, so the comparison tests the mask.
    assert rel_err(ecc_attention_reference(**{**p, "cutoff": math.inf}), out) > 1e-3


@pytest.mark.parametrize("per_head", [True, False])
def test_gradcheck_float64(per_head):
    p = random_problem(B=2, H=2, N=10, D=4, per_head=per_head, bias=True, dtype=torch.float64, cutoff=2.0)

    def fn(q, k, v, sigma0, slope, bias):
        return ecc_attention_reference(q, k, v, p["pos"], p["fixation"], sigma0, slope, p["cutoff"], bias)

    inputs = tuple(p[n] for n in ("q", "k", "v", "sigma0", "slope", "bias"))
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7)


def test_float32_input_close_to_float64():
    p = random_problem(dtype=torch.float32, requires_grad=False)
    out32 = ecc_attention_reference(**p)
    assert out32.dtype == torch.float32
    p64 = {n: (t.double() if isinstance(t, torch.Tensor) else t) for n, t in p.items()}
    assert rel_err(out32, ecc_attention_reference(**p64)) < 1e-5


def test_half_input_runs_and_returns_half():
    p = random_problem(dtype=torch.float16, requires_grad=False)
    out = ecc_attention_reference(**p)
    assert out.dtype == torch.float16 and torch.isfinite(out).all()


def test_diagonal_always_kept_with_tiny_sigma():
    # sigma so small that every other key is excluded: each token attends to itself.
    p = random_problem(B=1, H=2, N=12, requires_grad=False, dtype=torch.float64)
    out = ecc_attention_reference(p["q"], p["k"], p["v"], p["pos"], p["fixation"], 1e-6, 0.0)
    torch.testing.assert_close(out, p["v"])


def test_fully_masked_row_returns_zeros_and_finite_grads():
    p = random_problem(B=1, H=1, N=6, bias=True, dtype=torch.float64)
    bias = p["bias"].detach().clone()
    bias[0, 0, 2, :] = -math.inf  # a padded query: every key masked
    bias.requires_grad_(True)
    out = ecc_attention_reference(**{**p, "bias": bias})
    assert torch.all(out[0, 0, 2] == 0)
    assert torch.isfinite(out).all()
    out.sum().backward()
    for name in ("q", "k", "v", "sigma0", "slope"):
        assert torch.isfinite(p[name].grad).all(), name
    assert torch.isfinite(bias.grad).all()


def receptive_field_spread(out, pos):
    """Per query, the attention-weighted mean squared distance to the keys.

    ``v = [x, y, x^2 + y^2]`` makes the output hold ``E[p]`` and ``E[|p|^2]``, from which
    ``E|p_j - p_i|^2 = E|p|^2 - 2 p_i . E[p] + |p_i|^2``.
    """
    mean = out[..., :2]
    sq = out[..., 2]
    return sq - 2 * (pos * mean).sum(-1) + (pos * pos).sum(-1)


@pytest.mark.parametrize("impl", ["reference", "cpu"])
def test_eccentricity_widens_receptive_field(impl):
    # 24 x 24 grid over 12 deg, fixation at the centre, content-free scores (q = 0).
    g = torch.arange(24, dtype=torch.float64) * 0.5 + 0.25
    ys, xs = torch.meshgrid(g, g, indexing="ij")
    pos = torch.stack([xs.flatten(), ys.flatten()], -1)
    N = pos.shape[0]
    fix = torch.tensor([[6.0, 6.0]], dtype=torch.float64)
    q = torch.zeros(1, 1, N, 4, dtype=torch.float64)
    v = torch.cat([pos, (pos * pos).sum(-1, keepdim=True)], -1)[None, None]
    ecc = (pos - fix).norm(dim=-1)
    fovea = int(ecc.argmin())
    # A peripheral query far enough from the border that its field is not clipped.
    periph = int(((ecc - 3.5).abs() + 10 * (pos[:, 1] - 6.25).abs()).argmin())
    spread = receptive_field_spread(ecc_attention(q, q, v, pos, fix, 0.4, 0.25, impl=impl)[0, 0], pos)
    assert spread[periph] > 3 * spread[fovea]
    # Without the slope the width is the same everywhere (interior tokens, same neighbourhood).
    flat = receptive_field_spread(ecc_attention(q, q, v, pos, fix, 0.4, 0.0, impl=impl)[0, 0], pos)
    torch.testing.assert_close(flat[periph], flat[fovea], rtol=1e-9, atol=1e-12)
