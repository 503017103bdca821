"""Lighting direction: shaded discs; the target is lit from the other side of the named axis."""

from __future__ import annotations

import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.stimuli import lighting

from ._helpers import crop, shape_moments


def _bright_side(image, box) -> np.ndarray:
    """Centroid of the luminance inside the disc, relative to the box centre (x right, y down)."""
    c = crop(image, box)[..., 0].astype(float)
    return shape_moments(c)[0]


@pytest.mark.parametrize(
    "condition, target_dir, distractor_dir",
    [("top_down", (0, -1), (0, 1)), ("left_right", (-1, 0), (1, 0))],
)
def test_target_and_distractor_light_directions(condition, target_dir, distractor_dir):
    for d in S.generate("lighting_direction", seed=2, n_per_set_size=2, conditions=[condition]):
        t = _bright_side(d.image, d.target_box)
        assert np.sign(np.round(t, 1)).tolist() == list(target_dir), t
        for b in d.distractor_boxes:
            v = _bright_side(d.image, b)
            assert np.sign(np.round(v, 1)).tolist() == list(distractor_dir), v


def test_names_of_the_light_sides_in_labels():
    d = S.get_stimulus_set("lighting_direction").render("top_down", 6, seed=0)
    assert d.target_label == "disc@lit_above" and set(d.distractor_labels) == {"disc@lit_below"}
    d = S.get_stimulus_set("lighting_direction").render("left_right", 6, seed=0)
    assert d.target_label == "disc@lit_left" and set(d.distractor_labels) == {"disc@lit_right"}


def test_disc_is_a_full_black_to_white_ramp_on_the_upstream_background():
    ppd = 30.0
    s = lighting.disc_sprite("above", ppd)
    box = s.shape[0]
    assert box == round(1.04 * ppd)
    # area of a disc filling the box
    assert s.alpha.sum() == pytest.approx(np.pi * (box / 2) ** 2, rel=0.02)
    col = np.asarray(s.value)[:, box // 2]
    assert col[0] > 245 and col[-1] < 10 and (np.diff(col) < 0).all()
    d = S.get_stimulus_set("lighting_direction").render("top_down", 1, seed=0)
    assert d.image[0, 0].tolist() == [27, 27, 27]
    assert d.set_size == 1 and len(d.distractor_boxes) == 0


def test_unknown_side_is_rejected():
    with pytest.raises(ValueError, match="lit_from"):
        lighting.disc_sprite("front", 30.0)
