"""Eccentricity-aware and object-level attention.

``ecc_attention`` computes, for every query i and key j of every head,

    s_ij = q_i . k_j / sqrt(D) - |p_i - p_j|^2 / (2 sigma_i^2) + bias_ij,
    sigma_i = sigma0 + slope * |p_i - f|,

excludes keys with ``|p_i - p_j| > cutoff * sigma_i`` and returns ``softmax_j(s_ij) v_j``.
The width of the spatial Gaussian grows linearly with eccentricity, as receptive fields
do (Freeman & Simoncelli 2011; eccNET's eccentricity-dependent pooling, Gupta et al. 2021).

Object tokens use the same operation: ``pos`` = box centres (:func:`box_centres`) and
``bias`` = the box-relation bias of :class:`BoxRelationBias`; :func:`oat_positional_encoding`
encodes object positions as OAT does (Fang et al. 2024).

Implementations, one interface:

- ``"reference"``: dense, materialised, float64 ground truth
  (:func:`gazemodels.attention.reference.ecc_attention_reference`);
- ``"cpu"``: blocked, never materialises N x N, skips excluded key blocks
  (:func:`gazemodels.attention.cpu.ecc_attention_cpu`; its forward is a C++ kernel built at
  first use, :mod:`gazemodels.attention.cpu_kernel`, with a torch fallback);
- ``"triton"``: fused flash-attention-style CUDA kernels
  (``gazemodels.attention.triton_kernels.ecc_attention_triton``);
- ``"sdpa"``: torch's fused ``scaled_dot_product_attention`` with the geometry as a dense
  additive mask (:func:`gazemodels.attention.dense.ecc_attention_sdpa`; memory B x H x N^2,
  no skipping, no host-side planning. On an H100, SDPA with a prebuilt mask was faster than
  the kernels at N <= 4,096; this path's own GPU time, mask included, is not measured yet:
  ``benchmarks/gpu_notes.md``).

``impl="auto"`` picks ``"triton"`` for CUDA tensors when Triton imports, otherwise ``"cpu"``.
"""

from __future__ import annotations

import importlib

import torch
from torch import Tensor

from gazemodels.attention._checks import AttentionArgs, check_attention_args
from gazemodels.attention.cpu import ecc_attention_cpu
from gazemodels.attention.dense import ecc_attention_sdpa
from gazemodels.attention.objects import (
    BoxRelationBias,
    box_centres,
    box_relation_bias,
    box_relation_features,
    oat_positional_encoding,
)
from gazemodels.attention.reference import ecc_attention_reference

__all__ = [
    "IMPLEMENTATIONS",
    "AttentionArgs",
    "BoxRelationBias",
    "box_centres",
    "box_relation_bias",
    "box_relation_features",
    "check_attention_args",
    "ecc_attention",
    "ecc_attention_cpu",
    "ecc_attention_reference",
    "ecc_attention_sdpa",
    "oat_positional_encoding",
    "resolve_impl",
    "triton_available",
]

IMPLEMENTATIONS = ("auto", "reference", "cpu", "triton", "sdpa")


def triton_available() -> bool:
    """Whether ``gazemodels.attention.triton_kernels`` (and so Triton) imports.

    Parameters
    ----------
    None

    Returns
    -------
    bool
        True if the Triton kernels module can be imported.
    """
    try:
        importlib.import_module("gazemodels.attention.triton_kernels")
    except ImportError:
        return False
    return True


def resolve_impl(impl: str, q: Tensor) -> str:
    """The implementation ``ecc_attention`` will run for ``impl`` and the tensor ``q``.

    Parameters
    ----------
    impl : {"auto", "reference", "cpu", "triton", "sdpa"}
        Requested implementation.
    q : Tensor
        The queries; their device decides ``"auto"``.

    Returns
    -------
    str
        One of ``"reference"``, ``"cpu"``, ``"triton"``, ``"sdpa"``.

    Raises
    ------
    ValueError
        For an unknown ``impl``.
    """
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"impl must be one of {IMPLEMENTATIONS}, got {impl!r}")
    if impl != "auto":
        return impl
    if getattr(q, "is_cuda", False) and triton_available():
        # the Triton kernels take fp32/fp16/bf16; float64 on a GPU goes to the dense reference
        return "reference" if getattr(q, "dtype", None) == torch.float64 else "triton"
    return "cpu"


def ecc_attention(q, k, v, pos, fixation, sigma0, slope, cutoff=3.0, bias=None, impl="auto") -> Tensor:
    """Eccentricity-aware attention with an optional additive (object-relation) bias.

    Parameters
    ----------
    q, k : Tensor
        Queries and keys, (B, H, N, D).
    v : Tensor
        Values, (B, H, N, Dv).
    pos : Tensor
        Token positions in degrees of visual angle, (N, 2) or (B, N, 2) (object centres for
        object tokens).
    fixation : Tensor
        Fixation of each batch element in degrees, (B, 2).
    sigma0 : float or Tensor
        Foveal Gaussian width in degrees, scalar or per head (H,), > 0; learnable.
    slope : float or Tensor
        Width growth per degree of eccentricity, scalar or (H,), >= 0; learnable.
    cutoff : float, default 3.0
        Keys with ``|p_i - p_j| > cutoff * sigma_i`` are excluded.
    bias : Tensor, optional
        Additive score bias, (B or 1, H or 1, N, N); ``-inf`` masks a pair.
    impl : {"auto", "reference", "cpu", "triton", "sdpa"}, default "auto"
        Implementation; ``"auto"`` is Triton on CUDA (when it imports), else the CPU path.
        ``"sdpa"`` (torch's SDPA with a dense mask) is the candidate for short sequences on a
        GPU (SDPA with a prebuilt mask beat the kernels at N <= 4,096 on an H100).

    Returns
    -------
    Tensor
        (B, H, N, Dv), dtype of ``q``.

    Raises
    ------
    ValueError
        On bad arguments or an unknown ``impl``.
    ImportError
        If ``impl="triton"`` is forced and the Triton kernels cannot be imported.
    """
    which = resolve_impl(impl, q)
    if which == "reference":
        return ecc_attention_reference(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
    if which == "cpu":
        from gazemodels.attention.cpu import ecc_attention_cpu

        return ecc_attention_cpu(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
    if which == "sdpa":
        from gazemodels.attention.dense import ecc_attention_sdpa

        return ecc_attention_sdpa(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
    from gazemodels.attention.triton_kernels import ecc_attention_triton

    return ecc_attention_triton(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
