"""Dense float64 reference of eccentricity-aware attention: the ground truth of every other path.

The operation
-------------
For query i and key j of one head, with token positions ``p`` and the fixation ``f`` in
degrees of visual angle,

.. math::

    s_{ij} = \\frac{q_i \\cdot k_j}{\\sqrt{D}} - \\frac{|p_i - p_j|^2}{2\\sigma_i^2} + b_{ij},
    \\qquad \\sigma_i = \\sigma_0 + \\text{slope}\\,|p_i - f|,

keys with ``|p_i - p_j| > cutoff * sigma_i`` are excluded, and the output is
``softmax_j(s_ij) v_j``. The Gaussian width grows linearly with the query's eccentricity,
as receptive fields do (Freeman & Simoncelli 2011) and as eccNET's eccentricity-dependent
pooling does (Gupta et al. 2021): foveal tokens attend locally, peripheral tokens pool
over wide regions. The exclusion test is done on squared distances,
``|p_i - p_j|^2 > (cutoff * sigma_i)^2``, in every implementation, so that all paths agree
bit-for-bit on which pairs are in. The diagonal (distance 0) is always in.

This module materialises the (B, H, N, N) score matrix; it is meant for tests and small N.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gazemodels.attention._checks import AttentionArgs, check_attention_args

__all__ = ["ecc_attention_reference", "geometry_bias", "masked_scores", "query_sigma"]


def query_sigma(args: AttentionArgs) -> Tensor:
    """Gaussian width of every query, ``sigma_i = sigma0 + slope * |p_i - f|``.

    Parameters
    ----------
    args : AttentionArgs
        Validated arguments (see :func:`gazemodels.attention._checks.check_attention_args`).

    Returns
    -------
    Tensor
        Shape (B, H, N), in ``args.geometry_dtype``, differentiable in sigma0 and slope.
    """
    # Receptive-field size grows linearly with eccentricity (Freeman & Simoncelli 2011).
    ecc = torch.linalg.vector_norm(args.pos - args.fixation[:, None, :], dim=-1)  # (B, N)
    return args.sigma0[None, :, None] + args.slope[None, :, None] * ecc[:, None, :]


def geometry_bias(args: AttentionArgs) -> Tensor:
    """The score terms that do not depend on q and k: the distance penalty, the bias and the cutoff.

    ``-|p_i - p_j|^2 / (2 sigma_i^2) + b_ij``, with excluded pairs set to ``-inf``; adding
    ``q_i . k_j / sqrt(D)`` gives the scores.

    Parameters
    ----------
    args : AttentionArgs
        The checked positions, fixation, per-head widths, cutoff and bias (q, k, v unused).

    Returns
    -------
    Tensor
        (B, H, N, N) in ``args.geometry_dtype``; gradients reach sigma0, slope, the
        positions, the fixation and the bias.
    """
    sigma = query_sigma(args)  # (B, H, N)
    diff = args.pos[:, :, None, :] - args.pos[:, None, :, :]
    d2 = (diff * diff).sum(-1)[:, None]  # (B, 1, N, N)
    out = -d2 / (2.0 * sigma[..., None] ** 2)
    if args.bias is not None:
        out = out + args.bias.to(args.geometry_dtype)
    if math.isfinite(args.cutoff):
        reach2 = (args.cutoff * sigma.detach()) ** 2  # (B, H, N)
        out = out.masked_fill(d2 > reach2[..., None], -math.inf)
    return out


def masked_scores(args: AttentionArgs) -> Tensor:
    """Dense scores with excluded pairs set to ``-inf``.

    Parameters
    ----------
    args : AttentionArgs
        Validated arguments.

    Returns
    -------
    Tensor
        Shape (B, H, N, N), dtype ``args.geometry_dtype``.
    """
    gdt = args.geometry_dtype
    scores = torch.matmul(args.q.to(gdt), args.k.to(gdt).transpose(-1, -2)) / math.sqrt(args.q.shape[-1])
    return scores + geometry_bias(args)


def ecc_attention_reference(q, k, v, pos, fixation, sigma0, slope, cutoff=3.0, bias=None) -> Tensor:
    """Eccentricity-aware attention, dense and materialised: the ground truth.

    Parameters
    ----------
    q, k : Tensor
        Queries and keys, (B, H, N, D).
    v : Tensor
        Values, (B, H, N, Dv).
    pos : Tensor
        Token positions in degrees of visual angle, (N, 2) or (B, N, 2).
    fixation : Tensor
        Fixation of each batch element in degrees, (B, 2).
    sigma0 : float or Tensor
        Foveal Gaussian width in degrees, scalar or per head (H,), > 0; may require grad.
    slope : float or Tensor
        Width growth per degree of eccentricity, scalar or (H,), >= 0; may require grad.
    cutoff : float, default 3.0
        Keys with ``|p_i - p_j| > cutoff * sigma_i`` are excluded.
    bias : Tensor, optional
        Additive score bias, (B or 1, H or 1, N, N), e.g. the object-relation bias of
        :class:`gazemodels.attention.objects.BoxRelationBias`; ``-inf`` masks a pair.

    Returns
    -------
    Tensor
        (B, H, N, Dv) in the dtype of ``q``. Computed in float32 or float64 (the dtype of
        ``q`` promoted to at least float32). A row whose every key is masked (possible
        only through ``-inf`` in ``bias``, e.g. padding) returns zeros instead of NaN.

    Raises
    ------
    ValueError
        On bad arguments, see :func:`gazemodels.attention._checks.check_attention_args`.

    Examples
    --------
    >>> import torch
    >>> q = k = v = torch.randn(1, 2, 9, 4, dtype=torch.float64)
    >>> g = torch.arange(3.0, dtype=torch.float64)
    >>> pos = torch.cartesian_prod(g, g)
    >>> out = ecc_attention_reference(q, k, v, pos, torch.zeros(1, 2), 0.5, 0.2)
    >>> out.shape
    torch.Size([1, 2, 9, 4])
    """
    args = check_attention_args(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
    scores = masked_scores(args)
    # Safe softmax: a fully masked row gives exp(-inf) = 0 everywhere and a zero output.
    m = scores.detach().amax(-1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(scores - m)
    den = e.sum(-1, keepdim=True)
    den = torch.where(den > 0, den, torch.ones_like(den))  # dead rows: 0 / 1, finite gradients
    out = torch.matmul(e, args.v.to(args.geometry_dtype)) / den
    return out.to(q.dtype)
