"""Fused Triton kernels (forward and backward) for eccentricity-aware attention.

The operation is the one of :func:`gazemodels.attention.reference.ecc_attention_reference`:

.. math::

    s_{ij} = \\frac{q_i \\cdot k_j}{\\sqrt{D}} - \\frac{|p_i - p_j|^2}{2\\sigma_i^2} + b_{ij},
    \\qquad \\sigma_i = \\sigma_{0,h} + \\text{slope}_h\\,|p_i - f_b|,

with the pairs ``|p_i - p_j|^2 > (cutoff * sigma_i)^2`` excluded and ``out_i = softmax_j(s_ij) v_j``.

Design
------
The kernels follow FlashAttention (Dao et al. 2022, "FlashAttention: fast and memory-efficient
exact attention with IO-awareness") and FlashAttention-2 (Dao 2023, "FlashAttention-2: faster
attention with better parallelism and work partitioning"):

* **Forward** (:func:`_ecc_fwd_kernel`): one program per (query block, batch x head). The query
  tile stays in SRAM; key/value tiles stream through it. The distance penalty
  ``|p_i - p_j|^2 / (2 sigma_i^2)`` and the cutoff mask are computed on the fly from the
  positions (never materialised). Online softmax with a running max and sum (FlashAttention
  Alg. 1; FlashAttention-2 Sec. 3.1: the output is rescaled once at the end), in base 2
  (``exp2``, with ``log2(e)`` folded into the scales). The kernel writes the output and the
  row log-sum-exp, which the backward pass uses to recompute the probabilities.
* **Block skipping.** A tiny torch pre-pass (:func:`block_visit_mask`) computes, per block of
  ``block_m`` queries, the bounding box of their positions and the largest squared reach
  ``max_i (cutoff * sigma_i)^2`` (per batch element and head, since sigma depends on the
  head and the fixation), and per block of ``block_n`` keys their bounding box. A key block
  whose minimum distance to the query block's box exceeds the largest reach holds no
  included pair and is skipped. The visited blocks are handed to the kernels as compact
  per-row index lists (as FlexAttention's ``BlockMask`` does), so a skipped block costs
  nothing, not even a loop iteration, and the loop body has no data-dependent branch that
  would defeat software pipelining on a GPU. The bound is conservative (a slack of
  ``2**-20`` relative guards against rounding), so skipping never changes a result: a run
  with ``skip_blocks=False`` gives bit-identical outputs and gradients.
* **Backward** (FlashAttention-2, Sec. 3.2 and Alg. 2), without atomics:

  1. :func:`_ecc_bwd_delta_kernel`: ``delta_i = sum_d dO_id O_id``;
  2. :func:`_ecc_bwd_dkdv_kernel`: one program per key block, looping over the visited query
     blocks (the transposed index lists), accumulating ``dK`` and ``dV`` (and the key-side
     part of the position gradient);
  3. :func:`_ecc_bwd_dq_kernel`: one program per query block, looping over the visited key
     blocks, accumulating ``dQ`` and the per-query ``dsigma_i`` (and the query-side part of
     the position gradient, and ``dbias`` when the bias needs a gradient).

  The probabilities are recomputed from the stored log-sum-exp, ``dS = P * (dP - delta)``.
  The gradient of the width is ``d s_ij / d sigma_i = |p_i - p_j|^2 / sigma_i^3``, so
  ``dsigma_i = sum_j dS_ij |p_i - p_j|^2 / sigma_i^3``. The kernels return ``dsigma`` of shape
  (B, H, N); ``sigma`` itself is computed in torch from ``sigma0``, ``slope`` and the
  fixation (:func:`gazemodels.attention.reference.query_sigma`), so autograd turns
  ``dsigma`` into ``dsigma0_h = sum_i dsigma_i`` and ``dslope_h = sum_i dsigma_i |p_i - f|``
  (and the fixation gradient), exactly as the reference does.
* **The cutoff mask has no gradient.** It is piecewise constant in sigma and the positions;
  the reference's autograd gives none through the comparison either.
* **Bias.** The optional additive bias (B or 1, H or 1, N, N) is supported in the kernels as
  an optional pointer (broadcast through zero strides): it is read tile by tile and, when it
  requires a gradient, ``dbias = dS`` is written for the visited tiles (zeros elsewhere) and
  summed over the broadcast dimensions. The bias is an N x N tensor, so this path is meant
  for the object tokens, where N is small; ``-inf`` in the bias masks a pair, and a row
  whose every key is masked returns zeros (as the reference does).
* **Precision.** fp16, bf16 and fp32 inputs; the positions, sigma, the scores and every
  accumulator are fp32. For fp32 inputs ``tl.dot`` follows torch's float32 matmul setting:
  at torch's default (``torch.get_float32_matmul_precision() == "highest"``) it runs with
  ``input_precision="ieee"`` (no TF32), so that the result matches the float64 reference to
  about 1e-6; after ``torch.set_float32_matmul_precision("high")`` it uses TF32 on the tensor
  cores, 6 (forward) to 8 (backward) times faster on an H100 at about 3e-4 relative error.
  float64 inputs are refused: use the reference or the CPU path. bf16 is tested on a GPU
  only (``tests/attention/test_triton_cuda.py``): Triton's interpreter does not compute bf16
  ``tl.dot`` faithfully.
* **Shapes.** The kernels are written for an H100: block sizes are powers of two, the head
  dimensions are padded (with masks) to a power of two >= 16 so that every ``tl.dot`` has
  K >= 16, and ``N`` need not be a multiple of the block sizes (masked loads and stores).
  The values may have their own head dimension ``Dv``. The launch settings were swept on an
  H100 (``benchmarks/tune_triton_kernels.py``): 64 x 64 tiles on the tensor cores and 32 x 32
  for exact fp32 (:func:`_default_blocks`), 4 warps (8 above a padded head dimension of 64,
  not swept), 2 pipeline stages in the forward and 1 in the backward. Double backward is not
  supported (the backward is ``once_differentiable``).
* **Memory.** Besides the output, the log-sum-exp and the (B, H, N) sigma and reach, the
  block plan holds a (B, H, N / block_m, N / block_n) mask and two index tensors of that
  size (int32): about 0.6 MB per (batch element, head) at N = 16,384 with 64 x 64 blocks
  (2.4 MB with the 32 x 32 blocks of exact fp32).

Block skipping pays when tokens that are close in the index order are close in space
(raster or Morton order of a patch grid): the bounding boxes of the blocks are then small.

Measured on an H100 (``benchmarks/gpu_notes.md``): at N = 16,384 the kernels take 0.65 of
the time of SDPA with a dense mask in bf16 (training 0.61), 0.14 with TF32; at N <= 4,096
the host-side pre-pass (checks, Morton sort, block plan: about 2 ms a call) costs more than
the kernels, and SDPA is faster.

Without a GPU the kernels run in Triton's interpreter (``TRITON_INTERPRET=1`` set before this
module is imported), on CPU tensors; that is how the tests run them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import triton
import triton.language as tl
from torch import Tensor
from torch.autograd.function import once_differentiable

from gazemodels.attention._checks import AttentionArgs, check_attention_args
from gazemodels.attention.cpu import morton_order
from gazemodels.attention.reference import query_sigma

__all__ = [
    "BlockPlan",
    "block_visit_mask",
    "ecc_attention_triton",
    "kernels_interpreted",
]

LOG2E = tl.constexpr(1.4426950408889634)

# Relative slack of the block-skipping bound: a block is skipped only if its minimum squared
# distance exceeds the largest squared reach by more than this, so that rounding differences
# between the torch pre-pass and the kernels (e.g. fused multiply-adds on a GPU) can never
# skip a block that holds an included pair.
_SKIP_SLACK = 2.0**-20


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------


@triton.jit
def _tile_scores(
    q,
    k,
    px_i,
    py_i,
    px_j,
    py_j,
    coef_i,
    reach2_i,
    n_ok,
    qk_scale,
    bias_ptrs,
    bias_mask,
    HAS_BIAS: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    """Scores of one (BLOCK_M, BLOCK_N) tile in base 2, excluded pairs at -inf.

    ``s2 = log2(e) * (q.k / sqrt(D) - d2 / (2 sigma_i^2) + bias)``; shared by the forward and
    both backward kernels so that they recompute exactly the same probabilities. Also
    returns the squared distances and the coordinate differences ``p_i - p_j``.
    """
    qk = tl.dot(q, tl.trans(k), input_precision=DOT_PRECISION)
    dx = px_i[:, None] - px_j[None, :]
    dy = py_i[:, None] - py_j[None, :]
    d2 = dx * dx + dy * dy
    s = qk * qk_scale - d2 * coef_i[:, None]
    if HAS_BIAS:
        s += tl.load(bias_ptrs, mask=bias_mask, other=0.0).to(tl.float32) * LOG2E
    # The exclusion test on squared distances, as in every implementation (see reference.py);
    # padded rows carry reach2 = -1 and so include nothing.
    keep = (d2 <= reach2_i[:, None]) & n_ok[None, :]
    s = tl.where(keep, s, float("-inf"))
    return s, d2, dx, dy


@triton.jit
def _ecc_fwd_kernel(
    Q, K, V, POS, SIGMA, REACH2, BIAS, OUT, LSE, KCNT, KIDX,
    sqb, sqh, sqn, sqd,
    skb, skh, skn, skd,
    svb, svh, svn, svd,
    sob, soh, son, sod,
    spb, spn, spc,
    sbb, sbh, sbm, sbn,
    H, N, D, DV, n_kblocks, sm_scale,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_DV: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):  # fmt: skip
    """Forward: one program per (query block, batch x head); FlashAttention-2 Alg. 1."""
    pid_m = tl.program_id(0)
    n_mblocks = tl.num_programs(0)
    bh = tl.program_id(1).to(tl.int64)
    b = bh // H
    h = bh % H

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    offs_dv = tl.arange(0, BLOCK_DV)
    m_ok = offs_m < N
    d_ok = offs_d < D
    dv_ok = offs_dv < DV

    # The query tile and its per-row geometry stay on chip for the whole loop.
    q = tl.load(
        Q + b * sqb + h * sqh + offs_m[:, None] * sqn + offs_d[None, :] * sqd,
        mask=m_ok[:, None] & d_ok[None, :],
        other=0.0,
    )
    px_i = tl.load(POS + b * spb + offs_m * spn, mask=m_ok, other=0.0)
    py_i = tl.load(POS + b * spb + offs_m * spn + spc, mask=m_ok, other=0.0)
    sig_i = tl.load(SIGMA + bh * N + offs_m, mask=m_ok, other=1.0)
    reach2_i = tl.load(REACH2 + bh * N + offs_m, mask=m_ok, other=-1.0)
    coef_i = (0.5 * LOG2E) / (sig_i * sig_i)
    qk_scale = sm_scale * LOG2E

    # Online softmax state (Dao et al. 2022, Alg. 1): running max, running sum, accumulator.
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_DV], tl.float32)

    row = bh * n_mblocks + pid_m
    count = tl.load(KCNT + row)
    for it in range(0, count):
        start_n = tl.load(KIDX + row * n_kblocks + it) * BLOCK_N
        offs_n = start_n + tl.arange(0, BLOCK_N)
        n_ok = offs_n < N
        k = tl.load(
            K + b * skb + h * skh + offs_n[:, None] * skn + offs_d[None, :] * skd,
            mask=n_ok[:, None] & d_ok[None, :],
            other=0.0,
        )
        v = tl.load(
            V + b * svb + h * svh + offs_n[:, None] * svn + offs_dv[None, :] * svd,
            mask=n_ok[:, None] & dv_ok[None, :],
            other=0.0,
        )
        px_j = tl.load(POS + b * spb + offs_n * spn, mask=n_ok, other=0.0)
        py_j = tl.load(POS + b * spb + offs_n * spn + spc, mask=n_ok, other=0.0)
        bias_ptrs = BIAS + b * sbb + h * sbh + offs_m[:, None] * sbm + offs_n[None, :] * sbn
        s, d2, dx, dy = _tile_scores(
            q, k, px_i, py_i, px_j, py_j, coef_i, reach2_i, n_ok, qk_scale,
            bias_ptrs, m_ok[:, None] & n_ok[None, :], HAS_BIAS, DOT_PRECISION,
        )  # fmt: skip
        m_new = tl.maximum(m_i, tl.max(s, 1))
        # A row with no included key yet has m = -inf; shift by 0 instead (no NaN from inf - inf).
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2(m_i - m_safe)
        p = tl.exp2(s - m_safe[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None]
        acc = tl.dot(p.to(v.dtype), v, acc, input_precision=DOT_PRECISION)
        m_i = m_new

    # FlashAttention-2: a single rescaling by 1 / l at the end. A fully masked row (only
    # possible through -inf in the bias) gets zeros and lse = +inf, so that the backward
    # recomputes P = 0 for it.
    l_ok = l_i > 0.0
    l_safe = tl.where(l_ok, l_i, 1.0)
    out = acc / l_safe[:, None]
    tl.store(
        OUT + b * sob + h * soh + offs_m[:, None] * son + offs_dv[None, :] * sod,
        out.to(OUT.dtype.element_ty),
        mask=m_ok[:, None] & dv_ok[None, :],
    )
    lse = tl.where(l_ok, m_i + tl.log2(l_safe), float("inf"))
    tl.store(LSE + bh * N + offs_m, lse, mask=m_ok)


@triton.jit
def _ecc_bwd_delta_kernel(
    OUT, DO, DELTA,
    sob, soh, son, sod,
    sdb, sdh, sdn, sdd,
    H, N, DV,
    BLOCK_M: tl.constexpr,
    BLOCK_DV: tl.constexpr,
):  # fmt: skip
    """Backward pre-processing, ``delta_i = rowsum(dO * O)`` (FlashAttention-2, Alg. 2 line 4)."""
    pid_m = tl.program_id(0)
    bh = tl.program_id(1).to(tl.int64)
    b = bh // H
    h = bh % H
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_dv = tl.arange(0, BLOCK_DV)
    mask = (offs_m < N)[:, None] & (offs_dv < DV)[None, :]
    o = tl.load(OUT + b * sob + h * soh + offs_m[:, None] * son + offs_dv[None, :] * sod, mask=mask, other=0.0)
    do = tl.load(DO + b * sdb + h * sdh + offs_m[:, None] * sdn + offs_dv[None, :] * sdd, mask=mask, other=0.0)
    delta = tl.sum(o.to(tl.float32) * do.to(tl.float32), 1)
    tl.store(DELTA + bh * N + offs_m, delta, mask=offs_m < N)


@triton.jit
def _ecc_bwd_dkdv_kernel(
    Q, K, V, DO, POS, SIGMA, REACH2, BIAS, LSE, DELTA, DK, DV_, DPOS_K, QCNT, QIDX,
    sqb, sqh, sqn, sqd,
    skb, skh, skn, skd,
    svb, svh, svn, svd,
    sdb, sdh, sdn, sdd,
    spb, spn, spc,
    sbb, sbh, sbm, sbn,
    sdkb, sdkh, sdkn, sdkd,
    sdvb, sdvh, sdvn, sdvd,
    H, N, D, DV, n_qblocks, sm_scale,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_DV: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    HAS_DPOS: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):  # fmt: skip
    """dK and dV: one program per (key block, batch x head), FlashAttention-2 Alg. 2 outer loop."""
    pid_n = tl.program_id(0)
    n_nblocks = tl.num_programs(0)
    bh = tl.program_id(1).to(tl.int64)
    b = bh // H
    h = bh % H

    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    offs_dv = tl.arange(0, BLOCK_DV)
    n_ok = offs_n < N
    d_ok = offs_d < D
    dv_ok = offs_dv < DV

    k = tl.load(
        K + b * skb + h * skh + offs_n[:, None] * skn + offs_d[None, :] * skd,
        mask=n_ok[:, None] & d_ok[None, :],
        other=0.0,
    )
    v = tl.load(
        V + b * svb + h * svh + offs_n[:, None] * svn + offs_dv[None, :] * svd,
        mask=n_ok[:, None] & dv_ok[None, :],
        other=0.0,
    )
    px_j = tl.load(POS + b * spb + offs_n * spn, mask=n_ok, other=0.0)
    py_j = tl.load(POS + b * spb + offs_n * spn + spc, mask=n_ok, other=0.0)
    qk_scale = sm_scale * LOG2E

    dk = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
    dv = tl.zeros([BLOCK_N, BLOCK_DV], tl.float32)
    gx_j = tl.zeros([BLOCK_N], tl.float32)
    gy_j = tl.zeros([BLOCK_N], tl.float32)

    row = bh * n_nblocks + pid_n
    count = tl.load(QCNT + row)
    for it in range(0, count):
        start_m = tl.load(QIDX + row * n_qblocks + it) * BLOCK_M
        offs_m = start_m + tl.arange(0, BLOCK_M)
        m_ok = offs_m < N
        q = tl.load(
            Q + b * sqb + h * sqh + offs_m[:, None] * sqn + offs_d[None, :] * sqd,
            mask=m_ok[:, None] & d_ok[None, :],
            other=0.0,
        )
        do = tl.load(
            DO + b * sdb + h * sdh + offs_m[:, None] * sdn + offs_dv[None, :] * sdd,
            mask=m_ok[:, None] & dv_ok[None, :],
            other=0.0,
        )
        px_i = tl.load(POS + b * spb + offs_m * spn, mask=m_ok, other=0.0)
        py_i = tl.load(POS + b * spb + offs_m * spn + spc, mask=m_ok, other=0.0)
        sig_i = tl.load(SIGMA + bh * N + offs_m, mask=m_ok, other=1.0)
        reach2_i = tl.load(REACH2 + bh * N + offs_m, mask=m_ok, other=-1.0)
        lse_i = tl.load(LSE + bh * N + offs_m, mask=m_ok, other=float("inf"))
        delta_i = tl.load(DELTA + bh * N + offs_m, mask=m_ok, other=0.0)
        inv_s2 = 1.0 / (sig_i * sig_i)
        coef_i = (0.5 * LOG2E) * inv_s2
        bias_ptrs = BIAS + b * sbb + h * sbh + offs_m[:, None] * sbm + offs_n[None, :] * sbn
        s, d2, dx, dy = _tile_scores(
            q, k, px_i, py_i, px_j, py_j, coef_i, reach2_i, n_ok, qk_scale,
            bias_ptrs, m_ok[:, None] & n_ok[None, :], HAS_BIAS, DOT_PRECISION,
        )  # fmt: skip
        # Recompute P from the log-sum-exp of the forward (FlashAttention, Sec. 3.1).
        p = tl.exp2(s - lse_i[:, None])
        dv = tl.dot(tl.trans(p.to(do.dtype)), do, dv, input_precision=DOT_PRECISION)
        dp = tl.dot(do, tl.trans(v), input_precision=DOT_PRECISION)
        ds = p * (dp - delta_i[:, None])
        dk = tl.dot(tl.trans(ds.to(q.dtype)), q, dk, input_precision=DOT_PRECISION)
        if HAS_DPOS:
            # d s_ij / d p_j = (p_i - p_j) / sigma_i^2
            w = ds * inv_s2[:, None]
            gx_j += tl.sum(w * dx, 0)
            gy_j += tl.sum(w * dy, 0)

    dk = dk * sm_scale
    tl.store(
        DK + b * sdkb + h * sdkh + offs_n[:, None] * sdkn + offs_d[None, :] * sdkd,
        dk.to(DK.dtype.element_ty),
        mask=n_ok[:, None] & d_ok[None, :],
    )
    tl.store(
        DV_ + b * sdvb + h * sdvh + offs_n[:, None] * sdvn + offs_dv[None, :] * sdvd,
        dv.to(DV_.dtype.element_ty),
        mask=n_ok[:, None] & dv_ok[None, :],
    )
    if HAS_DPOS:
        tl.store(DPOS_K + (bh * N + offs_n) * 2, gx_j, mask=n_ok)
        tl.store(DPOS_K + (bh * N + offs_n) * 2 + 1, gy_j, mask=n_ok)


@triton.jit
def _ecc_bwd_dq_kernel(
    Q, K, V, DO, POS, SIGMA, REACH2, BIAS, LSE, DELTA, DQ, DSIGMA, DPOS_Q, DBIAS, KCNT, KIDX,
    sqb, sqh, sqn, sqd,
    skb, skh, skn, skd,
    svb, svh, svn, svd,
    sdb, sdh, sdn, sdd,
    spb, spn, spc,
    sbb, sbh, sbm, sbn,
    sdqb, sdqh, sdqn, sdqd,
    H, N, D, DV, n_kblocks, sm_scale,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_DV: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    HAS_DBIAS: tl.constexpr,
    HAS_DPOS: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):  # fmt: skip
    """dQ and dsigma: one program per (query block, batch x head), FlashAttention-2 Sec. 3.2."""
    pid_m = tl.program_id(0)
    n_mblocks = tl.num_programs(0)
    bh = tl.program_id(1).to(tl.int64)
    b = bh // H
    h = bh % H

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    offs_dv = tl.arange(0, BLOCK_DV)
    m_ok = offs_m < N
    d_ok = offs_d < D
    dv_ok = offs_dv < DV

    q = tl.load(
        Q + b * sqb + h * sqh + offs_m[:, None] * sqn + offs_d[None, :] * sqd,
        mask=m_ok[:, None] & d_ok[None, :],
        other=0.0,
    )
    do = tl.load(
        DO + b * sdb + h * sdh + offs_m[:, None] * sdn + offs_dv[None, :] * sdd,
        mask=m_ok[:, None] & dv_ok[None, :],
        other=0.0,
    )
    px_i = tl.load(POS + b * spb + offs_m * spn, mask=m_ok, other=0.0)
    py_i = tl.load(POS + b * spb + offs_m * spn + spc, mask=m_ok, other=0.0)
    sig_i = tl.load(SIGMA + bh * N + offs_m, mask=m_ok, other=1.0)
    reach2_i = tl.load(REACH2 + bh * N + offs_m, mask=m_ok, other=-1.0)
    lse_i = tl.load(LSE + bh * N + offs_m, mask=m_ok, other=float("inf"))
    delta_i = tl.load(DELTA + bh * N + offs_m, mask=m_ok, other=0.0)
    inv_s2 = 1.0 / (sig_i * sig_i)
    coef_i = (0.5 * LOG2E) * inv_s2
    qk_scale = sm_scale * LOG2E

    dq = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    dsig = tl.zeros([BLOCK_M], tl.float32)
    gx_i = tl.zeros([BLOCK_M], tl.float32)
    gy_i = tl.zeros([BLOCK_M], tl.float32)

    row = bh * n_mblocks + pid_m
    count = tl.load(KCNT + row)
    for it in range(0, count):
        start_n = tl.load(KIDX + row * n_kblocks + it) * BLOCK_N
        offs_n = start_n + tl.arange(0, BLOCK_N)
        n_ok = offs_n < N
        k = tl.load(
            K + b * skb + h * skh + offs_n[:, None] * skn + offs_d[None, :] * skd,
            mask=n_ok[:, None] & d_ok[None, :],
            other=0.0,
        )
        v = tl.load(
            V + b * svb + h * svh + offs_n[:, None] * svn + offs_dv[None, :] * svd,
            mask=n_ok[:, None] & dv_ok[None, :],
            other=0.0,
        )
        px_j = tl.load(POS + b * spb + offs_n * spn, mask=n_ok, other=0.0)
        py_j = tl.load(POS + b * spb + offs_n * spn + spc, mask=n_ok, other=0.0)
        bias_ptrs = BIAS + b * sbb + h * sbh + offs_m[:, None] * sbm + offs_n[None, :] * sbn
        s, d2, dx, dy = _tile_scores(
            q, k, px_i, py_i, px_j, py_j, coef_i, reach2_i, n_ok, qk_scale,
            bias_ptrs, m_ok[:, None] & n_ok[None, :], HAS_BIAS, DOT_PRECISION,
        )  # fmt: skip
        p = tl.exp2(s - lse_i[:, None])
        dp = tl.dot(do, tl.trans(v), input_precision=DOT_PRECISION)
        ds = p * (dp - delta_i[:, None])
        dq = tl.dot(ds.to(k.dtype), k, dq, input_precision=DOT_PRECISION)
        # d s_ij / d sigma_i = |p_i - p_j|^2 / sigma_i^3 (the 1 / sigma_i^3 is applied at the end).
        dsig += tl.sum(ds * d2, 1)
        if HAS_DPOS:
            # d s_ij / d p_i = -(p_i - p_j) / sigma_i^2 (the factor is applied at the end).
            gx_i += tl.sum(ds * dx, 1)
            gy_i += tl.sum(ds * dy, 1)
        if HAS_DBIAS:
            # d s_ij / d b_ij = 1: dbias is dS itself, for the visited tiles.
            tl.store(
                DBIAS + bh * N * N + offs_m[:, None] * N + offs_n[None, :],
                ds,
                mask=m_ok[:, None] & n_ok[None, :],
            )

    dq = dq * sm_scale
    tl.store(
        DQ + b * sdqb + h * sdqh + offs_m[:, None] * sdqn + offs_d[None, :] * sdqd,
        dq.to(DQ.dtype.element_ty),
        mask=m_ok[:, None] & d_ok[None, :],
    )
    tl.store(DSIGMA + bh * N + offs_m, dsig * (inv_s2 / sig_i), mask=m_ok)
    if HAS_DPOS:
        tl.store(DPOS_Q + (bh * N + offs_m) * 2, -gx_i * inv_s2, mask=m_ok)
        tl.store(DPOS_Q + (bh * N + offs_m) * 2 + 1, -gy_i * inv_s2, mask=m_ok)


# --------------------------------------------------------------------------------------------
# Host side: block plan, launch helpers, autograd
# --------------------------------------------------------------------------------------------


def kernels_interpreted() -> bool:
    """Whether the kernels of this module run in Triton's CPU interpreter.

    Triton decides when a kernel is decorated, i.e. when this module is imported: with
    ``TRITON_INTERPRET=1`` in the environment the kernels are interpreted (and accept CPU
    tensors), otherwise they are compiled for the GPU.

    Returns
    -------
    bool
        True if the kernels are interpreted.
    """
    return not isinstance(_ecc_fwd_kernel, triton.runtime.jit.JITFunction)


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _block_boxes(pos: Tensor, block: int) -> Tensor:
    """Bounding box ``(x_lo, x_hi, y_lo, y_hi)`` of the positions of every block of tokens.

    Parameters
    ----------
    pos : Tensor
        (B, N, 2) positions.
    block : int
        Tokens per block.

    Returns
    -------
    Tensor
        (B, ceil(N / block), 4); padding tokens are ignored.
    """
    B, N, _ = pos.shape
    nb = _cdiv(N, block)
    pad = nb * block - N
    lo = F.pad(pos, (0, 0, 0, pad), value=math.inf).reshape(B, nb, block, 2).amin(2)
    hi = F.pad(pos, (0, 0, 0, pad), value=-math.inf).reshape(B, nb, block, 2).amax(2)
    return torch.stack([lo[..., 0], hi[..., 0], lo[..., 1], hi[..., 1]], dim=-1)


def _visit_mask(pos: Tensor, reach2: Tensor, block_m: int, block_n: int) -> Tensor:
    """Which (query block, key block) tiles may hold an included pair, (B, H, nM, nN) bool.

    A tile is skipped when the minimum distance between the bounding boxes of its query and
    key positions exceeds the largest reach ``cutoff * sigma_i`` of its queries: then every
    pair ``|p_i - p_j| >= d_min > cutoff * sigma_i`` is excluded.
    """
    B, H, N = reach2.shape
    qbox = _block_boxes(pos, block_m)[:, :, None, :]  # (B, nM, 1, 4)
    kbox = _block_boxes(pos, block_n)[:, None, :, :]  # (B, 1, nN, 4)
    dx = torch.maximum(qbox[..., 0] - kbox[..., 1], kbox[..., 0] - qbox[..., 1]).clamp_min(0.0)
    dy = torch.maximum(qbox[..., 2] - kbox[..., 3], kbox[..., 2] - qbox[..., 3]).clamp_min(0.0)
    dmin2 = dx * dx + dy * dy  # (B, nM, nN)
    nm = _cdiv(N, block_m)
    r2 = F.pad(reach2, (0, nm * block_m - N), value=-math.inf).reshape(B, H, nm, block_m).amax(-1)
    return dmin2[:, None] <= r2[..., None] * (1.0 + _SKIP_SLACK)


def _index_lists(visit: Tensor) -> tuple[Tensor, Tensor]:
    """Compact per-row lists of the visited columns of a (B, H, R, C) mask.

    Returns
    -------
    counts : Tensor
        (B, H, R) int32, visited columns per row.
    indices : Tensor
        (B, H, R, C) int32; the first ``counts`` entries of each row are the visited columns
        in increasing order (the rest are the skipped ones, never read).
    """
    counts = visit.sum(-1, dtype=torch.int32)
    order = torch.argsort((~visit).to(torch.int8), dim=-1, stable=True)
    return counts.contiguous(), order.to(torch.int32).contiguous()


@dataclass(frozen=True)
class BlockPlan:
    """The tiles the kernels visit, as compact index lists (cf. FlexAttention's ``BlockMask``).

    Attributes
    ----------
    block_m, block_n : int
        Query and key block sizes.
    visit : Tensor
        (B, H, nM, nN) bool, True for the visited (query block, key block) tiles.
    kv_counts, kv_indices : Tensor
        Visited key blocks per query block, (B, H, nM) and (B, H, nM, nN) int32; used by the
        forward and the dQ kernels.
    q_counts, q_indices : Tensor
        Visited query blocks per key block, (B, H, nN) and (B, H, nN, nM) int32; used by the
        dK/dV kernel.
    """

    block_m: int
    block_n: int
    visit: Tensor
    kv_counts: Tensor
    kv_indices: Tensor
    q_counts: Tensor
    q_indices: Tensor

    @classmethod
    def build(cls, pos: Tensor, reach2: Tensor, block_m: int, block_n: int, skip: bool = True) -> BlockPlan:
        """Plan the tiles from the positions and the squared reaches.

        Parameters
        ----------
        pos : Tensor
            (B, N, 2) positions, float32.
        reach2 : Tensor
            (B, H, N) squared reach ``(cutoff * sigma_i)^2`` of every query, float32.
        block_m, block_n : int
            Query and key block sizes.
        skip : bool, default True
            False visits every tile (for comparison).

        Returns
        -------
        BlockPlan
        """
        B, H, N = reach2.shape
        if skip:
            visit = _visit_mask(pos, reach2, block_m, block_n)
        else:
            visit = torch.ones(B, H, _cdiv(N, block_m), _cdiv(N, block_n), dtype=torch.bool, device=reach2.device)
        return cls.from_visit(visit, block_m, block_n)

    @classmethod
    def from_visit(cls, visit: Tensor, block_m: int, block_n: int) -> BlockPlan:
        """A plan that visits exactly the tiles marked in ``visit``.

        Parameters
        ----------
        visit : Tensor
            (B, H, nM, nN) bool.
        block_m, block_n : int
            Query and key block sizes.

        Returns
        -------
        BlockPlan
        """
        kv_counts, kv_indices = _index_lists(visit)
        q_counts, q_indices = _index_lists(visit.transpose(-1, -2))
        return cls(block_m, block_n, visit, kv_counts, kv_indices, q_counts, q_indices)

    @property
    def visited_fraction(self) -> float:
        """Fraction of the tiles that the kernels visit (1 - the skipped fraction)."""
        return float(self.visit.float().mean())


def _check_blocks(block_m: int, block_n: int) -> None:
    for name, blk in (("block_m", block_m), ("block_n", block_n)):
        if isinstance(blk, bool) or not isinstance(blk, int) or blk < 16 or blk & (blk - 1):
            raise ValueError(f"{name} must be a power of two >= 16 (tl.dot needs K >= 16), got {blk!r}")


def _prepare(args: AttentionArgs) -> tuple[Tensor, Tensor]:
    """sigma (differentiable) and the squared reach, both (B, H, N) float32 contiguous."""
    sigma = query_sigma(args).contiguous()
    reach2 = ((args.cutoff * sigma.detach()) ** 2).contiguous()
    return sigma, reach2


def block_visit_mask(
    pos, fixation, sigma0, slope, num_heads: int, cutoff=3.0, block_m: int = 64, block_n: int = 64
) -> Tensor:
    """The tiles that :func:`ecc_attention_triton` visits; the rest are skipped.

    Pure torch, cheap (no N x N tensor): usable on any device to predict the work saved by
    block skipping, e.g. in the benchmarks.

    Parameters
    ----------
    pos : Tensor
        Token positions in degrees, (N, 2) or (B, N, 2).
    fixation : Tensor
        (B, 2) fixations in degrees.
    sigma0, slope : float or Tensor
        Scalars or per-head (H,) parameters.
    num_heads : int
        Number of heads H.
    cutoff : float, default 3.0
        Exclusion radius in units of sigma.
    block_m, block_n : int, default 64
        Query and key block sizes (powers of two >= 16).

    Returns
    -------
    Tensor
        (B, H, ceil(N / block_m), ceil(N / block_n)) bool, True for the visited tiles.

    Raises
    ------
    ValueError
        On bad arguments (the checks of :func:`gazemodels.attention._checks.check_attention_args`).

    Examples
    --------
    >>> import torch
    >>> g = torch.arange(16.0)
    >>> pos = torch.cartesian_prod(g, g)  # a 16 x 16 grid, raster order
    >>> visit = block_visit_mask(pos, torch.zeros(1, 2), 0.5, 0.0, num_heads=1, block_m=16, block_n=16)
    >>> visit.shape, int(visit.sum())  # each 16-token row block sees itself and its neighbours
    (torch.Size([1, 1, 16, 16]), 46)
    """
    _check_blocks(block_m, block_n)
    if not isinstance(pos, Tensor) or pos.dim() not in (2, 3):
        raise ValueError(f"pos must be a tensor of shape (N, 2) or (B, N, 2), got {pos!r}")
    if not isinstance(fixation, Tensor):
        raise ValueError(f"fixation must be a tensor of shape (B, 2), got {type(fixation).__name__}")
    B, N = fixation.reshape(-1, 2).shape[0], pos.shape[-2]
    dummy = torch.zeros((), dtype=torch.float32, device=pos.device).expand(B, num_heads, N, 1)
    args = check_attention_args(dummy, dummy, dummy, pos, fixation, sigma0, slope, cutoff)
    with torch.no_grad():
        _, reach2 = _prepare(args)
        return _visit_mask(args.pos, reach2, block_m, block_n)


def _dot_precision(dtype: torch.dtype) -> str:
    """``tl.dot``'s input precision: fp32 inputs follow torch's float32 matmul setting.

    ``torch.set_float32_matmul_precision("highest")`` (torch's default) gives exact IEEE
    products, so that fp32 matches the float64 reference to ~1e-6; ``"high"`` or ``"medium"``
    gives TF32 on the tensor cores (~3e-4 relative error), as it does for torch's own fp32
    matrix products. (For fp16/bf16 the argument is ignored.)
    """
    if dtype == torch.float32 and torch.get_float32_matmul_precision() == "highest":
        return "ieee"
    return "tf32"


def _default_blocks(dtype: torch.dtype) -> tuple[int, int]:
    """Tile sizes when the caller names none (``benchmarks/tune_triton_kernels.py``, H100).

    Exact fp32 products run on the CUDA cores, and 64 x 64 tiles spill registers in the
    backward: 32 x 32 tiles make it 20 times faster there (17 ms against 343 ms at
    N = 4,096, batch 4, 8 heads, D = 64). On the tensor cores (fp16, bf16, TF32) 64 x 64 is
    the fastest of the 32/64 combinations.
    """
    return (32, 32) if _dot_precision(dtype) == "ieee" else (64, 64)


def _num_warps(block_d: int) -> int:
    return 4 if block_d <= 64 else 8


# Software-pipelining depth of the tile loops (``num_stages``) of the forward and the backward
# kernels; module constants so that ``benchmarks/tune_triton_kernels.py`` can sweep them. Two
# stages in the backward spilled with exact fp32 products (343 ms against 260 with one, 64 x 64
# tiles, H100) and gained nothing on the tensor cores (bf16: 0.95 ms against 0.89).
_NUM_STAGES_FWD = 2
_NUM_STAGES_BWD = 1


def _strides4(t: Tensor) -> tuple[int, int, int, int]:
    return tuple(t.stride())  # type: ignore[return-value]


def _bias_strides(bias: Tensor | None, B: int, H: int, N: int) -> tuple[int, int, int, int]:
    if bias is None:
        return (0, 0, 0, 0)
    return tuple(bias.expand(B, H, N, N).stride())  # type: ignore[return-value]


def _forward(q, k, v, pos, sigma, reach2, bias, plan: BlockPlan, precision: str | None = None):
    B, H, N, D = q.shape
    DV = v.shape[-1]
    out = torch.empty((B, H, N, DV), dtype=q.dtype, device=q.device)
    lse = torch.empty((B, H, N), dtype=torch.float32, device=q.device)
    BLOCK_D = max(16, triton.next_power_of_2(D))
    BLOCK_DV = max(16, triton.next_power_of_2(DV))
    nm, nn = _cdiv(N, plan.block_m), _cdiv(N, plan.block_n)
    _ecc_fwd_kernel[(nm, B * H)](
        q, k, v, pos, sigma, reach2, bias if bias is not None else sigma, out, lse,
        plan.kv_counts, plan.kv_indices,
        *_strides4(q), *_strides4(k), *_strides4(v), *_strides4(out),
        *pos.stride(), *_bias_strides(bias, B, H, N),
        H, N, D, DV, nn, 1.0 / math.sqrt(D),
        BLOCK_M=plan.block_m, BLOCK_N=plan.block_n, BLOCK_D=BLOCK_D, BLOCK_DV=BLOCK_DV,
        HAS_BIAS=bias is not None, DOT_PRECISION=precision or _dot_precision(q.dtype),
        num_warps=_num_warps(max(BLOCK_D, BLOCK_DV)), num_stages=_NUM_STAGES_FWD,
    )  # fmt: skip
    return out, lse


def _backward(
    dout, q, k, v, out, lse, pos, sigma, reach2, bias, plan: BlockPlan, need_dpos, need_dbias,
    precision: str | None = None,
):
    B, H, N, D = q.shape
    DV = v.shape[-1]
    dev = q.device
    BLOCK_D = max(16, triton.next_power_of_2(D))
    BLOCK_DV = max(16, triton.next_power_of_2(DV))
    nm, nn = _cdiv(N, plan.block_m), _cdiv(N, plan.block_n)
    warps = _num_warps(max(BLOCK_D, BLOCK_DV))
    prec = precision or _dot_precision(q.dtype)
    has_bias = bias is not None
    bias_arg = bias if has_bias else sigma
    bias_strides = _bias_strides(bias, B, H, N)

    delta = torch.empty((B, H, N), dtype=torch.float32, device=dev)
    _ecc_bwd_delta_kernel[(nm, B * H)](
        out, dout, delta, *_strides4(out), *_strides4(dout), H, N, DV,
        BLOCK_M=plan.block_m, BLOCK_DV=BLOCK_DV, num_warps=4,
    )  # fmt: skip

    dq = torch.empty_like(q, memory_format=torch.contiguous_format)
    dk = torch.empty_like(k, memory_format=torch.contiguous_format)
    dv = torch.empty_like(v, memory_format=torch.contiguous_format)
    dsigma = torch.empty((B, H, N), dtype=torch.float32, device=dev)
    if need_dpos:
        dpos_q = torch.empty((B, H, N, 2), dtype=torch.float32, device=dev)
        dpos_k = torch.empty((B, H, N, 2), dtype=torch.float32, device=dev)
    else:
        dpos_q = dpos_k = dsigma  # never touched (HAS_DPOS=False)
    # Tiles that are skipped, and pairs that are excluded, have dS = 0: the buffer starts at 0.
    dbias = torch.zeros((B, H, N, N), dtype=torch.float32, device=dev) if need_dbias else dsigma

    _ecc_bwd_dkdv_kernel[(nn, B * H)](
        q, k, v, dout, pos, sigma, reach2, bias_arg, lse, delta, dk, dv, dpos_k,
        plan.q_counts, plan.q_indices,
        *_strides4(q), *_strides4(k), *_strides4(v), *_strides4(dout),
        *pos.stride(), *bias_strides, *_strides4(dk), *_strides4(dv),
        H, N, D, DV, nm, 1.0 / math.sqrt(D),
        BLOCK_M=plan.block_m, BLOCK_N=plan.block_n, BLOCK_D=BLOCK_D, BLOCK_DV=BLOCK_DV,
        HAS_BIAS=has_bias, HAS_DPOS=need_dpos, DOT_PRECISION=prec, num_warps=warps, num_stages=_NUM_STAGES_BWD,
    )  # fmt: skip
    _ecc_bwd_dq_kernel[(nm, B * H)](
        q, k, v, dout, pos, sigma, reach2, bias_arg, lse, delta, dq, dsigma, dpos_q, dbias,
        plan.kv_counts, plan.kv_indices,
        *_strides4(q), *_strides4(k), *_strides4(v), *_strides4(dout),
        *pos.stride(), *bias_strides, *_strides4(dq),
        H, N, D, DV, nn, 1.0 / math.sqrt(D),
        BLOCK_M=plan.block_m, BLOCK_N=plan.block_n, BLOCK_D=BLOCK_D, BLOCK_DV=BLOCK_DV,
        HAS_BIAS=has_bias, HAS_DBIAS=need_dbias, HAS_DPOS=need_dpos, DOT_PRECISION=prec,
        num_warps=warps, num_stages=_NUM_STAGES_BWD,
    )  # fmt: skip
    dpos = (dpos_q + dpos_k).sum(1) if need_dpos else None
    return dq, dk, dv, dsigma, dpos, (dbias if need_dbias else None)


TOKEN_ORDERS = ("morton", "given")
"""Token orders of :func:`ecc_attention_triton`: sorted along a Z-curve, or as given."""


def token_permutation(pos: Tensor) -> Tensor:
    """Morton (Z-curve) order of each batch element's tokens, (B, N) int64.

    Consecutive tokens in it are spatially close, so a block of them has a small bounding
    box and the kernels can skip more tiles: on the benchmark's 64 x 64 grid with the
    fixation at the centre, 0.42 of the 64 x 64 tiles are visited against 0.63 in raster
    order (``benchmarks/bench_attention.py``).

    Parameters
    ----------
    pos : Tensor
        (B, N, 2) positions (an expanded view of shared positions is sorted once).

    Returns
    -------
    Tensor
        (B, N) permutations.
    """
    B, N = pos.shape[:2]
    if B == 1 or pos.stride(0) == 0:
        return morton_order(pos[0].detach()).expand(B, N)
    return torch.stack([morton_order(p.detach()) for p in pos])


def _take(t: Tensor, perm: Tensor, dim: int) -> Tensor:
    """``t`` with dimension ``dim`` (the tokens) reordered by the (B, N) ``perm`` of its batch row."""
    shape = [1] * t.dim()
    shape[0], shape[dim] = perm.shape[0], perm.shape[1]
    index = perm.reshape(shape).expand(*t.shape[:dim], perm.shape[1], *t.shape[dim + 1 :])
    return torch.gather(t, dim, index)


class _EccAttentionFn(torch.autograd.Function):
    """Autograd wrapper of the fused kernels.

    Inputs ``q, k, v`` (B, H, N, D/Dv), ``pos`` (B, N, 2) float32 (possibly an expanded
    view), ``sigma`` (B, H, N) float32, ``bias`` or None, then the non-differentiable
    ``reach2`` and :class:`BlockPlan`.
    """

    @staticmethod
    def forward(ctx, q, k, v, pos, sigma, bias, reach2, plan):
        # The dot precision is fixed at the forward (torch's fp32 matmul setting may change
        # before the backward runs), and so are the tiles the plan was built for.
        ctx.precision = _dot_precision(q.dtype)
        out, lse = _forward(q, k, v, pos, sigma, reach2, bias, plan, ctx.precision)
        ctx.save_for_backward(q, k, v, out, lse, pos, sigma, reach2, bias)
        ctx.plan = plan
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, dout):
        q, k, v, out, lse, pos, sigma, reach2, bias = ctx.saved_tensors
        need = ctx.needs_input_grad
        dq, dk, dv, dsigma, dpos, dbias = _backward(
            dout, q, k, v, out, lse, pos, sigma, reach2, bias, ctx.plan,
            need_dpos=bool(need[3]), need_dbias=bias is not None and bool(need[5]), precision=ctx.precision,
        )  # fmt: skip
        if dbias is not None:
            dims = [d for d in (0, 1) if bias.shape[d] == 1]
            if dims:
                dbias = dbias.sum(dim=dims, keepdim=True)
            dbias = dbias.to(bias.dtype)
        return (
            dq if need[0] else None,
            dk if need[1] else None,
            dv if need[2] else None,
            dpos,
            dsigma if need[4] else None,
            dbias,
            None,
            None,
        )


def ecc_attention_triton(
    q,
    k,
    v,
    pos,
    fixation,
    sigma0,
    slope,
    cutoff=3.0,
    bias=None,
    block_m: int | None = None,
    block_n: int | None = None,
    skip_blocks: bool = True,
    token_order: str = "morton",
) -> Tensor:
    """Eccentricity-aware attention with the fused Triton kernels (forward and backward).

    Same operation and arguments as
    :func:`gazemodels.attention.reference.ecc_attention_reference`; differentiable in ``q``,
    ``k``, ``v``, ``sigma0``, ``slope``, ``fixation``, ``pos`` and ``bias``.

    Parameters
    ----------
    q, k : Tensor
        Queries and keys, (B, H, N, D), float16, bfloat16 or float32, on a CUDA device (or on
        the CPU when the kernels run in Triton's interpreter, see :func:`kernels_interpreted`).
    v : Tensor
        Values, (B, H, N, Dv).
    pos : Tensor
        Token positions in degrees of visual angle, (N, 2) or (B, N, 2).
    fixation : Tensor
        Fixation of each batch element in degrees, (B, 2).
    sigma0 : float or Tensor
        Foveal Gaussian width in degrees, scalar or per head (H,), > 0.
    slope : float or Tensor
        Width growth per degree of eccentricity, scalar or (H,), >= 0.
    cutoff : float, default 3.0
        Keys with ``|p_i - p_j| > cutoff * sigma_i`` are excluded (``math.inf``: none).
    bias : Tensor, optional
        Additive score bias, (B or 1, H or 1, N, N), read by the kernels tile by tile; ``-inf``
        masks a pair. Meant for small N (object tokens).
    block_m, block_n : int, optional
        Query and key block sizes, powers of two >= 16. By default 64 x 64, or 32 x 32 for
        float32 inputs with exact products (see ``Precision`` in the module's docstring).
    skip_blocks : bool, default True
        Skip the tiles that hold no included pair (see :func:`block_visit_mask`). False
        visits every tile; the results are bit-identical, only slower.
    token_order : {"morton", "given"}, default "morton"
        ``"morton"`` sorts each batch element's tokens along a Z-curve of their positions
        before the kernels run (and restores the order of the output), so that blocks are
        compact patches of the field and more tiles are skipped
        (:func:`token_permutation`); ``"given"`` keeps the caller's order. The results agree
        to rounding (the keys are summed in another order). The permutation is skipped when
        nothing can be skipped (infinite cutoff, or N within one block).

    Returns
    -------
    Tensor
        (B, H, N, Dv) in the dtype of ``q``. A row whose every key is masked (only possible
        through ``-inf`` in ``bias``) is zero.

    Raises
    ------
    ValueError
        On bad arguments (see :func:`gazemodels.attention._checks.check_attention_args`), a
        dtype other than float16/bfloat16/float32, block sizes that are not powers of two
        >= 16, or CPU tensors while the kernels are compiled for the GPU.

    Notes
    -----
    The cutoff mask is piecewise constant, so it contributes no gradient (nor does it in the
    reference). The squared reach of every query and the block plan are computed by a small
    torch pre-pass; the kernels never materialise an N x N tensor, except ``dbias`` when the
    bias requires a gradient.
    """
    args = check_attention_args(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
    if q.dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(
            f"the Triton kernels take float16, bfloat16 or float32 inputs, got {q.dtype}; "
            "use impl='reference' or impl='cpu' for float64"
        )
    if not q.is_cuda and not kernels_interpreted():
        raise ValueError(
            f"the Triton kernels need CUDA tensors, got tensors on {q.device} "
            "(or set TRITON_INTERPRET=1 before importing gazemodels.attention.triton_kernels)"
        )
    if token_order not in TOKEN_ORDERS:
        raise ValueError(f"token_order must be one of {TOKEN_ORDERS}, got {token_order!r}")
    default_m, default_n = _default_blocks(q.dtype)
    block_m = default_m if block_m is None else block_m
    block_n = default_n if block_n is None else block_n
    _check_blocks(block_m, block_n)
    sigma, reach2 = _prepare(args)
    pos_b, bias = args.pos, args.bias
    B, N = q.shape[0], q.shape[2]
    perm = None
    if token_order == "morton" and math.isfinite(args.cutoff) and N > min(block_m, block_n):
        perm = token_permutation(pos_b)
        q, k, v, sigma, reach2 = (_take(t, perm, 2) for t in (q, k, v, sigma, reach2))
        pos_b = _take(pos_b, perm, 1)
        if bias is not None:
            bias = bias.expand(B, *bias.shape[1:]) if bias.shape[0] != B else bias
            bias = _take(_take(bias, perm, 2), perm, 3)
    plan = BlockPlan.build(pos_b.detach(), reach2, block_m, block_n, skip=skip_blocks and math.isfinite(args.cutoff))
    out = _EccAttentionFn.apply(q, k, v, pos_b, sigma, bias, reach2, plan)
    if perm is not None:
        out = _take(out, torch.argsort(perm, dim=1), 2)
    return out
