"""The CPU fast path against the float64 reference: forward and gradients."""

from __future__ import annotations

import math

import pytest
import torch

from gazemodels.attention import ecc_attention_reference
from gazemodels.attention.cpu import ecc_attention_cpu, morton_order, plan_blocks

from ._helpers import as_float64, output_and_grads, random_problem, rel_err

CASES = [
    # (B, H, N, D, Dv, per_head, pos_batched, bias, block_q)
    (2, 3, 37, 8, 8, True, False, False, 16),  # N not a multiple of the block
    (3, 2, 64, 16, 8, False, True, False, 16),  # (B, N, 2) positions, Dv != D
    (1, 4, 50, 8, 8, True, True, True, 32),  # bias, per-head sigma
    (2, 1, 5, 4, 4, False, False, False, 64),  # fewer tokens than one block
]


@pytest.mark.parametrize("backend", ["auto", "torch"])  # auto: the native forward where it builds
@pytest.mark.parametrize("B,H,N,D,Dv,per_head,pos_batched,bias,block_q", CASES)
def test_cpu_matches_reference_fp32(B, H, N, D, Dv, per_head, pos_batched, bias, block_q, backend):
    p = random_problem(B, H, N, D, Dv, per_head=per_head, pos_batched=pos_batched, bias=bias, dtype=torch.float32)
    out, grads = output_and_grads(lambda **a: ecc_attention_cpu(**a, block_q=block_q, backend=backend), p)
    p64 = as_float64(p)
    ref, ref_grads = output_and_grads(ecc_attention_reference, p64)
    assert out.dtype == torch.float32 and out.shape == (B, H, N, Dv)
    assert rel_err(out, ref) <= 1e-4
    assert set(grads) == set(ref_grads)
    for name in grads:
        assert grads[name].shape == ref_grads[name].shape, name
        assert rel_err(grads[name], ref_grads[name]) <= 1e-4, name


@pytest.mark.parametrize("budget", [1, 2**16])
def test_cpu_forward_block_groups(monkeypatch, budget):
    # The forward batches query blocks with padded key lists: one block per group (budget 1
    # byte) or several blocks of different lengths per group must give the same result.
    import gazemodels.attention.cpu as cpu_mod

    monkeypatch.setattr(cpu_mod, "GROUP_BYTES", budget)
    p = random_problem(B=2, H=2, N=45, D=8, bias=True, dtype=torch.float64, requires_grad=False)
    out = ecc_attention_cpu(**p, block_q=8)
    torch.testing.assert_close(out, ecc_attention_reference(**p))


def test_cpu_forward_groups_on_worker_threads(monkeypatch):
    # With several torch threads the groups run on a thread pool: same result, and the
    # caller's thread setting is restored.
    import gazemodels.attention.cpu as cpu_mod

    monkeypatch.setattr(cpu_mod, "GROUP_BYTES", 2**12)
    p = random_problem(B=2, H=2, N=60, D=8, bias=True, dtype=torch.float64, requires_grad=False)
    torch.set_num_threads(2)
    out = ecc_attention_cpu(**p, block_q=8)
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)
    torch.testing.assert_close(out, ecc_attention_reference(**p))


def test_cpu_infinite_cutoff_and_different_fixations():
    p = random_problem(B=3, H=2, N=30, cutoff=math.inf, dtype=torch.float32)
    out, grads = output_and_grads(lambda **a: ecc_attention_cpu(**a, block_q=8), p)
    ref, ref_grads = output_and_grads(ecc_attention_reference, as_float64(p))
    assert rel_err(out, ref) <= 1e-4
    for name in grads:
        assert rel_err(grads[name], ref_grads[name]) <= 1e-4, name
    # The fixation matters: moving it changes every batch element's output.
    moved = ecc_attention_cpu(**{**p, "fixation": p["fixation"] + 2.0})
    assert rel_err(moved, out) > 1e-3


def test_cpu_gradcheck_float64():
    p = random_problem(B=2, H=2, N=14, D=4, bias=True, dtype=torch.float64, cutoff=2.0)

    def fn(q, k, v, sigma0, slope, bias):
        return ecc_attention_cpu(q, k, v, p["pos"], p["fixation"], sigma0, slope, p["cutoff"], bias, block_q=4)

    inputs = tuple(p[n] for n in ("q", "k", "v", "sigma0", "slope", "bias"))
    # fast_mode checks a random projection of the Jacobian (a few forwards instead of one per
    # input element); the full Jacobians are compared with the reference's autograd above.
    assert torch.autograd.gradcheck(fn, inputs, fast_mode=True)
    # Slow mode on the parameters and a few queries.
    assert torch.autograd.gradcheck(lambda s0, sl: fn(*inputs[:3], s0, sl, inputs[5]), inputs[3:5])


def test_cpu_learnable_scalar_parameters_get_gradients():
    p = random_problem(B=2, H=4, N=20, per_head=False)
    s0 = torch.nn.Parameter(torch.tensor(0.5))
    sl = torch.nn.Parameter(torch.tensor(0.2))
    ecc_attention_cpu(**{**p, "sigma0": s0, "slope": sl}).square().sum().backward()
    assert s0.grad is not None and sl.grad is not None
    assert s0.grad.abs() > 0 and sl.grad.abs() > 0


def test_cpu_equal_per_head_widths_get_their_own_gradients():
    """Per-head widths that happen to be equal (a network at initialisation) are still separate
    parameters: each head's gradient must match the reference's, not be pooled into head 0.
    (Found by comparing the backbone on a GPU, through the Triton kernels, with the CPU.)"""
    p = random_problem(B=2, H=3, N=40, per_head=False)
    grads = {}
    for name, fn in (("cpu", ecc_attention_cpu), ("reference", ecc_attention_reference)):
        s0 = torch.nn.Parameter(torch.full((3,), 0.5, dtype=p["q"].dtype))
        sl = torch.nn.Parameter(torch.full((3,), 0.2, dtype=p["q"].dtype))
        out = fn(**{**p, "sigma0": s0, "slope": sl})
        (out * torch.cos(torch.arange(out.numel(), dtype=out.dtype)).view_as(out)).sum().backward()
        grads[name] = (s0.grad, sl.grad)
    for got, want in zip(grads["cpu"], grads["reference"]):
        assert (want[1:] != 0).all()  # the reference gives every head a gradient
        assert rel_err(got, want) < 1e-4


def test_cpu_fully_masked_rows_give_zeros():
    p = random_problem(B=1, H=2, N=12, bias=True, dtype=torch.float64)
    bias = p["bias"].detach().clone()
    bias[..., 3, :] = -math.inf
    bias.requires_grad_(True)
    out = ecc_attention_cpu(**{**p, "bias": bias}, block_q=4)
    ref = ecc_attention_reference(**{**p, "bias": bias})
    assert torch.all(out[:, :, 3] == 0)
    torch.testing.assert_close(out, ref)
    out.sum().backward()
    assert all(torch.isfinite(p[n].grad).all() for n in ("q", "k", "v", "sigma0", "slope"))


def test_cpu_half_precision_inputs():
    p = random_problem(dtype=torch.float16, requires_grad=False)
    out = ecc_attention_cpu(**p)
    ref = ecc_attention_reference(**as_float64(p))
    assert out.dtype == torch.float16
    assert rel_err(out, ref) < 2e-3


def test_plan_skips_far_keys_and_keeps_every_kept_pair():
    # A 32 x 32 grid over 16 deg with small sigma: most keys must be skipped, and no
    # pair the reference keeps may be missing from the candidate lists.
    g = torch.arange(32, dtype=torch.float64) * 0.5
    ys, xs = torch.meshgrid(g, g, indexing="ij")
    pos = torch.stack([xs.flatten(), ys.flatten()], -1)
    sigma = 0.3 + 0.1 * (pos - 8.0).norm(dim=-1)
    reach = 3.0 * sigma
    torch.set_num_threads(2)
    plan = plan_blocks(pos, reach, block_q=16)
    assert torch.get_num_threads() == 2  # planned with one thread, the setting restored
    assert plan.pair_fraction() < 0.5
    d2 = ((pos[:, None] - pos[None]) ** 2).sum(-1)
    kept = d2 <= reach[:, None] ** 2
    perm = plan.perm
    for i, keys in enumerate(plan.keys):
        qtok = perm[i * 16 : (i + 1) * 16]
        cand = torch.zeros(pos.shape[0], dtype=torch.bool)
        cand[perm[keys]] = True
        assert not (kept[qtok] & ~cand[None]).any()


def test_morton_order_groups_neighbours():
    g = torch.arange(8, dtype=torch.float32)
    ys, xs = torch.meshgrid(g, g, indexing="ij")
    pos = torch.stack([xs.flatten(), ys.flatten()], -1)
    perm = morton_order(pos)
    assert sorted(perm.tolist()) == list(range(64))
    # Every aligned run of 4 tokens is a 2 x 2 square, of 16 a 4 x 4 square.
    for size, side in ((4, 2), (16, 4)):
        for chunk in pos[perm].view(-1, size, 2):
            span = chunk.amax(0) - chunk.amin(0)
            assert span.tolist() == [side - 1, side - 1]


def test_cpu_memory_is_not_quadratic():
    # N = 4096 with a small window: a dense (H, N, N) fp32 score tensor would take 512 MiB.
    # Check that no single allocation of that order is made, via the profiler's memory log.
    g = torch.arange(64, dtype=torch.float32) * 0.25
    ys, xs = torch.meshgrid(g, g, indexing="ij")
    pos = torch.stack([xs.flatten(), ys.flatten()], -1)
    q = torch.randn(1, 8, 4096, 16)
    with torch.profiler.profile(profile_memory=True) as prof:
        ecc_attention_cpu(q, q, q, pos, torch.tensor([[8.0, 8.0]]), 0.2, 0.02)
    biggest = max(e.cpu_memory_usage for e in prof.events())
    assert biggest < 64 * 2**20
