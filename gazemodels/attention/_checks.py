"""Argument validation shared by every implementation of :func:`gazemodels.attention.ecc_attention`.

Every path (the float64 reference, the CPU fast path, the Triton kernels) calls
:func:`check_attention_args` first, so that a bad call fails the same way, with a
:class:`ValueError` that names the argument and the shapes involved, whichever
implementation the dispatcher picked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["AttentionArgs", "check_attention_args", "geometry_dtype"]


@dataclass(frozen=True)
class AttentionArgs:
    """Validated, normalised arguments of an eccentricity-aware attention call.

    Attributes
    ----------
    q, k, v : Tensor
        Queries and keys of shape (B, H, N, D) and values of shape (B, H, N, Dv), unchanged.
    pos : Tensor
        Token positions in degrees, broadcast to (B, N, 2), in :attr:`geometry_dtype`.
    fixation : Tensor
        Fixation per batch element in degrees, (B, 2), in :attr:`geometry_dtype`.
    sigma0, slope : Tensor
        Per-head parameters of ``sigma_i = sigma0 + slope * |p_i - f|``, shape (H,), in
        :attr:`geometry_dtype`. They keep their autograd history, so gradients reach the
        caller's (learnable) scalar or per-head tensors.
    cutoff : float
        Keys farther than ``cutoff * sigma_i`` from query i are excluded (``inf``: none).
    bias : Tensor or None
        Additive score bias of shape (B or 1, H or 1, N, N), unchanged.
    geometry_dtype : torch.dtype
        Dtype in which positions, sigma and the distance penalty are computed:
        ``q.dtype`` promoted to at least float32, so half-precision inputs do not lose
        sub-degree resolution in the positions.
    """

    q: Tensor
    k: Tensor
    v: Tensor
    pos: Tensor
    fixation: Tensor
    sigma0: Tensor
    slope: Tensor
    cutoff: float
    bias: Tensor | None
    geometry_dtype: torch.dtype

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(B, H, N, D) of the queries."""
        return tuple(self.q.shape)  # type: ignore[return-value]


def geometry_dtype(dtype: torch.dtype) -> torch.dtype:
    """Dtype for positions and sigma: ``dtype`` promoted to at least float32.

    Parameters
    ----------
    dtype : torch.dtype
        Dtype of the queries.

    Returns
    -------
    torch.dtype
        float64 for float64 inputs, float32 otherwise.
    """
    return torch.promote_types(dtype, torch.float32)


def _shape(x) -> str:
    return str(tuple(x.shape)) if isinstance(x, Tensor) else repr(x)


def _as_head_param(name: str, value, n_heads: int, dtype: torch.dtype, device) -> Tensor:
    """Scalar, 0-dim or (H,) parameter -> (H,) tensor keeping its autograd history."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
        raise ValueError(f"{name} must be a float or a tensor of shape () or ({n_heads},), got {type(value).__name__}")
    if isinstance(value, Tensor):
        if value.dim() == 0 or (value.dim() == 1 and value.shape[0] == 1):
            t = value.reshape(()).expand(n_heads)
        elif value.dim() == 1 and value.shape[0] == n_heads:
            t = value
        else:
            raise ValueError(
                f"{name} must be a scalar or have one value per head, shape ({n_heads},); got shape {_shape(value)}"
            )
        if not value.is_floating_point():
            t = t.to(dtype)
        t = t.to(device=device, dtype=dtype)
    else:
        t = torch.full((n_heads,), float(value), dtype=dtype, device=device)
    return t


def check_attention_args(q, k, v, pos, fixation, sigma0, slope, cutoff=3.0, bias=None) -> AttentionArgs:
    """Validate and normalise the arguments of :func:`gazemodels.attention.ecc_attention`.

    Parameters
    ----------
    q, k : Tensor
        Queries and keys, (B, H, N, D), floating point, same device.
    v : Tensor
        Values, (B, H, N, Dv).
    pos : Tensor
        Token positions in degrees of visual angle, (N, 2) or (B, N, 2).
    fixation : Tensor
        Current fixation in degrees, (B, 2).
    sigma0 : float or Tensor
        Foveal width of the spatial Gaussian in degrees, scalar or (H,); must be > 0.
    slope : float or Tensor
        Growth of the width per degree of eccentricity, scalar or (H,); must be >= 0.
    cutoff : float, default 3.0
        Exclusion radius in units of ``sigma_i``; must be > 0 (``math.inf`` keeps every key).
    bias : Tensor, optional
        Additive score bias, (B or 1, H or 1, N, N).

    Returns
    -------
    AttentionArgs
        The normalised arguments.

    Raises
    ------
    ValueError
        On a shape mismatch, a non-floating dtype, tensors on different devices, NaN or
        infinite positions / fixation, ``sigma0 <= 0``, ``slope < 0``, non-finite sigma
        parameters, a non-positive cutoff, or a NaN in the bias.
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor of shape (B, H, N, D), got {type(t).__name__}")
        if t.dim() != 4:
            raise ValueError(f"{name} must have shape (B, H, N, D), got shape {_shape(t)}")
        if not t.is_floating_point():
            raise ValueError(f"{name} must be floating point, got dtype {t.dtype}")
    if k.shape != q.shape:
        raise ValueError(f"k must have the shape of q {_shape(q)}, got {_shape(k)}")
    if v.shape[:3] != q.shape[:3]:
        raise ValueError(f"v must have shape (B, H, N, Dv) with (B, H, N) = {tuple(q.shape[:3])} of q, got {_shape(v)}")
    if k.dtype != q.dtype or v.dtype != q.dtype:
        raise ValueError(f"q, k, v must share one dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if k.device != q.device or v.device != q.device:
        raise ValueError(f"q, k, v must be on one device, got {q.device}, {k.device}, {v.device}")
    B, H, N, _ = q.shape
    gdt = geometry_dtype(q.dtype)
    dev = q.device

    if not isinstance(pos, Tensor):
        raise ValueError(f"pos must be a tensor of shape ({N}, 2) or ({B}, {N}, 2), got {type(pos).__name__}")
    if pos.dim() == 2 and pos.shape == (N, 2):
        pos_b = pos.unsqueeze(0).expand(B, N, 2)
    elif pos.dim() == 3 and pos.shape[1:] == (N, 2) and pos.shape[0] in (1, B):
        pos_b = pos.expand(B, N, 2)
    else:
        raise ValueError(f"pos must have shape ({N}, 2) or ({B}, {N}, 2) for q of shape {_shape(q)}, got {_shape(pos)}")
    if not isinstance(fixation, Tensor):
        raise ValueError(f"fixation must be a tensor of shape ({B}, 2), got {type(fixation).__name__}")
    if fixation.shape == (2,) and B == 1:
        fixation = fixation.unsqueeze(0)
    if fixation.shape != (B, 2):
        raise ValueError(f"fixation must have shape ({B}, 2) (one fixation per batch element), got {_shape(fixation)}")
    pos_b = pos_b.to(device=dev, dtype=gdt)
    fixation = fixation.to(device=dev, dtype=gdt)
    if not bool(torch.isfinite(pos_b).all()):
        bad = (~torch.isfinite(pos_b)).any(-1).nonzero()[:3].tolist()
        raise ValueError(f"pos of shape {_shape(pos)} contains NaN or infinite positions, e.g. at (batch, token) {bad}")
    if not bool(torch.isfinite(fixation).all()):
        raise ValueError(f"fixation of shape {_shape(fixation)} contains NaN or infinite values: {fixation.tolist()}")

    s0 = _as_head_param("sigma0", sigma0, H, gdt, dev)
    sl = _as_head_param("slope", slope, H, gdt, dev)
    s0d, sld = s0.detach(), sl.detach()
    if not bool(torch.isfinite(s0d).all()) or not bool(torch.isfinite(sld).all()):
        raise ValueError(f"sigma0 and slope must be finite, got sigma0={s0d.tolist()}, slope={sld.tolist()}")
    if bool((s0d <= 0).any()):
        raise ValueError(f"sigma0 must be > 0 degrees (the foveal width of the Gaussian), got {s0d.tolist()}")
    if bool((sld < 0).any()):
        raise ValueError(f"slope must be >= 0 (receptive fields grow with eccentricity), got {sld.tolist()}")

    if isinstance(cutoff, Tensor):
        cutoff = float(cutoff)
    if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or math.isnan(cutoff) or cutoff <= 0:
        raise ValueError(f"cutoff must be a positive float (math.inf for no exclusion), got {cutoff!r}")
    cutoff = float(cutoff)

    if bias is not None:
        if not isinstance(bias, Tensor):
            raise ValueError(f"bias must be a tensor of shape (B or 1, H or 1, {N}, {N}), got {type(bias).__name__}")
        if (
            bias.dim() != 4
            or bias.shape[2:] != (N, N)
            or bias.shape[0] not in (1, B)
            or bias.shape[1] not in (1, H)
        ):
            raise ValueError(
                f"bias must have shape ({B} or 1, {H} or 1, {N}, {N}) for q of shape {_shape(q)}, got {_shape(bias)}"
            )
        if not bias.is_floating_point():
            raise ValueError(f"bias must be floating point, got dtype {bias.dtype}")
        if bias.device != dev:
            raise ValueError(f"bias must be on the device of q ({dev}), got {bias.device}")
        bd = bias.detach()
        if bool((torch.isnan(bd) | (bd == math.inf)).any()):
            raise ValueError(f"bias of shape {_shape(bias)} contains NaN or +inf (use -inf to mask a pair)")
    return AttentionArgs(q, k, v, pos_b, fixation, s0, sl, cutoff, bias, gdt)
