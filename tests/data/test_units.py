"""Pixels <-> degrees of visual angle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gazemodels.data import (
    add_degrees,
    deg_to_px,
    deg_to_px_exact,
    px_per_degree,
    px_to_deg,
    px_to_deg_exact,
)
from gazemodels.errors import FixationTableError


def test_px_per_degree_hand_computed():
    # 1920 px over 53 cm: 36.2264 px/cm. At 60 cm one degree centred on the line of
    # sight spans 2 * 60 * tan(0.5 deg) = 2 * 60 * 0.0087268678 = 1.0472241 cm -> 37.937 px.
    assert px_per_degree(1920, 53.0, 60.0) == pytest.approx(37.9372, abs=1e-4)
    assert px_per_degree(1920, 53.0, 60.0) == pytest.approx(1920 / 53 * 120 * math.tan(math.radians(0.5)))


def test_px_per_degree_spans_exactly_one_degree():
    ppd = px_per_degree(1280, 40.0, 57.0)
    half_cm = ppd / 2 / (1280 / 40.0)
    assert math.degrees(2 * math.atan(half_cm / 57.0)) == pytest.approx(1.0, abs=1e-12)


def test_px_per_degree_scales():
    base = px_per_degree(1000, 50.0, 60.0)
    assert px_per_degree(2000, 50.0, 60.0) == pytest.approx(2 * base)  # more pixels
    assert px_per_degree(1000, 100.0, 60.0) == pytest.approx(base / 2)  # larger screen
    assert px_per_degree(1000, 50.0, 120.0) == pytest.approx(2 * base)  # farther away


@pytest.mark.parametrize("args", [(0, 53, 60), (1920, -1, 60), (1920, 53, np.nan), (1920, 53, np.inf), ("a", 53, 60)])
def test_px_per_degree_rejects_bad_geometry(args):
    with pytest.raises(ValueError, match="must be a positive number"):
        px_per_degree(*args)


def test_px_to_deg_and_back():
    assert px_to_deg(48.0, 24.0) == pytest.approx(2.0)
    assert deg_to_px(2.0, 24.0) == pytest.approx(48.0)
    arr = np.array([-300.0, 0.0, 12.5, 960.0])
    np.testing.assert_allclose(deg_to_px(px_to_deg(arr, 37.9), 37.9), arr)
    assert isinstance(px_to_deg([1, 2], 2.0), np.ndarray)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e5, 1e5), st.floats(0.5, 200))
def test_round_trip_property(px, ppd):
    assert deg_to_px(px_to_deg(px, ppd), ppd) == pytest.approx(px, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("ppd", [0, -24, np.nan])
def test_conversions_reject_bad_px_per_degree(ppd):
    with pytest.raises(ValueError, match="px_per_deg must be a positive number"):
        px_to_deg(10.0, ppd)
    with pytest.raises(ValueError, match="px_per_deg must be a positive number"):
        deg_to_px(10.0, ppd)


def test_exact_conversion_is_atan():
    d = 1000.0
    assert px_to_deg_exact(0.0, d) == 0.0
    assert px_to_deg_exact(d, d) == pytest.approx(45.0)
    assert px_to_deg_exact(-d, d) == pytest.approx(-45.0)
    assert px_to_deg_exact(d / math.sqrt(3), d) == pytest.approx(30.0)
    assert px_to_deg_exact(d * math.sqrt(3), d) == pytest.approx(60.0)
    offsets = np.array([-2500.0, -10.0, 3.0, 800.0])
    np.testing.assert_allclose(px_to_deg_exact(offsets, d), np.degrees(np.arctan(offsets / d)))
    np.testing.assert_allclose(deg_to_px_exact(px_to_deg_exact(offsets, d), d), offsets)


def test_exact_and_linear_agree_near_the_centre_and_differ_far_out():
    # screen 1920 px = 53 cm at 60 cm: the distance is 60 * 1920 / 53 px
    distance_px = 60 * 1920 / 53
    ppd = px_per_degree(1920, 53.0, 60.0)
    assert px_to_deg_exact(10.0, distance_px) == pytest.approx(px_to_deg(10.0, ppd), rel=1e-4)
    # at the screen edge the linear conversion overestimates the angle
    assert px_to_deg(960.0, ppd) > px_to_deg_exact(960.0, distance_px) + 1.0


def test_exact_conversion_rejects_bad_input():
    with pytest.raises(ValueError, match="distance_px"):
        px_to_deg_exact(1.0, 0.0)
    with pytest.raises(ValueError, match="strictly between -90 and 90"):
        deg_to_px_exact(90.0, 100.0)


def _stimuli():
    return pd.DataFrame({"stimulus": ["a", "b"], "path": None, "width": [800, 1000],
                         "height": [600, 500], "px_per_degree": [20.0, 50.0]})


def test_add_degrees_signs_y_up():
    fix = pd.DataFrame({
        "stimulus": ["a"] * 5 + ["b"],
        "x": [400.0, 440.0, 400.0, 400.0, 360.0, 0.0],
        "y": [300.0, 300.0, 260.0, 340.0, 340.0, 0.0],
    }, index=list("pqrstu"))
    before = fix.copy(deep=True)
    out = add_degrees(fix, _stimuli())
    pd.testing.assert_frame_equal(fix, before)  # input untouched
    assert out is not fix and list(out.index) == list("pqrstu")
    np.testing.assert_allclose(out["x_deg"], [0.0, 2.0, 0.0, 0.0, -2.0, -10.0])  # right is +
    np.testing.assert_allclose(out["y_deg"], [0.0, 0.0, 2.0, -2.0, -2.0, 5.0])  # up (smaller y) is +
    pd.testing.assert_frame_equal(out.drop(columns=["x_deg", "y_deg"]), fix)


def test_add_degrees_errors_name_the_stimulus():
    fix = pd.DataFrame({"stimulus": ["a", "zz"], "x": [1.0, 2.0], "y": [1.0, 2.0]})
    with pytest.raises(FixationTableError, match=r"no geometry .*\['zz'\]"):
        add_degrees(fix, _stimuli())
    with pytest.raises(FixationTableError, match=r"missing column\(s\) \['px_per_degree'\]"):
        add_degrees(fix.iloc[:1], _stimuli().drop(columns=["px_per_degree"]))
    bad = _stimuli()
    bad.loc[0, "px_per_degree"] = np.nan
    with pytest.raises(FixationTableError, match=r"px_per_degree is not a positive number .*\['a'\]"):
        add_degrees(fix.iloc[:1], bad)
    conflict = pd.concat([_stimuli(), _stimuli().iloc[[0]].assign(px_per_degree=30.0)])
    with pytest.raises(FixationTableError, match=r"different geometry .*\['a'\]"):
        add_degrees(fix.iloc[:1], conflict)
