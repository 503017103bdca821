#!/usr/bin/env python
"""OAT-style object-level scanpaths on the Amazon book covers against object-level baselines.

Protocol (after Fang et al. 2024, "OAT: Object-Level Attention Transformer for Gaze Scanpath
Prediction", ECCV)
--------------------------------------------------------------------------------------------
1. **Objects.** Cover images are not available: the objects of a collage are the 84 slots of a
   14 x 6 grid of equal cells (:func:`gazemodels.models.scanpath.oat_data.grid_boxes`; the
   layout check is printed). Human fixations map to slots
   (:func:`gazemodels.data.map_to_objects`); the target is the slot of the ground-truth box.
2. **Split.** The 100 collages are split in halves by the run's ``split_seed`` (default
   :data:`~gazemodels.models.scanpath.oat_data.AMAZON_SPLIT_SEED`); the model was trained by
   ``gazemodels fit experiments/oat_amazon.toml --out runs/oat_amazon`` on the training half
   (its last ``n_val`` collages for early stopping). Everything below is on the 50 test
   collages (6 participants each).
3. **Methods.** ``OAT (sampled)``: ``--n-samples`` scanpaths per collage sampled from the
   model, with its own stop decision (at most ``--max-len`` fixations); ``OAT (beam)``: the most
   probable scanpath of a beam search (width ``--beam-width``); baselines
   (:func:`~gazemodels.models.scanpath.oat.baseline_sequences`), ``--n-samples`` per collage,
   each with a length drawn from the human training scanpaths and ending early on the target:
   ``random`` (uniform slot), ``centre`` (slot drawn from a centre-biased distribution, width
   fitted by maximum likelihood to the training fixations) and ``nearest`` (from the centre,
   always the nearest slot not yet fixated).
4. **Scores** (:func:`~gazemodels.models.scanpath.oat.evaluate_object_scanpaths`): every
   predicted scanpath against every human scanpath of its collage: the sequence score of the
   slot strings (SS, higher is better) and the Levenshtein edit distance normalised by the
   longer string (ED, lower is better), averaged per collage; the five behavioural statistics
   of OAT (ends on target, length, first visits, refixations, revisits) and their mean relative
   difference Δ from the humans' (lower is better). ``human (LOSO)``: each participant against
   the other five, the ceiling of SS and ED. 95% percentile bootstrap intervals over collages
   (``--n-boot`` resamples).

Rule recovery on object arrays
------------------------------
``--arrays RUN [RUN ...]`` (runs of ``experiments/oat_arrays.toml``, e.g. one with appearance and
its geometry-only control, ``--set task.appearance=false --set task.target_template=false``)
adds a second table: :func:`~gazemodels.models.scanpath.oat.rule_recovery` of each run's best
model on the run's test displays (seed ``array_seed + 2``, never seen in training or
validation), with the uniform chance rates.

Usage::

    .venv/bin/python benchmarks/bench_oat_amazon.py --run runs/oat_amazon --out results/oat_amazon
    .venv/bin/python benchmarks/bench_oat_amazon.py --run runs/oat_amazon --arrays runs/oat_arrays \
        runs/oat_arrays_blind
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gazemodels.models import load_model  # noqa: E402
from gazemodels.models.scanpath.oat import (  # noqa: E402
    baseline_sequences,
    beam_search,
    evaluate_object_scanpaths,
    fit_centre_sigma,
    format_table,
    group_by_display,
)
from gazemodels.models.scanpath.oat_data import AMAZON_SPLIT_SEED, amazon_episodes, grid_layout_check  # noqa: E402


def main(argv=None) -> int:
    """Run the benchmark.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        Exit code.
    """
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="runs/oat_amazon", help="run folder of gazemodels fit (best.pt, config.json)")
    p.add_argument("--data-root", default=None, help="amazon-book-covers folder (default: the run's)")
    p.add_argument("--n-samples", type=int, default=20, help="scanpaths per collage and method")
    p.add_argument("--max-len", type=int, default=60, help="longest sampled scanpath")
    p.add_argument("--beam-width", type=int, default=5)
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--out", default=None, help="folder for results.csv, results.json and table.md")
    p.add_argument("--arrays", nargs="*", default=[], help="runs of experiments/oat_arrays.toml: rule recovery")
    p.add_argument("--skip-amazon", action="store_true", help="only the rule-recovery table")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    if args.arrays:
        print(rule_recovery_table(args.arrays))
        print()
    if args.skip_amazon:
        return 0
    run = Path(args.run)
    cfg = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
    task = cfg.get("task", {})
    root = args.data_root or task.get("data_root", "../shared/data/amazon-book-covers")
    split_seed = int(task.get("split_seed", AMAZON_SPLIT_SEED))
    data = amazon_episodes(root, seed=split_seed, n_val=int(task.get("n_val", 10)))
    model = load_model(run / "best.pt")
    net = model.net

    check = grid_layout_check(data["fixations"], data["stimuli"])
    print(f"layout check (14 x 6 equal cells): fixation density centre/border of the cells "
          f"x {check['x_centre_to_border']:.2f}, y {check['y_centre_to_border']:.2f}; target-box centres "
          f"within cells at {check['target_offset_range'][0]:.2f}-{check['target_offset_range'][1]:.2f} of a cell")

    train_eps = data["train"] + data["val"]
    displays, humans = group_by_display(data["test"])
    targets = [e.target for e in displays]
    lengths = [len(e.sequence) for e in train_eps]
    sigma = fit_centre_sigma(train_eps)
    print(f"test collages: {len(displays)}, human scanpaths: {sum(map(len, humans))}; "
          f"centre baseline sigma = {sigma:.1f} deg")

    methods = {}
    t0 = time.perf_counter()
    methods["OAT (sampled)"] = model.sample_objects(displays, args.n_samples, seed=args.seed, max_len=args.max_len)
    t_sample = (time.perf_counter() - t0) / len(displays)
    t0 = time.perf_counter()
    methods["OAT (beam)"] = [[beam_search(net, d, beam_width=args.beam_width, max_len=args.max_len)[0][0]]
                             for d in displays]
    t_beam = (time.perf_counter() - t0) / len(displays)
    for kind, label in (("random", "random slot"), ("centre", "centre-biased slot"),
                        ("nearest", "nearest neighbour")):
        methods[label] = baseline_sequences(kind, displays, args.n_samples, lengths, seed=args.seed,
                                            centre_sigma_deg=sigma)
    table = evaluate_object_scanpaths(methods, humans, targets, n_boot=args.n_boot, seed=args.seed)
    md = format_table(table)
    print()
    print(md)
    print()
    print(f"time per collage: sampling {args.n_samples} scanpaths {t_sample:.2f} s, beam search {t_beam:.2f} s "
          f"(CPU, {args.threads} thread(s))")
    summary = {}
    if (run / "summary.json").exists():
        summary = json.loads((run / "summary.json").read_text())
        secs = summary.get("seconds", summary.get("train_seconds"))
        print(f"training ({run}): {json.dumps(summary)}" if secs is None else
              f"training time ({run}): {secs:.0f} s; summary {json.dumps(summary)}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "results.csv", index=False)
        (out / "table.md").write_text(md + "\n")
        (out / "results.json").write_text(json.dumps({
            "table": table.to_dict(orient="records"), "layout_check": {k: (v.tolist() if hasattr(v, "tolist") else v)
                                                                       for k, v in check.items()},
            "centre_sigma_deg": sigma, "split_seed": split_seed, "n_samples": args.n_samples,
            "seconds_per_collage": {"sample": t_sample, "beam": t_beam}, "training": summary,
        }, indent=2, default=float))
    return 0


def rule_recovery_table(runs) -> str:
    """Markdown table of :func:`~gazemodels.models.scanpath.oat.rule_recovery` for rule-array runs.

    Parameters
    ----------
    runs : sequence of str
        Run folders of ``gazemodels fit experiments/oat_arrays.toml``.

    Returns
    -------
    str
    """
    from gazemodels.models.scanpath.oat import OATTask, rule_recovery

    keys = ("step_accuracy", "step_chance", "similarity_accuracy", "similarity_chance", "stop_accuracy",
            "false_stop_rate", "sequence_accuracy", "n_steps")
    lines = ["| run | appearance | " + " | ".join(keys) + " | training s |", "|---" * (len(keys) + 3) + "|"]
    for r in runs:
        r = Path(r)
        cfg = json.loads((r / "config.json").read_text())
        task = OATTask.from_config(cfg["task"])
        test = list(task.datasets().test)
        res = rule_recovery(load_model(r / "best.pt").net, test)
        summ = json.loads((r / "summary.json").read_text()) if (r / "summary.json").exists() else {}
        cells = [f"{res[k]:.3f}" if isinstance(res[k], float) else str(res[k]) for k in keys]
        lines.append(f"| {r} | {task.config.appearance} | " + " | ".join(cells)
                     + f" | {summ.get('seconds', float('nan')):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
