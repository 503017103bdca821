"""COCO-Search18 loader: validation split 1, stimulus identity, split selection, bad JSON."""

import json
import warnings

import numpy as np
import pytest
from conftest import dataset_dir

from gazemodels import datasets
from gazemodels.data.schema import FIXATION_COLUMNS, STIMULUS_COLUMNS
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

VAL1 = "coco_search18_fixations_TP_validation_split1.json"


@pytest.fixture(scope="module")
def real_root(shared_data):
    return dataset_dir(shared_data, "coco-search18")


@pytest.fixture(scope="module")
def raw_trials(real_root):
    return json.loads((real_root / VAL1).read_text())


@pytest.fixture(scope="module")
def coco(real_root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = datasets.load("coco-search18", root=real_root)
    return ds, [str(w.message) for w in caught]


def test_counts_of_validation_split1(coco):
    ds, _ = coco
    fx = ds.fixations
    assert len(fx) == 12_111
    assert fx.groupby(["stimulus", "subject", "trial"]).ngroups == 3_258
    assert len(ds.extras["trials"]) == 3_258
    assert ds.stimuli["image"].nunique() == 315
    assert fx["subject"].nunique() == 10
    assert fx["task"].nunique() == 18
    assert len(ds.stimuli) == 326  # (task, image) pairs


def test_schema_and_optional_columns(coco):
    ds, _ = coco
    fx = ds.fixations
    assert list(fx.columns[:8]) == list(FIXATION_COLUMNS)
    assert set(fx.columns[8:]) == {"task", "condition", "correct", "rt", "split"}
    assert list(ds.stimuli.columns[:5]) == list(STIMULUS_COLUMNS)
    assert fx["t_start"].isna().all()
    assert fx["correct"].dtype == bool and set(fx["condition"]) == {"present"}
    st = ds.stimuli
    assert (st["width"] == 1680).all() and (st["height"] == 1050).all()
    assert st["path"].isna().all()  # images are not part of the fixation release
    assert st["px_per_degree"].iloc[0] == pytest.approx(29.07, abs=0.01)


def test_values_match_the_json(coco, raw_trials):
    ds, _ = coco
    fx = ds.fixations
    # fix_index 0 is the initial centre fixation X[0], Y[0] of every trial.
    first = fx[fx["fix_index"] == 0]
    assert len(first) == len(raw_trials)
    np.testing.assert_allclose(np.sort(first["x"]), np.sort([t["X"][0] for t in raw_trials]))
    np.testing.assert_allclose(np.sort(first["y"]), np.sort([t["Y"][0] for t in raw_trials]))
    assert fx["duration"].sum() == sum(sum(t["T"]) for t in raw_trials)
    t0 = raw_trials[0]
    one = fx[(fx["stimulus"] == f"{t0['task']}/{t0['name']}") & (fx["subject"] == t0["subject"])]
    assert one["x"].tolist() == t0["X"] and one["y"].tolist() == t0["Y"]
    assert one["duration"].tolist() == t0["T"]
    assert (one["rt"] == t0["RT"]).all() and (one["correct"] == bool(t0["correct"])).all()
    trials = ds.extras["trials"]
    assert trials["rt"].sum() == sum(t["RT"] for t in raw_trials)
    assert trials["correct"].sum() == sum(t["correct"] for t in raw_trials)


def test_target_box_belongs_to_the_image_and_task(coco, raw_trials):
    ds, _ = coco
    st = ds.stimuli.set_index("stimulus")
    assert st.loc["bottle/000000211326.jpg", "target_bbox"] == (377, 0, 288, 213)
    # An image searched for two categories is two stimuli, each with its own box.
    per_image = ds.stimuli.groupby("image")["task"].nunique()
    shared = per_image[per_image > 1].index
    assert len(shared) == 11
    img = shared[0]
    rows = ds.stimuli[ds.stimuli["image"] == img]
    for task, box in zip(rows["task"], rows["target_bbox"]):
        expected = next(t["bbox"] for t in raw_trials if t["name"] == img and t["task"] == task)
        assert box == tuple(expected)


def test_offscreen_fixations_kept_and_reported(coco):
    ds, messages = coco
    fx = ds.fixations
    off = (fx["x"] < 0) | (fx["y"] < 0) | (fx["x"] > 1680) | (fx["y"] > 1050)
    assert off.sum() == ds.extras["n_offscreen"] == 5
    assert any("5 of 12111 fixations" in m and "lie off" in m for m in messages)


def test_split_selection(real_root, coco):
    ds, _ = coco
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = datasets.load("coco-search18", root=real_root, splits="validation_split1")
    assert same.fixations.equals(ds.fixations)
    with pytest.raises(DatasetNotFoundError, match="train_split9.*available.*validation_split1"):
        datasets.load("coco-search18", root=real_root, splits=["train_split9"])


# --- bad input -------------------------------------------------------------------------


def _trial(**over):
    t = {"name": "a.jpg", "subject": 1, "task": "cup", "condition": "present",
         "bbox": [10, 10, 50, 50], "X": [840.0, 30.0], "Y": [525.0, 30.0], "T": [200, 300],
         "length": 2, "correct": 1, "RT": 700, "split": "valid"}
    t.update(over)
    return t


def _write(root, trials, split="validation_split1"):
    path = root / f"coco_search18_fixations_TP_{split}.json"
    path.write_text(trials if isinstance(trials, str) else json.dumps(trials))
    return path


def test_synthetic_file_and_trial_numbering(tmp_path):
    _write(tmp_path, [_trial(), _trial(subject=2), _trial(task="bowl", bbox=[0, 0, 5, 5])])
    ds = datasets.load("coco-search18", root=tmp_path)
    assert sorted(ds.stimuli["stimulus"]) == ["bowl/a.jpg", "cup/a.jpg"]
    assert (ds.fixations["trial"] == 0).all() and len(ds.fixations) == 6


def test_truncated_json_names_file_and_line(tmp_path, real_root):
    _write(tmp_path, (real_root / VAL1).read_text()[:1000])
    with pytest.raises(DatasetFormatError,
                       match=r"validation_split1\.json: malformed JSON at line \d+, column \d+"):
        datasets.load("coco-search18", root=tmp_path)


def test_file_of_another_dataset(tmp_path, shared_data):
    amazon = dataset_dir(shared_data, "amazon-book-covers") / "Amazon.json"
    _write(tmp_path, amazon.read_text())
    with pytest.raises(DatasetFormatError, match=r"top level is a JSON dict with keys \['1\.jpg'"):
        datasets.load("coco-search18", root=tmp_path)


def test_missing_key_names_the_trial(tmp_path):
    bad = _trial(subject=3)
    del bad["RT"]
    _write(tmp_path, [_trial(), bad])
    with pytest.raises(DatasetFormatError,
                       match=r"trial 1 \(name 'a\.jpg', subject 3, task 'cup'\) lacks key\(s\) \['RT'\]"):
        datasets.load("coco-search18", root=tmp_path)


def test_inconsistent_lengths(tmp_path):
    _write(tmp_path, [_trial(T=[200])])
    with pytest.raises(DatasetFormatError, match=r"trial 0 .*X, Y, T and 'length' disagree"):
        datasets.load("coco-search18", root=tmp_path)


def test_nan_coordinate_names_the_fixation(tmp_path):
    _write(tmp_path, [_trial(), _trial(subject=2, Y=[525.0, None])])
    with pytest.raises(DatasetFormatError,
                       match=r"have a NaN or infinite coordinate: trial 1 .*subject 2.* fixation 1"):
        datasets.load("coco-search18", root=tmp_path)


def test_non_numeric_coordinate(tmp_path):
    _write(tmp_path, [_trial(X=[840.0, "left"])])
    with pytest.raises(DatasetFormatError, match=r"trial 0 .*X\[1\] = 'left' is not a number"):
        datasets.load("coco-search18", root=tmp_path)


def test_offscreen_reported_or_rejected(tmp_path):
    _write(tmp_path, [_trial(X=[840.0, 1700.0])])
    with pytest.warns(UserWarning, match="1 of 2 fixations .* lie off their stimulus"):
        ds = datasets.load("coco-search18", root=tmp_path)
    assert ds.extras["n_offscreen"] == 1 and ds.fixations["x"].max() == 1700.0
    with pytest.raises(DatasetFormatError, match=r"lie off.*trial 0 .*fixation 1: x=1700"):
        datasets.load("coco-search18", root=tmp_path, allow_offscreen=False)


def test_conflicting_target_boxes(tmp_path):
    _write(tmp_path, [_trial(), _trial(subject=2, bbox=[0, 0, 1, 1])])
    with pytest.raises(DatasetFormatError, match="'cup/a.jpg' has different target boxes"):
        datasets.load("coco-search18", root=tmp_path)


def test_split1_and_split2_are_not_mixed(tmp_path):
    _write(tmp_path, [_trial()], "validation_split1")
    _write(tmp_path, [_trial()], "validation_split2")
    with pytest.raises(ValueError, match="mix the partitions"):
        datasets.load("coco-search18", root=tmp_path)
    ds = datasets.load("coco-search18", root=tmp_path, splits="validation_split2")
    assert len(ds.fixations) == 2


def test_no_file_at_all(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no coco_search18_fixations_TP_"):
        datasets.load("coco-search18", root=tmp_path)
