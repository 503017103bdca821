"""COCO-Search18, target-present visual search (Chen et al. 2021; Yang et al. 2020).

Source: the official JSON files ``coco_search18_fixations_TP_<split>.json`` (e.g.
``validation_split1``), in ``<root>`` or one folder below it (where the official
archive unpacks). Each file is a list of trials with ``name, subject, task,
condition, bbox [x, y, w, h], X, Y, T, length, correct, RT, split``. Coordinates are
px on the 1680x1050 display to which every image was resized (aspect ratio kept,
zero padding); ``bbox`` is in the same frame. ``X[0], Y[0]`` is the initial fixation
at the display centre, kept as ``fix_index`` 0.

What a stimulus is. The same COCO image is searched for different targets in
different trials (in validation split 1, 11 images serve two target categories), and
the target box depends on the category. A stimulus is therefore the pair (target
category, image), named ``"<task>/<name>"`` (e.g. ``"bottle/000000211326.jpg"``), the
layout of the official image archive (``images/<task>/<name>``); the stimulus table
keeps ``image`` and ``task`` apart, and ``target_bbox``. Each subject searched each
stimulus once, so ``trial`` is 0; were a (stimulus, subject) pair repeated within a
file, its trials would be numbered 0, 1, ... in file order.

Fixation table columns beyond the schema: ``task`` (target category), ``condition``
(``"present"``), ``correct`` (bool, from 1/0), ``rt`` (the trial's ``RT``, ms, on
every row of the trial) and ``split`` (``"valid"``/``"train"``, as in the file).
``duration`` is ``T`` (ms); ``t_start`` is NaN (the files give no onsets).
Images are not part of the fixation release: ``path`` is None unless
``<root>/images/<task>/<name>`` exists.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.validate import validate_fixations, validate_stimuli
from gazemodels.datasets.card import DatasetCard
from gazemodels.datasets.loaders._source_checks import (
    check_coordinates,
    read_json,
    scanpath_positions,
    warn_missing_images,
    warn_offscreen,
)
from gazemodels.datasets.registry import Dataset, register
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

PREFIX = "coco_search18_fixations_TP_"
REQUIRED_KEYS = ("name", "subject", "task", "condition", "bbox", "X", "Y", "T", "length",
                 "correct", "RT", "split")


def find_split_files(root: Path) -> dict[str, Path]:
    """The COCO-Search18 fixation files in ``root`` or one folder below, by split name.

    Parameters
    ----------
    root : pathlib.Path
        Dataset folder.

    Returns
    -------
    dict
        Split name (the part after ``coco_search18_fixations_TP_``, e.g.
        ``"validation_split1"``) to path, sorted by name.
    """
    found: dict[str, Path] = {}
    for path in sorted(itertools.chain(root.glob(PREFIX + "*.json"),
                                       root.glob("*/" + PREFIX + "*.json"))):
        found.setdefault(path.stem[len(PREFIX):], path)
    return dict(sorted(found.items()))


def _py(value):
    return value.item() if isinstance(value, np.generic) else value


def _trial_where(i: int, t) -> str:
    return (f"trial {i} (name {_py(t.get('name'))!r}, subject {_py(t.get('subject'))!r}, "
            f"task {_py(t.get('task'))!r})")


def read_trials(path: Path) -> pd.DataFrame:
    """Read one COCO-Search18 JSON file into a table with one row per trial, unchanged.

    Parameters
    ----------
    path : pathlib.Path
        A ``coco_search18_fixations_TP_*.json`` file.

    Returns
    -------
    pandas.DataFrame
        The trial records, with the keys of the file as columns (``X``, ``Y``,
        ``T`` and ``bbox`` hold lists), plus ``json_index``, the 0-based position
        of the trial in the file.

    Raises
    ------
    DatasetFormatError
        If the JSON is malformed or truncated, is not a list of trial objects
        (e.g. a file of another dataset), a trial lacks a key, or ``X``, ``Y``,
        ``T``, ``length`` and ``bbox`` are inconsistent or not numeric. The
        message names the trial by its 0-based position, image, subject and task.
    """
    data = read_json(path)
    if not isinstance(data, list):
        hint = ""
        if isinstance(data, dict):
            keys = list(data)[:3]
            hint = f" with keys {keys}..." if keys else ""
        raise DatasetFormatError(
            path, f"top level is a JSON {type(data).__name__}{hint}; expected COCO-Search18's "
            "list of trial objects (this looks like another dataset's file)"
        )
    if not data:
        raise DatasetFormatError(path, "the list of trials is empty")
    for i, t in enumerate(data):
        if not isinstance(t, dict):
            raise DatasetFormatError(path, f"trial {i} is a JSON {type(t).__name__}, expected an object")
        missing = [k for k in REQUIRED_KEYS if k not in t]
        if missing:
            raise DatasetFormatError(
                path, f"{_trial_where(i, t)} lacks key(s) {missing}; it has {sorted(t)}"
            )
        for k in ("X", "Y", "T"):
            if not isinstance(t[k], list):
                raise DatasetFormatError(path, f"{_trial_where(i, t)}: {k!r} is not a list")
        n = len(t["X"])
        if n == 0 or len(t["Y"]) != n or len(t["T"]) != n or t["length"] != n:
            raise DatasetFormatError(
                path, f"{_trial_where(i, t)}: X, Y, T and 'length' disagree "
                f"(len X={n}, len Y={len(t['Y'])}, len T={len(t['T'])}, length={t['length']!r})"
            )
        bbox = t["bbox"]
        if (not isinstance(bbox, list) or len(bbox) != 4
                or not all(isinstance(v, Real) and not isinstance(v, bool) for v in bbox)):
            raise DatasetFormatError(path, f"{_trial_where(i, t)}: bbox {bbox!r} is not [x, y, w, h]")
        for k in ("subject", "RT", "correct"):
            if not isinstance(t[k], Real) or isinstance(t[k], bool):
                raise DatasetFormatError(path, f"{_trial_where(i, t)}: {k!r} = {t[k]!r} is not a number")
    trials = pd.DataFrame.from_records(data, columns=list(REQUIRED_KEYS))
    trials["json_index"] = np.arange(len(trials))
    return trials


def _numbers(path: Path, trials: pd.DataFrame, key: str) -> np.ndarray:
    # JSON null is a missing value (NaN), reported by the coordinate check with its place.
    flat = list(itertools.chain.from_iterable(trials[key]))
    ok = (v is None or (isinstance(v, Real) and not isinstance(v, bool)) for v in flat)
    try:
        if not all(ok):
            raise TypeError
        return np.asarray(flat, dtype=float)
    except (TypeError, ValueError):
        for i, values in zip(trials["json_index"], trials[key]):
            for k, v in enumerate(values):
                if v is not None and (not isinstance(v, Real) or isinstance(v, bool)):
                    row = trials.iloc[int(i)]
                    raise DatasetFormatError(
                        path, f"{_trial_where(int(i), row)}: {key}[{k}] = {v!r} is not a number"
                    ) from None
        raise


def _select(root: Path, card: DatasetCard, splits) -> dict[str, Path]:
    available = find_split_files(root)
    if not available:
        raise DatasetNotFoundError(
            f"coco-search18: no {PREFIX}*.json file in {root} or its sub-folders; download "
            f"the fixations from {card.homepage} and place the JSON files there"
        )
    if splits is None:
        chosen = available
    else:
        names = [splits] if isinstance(splits, str) else list(splits)
        unknown = [s for s in names if s not in available]
        if unknown:
            raise DatasetNotFoundError(
                f"coco-search18: split(s) {unknown} not found in {root}; available: {list(available)}"
            )
        chosen = {s: available[s] for s in names}
    schemes = {s.rsplit("_", 1)[-1] for s in chosen if s.rsplit("_", 1)[-1].startswith("split")}
    if len(schemes) > 1:
        raise ValueError(
            f"coco-search18: the files {list(chosen)} mix the partitions {sorted(schemes)}, which "
            "hold the same trials split differently; choose one with splits=[...]"
        )
    return chosen


@register("coco-search18")
def load_coco_search18(
    root: Path,
    card: DatasetCard,
    *,
    splits: str | Iterable[str] | None = None,
    allow_offscreen: bool = True,
) -> Dataset:
    """Load COCO-Search18 target-present search scanpaths from the official JSON.

    Parameters
    ----------
    root : pathlib.Path
        Folder with ``coco_search18_fixations_TP_*.json`` (directly or one folder below).
    card : DatasetCard
        The ``coco-search18`` card (display size and pixels per degree).
    splits : str or iterable of str, optional
        Which files to load, by the part of the name after
        ``coco_search18_fixations_TP_`` (e.g. ``"validation_split1"`` or
        ``["train_split1", "validation_split1"]``). Default: every file found;
        split1 and split2 files may not be mixed (they partition the same trials).
    allow_offscreen : bool, default True
        Keep fixations outside the 1680x1050 display. The release has some (5 in
        validation split 1); they are kept unchanged, counted in
        ``extras['n_offscreen']`` and reported in a warning.

    Returns
    -------
    Dataset
        Validation split 1 gives 3,258 trials, 12,111 fixations, 315 images
        (326 image-target stimuli), 10 subjects and 18 tasks. ``extras['trials']``
        holds one row per trial (stimulus, subject, trial, task, condition,
        correct, rt, split, length, file, json_index); ``extras['files']`` the files read.

    Raises
    ------
    DatasetNotFoundError
        If no file (or no requested split) is found.
    DatasetFormatError
        If a file is malformed, truncated, of another dataset, lacks a key,
        holds NaN coordinates or disagrees with itself about a target box.
    ValueError
        If the selected files overlap (split1 with split2, or a trial twice).
    """
    root = Path(root)
    chosen = _select(root, card, splits)
    width = float(card.geometry.get("width_px", 1680))
    height = float(card.geometry.get("height_px", 1050))

    tables, fix_parts = [], []
    for split_name, path in chosen.items():
        trials = read_trials(path)
        x = _numbers(path, trials, "X")
        y = _numbers(path, trials, "Y")
        t = _numbers(path, trials, "T")
        lengths = trials["X"].map(len).to_numpy(dtype=np.int64)
        trial_of = np.repeat(np.arange(len(trials)), lengths)
        fix_index = scanpath_positions(lengths)

        def place(i: int, trials=trials, trial_of=trial_of, fix_index=fix_index) -> str:
            j = int(trial_of[i])
            return f"{_trial_where(j, trials.iloc[j])} fixation {int(fix_index[i])}"

        off = check_coordinates(path, x, y, np.full(x.size, width), np.full(x.size, height),
                                place, allow_offscreen=allow_offscreen)
        warn_offscreen("coco-search18", path, off, place)
        trials["stimulus"] = trials["task"].astype(str) + "/" + trials["name"].astype(str)
        trials["file"] = str(path)
        trials["split_file"] = split_name
        tables.append(trials)
        fix_parts.append(pd.DataFrame({
            "_row": trial_of + sum(len(tb) for tb in tables[:-1]),
            "fix_index": fix_index,
            "x": x,
            "y": y,
            "duration": t,
            "_off": off,
        }))

    trials = pd.concat(tables, ignore_index=True)
    n_files = trials.groupby(["stimulus", "subject"], sort=False)["file"].nunique()
    if (n_files > 1).any():
        stim, subj = n_files.index[n_files > 1][0]
        files = sorted(trials.loc[(trials["stimulus"] == stim) & (trials["subject"] == subj), "file"].unique())
        raise ValueError(
            f"coco-search18: stimulus {stim!r} with subject {subj} appears in several selected "
            f"files {files}; choose non-overlapping splits"
        )
    trials["trial"] = trials.groupby(["stimulus", "subject"], sort=False).cumcount().astype(np.int64)

    fx = pd.concat(fix_parts, ignore_index=True)
    rows = fx["_row"].to_numpy()
    per_trial = trials.iloc[rows]
    fixations = pd.DataFrame({
        "stimulus": per_trial["stimulus"].to_numpy(dtype=object),
        "subject": per_trial["subject"].to_numpy(dtype=np.int64),
        "trial": per_trial["trial"].to_numpy(dtype=np.int64),
        "fix_index": fx["fix_index"].to_numpy(),
        "x": fx["x"].to_numpy(),
        "y": fx["y"].to_numpy(),
        "t_start": np.full(len(fx), np.nan),
        "duration": fx["duration"].to_numpy(),
        "task": per_trial["task"].to_numpy(dtype=object),
        "condition": per_trial["condition"].to_numpy(dtype=object),
        "correct": per_trial["correct"].to_numpy() == 1,
        "rt": per_trial["RT"].to_numpy(dtype=float),
        "split": per_trial["split"].to_numpy(dtype=object),
    })

    # One target box per (task, image): the box is a property of the stimulus.
    boxes = trials["bbox"].map(tuple)
    n_boxes = boxes.groupby(trials["stimulus"], sort=False).nunique()
    if (n_boxes > 1).any():
        stim = n_boxes.index[n_boxes > 1][0]
        rows_ = trials.loc[trials["stimulus"] == stim]
        raise DatasetFormatError(
            rows_["file"].iloc[0],
            f"stimulus {stim!r} has different target boxes in different trials: "
            + "; ".join(f"trial {int(r.json_index)} bbox {list(r.bbox)}" for r in rows_.head(4).itertuples()),
        )
    first = trials.drop_duplicates("stimulus")
    paths, missing = [], []
    for task, name in zip(first["task"], first["name"]):
        p = root / "images" / str(task) / str(name)
        paths.append(str(p) if p.is_file() else None)
        if not p.is_file():
            missing.append(f"{task}/{name}")
    stimuli = pd.DataFrame({
        "stimulus": first["stimulus"].to_numpy(dtype=object),
        "path": pd.Series(paths, dtype=object),
        "width": width,
        "height": height,
        "px_per_degree": card.px_per_degree,
        "target_bbox": [tuple(b) for b in first["bbox"]],
        "image": first["name"].to_numpy(dtype=object),
        "task": first["task"].to_numpy(dtype=object),
    })
    # The images are a separate download: warn only when an images/ folder is there
    # but incomplete, not for the usual fixations-only install.
    if (root / "images").is_dir():
        n_fix = int(fixations["stimulus"].isin(missing).sum())
        warn_missing_images("coco-search18", root / "images", missing, len(stimuli), n_fix)

    source = ", ".join(str(p) for p in chosen.values())
    validate_stimuli(stimuli, source=source)
    validate_fixations(fixations, stimuli, allow_offscreen=allow_offscreen, source=source)
    trial_table = trials[["stimulus", "subject", "trial", "task", "condition", "correct", "RT",
                          "split", "length", "file", "json_index"]].rename(columns={"RT": "rt"})
    trial_table = trial_table.assign(correct=trial_table["correct"] == 1,
                                     rt=trial_table["rt"].astype(float))
    return Dataset(
        name="coco-search18",
        fixations=fixations,
        stimuli=stimuli,
        card=card,
        root=root,
        missing_stimuli=missing,
        extras={
            "trials": trial_table,
            "files": [str(p) for p in chosen.values()],
            "n_offscreen": int(fx["_off"].sum()),
        },
    )


__all__ = ["find_split_files", "load_coco_search18", "read_trials"]
