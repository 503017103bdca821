"""``gazemodels fit`` under ``torchrun --nproc_per_node=2`` (gloo, CPU) equals one process on the same global batch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from gazemodels.training.checkpoint import load_checkpoint
from gazemodels.training.trainer import Callback, fit
from training._helpers import VENV_BIN, WORKER, read_metrics, subprocess_env, toy_config, write_config

# 21 items in global batches of 10: batches of 10, 10 and 1 item. With 2 processes the shares are 5+5,
# 5+5 and 1+0: the second process computes a zero-weighted loss on a stand-in item in the last step.
CFG = toy_config(task={"n_train": 21, "dropout": 0.0},
                 optim={"name": "sgd", "lr": 0.1, "momentum": 0.9},
                 train={"epochs": 2, "batch_size": 10, "checkpoint_every_steps": 2})


class Record(Callback):
    def __init__(self):
        self.grads, self.losses = [], []

    def on_after_backward(self, trainer, loss):
        self.grads.append(torch.cat([p.grad.detach().flatten() for p in trainer.net.parameters()]).numpy().copy())
        self.losses.append(loss)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    cfg_path = write_config(tmp / "toy.toml", CFG)
    torchrun = VENV_BIN / "torchrun"
    launcher = [str(torchrun)] if torchrun.exists() else [sys.executable, "-m", "torch.distributed.run"]
    proc = subprocess.run(
        [*launcher, "--standalone", "--nproc_per_node=2", str(WORKER), "--record", str(tmp / "rec"), "--",
         "fit", str(cfg_path), "--out", str(tmp / "ddp"), "--no-progress"],
        env=subprocess_env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = Record()
    fit(CFG, tmp / "single", progress=False, callbacks=[single])
    ranks = [np.load(tmp / f"rec.rank{r}.npz") for r in range(2)]
    return tmp, ranks, single


def test_averaged_gradients_and_losses_equal_one_process(runs):
    _, (r0, r1), single = runs
    assert int(r0["world_size"]) == 2
    assert r0["grads"].shape == (6, len(single.grads[0]))  # 3 steps per epoch, 2 epochs
    # after DDP's all-reduce both processes hold the same averaged gradient ...
    np.testing.assert_array_equal(r0["grads"], r1["grads"])
    # ... which is the gradient of the global batch's mean loss, as one process computes it
    np.testing.assert_allclose(r0["grads"], np.stack(single.grads), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r0["losses"], single.losses, rtol=1e-5)
    # the comparison has teeth: the gradients change from step to step
    assert np.abs(np.diff(r0["grads"], axis=0)).max() > 1e-3


def test_weights_and_metrics_after_those_steps_equal_one_process(runs):
    tmp, (r0, r1), _ = runs
    np.testing.assert_array_equal(r0["params"], r1["params"])
    a, b = load_checkpoint(tmp / "ddp" / "last.pt"), load_checkpoint(tmp / "single" / "last.pt")
    assert a["world_size"] == 2 and len(a["rng"]) == 2 and b["world_size"] == 1
    for k in b["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=1e-5, atol=1e-6)
    ma, mb = read_metrics(tmp / "ddp" / "metrics.csv"), read_metrics(tmp / "single" / "metrics.csv")
    assert [r["step"] for r in ma] == [3, 6]
    for ra, rb in zip(ma, mb):
        for k in ("train_loss", "train_mae", "val_loss", "val_mae"):
            assert ra[k] == pytest.approx(rb[k], rel=1e-5), k


def test_the_run_folder_holds_one_set_of_files(runs):
    tmp, _, _ = runs
    names = sorted(p.name for p in (tmp / "ddp").iterdir())
    assert names == ["best.pt", "config.json", "last.pt", "learning_curves.png", "metrics.csv", "summary.json"]


def test_a_two_process_checkpoint_resumes_in_one_process(runs, tmp_path, capsys):
    """The data order does not depend on the number of processes: a DDP run continues alone."""
    tmp, _, _ = runs
    import shutil

    out = tmp_path / "continued"
    shutil.copytree(tmp / "ddp", out)
    more = toy_config(**{**CFG, "train": {**CFG["train"], "epochs": 3}})
    fit(more, out, resume=True, progress=False)
    assert "written by 2 process(es), resuming with 1" in capsys.readouterr().err
    fit(more, tmp_path / "alone", progress=False)
    ma, mb = read_metrics(out / "metrics.csv"), read_metrics(tmp_path / "alone" / "metrics.csv")
    assert len(ma) == len(mb) == 3
    for ra, rb in zip(ma, mb):
        for k in ra:
            assert ra[k] == pytest.approx(rb[k], rel=1e-5, abs=1e-8), k
