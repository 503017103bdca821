"""Helpers of the training tests: toy configs, a tiny TOML writer, subprocess environment."""

from __future__ import annotations

import copy
import csv
import os
import sys
from pathlib import Path

import training.toy_task  # noqa: F401  (registers the toy task in this process)
from gazemodels.training.trainer import Callback

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS_DIR.parent
WORKER = Path(__file__).with_name("_fit_worker.py")
VENV_BIN = Path(sys.executable).parent

BASE = {
    "task": {"name": "toy-next-fixation", "module": "training.toy_task", "hidden": 8, "dropout": 0.2,
             "n_train": 96, "n_val": 32},
    "optim": {"name": "adam", "lr": 0.02},
    "train": {"epochs": 3, "batch_size": 10, "seed": 7, "checkpoint_every_steps": 4},
}


def toy_config(**sections) -> dict:
    """The base toy config with sections updated: ``toy_config(train={"epochs": 2})``."""
    cfg = copy.deepcopy(BASE)
    for name, values in sections.items():
        cfg.setdefault(name, {}).update(values)
    return cfg


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def to_toml(cfg: dict, prefix: str = "") -> str:
    """A TOML text of a nested dict of scalars and lists."""
    lines, tables = [], []
    for k, v in cfg.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    out = ""
    if lines:
        out += (f"[{prefix}]\n" if prefix else "") + "\n".join(lines) + "\n\n"
    for k, v in tables:
        out += to_toml(v, f"{prefix}.{k}" if prefix else k)
    return out


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(to_toml(cfg))
    return path


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), str(REPO_ROOT), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def read_metrics(path: Path) -> list[dict]:
    """Rows of metrics.csv without the wall-clock column, numbers as floats."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: float(v) for k, v in r.items() if k != "seconds"} for r in rows]


class Interrupt(Exception):
    """Raised by :class:`StopAfter`: a run killed mid-epoch."""


class StopAfter(Callback):
    """Interrupts a run after ``steps`` optimiser steps."""

    def __init__(self, steps):
        self.steps = steps

    def on_step_end(self, trainer):
        if trainer.state.global_step >= self.steps:
            raise Interrupt
