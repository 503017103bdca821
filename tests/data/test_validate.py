"""validate_fixations / validate_stimuli: each problem is rejected with a message that names
the place, valid tables come back as the very same, unchanged object."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gazemodels.data import FIXATION_COLUMNS, validate_fixations, validate_stimuli
from gazemodels.errors import FixationTableError

SIZES = {"a.jpg": (800, 600), "b.jpg": (1024, 768), "c.png": (640, 480)}


def stimuli_table(sizes=SIZES) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stimulus": list(sizes),
            "path": [None] * len(sizes),
            "width": [w for w, _ in sizes.values()],
            "height": [h for _, h in sizes.values()],
            "px_per_degree": 24.0,
        }
    )


def table(index=None) -> pd.DataFrame:
    """Two scanpaths on a.jpg (subjects 1, 2) and one on b.jpg; index labels 100.. by default."""
    df = pd.DataFrame(
        {
            "stimulus": ["a.jpg"] * 3 + ["a.jpg"] * 2 + ["b.jpg"] * 2,
            "subject": [1, 1, 1, 2, 2, 1, 1],
            "trial": 0,
            "fix_index": [0, 1, 2, 0, 1, 0, 1],
            "x": [400.0, 100.0, 700.0, 10.0, 20.0, 512.0, 1000.0],
            "y": [300.0, 50.0, 500.0, 10.0, 590.0, 384.0, 700.0],
            "t_start": [0.0, 250.0, 480.0, np.nan, np.nan, 0.0, 300.0],
            "duration": [230.0, 210.0, 190.0, np.nan, 150.0, 280.0, 120.0],
            "task": "free",
        }
    )
    df.index = index if index is not None else np.arange(100, 100 + len(df))
    return df


def test_valid_table_returns_same_object_unchanged():
    df = table()
    before = df.copy(deep=True)
    assert validate_fixations(df) is df
    assert validate_fixations(df, stimuli_table()) is df
    pd.testing.assert_frame_equal(df, before)


def test_empty_table_with_columns_is_valid():
    df = table().iloc[:0]
    assert validate_fixations(df, stimuli_table()) is df


def test_not_a_dataframe():
    with pytest.raises(FixationTableError, match="expected a pandas DataFrame, got dict"):
        validate_fixations({"x": [1.0]})


@pytest.mark.parametrize("col", FIXATION_COLUMNS)
def test_missing_column_is_named(col):
    df = table().drop(columns=[col])
    with pytest.raises(FixationTableError, match=rf"missing required column\(s\) \['{col}'\]"):
        validate_fixations(df)


def test_source_is_named():
    with pytest.raises(FixationTableError, match=r"^osie/fixations\.mat: .*missing"):
        validate_fixations(table().drop(columns=["x"]), source="osie/fixations.mat")


def test_duplicated_column_names():
    df = table()
    df = pd.concat([df, df[["x"]]], axis=1)
    with pytest.raises(FixationTableError, match=r"duplicated column name\(s\) \['x'\]"):
        validate_fixations(df)


@pytest.mark.parametrize("col", ["x", "y", "duration", "fix_index"])
def test_non_numeric_column(col):
    df = table()
    df[col] = df[col].astype(str)
    with pytest.raises(FixationTableError, match=rf"column '{col}' must be numeric"):
        validate_fixations(df)


def test_boolean_coordinates_are_not_numbers():
    df = table()
    df["x"] = True
    with pytest.raises(FixationTableError, match="column 'x' must be numeric"):
        validate_fixations(df)


@pytest.mark.parametrize("col,value", [("x", np.nan), ("y", np.nan), ("x", np.inf), ("y", -np.inf)])
def test_nan_or_infinite_coordinate_names_the_row(col, value):
    df = table()
    df.loc[104, col] = value
    with pytest.raises(FixationTableError) as err:
        validate_fixations(df)
    msg = str(err.value)
    assert "1 fixation(s) have NaN or infinite coordinates" in msg
    assert "row 104 (stimulus='a.jpg', subject=2, trial=0, fix_index=1" in msg
    assert "row 103" not in msg


def test_nullable_float_missing_coordinate_is_rejected():
    df = table()
    df["x"] = df["x"].astype("Float64")
    df.loc[101, "x"] = pd.NA
    with pytest.raises(FixationTableError, match=r"row 101 \(stimulus='a.jpg'"):
        validate_fixations(df)


def test_string_index_labels_are_named():
    df = table(index=[f"r{i}" for i in range(7)])
    df.loc["r5", "y"] = np.nan
    with pytest.raises(FixationTableError, match=r"row 'r5' \(stimulus='b.jpg'"):
        validate_fixations(df)


def test_negative_duration_names_the_row():
    df = table()
    df.loc[105, "duration"] = -5.0
    with pytest.raises(FixationTableError, match=r"1 fixation\(s\) have negative duration: row 105 .*duration=-5\.0"):
        validate_fixations(df)


def test_nan_duration_allowed_unless_required():
    df = table()
    assert df["duration"].isna().any()
    assert validate_fixations(df) is df
    with pytest.raises(FixationTableError, match=r"missing or infinite duration: row 103"):
        validate_fixations(df, require_duration=True)


def test_infinite_duration_and_t_start():
    df = table()
    df.loc[100, "duration"] = np.inf
    with pytest.raises(FixationTableError, match="missing or infinite duration: row 100"):
        validate_fixations(df)
    df = table()
    df.loc[106, "t_start"] = np.inf
    with pytest.raises(FixationTableError, match="infinite t_start: row 106"):
        validate_fixations(df)


def test_gap_in_fix_index_names_the_scanpath():
    df = table()
    df.loc[102, "fix_index"] = 3  # subject 1 on a.jpg: 0, 1, 3
    with pytest.raises(FixationTableError) as err:
        validate_fixations(df)
    msg = str(err.value)
    assert "1 scanpath(s) do not have contiguous fix_index" in msg
    assert "scanpath {'stimulus': 'a.jpg', 'subject': 1, 'trial': 0}" in msg
    assert "rows [100, 101, 102]" in msg
    assert "missing fix_index [2]" in msg


def test_duplicate_fix_index_names_the_scanpath():
    df = table()
    df.loc[106, "fix_index"] = 0  # b.jpg: 0, 0
    with pytest.raises(FixationTableError) as err:
        validate_fixations(df)
    msg = str(err.value)
    assert "scanpath {'stimulus': 'b.jpg', 'subject': 1, 'trial': 0}" in msg
    assert "duplicate fix_index [0]" in msg


def test_duplicated_rows_are_rejected():
    df = table()
    df = pd.concat([df, df.loc[[101]]])
    with pytest.raises(FixationTableError, match=r"duplicate fix_index \[1\]"):
        validate_fixations(df)


def test_fix_index_must_start_at_zero():
    df = table()
    df.loc[[103, 104], "fix_index"] = [1, 2]
    with pytest.raises(FixationTableError, match=r"'subject': 2.*missing fix_index \[0\]"):
        validate_fixations(df)


@pytest.mark.parametrize("value", [1.5, -1.0, np.nan])
def test_fix_index_must_be_a_non_negative_integer(value):
    df = table()
    df["fix_index"] = df["fix_index"].astype(float)
    df.loc[101, "fix_index"] = value
    with pytest.raises(FixationTableError, match=r"fix_index must be a non-negative integer: row 101"):
        validate_fixations(df)


def test_fix_index_order_in_the_table_does_not_matter():
    df = table().iloc[::-1]
    assert validate_fixations(df) is df


def test_nan_scanpath_key_with_gap_is_reported_not_a_crash():
    # regression: the check looked groups up by their labels, which fails for NaN keys (KeyError)
    df = table()
    df["subject"] = df["subject"].astype(float)
    df.loc[[100, 101, 102], "subject"] = np.nan
    df.loc[102, "fix_index"] = 5
    with pytest.raises(FixationTableError, match=r"'subject': nan.*missing fix_index \[2, 3, 4\]"):
        validate_fixations(df)
    df.loc[102, "fix_index"] = 2
    assert validate_fixations(df) is df


def test_many_offenders_are_summarised():
    rows = 30
    df = pd.DataFrame({"stimulus": "a.jpg", "subject": range(rows), "trial": 0, "fix_index": 1,
                       "x": 1.0, "y": 1.0, "t_start": np.nan, "duration": np.nan})
    with pytest.raises(FixationTableError, match=r"30 scanpath\(s\).*; and 22 more$"):
        validate_fixations(df)


# ----------------------------------------------------------------------------- stimuli


def test_off_stimulus_fixation_names_the_row():
    df = table()
    df.loc[106, "x"] = 1024.5  # b.jpg is 1024 wide
    with pytest.raises(FixationTableError) as err:
        validate_fixations(df, stimuli_table())
    msg = str(err.value)
    assert "1 fixation(s) lie off their stimulus" in msg
    assert "row 106 (stimulus='b.jpg', subject=1, trial=0, fix_index=1, x=1024.5, y=700.0)" in msg
    assert "allow_offscreen=True" in msg


@pytest.mark.parametrize("col,value", [("x", -0.1), ("y", -3.0), ("y", 600.01)])
def test_off_stimulus_each_side(col, value):
    df = table()
    df.loc[100, col] = value
    with pytest.raises(FixationTableError, match="row 100"):
        validate_fixations(df, stimuli_table())


def test_border_is_on_the_stimulus():
    df = table()
    df.loc[100, ["x", "y"]] = [800.0, 600.0]
    df.loc[101, ["x", "y"]] = [0.0, 0.0]
    assert validate_fixations(df, stimuli_table()) is df


def test_allow_offscreen_keeps_them_unchanged():
    df = table()
    df.loc[100, "x"] = -50.0
    df.loc[105, "y"] = 5000.0
    before = df.copy(deep=True)
    assert validate_fixations(df, stimuli_table(), allow_offscreen=True) is df
    pd.testing.assert_frame_equal(df, before)


def test_offscreen_without_stimuli_is_not_checked():
    df = table()
    df.loc[100, "x"] = -50.0
    assert validate_fixations(df) is df


def test_unknown_stimulus_is_named_with_its_rows():
    stim = stimuli_table({"a.jpg": (800, 600)})
    with pytest.raises(FixationTableError) as err:
        validate_fixations(table(), stim)
    msg = str(err.value)
    assert "2 fixation(s) refer to 1 stimulus id(s) absent from the stimulus table (['b.jpg'])" in msg
    assert "row 105 (stimulus='b.jpg'" in msg and "row 106" in msg
    # the same holds with allow_offscreen: an unknown stimulus is not an off-screen fixation
    with pytest.raises(FixationTableError, match="absent from the stimulus table"):
        validate_fixations(table(), stim, allow_offscreen=True)


def test_stimulus_table_problems():
    with pytest.raises(FixationTableError, match=r"stimulus table is missing column\(s\) \['height'\]"):
        validate_fixations(table(), stimuli_table().drop(columns=["height"]))
    bad = stimuli_table()
    bad.loc[1, "width"] = np.nan
    with pytest.raises(FixationTableError, match=r"no positive finite width/height for stimulus id\(s\) \['b.jpg'\]"):
        validate_fixations(table(), bad)
    dup = pd.concat([stimuli_table(), stimuli_table().iloc[[0]].assign(width=100)], ignore_index=True)
    with pytest.raises(FixationTableError, match="different sizes for the same stimulus"):
        validate_fixations(table(), dup)
    same_twice = pd.concat([stimuli_table(), stimuli_table().iloc[[0]]], ignore_index=True)
    df = table()
    assert validate_fixations(df, same_twice) is df
    with pytest.raises(FixationTableError, match="stimuli must be a pandas DataFrame"):
        validate_fixations(table(), {"a.jpg": (800, 600)})


def test_validate_stimuli():
    stim = stimuli_table()
    assert validate_stimuli(stim) is stim
    with pytest.raises(FixationTableError, match=r"missing required column\(s\) \['px_per_degree'\]"):
        validate_stimuli(stim.drop(columns=["px_per_degree"]))
    dup = pd.concat([stim, stim.iloc[[2]]], ignore_index=True)
    with pytest.raises(FixationTableError, match=r"listed more than once: row 2 \(stimulus='c.png'\); row 3"):
        validate_stimuli(dup)
    for col, value in [("width", 0), ("height", -1), ("px_per_degree", np.nan)]:
        bad = stim.copy()
        bad[col] = bad[col].astype(float)
        bad.loc[1, col] = value
        with pytest.raises(FixationTableError, match=rf"{col} must be a positive number: row 1 \(stimulus='b.jpg'"):
            validate_stimuli(bad, source="cards/x.toml")


# ----------------------------------------------------------------------------- property-based

STIM_NAMES = list(SIZES)


@st.composite
def valid_tables(draw):
    """A random valid fixation table, its stimulus table, and its scanpaths' row positions."""
    n_paths = draw(st.integers(1, 6))
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(STIM_NAMES), st.integers(0, 3), st.integers(0, 2)),
            min_size=n_paths, max_size=n_paths, unique=True,
        )
    )
    rows = []
    for stim, subj, trial in keys:
        w, h = SIZES[stim]
        n = draw(st.integers(1, 7))
        for k in range(n):
            x = draw(st.floats(0, w, allow_nan=False))
            y = draw(st.floats(0, h, allow_nan=False))
            dur = draw(st.one_of(st.just(np.nan), st.floats(0, 2000, allow_nan=False)))
            t0 = draw(st.one_of(st.just(np.nan), st.floats(-100, 1e5, allow_nan=False)))
            rows.append((stim, subj, trial, k, x, y, t0, dur))
    df = pd.DataFrame(rows, columns=list(FIXATION_COLUMNS))
    if draw(st.booleans()):
        df["task"] = draw(st.sampled_from(["free", "search"]))
    perm = draw(st.permutations(range(len(df))))
    df = df.iloc[list(perm)]
    if draw(st.booleans()):
        df.index = [f"id{i}" for i in range(len(df))]
    if draw(st.booleans()):
        df["fix_index"] = df["fix_index"].astype(float)
    return df


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_tables())
def test_property_valid_tables_come_back_unchanged(df):
    before = copy.deepcopy(df)
    assert validate_fixations(df) is df
    assert validate_fixations(df, stimuli_table()) is df
    assert validate_fixations(df, stimuli_table(), allow_offscreen=True, require_duration=False) is df
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert list(df.index) == list(before.index)


CORRUPTIONS = ["nan_coordinate", "negative_duration", "fix_index_gap", "fix_index_duplicate",
               "offscreen", "dropped_column"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_tables(), st.sampled_from(CORRUPTIONS), st.data())
def test_property_corrupted_tables_are_rejected(df, kind, data):
    bad = df.copy()
    pos = data.draw(st.integers(0, len(bad) - 1), label="row")
    label = bad.index[pos]
    if kind == "nan_coordinate":
        bad.loc[label, data.draw(st.sampled_from(["x", "y"]))] = np.nan
    elif kind == "negative_duration":
        bad.loc[label, "duration"] = -data.draw(st.floats(1e-6, 1e4))
    elif kind == "fix_index_gap":
        # shift every fixation from the chosen one on: fix_index k, k+1, ... become k+1, k+2, ...
        row = bad.loc[label]
        same = ((bad["stimulus"] == row["stimulus"]) & (bad["subject"] == row["subject"])
                & (bad["trial"] == row["trial"]) & (bad["fix_index"] >= row["fix_index"]))
        bad.loc[same, "fix_index"] = bad.loc[same, "fix_index"] + 1
    elif kind == "fix_index_duplicate":
        row = bad.loc[label]
        same = ((bad["stimulus"] == row["stimulus"]) & (bad["subject"] == row["subject"])
                & (bad["trial"] == row["trial"]))
        other = bad.index[same & (bad["fix_index"] != row["fix_index"])]
        if len(other):
            bad.loc[label, "fix_index"] = bad.loc[other[0], "fix_index"]
        else:  # a one-fixation scanpath: duplicate the row itself
            bad = pd.concat([bad, bad.loc[[label]]])
    elif kind == "offscreen":
        w, h = SIZES[bad.loc[label, "stimulus"]]
        col, limit = data.draw(st.sampled_from([("x", w), ("y", h)]))
        delta = data.draw(st.floats(1e-3, 1e4))
        bad.loc[label, col] = limit + delta if data.draw(st.booleans()) else -delta
    elif kind == "dropped_column":
        bad = bad.drop(columns=[data.draw(st.sampled_from(list(FIXATION_COLUMNS)))])
    before = bad.copy(deep=True)
    with pytest.raises(FixationTableError):
        validate_fixations(bad, stimuli_table())
    if kind != "offscreen":  # everything but off-screen points is invalid even without stimuli
        with pytest.raises(FixationTableError):
            validate_fixations(bad)
    else:
        assert validate_fixations(bad, stimuli_table(), allow_offscreen=True) is bad
    pd.testing.assert_frame_equal(bad, before)
