"""Run ``gazemodels fit`` in a subprocess with test hooks (the toy task registered).

Usage::

    python tests/training/_fit_worker.py [--kill-after-steps K] [--record FILE] -- fit CONFIG --out DIR ...

``--kill-after-steps K`` kills this process with SIGKILL right after optimiser
step K (after any checkpoint that step wrote), like a machine going down.
``--record FILE`` saves, per rank, every step's global loss and the flattened
gradients after the backward pass (averaged across processes under DDP), and
the final parameters, to ``FILE.rank<R>.npz``. Both work under ``torchrun``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import training.toy_task  # noqa: E402,F401  (registers the toy task)
from gazemodels.cli import main  # noqa: E402
from gazemodels.training import trainer as trainer_mod  # noqa: E402


class Kill(trainer_mod.Callback):
    def __init__(self, steps: int):
        self.steps = steps

    def on_step_end(self, trainer):
        if trainer.state.global_step >= self.steps:
            os.kill(os.getpid(), signal.SIGKILL)


class Record(trainer_mod.Callback):
    def __init__(self, path: str):
        self.path = path
        self.grads, self.losses = [], []
        self.trainer = None

    def on_after_backward(self, trainer, loss):
        self.trainer = trainer
        self.grads.append(torch.cat([p.grad.detach().flatten() for p in trainer.net.parameters()]).numpy().copy())
        self.losses.append(loss)

    def save(self):
        t = self.trainer
        params = torch.cat([p.detach().flatten() for p in t.net.parameters()]).numpy()
        np.savez(f"{self.path}.rank{t.dist.rank}.npz", grads=np.stack(self.grads), losses=np.array(self.losses),
                 params=params, world_size=t.dist.world_size)


def run(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: _fit_worker.py [--kill-after-steps K] [--record FILE] -- fit ...")
    cut = argv.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--kill-after-steps", type=int)
    p.add_argument("--record")
    opts = p.parse_args(argv[:cut])
    callbacks = []
    if opts.kill_after_steps:
        callbacks.append(Kill(opts.kill_after_steps))
    rec = Record(opts.record) if opts.record else None
    if rec:
        callbacks.append(rec)
    original = trainer_mod.Trainer.__init__

    def patched(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.callbacks.extend(callbacks)

    trainer_mod.Trainer.__init__ = patched
    rc = main(argv[cut + 1:])
    if rec and rec.trainer is not None:
        rec.save()
    return rc


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(run(sys.argv[1:]))
