"""Random problems for the attention tests, kept away from the exclusion boundary."""

from __future__ import annotations

import math

import torch


def random_problem(
    B=2,
    H=3,
    N=40,
    D=8,
    Dv=None,
    *,
    per_head=True,
    pos_batched=False,
    bias=False,
    dtype=torch.float32,
    cutoff=3.0,
    field=6.0,
    seed=0,
    requires_grad=True,
):
    """Random q, k, v, positions, per-batch fixations and sigma parameters.

    Resamples the positions until no query-key pair lies within 1e-4 (relative) of the
    exclusion boundary ``|p_i - p_j| = cutoff * sigma_i``, so that float32 and float64
    evaluations make the same include/exclude decision and the comparison is meaningful.

    Returns
    -------
    dict
        Keyword arguments of ``ecc_attention`` (without ``impl``).
    """
    g = torch.Generator().manual_seed(seed)
    Dv = D if Dv is None else Dv

    def rnd(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

    if per_head:
        sigma0 = (0.3 + 0.4 * torch.rand(H, generator=g, dtype=torch.float64)).to(dtype)
        slope = (0.05 + 0.25 * torch.rand(H, generator=g, dtype=torch.float64)).to(dtype)
    else:
        sigma0 = torch.tensor(0.45, dtype=dtype)
        slope = torch.tensor(0.15, dtype=dtype)
    fixation = (torch.rand(B, 2, generator=g, dtype=torch.float64) * field).to(dtype)
    for _ in range(100):
        shape = (B, N, 2) if pos_batched else (N, 2)
        pos = (torch.rand(*shape, generator=g, dtype=torch.float64) * field).to(dtype)
        if not math.isfinite(cutoff):
            break
        p = pos.double().expand(B, N, 2)
        ecc = (p - fixation.double()[:, None]).norm(dim=-1)
        sig = sigma0.double().reshape(-1)[None, :, None] + slope.double().reshape(-1)[None, :, None] * ecc[:, None]
        d2 = ((p[:, :, None] - p[:, None]) ** 2).sum(-1)[:, None]
        ratio = d2 / (cutoff * sig[..., None]) ** 2
        if not bool(((ratio - 1).abs() < 1e-4).any()):
            break
    else:  # pragma: no cover - the resampling always succeeds for these sizes
        raise RuntimeError("could not draw positions away from the exclusion boundary")
    out = dict(
        q=rnd(B, H, N, D),
        k=rnd(B, H, N, D),
        v=rnd(B, H, N, Dv),
        pos=pos,
        fixation=fixation,
        sigma0=sigma0,
        slope=slope,
        cutoff=cutoff,
        bias=rnd(B, 1, N, N, scale=0.5) if bias else None,
    )
    if requires_grad:
        for name in ("q", "k", "v", "sigma0", "slope", "bias"):
            if out[name] is not None:
                out[name].requires_grad_(True)
    return out


GRAD_NAMES = ("q", "k", "v", "sigma0", "slope", "bias")


def as_float64(problem):
    """The same problem in float64, as fresh leaves that require grad."""
    out = {}
    for name, val in problem.items():
        if isinstance(val, torch.Tensor):
            val = val.detach().double()
            if name in GRAD_NAMES:
                val.requires_grad_(True)
        out[name] = val
    return out


def rel_err(a, b):
    """Max absolute error over the max absolute value of the reference ``b``."""
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def output_and_grads(fn, problem, seed=1):
    """Output of ``fn(**problem)`` and the gradients of a fixed random projection of it."""
    out = fn(**problem)
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(out.shape, generator=g, dtype=torch.float64).to(out.dtype)
    names = [n for n in GRAD_NAMES if isinstance(problem.get(n), torch.Tensor) and problem[n].requires_grad]
    grads = torch.autograd.grad((out * w).sum(), [problem[n] for n in names])
    return out, dict(zip(names, grads))
