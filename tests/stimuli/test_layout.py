"""Jittered grid and ring placement, overlap test."""

from __future__ import annotations

import numpy as np
import pytest

from gazemodels.stimuli.layout import boxes_overlap, jittered_grid, ring_positions


def test_jittered_grid_uses_distinct_cells_and_keeps_the_gap():
    rng = np.random.default_rng(0)
    for _ in range(50):
        xy, cells = jittered_grid(rng, 12, image_size=(339, 339), grid=(4, 4), item_size=(69, 69), gap=2)
        assert len(set(cells.tolist())) == 12
        # grid of 84 px cells centred in 339 px: offset 1
        r, c = np.divmod(cells, 4)
        x0, y0 = 1 + c * 84, 1 + r * 84
        assert (xy[:, 0] >= x0 + 2).all() and (xy[:, 0] + 69 <= x0 + 84 - 2).all()
        assert (xy[:, 1] >= y0 + 2).all() and (xy[:, 1] + 69 <= y0 + 84 - 2).all()
        boxes = np.column_stack([xy, np.full((12, 2), 69)])
        assert not boxes_overlap(boxes, gap=4)


def test_jitter_covers_the_cell_slack():
    rng = np.random.default_rng(1)
    xs = [jittered_grid(rng, 1, image_size=(100, 100), grid=(1, 1), item_size=(90, 90), gap=0)[0][0, 0]
          for _ in range(200)]
    assert set(xs) == set(range(0, 11))  # 100 - 90 = 10 px of slack, grid offset 0


def test_jittered_grid_rejects_what_does_not_fit():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="cannot place 17"):
        jittered_grid(rng, 17, image_size=(339, 339), grid=(4, 4), item_size=(10, 10), gap=0)
    with pytest.raises(ValueError, match="does not fit"):
        jittered_grid(rng, 2, image_size=(339, 339), grid=(4, 4), item_size=(82, 82), gap=2)


def test_boxes_overlap():
    assert boxes_overlap(np.array([[0, 0, 10, 10], [5, 5, 10, 10]]))
    assert not boxes_overlap(np.array([[0, 0, 10, 10], [10, 0, 10, 10]]))  # touching
    assert boxes_overlap(np.array([[0, 0, 10, 10], [11, 0, 10, 10]]), gap=2)
    assert not boxes_overlap(np.array([[0, 0, 10, 10]]))


def test_ring_positions():
    p = ring_positions(4, centre=(50.0, 50.0), radius=10.0, start_deg=90.0)
    np.testing.assert_allclose(p, [[50, 40], [40, 50], [50, 60], [60, 50]], atol=1e-9)
