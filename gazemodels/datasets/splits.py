"""Fixed, seeded splits of a data set's images, shared by benchmarks and fitted models.

The OSIE free-viewing benchmark (``benchmarks/bench_osie_freeview.py``) and the
models fitted for it (``gazemodels fit experiments/freeview_osie.toml``) must
use the same halves, so the split lives here and both import it.

Examples
--------
>>> import pandas as pd
>>> st = pd.DataFrame({"stimulus": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"], "path": ["p"] * 4})
>>> fit, held_out = fixed_halves(st)
>>> sorted(fit + held_out) == ["a.jpg", "b.jpg", "c.jpg", "d.jpg"] and not set(fit) & set(held_out)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["OSIE_SPLIT_SEED", "fixed_halves"]

OSIE_SPLIT_SEED = 20240601
"""Seed of the fixed permutation that splits the OSIE images into fitting and evaluation halves."""


def fixed_halves(stimuli: pd.DataFrame, seed: int = OSIE_SPLIT_SEED) -> tuple[list[str], list[str]]:
    """The fixed fitting and evaluation halves of the stimuli that have an image.

    The names of the stimuli with a ``path`` are sorted, permuted with
    ``numpy.random.default_rng(seed).permutation``, and cut in two: the first
    half (rounded down) is the fitting half, the rest the evaluation half. The
    result depends only on the set of names and the seed, not on the row order.

    Parameters
    ----------
    stimuli : pandas.DataFrame
        Stimulus table; rows without ``path`` are left out.
    seed : int
        Seed of the permutation.

    Returns
    -------
    fit_names, eval_names : list of str
        Stimulus names; the evaluation half in its fixed (permuted) order.
    """
    names = sorted(stimuli.loc[stimuli["path"].notna(), "stimulus"].astype(str))
    order = np.random.default_rng(seed).permutation(len(names))
    perm = [names[i] for i in order]
    half = len(perm) // 2
    return perm[:half], perm[half:]
