"""Memory of what has been foveated: accumulation of resolution maps with forgetting.

NeVA (Schwinn et al. 2022) keeps an internal representation of the image: after each
fixation it adds the fixation's foveation mask to the representation multiplied by a
forgetting factor, and the next candidate fixation is judged on the image seen through
the representation plus the candidate's own mask (clipped to 1). This module provides
that rule (``"sum"``) and a variant where the memory keeps, per pixel, the best
resolution seen so far (``"max"``):

=========  =======================================  ===========================================
mode       update after fixation ``t``               seen with a candidate ``r``
=========  =======================================  ===========================================
``sum``    ``M_t = f * M_{t-1} + r_t``               ``clip(M + r, 0, 1)``
``max``    ``M_t = max(f * M_{t-1}, r_t)``           ``max(M, r)``
=========  =======================================  ===========================================

``f`` in ``[0, 1]`` is the forgetting factor, applied to the memory each time a fixation
is added: 1 remembers everything, 0 only the last fixation (NevaClip's published
setting; Zanca et al. 2023). A fixation made ``k`` fixations ago weighs ``f**k``. The memory starts at 0
(nothing seen). In ``sum`` mode the memory itself may exceed 1 (it is clipped when
seen), exactly as NeVA's representation.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["MEMORY_MODES", "check_forgetting", "combine", "memory_over_scanpath", "update_memory"]

MEMORY_MODES: tuple[str, ...] = ("sum", "max")


def _check_mode(mode: str) -> None:
    if mode not in MEMORY_MODES:
        raise ValueError(f"memory mode must be one of {list(MEMORY_MODES)}, got {mode!r}")


def check_forgetting(forgetting: float) -> float:
    """Check a forgetting factor.

    Parameters
    ----------
    forgetting : float
        Must lie in ``[0, 1]``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Otherwise.
    """
    f = float(forgetting)
    if not math.isfinite(f) or not 0.0 <= f <= 1.0:
        raise ValueError(f"forgetting must lie in [0, 1], got {forgetting!r}")
    return f


def update_memory(memory: Tensor | None, resolution: Tensor, forgetting: float = 1.0, mode: str = "sum") -> Tensor:
    """Memory after one more fixation.

    Parameters
    ----------
    memory : Tensor or None
        ``(..., H, W)``; None means nothing seen yet (zeros).
    resolution : Tensor
        Resolution map of the new fixation, broadcastable with ``memory``.
    forgetting : float, default 1.0
        Factor applied to the old memory, in ``[0, 1]``.
    mode : {"sum", "max"}, default "sum"
        Accumulation rule (see the module docstring).

    Returns
    -------
    Tensor
        The new memory.

    Examples
    --------
    >>> import torch
    >>> m = update_memory(None, torch.tensor([1.0, 0.0]))
    >>> update_memory(m, torch.tensor([0.0, 1.0]), forgetting=0.5).tolist()
    [0.5, 1.0]
    """
    _check_mode(mode)
    f = check_forgetting(forgetting)
    if memory is None:
        return resolution
    if mode == "sum":
        return memory * f + resolution
    return torch.maximum(memory * f, resolution)


def combine(memory: Tensor | None, resolution: Tensor, mode: str = "sum") -> Tensor:
    """The resolution at which the image is seen: memory together with the current fixation.

    Parameters
    ----------
    memory : Tensor or None
        ``(..., H, W)`` or None (nothing remembered).
    resolution : Tensor
        Resolution map of the current (candidate) fixation, broadcastable with ``memory``.
    mode : {"sum", "max"}, default "sum"
        ``clip(memory + r, 0, 1)`` or ``max(memory, r)``.

    Returns
    -------
    Tensor
        Values in ``[0, 1]``.
    """
    _check_mode(mode)
    if memory is None:
        return resolution.clamp(0.0, 1.0)
    if mode == "sum":
        return (memory + resolution).clamp(0.0, 1.0)
    return torch.maximum(memory, resolution).clamp(0.0, 1.0)


def memory_over_scanpath(resolutions: Tensor, forgetting: float = 1.0, mode: str = "sum") -> Tensor:
    """Memory after each fixation of a scanpath.

    Parameters
    ----------
    resolutions : Tensor
        ``(B, T, H, W)``: the resolution map of each of ``T`` fixations, in order.
    forgetting : float, default 1.0
        Forgetting factor in ``[0, 1]``.
    mode : {"sum", "max"}, default "sum"
        Accumulation rule.

    Returns
    -------
    Tensor
        ``(B, T, H, W)``: entry ``t`` is the memory after fixations ``0 .. t``.
    """
    if resolutions.dim() != 4:
        raise ValueError(f"resolutions must have shape (B, T, H, W), got {tuple(resolutions.shape)}")
    out = []
    mem = None
    for t in range(resolutions.shape[1]):
        mem = update_memory(mem, resolutions[:, t], forgetting, mode)
        out.append(mem)
    return torch.stack(out, dim=1)
