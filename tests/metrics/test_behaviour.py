"""OAT behavioural statistics of object-level search and their mean relative difference Δ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazemodels.metrics import behaviour as B


def _table(scanpaths: dict, target: dict | None = None) -> pd.DataFrame:
    rows = []
    for (stim, subj), objs in scanpaths.items():
        for i, o in enumerate(objs):
            row = {"stimulus": stim, "subject": subj, "trial": 0, "fix_index": i, "x": 0.0, "y": 0.0,
                   "t_start": np.nan, "duration": np.nan, "object": o}
            if target is not None:
                row["target"] = target[stim]
            rows.append(row)
    return pd.DataFrame(rows)


def test_classify_visits_hand_computed():
    kinds = B.classify_visits(["a", "b", "b", "a", "c", "a", "a"])
    F, R, V = B.FIRST_VISIT, B.REFIXATION, B.REVISIT
    assert kinds.tolist() == [F, F, R, V, F, V, R]
    assert B.classify_visits([]).tolist() == []
    assert B.classify_visits([3]).tolist() == [F]


def test_statistics_hand_computed():
    table = _table(
        {
            ("img1", 1): ["a", "b", "b", "t"],  # F F R F, ends on target
            ("img1", 2): ["b", "a", "b", "b", "a", "c"],  # F F V R V F, does not end on target
        },
        target={"img1": "t"},
    )
    stats = B.behaviour_statistics(table)
    assert stats["n_scanpaths"] == 2
    assert stats["ends_on_target"] == pytest.approx(0.5)
    assert stats["length"] == pytest.approx(5.0)
    # 10 fixations: 6 first visits, 2 refixations, 2 revisits
    assert stats["first_visit"] == pytest.approx(0.6)
    assert stats["refixation"] == pytest.approx(0.2)
    assert stats["revisit"] == pytest.approx(0.2)
    per = B.scanpath_behaviour(table)
    assert per[["n_first_visit", "n_refixation", "n_revisit"]].to_numpy().tolist() == [[3, 1, 0], [3, 1, 2]]


def test_unlabelled_fixations_are_dropped_or_rejected():
    table = _table({("s", 1): ["a", None, "a", "t"]}, target={"s": "t"})
    stats = B.behaviour_statistics(table)
    # without the unlabelled fixation: a a t -> F R F
    assert stats["length"] == 3.0
    assert stats["refixation"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="1 fixation\\(s\\) have no object label"):
        B.behaviour_statistics(table, drop_unlabelled=False)


def test_ends_on_target_from_found_column():
    table = _table({("s", 1): ["a", "b"], ("s", 2): ["a", "c"]})
    table["found"] = [False, True, False, False]
    assert B.behaviour_statistics(table, target=None)["ends_on_target"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="need a target column"):
        B.behaviour_statistics(table.drop(columns="found"))


def test_behaviour_delta_hand_computed():
    human = {"ends_on_target": 0.8, "length": 10.0, "first_visit": 0.6, "refixation": 0.25, "revisit": 0.15}
    model = {"ends_on_target": 0.6, "length": 12.0, "first_visit": 0.6, "refixation": 0.2, "revisit": 0.2}
    # |.2|/.8 + 2/10 + 0 + .05/.25 + .05/.15 over 5
    expected = (0.25 + 0.2 + 0.0 + 0.2 + 1 / 3) / 5
    assert B.behaviour_delta(model, human) == pytest.approx(expected)
    assert B.behaviour_delta(human, human) == 0.0
    assert B.behaviour_delta(model, human, statistics=["length"]) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="human value of 'revisit' is 0"):
        B.behaviour_delta(model, {**human, "revisit": 0.0})
    with pytest.raises(ValueError, match="'length' is missing"):
        B.behaviour_delta({"ends_on_target": 1.0}, human)


def test_shares_sum_to_one_on_random_scanpaths():
    rng = np.random.default_rng(0)
    table = _table(
        {("s", i): list(rng.integers(0, 5, rng.integers(1, 15))) for i in range(20)},
        target={"s": 3},
    )
    st = B.behaviour_statistics(table)
    assert st["first_visit"] + st["refixation"] + st["revisit"] == pytest.approx(1.0)
    # a permutation of the scanpaths (rows shuffled) changes nothing: order comes from fix_index
    shuffled = table.sample(frac=1.0, random_state=1)
    assert B.behaviour_statistics(shuffled) == st
