"""Anti-aliased coverage, rotation convention, sprites and compositing."""

from __future__ import annotations

import numpy as np
import pytest

from gazemodels.stimuli import _draw as D


def test_rectangle_on_the_grid_fills_exactly_its_pixels():
    a = D.coverage((10, 12), [D.rectangle(2, 3, 7, 5)])
    expected = np.zeros((10, 12), np.float32)
    expected[3:5, 2:7] = 1
    np.testing.assert_array_equal(a, expected)


def test_subpixel_edges_give_partial_coverage():
    a = D.coverage((4, 4), [D.rectangle(0.5, 0, 2.25, 4)])
    np.testing.assert_allclose(a[0], [0.5, 1.0, 0.25, 0.0])


@pytest.mark.parametrize("angle", [0.0, 20.0, 45.0, 90.0, 135.0])
def test_areas_match_the_geometry(angle):
    bar = D.coverage((60, 60), [D.bar((30, 30), 40, 7, angle)])
    assert bar.sum() == pytest.approx(280.0, rel=0.02)
    disc = D.coverage((60, 60), [D.disc((30.3, 29.6), 20.0)])
    assert disc.sum() == pytest.approx(np.pi * 400, rel=0.005)


def test_overlapping_polygons_make_a_union_and_holes_are_cleared():
    plus = D.coverage((20, 20), [D.rectangle(2, 8, 18, 12), D.rectangle(8, 2, 12, 18)])
    assert plus.sum() == pytest.approx(16 * 4 * 2 - 16)
    ring = D.coverage((40, 40), [D.disc((20, 20), 15)], holes=[D.disc((20, 20), 9)])
    assert ring.sum() == pytest.approx(np.pi * (15**2 - 9**2), rel=0.01)
    assert ring[20, 20] == 0


def test_rotation_is_counter_clockwise_on_screen():
    # a point to the right of the centre goes up (smaller y) under +90 deg, as cv2.getRotationMatrix2D
    p = D.rotate(np.array([[1.0, 0.0]]), 90.0, (0.0, 0.0))
    np.testing.assert_allclose(p, [[0.0, -1.0]], atol=1e-12)
    import cv2

    m = cv2.getRotationMatrix2D((0.0, 0.0), 30.0, 1.0)
    q = np.array([[3.0, 1.0]])
    np.testing.assert_allclose(D.rotate(q, 30.0, (0.0, 0.0)), q @ m[:, :2].T + m[:, 2], atol=1e-12)


def test_sprite_transforms_and_compositing():
    alpha = np.zeros((4, 4), np.float32)
    alpha[0, :2] = 1.0
    s = D.Sprite(alpha, 0.0)
    np.testing.assert_array_equal(s.transformed("flipud").alpha, alpha[::-1])
    np.testing.assert_array_equal(s.transformed("transpose_fliplr").alpha, alpha.T[:, ::-1])
    with pytest.raises(ValueError, match="unknown sprite transform"):
        s.transformed("spin")
    img = D.blank(6, 6, 200)
    half = D.Sprite(np.full((2, 2), 0.5, np.float32), np.array([0.0, 100.0, 250.0]))
    D.composite(img, half, 1, 2)
    assert img[2, 1].tolist() == [100, 150, 225] and img[0, 0].tolist() == [200, 200, 200]
    with pytest.raises(ValueError, match="not inside"):
        D.composite(img, half, 5, 0)
