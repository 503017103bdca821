"""Intersection and T/L: the condition names the target's shape."""

from __future__ import annotations

import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.stimuli import intersection

from ._helpers import crop, ink, shape_moments


def _mirror_asymmetry(a: np.ndarray) -> float:
    """Smallest mismatch of the shape with its left-right or top-bottom mirror image."""
    return min(np.abs(a - a[:, ::-1]).sum(), np.abs(a - a[::-1]).sum()) / a.sum()


def _is_cross(a: np.ndarray) -> bool:
    # the cross is symmetric about its long bar; the non-cross's half-bars are offset
    return bool(_mirror_asymmetry(a) < 0.05)


def _is_l(a: np.ndarray) -> bool:
    # an L's ink centroid is off-centre along both axes (towards its corner); a T's only along one
    c = np.abs(shape_moments(a)[0]) / a.shape[0]
    return bool(c.min() > 0.1)


@pytest.mark.parametrize("condition, target_is_cross", [("cross", True), ("non_cross", False)])
def test_cross_and_non_cross_targets(condition, target_is_cross):
    for d in S.generate("intersection", seed=3, n_per_set_size=3, conditions=[condition]):
        assert _is_cross(ink(d.target)) is target_is_cross
        for b in d.distractor_boxes:
            assert _is_cross(ink(crop(d.image, b))) is not target_is_cross


@pytest.mark.parametrize("condition, target_is_l", [("Ls", True), ("Ts", False)])
def test_l_and_t_targets(condition, target_is_l):
    for d in S.generate("t_vs_l", seed=3, n_per_set_size=3, conditions=[condition]):
        assert _is_l(ink(d.target)) is target_is_l
        for b in d.distractor_boxes:
            assert _is_l(ink(crop(d.image, b))) is not target_is_l


def test_shapes_have_the_same_stroke_and_comparable_ink():
    ppd = 30.0
    area = {s: intersection.item_sprite(s, "identity", ppd).alpha.sum() / ppd**2 for s in intersection.SHAPES}
    w, n = 0.55, 5.5
    # two full bars minus their overlap; the non-cross's half-bars add up to one bar
    assert area["cross"] == pytest.approx(2 * n * w - w * w, rel=0.02)
    assert area["non_cross"] == pytest.approx(2 * n * w - w * w, rel=0.02)
    assert area["L"] == pytest.approx(2 * n * w - w * w, rel=0.02)
    assert area["T"] == pytest.approx(2 * n * w - w * w, rel=0.02)


def test_variants_are_the_four_upstream_transforms():
    ppd = 30.0
    base = intersection.item_sprite("T", "identity", ppd).alpha
    np.testing.assert_array_equal(intersection.item_sprite("T", "flipud", ppd).alpha, base[::-1])
    np.testing.assert_array_equal(intersection.item_sprite("T", "transpose", ppd).alpha, base.T)
    np.testing.assert_array_equal(intersection.item_sprite("T", "transpose_fliplr", ppd).alpha, base.T[:, ::-1])
    # the T's bar is at the top; black on white
    assert base[: base.shape[0] // 4].sum() > base[-base.shape[0] // 4 :].sum()
    d = S.get_stimulus_set("t_vs_l").render("Ts", 9, seed=0)
    assert d.image[0, 0].tolist() == [255, 255, 255] and d.image.min() == 0
    # 9 items fill the 3 x 3 grid
    assert len({(x // 205, y // 205) for x, y, _, _ in d.item_boxes}) == 9
