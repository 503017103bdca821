"""The Task interface: registry, option type checks, default evaluation, batch moving."""

from __future__ import annotations

from collections import namedtuple

import pytest
import torch

from gazemodels.training import Splits, Task, get_task_class, list_tasks, move_to, register_task
from gazemodels.training.task import option_type_error
from training.toy_task import ToyNextFixation


def test_toy_task_is_registered_and_built_from_config():
    assert "toy-next-fixation" in list_tasks()
    cls = get_task_class("toy-next-fixation")
    assert cls is ToyNextFixation and cls.name == "toy-next-fixation"
    task = cls.from_config({"name": "toy-next-fixation", "module": "training.toy_task", "hidden": 3})
    assert task.options["hidden"] == 3 and task.options["n_train"] == 96
    assert "name" not in task.options and "module" not in task.options
    assert cls.options["hidden"] == 8  # the class defaults are untouched


def test_unknown_task_lists_the_registered_ones():
    with pytest.raises(KeyError, match=r"task.name: unknown task 'nope'; registered tasks: \[.*toy-next-fixation"):
        get_task_class("nope")


def test_registering_rules():
    with pytest.raises(ValueError, match="is registered twice"):
        @register_task("toy-next-fixation")
        class Other(ToyNextFixation):
            pass

    with pytest.raises(ValueError, match="not a Task subclass"):
        register_task("not-a-task")(dict)

    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        @register_task("bad-mode")
        class BadMode(ToyNextFixation):
            mode = "lowest"

    with pytest.raises(TypeError):  # abstract methods must be implemented
        class Half(Task):
            def build_model(self):
                return torch.nn.Linear(1, 1)
        Half({})


def test_option_type_error():
    assert option_type_error("task.k", 3, 4) is None
    assert option_type_error("task.k", 3, True) == "task.k: expected int, got bool (True)"
    assert option_type_error("task.k", 0.5, 2) is None
    assert option_type_error("task.k", "a", 2) == "task.k: expected str, got int (2)"
    assert option_type_error("task.k", [1], (1, 2)) is None
    assert option_type_error("task.k", [1], "ab") == "task.k: expected list, got str ('ab')"
    assert option_type_error("task.k", {}, []) == "task.k: expected table, got list ([])"
    assert option_type_error("task.k", None, object()) is None


def test_default_evaluate_is_the_item_weighted_mean_of_the_loss():
    task = ToyNextFixation.from_config({"hidden": 4})
    torch.manual_seed(0)
    net = task.build_model().eval()
    val = task.datasets().val
    got = task.evaluate(net, val, batch_size=7, device="cpu")  # 32 items: batches of 7,7,7,7,4
    with torch.no_grad():
        whole, metrics = task.loss(net, task.collate([val[i] for i in range(len(val))]))
    assert got["val_loss"] == pytest.approx(float(whole), rel=1e-5)
    assert got["val_mae"] == pytest.approx(metrics["mae"], rel=1e-5)
    assert set(got) == {"val_loss", "val_mae"}


def test_move_to_keeps_structure():
    Pair = namedtuple("Pair", "a b")
    batch = {"x": torch.ones(2), "rest": [Pair(torch.zeros(1), "label"), (torch.ones(1), 3)]}
    out = move_to(batch, "cpu")
    assert isinstance(out["rest"][0], Pair) and out["rest"][0].b == "label"
    assert isinstance(out["rest"][1], tuple) and out["rest"][1][1] == 3
    assert torch.equal(out["x"], batch["x"])


def test_splits_test_defaults_to_none():
    assert Splits([1], [2]).test is None
