"""Leave-one-subject-out human consistency, and the bootstrap it reports with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazemodels.metrics.bootstrap import bootstrap_ci, cluster_bootstrap_ci
from gazemodels.metrics.consistency import human_consistency, metric_values


def _table(values: dict) -> pd.DataFrame:
    """One single-fixation scanpath per (stimulus, subject) with x = the given value."""
    rows = [
        {"stimulus": st, "subject": su, "trial": 0, "fix_index": 0, "x": float(v), "y": 0.0,
         "t_start": 0.0, "duration": 100.0}
        for (st, su), v in values.items()
    ]
    return pd.DataFrame(rows)


def neg_abs_diff(a, b):
    """Similarity of two one-fixation scanpaths: minus the x distance."""
    return -abs(a[0, 0] - b[0, 0])


def test_hand_computed_ceiling():
    # stimulus s: subjects at x = 0, 1, 4; held-out means: 1: -(1+4)/2, 2: -(1+3)/2, 3: -(4+3)/2
    table = _table({("s", 1): 0, ("s", 2): 1, ("s", 3): 4, ("t", 1): 0, ("t", 2): 2})
    res = human_consistency(table, neg_abs_diff, n_boot=200)
    per = res.per_subject.set_index(["stimulus", "subject"])["neg_abs_diff"]
    assert per[("s", 1)] == pytest.approx(-2.5)
    assert per[("s", 2)] == pytest.approx(-2.0)
    assert per[("s", 3)] == pytest.approx(-3.5)
    assert per[("t", 1)] == pytest.approx(-2.0)
    assert per[("t", 2)] == pytest.approx(-2.0)
    assert res.ceiling["neg_abs_diff"] == pytest.approx(np.mean([-2.5, -2.0, -3.5, -2.0, -2.0]))
    assert len(res.pairs) == 6 + 2  # ordered between-subject pairs
    s = res.summary["neg_abs_diff"]
    assert s.low <= s.estimate <= s.high


def test_same_subject_pairs_are_left_out_and_order_is_held_out_first():
    seen = []

    def metric(a, b):
        seen.append((a[0, 0], b[0, 0]))
        return 0.0

    table = _table({("s", 1): 0, ("s", 2): 10})
    extra = table.iloc[[0]].assign(trial=1, x=5.0)  # a second trial of subject 1
    human_consistency(pd.concat([table, extra], ignore_index=True), metric, n_boot=0)
    assert sorted(seen) == [(0.0, 10.0), (5.0, 10.0), (10.0, 0.0), (10.0, 5.0)]


def test_symmetric_shortcut_and_dict_valued_metric():
    rng = np.random.default_rng(0)
    table = _table({(st, su): rng.normal() for st in "abc" for su in range(4)})

    def two(a, b):
        d = abs(a[0, 0] - b[0, 0])
        return {"dist": d, "close": float(d < 0.5)}

    full = human_consistency(table, two, n_boot=100)
    sym = human_consistency(table, two, symmetric=True, n_boot=100)
    assert set(full.ceiling) == {"two_dist", "two_close"}
    for k in full.ceiling:
        assert sym.ceiling[k] == pytest.approx(full.ceiling[k])
        assert sym.summary[k].low == pytest.approx(full.summary[k].low)


def test_nan_pairs_are_counted_and_skipped():
    table = _table({("s", 1): 0, ("s", 2): 1, ("s", 3): 5})

    def maybe(a, b):
        return np.nan if 5.0 in (a[0, 0], b[0, 0]) else 1.0

    res = human_consistency(table, maybe, n_boot=0)
    assert res.n_nan["maybe"] == 4
    assert res.ceiling["maybe"] == pytest.approx(1.0)  # subject 3 has no defined pair
    assert np.isnan(res.summary["maybe"].low)


def test_one_subject_is_an_error():
    with pytest.raises(ValueError, match="two or more subjects"):
        human_consistency(_table({("s", 1): 0, ("t", 1): 1}), neg_abs_diff)
    with pytest.raises(ValueError, match="lacks column"):
        human_consistency(_table({("s", 1): 0}).drop(columns="subject"), neg_abs_diff)


def test_metric_values_shapes():
    from collections import namedtuple

    NT = namedtuple("NT", "a b")
    assert metric_values(0.5, "m") == {"m": 0.5}
    assert metric_values({"x": 1}, "m") == {"m_x": 1.0}
    assert metric_values(NT(1, 2), "m") == {"m_a": 1.0, "m_b": 2.0}
    assert metric_values([3, 4], "m") == {"m_0": 3.0, "m_1": 4.0}


def _search_like_table(n_stim=3, n_subj=4, n_fix=5, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for st in range(n_stim):
        centre = rng.uniform(200, 800, (n_fix, 2))
        for su in range(n_subj):
            pts = centre + rng.normal(0, 40, centre.shape)
            for i, (x, y) in enumerate(pts):
                rows.append({"stimulus": f"img{st}", "subject": su, "trial": 0, "fix_index": i,
                             "x": x, "y": y, "t_start": 0.0, "duration": rng.uniform(150, 350)})
    return pd.DataFrame(rows)


def test_works_with_the_scanpath_registry():
    """By name through the registry's batch ``pairwise``, and as a single-pair callable: same numbers."""
    scanpath = pytest.importorskip("gazemodels.metrics.scanpath")
    from gazemodels.metrics.scanpath import multimatch

    table = _search_like_table()
    by_name = human_consistency(table, "multimatch", metric_params={"screen_size": (1000, 1000)}, n_boot=100)
    assert "multimatch_vector" in by_name.ceiling
    by_fn = human_consistency(table, multimatch, metric_params={"screen_size": (1000, 1000)}, n_boot=100)
    for dim in ("vector", "direction", "length", "position", "duration"):
        assert by_name.ceiling[f"multimatch_{dim}"] == pytest.approx(by_fn.ceiling[f"multimatch_{dim}"], abs=1e-12)
        assert 0.0 < by_name.ceiling[f"multimatch_{dim}"] <= 1.0
    with pytest.raises(KeyError, match="unknown scanpath metric"):
        human_consistency(table, "no_such_metric")
    assert scanpath.get_metric("multimatch").higher_is_better


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_ci_mean_and_reproducible():
    x = np.random.default_rng(0).normal(5.0, 1.0, 200)
    a = bootstrap_ci(x, n_boot=500, seed=1)
    b = bootstrap_ci(x, n_boot=500, seed=1)
    assert a == b
    assert a.estimate == pytest.approx(x.mean())
    assert a.low < x.mean() < a.high
    # the percentile interval of the mean is about +-1.96 standard errors
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert a.high - a.low == pytest.approx(2 * 1.96 * se, rel=0.2)
    med = bootstrap_ci(x, "median", n_boot=200)
    assert med.estimate == pytest.approx(np.median(x))
    custom = bootstrap_ci(x, lambda v: float(np.max(v)), n_boot=50)
    assert custom.high <= x.max()
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci([1.0, np.nan])
    with pytest.raises(ValueError, match="no values"):
        bootstrap_ci([])


def test_cluster_bootstrap_resamples_clusters():
    # two clusters with constant values: every resample mean lies between them
    vals = np.r_[np.zeros(10), np.ones(30)]
    cl = np.r_[np.zeros(10), np.ones(30)]
    r = cluster_bootstrap_ci(vals, cl, n_boot=400, seed=0)
    assert r.estimate == pytest.approx(0.75)
    assert r.n == 2
    assert r.low == pytest.approx(0.0) and r.high == pytest.approx(1.0)
    one = cluster_bootstrap_ci([1.0, 2.0, 3.0], ["a", "a", "a"], n_boot=50)
    assert one.low == one.high == pytest.approx(2.0)
    with pytest.raises(ValueError, match="3 values but 2 cluster labels"):
        cluster_bootstrap_ci([1.0, 2.0, 3.0], ["a", "b"])
