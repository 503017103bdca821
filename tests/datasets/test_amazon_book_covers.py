"""Amazon book-cover loader: counts, target boxes, per-collage sizes, and broken JSON."""

import json
import warnings

import pytest
from conftest import dataset_dir

from gazemodels import datasets
from gazemodels.data.schema import FIXATION_COLUMNS, STIMULUS_COLUMNS
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError


@pytest.fixture(scope="module")
def real_root(shared_data):
    return dataset_dir(shared_data, "amazon-book-covers")


@pytest.fixture(scope="module")
def raw(real_root):
    return json.loads((real_root / "Amazon.json").read_text())


@pytest.fixture(scope="module")
def amazon(real_root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = datasets.load("amazon-book-covers", root=real_root)
    return ds, [str(w.message) for w in caught]


def test_counts_of_the_release(amazon):
    ds, caught = amazon
    fx = ds.fixations
    assert len(fx) == 8_683
    assert len(ds.stimuli) == 100
    assert sorted(fx["subject"].unique()) == [1, 2, 3, 4, 5, 6]
    assert fx.groupby(["stimulus", "subject", "trial"]).ngroups == 600
    assert ds.extras["n_offscreen"] == 0 and caught == []  # nothing to report


def test_schema_and_missing_times(amazon):
    ds, _ = amazon
    assert list(ds.fixations.columns) == list(FIXATION_COLUMNS) + ["target"]
    assert list(ds.stimuli.columns) == list(STIMULUS_COLUMNS) + ["target_bbox", "target"]
    assert ds.fixations["duration"].isna().all() and ds.fixations["t_start"].isna().all()
    assert ds.stimuli["path"].isna().all()


def test_values_match_the_json(amazon, raw):
    ds, _ = amazon
    fx = ds.fixations
    for name in ("1.jpg", "57.jpg"):
        for user, points in raw[name]["fixations"].items():
            got = fx[(fx["stimulus"] == name) & (fx["subject"] == int(user))].sort_values("fix_index")
            assert got[["x", "y"]].to_numpy().tolist() == points
    assert fx.iloc[0][["x", "y"]].tolist() == [1289, 770]


def test_target_boxes_and_sizes(amazon, raw):
    ds, _ = amazon
    st = ds.stimuli.set_index("stimulus")
    # ground_truth xmin 2184, xmax 2339, ymin 22, ymax 262 -> (x, y, w, h)
    assert st.loc["1.jpg", "target_bbox"] == (2184, 22, 155, 240)
    assert tuple(st.loc["1.jpg", ["width", "height"]]) == (2559, 1600)
    for name, entry in raw.items():
        gt = entry["ground_truth"][0]
        assert st.loc[name, "target_bbox"] == (gt["xmin"], gt["ymin"], gt["xmax"] - gt["xmin"],
                                               gt["ymax"] - gt["ymin"])
        assert st.loc[name, "width"] == entry["size"]["width"]
        assert st.loc[name, "target"] == entry["target"]
    assert st["target"].value_counts().to_dict() == {f"target_{i}.jpg": 20 for i in range(5)}


# --- bad input -------------------------------------------------------------------------


def _entry(points=None, **over):
    e = {"fixations": {"1": points if points is not None else [[10, 20], [30, 40]]},
         "ground_truth": [{"xmax": 60, "xmin": 50, "ymax": 80, "ymin": 70}],
         "size": {"height": 100, "width": 200}, "target": "target_0.jpg"}
    e.update(over)
    return e


def _write(root, data, name="Amazon.json"):
    (root / name).write_text(data if isinstance(data, str) else json.dumps(data))
    return root


def test_synthetic_file_in_upstream_layout(tmp_path):
    (tmp_path / "AmazonCovers").mkdir()
    _write(tmp_path, {"1.jpg": _entry()}, "AmazonCovers/Amazon.json")
    ds = datasets.load("amazon-book-covers", root=tmp_path)
    assert ds.fixations["x"].tolist() == [10, 30]
    assert ds.stimuli["target_bbox"].tolist() == [(50, 70, 10, 10)]


def test_truncated_json(tmp_path, real_root):
    _write(tmp_path, (real_root / "Amazon.json").read_text()[:1000])
    with pytest.raises(DatasetFormatError, match=r"Amazon\.json: malformed JSON at line \d+.*truncated"):
        datasets.load("amazon-book-covers", root=tmp_path)


def test_file_of_another_dataset(tmp_path, shared_data):
    coco = dataset_dir(shared_data, "coco-search18")
    text = next(coco.glob("coco_search18_fixations_TP_*.json")).read_text()
    _write(tmp_path, text)
    with pytest.raises(DatasetFormatError, match=r"Amazon\.json: top level is a JSON list"):
        datasets.load("amazon-book-covers", root=tmp_path)


def test_viu_file_is_recognised(tmp_path):
    _write(tmp_path, {"image_r_401.jpg": _entry(cue="cup")})
    with pytest.raises(DatasetFormatError, match="'image_r_401.jpg' has a 'cue' key: this is the VIU"):
        datasets.load("amazon-book-covers", root=tmp_path)


def test_missing_key_names_the_collage(tmp_path):
    bad = _entry()
    del bad["ground_truth"]
    _write(tmp_path, {"1.jpg": _entry(), "2.jpg": bad})
    with pytest.raises(DatasetFormatError, match=r"collage '2\.jpg' lacks key\(s\) \['ground_truth'\]"):
        datasets.load("amazon-book-covers", root=tmp_path)


def test_malformed_point(tmp_path):
    _write(tmp_path, {"1.jpg": _entry([[1, 2], [3, 4, 5]])})
    with pytest.raises(DatasetFormatError, match=r"'1\.jpg', participant '1', point 1: \[3, 4, 5\] is not"):
        datasets.load("amazon-book-covers", root=tmp_path)


def test_nan_coordinate_names_the_point(tmp_path):
    _write(tmp_path, {"1.jpg": _entry([[1, 2], [None, 4]])})
    with pytest.raises(DatasetFormatError,
                       match=r"1 fixation\(s\) have a NaN .*collage '1\.jpg', participant '1', point 1"):
        datasets.load("amazon-book-covers", root=tmp_path)


def test_offscreen_rejected_unless_allowed(tmp_path):
    _write(tmp_path, {"1.jpg": _entry([[1, 2], [250, 50]])})
    with pytest.raises(DatasetFormatError, match=r"lie off.*point 1: x=250, y=50 on a 200x100"):
        datasets.load("amazon-book-covers", root=tmp_path)
    with pytest.warns(UserWarning, match="1 of 2 fixations .* lie off"):
        ds = datasets.load("amazon-book-covers", root=tmp_path, allow_offscreen=True)
    assert ds.fixations["x"].tolist() == [1, 250] and ds.extras["n_offscreen"] == 1


def test_absent_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="Amazon.json"):
        datasets.load("amazon-book-covers", root=tmp_path)
