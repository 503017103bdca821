"""``gazemodels predict`` on tiny generated images, and ``predict`` followed by ``score``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gazemodels.cli import main
from gazemodels.data import validate_fixations
from gazemodels.models import ScanpathModel, register_model
from gazemodels.models import registry as reg
from gazemodels.simulate.scanpaths import sample_scanpaths

W, H = 80, 60


def _images(folder, n=3, size=(W, H)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        img = (100 + 20 * rng.standard_normal((size[1], size[0], 3))).clip(0, 255).astype(np.uint8)
        img[10 + 5 * i: 20 + 5 * i, 10 + 15 * i: 20 + 15 * i] = 255
        Image.fromarray(img).save(folder / f"im{i}.png")
    return folder


def _humans(names, n_subj=5, n_fix=8):
    tables = []
    for i, name in enumerate(names):
        t = sample_scanpaths(n_subj, n_fix, width=W, height=H, px_per_degree=10, seed=i, stimulus=name)
        tables.append(t.assign(subject=t["subject"] + 1))
    return pd.concat(tables, ignore_index=True)


def _run(capsys, *argv):
    rc = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def images(tmp_path):
    return _images(tmp_path / "imgs")


@pytest.mark.parametrize("model", ["random", "centre", "saliency"])
def test_predict_writes_a_fixation_table(model, images, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    rc, stdout, err = _run(capsys, "--model", model, "--images", images, "--n-scanpaths", 4,
                           "--n-fixations", 5, "--seed", 3, "--out", out, "--px-per-degree", 10)
    assert rc == 0, err
    df = pd.read_csv(out)
    stimuli = pd.DataFrame({"stimulus": [f"im{i}.png" for i in range(3)], "width": W, "height": H})
    validate_fixations(df, stimuli, require_duration=True)
    assert len(df) == 3 * 4 * 5
    assert sorted(df["subject"].unique()) == [0, 1, 2, 3]
    assert "time per image:" in stdout
    meta = json.loads((tmp_path / "pred.csv.json").read_text())
    assert meta["model"] == model and meta["seed"] == 3 and meta["n_images"] == 3
    assert meta["seconds_per_image"] > 0


def test_same_seed_same_table_and_batches_do_not_matter(images, tmp_path, capsys):
    common = ["--model", "saliency", "--images", images, "--n-scanpaths", 3, "--n-fixations", 4]
    assert _run(capsys, *common, "--out", tmp_path / "a.csv", "--batch-size", 1)[0] == 0
    assert _run(capsys, *common, "--out", tmp_path / "b.csv", "--batch-size", 8)[0] == 0
    assert _run(capsys, *common, "--out", tmp_path / "c.csv", "--seed", 1)[0] == 0
    a, b, c = (pd.read_csv(tmp_path / f"{k}.csv") for k in "abc")
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["duration"], c["duration"])


def test_predict_then_score(images, tmp_path, capsys):
    names = [f"im{i}.png" for i in range(3)]
    human = tmp_path / "human.csv"
    _humans(names).to_csv(human, index=False)
    pred = tmp_path / "pred.csv"
    rc, _, err = _run(capsys, "--model", "human-shuffled", "--images", images, "--fit-fixations", human,
                      "--n-scanpaths", 3, "--n-fixations", 6, "--out", pred)
    assert rc == 0, err
    summary = tmp_path / "summary.json"
    rc = main(["score", "--pred", str(pred), "--human", str(human), "--screen", f"{W}x{H}",
               "--metric", "multimatch,scanmatch", "--bootstrap", "50", "--summary", str(summary)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    scores = json.loads(summary.read_text())["scores"]
    assert 0 < scores["multimatch_position"]["mean"] <= 1
    assert json.loads(summary.read_text())["n_stimuli"] == 3


def test_fit_save_and_predict_from_the_saved_model(images, tmp_path, capsys):
    names = [f"im{i}.png" for i in range(3)]
    humans = _humans(names)
    humans["x"] = humans["x"] * 0.3  # a left-shifted centre bias
    human = tmp_path / "human.csv"
    humans.to_csv(human, index=False)
    saved = tmp_path / "centre.pt"
    args = ["--images", images, "--n-scanpaths", 20, "--n-fixations", 5]
    rc, _, err = _run(capsys, "--model", "centre", *args, "--fit-fixations", human, "--save-model", saved,
                      "--out", tmp_path / "a.csv")
    assert rc == 0, err
    rc, _, err = _run(capsys, "--model", saved, *args, "--out", tmp_path / "b.csv")
    assert rc == 0, err
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(a, b)
    assert a["x"].mean() < 0.25 * W  # fitted, not the default centre


def test_fit_on_other_images_needs_their_size(images, tmp_path, capsys):
    human = tmp_path / "human.csv"
    _humans(["elsewhere.jpg"]).to_csv(human, index=False)
    args = ["--model", "human-shuffled", "--images", images, "--fit-fixations", human,
            "--n-fixations", 4, "--out", tmp_path / "p.csv"]
    rc, _, err = _run(capsys, *args)
    assert rc == 2 and "elsewhere.jpg" in err and "--fit-screen" in err
    rc, _, err = _run(capsys, *args, "--fit-screen", f"{W}x{H}")
    assert rc == 0, err


def test_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    rc, _, err = _run(capsys, "--model", "random", "--images", tmp_path / "empty", "--out", tmp_path / "p.csv")
    assert rc == 2 and "empty" in err and "no image files" in err
    rc, _, err = _run(capsys, "--model", "random", "--images", tmp_path / "nope", "--out", tmp_path / "p.csv")
    assert rc == 2 and "nope" in err


def test_unreadable_image_is_named(images, tmp_path, capsys):
    (images / "zz_broken.jpg").write_bytes(b"\xff\xd8 truncated")
    rc, _, err = _run(capsys, "--model", "random", "--images", images, "--out", tmp_path / "p.csv")
    assert rc == 2 and "zz_broken.jpg" in err
    assert not (tmp_path / "p.csv").exists()


def test_unknown_model_lists_the_registered_ones(images, tmp_path, capsys):
    rc, _, err = _run(capsys, "--model", "deepgaze", "--images", images, "--out", tmp_path / "p.csv")
    assert rc == 2 and "deepgaze" in err and "random" in err
    rc, _, err = _run(capsys, "--model", tmp_path / "missing.pt", "--images", images, "--out", tmp_path / "p.csv")
    assert rc == 2 and "missing.pt" in err


@pytest.fixture
def captioned(monkeypatch):
    """A registered model that needs captions and puts every fixation at a position set by the caption."""
    reg.list_models()  # load the built-in models into the real registry before copying it
    monkeypatch.setattr(reg, "_MODELS", dict(reg._MODELS))

    @register_model("test-captioned")
    class Captioned(ScanpathModel):
        needs_image = False
        needs_caption = True

        def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
            x = 5.0 * len(stimulus["caption"])
            return np.tile([x, 1.0], (n_scanpaths, n_fixations, 1))

    return "test-captioned"


def test_captions(captioned, images, tmp_path, capsys):
    cap = tmp_path / "captions.csv"
    pd.DataFrame({"stimulus": ["im0.png", "im1.png", "im2.png"], "caption": ["a", "a dog", "cat"]}).to_csv(
        cap, index=False)
    rc, _, err = _run(capsys, "--model", captioned, "--images", images, "--caption-file", cap,
                      "--n-scanpaths", 1, "--n-fixations", 2, "--out", tmp_path / "p.csv")
    assert rc == 0, err
    x = pd.read_csv(tmp_path / "p.csv").groupby("stimulus")["x"].first()
    assert x.to_dict() == {"im0.png": 5.0, "im1.png": 25.0, "im2.png": 15.0}


def test_missing_caption_is_named(captioned, images, tmp_path, capsys):
    cap = tmp_path / "captions.csv"
    pd.DataFrame({"stimulus": ["im0.png", "im2.png"], "caption": ["a", "b"]}).to_csv(cap, index=False)
    rc, _, err = _run(capsys, "--model", captioned, "--images", images, "--caption-file", cap,
                      "--out", tmp_path / "p.csv")
    assert rc == 2 and "im1.png" in err and "captions.csv" in err
    rc, _, err = _run(capsys, "--model", captioned, "--images", images, "--out", tmp_path / "p.csv")
    assert rc == 2 and "--caption-file" in err
