"""Fixtures for model tests: two small generated images and synthetic human scanpaths on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gazemodels.simulate.scanpaths import sample_scanpaths


def write_image(path, width: int, height: int, blob_xy: tuple[int, int], seed: int = 0, blob: int = 6) -> None:
    """Write a PNG: low-contrast noise with one bright square of side ``blob`` px centred at ``blob_xy``."""
    rng = np.random.default_rng(seed)
    img = (100 + 10 * rng.standard_normal((height, width, 3))).clip(0, 255).astype(np.uint8)
    x, y = blob_xy
    img[max(0, y - blob // 2): y + blob // 2, max(0, x - blob // 2): x + blob // 2] = (255, 240, 40)
    Image.fromarray(img).save(path)


def make_stimuli(folder, specs=(("a.png", 64, 48, (48, 12)), ("b.png", 80, 60, (16, 44))), ppd: float = 8.0):
    """Write small PNGs into ``folder`` and return their stimulus table."""
    rows = []
    for i, (name, w, h, blob) in enumerate(specs):
        path = folder / name
        write_image(path, w, h, blob, seed=i)
        rows.append({"stimulus": name, "path": str(path), "width": float(w), "height": float(h),
                     "px_per_degree": ppd})
    return pd.DataFrame(rows)


def make_humans(stimuli: pd.DataFrame, n_subjects: int = 6, n_fixations: int = 8, seed: int = 0) -> pd.DataFrame:
    """Synthetic human scanpaths (OSIE gamma statistics) on every stimulus, subjects 1..n."""
    tables = []
    for i, row in stimuli.reset_index(drop=True).iterrows():
        t = sample_scanpaths(n_subjects, n_fixations, width=row["width"], height=row["height"],
                             px_per_degree=row["px_per_degree"], seed=seed + i, stimulus=row["stimulus"])
        t["subject"] += 1
        tables.append(t)
    return pd.concat(tables, ignore_index=True)


@pytest.fixture
def stimuli(tmp_path) -> pd.DataFrame:
    """Stimulus table of two small generated PNGs (64x48 and 80x60 px, 8 px/deg), each with one bright blob."""
    return make_stimuli(tmp_path)


@pytest.fixture
def humans(stimuli) -> pd.DataFrame:
    """Six synthetic human scanpaths of eight fixations on each of the two images."""
    return make_humans(stimuli)


@pytest.fixture
def stimulus_factory():
    """:func:`make_stimuli`, for tests that need other images."""
    return make_stimuli


@pytest.fixture
def human_factory():
    """:func:`make_humans`, for tests that need other human data."""
    return make_humans
