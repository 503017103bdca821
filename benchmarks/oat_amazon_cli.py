#!/usr/bin/env python
"""The Amazon book covers through the command line: a stimulus table, ``gazemodels predict``, ``gazemodels score``.

A user-level example of ``gazemodels predict --stimuli`` with a model fitted by ``gazemodels fit``
(``runs/oat_amazon``, the OAT-style object-level model). The collage images are not available,
so the displays are geometry only: the script writes, for the test half of the run's split
(:func:`gazemodels.models.scanpath.oat_data.amazon_episodes`),

- ``<out>/test_stimuli.csv``: ``stimulus, path`` (empty), ``width, height, px_per_degree``,
  ``object_boxes`` (the 84 slots of the 14 x 6 grid, JSON ``[x, y, w, h]`` px; the model's own
  grid, written out so that the table is complete) and ``target_bbox`` (the ground-truth cover,
  JSON ``[x, y, w, h]``) per collage;
- ``<out>/test_fixations.csv``: the human fixations on those collages with ``object``, the slot
  of each fixation (the slot that contains it, else the nearest; OAT's mapping),

and then runs the two commands (unless ``--write-only``)::

    gazemodels predict --model runs/oat_amazon/best.pt --stimuli <out>/test_stimuli.csv \\
        --n-scanpaths 6 --out <out>/oat_pred.csv
    gazemodels score --pred <out>/oat_pred.csv --human <out>/test_fixations.csv \\
        --metric semantic_ss,edit_distance_aoi,scanmatch --screen 2560x1600 --ceiling

``semantic_ss`` and ``edit_distance_aoi`` compare the slot strings (the ``object`` columns);
``--ceiling`` adds the humans' leave-one-out consistency. The collages are at most 2560 x 1600 px.

Usage::

    .venv/bin/python benchmarks/oat_amazon_cli.py --run runs/oat_amazon --out results/oat_amazon_cli
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gazemodels.cli import main as cli  # noqa: E402
from gazemodels.cli.predict import write_stimulus_table  # noqa: E402
from gazemodels.models.scanpath import oat_data  # noqa: E402


def write_tables(run: Path, out: Path, split: str = "test") -> tuple[Path, Path]:
    """Write the stimulus table and the human fixations of one half of the run's split.

    Parameters
    ----------
    run : pathlib.Path
        A ``gazemodels fit`` run of the ``oat`` task on ``amazon-book-covers`` (its config.json).
    out : pathlib.Path
        Output folder.
    split : {"test", "train", "val"}
        Which collages.

    Returns
    -------
    stimuli, fixations : pathlib.Path
        The two CSV files.
    """
    task = json.loads((run / "config.json").read_text())["task"]
    root = Path(task["data_root"])
    d = oat_data.amazon_episodes(root if root.is_absolute() else ROOT / root, seed=int(task["split_seed"]),
                                 n_val=int(task["n_val"]))
    names = set(d[f"{split}_stimuli"])
    stimuli = d["stimuli"][d["stimuli"]["stimulus"].isin(names)].copy()
    stimuli["object_boxes"] = [oat_data.grid_boxes(w, h).tolist()
                               for w, h in zip(stimuli["width"], stimuli["height"])]
    stimuli = stimuli[["stimulus", "path", "width", "height", "px_per_degree", "object_boxes", "target_bbox"]]
    fixations = d["fixations"][d["fixations"]["stimulus"].isin(names)].drop(columns=["target_object"])
    out.mkdir(parents=True, exist_ok=True)
    paths = out / f"{split}_stimuli.csv", out / f"{split}_fixations.csv"
    write_stimulus_table(stimuli, paths[0])
    fixations.to_csv(paths[1], index=False)
    print(f"{len(stimuli)} collages -> {paths[0]}; {len(fixations)} human fixations -> {paths[1]}")
    return paths


def main(argv=None) -> int:
    """Write the tables, then predict and score through the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="runs/oat_amazon", help="gazemodels fit run (best.pt, config.json)")
    p.add_argument("--out", default="results/oat_amazon_cli", help="output folder")
    p.add_argument("--n-scanpaths", type=int, default=6, help="scanpaths per collage (6 participants each)")
    p.add_argument("--n-fixations", type=int, default=10)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--write-only", action="store_true", help="only write the two tables")
    args = p.parse_args(argv)
    run, out = Path(args.run), Path(args.out)
    stimuli, human = write_tables(run, out)
    if args.write_only:
        return 0
    pred = out / "oat_pred.csv"
    predict = ["predict", "--model", str(run / "best.pt"), "--stimuli", str(stimuli),
               "--n-scanpaths", str(args.n_scanpaths), "--n-fixations", str(args.n_fixations), "--out", str(pred)]
    score = ["score", "--pred", str(pred), "--human", str(human), "--metric", "semantic_ss,edit_distance_aoi,scanmatch",
             "--screen", "2560x1600", "--ceiling", "--bootstrap", str(args.bootstrap),
             "--summary", str(out / "summary.json")]
    for argv_ in (predict, score):
        print("\n$ gazemodels " + " ".join(argv_))
        rc = cli(argv_)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
