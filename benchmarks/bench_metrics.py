#!/usr/bin/env python
"""Benchmark of the scanpath-similarity metrics on every within-image pair of MIT1003.

MIT1003 (Judd et al. 2009): 15 observers x 1003 images, so 105 pairs of observers per
image and 105,315 pairs in all (33 observer-image scanpaths hold no fixation; their
pairs are NaN with a reason). For each metric the script times gazemodels' batch
implementation on all pairs and a per-pair reference loop on the same machine in
the same run, and prints pairs per second, their ratio and the largest absolute
difference between the two:

* MultiMatch: ``multimatch_gaze.docomparison`` (0.1.3) in a loop;
* ScanMatch (toolbox defaults: 12 x 8 grid, threshold 3.5, gap 0) and the sequence
  score (Yang et al. 2020, mean-shift cluster strings): a straightforward per-pair
  Python implementation written below (``loop_scanmatch``, ``loop_sequence_score``).

A reference loop too slow for all pairs runs on a random sample (``--ref-sample``,
default 2,000 pairs) and the table says so; ``--ref-sample 0`` runs all pairs.

Usage::

    .venv/bin/python benchmarks/bench_metrics.py [--data ../shared/data] [--ref-sample 2000]
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gazemodels.metrics.scanpath import (  # noqa: E402
    MULTIMATCH_DIMENSIONS,
    multimatch_batch,
    pairwise,
    scanmatch_batch,
    scanmatch_sequence,
    scanmatch_substitution_matrix,
    sequence_score_batch,
)
from gazemodels.metrics.scanpath.sequence import _cluster_codes  # noqa: E402

SCREEN = (1280, 1024)  # MIT1003 display (Judd et al. 2009), px


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def load_mit1003(data: Path) -> tuple[list[np.ndarray], pd.DataFrame, pd.DataFrame, str]:
    """All 15,045 observer-image scanpaths of MIT1003 as ``(n, 3)`` [x, y, duration ms].

    Returns ``(scanpaths, keys, fixation table, source)``; scanpaths without any valid
    fixation (only NaN rows in the release) are kept as empty arrays.
    """
    root = data / "mit1003-fixations"
    fx, empty, source = None, None, ""
    try:
        from gazemodels import datasets

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = datasets.load("mit1003", root=root)
        fx = ds.fixations
        empty = ds.extras.get("nan_rows") if ds.extras else None
        source = "gazemodels.datasets.load('mit1003')"
    except Exception as exc:  # no loader: read the release file
        source = f"raw CSV ({type(exc).__name__} from the loader)"
    if fx is None:
        raw = pd.read_csv(root / "Fixation_MIT1003.csv.gz")
        empty = raw[raw["Fixation_Position_X_px"].isna()].rename(
            columns={"Stimulus": "stimulus", "Participant": "subject"})
        raw = raw.dropna(subset=["Fixation_Position_X_px"])
        fx = pd.DataFrame({
            "stimulus": raw["Stimulus"], "subject": raw["Participant"], "trial": 0,
            "x": raw["Fixation_Position_X_px"], "y": raw["Fixation_Position_Y_px"],
            "t_start": raw["Event_Start_Trial_Time_ms"] * 1000.0, "duration": raw["Duration"] * 1000.0,
        }).sort_values(["stimulus", "subject", "t_start"], kind="stable")
        fx["fix_index"] = fx.groupby(["stimulus", "subject"]).cumcount()
    fx = fx.sort_values(["stimulus", "subject", "trial", "fix_index"], kind="stable")
    groups = {k: g[["x", "y", "duration"]].to_numpy(float)
              for k, g in fx.groupby(["stimulus", "subject"], sort=False)}
    keys = set(groups)
    if empty is not None and len(empty):
        keys |= set(zip(empty["stimulus"], empty["subject"]))
    keys = sorted(keys)
    scanpaths = [groups.get(k, np.empty((0, 3))) for k in keys]
    return scanpaths, pd.DataFrame(keys, columns=["stimulus", "subject"]), fx, source


def within_image_pairs(keys: pd.DataFrame) -> np.ndarray:
    codes = keys.groupby("stimulus", sort=False).ngroup().to_numpy()
    out = []
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    for s, e in zip(starts, ends):
        i, j = np.triu_indices(e - s, 1)
        out.append(np.column_stack([s + i, s + j]))
    return np.concatenate(out)


# ---------------------------------------------------------------------------
# straightforward per-pair baselines
# ---------------------------------------------------------------------------


def loop_scanmatch(a: np.ndarray, b: np.ndarray, screen, grid=(12, 8), threshold=3.5, gap=0.0) -> float:
    """ScanMatch of one pair, the plain way: bin, then Needleman-Wunsch cell by cell."""
    sub = scanmatch_substitution_matrix(grid, threshold)
    sa = scanmatch_sequence(a, screen, grid) if len(a) else []
    sb = scanmatch_sequence(b, screen, grid) if len(b) else []
    if len(sa) == 0 or len(sb) == 0:
        return math.nan
    n, m = len(sa), len(sb)
    F = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        F[i][0] = gap * i
    for j in range(m + 1):
        F[0][j] = gap * j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            F[i][j] = max(F[i - 1][j - 1] + sub[sa[i - 1], sb[j - 1]], F[i - 1][j] + gap, F[i][j - 1] + gap)
    return F[n][m] / (sub.max() * max(n, m))


def loop_sequence_score(a, b) -> float:
    """Sequence score of two label strings as Yang et al.'s ``nw_matching`` computes it."""
    if len(a) == 0 or len(b) == 0:
        return math.nan
    F = np.zeros((len(a) + 1, len(b) + 1), dtype=np.float32)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            match = F[i - 1, j - 1] + (1.0 if a[i - 1] == b[j - 1] else 0.0)
            F[i, j] = max(match, F[i - 1, j], F[i, j - 1])
    return float(F[len(a), len(b)]) / max(len(a), len(b))


def multimatch_reference(scanpaths, pairs, screen):
    from multimatch_gaze import docomparison

    def rec(s):
        return np.rec.fromarrays([s[:, 0], s[:, 1], s[:, 2]], names="start_x,start_y,duration")

    recs = [rec(s) for s in scanpaths]  # conversion not timed
    out = np.empty((len(pairs), 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for k, (a, b) in enumerate(pairs):
            out[k] = docomparison(recs[a], recs[b], list(screen))
        dt = time.perf_counter() - t0
    return out, dt


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def timed(fn, repeat: int):
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return result, best


def max_diff(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Largest |a - b| per column over pairs where both are defined; NaN-pattern mismatches."""
    a, b = np.atleast_2d(a.T).T, np.atleast_2d(b.T).T
    both = ~np.isnan(a) & ~np.isnan(b)
    d = np.where(both, np.abs(a - b), 0.0).max(axis=0)
    return d, int((np.isnan(a) != np.isnan(b)).sum())


def row(metric, impl, n, seconds, note=""):
    rate = n / seconds if seconds > 0 else math.inf
    return {"metric": metric, "implementation": impl, "pairs": n, "seconds": seconds, "pairs/s": rate,
            "note": note}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                   help="folder of the real data (default: ../shared/data)")
    p.add_argument("--ref-sample", type=int, default=2000,
                   help="pairs for the per-pair reference loops (>= 2000 unless 0 = all pairs)")
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions of the batch runs (best kept)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not (args.data / "mit1003-fixations").is_dir():
        print(f"MIT1003 fixations not found under {args.data}", file=sys.stderr)
        return 2
    if 0 < args.ref_sample < 2000:
        print("--ref-sample must be >= 2000 (or 0 for all pairs)", file=sys.stderr)
        return 2

    scanpaths, keys, fx, source = load_mit1003(args.data)
    pairs = within_image_pairs(keys)
    n_img = keys["stimulus"].nunique()
    print(f"MIT1003 from {source}: {len(scanpaths):,} scanpaths ({sum(len(s) == 0 for s in scanpaths)} empty), "
          f"{n_img:,} images, {len(pairs):,} within-image pairs; screen {SCREEN[0]}x{SCREEN[1]} px")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{platform.processor() or 'cpu'}")
    rng = np.random.default_rng(args.seed)
    if args.ref_sample and args.ref_sample < len(pairs):
        sample = np.sort(rng.choice(len(pairs), args.ref_sample, replace=False))
        sample_note = f"random sample of {len(sample):,} of {len(pairs):,} pairs (seed {args.seed})"
    else:
        sample = np.arange(len(pairs))
        sample_note = "all pairs"
    rows, diffs = [], []

    # --- MultiMatch ------------------------------------------------------
    (mm, reasons), t_mm = timed(lambda: multimatch_batch(scanpaths, pairs, SCREEN), args.repeat)
    rows.append(row("MultiMatch", "gazemodels multimatch_batch", len(pairs), t_mm))
    out, t_pw = timed(lambda: pairwise(fx, "multimatch", screen_size=SCREEN), 1)
    rows.append(row("MultiMatch", "gazemodels pairwise(table)", len(out), t_pw,
                    "end to end from the fixation table (non-empty scanpaths only)"))
    ref, t_ref = multimatch_reference(scanpaths, pairs[sample], SCREEN)
    rows.append(row("MultiMatch", "multimatch_gaze.docomparison loop", len(sample), t_ref, sample_note))
    d, nan_mismatch = max_diff(mm[sample], ref)
    diffs.append(("MultiMatch", dict(zip(MULTIMATCH_DIMENSIONS, d)), nan_mismatch,
                  int(np.isnan(ref).all(1).sum())))
    ratio_mm = (len(pairs) / t_mm) / (len(sample) / t_ref)

    # --- ScanMatch -------------------------------------------------------
    (sm, _), t_sm = timed(lambda: scanmatch_batch(scanpaths, pairs, SCREEN), args.repeat)
    rows.append(row("ScanMatch", "gazemodels scanmatch_batch", len(pairs), t_sm, "12x8 grid, threshold 3.5, gap 0"))
    t0 = time.perf_counter()
    sm_ref = np.array([loop_scanmatch(scanpaths[a], scanpaths[b], SCREEN) for a, b in pairs[sample]])
    t_smr = time.perf_counter() - t0
    rows.append(row("ScanMatch", "per-pair Python loop (this file)", len(sample), t_smr, sample_note))
    d, nm = max_diff(sm[sample, 0], sm_ref)
    diffs.append(("ScanMatch", {"score": d[0]}, nm, int(np.isnan(sm_ref).sum())))
    ratio_sm = (len(pairs) / t_sm) / (len(sample) / t_smr)

    # --- sequence score --------------------------------------------------
    groups = keys["stimulus"].to_numpy()
    (ss, _), t_ss = timed(lambda: sequence_score_batch(scanpaths, pairs, groups=groups), 1)
    rows.append(row("Sequence score", "gazemodels sequence_score_batch", len(pairs), t_ss,
                    "mean-shift clusters per image (bandwidth selection) + scoring"))
    t0 = time.perf_counter()
    labels = _cluster_codes([s[:, :2] for s in scanpaths], groups, None, None)
    t_cl = time.perf_counter() - t0
    from gazemodels.metrics.scanpath.sequence import _nw_score

    (ss_only, _), t_sso = timed(lambda: _nw_score(labels, pairs, None), args.repeat)
    rows.append(row("Sequence score", "gazemodels, scoring only", len(pairs), t_sso,
                    f"same cluster strings (clustering alone: {t_cl:.2f} s)"))
    t0 = time.perf_counter()
    ss_ref = np.array([loop_sequence_score(labels[a], labels[b]) for a, b in pairs[sample]])
    t_ssr = time.perf_counter() - t0
    rows.append(row("Sequence score", "per-pair Python loop (nw_matching)", len(sample), t_ssr,
                    sample_note + "; same cluster strings"))
    d, nm = max_diff(ss_only[sample, 0], ss_ref)
    d2, nm2 = max_diff(ss[sample, 0], ss_ref)
    diffs.append(("Sequence score", {"score": max(d[0], d2[0])}, nm + nm2, int(np.isnan(ss_ref).sum())))
    ratio_ss = (len(pairs) / t_sso) / (len(sample) / t_ssr)

    # --- table -----------------------------------------------------------
    table = pd.DataFrame(rows)
    print()
    print(f"{'metric':<15} {'implementation':<36} {'pairs':>8} {'seconds':>9} {'pairs/s':>11}  note")
    for r in table.itertuples():
        print(f"{r.metric:<15} {r.implementation:<36} {r.pairs:>8,} {r.seconds:>9.3f} {r._5:>11,.0f}  {r.note}")
    print()
    print("throughput ratio (gazemodels batch / reference loop):")
    print(f"  MultiMatch      {ratio_mm:8.1f}x   (goal >= 50x)")
    print(f"  ScanMatch       {ratio_sm:8.1f}x")
    print(f"  Sequence score  {ratio_ss:8.1f}x   (scoring only; with clustering: "
          f"{(len(pairs) / t_ss) / (len(sample) / t_ssr):.1f}x)")
    print()
    print(f"largest absolute difference gazemodels vs reference ({sample_note}):")
    for name, per_dim, nan_mismatch, n_nan in diffs:
        dims = "  ".join(f"{k} {v:.3g}" for k, v in per_dim.items())
        print(f"  {name:<15} {dims}   (NaN pattern mismatches: {nan_mismatch}; pairs NaN in both: {n_nan})")
    n_undefined = sum(r is not None for r in reasons)
    print()
    print(f"MultiMatch undefined (NaN with a reason) for {n_undefined:,} of {len(pairs):,} pairs, e.g. "
          f"{next(r for r in reasons if r is not None)!r}")
    ok = ratio_mm >= 50 and max(diffs[0][1].values()) <= 1e-6 and diffs[0][2] == 0
    print(f"MultiMatch goal (>= 50x throughput, <= 1e-6 on every dimension): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
