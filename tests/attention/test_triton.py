"""The fused Triton kernels against the float64 reference.

Without a CUDA GPU the kernels run in Triton's CPU interpreter: ``TRITON_INTERPRET=1`` must be
in the environment before Triton is imported (``tests/attention/conftest.py`` sets it, and so
does the top of this module, for a direct run). With a GPU the same tests run the compiled
kernels on CUDA.

Tolerances: fp32 forward and gradients within 1e-4 relative error (max abs error over max abs
value) of the float64 reference; fp16 forward within 2e-3 of the float64 reference evaluated
on the same fp16-rounded inputs (the kernel rounds P to fp16 before the P @ V product, as
FlashAttention does; the measured error is about 3e-4), fp16 gradients within 5e-3 (measured:
up to 1.2e-3).
bfloat16 is not tested: the interpreter's bf16 ``tl.dot`` is not faithful.
"""

from __future__ import annotations

import importlib
import math
import os
import sys

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def _kernels_module():
    """The kernels module, interpreted on the CPU; skip (with the reason) if impossible."""
    tk = pytest.importorskip("gazemodels.attention.triton_kernels")
    if DEVICE == "cpu" and not tk.kernels_interpreted():
        import triton

        std_compiled = isinstance(triton.language.standard.max, triton.runtime.jit.JITFunction)
        if os.environ.get("TRITON_INTERPRET") != "1" or std_compiled:
            pytest.skip(
                "no CUDA, and the Triton kernels are compiled: TRITON_INTERPRET is not 1, or Triton "
                "was imported before it was set (run with TRITON_INTERPRET=1)",
                allow_module_level=True,
            )
        tk = importlib.reload(sys.modules["gazemodels.attention.triton_kernels"])
    return tk


tk = _kernels_module()

from gazemodels.attention import ecc_attention  # noqa: E402
from gazemodels.attention.reference import ecc_attention_reference  # noqa: E402


def rel_err(x: torch.Tensor, ref: torch.Tensor) -> float:
    """Max absolute error over max absolute reference value."""
    x, ref = x.detach().double(), ref.detach().double()
    return float((x - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


# --------------------------------------------------------------------------------------------
# Cases: (B, H, N, D, Dv, block_m, block_n, pos kind, per-head sigma, bias kind, cutoff)
# --------------------------------------------------------------------------------------------


def make_case(seed, B, H, N, D, Dv, pos_kind, per_head, bias_kind, extent=8.0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, H, N, D, generator=g)
    k = torch.randn(B, H, N, D, generator=g)
    v = torch.randn(B, H, N, Dv, generator=g)
    if pos_kind == "shared":
        pos = torch.rand(N, 2, generator=g) * extent
    elif pos_kind == "one":
        pos = torch.rand(1, N, 2, generator=g) * extent
    else:  # "batch": each batch element has its own token positions
        pos = torch.rand(B, N, 2, generator=g) * extent
    fixation = torch.rand(B, 2, generator=g) * extent  # a different fixation per batch element
    if per_head:
        sigma0 = 0.4 + torch.rand(H, generator=g)
        slope = 0.3 * torch.rand(H, generator=g)
    else:
        sigma0 = torch.tensor(0.8)
        slope = torch.tensor(0.12)
    if bias_kind is None:
        bias = None
    elif bias_kind == "b1":
        bias = torch.randn(B, 1, N, N, generator=g)
    else:  # "1h"
        bias = torch.randn(1, H, N, N, generator=g)
    out = dict(q=q, k=k, v=v, pos=pos, fixation=fixation, sigma0=sigma0, slope=slope, bias=bias)
    return {n: (x.to(DEVICE) if x is not None else None) for n, x in out.items()}


CASES = {
    # N = 80: not a multiple of 32 nor 64; batched positions, per-head sigma.
    "n80-batchpos-perhead": dict(seed=0, B=2, H=3, N=80, D=16, Dv=24, pos_kind="batch", per_head=True,
                                 bias_kind=None, block_m=32, block_n=64, cutoff=3.0),
    # D = 20 padded to 32, N = 100, shared (N, 2) positions, scalar sigma, swapped blocks.
    "n100-sharedpos-scalar": dict(seed=1, B=2, H=2, N=100, D=20, Dv=20, pos_kind="shared", per_head=False,
                                  bias_kind=None, block_m=64, block_n=32, cutoff=2.5),
    # N smaller than one block, (1, N, 2) positions, per-batch bias broadcast over heads.
    "n47-bias-b1": dict(seed=2, B=2, H=2, N=47, D=16, Dv=16, pos_kind="one", per_head=True,
                        bias_kind="b1", block_m=32, block_n=32, cutoff=3.0),
    # Per-head bias broadcast over the batch, no cutoff at all (every key in).
    "n72-bias-1h-nocutoff": dict(seed=3, B=2, H=3, N=72, D=8, Dv=16, pos_kind="batch", per_head=True,
                                 bias_kind="1h", block_m=32, block_n=32, cutoff=math.inf),
}  # fmt: skip


def _random_case(seed):
    """A random shape: N from 33 to 130 (rarely a block multiple), 1-3 heads, D from 4 to 40."""
    g = torch.Generator().manual_seed(1000 + seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (), generator=g))  # noqa: E731
    return dict(seed=seed, B=r(1, 2), H=r(1, 3), N=r(33, 130), D=r(4, 40), Dv=r(4, 40),
                pos_kind=("shared", "one", "batch")[r(0, 2)], per_head=bool(r(0, 1)), bias_kind=None,
                block_m=(32, 64)[r(0, 1)], block_n=(32, 64)[r(0, 1)], cutoff=2.0 + r(0, 2))  # fmt: skip


for _s in range(2):
    _c = _random_case(_s)
    CASES[f"random-{_s}-B{_c['B']}H{_c['H']}N{_c['N']}D{_c['D']}Dv{_c['Dv']}"] = _c


QKV = ("q", "k", "v")


def _call(fn, inputs, cutoff, g_out, **extra):
    """Output of ``fn`` and the gradients of ``sum(out * g_out)`` w.r.t. every input tensor."""
    xs = {n: x.detach().clone().requires_grad_(True) for n, x in inputs.items()}
    out = fn(xs["q"], xs["k"], xs["v"], xs["pos"], xs["fixation"], xs["sigma0"], xs["slope"],
             cutoff, xs.get("bias"), **extra)  # fmt: skip
    (out.double() * g_out.double()).sum().backward()
    return out, {n: x.grad for n, x in xs.items()}


def _run(case, dtype=torch.float32):
    """Triton output and gradients, and the float64 reference's, for one case."""
    c = dict(case)
    block_m, block_n, cutoff = c.pop("block_m"), c.pop("block_n"), c.pop("cutoff")
    data = {n: x for n, x in make_case(**c).items() if x is not None}
    g_out = torch.randn(data["v"].shape, generator=torch.Generator().manual_seed(99)).to(DEVICE)
    tri = {n: (x.to(dtype) if n in QKV else x) for n, x in data.items()}
    # The reference sees the same (possibly fp16-rounded) q, k, v, in float64.
    ref_in = {n: x.double() for n, x in tri.items()}
    out, gr = _call(tk.ecc_attention_triton, tri, cutoff, g_out, block_m=block_m, block_n=block_n)
    ref, rgr = _call(ecc_attention_reference, ref_in, cutoff, g_out)
    return out, gr, ref, rgr


# --------------------------------------------------------------------------------------------
# Agreement with the reference
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_fp32_forward_and_gradients_match_reference(name):
    case = CASES[name]
    out, gr, ref, rgr = _run(case)
    assert out.dtype == torch.float32 and out.shape == ref.shape
    assert rel_err(out, ref) < 1e-4, name
    # q, k, v, sigma0, slope, and also the positions, the fixations and the bias.
    assert set(gr) == set(rgr) and {"q", "k", "v", "sigma0", "slope", "fixation", "pos"} <= set(gr)
    for n in gr:
        assert gr[n].shape == rgr[n].shape, n
        assert torch.isfinite(gr[n]).all(), n
        assert rel_err(gr[n], rgr[n]) < 1e-4, (name, n, rel_err(gr[n], rgr[n]))


def test_fp16_forward_and_gradients():
    case = CASES["n80-batchpos-perhead"]
    out, gr, ref, rgr = _run(case, dtype=torch.float16)
    assert out.dtype == torch.float16
    assert rel_err(out, ref) < 2e-3
    for n in ("q", "k", "v", "sigma0", "slope"):
        assert gr[n].dtype == (torch.float16 if n in QKV else torch.float32)
        assert rel_err(gr[n], rgr[n]) < 5e-3, (n, rel_err(gr[n], rgr[n]))


def test_per_head_sigma_and_fixation_matter():
    """The kernel is not blind to the per-head widths and the per-batch fixation."""
    data = make_case(5, 2, 2, 40, 16, 16, "shared", True, None)
    args = [data[n] for n in ("q", "k", "v", "pos", "fixation", "sigma0", "slope")]
    out = tk.ecc_attention_triton(*args, block_m=32, block_n=32)
    args_swapped = list(args)
    args_swapped[4] = data["fixation"].flip(0)  # swap the fixations of the two batch elements
    args_swapped[5] = data["sigma0"].flip(0)  # swap the widths of the two heads
    out2 = tk.ecc_attention_triton(*args_swapped, block_m=32, block_n=32)
    ref2 = ecc_attention_reference(*[a.double() for a in args_swapped])
    assert rel_err(out2, ref2) < 1e-4
    assert rel_err(out2, out.double()) > 1e-2


def test_fully_masked_rows_give_zeros_and_finite_gradients():
    """A query whose every key is masked by the bias: zero output, zero gradient through it.

    The reference's own gradient is NaN for such a row (0 / 0 in the backward of its safe
    division), so the gradients are compared with the reference on the same problem with
    that row unmasked and its output gradient set to zero, which is the same function of
    the inputs everywhere else.
    """
    data = make_case(7, 1, 2, 40, 16, 16, "shared", True, None)
    bias = torch.zeros(1, 1, 40, 40, device=DEVICE)
    bias[..., 33, 20:] = -math.inf  # query 33 (second query block) loses some keys
    bias_full = bias.clone()
    bias_full[..., 5, :] = -math.inf  # query 5 sees no key at all
    names = ("q", "k", "v", "sigma0", "slope")
    xs = {n: data[n].clone().requires_grad_(True) for n in names}
    rs = {n: data[n].double().requires_grad_(True) for n in names}
    pos, fix = data["pos"], data["fixation"]
    out = tk.ecc_attention_triton(xs["q"], xs["k"], xs["v"], pos, fix, xs["sigma0"], xs["slope"],
                                  bias=bias_full, block_m=32, block_n=32)  # fmt: skip
    with torch.no_grad():
        ref_full = ecc_attention_reference(*(rs[n] for n in QKV), pos.double(), fix.double(), rs["sigma0"],
                                           rs["slope"], bias=bias_full.double())  # fmt: skip
    assert torch.equal(out[..., 5, :], torch.zeros_like(out[..., 5, :]))
    assert rel_err(out, ref_full) < 1e-4
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(3)).to(DEVICE)
    (out * g).sum().backward()
    ref = ecc_attention_reference(*(rs[n] for n in QKV), pos.double(), fix.double(), rs["sigma0"], rs["slope"],
                                  bias=bias.double())  # fmt: skip
    g_ref = g.double().clone()
    g_ref[..., 5, :] = 0.0
    (ref * g_ref).sum().backward()
    assert torch.equal(xs["q"].grad[..., 5, :], torch.zeros_like(xs["q"].grad[..., 5, :]))
    for n in names:
        assert torch.isfinite(xs[n].grad).all(), n
        assert rel_err(xs[n].grad, rs[n].grad) < 1e-4, n


# --------------------------------------------------------------------------------------------
# Block skipping
# --------------------------------------------------------------------------------------------


def _grid_case():
    """A 15 x 15 patch grid in raster order (N = 225, not a multiple of 32), narrow Gaussians:
    more than half of the tiles are out of reach."""
    side = 15
    g = torch.arange(side, dtype=torch.float32) * 0.5
    pos = torch.cartesian_prod(g, g)  # raster order, 0.5 deg spacing
    gen = torch.Generator().manual_seed(11)
    B, H, N, D = 2, 2, side * side, 16
    q, k, v = (torch.randn(B, H, N, D, generator=gen) for _ in range(3))
    fixation = torch.tensor([[1.3, 2.1], [6.4, 3.7]])
    sigma0 = torch.tensor([0.12, 0.3])
    slope = torch.tensor([0.06, 0.0])
    return tuple(t.to(DEVICE) for t in (q, k, v, pos, fixation, sigma0, slope))


def test_block_skipping_happens_and_changes_nothing():
    q, k, v, pos, fixation, sigma0, slope = _grid_case()
    cutoff, bm, bn = 3.0, 32, 32
    visit = tk.block_visit_mask(pos, fixation, sigma0, slope, num_heads=2, cutoff=cutoff, block_m=bm, block_n=bn)
    N = q.shape[2]
    nm = nn = math.ceil(N / 32)
    assert visit.shape == (2, 2, nm, nn)
    # Skipping happens, and it differs by head (width) and by batch element (fixation).
    assert 0 < visit.float().mean() < 0.5
    assert not torch.equal(visit[:, 0], visit[:, 1])
    assert not torch.equal(visit[0], visit[1])
    # It is safe: every tile holding an included pair (dense float64 test) is visited.
    ecc = torch.linalg.vector_norm(pos[None].double() - fixation[:, None].double(), dim=-1)  # (B, N)
    sig = sigma0.double()[None, :, None] + slope.double()[None, :, None] * ecc[:, None]  # (B, H, N)
    d2 = ((pos[:, None].double() - pos[None].double()) ** 2).sum(-1)
    incl = d2[None, None] <= (cutoff * sig[..., None]) ** 2  # (B, H, N, N)
    pad = nm * bm - N
    incl = torch.nn.functional.pad(incl, (0, pad, 0, pad)).reshape(2, 2, nm, bm, nn, bn).any(5).any(3)
    assert not (incl & ~visit).any()

    def run(skip):
        xs = [t.clone().requires_grad_(True) for t in (q, k, v, sigma0, slope)]
        out = tk.ecc_attention_triton(xs[0], xs[1], xs[2], pos, fixation, xs[3], xs[4], cutoff,
                                      block_m=bm, block_n=bn, skip_blocks=skip)  # fmt: skip
        out.backward(torch.ones_like(out))
        return [out.detach()] + [x.grad for x in xs]

    skipped, full = run(True), run(False)
    # Bit-identical: a skipped tile would only have added exact zeros.
    for a, b in zip(skipped, full):
        assert torch.equal(a, b)
    ref = ecc_attention_reference(q.double(), k.double(), v.double(), pos.double(), fixation.double(),
                                  sigma0.double(), slope.double(), cutoff)  # fmt: skip
    assert rel_err(skipped[0], ref) < 1e-4


def test_kernels_visit_exactly_the_planned_tiles():
    """With a deliberately wrong plan (some needed tiles dropped), the kernels compute the
    attention with exactly those tiles' pairs removed: they follow the index lists."""
    data = make_case(13, 1, 2, 96, 16, 16, "shared", True, None, extent=3.0)
    bm = bn = 32
    args = tk.check_attention_args(*(data[n] for n in ("q", "k", "v", "pos", "fixation", "sigma0", "slope")), math.inf)
    sigma, reach2 = tk._prepare(args)
    visit = torch.tensor([[1, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=torch.bool)
    visit = torch.stack([visit, visit.T])[None].to(DEVICE)  # (1, 2, 3, 3), a different pattern per head
    plan = tk.BlockPlan.from_visit(visit, bm, bn)
    assert plan.kv_counts.tolist() == [[[2, 2, 2], [2, 1, 3]]]
    xs = [t.clone().requires_grad_(True) for t in (data["q"], data["k"], data["v"])]
    out = tk._EccAttentionFn.apply(*xs, args.pos, sigma, None, reach2, plan)
    # The same tiles masked through an additive -inf bias in the reference.
    bias = torch.zeros(1, 2, 96, 96, dtype=torch.float64, device=DEVICE)
    bias.masked_fill_(~visit.repeat_interleave(bm, 2).repeat_interleave(bn, 3), -math.inf)
    rs = [t.double().requires_grad_(True) for t in (data["q"], data["k"], data["v"])]
    ref = ecc_attention_reference(*rs, data["pos"].double(), data["fixation"].double(), data["sigma0"].double(),
                                  data["slope"].double(), math.inf, bias)  # fmt: skip
    assert rel_err(out, ref) < 1e-4
    out.sum().backward()
    ref.sum().backward()
    for x, r in zip(xs, rs):
        assert rel_err(x.grad, r.grad) < 1e-4


def test_morton_token_order_skips_more_tiles_and_changes_nothing_but_rounding():
    """Grid tokens given in a shuffled order: the kernels' Z-curve sort makes the blocks compact
    (far fewer tiles visited), and the output and gradients, back in the caller's order, agree
    with the given-order run and with the reference."""
    g = torch.Generator().manual_seed(23)
    side = 16
    c = torch.arange(side, dtype=torch.float32) * 0.5
    grid = torch.cartesian_prod(c, c)  # 256 tokens over 7.5 x 7.5 deg
    pos = torch.stack([grid[torch.randperm(side * side, generator=g)] for _ in range(2)])  # (B, N, 2)
    B, H, N, D = 2, 2, side * side, 16
    q, k, v = (torch.randn(B, H, N, D, generator=g) for _ in range(3))
    fixation = torch.tensor([[3.7, 3.7], [0.5, 6.5]])
    sigma0, slope, cutoff, blk = torch.tensor([0.15, 0.25]), torch.tensor([0.02, 0.05]), 3.0, 32
    q, k, v, pos, fixation, sigma0, slope = (t.to(DEVICE) for t in (q, k, v, pos, fixation, sigma0, slope))

    perm = tk.token_permutation(pos)
    assert perm.shape == (B, N) and not torch.equal(perm[0], perm[1])  # each batch row sorted on its own
    assert torch.equal(perm.sort(1).values, torch.arange(N, device=perm.device).expand(B, N))
    given = tk.block_visit_mask(pos, fixation, sigma0, slope, H, cutoff, blk, blk).float().mean()
    sorted_pos = torch.gather(pos, 1, perm[..., None].expand(B, N, 2))
    morton = tk.block_visit_mask(sorted_pos, fixation, sigma0, slope, H, cutoff, blk, blk).float().mean()
    assert morton < 0.7 * given

    def run(fn, dtype=torch.float32, **kw):
        xs = [t.to(dtype).clone().requires_grad_(True) for t in (q, k, v, sigma0, slope)]
        out = fn(xs[0], xs[1], xs[2], pos.to(dtype), fixation.to(dtype), xs[3], xs[4], cutoff, **kw)
        out.backward(torch.cos(torch.arange(out.numel(), device=out.device, dtype=dtype)).view_as(out))
        return [out.detach()] + [x.grad for x in xs]

    ref = run(ecc_attention_reference, torch.float64)
    for order in ("morton", "given"):
        res = run(tk.ecc_attention_triton, token_order=order, block_m=blk, block_n=blk)
        for a, r in zip(res, ref):
            assert rel_err(a, r) < 1e-4, order
    with pytest.raises(ValueError, match="token_order"):
        tk.ecc_attention_triton(q, k, v, pos, fixation, sigma0, slope, token_order="hilbert")


# --------------------------------------------------------------------------------------------
# Interface
# --------------------------------------------------------------------------------------------


def test_dispatcher_can_force_the_kernels():
    data = make_case(17, 1, 2, 40, 16, 16, "shared", False, None)
    args = [data[n] for n in ("q", "k", "v", "pos", "fixation", "sigma0", "slope")]
    out = ecc_attention(*args, impl="triton")
    assert torch.equal(out, tk.ecc_attention_triton(*args))


def test_fp32_precision_and_default_tiles_follow_torchs_matmul_setting():
    """Exact fp32 products (torch's default "highest") get 32 x 32 tiles; TF32 ("high") and the
    half precisions get 64 x 64 (the H100 sweep of benchmarks/tune_triton_kernels.py)."""
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("highest")
        assert tk._dot_precision(torch.float32) == "ieee" and tk._default_blocks(torch.float32) == (32, 32)
        torch.set_float32_matmul_precision("high")
        assert tk._dot_precision(torch.float32) == "tf32" and tk._default_blocks(torch.float32) == (64, 64)
    finally:
        torch.set_float32_matmul_precision(before)
    for dt in (torch.float16, torch.bfloat16):
        assert tk._default_blocks(dt) == (64, 64)


def test_bad_arguments_raise_clear_errors():
    data = make_case(19, 1, 2, 40, 16, 16, "shared", False, None)
    q, k, v, pos, fix = (data[n] for n in ("q", "k", "v", "pos", "fixation"))
    with pytest.raises(ValueError, match="float64"):
        tk.ecc_attention_triton(q.double(), k.double(), v.double(), pos, fix, 0.5, 0.1)
    with pytest.raises(ValueError, match="power of two"):
        tk.ecc_attention_triton(q, k, v, pos, fix, 0.5, 0.1, block_m=48)
    with pytest.raises(ValueError, match="power of two"):
        tk.ecc_attention_triton(q, k, v, pos, fix, 0.5, 0.1, block_n=8)
    # The shared checks: shapes, sigma, NaN positions.
    with pytest.raises(ValueError, match="shape"):
        tk.ecc_attention_triton(q, k[:, :, :30], v, pos, fix, 0.5, 0.1)
    with pytest.raises(ValueError, match="sigma0"):
        tk.ecc_attention_triton(q, k, v, pos, fix, -0.5, 0.1)
    bad = pos.clone()
    bad[3, 1] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        tk.ecc_attention_triton(q, k, v, bad, fix, 0.5, 0.1)
