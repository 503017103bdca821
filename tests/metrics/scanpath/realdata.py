"""Real human scanpaths for the scanpath-metric tests, from ``../shared/data``.

Each reader uses the project's loader (``gazemodels.datasets.load``) when it is
available and falls back to reading the raw release files with pandas; a test
skips with the reason when the data folder is absent.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gazemodels.metrics.scanpath import split_scanpaths


def _load(name: str, root: Path):
    try:
        from gazemodels import datasets

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return datasets.load(name, root=root).fixations
    except Exception:  # loader absent or changed: read the raw files below
        return None


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data {path} is absent")
    return path


def mit1003(shared: Path) -> pd.DataFrame:
    """MIT1003 fixation table (x, y px; duration ms), NaN placeholder rows dropped."""
    root = _need(shared / "mit1003-fixations")
    fx = _load("mit1003", root)
    if fx is None:
        raw = pd.read_csv(root / "Fixation_MIT1003.csv.gz").dropna(subset=["Fixation_Position_X_px"])
        fx = pd.DataFrame({
            "stimulus": raw["Stimulus"], "subject": raw["Participant"], "trial": 0,
            "x": raw["Fixation_Position_X_px"], "y": raw["Fixation_Position_Y_px"],
            "t_start": raw["Event_Start_Trial_Time_ms"] * 1000.0, "duration": raw["Duration"] * 1000.0,
        }).sort_values(["stimulus", "subject", "t_start"], kind="stable")
        fx["fix_index"] = fx.groupby(["stimulus", "subject"]).cumcount()
    return fx


def coco_search18(shared: Path) -> pd.DataFrame:
    """COCO-Search18 TP validation fixations; stimulus = task/image."""
    root = _need(shared / "coco-search18")
    fx = _load("coco-search18", root)
    if fx is None:
        trials = json.loads((root / "coco_search18_fixations_TP_validation_split1.json").read_text())
        rows = []
        for t in trials:
            for k, (x, y, d) in enumerate(zip(t["X"], t["Y"], t["T"])):
                rows.append((f"{t['task']}/{t['name']}", t["subject"], 0, k, x, y, np.nan, d))
        fx = pd.DataFrame(rows, columns=["stimulus", "subject", "trial", "fix_index", "x", "y",
                                         "t_start", "duration"])
    return fx


def studyforrest(shared: Path) -> pd.DataFrame:
    """studyforrest fixation vectors (1280 x 720 px; duration ms)."""
    root = _need(shared / "studyforrest-scanpaths")
    fx = _load("studyforrest", root)
    if fx is None:
        frames = []
        for f in sorted((root / "fixvectors").glob("segment_*_sub-*.tsv")):
            seg, sub = f.stem.split("_sub-")
            d = pd.read_csv(f, sep="\t")
            frames.append(pd.DataFrame({
                "stimulus": seg, "subject": "sub-" + sub, "trial": 0, "fix_index": np.arange(len(d)),
                "x": d["start_x"], "y": d["start_y"], "t_start": np.nan, "duration": d["duration"] * 1000.0,
            }))
        fx = pd.concat(frames, ignore_index=True)
    return fx


def ivsn(shared: Path, dataset: str) -> tuple[list[np.ndarray], int]:
    """IVSN human scanpaths of one data set, subject-major, cut at the found fixation.

    Returns ``(scanpaths, n_images)``: ``scanpaths[s * n_images + i]`` is subject ``s``
    on image ``i`` as ``(n, 2)`` [x, y] px on the 1280 x 1024 display.
    """
    root = _need(shared / "ivsn-human-search" / dataset)
    fix = np.load(root / "fix" / "human_all.npy").astype(float)
    found = np.load(root / "ifix" / "I_human_all.npy").ravel()
    # NaturalDesign/Waldo store (row=y, col=x); ObjArr stores (x, y) (its first
    # fixation is the display centre (640, 512))
    xy = fix if dataset == "ObjArr" else fix[..., ::-1]
    return [xy[k, : found[k]] for k in range(len(xy))], len(xy) // 15


def published_scanmatch(shared: Path, dataset: str) -> tuple[float, float]:
    """Published human-human ScanMatch (mean, sem) of an IVSN data set."""
    m, s = np.load(_need(shared / "ivsn-human-search" / dataset / "ss_score" / "human.npy"))
    return float(m), float(s)


def arrays(fx: pd.DataFrame, columns=("x", "y", "duration")):
    """Scanpath arrays and their keys."""
    return split_scanpaths(fx, columns)


def within_pairs(keys: pd.DataFrame, by: list[str]) -> np.ndarray:
    """All unordered pairs of scanpaths sharing the ``by`` columns."""
    codes = keys.groupby(by, sort=False).ngroup().to_numpy()
    out = []
    for c in np.unique(codes):
        m = np.flatnonzero(codes == c)
        i, j = np.triu_indices(len(m), 1)
        out.append(np.column_stack([m[i], m[j]]))
    return np.concatenate(out)
