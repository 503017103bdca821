"""The training loop on the toy task: outputs, determinism, early stopping, failures, best.pt."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gazemodels.models import load_model
from gazemodels.models.scanpath.base import ScanpathModel
from gazemodels.training.checkpoint import load_checkpoint, load_fitted
from gazemodels.training.trainer import Callback, TrainingError, fit
from training._helpers import read_metrics, toy_config
from training.toy_task import A_TRUE, B_TRUE


def _params(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def test_a_run_writes_its_folder_and_learns(tmp_path):
    out = tmp_path / "run"
    res = fit(toy_config(train={"epochs": 4}), out, progress=False)
    for name in ("config.json", "last.pt", "best.pt", "metrics.csv", "learning_curves.png", "summary.json"):
        assert (out / name).is_file(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    rows = read_metrics(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]  # 96 items in batches of 10
    assert {"lr", "train_loss", "train_mae", "val_loss", "val_mae", "best"} <= set(rows[0])
    assert rows[-1]["val_loss"] < 0.5 * rows[0]["val_loss"]
    assert res.best_value == min(r["val_loss"] for r in rows) and res.stop_reason == "epochs"
    with Image.open(out / "learning_curves.png") as im:
        assert im.size[0] > 300
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_epoch"] == res.best_epoch and summary["epochs_done"] == 4
    assert json.loads((out / "config.json").read_text())["train"]["epochs"] == 4
    ck = load_checkpoint(out / "last.pt")
    assert ck["finished"] and ck["epoch"] == 4 and ck["batch"] == 0 and ck["global_step"] == 40


def test_same_seed_same_run_other_seed_other_run(tmp_path):
    a = fit(toy_config(train={"epochs": 2}), tmp_path / "a", progress=False)
    b = fit(toy_config(train={"epochs": 2}), tmp_path / "b", progress=False)
    c = fit(toy_config(train={"epochs": 2, "seed": 8}), tmp_path / "c", progress=False)
    ma, mb, mc = (read_metrics(tmp_path / k / "metrics.csv") for k in "abc")
    assert ma == mb
    assert ma[-1]["train_loss"] != mc[-1]["train_loss"]
    assert a.best_value == b.best_value != c.best_value


def test_early_stopping_stops_after_patience_epochs(tmp_path):
    # with a learning rate of ~0 the validation loss cannot improve after the first epoch
    cfg = toy_config(optim={"name": "sgd", "lr": 1e-12}, train={"epochs": 10, "early_stopping": {"patience": 2}})
    res = fit(cfg, tmp_path / "run", progress=False)
    assert res.stop_reason == "early stopping"
    assert res.epochs_done == 3 and res.best_epoch == 1
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert [r["best"] for r in rows] == [1, 0, 0]


def test_early_stopping_on_a_max_metric(tmp_path):
    cfg = toy_config(train={"epochs": 3, "early_stopping": {"metric": "val_mae", "mode": "max", "patience": 1}})
    res = fit(cfg, tmp_path / "run", progress=False)  # the error falls, so "higher is better" stops at once
    assert res.metric == "val_mae" and res.best_epoch == 1 and res.stop_reason == "early stopping"


def test_unknown_early_stopping_metric(tmp_path):
    cfg = toy_config(train={"epochs": 1, "early_stopping": {"metric": "val_acc"}})
    with pytest.raises(TrainingError, match=r"train.early_stopping.metric: .*no 'val_acc'.*val_loss"):
        fit(cfg, tmp_path / "run", progress=False)


def test_non_finite_loss_is_a_training_error(tmp_path):
    data = tmp_path / "pairs.npz"
    cur = np.zeros((128, 2))
    cur[5] = np.nan
    np.savez(data, cur=cur, nxt=np.zeros((128, 2)))
    cfg = toy_config(task={"data_file": str(data)}, train={"batch_size": 128})
    with pytest.raises(TrainingError, match=r"the training loss is nan at epoch 1, step 1"):
        fit(cfg, tmp_path / "run", progress=False)


@pytest.mark.parametrize("scheduler, check", [
    ("cosine", lambda lrs: lrs[0] > lrs[1] > lrs[2] and lrs[2] == pytest.approx(0.02 * 0.1, rel=0.05)),
    ("step", lambda lrs: lrs == pytest.approx([0.02, 0.002, 0.0002])),
])
def test_schedulers(tmp_path, scheduler, check):
    cfg = toy_config(optim={"scheduler": scheduler, "step_epochs": 1, "min_lr_factor": 0.1})
    fit(cfg, tmp_path / "run", progress=False)
    lrs = [r["lr"] for r in read_metrics(tmp_path / "run" / "metrics.csv")]
    assert check(lrs), lrs


def test_warmup_and_sgd(tmp_path):
    seen = []

    class LR(Callback):
        def on_step_end(self, trainer):
            seen.append(trainer.optimizer.param_groups[0]["lr"])

    cfg = toy_config(optim={"name": "sgd", "lr": 0.1, "momentum": 0.9, "warmup_steps": 4, "grad_clip": 1.0},
                     train={"epochs": 1})
    fit(cfg, tmp_path / "run", progress=False, callbacks=[LR()])
    # the lr after step s is the one of step s + 1: 0.05, 0.075, 0.1, 0.1, ...
    assert seen[:4] == pytest.approx([0.05, 0.075, 0.1, 0.1])


def test_best_pt_is_a_model_file_with_the_best_weights(tmp_path):
    out = tmp_path / "run"
    res = fit(toy_config(train={"epochs": 3}), out, progress=False)
    model = load_model(out / "best.pt")  # the path gazemodels predict --model takes
    assert isinstance(model, ScanpathModel) and model.name == "toy-next-fixation"
    task, net = load_fitted(out / "best.pt")
    assert task.name == "toy-next-fixation" and not net.training
    assert torch.equal(_params(net), _params(model.net))
    blob = torch.load(out / "best.pt", weights_only=False)
    assert blob["training"]["epoch"] == res.best_epoch and blob["training"]["value"] == res.best_value
    # the fitted network learned the rule: its prediction of the mean next fixation is close
    x = torch.tensor([[0.3, -0.4]])
    want = x.numpy() @ A_TRUE.T + B_TRUE
    assert np.abs(net(x).detach().numpy() - want).max() < 0.15
    _, net_last = load_fitted(out / "last.pt")
    if res.best_epoch == 3:
        assert torch.equal(_params(net_last), _params(net))


def test_training_metrics_are_item_weighted_means(tmp_path):
    # 25 items in batches of 10: the last batch has 5 items and counts for 5, not 10
    losses = []

    class Rec(Callback):
        def on_after_backward(self, trainer, loss):
            losses.append(loss)

    cfg = toy_config(task={"n_train": 25, "dropout": 0.0}, train={"epochs": 1})
    fit(cfg, tmp_path / "run", progress=False, callbacks=[Rec()])
    row = read_metrics(tmp_path / "run" / "metrics.csv")[0]
    assert row["train_loss"] == pytest.approx(np.dot(losses, [10, 10, 5]) / 25, rel=1e-6)


def test_data_loading_workers_do_not_change_the_run(tmp_path):
    fit(toy_config(train={"epochs": 1}), tmp_path / "w0", progress=False)
    fit(toy_config(train={"epochs": 1, "num_workers": 2}), tmp_path / "w2", progress=False)
    assert read_metrics(tmp_path / "w0" / "metrics.csv") == read_metrics(tmp_path / "w2" / "metrics.csv")


def test_an_evaluation_error_propagates(tmp_path, monkeypatch):
    from training.toy_task import ToyNextFixation

    def broken(self, model, dataset, *, batch_size, device):
        raise RuntimeError("evaluation broke")

    monkeypatch.setattr(ToyNextFixation, "evaluate", broken)
    with pytest.raises(RuntimeError, match="evaluation broke"):
        fit(toy_config(train={"epochs": 1}), tmp_path / "run", progress=False)
    assert torch.is_grad_enabled() and not torch.are_deterministic_algorithms_enabled()
