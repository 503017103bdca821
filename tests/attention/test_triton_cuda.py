"""The compiled Triton kernels on a CUDA GPU, at the sizes and precisions the interpreter can't test.

``test_triton.py`` runs every kernel path in Triton's CPU interpreter (or compiled, on a GPU)
at small sizes with 32/64 blocks. What needs a real GPU is here:

* **bfloat16**: the interpreter's bf16 ``tl.dot`` is not faithful, so bf16 is tested only
  compiled. Tolerances are set from bf16's unit roundoff (2^-8 = 3.9e-3) with the same
  rounding pattern as fp16 (P rounded to the input dtype before ``P @ V``): forward within
  2e-2 and gradients within 4e-2 of the float64 reference on the same bf16-rounded inputs.
* **Production sizes**: a 64 x 64 patch grid (N = 4,096), the default 64 x 64 tiles, head
  dimensions 64 and 128 (4 and 8 warps), against the float64 reference on the GPU.
* **The dispatcher**: ``impl="auto"`` runs the kernels for CUDA tensors.

Every test skips, with the reason, on a machine without a CUDA GPU (CI's); they were run on an
NVIDIA H100 (``benchmarks/gpu_notes.md``).
"""

from __future__ import annotations

import math

import pytest
import torch

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA GPU: compiled kernels, bf16 (not faithful in Triton's interpreter), N = 4,096",
)

if torch.cuda.is_available():
    from gazemodels.attention import triton_kernels as tk

from gazemodels.attention import ecc_attention, resolve_impl  # noqa: E402
from gazemodels.attention.reference import ecc_attention_reference  # noqa: E402

from ._helpers import rel_err  # noqa: E402

ARGS = ("q", "k", "v", "pos", "fixation", "sigma0", "slope")


def grid_case(seed: int, B: int, H: int, side: int, D: int, Dv: int, per_head: bool = True) -> dict:
    """Tokens on a ``side`` x ``side`` grid 0.25 deg apart (raster order), random q, k, v."""
    g = torch.Generator().manual_seed(seed)
    c = torch.arange(side, dtype=torch.float32) * 0.25
    pos = torch.cartesian_prod(c, c)
    N = side * side
    extent = float(c[-1])
    data = dict(
        q=torch.randn(B, H, N, D, generator=g),
        k=torch.randn(B, H, N, D, generator=g),
        v=torch.randn(B, H, N, Dv, generator=g),
        pos=pos,
        fixation=torch.rand(B, 2, generator=g) * extent,
        sigma0=(0.2 + 0.3 * torch.rand(H, generator=g)) if per_head else torch.tensor(0.3),
        slope=(0.05 + 0.2 * torch.rand(H, generator=g)) if per_head else torch.tensor(0.1),
    )
    return {n: x.cuda() for n, x in data.items()}


def _call(fn, inputs: dict, cutoff: float, bias, g_out, **extra):
    """Output of ``fn`` and the gradients of ``sum(out * g_out)`` w.r.t. every input but the positions."""
    xs = {n: x.detach().clone().requires_grad_(n != "pos") for n, x in inputs.items()}
    out = fn(*(xs[n] for n in ARGS), cutoff, bias, **extra)
    (out.double() * g_out.double()).sum().backward()
    return out, {n: x.grad for n, x in xs.items() if x.grad is not None}


def run_both(data: dict, dtype: torch.dtype, cutoff: float, bias=None, **kw):
    """Kernel output and gradients in ``dtype``; the float64 reference's on the same rounded inputs."""
    g_out = torch.randn(data["v"].shape, generator=torch.Generator().manual_seed(99)).cuda()
    rounded = {n: (x.to(dtype) if n in ("q", "k", "v") else x) for n, x in data.items()}
    out, grads = _call(tk.ecc_attention_triton, rounded, cutoff, bias, g_out, **kw)
    ref_in = {n: x.double() for n, x in rounded.items()}
    ref, rgrads = _call(ecc_attention_reference, ref_in, cutoff, None if bias is None else bias.double(), g_out)
    return out, grads, ref, rgrads


# The reference sees the inputs rounded to the kernel's dtype; tolerances (forward, gradients).
TOLERANCE = {torch.float32: (1e-4, 1e-4), torch.float16: (2e-3, 5e-3), torch.bfloat16: (2e-2, 4e-2)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
def test_small_case_all_dtypes_forward_and_gradients(dtype):
    """N = 400 (not a block multiple), D = 20 padded to 32, Dv = 24, per-head widths."""
    data = grid_case(0, B=2, H=3, side=20, D=20, Dv=24)
    out, grads, ref, rgrads = run_both(data, dtype, cutoff=3.0, block_m=32, block_n=64)
    assert out.dtype == dtype and torch.isfinite(out).all()
    f_tol, g_tol = TOLERANCE[dtype]
    assert rel_err(out, ref) < f_tol, rel_err(out, ref)
    assert {"q", "k", "v", "sigma0", "slope", "fixation"} <= set(grads)
    for n in grads:
        assert torch.isfinite(grads[n]).all(), n
        assert rel_err(grads[n], rgrads[n]) < g_tol, (n, rel_err(grads[n], rgrads[n]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("D", [64, 128])
def test_production_size_default_tiles(dtype, D):
    """A 64 x 64 patch grid (N = 4,096), default 64 x 64 tiles, Morton order, per-head widths."""
    data = grid_case(1, B=1, H=4, side=64, D=D, Dv=D)
    out, grads, ref, rgrads = run_both(data, dtype, cutoff=3.0)
    f_tol, g_tol = TOLERANCE[dtype]
    assert rel_err(out, ref) < f_tol, rel_err(out, ref)
    for n in ("q", "k", "v", "sigma0", "slope"):
        assert rel_err(grads[n], rgrads[n]) < g_tol, (n, rel_err(grads[n], rgrads[n]))
    # Block skipping really happens at this size (narrow widths on a 16 x 16 deg field).
    pos = data["pos"]
    visit = tk.block_visit_mask(pos[tk.token_permutation(pos[None])[0]], data["fixation"], data["sigma0"],
                                data["slope"], num_heads=4, cutoff=3.0, block_m=64, block_n=64)  # fmt: skip
    assert visit.float().mean() < 0.6  # measured on an H100: 0.536


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_object_bias_with_masked_pairs(dtype):
    """Object-token sizes (N = 150) with a per-head relation bias, some pairs masked by -inf."""
    data = grid_case(2, B=2, H=2, side=12, D=32, Dv=32)
    N = data["q"].shape[2]
    g = torch.Generator().manual_seed(5)
    bias = torch.randn(1, 2, N, N, generator=g)
    bias[..., 7, 100:] = -math.inf
    out, grads, ref, rgrads = run_both(data, dtype, cutoff=math.inf, bias=bias.cuda(), block_m=32, block_n=32)
    f_tol, g_tol = TOLERANCE[dtype]
    assert rel_err(out, ref) < f_tol
    for n in ("q", "k", "v", "sigma0", "slope"):
        assert rel_err(grads[n], rgrads[n]) < g_tol, (n, rel_err(grads[n], rgrads[n]))


def test_dispatcher_runs_the_kernels_on_cuda_tensors():
    data = grid_case(3, B=1, H=2, side=16, D=32, Dv=32)
    args = [data[n] for n in ARGS]
    assert resolve_impl("auto", data["q"]) == "triton"
    assert resolve_impl("auto", data["q"].double()) == "reference"
    assert torch.equal(ecc_attention(*args), tk.ecc_attention_triton(*args))
    # The CPU path on the same inputs agrees (fp32, IEEE products on both sides).
    cpu = ecc_attention(*[a.cpu() for a in args], impl="cpu")
    assert rel_err(ecc_attention(*args).cpu(), cpu) < 1e-4


def test_fp32_follows_torchs_tf32_setting():
    """After ``torch.set_float32_matmul_precision("high")`` fp32 runs TF32 (error about 3e-4,
    above the exact path's 1e-6); at torch's default it is exact again."""
    data = grid_case(4, B=1, H=2, side=32, D=64, Dv=64)
    args = [data[n] for n in ARGS]
    ref = ecc_attention_reference(*[a.double() for a in args])
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("high")
        tf32 = rel_err(tk.ecc_attention_triton(*args), ref)
        torch.set_float32_matmul_precision("highest")
        exact = rel_err(tk.ecc_attention_triton(*args), ref)
    finally:
        torch.set_float32_matmul_precision(before)
    assert exact < 1e-5
    assert 1e-5 < tf32 < 3e-3


def test_backward_keeps_the_forwards_precision():
    """The precision is fixed when the forward runs: a backward after the setting changed
    computes the same gradients as one before."""
    data = grid_case(6, B=1, H=2, side=16, D=32, Dv=32)
    before = torch.get_float32_matmul_precision()
    grads = []
    try:
        for change_before_backward in (False, True):
            torch.set_float32_matmul_precision("high")
            q = data["q"].clone().requires_grad_(True)
            out = tk.ecc_attention_triton(q, *[data[n] for n in ARGS[1:]])
            if change_before_backward:
                torch.set_float32_matmul_precision("highest")
            out.sum().backward()
            grads.append(q.grad)
    finally:
        torch.set_float32_matmul_precision(before)
    assert torch.equal(grads[0], grads[1])
