"""``gazemodels fit``: exit codes, --set, errors naming the key, and ``predict --model runs/NAME/best.pt``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gazemodels.cli import main
from gazemodels.data import validate_fixations
from training._helpers import read_metrics, toy_config, write_config


def _run(capsys, *argv):
    rc = main(["fit", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path / "toy.toml", toy_config(train={"epochs": 2}))


def test_fit_then_predict_with_best_pt(config, tmp_path, capsys):
    out = tmp_path / "runs" / "toy"
    rc, stdout, err = _run(capsys, config, "--out", out, "--set", "train.epochs=3", "--set", "optim.lr=0.03")
    assert rc == 0, err
    summary = json.loads(stdout)
    assert summary["epochs_done"] == 3 and summary["stop_reason"] == "epochs"
    assert json.loads((out / "config.json").read_text())["optim"]["lr"] == 0.03
    assert len(read_metrics(out / "metrics.csv")) == 3
    assert "epoch 3/3: train_loss" in err

    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(2):
        Image.fromarray(np.full((60, 80, 3), 40 * i, np.uint8)).save(images / f"im{i}.png")
    pred = tmp_path / "pred.csv"
    rc = main(["predict", "--model", str(out / "best.pt"), "--images", str(images), "--n-scanpaths", "3",
               "--n-fixations", "4", "--seed", "1", "--out", str(pred)])
    assert rc == 0, capsys.readouterr().err
    table = pd.read_csv(pred)
    stimuli = pd.DataFrame({"stimulus": ["im0.png", "im1.png"], "width": 80, "height": 60})
    validate_fixations(table, stimuli, require_duration=True)
    assert len(table) == 2 * 3 * 4
    assert json.loads((tmp_path / "pred.csv.json").read_text())["model"] == "toy-next-fixation"


@pytest.mark.parametrize("cfg_over, sets, message", [
    ({"train": {"epochs": "2"}}, [], "train.epochs: expected int, got str ('2')"),
    ({}, ["train.epohcs=2"], "train.epohcs: unknown key"),
    ({}, ["optim.name=lbfgs"], "optim.name: must be one of"),
    ({"task": {"data_file": "/no/such/pairs.npz"}}, [], "task.data_file: no such file or folder: /no/such/pairs.npz"),
    ({"task": {"name": "no-such-task"}}, [], "task.name: unknown task 'no-such-task'"),
])
def test_bad_configs_exit_2_naming_the_key(tmp_path, capsys, cfg_over, sets, message):
    path = write_config(tmp_path / "bad.toml", toy_config(**cfg_over))
    argv = [path, "--out", tmp_path / "run"]
    for s in sets:
        argv += ["--set", s]
    rc, _, err = _run(capsys, *argv)
    assert rc == 2
    assert "gazemodels fit: error:" in err and message in err
    assert not (tmp_path / "run").exists()


def test_usage_errors_exit_2(config, tmp_path, capsys):
    rc, _, err = _run(capsys, tmp_path / "missing.toml", "--out", tmp_path / "run")
    assert rc == 2 and "missing.toml: no such config file" in err
    rc, _, err = _run(capsys, config)
    assert rc == 2 and "--out is required" in err
    rc, _, err = _run(capsys, "--out", tmp_path / "run")
    assert rc == 2 and "a CONFIG file is required" in err
    rc, _, err = _run(capsys, "--out", tmp_path / "run", "--resume")
    assert rc == 2 and "no checkpoint to resume, and no config given" in err


def test_checkpoint_errors_exit_2(config, tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(capsys, config, "--out", out, "--set", "train.epochs=1", "--no-progress")[0] == 0
    rc, _, err = _run(capsys, config, "--out", out)
    assert rc == 2 and "already holds a run (last.pt): continue it with --resume" in err
    rc, _, err = _run(capsys, config, "--out", out, "--resume", "--set", "optim.lr=0.5")
    assert rc == 2 and "optim.lr: 0.02 in the checkpoint, 0.5 now" in err
    data = (out / "last.pt").read_bytes()
    (out / "last.pt").write_bytes(data[:100])
    rc, _, err = _run(capsys, config, "--out", out, "--resume")
    assert rc == 2 and "last.pt: cannot read the training checkpoint: the file is truncated or corrupt" in err


def test_a_failed_training_exits_1(tmp_path, capsys):
    data = tmp_path / "pairs.npz"
    np.savez(data, cur=np.full((128, 2), np.inf), nxt=np.zeros((128, 2)))
    path = write_config(tmp_path / "c.toml", toy_config(task={"data_file": str(data)}))
    rc, _, err = _run(capsys, path, "--out", tmp_path / "run", "--no-progress")
    assert rc == 1 and "training failed: the training loss is" in err


def test_list_tasks_and_help(capsys):
    rc, out, _ = _run(capsys, "--list-tasks")
    assert rc == 0 and "toy-next-fixation" in out
    with pytest.raises(SystemExit) as e:
        main(["fit", "--help"])
    assert e.value.code == 0
    assert "--resume" in capsys.readouterr().out
