"""The backbone on a CUDA GPU: same tokens and gradients as on the CPU, through the Triton kernels.

A network built on the CPU and moved with ``.cuda()`` must compute the same function there: no
tensor created on the wrong device, and ``attention_impl="auto"`` running the Triton kernels
for the eccentricity-aware and the object attention. TF32 is switched off for the comparison
(convolutions and matrix products in full fp32 on both sides), so the two agree to rounding.

Skipped, with the reason, on a machine without a CUDA GPU (CI's); run on an NVIDIA H100
(``benchmarks/gpu_notes.md``).
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from gazemodels.backbone import BackboneConfig, GazeBackbone

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

PPD = 16.0


@pytest.fixture
def no_tf32():
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def _run(bb, inputs: dict, device: str):
    """Tokens and the gradient of a fixed loss w.r.t. every parameter, on ``device``."""
    bb = copy.deepcopy(bb).to(device)
    kw = {n: (x.to(device) if torch.is_tensor(x) else x) for n, x in inputs.items()}
    out = bb(**kw)
    weights = torch.cos(torch.arange(out.tokens.numel(), dtype=torch.float32)).view_as(out.tokens.cpu())
    loss = (out.tokens * weights.to(device)).sum()
    if out.mask is not None:
        loss = (out.tokens * weights.to(device) * out.mask[..., None]).sum()
    loss.backward()
    return out.tokens, {n: p.grad for n, p in bb.named_parameters() if p.grad is not None}


CONFIGS = {
    "patch-ecc-film": (
        dict(depth=2, width=64, heads=4, patch_size=8, attention="ecc", conditioning="film", sigma0=0.5, slope=0.3),
        "patch",
    ),
    "object-ecc": (
        dict(depth=2, width=32, heads=2, patch_size=8, attention="object", conditioning="film", target_dim=8,
             sigma0=1.0, slope=0.5),
        "object",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CONFIGS))
def test_cuda_matches_cpu(name, no_tf32):
    torch.manual_seed(0)
    cfg_kw, kind = CONFIGS[name]
    bb = GazeBackbone(BackboneConfig(**cfg_kw)).train()
    # 128 x 128 px at 8 px patches: N = 256 patch tokens, more than one 64-token block.
    inputs = dict(image=torch.rand(2, 3, 128, 128), fixation_px=torch.tensor([[64.0, 64.0], [10.0, 100.0]]),
                  px_per_degree=PPD)
    if kind == "patch":
        inputs["target"] = torch.rand(2, 3, 16, 16)
    else:
        g = torch.Generator().manual_seed(1)
        xy = torch.rand(2, 40, 2, generator=g) * 100
        wh = 8 + torch.rand(2, 40, 2, generator=g) * 20
        inputs.update(boxes=torch.cat([xy, wh], -1), box_mask=torch.rand(2, 40, generator=g) > 0.2,
                      target=torch.randn(2, 8))  # fmt: skip
    assert [b.attn.impl for b in bb.blocks] == ["auto"] * cfg_kw["depth"]
    cpu_tok, cpu_grads = _run(bb, inputs, "cpu")
    gpu_tok, gpu_grads = _run(bb, inputs, "cuda")
    assert gpu_tok.is_cuda
    assert _rel(gpu_tok, cpu_tok) < 1e-4
    assert set(gpu_grads) == set(cpu_grads) and any(n.endswith("sigma0_raw") for n in gpu_grads)
    # Each parameter's gradient within 1e-3 of its own scale, or of 1e-4 of the largest gradient
    # for those that are zero in exact arithmetic (e.g. a constant added to every score of a row
    # cancels in the softmax) and so are pure rounding on both sides.
    floor = 1e-4 * max(float(g.abs().max()) for g in cpu_grads.values())
    for n, want in cpu_grads.items():
        err = float((gpu_grads[n].cpu() - want).abs().max()) / max(float(want.abs().max()), floor)
        assert err < 1e-3, (n, err)


def test_cuda_trains_in_bf16_autocast():
    """A training step under bf16 autocast on the GPU: finite loss and gradients, sigma learns."""
    torch.manual_seed(2)
    cfg = BackboneConfig(depth=2, width=64, heads=4, patch_size=8, attention="ecc", conditioning="film",
                         sigma0=0.5, slope=0.3)  # fmt: skip
    bb = GazeBackbone(cfg).cuda().train()
    head = torch.nn.Linear(64, 1).cuda()
    img, tgt = torch.rand(4, 3, 128, 128, device="cuda"), torch.rand(4, 3, 16, 16, device="cuda")
    fix = torch.tensor([[64.0, 64.0]] * 4, device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = bb(img, fixation_px=fix, px_per_degree=PPD, target=tgt)
        logits = head(out.tokens).squeeze(-1).float()
    loss = F.cross_entropy(logits, torch.tensor([0, 50, 100, 200], device="cuda"))
    assert torch.isfinite(loss)
    loss.backward()
    grads = {n: p.grad for n, p in bb.named_parameters() if p.requires_grad}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert all(grads[n].abs().sum() > 0 for n in grads if n.endswith(("sigma0_raw", "slope_raw")))
