"""Eccentricity-aware attention through torch's fused SDPA, with a dense additive mask.

The distance penalty, the bias and the cutoff do not depend on q and k, so they form one
(B, H, N, N) additive mask (:func:`gazemodels.attention.reference.geometry_bias`), and
``softmax(q k^T / sqrt(D) + mask) v`` is exactly what
:func:`torch.nn.functional.scaled_dot_product_attention` computes with ``attn_mask``.

This path materialises the mask, so its memory grows as B x H x N^2. It skips nothing: every
pair is computed. In exchange it is one well-tuned torch call. On a GPU at N <= 4,096 that call
beat the Triton kernels on an H100, because their host-side planning costs about 2 ms per call
(``benchmarks/gpu_notes.md``; the benchmark built the mask before timing, so the mask's own
cost, about 15 small kernels, is not in that figure). On the CPU the blocked path
(``impl="cpu"``) is faster (``benchmarks/bench_attention.py``: it takes at most half of
SDPA's time at N = 4,096).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gazemodels.attention._checks import check_attention_args
from gazemodels.attention.reference import geometry_bias

__all__ = ["ecc_attention_sdpa"]


def ecc_attention_sdpa(q, k, v, pos, fixation, sigma0, slope, cutoff=3.0, bias=None) -> Tensor:
    """Eccentricity-aware attention as torch SDPA with the geometry as an additive mask.

    Parameters
    ----------
    q, k, v, pos, fixation, sigma0, slope, cutoff, bias
        As :func:`gazemodels.attention.reference.ecc_attention_reference`: (B, H, N, D)
        queries and keys, (B, H, N, Dv) values, positions and fixation in degrees, the
        per-head widths (which may require grad), the cutoff in units of sigma, and an
        optional additive bias where ``-inf`` masks a pair.

    Returns
    -------
    Tensor
        (B, H, N, Dv) in the dtype of ``q``. The mask is built in float32 (float64 for
        float64 inputs) and cast to the dtype of ``q``, as SDPA requires. A row whose every
        key is masked (possible only through ``-inf`` in ``bias``) returns zeros, as the
        reference does, where SDPA alone would return NaN. Differentiable in every input.

    Raises
    ------
    ValueError
        From the shared argument checks (shapes, dtypes, NaN positions, widths, cutoff, bias).

    Examples
    --------
    >>> import torch
    >>> from gazemodels.attention.reference import ecc_attention_reference
    >>> q, k, v = (torch.randn(1, 2, 9, 4) for _ in range(3))
    >>> g = torch.arange(3.0)
    >>> pos = torch.cartesian_prod(g, g)
    >>> out = ecc_attention_sdpa(q, k, v, pos, torch.zeros(1, 2), 0.5, 0.2)
    >>> ref = ecc_attention_reference(q.double(), k.double(), v.double(), pos.double(), torch.zeros(1, 2), 0.5, 0.2)
    >>> bool((out.double() - ref).abs().max() < 1e-5)
    True
    """
    args = check_attention_args(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
    mask = geometry_bias(args)
    # A dead row (every key at -inf) would be NaN in SDPA: give it a finite mask and zero its output.
    dead = mask.detach().amax(-1, keepdim=True) == -torch.inf  # (B, H, N, 1)
    mask = mask.masked_fill(dead, 0.0)
    out = F.scaled_dot_product_attention(args.q, args.k, args.v, attn_mask=mask.to(q.dtype))
    return out.masked_fill(dead, 0.0)
