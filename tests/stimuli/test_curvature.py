"""Curvature: the target of line_in_curves is straight among curves, and the reverse."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.stimuli import curvature

from ._helpers import crop, ink, shape_moments


def _minor_std(image, box) -> float:
    return float(shape_moments(ink(crop(image, box), 0.0))[1][0])


@pytest.mark.parametrize("condition, target_straighter", [("line_in_curves", True), ("curve_in_lines", False)])
def test_condition_names_the_target(condition, target_straighter):
    for d in S.generate("curvature", seed=1, n_per_set_size=2, conditions=[condition]):
        t = _minor_std(d.image, d.target_box)
        others = [_minor_std(d.image, b) for b in d.distractor_boxes]
        # a straight bar is thin across its axis (0.2 deg stroke: ~1.8 px std); the curve's
        # 0.2 deg depth widens it (~2.4 px)
        if target_straighter:
            assert t < min(others) - 0.3
        else:
            assert t > max(others) + 0.3
        shape = "line" if target_straighter else "curve"
        assert d.target_label.startswith(shape + "@")
        assert all(not lab.startswith(shape + "@") for lab in d.distractor_labels)


def test_white_items_on_black_in_four_balanced_orientations():
    d = S.get_stimulus_set("curvature").render("curve_in_lines", 32, seed=4)
    assert d.image[0, 0].tolist() == [0, 0, 0] and d.image.max() == 255
    angles = Counter(lab.split("@")[1] for lab in (d.target_label,) + d.distractor_labels)
    assert sorted(angles) == sorted(f"{a:g}" for a in curvature.ORIENTATIONS)
    assert set(angles.values()) == {8}


def test_line_and_curve_dimensions_in_degrees():
    ppd = 30.0
    line = curvature.item_sprite("line", 180.0, ppd)
    curve = curvature.item_sprite("curve", 180.0, ppd)
    # line: 1.2 x 0.2 deg
    assert line.alpha.sum() == pytest.approx(1.2 * 0.2 * ppd**2, rel=0.02)
    # curve: arc of radius 1 deg spanning 1.3 rad, stroke 1/6 deg
    assert curve.alpha.sum() == pytest.approx(1.3 * (1 / 6) * ppd**2, rel=0.02)
    # the curve's chord (2 sin(0.65) deg) and depth (1 - cos(0.65) deg plus the stroke)
    ys, xs = np.nonzero(curve.alpha > 0.5)
    assert (xs.max() - xs.min() + 1) / ppd == pytest.approx(2 * np.sin(0.65) + 0.1, abs=0.1)
    assert (ys.max() - ys.min() + 1) / ppd == pytest.approx(1 - np.cos(0.65) + 1 / 6, abs=0.07)
    # both are centred in their 1.6 deg box
    for s in (line, curve):
        c, _, _ = shape_moments(s.alpha)
        assert np.abs(c).max() < 0.15 * ppd
