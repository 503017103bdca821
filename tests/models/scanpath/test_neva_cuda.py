"""NeVA on a CUDA GPU (``device="cuda"``): the same scanpaths as on the CPU, to rounding.

The random starts are drawn on the CPU and moved to the device, so a seed gives the same
candidates on both; the foveation and the network's gradients then differ only by rounding.
Skipped, with the reason, on a machine without a CUDA GPU (CI's); run on an NVIDIA H100
(``benchmarks/gpu_notes.md``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gazemodels.models import get_model

from .test_neva import PATCH_XY, one_torch_thread, toy_model, toy_stimuli  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _distances(a, b) -> np.ndarray:
    return np.hypot(a["x"].to_numpy() - b["x"].to_numpy(), a["y"].to_numpy() - b["y"].to_numpy())


def test_toy_model_on_the_gpu_finds_the_patch_as_on_the_cpu(toy_stimuli):  # noqa: F811
    out = {dev: toy_model(device=dev).predict(toy_stimuli, n_scanpaths=6, n_fixations=3, seed=0)
           for dev in ("cpu", "cuda")}  # fmt: skip
    second = out["cuda"][out["cuda"]["fix_index"] == 1][["x", "y"]].to_numpy()
    assert (np.hypot(second[:, 0] - PATCH_XY[0], second[:, 1] - PATCH_XY[1]) < 6.0).all(), second
    assert (_distances(out["cuda"], out["cpu"]) < 1.0).mean() >= 0.9


def test_efficientnet_neva_on_the_gpu_matches_the_cpu(toy_stimuli):  # noqa: F811
    """The default network (random weights: no download here) on the GPU and on the CPU."""
    out = {}
    for dev in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = get_model("neva", pretrained=False, input_size=48, n_iter=3, device=dev)
        out[dev] = model.predict(toy_stimuli, n_scanpaths=4, n_fixations=4, seed=0)
    # A random network on a mostly flat image has near-zero gradients, whose signs rounding
    # decides: a signed-gradient step (lr 0.1 of the half-size: 4.8 x 3.2 px here, 5.8 px long)
    # can go the other way. Measured on an H100: 13 of 16 fixations identical, 3 one step off.
    d = _distances(out["cuda"], out["cpu"])
    assert (d < 1.0).mean() >= 0.75, d
    assert d.max() < 2 * 5.8 + 0.5, d
