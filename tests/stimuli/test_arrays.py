"""General object arrays: layout, colours, similarity, distractor kinds."""

from __future__ import annotations

import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.stimuli.arrays import COLOURS, SHAPES, Item, distractor_pool, item_similarity, object_array
from gazemodels.stimuli.layout import boxes_overlap

from ._helpers import crop, ink


def test_ring_layout_puts_items_on_the_ring():
    t = Item("circle", "red")
    dis = [Item("square", "blue")] * 5
    d = object_array(t, dis, layout="ring", seed=3, px_per_degree=30, field_deg=16, ring_radius_deg=5.5)
    centres = d.item_boxes[:, :2] + d.item_boxes[:, 2:] / 2
    r = np.hypot(centres[:, 0] - 240, centres[:, 1] - 240)
    np.testing.assert_allclose(r, 5.5 * 30, atol=1.0)
    ang = np.sort(np.degrees(np.arctan2(centres[:, 1] - 240, centres[:, 0] - 240)) % 360)
    np.testing.assert_allclose(np.diff(ang), 60, atol=0.5)
    assert not boxes_overlap(d.item_boxes, gap=0.25 * 30)
    assert d.image.shape == (480, 480, 3) and d.layout == "ring"


@pytest.mark.parametrize("layout", ["ring", "grid"])
def test_items_are_drawn_in_their_colours_and_the_template_matches(layout):
    t = Item("square", "green")
    dis = [Item(s, c) for s, c in [("circle", "red"), ("diamond", "blue"), ("triangle", "yellow"),
                                   ("hexagon", "magenta"), ("star", "orange"), ("plus", "cyan")]]
    d = object_array(t, dis, layout=layout, seed=5)
    np.testing.assert_array_equal(d.target, crop(d.image, d.target_box))
    x, y, w, h = d.target_box
    assert d.image[y + h // 2, x + w // 2].tolist() == list(COLOURS["green"])
    for it, (bx, by, bw, bh) in zip(d.distractor_items, d.distractor_boxes):
        assert d.image[by + bh // 2, bx + bw // 2].tolist() == list(COLOURS[it.colour])
    # only the items differ from the grey background
    mask = np.zeros(d.image.shape[:2], bool)
    for bx, by, bw, bh in d.item_boxes:
        mask[by : by + bh, bx : bx + bw] = True
    assert not ((ink(d.image) > 0) & ~mask).any()
    assert [lab for lab in d.distractor_labels] == [it.label for it in d.distractor_items]


def test_every_shape_renders_distinctly():
    crops = []
    for s in SHAPES:
        d = object_array(Item(s, "black"), [], seed=0, background=255)
        a = ink(d.target)
        assert 0.05 < a.mean() < 0.9, s
        crops.append(a)
    for i in range(len(crops)):
        for j in range(i + 1, len(crops)):
            assert np.abs(crops[i] - crops[j]).sum() > 20, (SHAPES[i], SHAPES[j])


def test_similarity():
    a = Item("circle", "red")
    assert item_similarity(a, a) == 1.0
    assert item_similarity(a, Item("square", "blue")) == pytest.approx(1 / 3)
    assert item_similarity(a, Item("square", "blue", 0.5)) == 0.0
    assert item_similarity(a, Item("circle", "blue"), {"shape": 3, "colour": 1, "size": 0}) == 0.75
    with pytest.raises(ValueError, match="unknown feature"):
        item_similarity(a, a, {"texture": 1})
    d = object_array(a, [Item("circle", "blue"), Item("square", "green")], seed=0)
    np.testing.assert_allclose(d.distractor_similarity, [2 / 3, 1 / 3])


def test_distractor_kinds():
    for seed in range(10):
        f = S.random_object_array(7, "feature", seed=seed)
        assert len(set(f.distractor_items)) == 1
        dd = f.distractor_items[0]
        assert dd.shape == f.target_item.shape and dd.colour != f.target_item.colour
        c = S.random_object_array(7, "conjunction", seed=seed)
        t = c.target_item
        shares = [(x.shape == t.shape) + (x.colour == t.colour) for x in c.distractor_items]
        assert shares == [1] * 6
        assert {x.colour == t.colour for x in c.distractor_items} == {True, False}
        m = S.random_object_array(9, "mixed", seed=seed)
        assert m.target_item not in m.distractor_items and len(set(m.distractor_items)) == 8
    assert len(distractor_pool(Item("circle", "red"), "mixed")) == 15
    with pytest.raises(ValueError, match="unknown distractor kind"):
        distractor_pool(Item("circle", "red"), "odd")


def test_reproducible_and_registered():
    a = S.random_object_array(6, "mixed", seed=4)
    b = S.random_object_array(6, "mixed", seed=4)
    c = S.random_object_array(6, "mixed", seed=5)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)
    ds = S.generate("object_array", seed=0, n_per_set_size=2)
    assert len(ds) == 3 * 3 * 2 and {d.condition for d in ds} == {"feature", "conjunction", "mixed"}
    assert all(isinstance(d, S.ObjectArrayDisplay) and d.experiment == "object_array" for d in ds)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown shape"):
        Item("blob", "red")
    with pytest.raises(ValueError, match="unknown colour"):
        Item("circle", "mauve")
    with pytest.raises(ValueError, match="do not fit on a ring"):
        object_array(Item("circle", "red"), [Item("square", "red")] * 20, ring_radius_deg=3.0)
    with pytest.raises(ValueError, match="leave the"):
        object_array(Item("circle", "red"), [Item("square", "red")] * 3, ring_radius_deg=7.5)
    with pytest.raises(ValueError, match="unknown layout"):
        object_array(Item("circle", "red"), [], layout="spiral")
