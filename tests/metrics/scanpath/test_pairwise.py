"""Metric registry and the tidy batch API ``pairwise``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazemodels.errors import FixationTableError
from gazemodels.metrics.scanpath import (
    get_metric,
    list_metrics,
    multimatch,
    pairwise,
    register_metric,
    scanmatch,
)


def table(n_stimuli=3, n_subjects=4, seed=0, min_len=1, max_len=9):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_stimuli):
        for subj in range(n_subjects):
            n = int(rng.integers(min_len, max_len))
            for k in range(n):
                rows.append((f"img{s}", f"s{subj}", 0, k, rng.uniform(0, 800), rng.uniform(0, 600),
                             np.nan, rng.uniform(80, 400)))
    return pd.DataFrame(rows, columns=["stimulus", "subject", "trial", "fix_index", "x", "y",
                                       "t_start", "duration"])


def test_registry_names():
    names = list_metrics()
    for n in ("multimatch", "scanmatch", "ss", "semantic_ss", "edit_distance", "edit_distance_aoi",
              "dtw", "frechet", "hausdorff", "mmd", "rqa"):
        assert n in names
    spec = get_metric("MultiMatch")
    assert spec.columns[0] == "multimatch_vector" and "screen_size" in spec.per_stimulus
    with pytest.raises(KeyError, match="known"):
        get_metric("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_metric("dtw", columns=("x",))(lambda scanpaths, pairs: None)


def test_within_stimulus_pairs_and_values():
    fx = table()
    out = pairwise(fx, "multimatch", by="stimulus", screen_size=(800, 600))
    assert len(out) == 3 * 6  # C(4, 2) per stimulus
    assert list(out.columns[:5]) == ["stimulus", "subject_1", "trial_1", "subject_2", "trial_2"]
    assert (out["subject_1"] < out["subject_2"]).all()
    # each row equals the single-pair function on the same scanpaths
    for _, row in out.sample(6, random_state=1).iterrows():
        a = fx[(fx.stimulus == row.stimulus) & (fx.subject == row.subject_1)]
        b = fx[(fx.stimulus == row.stimulus) & (fx.subject == row.subject_2)]
        if min(len(a), len(b)) < 3:
            assert np.isnan(row.multimatch_vector) and "MultiMatch needs" in row.reason
        else:
            ref = multimatch(a, b, (800, 600))
            np.testing.assert_allclose(row[[c for c in out.columns if c.startswith("multimatch")]].to_numpy(float),
                                       ref, atol=1e-12)
    assert out["n_fix_1"].ge(1).all()


def test_ordered_self_and_by_none():
    fx = table()
    assert len(pairwise(fx, "dtw", ordered=True)) == 3 * 12
    assert len(pairwise(fx, "dtw", include_self=True)) == 3 * 10
    everything = pairwise(fx, "dtw", by=None)
    assert len(everything) == 12 * 11 // 2 and "stimulus_1" in everything.columns


def test_against_pairs_model_with_humans_by_stimulus():
    humans = table(seed=1)
    model = table(n_subjects=1, seed=2, min_len=3).assign(subject="model")
    out = pairwise(model, ["scanmatch", "ss"], against=humans, screen_size=(800, 600))
    assert len(out) == 3 * 4 and (out["subject_1"] == "model").all()
    row = out.iloc[0]
    a = model[model.stimulus == row.stimulus]
    b = humans[(humans.stimulus == row.stimulus) & (humans.subject == row.subject_2)]
    assert row.scanmatch == pytest.approx(scanmatch(a, b, (800, 600)))


def test_per_stimulus_screen_sizes():
    fx = table()
    sizes = {"img0": (800, 600), "img1": (1600, 1200), "img2": (800, 600)}
    out = pairwise(fx, "multimatch", screen_size=sizes)
    stim_table = pd.DataFrame({"stimulus": list(sizes), "width": [s[0] for s in sizes.values()],
                               "height": [s[1] for s in sizes.values()]})
    out2 = pairwise(fx, "multimatch", screen_size=stim_table)
    pd.testing.assert_frame_equal(out, out2)
    base = pairwise(fx, "multimatch", screen_size=(800, 600))
    img1 = out["stimulus"] == "img1"
    np.testing.assert_allclose(1 - out.loc[img1, "multimatch_position"],
                               (1 - base.loc[img1, "multimatch_position"]) / 2, rtol=1e-12)
    with pytest.raises(FixationTableError, match="img2"):
        pairwise(fx, "multimatch", screen_size={"img0": (1, 1), "img1": (1, 1)})


def test_errors_are_clear():
    fx = table()
    with pytest.raises(TypeError, match="screen_size"):
        pairwise(fx, "multimatch")
    with pytest.raises(TypeError, match="radius_px"):
        pairwise(fx, "rqa", radius_px=3)
    # display parameters are handed on only to the metrics that take them
    assert len(pairwise(fx, "dtw", screen_size=(800, 600))) == len(pairwise(fx, "dtw"))
    with pytest.raises(FixationTableError, match="object"):
        pairwise(fx, "semantic_ss")
    with pytest.raises(FixationTableError, match="fix_index"):
        pairwise(fx.drop(columns="fix_index"), "dtw")


def test_processes_give_the_same_result():
    fx = table(n_stimuli=40, n_subjects=12, seed=3, min_len=3)
    one = pairwise(fx, ["multimatch", "ss"], screen_size=(800, 600))
    two = pairwise(fx, ["multimatch", "ss"], screen_size=(800, 600), n_jobs=2)
    assert len(one) >= 2000
    pd.testing.assert_frame_equal(one, two)
