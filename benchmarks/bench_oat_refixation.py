#!/usr/bin/env python
"""Refixations of the OAT-style model's fixed-length scanpaths (``gazemodels predict``) against humans.

``gazemodels predict`` must return exactly ``--n-fixations`` fixations, so the OAT model decodes
with its stop decision masked (``allow_stop=False``), by sampling (the default) or by beam search
(``--param decoding=beam``). This script measures, on the Amazon book-cover collages of a
``gazemodels fit`` run (``runs/oat_amazon``), how often those scanpaths fixate the same slot twice
in a row (an immediate *refixation*) or return to an earlier one (a *revisit*), next to the
humans' first N fixations, for a range of ``refixation_penalty`` values (the log-probability
subtracted from an immediate refixation at each step). The penalty is chosen on the run's
validation collages (the last ``n_val`` of the training half, used for early stopping), by the
mean relative difference Δ of the five OAT behaviour statistics from the humans'; the test half
(50 collages) reports it.

Scores (:func:`gazemodels.models.scanpath.oat.evaluate_object_scanpaths`): every scanpath
against every human scanpath of its collage, the humans' cut to the same first N fixations; SS
is the sequence score of the slot strings, Δ the mean relative difference of the behaviour
statistics (ends on target, length, first visit, refixation, revisit) from the humans'.

Usage::

    .venv/bin/python benchmarks/bench_oat_refixation.py --run runs/oat_amazon --n-fixations 8 15 --out results/oat_refixation
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gazemodels.models import load_model  # noqa: E402
from gazemodels.models.scanpath import oat, oat_data  # noqa: E402

COLUMNS = ("ss", "ends_on_target", "first_visit", "refixation", "revisit", "delta")


def decode(net, displays, n: int, N: int, method: str, penalty: float, seed: int):
    """``n`` fixed-length (``N``) scanpaths per display, by sampling or beam search."""
    if method == "sample":
        import torch

        g = torch.Generator().manual_seed(seed)
        return oat.sample_sequences(net, displays, n, max_len=N, generator=g, allow_stop=False,
                                refixation_penalty=penalty)
    return [[s for s, _ in oat.beam_search(net, e, beam_width=max(5, n), max_len=N, n_best=n, allow_stop=False,
                                        refixation_penalty=penalty)] for e in displays]


def table(net, episodes, N: int, penalties, n: int, seed: int, n_boot: int):
    """One row per (method, penalty), plus the humans' own statistics."""
    displays, humans = oat.group_by_display(episodes)
    cut = [[h[:N] for h in hs] for hs in humans]
    methods = {f"{m} pen={p:g}": decode(net, displays, n, N, m, p, seed) for m in ("sample", "beam")
               for p in penalties}
    t = oat.evaluate_object_scanpaths(methods, cut, [e.target for e in displays], n_boot=n_boot, seed=seed)
    return t.assign(n_fixations=N)


def main(argv=None) -> int:
    """Run the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="runs/oat_amazon", help="run folder of gazemodels fit (best.pt, config.json)")
    p.add_argument("--n-fixations", type=int, nargs="+", default=[8, 15])
    p.add_argument("--penalties", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0, 4.0, float("inf")])
    p.add_argument("--n-scanpaths", type=int, default=6, help="scanpaths per collage (6 humans each)")
    p.add_argument("--n-boot", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--out", default=None, help="write results.json here")
    args = p.parse_args(argv)

    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    run = Path(args.run)
    cfg = json.loads((run / "config.json").read_text())["task"]
    model = load_model(run / "best.pt")
    d = oat_data.amazon_episodes(str((ROOT / cfg["data_root"]).resolve()) if not Path(cfg["data_root"]).is_absolute()
                        else cfg["data_root"], seed=int(cfg["split_seed"]), n_val=int(cfg["n_val"]))
    pd.set_option("display.width", 200)
    results = {}
    for N in args.n_fixations:
        val = table(model.net, d["val"], N, args.penalties, args.n_scanpaths, args.seed, 0)
        chosen = {}
        for m in ("sample", "beam"):
            rows = val[val["method"].str.startswith(m)]
            chosen[m] = rows.loc[rows["delta"].idxmin(), "method"]
        test = table(model.net, d["test"], N, args.penalties, args.n_scanpaths, args.seed, args.n_boot)
        print(f"\n## first {N} fixations, {len(d['val'])} validation / {len(d['test'])} test scanpaths; "
              f"chosen on validation (lowest Δ): {chosen['sample']}, {chosen['beam']}")
        print("\nvalidation:\n" + val[["method", *COLUMNS]].round(3).to_string(index=False))
        print("\ntest (95% bootstrap CIs of SS and Δ over collages):")
        show = test[["method", *COLUMNS, "ss_lo", "ss_hi", "delta_lo", "delta_hi"]].round(3)
        print(show.to_string(index=False))
        results[N] = {"chosen": chosen, "validation": val.to_dict("records"), "test": test.to_dict("records")}
    print(f"\n{time.perf_counter() - t0:.0f} s")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
