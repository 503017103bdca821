#!/usr/bin/env python
"""Per-layer target margins of the search model on the search-asymmetry displays.

For every condition, this script prints the target's lead over the best distractor, seen from
the central fixation and averaged over displays, in three terms:

* each layer's top-down map (min-max normalised);
* each layer's bottom-up term (``1 - cos`` to the mean item);
* the priority noise's mean standard deviation over the items.

A positive lead means the first saccade tends to go to the target. Comparing the leads of a
pair's two conditions shows which layer gives the model its asymmetry, or reverses it.

The script reads the model and the displays only. No human reaction time enters it.

Usage::

    .venv/bin/python benchmarks/search_margins.py [--model '{"gain": "snr"}'] [--n 8] [--seed 5]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gazemodels.experiments.search_asymmetry import DEFAULTS  # noqa: E402
from gazemodels.models.search import SearchModelConfig, VisualSearchModel  # noqa: E402
from gazemodels.models.search.selection import item_peaks  # noqa: E402
from gazemodels.stimuli import experiment_pairs, get_stimulus_set  # noqa: E402


def margins(model: VisualSearchModel, display) -> np.ndarray:
    """Target minus best distractor per layer (top-down, then bottom-up), then the mean noise sd."""
    prep = model.prepare(display)
    H, W = prep.size
    fix = (W / 2.0, H / 2.0)
    maps, _ = model.layer_maps(prep, fix)
    regions = model.item_regions(prep)
    td = [(s := item_peaks(m, regions))[0] - s[1:].max() for m in maps]
    bu = model.saliency(prep, fix, per_layer=True)
    return np.array(td + list(bu[:, 0] - bu[:, 1:].max(axis=1)) + [model.noise_sd(prep, fix).mean()])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="{}", help="JSON of SearchModelConfig overrides")
    ap.add_argument("--n", type=int, default=8, help="displays per condition (at the largest set size)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--experiments", nargs="+", default=list(experiment_pairs()))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = VisualSearchModel(SearchModelConfig.from_dict({**DEFAULTS["model"], **json.loads(args.model)}))
    if not model.config.topdown:
        ap.error("the margins need top-down guidance (topdown = true)")
    guiding = model.config.topdown_stages or model.config.stages
    head = [f"td s{s}" for s in guiding] + [f"bu s{s}" for s in model.config.stages] + ["noise sd"]
    print(f"{'condition':<16}{'set size':>9}" + "".join(f"{h:>10}" for h in head))
    for exp in args.experiments:
        stim = get_stimulus_set(exp)
        size = max(stim.set_sizes)
        for cond in experiment_pairs()[exp]:
            rows = [margins(model, d) for d in stim.iter_displays(seed=args.seed, n_per_set_size=args.n,
                                                                  conditions=[cond], set_sizes=[size])]
            print(f"{cond:<16}{size:>9}" + "".join(f"{v:>10.3f}" for v in np.mean(rows, axis=0)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
