"""Properties every search-asymmetry generator must have: counts, boxes, templates, seeds."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.stimuli.layout import boxes_overlap
from conftest import dataset_dir

from ._helpers import background, boxes_mask, crop, ink

EXPERIMENTS = S.ASYMMETRY_EXPERIMENTS

# the issue's table, independent of the registry
EXPECTED = {
    "curvature": (("line_in_curves", "curve_in_lines"), (8, 16, 32), 30),
    "lighting_direction": (("left_right", "top_down"), (1, 6, 12), 30),
    "intersection": (("cross", "non_cross"), (3, 6, 9), 36),
    "t_vs_l": (("Ls", "Ts"), (3, 6, 9), 36),
    "orientation_homo": (("homo_t0", "homo_t20"), (1, 4, 8, 12), 30),
    "orientation_hetero": (("hetero_t20", "hetero_t0"), (1, 4, 8, 12), 30),
}


def test_the_six_experiments_are_registered_with_the_issue_conditions():
    for name in EXPERIMENTS:
        s = S.get_stimulus_set(name)
        conds, sizes, n = EXPECTED[name]
        assert (s.conditions, s.set_sizes, s.n_per_set_size) == (conds, sizes, n), name
    assert set(EXPERIMENTS) <= set(S.list_stimulus_sets())


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_default_set_counts_boxes_and_templates(name):
    """Streams the full default set (30 or 36 per condition and set size); the pixel
    checks run on the first 4 displays of each condition and set size."""
    s = S.get_stimulus_set(name)
    counts = Counter()
    ids = set()
    checked = 0
    for d in s.iter_displays(seed=0):
        counts[(d.condition, d.set_size)] += 1
        ids.add(d.stimulus)
        assert d.experiment == name
        assert d.image.dtype == np.uint8 and d.image.ndim == 3 and d.image.shape[2] == 3
        H, W = d.image.shape[:2]
        boxes = d.item_boxes
        # set size counts the target
        assert len(boxes) == d.set_size == len(d.distractor_boxes) + 1 == len(d.distractor_labels) + 1
        # inside the image, with a margin (the gap from each grid cell's edge)
        assert (boxes[:, 0] >= 1).all() and (boxes[:, 1] >= 1).all()
        assert (boxes[:, 0] + boxes[:, 2] <= W - 1).all() and (boxes[:, 1] + boxes[:, 3] <= H - 1).all()
        # no two items overlap; they are at least 2 px apart
        assert not boxes_overlap(boxes, gap=2)
        if counts[(d.condition, d.set_size)] > 4:
            continue
        checked += 1
        # the template is the image at the target box
        assert d.target.shape[:2] == (d.target_box[3], d.target_box[2])
        np.testing.assert_array_equal(d.target, crop(d.image, d.target_box))
        # every drawn pixel lies in an item box, and every box holds an item
        drawn = ink(d.image) > 0
        assert not (drawn & ~boxes_mask(d.image.shape, boxes)).any(), d.stimulus
        for b in boxes:
            assert (ink(crop(d.image, b), background(d.image)) > 0.5).sum() > 20, (d.stimulus, b)
        # the target differs from every distractor
        for b in d.distractor_boxes:
            c = crop(d.image, b)
            assert c.shape != d.target.shape or not np.array_equal(c, d.target), d.stimulus
    conds, sizes, n = EXPECTED[name]
    assert counts == Counter({(c, k): n for c in conds for k in sizes})
    assert len(ids) == sum(counts.values())
    assert checked == 4 * len(conds) * len(sizes)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_same_seed_same_displays_different_seed_different(name):
    s = S.get_stimulus_set(name)
    a = s.generate(seed=7, n_per_set_size=2)
    b = s.generate(seed=7, n_per_set_size=2)
    c = s.generate(seed=8, n_per_set_size=2)
    assert len(a) == len(b) == len(c) == 2 * len(s.conditions) * len(s.set_sizes)
    for x, y, z in zip(a, b, c):
        assert x.stimulus == y.stimulus == z.stimulus
        assert x.seed == y.seed != z.seed
        np.testing.assert_array_equal(x.image, y.image)
        np.testing.assert_array_equal(x.distractor_boxes, y.distractor_boxes)
        assert x.target_box == y.target_box
    assert sum(not np.array_equal(x.image, z.image) for x, z in zip(a, c)) == len(a)
    # displays of one seed are not copies of each other
    assert len({x.image.tobytes() for x in a}) == len(a)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_display_is_regenerated_from_its_own_seed(name):
    s = S.get_stimulus_set(name)
    d = s.generate(seed=3, n_per_set_size=3)[-1]
    again = s.render(d.condition, d.set_size, seed=d.seed)
    np.testing.assert_array_equal(again.image, d.image)
    assert again.target_box == d.target_box


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_asking_for_a_subset_keeps_the_displays(name):
    s = S.get_stimulus_set(name)
    full = {d.stimulus: d for d in s.generate(seed=11, n_per_set_size=2)}
    c, k = s.conditions[1], s.set_sizes[-1]
    for d in s.generate(seed=11, n_per_set_size=2, conditions=[c], set_sizes=[k]):
        np.testing.assert_array_equal(d.image, full[d.stimulus].image)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_sizes_scale_with_px_per_degree(name):
    s = S.get_stimulus_set(name)
    c, k = s.conditions[0], s.set_sizes[-1]
    lo = s.render(c, k, seed=5, px_per_degree=30.0)
    hi = s.render(c, k, seed=5, px_per_degree=60.0)
    assert hi.px_per_degree == 60.0
    assert abs(hi.width - 2 * lo.width) <= 1 and abs(hi.height - 2 * lo.height) <= 1
    assert abs(hi.target_box[2] - 2 * lo.target_box[2]) <= 1
    # the drawn area scales with the square of the resolution
    a_lo, a_hi = ink(lo.target).sum(), ink(hi.target).sum()
    assert a_hi / a_lo == pytest.approx(4.0, rel=0.05)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_items_are_anti_aliased(name):
    s = S.get_stimulus_set(name)
    d = s.render(s.conditions[0], s.set_sizes[-1], seed=2)
    a = ink(d.image)
    partial = (a > 0.05) & (a < 0.95)
    assert partial.sum() > 10 * d.set_size  # soft edges, not a binary image


def test_the_pixel_geometry_follows_upstream_at_30_px_per_degree():
    # field and item box sizes of the upstream gen_*.ipynb scripts (deg2px = 30)
    sizes = {"curvature": (339, 48), "lighting_direction": (198, 31), "intersection": (615, 177),
             "t_vs_l": (615, 177), "orientation_homo": (339, 69), "orientation_hetero": (339, 69)}
    for name, (field, item) in sizes.items():
        s = S.get_stimulus_set(name)
        d = s.render(s.conditions[0], s.set_sizes[0], seed=0)
        assert (d.width, d.height, d.target_box[2], d.target_box[3]) == (field, field, item, item), name


def test_every_condition_of_the_human_data_is_generated(shared_data):
    path = dataset_dir(shared_data, "search-asymmetry") / "human_rt_by_setsize.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    conds = json.loads(path.read_text())["conditions"]
    for cond, entry in conds.items():
        name = S.condition_experiment(cond)
        s = S.get_stimulus_set(name)
        assert tuple(entry["set_size"]) == s.set_sizes, cond
        ds = s.generate(seed=0, n_per_set_size=1, conditions=[cond])
        assert [d.set_size for d in ds] == list(entry["set_size"])
        assert all(d.condition == cond for d in ds)
    generated = {c for n in EXPERIMENTS for c in S.get_stimulus_set(n).conditions}
    assert generated == set(conds)


def test_rendering_rejects_bad_arguments():
    s = S.get_stimulus_set("curvature")
    with pytest.raises(ValueError, match="unknown condition"):
        s.render("curves", 8, seed=0)
    with pytest.raises(ValueError, match="set_size"):
        s.render("line_in_curves", 0, seed=0)
    with pytest.raises(ValueError, match="cannot place 37 items"):
        s.render("line_in_curves", 37, seed=0)
    with pytest.raises(ValueError, match="px_per_degree"):
        s.render("line_in_curves", 8, seed=0, px_per_degree=-1)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_target_is_anywhere_on_the_grid(name):
    s = S.get_stimulus_set(name)
    ds = s.generate(seed=0, n_per_set_size=30, conditions=s.conditions[:1], set_sizes=s.set_sizes[-1:])
    rows, cols = {"curvature": (6, 6), "lighting_direction": (4, 4), "intersection": (3, 3), "t_vs_l": (3, 3),
                  "orientation_homo": (4, 4), "orientation_hetero": (4, 4)}[name]
    cell = ds[0].width // cols
    where = Counter((d.target_centre[0] // cell, d.target_centre[1] // cell) for d in ds)
    assert len(where) >= min(rows * cols, 30) // 3
    # and not always at the same rank among the items in reading order
    ranks = {sorted(map(tuple, d.item_boxes[:, 1::-1].tolist())).index((d.target_box[1], d.target_box[0]))
             for d in ds}
    assert len(ranks) > 3
