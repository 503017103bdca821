"""A tiny trainable task for the training tests: learn the next fixation from the current one.

Synthetic scanpaths on a ``80 x 60`` px screen follow a linear rule in
normalised coordinates, ``next = A @ current + b + noise``. The network is a
small MLP (with optional dropout, so that resuming must restore the torch
random generator exactly). The fitted network becomes a scanpath model that
``gazemodels predict`` runs.

Imported by path ``training.toy_task`` (``tests/`` on ``sys.path``, as pytest
puts it); configs name it with ``[task] module = "training.toy_task"``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gazemodels.models.scanpath.base import ScanpathModel
from gazemodels.training import Splits, Task, register_task

SCREEN = (80.0, 60.0)
A_TRUE = np.array([[0.5, 0.2], [-0.1, 0.6]])
B_TRUE = np.array([0.1, -0.05])


class ToyDataset(torch.utils.data.Dataset):
    """Pairs (current, next) of normalised fixation positions, as float32 tensors."""

    def __init__(self, cur: np.ndarray, nxt: np.ndarray):
        self.cur = torch.as_tensor(cur, dtype=torch.float32)
        self.nxt = torch.as_tensor(nxt, dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.cur)

    def __getitem__(self, i):
        return self.cur[i], self.nxt[i]


class ToyScanpathModel(ScanpathModel):
    """Scanpaths from the fitted next-fixation network, started at the centre."""

    needs_image = False

    def __init__(self, net: nn.Module, noise: float):
        self.net = net
        self.noise = float(noise)
        self.name = "toy-next-fixation"

    def generate(self, image, stimulus, n_scanpaths, n_fixations, rng):
        w, h = float(stimulus["width"]), float(stimulus["height"])
        pos = np.zeros((n_scanpaths, n_fixations, 2))
        cur = rng.normal(0.0, self.noise, size=(n_scanpaths, 2))
        with torch.no_grad():
            for k in range(n_fixations):
                pos[:, k] = cur
                mean = self.net(torch.as_tensor(cur, dtype=torch.float32)).double().numpy()
                cur = np.clip(mean + rng.normal(0.0, self.noise, size=mean.shape), -1.0, 1.0)
        pos = np.clip(pos, -1.0, 1.0)
        return np.stack([(pos[..., 0] + 1) / 2 * (w - 1), (pos[..., 1] + 1) / 2 * (h - 1)], axis=-1)


@register_task("toy-next-fixation")
class ToyNextFixation(Task):
    """Predict the next fixation (normalised x, y) from the current one with an MLP."""

    options = {
        "n_train": 96,
        "n_val": 32,
        "hidden": 8,
        "dropout": 0.0,
        "noise": 0.05,
        "split_seed": 0,
        "data_file": "",
    }
    path_options = ("data_file",)
    metric, mode = "val_loss", "min"

    def __init__(self, options: dict):
        super().__init__(options)
        if self.options["hidden"] < 1:
            raise ValueError(f"task.hidden: must be >= 1, got {self.options['hidden']}")

    def build_model(self) -> nn.Module:
        h = self.options["hidden"]
        return nn.Sequential(nn.Linear(2, h), nn.Tanh(), nn.Dropout(self.options["dropout"]), nn.Linear(h, 2))

    def datasets(self) -> Splits:
        if self.options["data_file"]:
            arr = np.load(self.options["data_file"])
            cur, nxt = arr["cur"], arr["nxt"]
        else:
            rng = np.random.default_rng(self.options["split_seed"])
            n = self.options["n_train"] + self.options["n_val"]
            cur = rng.uniform(-1, 1, size=(n, 2))
            nxt = cur @ A_TRUE.T + B_TRUE + rng.normal(0, self.options["noise"], size=(n, 2))
        k = self.options["n_train"]
        return Splits(ToyDataset(cur[:k], nxt[:k]), ToyDataset(cur[k:], nxt[k:]))

    def loss(self, model, batch):
        cur, nxt = batch
        pred = model(cur)
        err = (pred - nxt).detach().abs().mean()
        return ((pred - nxt) ** 2).sum(dim=1).mean(), {"mae": float(err)}

    def to_scanpath_model(self, model) -> ScanpathModel:
        return ToyScanpathModel(model, self.options["noise"])
