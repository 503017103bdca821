"""``gazemodels predict --stimuli TABLE``: object boxes and targets for an object-level (OAT) model,
displays without images, and an error naming the file, row and column for each bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from gazemodels.cli import main
from gazemodels.cli.predict import read_stimulus_table, write_stimulus_table
from gazemodels.cli.score import read_fixation_table
from gazemodels.data import validate_fixations
from gazemodels.models import save_model
from gazemodels.models.scanpath.oat import OATModel

W, H, N_OBJ = 200, 150, 6


def _displays(n, seed):
    """Displays of 6 boxes on a jittered 3 x 2 grid, in a random order, with a random target."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        boxes = [[round(k % 3 * W / 3 + rng.uniform(2, 20), 1), round(k // 3 * H / 2 + rng.uniform(2, 20), 1),
                  30.0, 40.0] for k in range(N_OBJ)]
        boxes = [boxes[j] for j in rng.permutation(N_OBJ)]
        t = int(rng.integers(N_OBJ))
        rows.append({"stimulus": f"d{seed}_{i}", "width": float(W), "height": float(H), "px_per_degree": 10.0,
                     "object_boxes": boxes, "target_bbox": boxes[t], "target_index": t})
    return pd.DataFrame(rows)


def _target_first_fixations(displays):
    """Two 'observers' per display who look at the target and stop."""
    rows = []
    for _, r in displays.iterrows():
        x, y, w, h = r["object_boxes"][r["target_index"]]
        for s in range(2):
            rows.append({"stimulus": r["stimulus"], "subject": s, "trial": 0, "fix_index": 0, "x": x + w / 2,
                         "y": y + h / 2, "t_start": 0.0, "duration": 150.0 + 10 * s + len(rows) % 7,
                         "object": r["target_index"]})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def oat_file(tmp_path_factory):
    """A tiny OAT net trained (3 s) to fixate the target first: it can only do so if it is told the target."""
    torch.set_num_threads(1)
    train = _displays(60, 0)
    model = OATModel(config={"width": 16, "heads": 2, "encoder_depth": 1, "decoder_depth": 1, "dropout": 0.0},
                     grid=None, epochs=15, batch_size=16, lr=3e-3)
    model.fit(_target_first_fixations(train).drop(columns="object"), train.assign(path=None))
    path = tmp_path_factory.mktemp("oat") / "oat.pt"
    save_model(model, path)
    return path


def _run(capsys, *argv):
    rc = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_oat_round_trip_with_boxes_and_target(oat_file, tmp_path, capsys):
    test = _displays(20, 1)
    table = tmp_path / "stimuli.csv"
    write_stimulus_table(test.drop(columns="target_index").assign(path=None), table)
    pred = tmp_path / "pred.csv"
    rc, stdout, err = _run(capsys, "--model", oat_file, "--stimuli", table, "--n-scanpaths", 3,
                           "--n-fixations", 4, "--seed", 1, "--out", pred)
    assert rc == 0, err
    assert "warning" not in err
    assert "on 20 display(s) written" in stdout  # no image files: displays, not images
    out = read_fixation_table(pred)  # the reader of gazemodels score
    validate_fixations(out, test, require_duration=True)
    assert len(out) == 20 * 3 * 4
    # ``object`` indexes the boxes of the table: every fixation sits at the centre of its box
    boxes = dict(zip(test["stimulus"], test["object_boxes"]))
    b = np.array([boxes[s][k] for s, k in zip(out["stimulus"], out["object"])])
    np.testing.assert_allclose(out[["x", "y"]].to_numpy(), b[:, :2] + b[:, 2:] / 2)
    # the target reached the model: it looks at it first (chance 1/6)
    first = out[out["fix_index"] == 0].merge(test[["stimulus", "target_index"]], on="stimulus")
    assert (first["object"] == first["target_index"]).mean() > 0.9
    assert json.loads((tmp_path / "pred.csv.json").read_text())["stimuli"] == str(table)

    # the same table without targets: a warning, and the first fixation no longer finds the target
    write_stimulus_table(test.drop(columns=["target_index", "target_bbox"]), table)
    rc, _, err = _run(capsys, "--model", oat_file, "--stimuli", table, "--n-scanpaths", 3, "--n-fixations", 4,
                      "--out", tmp_path / "blind.csv")
    assert rc == 0, err
    assert "no target_bbox" in err and "20 of 20" in err
    blind = pd.read_csv(tmp_path / "blind.csv")
    first = blind[blind["fix_index"] == 0].merge(test[["stimulus", "target_index"]], on="stimulus")
    assert (first["object"] == first["target_index"]).mean() < 0.6

    # gazemodels score reads the output, object labels included
    human = tmp_path / "human.csv"
    _target_first_fixations(test).to_csv(human, index=False)
    summary = tmp_path / "summary.json"
    rc = main(["score", "--pred", str(pred), "--human", str(human), "--metric", "semantic_ss,edit_distance_aoi",
               "--screen", f"{W}x{H}", "--bootstrap", "20", "--summary", str(summary)])
    assert rc == 0, capsys.readouterr().err
    scores = json.loads(summary.read_text())["scores"]
    assert 0 < scores["semantic_ss"]["mean"] <= 1


def test_parquet_lists_and_the_objects_column(tmp_path):
    test = _displays(3, 2).drop(columns="target_index").rename(columns={"object_boxes": "objects"})
    test["objects"] = [[tuple(b) for b in bs] for bs in test["objects"]]  # as to_stimulus_table writes them
    test.to_parquet(tmp_path / "s.parquet")
    back = read_stimulus_table(tmp_path / "s.parquet")
    assert back["object_boxes"].iloc[0] == [tuple(b) for b in test["objects"].iloc[0]]
    assert back["target_bbox"].iloc[1] == tuple(test["target_bbox"].iloc[1])
    test.to_csv(tmp_path / "s.csv", index=False)  # pandas writes the tuples as "(x, y, w, h)"
    assert read_stimulus_table(tmp_path / "s.csv")["object_boxes"].tolist() == back["object_boxes"].tolist()


def _images(folder, n=2):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((H, W, 3), 60 * i, dtype=np.uint8)).save(folder / f"im{i}.png")
    return folder


@pytest.mark.parametrize("model", ["centre", "saliency"])
def test_models_without_objects_read_the_table(model, tmp_path, capsys):
    imgs = _images(tmp_path / "imgs")
    table = tmp_path / "stimuli.csv"
    # relative paths, a size read from the image (im1), boxes the model does not use
    pd.DataFrame({"stimulus": ["a", "b"], "path": ["im0.png", "im1.png"], "width": [W, None],
                  "height": [H, None], "object_boxes": ["[[0, 0, 10, 10]]", ""]}).to_csv(table, index=False)
    rc, _, err = _run(capsys, "--model", model, "--stimuli", table, "--images", imgs, "--n-scanpaths", 2,
                      "--n-fixations", 3, "--out", tmp_path / "p.csv")
    assert rc == 0, err
    out = pd.read_csv(tmp_path / "p.csv")
    assert sorted(out["stimulus"].unique()) == ["a", "b"] and len(out) == 12
    validate_fixations(out, pd.DataFrame({"stimulus": ["a", "b"], "width": W, "height": H}))
    if model == "centre":  # reads no image: a table of sizes is enough, and paths resolve against the table
        pd.DataFrame({"stimulus": ["a"], "width": [W], "height": [H]}).to_csv(table, index=False)
        rc, _, err = _run(capsys, "--model", model, "--stimuli", table, "--n-fixations", 3,
                          "--out", tmp_path / "q.csv")
        assert rc == 0, err
    else:  # relative to the table's folder without --images: not found, named
        rc, _, err = _run(capsys, "--model", model, "--stimuli", table, "--n-fixations", 3,
                          "--out", tmp_path / "q.csv")
        assert rc == 2 and "im0.png" in err and "not found" in err


GOOD = {"stimulus": "s1", "width": W, "height": H, "object_boxes": "[[0, 0, 50, 50], [100, 50, 50, 50]]",
        "target_bbox": "[100, 50, 50, 50]"}


@pytest.mark.parametrize("change, expected", [
    ({"object_boxes": "[[0, 0, 50, 50], [100, 50, 50"}, ["row 2", "'object_boxes'", "not valid JSON"]),
    ({"object_boxes": "[[0, 0, 50, 50], [180, 50, 50, 50]]"}, ["row 2", "'object_boxes'", "box 1", "off the 200 x 150"]),
    ({"object_boxes": "[[50, 0, -10, 50]]"}, ["row 2", "'object_boxes'", "box 0", "w and h must be > 0"]),
    ({"object_boxes": "[[50, 0, 0, 50]]"}, ["row 2", "'object_boxes'", "w and h must be > 0"]),
    ({"object_boxes": "[[0, 0, NaN, 50]]"}, ["row 2", "'object_boxes'", "NaN"]),
    ({"object_boxes": '[[0, 0, "a", 50]]'}, ["row 2", "'object_boxes'", "must be numbers"]),
    ({"object_boxes": '[{"xmin": 0, "ymin": 0, "xmax": 250, "ymax": 9}]'}, ["row 2", "box 0", "off the"]),
    ({"object_boxes": "[[0, 0, 50, 50], [0, 0, 50]]"}, ["row 2", "'object_boxes'", "box 1", "(x, y, w, h)"]),
    ({"object_boxes": "[]"}, ["row 2", "'object_boxes'", "non-empty"]),
    ({"target_bbox": "[0, 0, 50]"}, ["row 2", "'target_bbox'", "one box"]),
    ({"target_bbox": "[0, 60, 10, 10]"}, ["row 2", "'target_bbox'", "overlaps none"]),
    ({"target_bbox": "[0, 0, 50, 200]"}, ["row 2", "'target_bbox'", "off the"]),
    ({"stimulus": "s0"}, ["more than once", "row 1", "row 2", "'s0'"]),
    ({"stimulus": ""}, ["'stimulus' is empty", "[2]"]),
    ({"width": None}, ["row(s) 2", "no width/height and no image"]),
    ({"width": "wide"}, ["width must be a positive number", "row 2", "'wide'"]),
    ({"height": -3}, ["height must be a positive number", "row 2"]),
    ({"px_per_degree": 0}, ["px_per_degree must be a positive number", "row 2"]),
    ({"path": "nowhere.png"}, ["'path'", "not found", "2 ('s1')", "nowhere.png"]),
])
def test_bad_tables_are_named(change, expected, oat_file, tmp_path, capsys):
    rows = pd.DataFrame([{**GOOD, "stimulus": "s0", "px_per_degree": 10}, {**GOOD, "px_per_degree": 10, **change}])
    table = tmp_path / "bad.csv"
    rows.to_csv(table, index=False)
    rc, _, err = _run(capsys, "--model", oat_file, "--stimuli", table, "--n-fixations", 2, "--out", tmp_path / "p.csv")
    assert rc == 2
    assert str(table) in err
    for text in expected:
        assert text in err
    assert not (tmp_path / "p.csv").exists()


def test_missing_columns_and_what_the_model_needs(oat_file, tmp_path, capsys):
    table = tmp_path / "t.csv"
    args = ["--model", oat_file, "--n-fixations", 2, "--out", tmp_path / "p.csv"]
    pd.DataFrame({"name": ["a"], "width": [W], "height": [H]}).to_csv(table, index=False)
    rc, _, err = _run(capsys, *args, "--stimuli", table)
    assert rc == 2 and "needs a 'stimulus' column" in err and str(table) in err
    # this OAT net has no grid to fall back on: it needs every display's boxes
    pd.DataFrame({"stimulus": ["a", "b"], "width": [W, W], "height": [H, H],
                  "object_boxes": [GOOD["object_boxes"], None]}).to_csv(table, index=False)
    rc, _, err = _run(capsys, *args, "--stimuli", table)
    assert rc == 2 and "'object_boxes'" in err and "2 ('b')" in err
    rc, _, err = _run(capsys, *args, "--images", _images(tmp_path / "imgs"))
    assert rc == 2 and "'object_boxes'" in err and "--stimuli" in err
    rc, _, err = _run(capsys, "--model", oat_file, "--out", tmp_path / "p.csv")
    assert rc == 2 and "--stimuli" in err
    rc, _, err = _run(capsys, *args, "--stimuli", tmp_path / "absent.csv")
    assert rc == 2 and "absent.csv" in err


def test_prediction_settings_of_a_saved_oat_model(oat_file, tmp_path, capsys):
    table = tmp_path / "stimuli.csv"
    write_stimulus_table(_displays(5, 3).drop(columns="target_index"), table)
    args = ["--model", oat_file, "--stimuli", table, "--n-scanpaths", 2, "--n-fixations", 6]
    outs = []
    for seed in (0, 1):  # beam search: the same scanpaths whatever the seed
        rc, _, err = _run(capsys, *args, "--param", "decoding=beam", "--seed", seed, "--out", tmp_path / f"b{seed}.csv")
        assert rc == 0, err
        outs.append(pd.read_csv(tmp_path / f"b{seed}.csv"))
    pd.testing.assert_frame_equal(outs[0][["stimulus", "subject", "fix_index", "object"]],
                                  outs[1][["stimulus", "subject", "fix_index", "object"]])
    assert json.loads((tmp_path / "b0.csv.json").read_text())["settings"]["decoding"] == "beam"

    def refixations(df):
        df = df.sort_values(["stimulus", "subject", "fix_index"])
        same = df.groupby(["stimulus", "subject"])["object"].diff() == 0
        return int(same.sum())

    # this net found the target and stays there (stop is masked): refixations, unless forbidden
    assert refixations(outs[0]) > 0
    for decoding in ("beam", "sample"):
        rc, _, err = _run(capsys, *args, "--param", f"decoding={decoding}", "--param", "refixation_penalty=inf",
                          "--out", tmp_path / "p.csv")
        assert rc == 0, err
        assert refixations(pd.read_csv(tmp_path / "p.csv")) == 0

    for bad, text in (("decoding=greedy", "decoding must be 'sample' or 'beam'"),
                      ("refixation_penalty=-1", "refixation_penalty must be >= 0"),
                      ("epochs=3", "unknown setting(s) ['epochs']")):
        rc, _, err = _run(capsys, *args, "--param", bad, "--out", tmp_path / "p.csv")
        assert rc == 2 and text in err, err


def test_a_fit_runs_best_pt_on_a_table_with_images(tmp_path, capsys):
    """``gazemodels fit`` (OAT on rule arrays, with appearance and a template) then ``predict --stimuli``."""
    from training._helpers import write_config

    from gazemodels.models.scanpath.oat_data import rule_array_episode

    task = {"name": "oat", "dataset": "rule-arrays", "data_root": "", "n_train": 12, "n_val_displays": 6,
            "n_test": 4, "set_size": 3, "array_ppd": 4.0, "width": 16, "heads": 2, "encoder_depth": 1,
            "decoder_depth": 1, "appearance": True, "target_location": False, "target_template": True,
            "stem_channels": 8}
    cfg = write_config(tmp_path / "oat.toml", {"task": task, "optim": {"lr": 1e-3},
                                                 "train": {"epochs": 1, "batch_size": 6, "seed": 0}})
    assert main(["fit", str(cfg), "--out", str(tmp_path / "run")]) == 0, capsys.readouterr().err
    rows = []
    for i in range(2):
        ep = rule_array_episode(i, seed=9, set_size=3, px_per_degree=4.0)
        Image.fromarray(ep.image).save(tmp_path / f"{ep.stimulus}.png")
        rows.append({"stimulus": ep.stimulus, "path": f"{ep.stimulus}.png", "px_per_degree": 4.0,
                     "objects": ep.boxes.tolist(), "target_bbox": ep.boxes[ep.target].tolist()})
    table = tmp_path / "stimuli.csv"
    write_stimulus_table(pd.DataFrame(rows), table)  # sizes come from the images
    args = ["--model", tmp_path / "run" / "best.pt", "--n-scanpaths", 2, "--n-fixations", 3]
    rc, _, err = _run(capsys, *args, "--stimuli", table, "--out", tmp_path / "p.csv")
    assert rc == 0, err
    out = pd.read_csv(tmp_path / "p.csv")
    assert len(out) == 2 * 2 * 3 and out["object"].between(0, 2).all()
    # the net encodes the target's template: a table without target boxes is refused, naming the rows
    write_stimulus_table(pd.DataFrame(rows).drop(columns="target_bbox"), table)
    rc, _, err = _run(capsys, *args, "--stimuli", table, "--out", tmp_path / "q.csv")
    assert rc == 2 and "'target_bbox'" in err and "1 ('rule_array_9_0')" in err
