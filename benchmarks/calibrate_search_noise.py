#!/usr/bin/env python
"""Calibrate the search model's priority noise on classic feature and conjunction search.

The search model (:mod:`gazemodels.models.search`) adds Gaussian noise to every item's priority
at every fixation, with a standard deviation ``priority_noise`` at the fovea that grows with
eccentricity as the pooling does. ``priority_noise`` is the model's one free parameter, and it
is fitted here on data that has nothing to do with the search asymmetries: the package's
coloured-shape object arrays (:mod:`gazemodels.stimuli.arrays`, ring layout) with

* ``feature`` distractors (a colour singleton among identical items): human target-present
  slopes of about 10 ms/item or less (Treisman & Gelade 1980; Wolfe 1998);
* ``conjunction`` distractors (colour x shape: half share the target's colour, half its
  shape): human target-present slopes of about 25 ms/item or more (Treisman & Gelade 1980,
  colour x form conjunctions; Wolfe 1998 reviews the range).

For each noise level the script runs the model on both kinds, converts fixations to RT with
Gupta et al.'s (2021) parameterisation (the same as the asymmetry experiment) and prints the
slopes with bootstrap CIs. The default noise (0.015) is the largest level on a grid of 0.005
at which the feature search stays efficient (<= 10 ms/item), over two sets of displays
(``--seed 1`` and ``--seed 2``, ``--n 40`` to ``60``), with the default bottom-up weight
(``--model '{"bottom_up": 0}'`` for the top-down term alone); the figures are in the
docstring of :mod:`gazemodels.models.search.model`. With the top-down feature gains
(``--model '{"gain": "snr"}'``) the feature search stays efficient up to 0.03, and the noise of
that variant (0.02) is the level whose conjunction slope is nearest the middle of the
textbook 25-30 ms/item (``experiments/search_asymmetry_snr_gain.toml``).

Usage::

    .venv/bin/python benchmarks/calibrate_search_noise.py [--noise 0 0.05 0.1 0.2] [--n 20]

References
----------
Treisman, A. M., & Gelade, G. (1980). A feature-integration theory of attention. *Cognitive
Psychology, 12*(1), 97-136.

Wolfe, J. M. (1998). What can 1 million trials tell us about visual search? *Psychological
Science, 9*(1), 33-39.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gazemodels.experiments.search_asymmetry import DEFAULTS, trials_from_fixations  # noqa: E402
from gazemodels.metrics.search import rt_setsize_slope  # noqa: E402
from gazemodels.models.search import SearchModelConfig, VisualSearchModel  # noqa: E402
from gazemodels.stimuli import get_stimulus_set  # noqa: E402

HUMAN = {"feature": "<= 10 ms/item", "conjunction": "~25 ms/item or more"}
"""Approximate human target-present slopes (Treisman & Gelade 1980; Wolfe 1998)."""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", type=float, nargs="+", default=[0.01, 0.015, 0.02])
    ap.add_argument("--growth", default="pooling", choices=["pooling", "constant"])
    ap.add_argument("--kinds", nargs="+", default=["feature", "conjunction"])
    ap.add_argument("--set-sizes", type=int, nargs="+", default=[3, 6, 9])
    ap.add_argument("--n", type=int, default=20, help="displays per kind and set size")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", default="{}", help="JSON of SearchModelConfig overrides")
    args = ap.parse_args(argv)
    import json

    torch.set_num_threads(1)
    base = SearchModelConfig.from_dict({**DEFAULTS["model"], **json.loads(args.model)})
    arrays = get_stimulus_set("object_array")
    displays = list(arrays.iter_displays(seed=args.seed, n_per_set_size=args.n, conditions=args.kinds,
                                         set_sizes=args.set_sizes))
    print(f"{'noise':>7} {'kind':<12}{'slope ms/item':>14}{'95% CI':>20}{'fix@max':>9}  human   ({len(displays)} displays)")
    for noise in args.noise:
        t0 = time.time()
        cfg = dataclasses.replace(base, priority_noise=noise, noise_growth=args.growth)
        model = VisualSearchModel(cfg, seed=args.seed)
        trials = trials_from_fixations(model.run(displays, seed=args.seed))
        for kind in args.kinds:
            t = trials[trials["condition"] == kind]
            r = rt_setsize_slope(t["set_size"], t["rt_ms"], n_boot=500, seed=0)
            nfix = t[t["set_size"] == max(args.set_sizes)]["n_fix_to_target"].mean()
            print(f"{noise:>7.4f} {kind:<12}{r.slope:>14.2f}   [{r.ci_low:6.1f}, {r.ci_high:6.1f}]{nfix:>9.2f}  "
                  f"{HUMAN.get(kind, '')}", flush=True)
        print(f"        ({time.time() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
