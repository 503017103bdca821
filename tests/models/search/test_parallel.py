"""Searching displays in worker processes gives the table of one process, in order."""

from __future__ import annotations

import pandas as pd
import pytest

from gazemodels.models.search import SearchModelConfig, VisualSearchModel
from gazemodels.models.search.parallel import run_parallel
from gazemodels.stimuli import get_stimulus_set

CFG = SearchModelConfig(stages=(3,), sigma0_deg=(0.2,), slope=(0.1,), priority_noise=0.2)


def test_two_workers_give_the_one_process_table():
    displays = list(get_stimulus_set("lighting_direction").iter_displays(seed=1, n_per_set_size=2))
    serial = VisualSearchModel(CFG, seed=7).run(displays, seed=7)
    parallel = run_parallel(CFG, iter(displays), seed=7, workers=2, chunk=3, total=len(displays))
    pd.testing.assert_frame_equal(parallel, serial)
    assert serial["stimulus"].nunique() == len(displays) and serial["fix_index"].max() > 0  # noise: real searches
    # another seed gives other searches (the workers use the seed they are given)
    other = run_parallel(CFG, iter(displays), seed=8, workers=2, chunk=3)
    assert not other[["x", "y"]].equals(serial[["x", "y"]]) or len(other) != len(serial)


def test_bad_arguments_and_no_displays():
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        run_parallel(CFG, [], seed=0, workers=0)
    with pytest.raises(ValueError, match="chunk must be an integer >= 1"):
        run_parallel(CFG, [], seed=0, chunk=0)
    assert len(run_parallel(CFG, [], seed=0, workers=2)) == 0


def test_random_stem_ablation_is_the_same_in_every_worker():
    """The random stem is seeded, so the workers build the stem of the parent."""
    from gazemodels.models.search import apply_ablation

    cfg = apply_ablation(CFG, "random_stem")
    displays = list(get_stimulus_set("lighting_direction").iter_displays(seed=2, n_per_set_size=1))
    serial = VisualSearchModel(cfg, seed=3).run(displays, seed=3)
    pd.testing.assert_frame_equal(run_parallel(cfg, displays, seed=3, workers=2, chunk=2), serial)
