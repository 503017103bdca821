"""The SDPA path (``impl="sdpa"``) against the float64 reference: forward and every gradient."""

from __future__ import annotations

import math

import pytest
import torch

from gazemodels.attention import ecc_attention, ecc_attention_reference
from gazemodels.attention.dense import ecc_attention_sdpa

from ._helpers import as_float64, output_and_grads, random_problem, rel_err

CASES = [
    # (B, H, N, D, Dv, per_head, pos_batched, bias)
    (2, 3, 37, 8, 8, True, False, False),
    (3, 2, 64, 16, 8, False, True, False),  # (B, N, 2) positions, Dv != D
    (1, 4, 50, 8, 8, True, True, True),  # bias, per-head sigma
]


@pytest.mark.parametrize("B,H,N,D,Dv,per_head,pos_batched,bias", CASES)
def test_sdpa_matches_reference_fp32(B, H, N, D, Dv, per_head, pos_batched, bias):
    p = random_problem(B, H, N, D, Dv, per_head=per_head, pos_batched=pos_batched, bias=bias, dtype=torch.float32)
    out, grads = output_and_grads(ecc_attention_sdpa, p)
    ref, ref_grads = output_and_grads(ecc_attention_reference, as_float64(p))
    assert out.dtype == torch.float32 and out.shape == (B, H, N, Dv)
    assert rel_err(out, ref) <= 1e-5
    assert set(grads) == set(ref_grads) and {"sigma0", "slope"} <= set(grads)
    for name in grads:
        assert rel_err(grads[name], ref_grads[name]) <= 1e-4, name


def test_sdpa_gradients_reach_positions_and_fixation():
    p = random_problem(B=2, H=2, N=20, dtype=torch.float64)
    for n in ("pos", "fixation"):
        p[n] = p[n].clone().requires_grad_(True)
    out = ecc_attention_sdpa(**p)
    ref = ecc_attention_reference(**p)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    got = torch.autograd.grad((out * w).sum(), [p["pos"], p["fixation"]])
    want = torch.autograd.grad((ref * w).sum(), [p["pos"], p["fixation"]])
    for a, b in zip(got, want):
        assert float(b.abs().max()) > 0
        torch.testing.assert_close(a, b)


def test_sdpa_fully_masked_rows_give_zeros_and_finite_gradients():
    p = random_problem(B=1, H=2, N=12, bias=True, dtype=torch.float64)
    bias = p["bias"].detach().clone()
    bias[..., 3, :] = -math.inf
    bias.requires_grad_(True)
    out = ecc_attention_sdpa(**{**p, "bias": bias})
    ref = ecc_attention_reference(**{**p, "bias": bias})
    assert torch.all(out[:, :, 3] == 0) and torch.isfinite(out).all()
    torch.testing.assert_close(out, ref)
    out.sum().backward()
    assert all(torch.isfinite(p[n].grad).all() for n in ("q", "k", "v", "sigma0", "slope"))
    assert torch.all(p["q"].grad[:, :, 3] == 0)


def test_dispatcher_and_infinite_cutoff():
    p = random_problem(B=2, H=2, N=16, requires_grad=False, dtype=torch.float64, cutoff=math.inf)
    torch.testing.assert_close(ecc_attention(**p, impl="sdpa"), ecc_attention(**p, impl="reference"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (not yet run on one)")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_sdpa_on_cuda_matches_reference(dtype):
    """On a GPU SDPA may take its flash or memory-efficient kernels; bf16 within 2e-2."""
    p = random_problem(B=2, H=2, N=300, D=32, bias=True, dtype=torch.float32)
    p = {n: (x.detach().cuda().requires_grad_(x.requires_grad) if isinstance(x, torch.Tensor) else x)
         for n, x in p.items()}  # fmt: skip
    for n in ("q", "k", "v"):
        p[n] = p[n].detach().to(dtype).requires_grad_(True)
    out, grads = output_and_grads(ecc_attention_sdpa, p)
    ref, ref_grads = output_and_grads(ecc_attention_reference, as_float64(p))
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    assert rel_err(out, ref) <= tol
    for name in grads:
        assert rel_err(grads[name], ref_grads[name]) <= 5 * tol, name
