#!/usr/bin/env python
"""Where the Triton attention's time goes on a GPU, and which launch settings suit it.

Needs a CUDA GPU. The problem is ``bench_attention.py``'s (a square grid over 16 x 16 deg,
fixation at the centre, sigma0 0.5 deg, slope 0.18, cutoff 3, 8 heads, D = 64).

1. **Host-side stages** of one ``ecc_attention_triton`` call, each timed with a
   synchronisation around it: the argument checks, sigma and reach, the Morton sort and the
   gathers, the block plan, the forward kernel alone, and the whole call.
2. **A sweep of launch settings** for the kernels alone (the plan built once): the block
   sizes, ``num_warps``, ``num_stages`` and, for float32, the dot precision (``ieee``, exact,
   the library's choice; ``tf32``, the tensor cores' float32 mode, about 3e-4 relative error).
   Forward and backward (the three backward kernels) timed separately, median of
   ``triton.testing.do_bench``.

Usage::

    python benchmarks/tune_triton_kernels.py [--n 4096] [--batch 4] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402

from bench_attention import CUTOFF, SIGMA0, SLOPE, inputs  # noqa: E402


BLOCKS = ((64, 64), (32, 64), (64, 32), (32, 32))
WARPS = (4, 8)
STAGES = (1, 2)


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _bench(fn):
    """Median milliseconds: ``triton.testing.do_bench`` on a GPU; a plain timer in the dry run."""
    if torch.cuda.is_available():
        from triton.testing import do_bench

        return do_bench(fn, return_mode="median")
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def host_stages(tk, q, k, v, pos, fix, reps=50):
    """Milliseconds of each stage of one call, synchronised around each (median of ``reps``)."""
    from gazemodels.attention._checks import check_attention_args

    def timed(fn):
        out = fn()
        times = []
        for _ in range(reps):
            _sync()
            t0 = time.perf_counter()
            out = fn()
            _sync()
            times.append(time.perf_counter() - t0)
        return sorted(times)[reps // 2] * 1e3, out

    rows = {}
    rows["check_args"], args = timed(lambda: check_attention_args(q, k, v, pos, fix, SIGMA0, SLOPE, CUTOFF))
    rows["sigma_reach"], (sigma, reach2) = timed(lambda: tk._prepare(args))
    rows["morton_sort"], perm = timed(lambda: tk.token_permutation(args.pos))
    rows["gathers"], (qs, ks, vs, ss, rs, ps) = timed(
        lambda: tuple(tk._take(t, perm, 2) for t in (q, k, v, sigma, reach2)) + (tk._take(args.pos, perm, 1),))
    rows["block_plan"], plan = timed(lambda: tk.BlockPlan.build(ps, rs, 64, 64))
    rows["fwd_kernel"], _ = timed(lambda: tk._forward(qs, ks, vs, ps, ss, rs, None, plan))
    rows["whole_call"], _ = timed(lambda: tk.ecc_attention_triton(q, k, v, pos, fix, SIGMA0, SLOPE, CUTOFF))
    rows["whole_call_given_order"], _ = timed(
        lambda: tk.ecc_attention_triton(q, k, v, pos, fix, SIGMA0, SLOPE, CUTOFF, token_order="given"))
    rows["visited_fraction"] = plan.visited_fraction
    return rows


def sweep(tk, q32, k32, v32, pos, fix, dtypes):
    from gazemodels.attention._checks import check_attention_args

    rows = []
    for dname in dtypes:
        dtype = getattr(torch, dname)
        q, k, v = (t.to(dtype) for t in (q32, k32, v32))
        args = check_attention_args(q, k, v, pos, fix, SIGMA0, SLOPE, CUTOFF)
        sigma, reach2 = tk._prepare(args)
        perm = tk.token_permutation(args.pos)
        qs, ks, vs, ss, rs = (tk._take(t, perm, 2) for t in (q, k, v, sigma, reach2))
        ps = tk._take(args.pos, perm, 1)
        dout = torch.randn_like(vs)
        precisions = ("ieee", "tf32") if dtype == torch.float32 else ("default",)
        for (bm, bn), warps, stages, prec in itertools.product(
            BLOCKS, WARPS, STAGES, precisions
        ):
            plan = tk.BlockPlan.build(ps, rs, bm, bn)
            tk._num_warps = lambda block_d, w=warps: w
            tk._NUM_STAGES_FWD = tk._NUM_STAGES_BWD = stages
            if prec != "default":
                tk._dot_precision = lambda dt, p=prec: p
            row = dict(dtype=dname, block_m=bm, block_n=bn, warps=warps, stages=stages, precision=prec)
            try:
                out, lse = tk._forward(qs, ks, vs, ps, ss, rs, None, plan)
                row["fwd_ms"] = _bench(lambda: tk._forward(qs, ks, vs, ps, ss, rs, None, plan))
                row["bwd_ms"] = _bench(lambda: tk._backward(dout, qs, ks, vs, out, lse, ps, ss, rs, None, plan, False, False))
            except Exception as exc:  # noqa: BLE001 (out of shared memory, etc.: reported, not fatal)
                row["error"] = f"{type(exc).__name__}: {str(exc)[:80]}"
            rows.append(row)
            fw, bw = row.get("fwd_ms", math.nan), row.get("bwd_ms", math.nan)
            print(f"{dname:<9} {bm:>4} {bn:>4} {warps:>5} {stages:>6} {prec:<8} {fw:9.3f} {bw:9.3f} "
                  f"{row.get('error', '')}", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    ap.add_argument("--json")
    ap.add_argument("--dry-run", action="store_true",
                    help="no GPU: run the script's logic in Triton's interpreter (TRITON_INTERPRET=1), tiny sweep")
    args = ap.parse_args(argv)
    global BLOCKS, WARPS, STAGES
    if args.dry_run:
        BLOCKS, WARPS, STAGES = ((32, 32),), (4,), (1,)
    elif not torch.cuda.is_available():
        raise SystemExit("needs a CUDA GPU (or --dry-run with TRITON_INTERPRET=1)")
    from gazemodels.attention import triton_kernels as tk

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    q, k, v, pos, fix = inputs(args.n, args.batch, dev)
    name = torch.cuda.get_device_name() if dev == "cuda" else "none (interpreter dry run)"
    print(f"GPU {name}, torch {torch.__version__}, N={args.n}, batch {args.batch}, 8 heads, D=64")
    print("\nhost-side stages of one call (ms, synchronised; fp32 and bf16 inputs)")
    stages = {}
    for dname in args.dtypes:
        dt = getattr(torch, dname)
        stages[dname] = host_stages(tk, q.to(dt), k.to(dt), v.to(dt), pos, fix, reps=2 if args.dry_run else 50)
        print(dname, {n: round(x, 3) for n, x in stages[dname].items()})
    print(f"\n{'dtype':<9} {'bm':>4} {'bn':>4} {'warps':>5} {'stages':>6} {'prec':<8} {'fwd ms':>9} {'bwd ms':>9}")
    rows = sweep(tk, q, k, v, pos, fix, args.dtypes)
    if args.json:
        Path(args.json).write_text(json.dumps({"device": name, "n": args.n,
                                               "batch": args.batch, "stages": stages, "sweep": rows}, indent=1))
    print("\nbest per dtype and precision (by fwd + bwd):")
    for key, grp in itertools.groupby(sorted(rows, key=lambda r: (r["dtype"], r["precision"])),
                                      key=lambda r: (r["dtype"], r["precision"])):
        ok = [r for r in grp if "fwd_ms" in r]
        best = min(ok, key=lambda r: r["fwd_ms"] + r["bwd_ms"])
        print(key, {n: best[n] for n in ("block_m", "block_n", "warps", "stages", "fwd_ms", "bwd_ms")})


if __name__ == "__main__":
    main()
