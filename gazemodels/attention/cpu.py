"""CPU fast path of eccentricity-aware attention: native block-sparse forward, flash-style backward.

Algorithm
---------
1. Tokens of each batch element are put in Morton (Z-curve) order of their positions, so
   that a run of consecutive tokens is a compact patch of the visual field.
2. Forward, native (the default; :mod:`gazemodels.attention.cpu_kernel`, a C++ kernel
   built at first use): q, k and v are copied once into the sorted, tiled layout; for each
   tile of 16 queries, the tiles of 16 keys whose bounding box lies within the query tile's
   largest reach ``cutoff * sigma`` are visited, each read where it lies (no gather);
   per head and query tile, the scores (with ``-|p_i - p_j|^2 / (2 sigma_i^2)``, the bias,
   and ``-inf`` where ``|p_i - p_j|^2 > (cutoff sigma_i)^2``, the reference's formula),
   a two-pass softmax and ``P V`` run in AVX-512 register tiles, the (head, query tile)
   items spread over the torch threads. Memory: three sorted copies of q, k, v plus
   16 x N floats of scores per thread, kept from call to call (a fresh block would cost a
   page fault per page at every call; :func:`gazemodels.attention.cpu_kernel.release_workspace`
   frees it).
3. Forward, torch (the fallback, and the float64 path): for every query block of
   ``block_q`` tokens, the candidate keys are the tokens whose distance to the bounding box
   of one of the block's sub-blocks is at most that sub-block's largest reach
   (:func:`plan_blocks`); query blocks are sorted by their number of candidate keys and
   packed into groups of at most :data:`GROUP_BYTES`; per group, the candidate keys and
   values are gathered (padded to the longest list, padding masked), the bias is computed
   for those pairs only, and one fused ``F.scaled_dot_product_attention`` call gives the
   output. With T > 1 torch threads the groups run on T worker threads of one intra-op
   thread each. Nothing of size N x N is ever allocated in either forward.
4. Backward (a :class:`torch.autograd.Function`) recomputes each block of the plan
   (flash-attention style) with matmuls and a softmax: it saves only q, k, v, the output
   and the block plan (made only when a gradient is needed), and returns the gradients of
   q, k, v, of the per-query sigma (hence of sigma0 and slope, by autograd outside) and of
   the additive bias.

Measurements
------------
The benchmark problem (``benchmarks/bench_attention.py``): 64 x 64 grid = 4,096 tokens
over 16 deg, 8 heads, D = 64, sigma0 = 0.5 deg, slope = 0.18, cutoff 3, 80 % of the pairs
excluded; the machine: a shared 2-core Xeon (Sapphire Rapids, AVX-512), whose load from
other jobs (1 to 6) moves every number; ratios are to dense SDPA with the materialised
(1, 1, N, N) additive mask, fp32 forward.

**Native forward** (the default). Benchmark runs (each method in a fresh process, best of
5; 16,384: of 4; six runs at N = 4,096 with 2 threads, three at the other sizes, one with
1 thread) between 04:20 and 04:45 on one day, with the load average of the runs (about 1
= this process alone; above 3, two other jobs held the cores); the ratio to dense SDPA
is per run, so its range is not the ratio of the time ranges (left out: 18 s for the torch
forward in one run at N = 16,384, before :func:`plan_blocks` ran with one thread, below):

======  =======  =======  ===========  =======================  =======================  =======================
N       threads  load     dense SDPA   native forward           torch forward            compiled flex
======  =======  =======  ===========  =======================  =======================  =======================
1,024   2        0.6-3.5  24 ms        8-10 ms (0.34-0.43)      31-52 ms (1.3-2.2)       48 ms (2.0)
4,096   2        0.6-3.5  125-313 ms   42-90 ms (0.27-0.43)     133-299 ms (0.76-1.07)   408-421 ms (1.3-1.9)
16,384  2        1.3-3.5  2.40-5.42 s  0.71-1.33 s (0.25-0.30)  1.64-2.98 s (0.55-0.68)  4.97-5.14 s (0.95-1.05)
4,096   1        1.6      273 ms       89 ms (0.33)             218 ms (0.80)
16,384  1        1.4      4.71 s       1.16 s (0.25)            2.44 s (0.52)
======  =======  =======  ===========  =======================  =======================  =======================

The ratio moves with the load because the methods run one after the other, each in its
own process: dense SDPA took 125 to 313 ms at N = 4,096 with 2 threads within 25
minutes. In one process, alternating the two calls (N = 4,096, 8-10 pairs), the native
forward took 0.21-0.33 of dense SDPA's time with 2 threads (load 0.5-1.3: 42-65 ms
against 143-252 ms; load 3.3: 0.26-0.30) and 0.25-0.30 with one (81-114 ms against
289-403 ms; load 3.3: 0.27-0.31). Its peak memory at N = 16,384 is 136-138 MiB over
the inputs (dense SDPA: 1.4 GiB, the torch forward: 230-320 MiB). The kernel builds in
about 1 s (g++ 12), once per machine. Two fixes mattered on the way: keeping its buffers from call to call (a
fresh 30 MiB cost 8,000 page faults per call at N = 4,096: 61-69 ms against 51 ms; at
N = 1,024 the ratio went from 0.83 to 0.43), and planning the torch path's blocks with
one intra-op thread (at N = 16,384, 2 threads and load 2-3, :func:`plan_blocks` took
15-20 s instead of 0.3 s, every small op waiting for a descheduled thread).

Where its time goes (``perf``, one thread, N = 4,096): ``Q K^T`` and ``P V`` about a third
each, the exp 12 %, the masking 6 %, the sorted copies of q, k, v and the tile lists 9 %,
and Python around the call 4 ms. The 16-token tiles it visits hold 0.286 of the N^2 pairs
(0.262 once the tiles no query row can reach are dropped) against 0.196 kept; the inner
loops run at about 100 GFLOP/s per core. Tried and dropped: keys transposed head-wide,
(H, D, N), rather than per tile (every row of a key tile 16 KB apart: cache-set
conflicts, 1.6x slower); ``P V`` accumulated in registers over all the key tiles of four
query rows rather than tile by tile (within the noise: medians 79 against 83 ms with one
thread, 99 against 96 ms with two).

**Torch forward** (the fallback), as measured while it was developed, one torch thread, CPU
time of the calling thread, against dense SDPA (about 320 ms):

=========================================================  ===========================
candidate                                                  time, ratio to dense SDPA
=========================================================  ===========================
compiled ``flex_attention``, score_mod + block mask [1]_   1.1-1.6 (benchmark runs)
blocked, contiguous key runs in Morton order, LSE merge    261 ms, 0.82
blocked matmul + softmax on gathered keys, block_q = 64    222 ms, 0.70
same, block_q = 32                                         256 ms, 0.80
blocked SDPA per block on gathered keys, block_q = 64      245 ms, 0.77
same, block_q = 128                                        270 ms, 0.85
=========================================================  ===========================

Fused SDPA per block beat matmul + softmax in a direct A/B run (same process, alternating):
260 ms against 323 ms at N = 4,096 and 3.5 s against 5.0 s at N = 16,384, so the forward
uses it. Batching the blocks into groups, and running the groups on worker threads
rather than parallelising every small op, matters most on a busy machine, where each of the
many small OpenMP parallel regions waits for a descheduled thread: with 2 torch threads
and a load of 6-9 on the 2 cores, N = 4,096 took 8.1 s per block, 2.6 s grouped and 0.70 s
with the groups on worker threads, against 0.73 s for dense SDPA.

Two changes (and then a third: sub-block narrowing of the candidate keys, 0.33 -> 0.285 of
the pairs) later cut the kept path's CPU time by a third on the same problem (one torch
thread, alternating A/B runs on the loaded machine: 0.86 s -> 0.57 s -> 0.27 s under the
profiler, against 0.40 s for dense SDPA): (a) every temporary of a group (gathered keys and
values, distances, bias) is written into a workspace reused from group to group
(:class:`_Workspace`), because a fresh multi-megabyte tensor costs a page fault per page,
which took longer than the gather itself (about 1 GB/s against 3.4 GB/s into a reused
buffer); (b) keys, values and queries are gathered head-major, ``(H, N, D) -> (G, H, L, D)``,
so that SDPA reads contiguous rows (77 against 58 GFLOP/s for the token-major layout).

Before those changes, the time went to the attention itself (about 55 %: 33 % of the pairs are computed, the
candidate set of a 64-token block being its bounding box grown by the reach, against the
20 % kept), the gathers (about 15 %), the per-block bias (about 10 %) and sorting and
planning. The benchmark runs on this machine (load 7-9 from other jobs) measured the
kept path at 0.47, 0.74 and 0.93 times dense SDPA's wall time at N = 4,096 (0.75-0.94 of
its CPU time), and at 0.42-0.70 at N = 16,384, where it peaks at 300 MiB over its inputs
(dense SDPA: 1.5 GiB).

After the workspace, head-major gathers and sub-block narrowing (below), on the idle
machine (``benchmarks/bench_attention.py``, each method in a fresh process, best of 3-5):
with one torch thread, 232 ms against 439 ms for dense SDPA at N = 4,096 (ratio 0.53); with
two, 154-209 ms against 160-175 ms (0.96-1.19): dense SDPA gains 2.7x from the second
thread, this path 1.1-1.5x (its two workers contend for the same core resources; the two
vCPUs behave like one core's hyperthreads). At N = 16,384, 1.65 s against 2.70 s (0.61),
268 MiB over the inputs. In the same process, alternating runs give 0.66-0.74 with one
thread, because dense SDPA is then faster (330 ms): the ratio moves with the baseline.
What is left is about half SDPA on the gathered keys (about 100 GFLOP/s per core, as dense
SDPA) and half overhead, mostly the gathers (75 k key rows x 8 heads x 128 floats, 306 MB
per call at N = 4,096); removing those needs a kernel that reads the keys in place.

.. [1] Inductor's CPU flex-attention template ran ``flex_attention`` without score_mod or
   mask in 1.3 s against 0.14 s for SDPA (2 threads); with the block mask it is about as
   slow as dense SDPA; it also needs a C++ compiler at run time and 5-30 s of compilation
   per shape.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gazemodels.attention._checks import check_attention_args
from gazemodels.attention.cpu_kernel import kernel_forward, load_kernel, requested_backend

__all__ = ["BlockPlan", "ecc_attention_cpu", "morton_order", "plan_blocks"]

DEFAULT_BLOCK_Q = 64
SUB_BLOCK = 8
"""Queries per sub-block when narrowing a block's candidate keys (see :func:`plan_blocks`)."""
GROUP_BYTES = 16 * 2**20
"""Memory budget of one batched group of query blocks in the forward pass (bytes)."""


@contextlib.contextmanager
def _intra_op_threads(n: int):
    """Run the torch ops of the block with ``n`` intra-op threads, then restore the setting."""
    old = torch.get_num_threads()
    if n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != old:
            torch.set_num_threads(old)


def _spread_bits(x: Tensor) -> Tensor:
    """Insert a zero bit between the 16 low bits of ``x`` (int64)."""
    x = (x | (x << 8)) & 0x00FF00FF
    x = (x | (x << 4)) & 0x0F0F0F0F
    x = (x | (x << 2)) & 0x33333333
    x = (x | (x << 1)) & 0x55555555
    return x


def morton_order(pos: Tensor) -> Tensor:
    """Permutation that sorts 2-D positions along a Morton (Z-order) curve.

    Parameters
    ----------
    pos : Tensor
        Positions, (N, 2).

    Returns
    -------
    Tensor
        int64 permutation of length N; consecutive tokens in it are spatially close, and
        on a power-of-two grid every aligned run of 4^k tokens is a square.
    """
    lo = pos.amin(0)
    span = (pos.amax(0) - lo).max().clamp_min(1e-12)  # one scale for x and y keeps squares square
    qn = ((pos - lo) / span * 65535.0).round().long()
    code = _spread_bits(qn[:, 0]) | (_spread_bits(qn[:, 1]) << 1)
    return torch.argsort(code, stable=True)


@dataclass
class BlockPlan:
    """Query blocks and candidate keys of one batch element.

    Attributes
    ----------
    perm : Tensor
        Morton order of the tokens; query block ``i`` is ``perm[i*block_q:(i+1)*block_q]``.
    keys : list of Tensor or None
        Candidate keys of each query block, as indices into the sorted order (ascending);
        None means every key (infinite cutoff).
    block_q : int
        Queries per block.
    """

    perm: Tensor
    keys: list[Tensor] | None
    block_q: int

    @property
    def n_blocks(self) -> int:
        """Number of query blocks."""
        return -(-self.perm.shape[0] // self.block_q)

    def pair_fraction(self) -> float:
        """Fraction of the N x N pairs whose scores are computed."""
        n = self.perm.shape[0]
        if self.keys is None:
            return 1.0
        total = sum(min(self.block_q, n - i * self.block_q) * len(kk) for i, kk in enumerate(self.keys))
        return total / float(n * n)


def plan_blocks(pos: Tensor, reach: Tensor | None, block_q: int = DEFAULT_BLOCK_Q) -> BlockPlan:
    """Query blocks in Morton order and the keys each block must look at.

    Parameters
    ----------
    pos : Tensor
        Token positions of one batch element, (N, 2), degrees.
    reach : Tensor or None
        Per-token exclusion radius ``cutoff * sigma_i`` (maximum over heads), (N,); None for
        an infinite cutoff.
    block_q : int, default 64
        Queries per block.

    Returns
    -------
    BlockPlan
        A key is a candidate of a block if its distance to the bounding box of one of the
        block's sub-blocks (:data:`SUB_BLOCK` consecutive queries) is at most that
        sub-block's largest reach (with a relative slack of 1e-5, so that rounding can never
        drop a kept pair): a superset of the keys any query of the block keeps.
    """
    # Hundreds of small ops per call: with several intra-op threads each of them joins
    # threads that a busy machine deschedules (N = 16,384, 2 threads, load 2-3: 15-20 s
    # against 0.3 s with one thread).
    with _intra_op_threads(1):
        return _plan_blocks(pos, reach, block_q)


def _plan_blocks(pos: Tensor, reach: Tensor | None, block_q: int) -> BlockPlan:
    n = pos.shape[0]
    perm = morton_order(pos)
    if reach is None:
        return BlockPlan(perm, None, block_q)
    ps = pos[perm]
    rs = reach[perm]
    nq = -(-n // block_q)
    pad = nq * block_q - n
    if pad:
        ps_p = torch.cat([ps, ps[-1:].expand(pad, 2)])
        rs_p = torch.cat([rs, rs[-1:].expand(pad)])
    else:
        ps_p, rs_p = ps, rs
    blk = ps_p.view(nq, block_q, 2)
    lo, hi = blk.amin(1), blk.amax(1)
    r = rs_p.view(nq, block_q).amax(1)
    # Relative slack so that rounding in the box distance can never drop a kept key.
    r2 = r * r * (1.0 + 1e-5) + 1e-12
    keys = []
    step = max(1, (1 << 22) // max(n, 1))  # bound the (blocks x N) temporaries
    sub = min(SUB_BLOCK, block_q)
    nsub = -(-block_q // sub)
    spad = nsub * sub - block_q
    sub_p = torch.cat([blk, blk[:, -1:].expand(nq, spad, 2)], 1) if spad else blk
    sub_p = sub_p.view(nq, nsub, sub, 2)
    sub_lo, sub_hi = sub_p.amin(2), sub_p.amax(2)  # (nq, nsub, 2)
    rsub = rs_p.view(nq, block_q)
    rsub = torch.cat([rsub, rsub[:, -1:].expand(nq, spad)], 1) if spad else rsub
    rsub = rsub.view(nq, nsub, sub).amax(2)
    sub_r2 = (rsub * rsub * (1.0 + 1e-5) + 1e-12)[..., None]  # (nq, nsub, 1), the same slack
    for s in range(0, nq, step):
        lo_s, hi_s = lo[s : s + step, None, :], hi[s : s + step, None, :]
        gap = (lo_s - ps[None]).clamp_min(0) + (ps[None] - hi_s).clamp_min(0)
        d2box = gap[..., 0] * gap[..., 0] + gap[..., 1] * gap[..., 1]
        cand = d2box <= r2[s : s + step, None]
        # Narrow each block's keys with its sub-blocks of SUB_BLOCK queries (compact too, in
        # Morton order): a key stays if it is within a sub-block's largest reach of that
        # sub-block's bounding box. The box grown by the whole block's largest reach holds
        # about a sixth more pairs (benchmark problem, 64-query blocks: 0.33 -> 0.285 of the
        # N^2 pairs; testing every query, 0.27, costs more in planning than it saves).
        for i, c in enumerate(cand, start=s):
            kk = c.nonzero()[:, 0]
            pk = ps[kk][None]  # (1, L, 2)
            gap = (sub_lo[i][:, None] - pk).clamp_min(0) + (pk - sub_hi[i][:, None]).clamp_min(0)
            keys.append(kk[(gap[..., 0] * gap[..., 0] + gap[..., 1] * gap[..., 1] <= sub_r2[i]).any(0)])
    return BlockPlan(perm, keys, block_q)


def _block_bias(pq, pk, sig_q, cutoff, bias_blk):
    """Gaussian bias, exclusion mask and user bias of one block.

    Returns the additive bias (Hs, BQ, L), the squared distances (BQ, L) and the dead-row
    mask (Hb, BQ) or None.
    """
    # Same formula as the reference, so that the exclusion decisions agree bit for bit.
    dx = pq[:, 0, None] - pk[None, :, 0]
    dy = pq[:, 1, None] - pk[None, :, 1]
    d2 = dx * dx + dy * dy  # (BQ, L)
    b = d2[None] / (-2.0 * sig_q[..., None] ** 2)  # (Hs, BQ, L)
    if math.isfinite(cutoff):
        b = b.masked_fill(d2[None] > ((cutoff * sig_q) ** 2)[..., None], -math.inf)
    dead = None
    if bias_blk is not None:
        b = b + bias_blk
        dead = torch.isneginf(b).all(-1)
        if not bool(dead.any()):
            dead = None
    return b, d2, dead


class _Workspace:
    """Buffers reused across the groups of one worker (no fresh allocation, no page faults)."""

    def __init__(self):
        self._bufs: dict[str, Tensor] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: torch.dtype) -> Tensor:
        """A contiguous tensor of ``shape`` and ``dtype`` (uninitialised), backed by buffer ``name``."""
        numel = math.prod(shape)
        buf = self._bufs.get(name)
        if buf is None or buf.dtype != dtype or buf.numel() < numel:
            buf = torch.empty(numel, dtype=dtype)
            self._bufs[name] = buf
        return buf[:numel].view(shape)


class _Prepared:
    """Per-batch sorted tensors shared by forward and backward."""

    def __init__(self, q, k, v, pos, sig, bias, plan, scale):
        # q, k, v of one batch element, (H, N, D); everything is kept in the sorted order.
        self.plan = plan
        self.scale = scale
        self._qkv = (q, k, v)
        self.n, self.d = q.shape[1], k.shape[-1]
        self.pos = pos.index_select(0, plan.perm)
        self.sig = sig.index_select(1, plan.perm)  # (Hs, N)
        self.bias = None if bias is None else bias.index_select(1, plan.perm).index_select(2, plan.perm)

    @functools.cached_property
    def q(self) -> Tensor:
        """Sorted queries, token-major (N, H, D) (the backward's layout)."""
        return self._qkv[0].transpose(0, 1).index_select(0, self.plan.perm)

    @functools.cached_property
    def qs(self) -> Tensor:
        """Sorted queries scaled by 1 / sqrt(D), token-major (N, H, D)."""
        return self.q * self.scale

    @functools.cached_property
    def kv(self) -> Tensor:
        """Sorted keys and values side by side, token-major (N, H, D + Dv): one gather per block."""
        _, k, v = self._qkv
        return torch.cat([k, v], -1).transpose(0, 1).index_select(0, self.plan.perm)

    @functools.cached_property
    def head_major(self) -> tuple[Tensor, Tensor, Tensor]:
        """Sorted keys, values and scaled queries, contiguous head-major (H, N, D) (the forward's)."""
        q, k, v = self._qkv
        perm = self.plan.perm
        return k.index_select(1, perm), v.index_select(1, perm), q.index_select(1, perm).mul_(self.scale)

    def block(self, i):
        bq = self.plan.block_q
        i0, i1 = i * bq, min(self.n, (i + 1) * bq)
        kidx = None if self.plan.keys is None else self.plan.keys[i]
        return i0, i1, kidx

    def gather(self, t, kidx):
        return t if kidx is None else t.index_select(0, kidx)

    def _bias(self, i0, i1, kidx, cutoff):
        pk = self.gather(self.pos, kidx)
        bias_blk = None
        if self.bias is not None:
            bias_blk = self.bias[:, i0:i1]
            if kidx is not None:
                bias_blk = bias_blk.index_select(2, kidx)
        return _block_bias(self.pos[i0:i1], pk, self.sig[:, i0:i1], cutoff, bias_blk)

    def _keys_values(self, kidx):
        kvb = self.gather(self.kv, kidx)
        return kvb[..., : self.d], kvb[..., self.d :]

    def groups(self, budget: int | None = None) -> list[list[int]]:
        """Query blocks batched together in the forward pass.

        Blocks are sorted by their number of candidate keys and packed while the gathered
        keys and values and the bias of the group stay under ``budget`` bytes, so that a few
        large SDPA calls replace many small ones (less padding than packing in block order).
        """
        budget = GROUP_BYTES if budget is None else budget
        nq = self.plan.n_blocks
        lengths = [self.n] * nq if self.plan.keys is None else [len(kk) for kk in self.plan.keys]
        order = sorted(range(nq), key=lambda i: -lengths[i])
        _, k, v = self._qkv
        row_bytes = k.shape[0] * (k.shape[2] + v.shape[2]) * k.element_size()
        row_bytes += self.plan.block_q * self.sig.shape[0] * k.element_size()
        groups, cur = [], []
        for i in order:
            lmax = lengths[cur[0]] if cur else lengths[i]
            if cur and (len(cur) + 1) * lmax * row_bytes > budget:
                groups.append(cur)
                cur = []
            cur.append(i)
        if cur:
            groups.append(cur)
        return groups

    def attend(self, blocks: list[int], cutoff: float, ws: "_Workspace | None" = None) -> tuple[Tensor, Tensor]:
        """Outputs of a group of query blocks: one fused SDPA call over their candidate keys.

        Every temporary (gathered keys and values, squared distances, bias) is written into
        ``ws``, a workspace reused from group to group: allocating them afresh costs a page
        fault per page, which took longer than the gathers themselves.

        Returns the sorted row indices (G * BQ,) and the output rows (G * BQ, H, Dv); the
        last block, if short, is padded with copies of its last query (same output).
        """
        ws = _Workspace() if ws is None else ws
        n, bq = self.n, self.plan.block_q
        G = len(blocks)
        kh, vh, qh = self.head_major
        dt, dev = kh.dtype, kh.device
        ar = torch.arange(bq, device=dev)
        rows = torch.stack([(i * bq + ar).clamp_max(n - 1) for i in blocks])  # (G, BQ)
        if self.plan.keys is None:
            kidx = torch.arange(n, device=dev).expand(G, n)
            kvalid = None
        else:
            keys = [self.plan.keys[i] for i in blocks]
            kidx = torch.nn.utils.rnn.pad_sequence(keys, batch_first=True)  # (G, Lmax), 0-padded
            lengths = torch.tensor([len(kk) for kk in keys], device=kidx.device)
            kvalid = torch.arange(kidx.shape[1], device=kidx.device)[None] < lengths[:, None]
            if bool(kvalid.all()):
                kvalid = None
        L = kidx.shape[1]
        rf, kf = rows.reshape(-1), kidx.reshape(-1)
        pq = self.pos.index_select(0, rf).view(G, bq, 2)
        pk = self.pos.index_select(0, kf).view(G, L, 2)
        # Same formula as the reference (dx * dx + dy * dy, then the comparison with
        # (cutoff * sigma)^2), so that the exclusion decisions agree bit for bit.
        d2 = torch.sub(pq[:, :, None, 0], pk[:, None, :, 0], out=ws.get("d2", (G, bq, L), pk.dtype))
        dy = torch.sub(pq[:, :, None, 1], pk[:, None, :, 1], out=ws.get("dy", (G, bq, L), pk.dtype))
        d2.mul_(d2)
        d2.add_(dy.mul_(dy))
        sq = self.sig.index_select(1, rf).view(-1, G, bq).transpose(0, 1)[..., None]  # (G, Hs, BQ, 1)
        hs = sq.shape[1]
        b = torch.mul(d2[:, None], (-0.5 / sq**2).to(dt), out=ws.get("bias", (G, hs, bq, L), dt))
        if math.isfinite(cutoff):
            b.masked_fill_(torch.gt(d2[:, None], (cutoff * sq) ** 2, out=ws.get("excl", (G, hs, bq, L), torch.bool)),
                           -math.inf)
        if kvalid is not None:
            b.masked_fill_(~kvalid[:, None, None, :], -math.inf)
        dead = None
        if self.bias is not None:
            hb = self.bias.shape[0]
            ub = self.bias.index_select(1, rf).view(hb, G, bq, n)
            ub = torch.gather(ub, 3, kidx[None, :, None, :].expand(hb, G, bq, L)).transpose(0, 1)
            b = b + ub
            dead = torch.isneginf(b).all(-1, keepdim=True)
            if bool(dead.any()):
                b = b.masked_fill(dead, 0.0)
            else:
                dead = None
        # Head-major gathers: (H, G * L, D) -> (G, H, L, D) views whose rows are contiguous,
        # which SDPA reads faster than the token-major (L, H, D) layout.
        H = kh.shape[0]
        kb = torch.index_select(kh, 1, kf, out=ws.get("k", (H, G * L, kh.shape[2]), dt))
        vb = torch.index_select(vh, 1, kf, out=ws.get("v", (H, G * L, vh.shape[2]), dt))
        qb = torch.index_select(qh, 1, rf, out=ws.get("q", (H, G * bq, qh.shape[2]), dt))
        o = F.scaled_dot_product_attention(
            qb.view(H, G, bq, -1).transpose(0, 1),
            kb.view(H, G, L, -1).transpose(0, 1),
            vb.view(H, G, L, -1).transpose(0, 1),
            attn_mask=b,
            scale=1.0,  # the queries are pre-scaled by 1 / sqrt(D)
        )  # (G, H, BQ, Dv)
        if dead is not None:
            o = o.masked_fill(dead, 0.0)
        return rf, o.transpose(1, 2).reshape(G * bq, *o.shape[1:2], o.shape[-1])

    def scores(self, i0, i1, kidx, cutoff):
        """Probabilities of one query block over its candidate keys.

        Returns ``p`` (H, BQ, L), the squared distances (BQ, L), the gathered keys and
        values (L, H, D) and (L, H, Dv) and the queries (H, BQ, D).
        """
        b, d2, dead = self._bias(i0, i1, kidx, cutoff)
        kb, vb = self._keys_values(kidx)
        s = torch.bmm(self.qs[i0:i1].transpose(0, 1), kb.permute(1, 2, 0))  # (H, BQ, L)
        s.add_(b)  # b broadcasts over heads
        if dead is not None:
            s.masked_fill_(dead[..., None], 0.0)
        p = torch.softmax(s, -1)
        if dead is not None:
            p.masked_fill_(dead[..., None], 0.0)
        return p, d2, kb, vb, self.q[i0:i1].transpose(0, 1)


def _one_thread():
    torch.set_num_threads(1)


def _map_groups(prep: _Prepared, cutoff: float):
    """Outputs of every group of query blocks, the groups spread over the intra-op threads.

    With T > 1 torch threads, T worker threads each run whole groups with one intra-op
    thread (torch releases the GIL inside its ops), instead of every small op of every group
    forking and joining T OpenMP threads: on a busy machine each join waits for a
    descheduled thread, which made the per-op parallel version many times slower. Each
    worker reuses one :class:`_Workspace` for all its groups.
    """
    groups = prep.groups()
    n_threads = torch.get_num_threads()
    if n_threads <= 1 or len(groups) <= 1:
        ws = _Workspace()
        return [prep.attend(g, cutoff, ws) for g in groups]
    local = threading.local()

    def run(g):
        if not hasattr(local, "ws"):
            local.ws = _Workspace()
        return prep.attend(g, cutoff, local.ws)

    with _intra_op_threads(1), ThreadPoolExecutor(min(n_threads, len(groups)), initializer=_one_thread) as pool:
        return list(pool.map(run, groups))


class _EccAttentionCPU(torch.autograd.Function):
    """Blocked eccentricity-aware attention with a recomputing backward."""

    @staticmethod
    def forward(ctx, q, k, v, sig, bias, pos, plans, cutoff, native=False):
        # q, k, v: (B, H, N, D) in the compute dtype; sig: (B, Hs, N); bias: (Bb, Hb, N, N) or None.
        # plans: one BlockPlan per batch element, or None when only the native forward runs.
        B, H, N, D = q.shape
        scale = 1.0 / math.sqrt(D)
        out = torch.empty(B, H, N, v.shape[-1], dtype=q.dtype, device=q.device)
        for b in range(B):
            bias_b = None if bias is None else bias[min(b, bias.shape[0] - 1)]
            if native:
                perm = morton_order(pos[b]) if plans is None else plans[b].perm
                kernel_forward(q[b], k[b], v[b], pos[b], sig[b].detach(), cutoff, bias_b, perm, out=out[b])
                continue
            prep = _Prepared(q[b], k[b], v[b], pos[b], sig[b], bias_b, plans[b], scale)
            out_s = torch.empty(N, H, v.shape[-1], dtype=q.dtype, device=q.device)
            for rows, o in _map_groups(prep, cutoff):
                out_s.index_copy_(0, rows, o)
            out[b].transpose(0, 1).index_copy_(0, prep.plan.perm, out_s)
        ctx.save_for_backward(q, k, v, sig, bias, pos, out)
        ctx.plans = plans
        ctx.cutoff = cutoff
        return out

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, sig, bias, pos, out = ctx.saved_tensors
        plans, cutoff = ctx.plans, ctx.cutoff
        B, H, N, D = q.shape
        scale = 1.0 / math.sqrt(D)
        need_q, need_k, need_v, need_sig, need_bias = ctx.needs_input_grad[:5]
        dq = torch.zeros_like(q) if need_q else None
        dk = torch.zeros_like(k) if need_k else None
        dv = torch.zeros_like(v) if need_v else None
        dsig = torch.zeros_like(sig) if need_sig else None
        dbias = torch.zeros_like(bias) if (need_bias and bias is not None) else None
        grad_out = grad_out.to(q.dtype)
        for b in range(B):
            bb = None if bias is None else min(b, bias.shape[0] - 1)
            prep = _Prepared(q[b], k[b], v[b], pos[b], sig[b], None if bias is None else bias[bb], plans[b], scale)
            perm = prep.plan.perm
            go = grad_out[b].transpose(0, 1).index_select(0, perm)  # (N, H, Dv)
            o = out[b].transpose(0, 1).index_select(0, perm)
            delta = (go * o).sum(-1).transpose(0, 1)  # (H, N)
            dq_s = torch.zeros_like(prep.q)
            dk_s = torch.zeros(N, H, D, dtype=q.dtype, device=q.device)
            dv_s = torch.zeros(N, H, v.shape[-1], dtype=q.dtype, device=q.device)
            dsig_s = torch.zeros_like(prep.sig) if need_sig else None
            for i in range(prep.plan.n_blocks):
                i0, i1, kidx = prep.block(i)
                p, d2, kb, vb, qb = prep.scores(i0, i1, kidx, cutoff)
                gob = go[i0:i1].transpose(0, 1)  # (H, BQ, Dv)
                dp = torch.bmm(gob, vb.permute(1, 2, 0))  # (H, BQ, L)
                ds = p * (dp - delta[:, i0:i1, None])
                dq_s[i0:i1] += torch.bmm(ds, kb.transpose(0, 1)).transpose(0, 1) * scale
                dkb = torch.bmm(ds.transpose(1, 2), qb).transpose(0, 1) * scale  # (L, H, D)
                dvb = torch.bmm(p.transpose(1, 2), gob).transpose(0, 1)
                if kidx is None:
                    dk_s += dkb
                    dv_s += dvb
                else:
                    dk_s.index_add_(0, kidx, dkb)
                    dv_s.index_add_(0, kidx, dvb)
                if dsig_s is not None:
                    # d/dsigma of -d2 / (2 sigma^2) is d2 / sigma^3 (excluded pairs have ds = 0).
                    g = (ds * d2[None]).sum(-1)
                    if dsig_s.shape[0] == 1:
                        g = g.sum(0, keepdim=True)
                    dsig_s[:, i0:i1] += g / prep.sig[:, i0:i1] ** 3
                if dbias is not None:
                    qtok = perm[i0:i1]
                    ktok = perm if kidx is None else perm.index_select(0, kidx)
                    gb = ds if dbias.shape[1] == H else ds.sum(0, keepdim=True)
                    dbias[bb][:, qtok[:, None], ktok[None, :]] += gb
            inv = perm  # sorted position s holds token perm[s]
            if dq is not None:
                dq[b].transpose(0, 1).index_copy_(0, inv, dq_s)
            if dk is not None:
                dk[b].transpose(0, 1).index_copy_(0, inv, dk_s)
            if dv is not None:
                dv[b].transpose(0, 1).index_copy_(0, inv, dv_s)
            if dsig is not None:
                dsig[b].index_copy_(1, inv, dsig_s)
        return dq, dk, dv, dsig, dbias, None, None, None, None


def ecc_attention_cpu(
    q, k, v, pos, fixation, sigma0, slope, cutoff=3.0, bias=None, *, block_q: int = DEFAULT_BLOCK_Q,
    backend: str = "auto",
) -> Tensor:
    """Eccentricity-aware attention without materialising N x N: the CPU fast path.

    Parameters
    ----------
    q, k : Tensor
        Queries and keys, (B, H, N, D).
    v : Tensor
        Values, (B, H, N, Dv).
    pos : Tensor
        Token positions in degrees, (N, 2) or (B, N, 2). Treated as constants: no gradient
        flows to ``pos`` or ``fixation`` through this path.
    fixation : Tensor
        Fixation of each batch element in degrees, (B, 2).
    sigma0 : float or Tensor
        Foveal Gaussian width in degrees, scalar or (H,), > 0; gradients flow to it.
    slope : float or Tensor
        Width growth per degree of eccentricity, scalar or (H,), >= 0; gradients flow to it.
    cutoff : float, default 3.0
        Keys with ``|p_i - p_j| > cutoff * sigma_i`` are excluded and, block-wise, skipped.
    bias : Tensor, optional
        Additive score bias, (B or 1, H or 1, N, N); ``-inf`` masks a pair. (Dense by
        nature: meant for object tokens, whose number is small.)
    block_q : int, default 64
        Queries per block (torch forward and the backward).
    backend : {"auto", "native", "torch"}, default "auto"
        Forward implementation: the compiled kernel of :mod:`gazemodels.attention.cpu_kernel`
        (``"native"``; float32, which half-precision inputs are computed in; float64 always
        takes the torch path) or the blocked torch implementation (``"torch"``). ``"auto"``
        reads ``GAZEMODELS_CPU_KERNEL`` (``auto``, ``native`` or ``torch``), and by default
        takes the kernel when it builds, else warns once and takes torch. The backward is
        the torch recomputation in every case.

    Returns
    -------
    Tensor
        (B, H, N, Dv), dtype of ``q``; agrees with
        :func:`gazemodels.attention.reference.ecc_attention_reference`. A row whose every
        key is masked (only possible through ``-inf`` in ``bias``) returns zeros.

    Raises
    ------
    ValueError
        On bad arguments (see :func:`gazemodels.attention._checks.check_attention_args`),
        ``block_q < 1`` or an unknown ``backend``.
    RuntimeError
        If the native kernel is requested explicitly and cannot be built.
    """
    args = check_attention_args(q, k, v, pos, fixation, sigma0, slope, cutoff, bias)
    if not isinstance(block_q, int) or block_q < 1:
        raise ValueError(f"block_q must be a positive int, got {block_q!r}")
    gdt = args.geometry_dtype
    pos_c = args.pos.detach()
    fix_c = args.fixation.detach()
    # Receptive-field size grows linearly with eccentricity (Freeman & Simoncelli 2011;
    # eccNET's eccentricity-dependent pooling, Gupta et al. 2021).
    ecc = torch.linalg.vector_norm(pos_c - fix_c[:, None, :], dim=-1)  # (B, N)
    s0d, sld = args.sigma0.detach(), args.slope.detach()
    # Heads with equal widths share one (B, 1, N) sigma, unless the per-head widths need
    # their own gradients (equal learnable widths, as at initialisation, still differ in
    # dL/dsigma0_h; sharing would hand the sum of them all to head 0).
    sigma_grad = torch.is_grad_enabled() and (args.sigma0.requires_grad or args.slope.requires_grad)
    heads_share = not sigma_grad and bool((s0d == s0d[0]).all() and (sld == sld[0]).all())
    if heads_share:
        sig = args.sigma0[:1, None] + args.slope[:1, None] * ecc[:, None, :]  # (B, 1, N)
    else:
        sig = args.sigma0[None, :, None] + args.slope[None, :, None] * ecc[:, None, :]  # (B, H, N)
    finite = math.isfinite(args.cutoff)
    qc, kc, vc = (t.to(gdt) for t in (args.q, args.k, args.v))
    bias_c = None if args.bias is None else args.bias.to(gdt)
    native = _use_native(backend, gdt)
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (qc, kc, vc, sig, bias_c))
    plans = None
    if needs_grad or not native:  # the native forward plans for itself; the backward needs plans
        plans = []
        shared_pos = pos.dim() == 2 or pos.shape[0] == 1
        reach = args.cutoff * sig.detach().amax(1) if finite else None  # (B, N)
        for b in range(q.shape[0]):
            if not finite and shared_pos and plans:
                plans.append(plans[0])
                continue
            plans.append(plan_blocks(pos_c[b], None if reach is None else reach[b], block_q))
    out = _EccAttentionCPU.apply(qc, kc, vc, sig, bias_c, pos_c, plans, args.cutoff, native)
    return out.to(q.dtype)


def _use_native(backend: str, dtype: torch.dtype) -> bool:
    """Whether the forward runs the native kernel (see ``backend`` of :func:`ecc_attention_cpu`)."""
    which = requested_backend(backend)
    if which == "torch" or dtype != torch.float32:
        return False
    return load_kernel(required=which == "native") is not None
