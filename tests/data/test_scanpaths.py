"""Iteration over scanpaths and conversion to and from numpy arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazemodels.data import (
    FIXATION_COLUMNS,
    from_arrays,
    iter_scanpaths,
    n_scanpaths,
    to_arrays,
    to_padded,
    validate_fixations,
)
from gazemodels.errors import FixationTableError


def shuffled_table(seed: int = 0, n_stimuli: int = 3, n_subjects: int = 4, n_trials: int = 2) -> pd.DataFrame:
    """A valid table whose rows are in random order; x encodes (scanpath, fix_index)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_stimuli):
        for subj in range(n_subjects):
            for trial in range(n_trials):
                n = int(rng.integers(1, 9))
                for k in range(n):
                    sid = (s * 100 + subj * 10 + trial)
                    rows.append((f"img{s}.jpg", subj + 1, trial, k, sid * 100.0 + k, float(rng.uniform(0, 600)),
                                 float(k * 250), float(rng.uniform(80, 600))))
    df = pd.DataFrame(rows, columns=list(FIXATION_COLUMNS))
    df["task"] = "free"
    df = df.sample(frac=1.0, random_state=seed)
    df.index = np.arange(1000, 1000 + len(df))[rng.permutation(len(df))]
    return validate_fixations(df)


def test_iteration_order_and_fixation_order():
    df = shuffled_table()
    before = df.copy(deep=True)
    keys = []
    for key, sp in iter_scanpaths(df):
        keys.append(key)
        assert isinstance(key, tuple) and len(key) == 3
        assert (sp["stimulus"] == key[0]).all() and (sp["subject"] == key[1]).all() and (sp["trial"] == key[2]).all()
        assert sp["fix_index"].tolist() == list(range(len(sp)))
        # original index labels are kept, so rows can be traced back
        pd.testing.assert_frame_equal(sp, df.loc[sp.index])
    assert keys == sorted(keys)  # stimulus, then subject, then trial
    assert len(keys) == len(set(keys)) == n_scanpaths(df) == 3 * 4 * 2
    assert sum(len(sp) for _, sp in iter_scanpaths(df)) == len(df)
    pd.testing.assert_frame_equal(df, before)


def test_iteration_small_known_order():
    df = pd.DataFrame({"stimulus": ["b", "a", "a", "a", "b"], "subject": [1, 2, 1, 1, 0], "trial": 0,
                       "fix_index": [0, 0, 1, 0, 0], "x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": 0.0})
    got = [(k, sp["x"].tolist()) for k, sp in iter_scanpaths(df)]
    assert got == [(("a", 1, 0), [4.0, 3.0]), (("a", 2, 0), [2.0]), (("b", 0, 0), [5.0]), (("b", 1, 0), [1.0])]


def test_iteration_by_custom_keys_and_nan_keys_last():
    df = pd.DataFrame({"stimulus": "a", "subject": [2.0, np.nan, 1.0, np.nan], "trial": 0,
                       "fix_index": [0, 1, 0, 0], "x": [1.0, 2.0, 3.0, 4.0], "y": 0.0})
    keys = [k for k, _ in iter_scanpaths(df, by=["subject"])]
    assert keys[:2] == [(1.0,), (2.0,)] and np.isnan(keys[2][0]) and len(keys) == 3
    assert n_scanpaths(df) == 3
    assert n_scanpaths(df.iloc[:0]) == 0


def test_iteration_missing_column():
    with pytest.raises(FixationTableError, match=r"missing column\(s\) \['fix_index'\]"):
        list(iter_scanpaths(pd.DataFrame({"stimulus": ["a"], "subject": [1], "trial": [0]})))


def test_to_arrays_matches_iteration():
    df = shuffled_table(seed=3)
    arrays, keys = to_arrays(df)
    expected = list(iter_scanpaths(df))
    assert len(arrays) == len(expected) == len(keys)
    assert list(keys.columns) == ["stimulus", "subject", "trial"]
    for a, (key, sp), krow in zip(arrays, expected, keys.itertuples(index=False, name=None)):
        assert krow == key
        np.testing.assert_array_equal(a, sp[["x", "y", "duration"]].to_numpy(dtype=float))
        assert a.dtype == np.float64 and a.shape == (len(sp), 3)
    # x encodes the fixation order, so every array must be increasing in x
    assert all(np.all(np.diff(a[:, 0]) == 1) for a in arrays)
    assert keys["subject"].dtype == df["subject"].dtype


def test_to_arrays_custom_columns_and_errors():
    df = shuffled_table()
    arrays, _ = to_arrays(df, columns=["y", "x"])
    assert arrays[0].shape[1] == 2
    with pytest.raises(FixationTableError, match=r"missing column\(s\) \['pupil'\]"):
        to_arrays(df, columns=["x", "pupil"])
    with pytest.raises(FixationTableError, match="must be numeric"):
        to_arrays(df, columns=["x", "task"])
    arrays, keys = to_arrays(df.iloc[:0])
    assert arrays == [] and len(keys) == 0 and list(keys.columns) == ["stimulus", "subject", "trial"]


def test_round_trip_to_from_arrays():
    df = shuffled_table(seed=5)
    cols = ["x", "y", "t_start", "duration"]
    arrays, keys = to_arrays(df, columns=cols)
    back = from_arrays(arrays, keys, columns=cols)
    assert list(back.columns) == list(FIXATION_COLUMNS)
    expected = (df[list(FIXATION_COLUMNS)].sort_values(["stimulus", "subject", "trial", "fix_index"])
                .reset_index(drop=True))
    pd.testing.assert_frame_equal(back, expected, check_dtype=True)
    assert validate_fixations(back) is back


def test_from_arrays_takes_key_columns_by_name_and_keeps_their_dtype():
    # regression: keys were read with DataFrame.to_numpy(), which uses the keys' own column
    # order (not ``by``) and upcasts int subjects to float next to a float column
    keys = pd.DataFrame({"trial": [0.0, 1.0], "subject": [7, 8], "stimulus": ["a.jpg", "b.jpg"]})
    arrays = [np.array([[1.0, 2.0, 100.0]]), np.array([[3.0, 4.0, 200.0], [5.0, 6.0, np.nan]])]
    out = from_arrays(arrays, keys)
    assert out["stimulus"].tolist() == ["a.jpg", "b.jpg", "b.jpg"]
    assert out["subject"].tolist() == [7, 8, 8] and out["subject"].dtype == np.int64
    assert out["trial"].tolist() == [0.0, 1.0, 1.0]
    assert out["fix_index"].tolist() == [0, 0, 1]
    assert np.isnan(out["duration"].iloc[2]) and out["t_start"].isna().all()


def test_from_arrays_with_tuples_and_defaults():
    out = from_arrays([np.array([[1.0, 2.0]]), np.zeros((3, 2))], [("s1",), ("s2",)], columns=["x", "y"],
                      by=["stimulus"])
    assert list(out.columns) == list(FIXATION_COLUMNS)
    assert out["subject"].tolist() == [0, 0, 0, 0] and out["trial"].tolist() == [0, 0, 0, 0]
    assert out["fix_index"].tolist() == [0, 0, 1, 2]
    assert out["duration"].isna().all()
    empty = from_arrays([], pd.DataFrame(columns=["stimulus", "subject", "trial"]))
    assert len(empty) == 0 and list(empty.columns) == list(FIXATION_COLUMNS)


def test_from_arrays_errors():
    with pytest.raises(FixationTableError, match="got 2 arrays but 1 keys"):
        from_arrays([np.zeros((1, 3)), np.zeros((1, 3))], [("a", 1, 0)])
    with pytest.raises(FixationTableError, match=r"array 1 has shape \(2, 2\), expected \(n, 3\)"):
        from_arrays([np.zeros((1, 3)), np.zeros((2, 2))], [("a", 1, 0), ("a", 2, 0)])
    with pytest.raises(FixationTableError, match="expected 3 values"):
        from_arrays([np.zeros((1, 3))], [("a", 1)])
    with pytest.raises(FixationTableError, match=r"keys lack column\(s\) \['trial'\]"):
        from_arrays([np.zeros((1, 3))], pd.DataFrame({"stimulus": ["a"], "subject": [1]}))
    with pytest.raises(FixationTableError, match="clash"):
        from_arrays([np.zeros((1, 2))], [("a", 1, 0)], columns=["x", "fix_index"])


def test_to_padded():
    df = shuffled_table(seed=7)
    arrays, keys = to_arrays(df)
    padded, lengths, pkeys = to_padded(df)
    assert padded.shape == (len(arrays), max(len(a) for a in arrays), 3)
    np.testing.assert_array_equal(lengths, [len(a) for a in arrays])
    pd.testing.assert_frame_equal(pkeys, keys)
    for i, a in enumerate(arrays):
        np.testing.assert_array_equal(padded[i, : len(a)], a)
        assert np.isnan(padded[i, len(a):]).all()
    padded0, _, _ = to_padded(df, columns=["x", "y"], pad_value=-1.0)
    for i, a in enumerate(arrays):
        assert (padded0[i, len(a):] == -1.0).all()
    # back to arrays from the padded form
    for i, a in enumerate(arrays):
        np.testing.assert_array_equal(padded[i, : lengths[i]], a)
    p, n, k = to_padded(df.iloc[:0])
    assert p.shape == (0, 0, 3) and n.shape == (0,) and len(k) == 0
