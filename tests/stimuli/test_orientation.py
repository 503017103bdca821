"""Orientation: target tilts, homogeneous and heterogeneous distractor tilts."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.stimuli import orientation

from ._helpers import crop, ink, shape_moments, tilt_cw_from_vertical


def _tilt(image, box) -> float:
    return tilt_cw_from_vertical(shape_moments(ink(crop(image, box), 255.0))[2])


@pytest.mark.parametrize(
    "condition, target_tilt, distractor_tilts",
    [
        ("homo_t0", 0.0, {20.0}),
        ("homo_t20", 20.0, {0.0}),
        ("hetero_t0", 0.0, {20.0, -20.0, 40.0, -40.0, 60.0, -60.0, 80.0, -80.0}),
        ("hetero_t20", 20.0, {0.0, -20.0, 40.0, -40.0, 60.0, -60.0, 80.0, -80.0}),
    ],
)
def test_measured_tilts(condition, target_tilt, distractor_tilts):
    name = "orientation_homo" if condition.startswith("homo") else "orientation_hetero"
    seen = set()
    for d in S.generate(name, seed=5, n_per_set_size=3, conditions=[condition]):
        assert _tilt(d.image, d.target_box) == pytest.approx(target_tilt, abs=0.5)
        for b in d.distractor_boxes:
            t = _tilt(d.image, b)
            nearest = min(distractor_tilts, key=lambda a: abs(a - t))
            assert t == pytest.approx(nearest, abs=0.5)
            seen.add(nearest)
    assert seen == distractor_tilts


def test_positive_tilt_leans_the_top_to_the_right():
    a = orientation.bar_sprite(20.0, 30.0).alpha
    h = a.shape[0]
    cols = np.arange(a.shape[1])
    top = (a[: h // 3] * cols).sum() / a[: h // 3].sum()
    bottom = (a[-h // 3 :] * cols).sum() / a[-h // 3 :].sum()
    assert top > bottom + 5


@pytest.mark.parametrize("set_size", [4, 8, 12])
def test_heterogeneous_distractors_are_balanced(set_size):
    d = S.get_stimulus_set("orientation_hetero").render("hetero_t0", set_size, seed=9)
    c = Counter(d.distractor_labels)
    assert max(c.values()) - min(c.values()) <= 1
    assert len(c) == min(set_size - 1, 8)
    assert "bar@0" not in c


def test_bar_dimensions_and_set_size_one():
    s = orientation.bar_sprite(0.0, 30.0)
    assert s.alpha.sum() == pytest.approx(2.0 * 0.3 * 900, rel=0.02)
    assert s.shape == (69, 69)
    d = S.get_stimulus_set("orientation_homo").render("homo_t20", 1, seed=0)
    assert d.set_size == 1 and d.distractor_boxes.shape == (0, 4) and d.distractor_labels == ()
    assert orientation.distractor_tilts("hetero_t20") == (80.0, 60.0, 40.0, -20.0, -40.0, -60.0, -80.0, 0.0)
