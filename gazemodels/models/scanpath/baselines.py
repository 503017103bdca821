"""Baseline scanpath models: random uniform, centre bias, saliency winner-take-all, human-shuffled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazemodels.models.registry import register_model
from gazemodels.models.scanpath.base import ScanpathModel


@register_model("random")
class RandomModel(ScanpathModel):
    """Random baseline: every fixation uniform on the stimulus, independently."""

    needs_image = False

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """Uniform positions on the stimulus (see :meth:`ScanpathModel.generate`)."""
        w, h = float(stimulus["width"]), float(stimulus["height"])
        return rng.uniform([0.0, 0.0], [w, h], size=(n_scanpaths, n_fixations, 2))
