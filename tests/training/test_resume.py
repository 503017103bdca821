"""Resuming: a run killed mid-epoch ends like an uninterrupted one; damaged or foreign checkpoints are refused."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import torch

from gazemodels.cli import main
from gazemodels.training import trainer as trainer_mod
from gazemodels.training.checkpoint import CheckpointError, atomic_save, load_checkpoint, load_fitted
from gazemodels.training.trainer import fit
from training._helpers import WORKER, Interrupt, StopAfter, read_metrics, subprocess_env, toy_config, write_config

# 96 training items in batches of 10: 10 steps per epoch; checkpoints every 4 steps and at epoch ends.
CFG = toy_config(train={"epochs": 3, "checkpoint_every_steps": 4, "early_stopping": {"patience": 5}})


def _weights(path):
    return load_fitted(path)[1].state_dict()


def _assert_same_run(a, b, rtol=1e-6, atol=1e-7):
    ma, mb = read_metrics(a / "metrics.csv"), read_metrics(b / "metrics.csv")
    assert len(ma) == len(mb) == 3
    for ra, rb in zip(ma, mb):
        assert ra.keys() == rb.keys()
        for k in ra:
            assert ra[k] == pytest.approx(rb[k], rel=rtol, abs=atol), (k, ra, rb)
    for name in ("last.pt", "best.pt"):
        wa, wb = _weights(a / name), _weights(b / name)
        for k in wa:
            torch.testing.assert_close(wa[k], wb[k], rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "full"
    fit(CFG, out, progress=False)
    return out


def test_run_killed_mid_epoch_resumes_to_the_same_end(tmp_path, uninterrupted):
    cfg_path = write_config(tmp_path / "toy.toml", CFG)
    out = tmp_path / "killed"
    proc = subprocess.run(
        [sys.executable, str(WORKER), "--kill-after-steps", "17", "--", "fit", str(cfg_path), "--out", str(out),
         "--no-progress"],
        env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    ck = load_checkpoint(out / "last.pt")
    # killed at step 17, in the middle of epoch 2; the last checkpoint is from step 16
    assert (ck["epoch"], ck["batch"], ck["global_step"], ck["finished"]) == (1, 6, 16, False)
    assert len(read_metrics(out / "metrics.csv")) == 1
    assert main(["fit", str(cfg_path), "--out", str(out), "--resume", "--no-progress"]) == 0
    _assert_same_run(out, uninterrupted)


def test_interrupted_twice_and_resumed_without_the_config(tmp_path, uninterrupted):
    out = tmp_path / "run"
    with pytest.raises(Interrupt):
        fit(CFG, out, progress=False, callbacks=[StopAfter(7)])
    assert load_checkpoint(out / "last.pt")["global_step"] == 4
    with pytest.raises(Interrupt):
        fit(CFG, out, resume=True, progress=False, callbacks=[StopAfter(23)])
    assert load_checkpoint(out / "last.pt")["global_step"] == 20  # the epoch-2 end
    assert main(["fit", "--out", str(out), "--resume", "--no-progress"]) == 0  # config from last.pt
    _assert_same_run(out, uninterrupted)


def test_the_resume_check_can_fail_without_the_random_states(tmp_path, uninterrupted, monkeypatch):
    """Control: skip restoring the generators (dropout draws differ) and the runs part."""
    out = tmp_path / "run"
    with pytest.raises(Interrupt):
        fit(CFG, out, progress=False, callbacks=[StopAfter(17)])
    real, calls = trainer_mod.set_rng_state, []

    def skip_first(state):  # the first call is the restore from the checkpoint
        calls.append(1)
        if len(calls) > 1:
            real(state)

    monkeypatch.setattr(trainer_mod, "set_rng_state", skip_first)
    fit(CFG, out, resume=True, progress=False)
    with pytest.raises(AssertionError):
        _assert_same_run(out, uninterrupted)


def test_more_epochs_continue_a_finished_run(tmp_path, uninterrupted):
    out = tmp_path / "run"
    fit(toy_config(train={**CFG["train"], "epochs": 2}), out, progress=False)
    res = fit(CFG, out, resume=True, progress=False)
    assert res.epochs_done == 3
    _assert_same_run(out, uninterrupted)


@pytest.fixture
def finished_run(tmp_path):
    out = tmp_path / "run"
    fit(toy_config(train={"epochs": 1}), out, progress=False)
    return out


def test_truncated_or_corrupt_checkpoints(finished_run):
    last = finished_run / "last.pt"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"last.pt: cannot read the training checkpoint: the file is "
                                              r"truncated or corrupt"):
        load_checkpoint(last)
    last.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"last.pt: the training checkpoint is empty"):
        load_checkpoint(last)
    last.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        fit(toy_config(train={"epochs": 1}), finished_run, resume=True, progress=False)


def test_foreign_and_mismatched_checkpoints(finished_run, tmp_path):
    last = finished_run / "last.pt"
    with pytest.raises(CheckpointError, match=r"best.pt: not a gazemodels training checkpoint: it holds "
                                              r"pickled Python objects.*resume from last.pt"):
        load_checkpoint(finished_run / "best.pt")
    torch.save({"weights": torch.ones(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="other.pt: not a gazemodels training checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"another config.*\n  optim.lr: 0.02 in the checkpoint, 0.1 now"):
        fit(toy_config(train={"epochs": 1}, optim={"lr": 0.1}), finished_run, resume=True, progress=False)
    blob = torch.load(last, weights_only=True)
    blob["model"] = {k: v[:1] for k, v in blob["model"].items()}
    atomic_save(blob, last)
    with pytest.raises(CheckpointError, match="does not fit the network or optimiser of task 'toy-next-fixation'"):
        fit(toy_config(train={"epochs": 2}), finished_run, resume=True, progress=False)
    blob["version"] = 99
    atomic_save(blob, last)
    with pytest.raises(CheckpointError, match="layout version 99"):
        load_checkpoint(last)


def test_resume_needs_a_checkpoint_and_a_new_run_needs_a_free_folder(finished_run, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint to resume"):
        fit(toy_config(), tmp_path / "empty", resume=True, progress=False)
    with pytest.raises(CheckpointError, match="already holds a run"):
        fit(toy_config(), finished_run, progress=False)
