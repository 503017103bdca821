"""The training loop on a CUDA GPU: it learns, and a run stopped on the GPU resumes on the CPU.

Skipped, with the reason, on a machine without a CUDA GPU (CI's); run on an NVIDIA H100
(``benchmarks/gpu_notes.md``).
"""

from __future__ import annotations

import pytest
import torch

from gazemodels.training.checkpoint import load_checkpoint, load_fitted
from gazemodels.training.trainer import fit
from training._helpers import Interrupt, StopAfter, read_metrics, toy_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_a_cuda_run_learns_and_its_files_load_on_the_cpu(tmp_path):
    out = tmp_path / "run"
    fit(toy_config(train={"epochs": 4, "device": "cuda"}), out, progress=False)
    rows = read_metrics(out / "metrics.csv")
    assert rows[-1]["val_loss"] < 0.5 * rows[0]["val_loss"]
    ck = load_checkpoint(out / "last.pt")
    assert ck["finished"] and ck["global_step"] == 40
    _, net = load_fitted(out / "best.pt")
    assert all(p.device.type == "cpu" for p in net.parameters())


def test_a_run_stopped_on_the_gpu_resumes_on_the_gpu_or_the_cpu(tmp_path):
    cfg = toy_config(train={"epochs": 3, "device": "cuda", "checkpoint_every_steps": 4})
    full = tmp_path / "full"
    fit(cfg, full, progress=False)
    want = read_metrics(full / "metrics.csv")
    for device in ("cuda", "cpu"):
        out = tmp_path / device
        with pytest.raises(Interrupt):
            fit(cfg, out, progress=False, callbacks=[StopAfter(13)])
        res = fit(toy_config(train={**cfg["train"], "device": device}), out, resume=True, progress=False)
        assert res.epochs_done == 3
        rows = read_metrics(out / "metrics.csv")
        assert [r["epoch"] for r in rows] == [1, 2, 3]
        if device == "cuda":
            # The CUDA random state (dropout) is restored: the run ends as the uninterrupted one.
            for got, exp in zip(rows, want):
                assert got["val_loss"] == pytest.approx(exp["val_loss"], rel=1e-5)
        else:
            # On the CPU dropout draws from the CPU generator, so the run goes on differently; it
            # still finishes and keeps learning.
            assert rows[-1]["val_loss"] < 0.5 * want[0]["val_loss"]


def _oat_config(epochs: int):
    from gazemodels.training.config import validate_config

    return validate_config({
        "task": {"name": "oat", "dataset": "rule-arrays", "data_root": "", "n_train": 24, "n_val_displays": 6,
                 "n_test": 4, "set_size": 3, "array_ppd": 4.0, "width": 16, "heads": 2,
                 "encoder_depth": 1, "decoder_depth": 1, "appearance": True, "target_location": False,
                 "target_template": True, "stem_channels": 8},
        "optim": {"lr": 1e-3},
        "train": {"epochs": epochs, "batch_size": 6, "seed": 0, "device": "cuda"},
    })  # fmt: skip


def test_a_seeded_oat_run_on_the_gpu_repeats_exactly(tmp_path):
    """``train.deterministic`` (the default) on the GPU: the same seed gives the same metrics."""
    import pandas as pd

    runs = []
    for name in ("a", "b"):
        fit(_oat_config(2), tmp_path / name, progress=False)
        runs.append(pd.read_csv(tmp_path / name / "metrics.csv").drop(columns=["seconds"]))
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)


def test_the_oat_task_trains_on_the_gpu(tmp_path):
    """A real task (OAT on rule-following object arrays: object tokens, the Triton kernels for
    its attention) through ``gazemodels fit`` on the GPU; the fitted model predicts on the CPU."""
    import numpy as np
    import pandas as pd

    from gazemodels.models import load_model

    cfg = _oat_config(2)
    fit(cfg, tmp_path / "run", progress=False)
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert len(metrics) == 2 and np.isfinite(metrics["val_loss"]).all()
    model = load_model(tmp_path / "run" / "best.pt")
    assert all(p.device.type == "cpu" for p in model.net.parameters())
