"""Pre-norm transformer blocks with eccentricity-aware, dense or object attention.

One :class:`Attention` module serves every kind; only the score function differs:

- ``"ecc"``: :func:`gazemodels.attention.ecc_attention`, whose scores add
  ``-|p_i - p_j|^2 / (2 sigma_i^2)`` with ``sigma_i = sigma0 + slope * |p_i - f|``: foveal
  tokens attend locally and peripheral tokens pool widely, as receptive fields grow with
  eccentricity (Freeman & Simoncelli 2011; eccNET, Gupta et al. 2021). sigma0 and slope are
  per-head and, by default, learned.
- ``"object"``: object tokens, positioned at their box centres, through the same
  ``ecc_attention`` with the box-relation bias of :mod:`gazemodels.attention.objects` (and the
  padding mask) as its additive ``bias``; or, with ``object_eccentricity=False``, through
  ``"dense"`` attention with that bias.
- ``"dense"``: torch's ``scaled_dot_product_attention`` with an optional additive bias.

In ``pooling_only`` mode (eccNET) the attention sublayer is the pure eccentricity-dependent
pooling ``x_i <- sum_j softmax_j(-|p_i - p_j|^2 / (2 sigma_i^2)) x_j`` over keys within the
cutoff: ``q = k = 0`` and ``v`` the identity, without pre-norm, residual or output projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gazemodels.backbone.config import BackboneConfig

__all__ = ["MLP", "Attention", "AttentionContext", "Block", "SIGMA_FLOOR"]

SIGMA_FLOOR = 1e-3
"""Smallest sigma0 (degrees) the softplus parametrisation can reach; keeps sigma0 > 0 in training."""


@dataclass
class AttentionContext:
    """What attention needs besides the tokens, shared by all blocks of one forward pass.

    Attributes
    ----------
    pos_deg : Tensor
        Token positions in stimulus degrees, (N, 2) or (B, N, 2). Used by ``"ecc"`` attention.
    fixation_deg : Tensor
        Fixation per batch element in stimulus degrees, (B, 2).
    bias : Tensor or None
        Additive score bias, (B or 1, H or 1, N, N); ``-inf`` masks a pair.
    """

    pos_deg: Tensor
    fixation_deg: Tensor
    bias: Tensor | None = None


def _inv_softplus(y: float) -> float:
    """x such that softplus(x) = y, for y > 0."""
    return y + math.log(-math.expm1(-y)) if y < 20 else y


class Attention(nn.Module):
    """Multi-head attention of the kind named by the config.

    Parameters
    ----------
    config : BackboneConfig
        Uses ``width``, ``heads``, ``attention``, ``object_eccentricity``, ``sigma0``, ``slope``,
        ``cutoff``, ``learn_sigma0``, ``learn_slope``, ``pooling_only``, ``attention_impl``.

    Attributes
    ----------
    sigma0, slope : Tensor
        (H,) current per-head values (when the eccentricity window is used), positive through a
        softplus.
    """

    def __init__(self, config: BackboneConfig):
        super().__init__()
        C, H = config.width, config.heads
        self.kind = config.attention
        self.heads = H
        self.pooling_only = config.pooling_only
        self.cutoff = float(config.cutoff)
        self.impl = config.attention_impl
        if not self.pooling_only:
            self.qkv = nn.Linear(C, 3 * C)
            self.proj = nn.Linear(C, C)
        self.ecc_window = config.uses_ecc_window
        if self.ecc_window:
            raw0 = torch.full((H,), _inv_softplus(config.sigma0 - SIGMA_FLOOR) if config.sigma0 > SIGMA_FLOOR
                              else _inv_softplus(1e-6))
            # A learnable slope starts at >= 1e-4 so that the softplus has a gradient.
            slope = max(config.slope, 1e-4) if config.learn_slope else config.slope
            raw1 = torch.full((H,), _inv_softplus(slope) if slope > 0 else -math.inf)
            if config.learn_sigma0:
                self.sigma0_raw = nn.Parameter(raw0)
            else:
                self.register_buffer("sigma0_raw", raw0)
            if config.learn_slope:
                self.slope_raw = nn.Parameter(raw1)
            else:
                self.register_buffer("slope_raw", raw1)

    @property
    def sigma0(self) -> Tensor:
        """Per-head foveal width in degrees, (H,)."""
        return F.softplus(self.sigma0_raw) + SIGMA_FLOOR

    @property
    def slope(self) -> Tensor:
        """Per-head growth of the width per degree of eccentricity, (H,)."""
        return F.softplus(self.slope_raw)

    def forward(self, x: Tensor, ctx: AttentionContext) -> Tensor:
        """Attend.

        Parameters
        ----------
        x : Tensor
            (B, N, C) tokens.
        ctx : AttentionContext
            Positions, fixation and bias of the tokens.

        Returns
        -------
        Tensor
            (B, N, C).
        """
        B, N, C = x.shape
        H = self.heads
        if self.pooling_only:
            # eccNET pooling: with q = k = 0 the score is the Gaussian term alone, and with
            # identity values the output is the Gaussian-weighted mean of the tokens.
            v = x.view(B, N, H, C // H).transpose(1, 2)
            q = k = torch.zeros_like(v)
        else:
            q, k, v = self.qkv(x).view(B, N, 3, H, C // H).permute(2, 0, 3, 1, 4).unbind(0)
        if self.ecc_window:
            from gazemodels.attention import ecc_attention

            out = ecc_attention(
                q, k, v, ctx.pos_deg, ctx.fixation_deg, self.sigma0, self.slope,
                cutoff=self.cutoff, bias=ctx.bias, impl=self.impl,
            )
        else:
            bias = None if ctx.bias is None else ctx.bias.to(q.dtype)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        out = out.transpose(1, 2).reshape(B, N, C)
        return out if self.pooling_only else self.proj(out)


class MLP(nn.Module):
    """Two-layer GELU MLP of a transformer block.

    Parameters
    ----------
    width : int
        Input and output dimension.
    hidden : int
        Hidden dimension.
    dropout : float
        Dropout after the activation.
    """

    def __init__(self, width: int, hidden: int, dropout: float):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the MLP.

        Parameters
        ----------
        x : Tensor
            (..., width).

        Returns
        -------
        Tensor
            (..., width).
        """
        return self.fc2(self.drop(F.gelu(self.fc1(x))))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``.

    With ``config.pooling_only`` the first step is ``x <- attn(x)`` (eccNET pooling, see the
    module docstring); with ``config.mlp_ratio == 0`` the MLP step is dropped.

    Parameters
    ----------
    config : BackboneConfig
    """

    def __init__(self, config: BackboneConfig):
        super().__init__()
        C = config.width
        self.pooling_only = config.pooling_only
        self.norm1 = None if self.pooling_only else nn.LayerNorm(C)
        self.attn = Attention(config)
        self.drop = nn.Dropout(config.dropout)
        hidden = int(round(config.mlp_ratio * C))
        self.norm2 = nn.LayerNorm(C) if hidden else None
        self.mlp = MLP(C, hidden, config.dropout) if hidden else None

    def forward(self, x: Tensor, ctx: AttentionContext) -> Tensor:
        """Apply the block.

        Parameters
        ----------
        x : Tensor
            (B, N, C).
        ctx : AttentionContext

        Returns
        -------
        Tensor
            (B, N, C).
        """
        if self.pooling_only:
            x = self.attn(x, ctx)
        else:
            x = x + self.drop(self.attn(self.norm1(x), ctx))
        if self.mlp is not None:
            x = x + self.drop(self.mlp(self.norm2(x)))
        return x
