"""Config checks of ``gazemodels fit``: every error names its key."""

from __future__ import annotations

import pytest

from gazemodels.training.config import (
    OPTIM_DEFAULTS,
    TRAIN_DEFAULTS,
    ConfigError,
    apply_overrides,
    load_config,
    parse_override,
    resume_conflicts,
    validate_config,
)
from training._helpers import toy_config, write_config


def test_defaults_are_filled_and_the_task_metric_is_the_default():
    cfg = validate_config({"task": {"name": "toy-next-fixation"}})
    assert set(cfg["optim"]) == set(OPTIM_DEFAULTS) and set(cfg["train"]) == set(TRAIN_DEFAULTS)
    assert cfg["task"]["hidden"] == 8 and cfg["task"]["name"] == "toy-next-fixation"
    assert cfg["train"]["early_stopping"]["metric"] == "val_loss"
    assert cfg["train"]["early_stopping"]["mode"] == "min"
    assert validate_config(cfg) == cfg  # a resolved config is a fixed point


def test_ints_are_accepted_for_floats_and_converted():
    cfg = validate_config(toy_config(optim={"lr": 1}, task={"noise": 0}))
    assert cfg["optim"]["lr"] == 1.0 and isinstance(cfg["optim"]["lr"], float)
    assert isinstance(cfg["task"]["noise"], float)


@pytest.mark.parametrize(
    "section, values, message",
    [
        ("train", {"epochs": "10"}, "train.epochs: expected int, got str ('10')"),
        ("train", {"epochs": 2.5}, "train.epochs: expected int, got float"),
        ("train", {"batch_size": True}, "train.batch_size: expected int, got bool"),
        ("train", {"epoch": 3}, "train.epoch: unknown key"),
        ("train", {"early_stopping": 3}, "train.early_stopping: expected table, got int"),
        ("train", {"early_stopping": {"patiense": 3}}, "train.early_stopping.patiense: unknown key"),
        ("train", {"early_stopping": {"mode": "up"}}, "train.early_stopping.mode: must be one of"),
        ("train", {"epochs": 0}, "train.epochs: must be > 0, got 0"),
        ("train", {"seed": -1}, "train.seed: must be >= 0"),
        ("train", {"device": "gpu"}, "train.device: must be"),
        ("optim", {"name": "rmsprop"}, "optim.name: must be one of 'adam', 'adamw', 'sgd'; got 'rmsprop'"),
        ("optim", {"lr": -0.1}, "optim.lr: must be > 0, got -0.1"),
        ("optim", {"lr": "fast"}, "optim.lr: expected float, got str"),
        ("optim", {"betas": [0.9]}, "optim.betas: expected two numbers"),
        ("task", {"hiddn": 3}, "task.hiddn: unknown key; known keys of [task]:"),
        ("task", {"hidden": 1.5}, "task.hidden: expected int, got float (1.5)"),
        ("task", {"hidden": 0}, "task.hidden: must be >= 1, got 0"),  # the task's own check
        ("task", {"name": "no-such-task"}, "task.name: unknown task 'no-such-task'; registered tasks:"),
        ("task", {"module": "no_such_module_xyz"}, "task.module: cannot import 'no_such_module_xyz'"),
    ],
)
def test_bad_values_name_their_key(section, values, message):
    with pytest.raises(ConfigError) as e:
        validate_config(toy_config(**{section: values}))
    assert message in str(e.value)


def test_unknown_table_and_missing_task():
    with pytest.raises(ConfigError, match=r"trian: unknown key; a config has the tables \[task\]"):
        validate_config({**toy_config(), "trian": {}})
    with pytest.raises(ConfigError, match=r"task: missing; the config needs a \[task\] table"):
        validate_config({"train": {}})
    with pytest.raises(ConfigError, match="task.name: missing"):
        validate_config({"task": {"hidden": 3}})


def test_every_error_is_listed():
    with pytest.raises(ConfigError) as e:
        validate_config(toy_config(train={"epochs": "x", "batch": 3}, optim={"lr": "y"}))
    msg = str(e.value)
    for key in ("train.epochs", "train.batch", "optim.lr"):
        assert key in msg


def test_missing_data_path_names_key_and_path(tmp_path):
    missing = tmp_path / "nope" / "pairs.npz"
    with pytest.raises(ConfigError) as e:
        validate_config(toy_config(task={"data_file": str(missing)}))
    assert f"task.data_file: no such file or folder: {missing}" in str(e.value)
    # not checked when asked not to (rebuilding a model from a checkpoint on another machine)
    validate_config(toy_config(task={"data_file": str(missing)}), check_paths=False)


def test_load_config_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such config file"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nepochs = \n")
    with pytest.raises(ConfigError, match=r"bad.toml: malformed TOML"):
        load_config(bad)
    wrong = write_config(tmp_path / "wrong.toml", toy_config(train={"epochs": "3"}))
    with pytest.raises(ConfigError, match=r"wrong.toml: train.epochs: expected int, got str"):
        load_config(wrong)


def test_overrides_are_typed_and_checked(tmp_path):
    assert parse_override("train.epochs=5") == (["train", "epochs"], 5)
    assert parse_override("optim.lr=3e-4") == (["optim", "lr"], 3e-4)
    assert parse_override("optim.name=sgd") == (["optim", "name"], "sgd")
    assert parse_override("train.deterministic=false") == (["train", "deterministic"], False)
    assert parse_override("optim.betas=[0.8, 0.9]") == (["optim", "betas"], [0.8, 0.9])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_override("train.epochs")
    path = write_config(tmp_path / "c.toml", toy_config())
    cfg = load_config(path, ["train.epochs=5", "train.early_stopping.patience=2"])
    assert cfg["train"]["epochs"] == 5 and cfg["train"]["early_stopping"]["patience"] == 2
    with pytest.raises(ConfigError, match="train.epohcs: unknown key"):
        load_config(path, ["train.epohcs=5"])
    with pytest.raises(ConfigError, match="train.epochs: expected int, got str"):
        load_config(path, ["train.epochs=five"])
    with pytest.raises(ConfigError, match="is not a table"):
        apply_overrides({"train": {"epochs": 3}}, ["train.epochs.x=1"])


def test_resume_conflicts():
    a = validate_config(toy_config())
    assert resume_conflicts(a, a) == []
    b = validate_config(toy_config(train={"device": "cpu", "num_workers": 1, "checkpoint_every_steps": 9,
                                          "epochs": 5}))
    assert resume_conflicts(a, b) == []  # allowed changes, and more epochs without a cosine schedule
    c = validate_config(toy_config(optim={"lr": 0.5}, task={"hidden": 4}))
    assert resume_conflicts(a, c) == ["optim.lr: 0.02 in the checkpoint, 0.5 now",
                                      "task.hidden: 8 in the checkpoint, 4 now"]
    cos_a = validate_config(toy_config(optim={"scheduler": "cosine"}))
    cos_b = validate_config(toy_config(optim={"scheduler": "cosine"}, train={"epochs": 5}))
    assert resume_conflicts(cos_a, cos_b) == ["train.epochs: 3 in the checkpoint, 5 now"]
