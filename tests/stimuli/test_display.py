"""SearchDisplay assembly and the stimulus table."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import gazemodels.stimuli as S
from gazemodels.data.schema import STIMULUS_COLUMNS
from gazemodels.errors import FixationTableError
from gazemodels.stimuli.display import make_display


def _image():
    img = np.zeros((20, 30, 3), np.uint8)
    img[2:6, 3:8] = 255
    img[10:14, 20:25] = 128
    return img


def test_make_display_splits_target_and_distractors():
    boxes = np.array([[3, 2, 5, 4], [20, 10, 5, 4]])
    d = make_display(_image(), boxes, 1, condition="c", seed=4, px_per_degree=30, labels=["a", "b"])
    assert d.target_box == (20, 10, 5, 4) and d.target_label == "b" and d.distractor_labels == ("a",)
    np.testing.assert_array_equal(d.distractor_boxes, [[3, 2, 5, 4]])
    assert (d.target == 128).all() and d.target.shape == (4, 5, 3)
    np.testing.assert_array_equal(d.item_boxes, [[20, 10, 5, 4], [3, 2, 5, 4]])
    assert (d.width, d.height, d.set_size, d.target_centre) == (30, 20, 2, (22.5, 12.0))
    with pytest.raises(ValueError, match="target_index"):
        make_display(_image(), boxes, 2, condition="c", seed=0, px_per_degree=30)


def test_stimulus_table_follows_the_schema():
    ds = S.generate("t_vs_l", seed=0, n_per_set_size=1)
    t = S.to_stimulus_table(ds)
    assert list(t.columns[: len(STIMULUS_COLUMNS)]) == list(STIMULUS_COLUMNS)
    assert len(t) == 6 and t["path"].isna().all()
    row = t.iloc[0]
    d = ds[0]
    assert row["stimulus"] == d.stimulus == "t_vs_l-Ls-n03-000"
    assert (row["width"], row["height"], row["px_per_degree"]) == (615, 615, 30.0)
    assert row["target_bbox"] == d.target_box
    assert row["objects"][0] == d.target_box and len(row["objects"]) == d.set_size
    assert (row["experiment"], row["condition"], row["set_size"], row["seed"]) == ("t_vs_l", "Ls", 3, d.seed)


def test_duplicate_identifiers_are_rejected():
    d = S.generate("curvature", n_per_set_size=1, set_sizes=[8], conditions=["line_in_curves"])[0]
    with pytest.raises(FixationTableError, match="more than once"):
        S.to_stimulus_table([d, d])


def test_images_are_written_when_asked(tmp_path):
    ds = S.generate("lighting_direction", seed=0, n_per_set_size=1, set_sizes=[6])
    t = S.to_stimulus_table(ds, image_dir=tmp_path / "img")
    for (_, row), d in zip(t.iterrows(), ds):
        img = cv2.cvtColor(cv2.imread(row["path"]), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(img, d.image)
        tgt = cv2.cvtColor(cv2.imread(row["target_path"]), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(tgt, d.target)
