"""Amazon book covers: visual search for one book cover in collages of 84 covers.

The fixations are those of Sattar et al. (2015), as annotated by DFKI's Search Target
Inference dataset (Stauden et al. 2018; github.com/DFKI-Interactive-Machine-Learning/
STI-Dataset, ``AmazonCovers/Amazon.json``): 100 collages, 6 participants each. The JSON
is an object keyed by collage image name::

    {"1.jpg": {"fixations": {"1": [[x, y], ...], ..., "6": [...]},
               "ground_truth": [{"xmin", "xmax", "ymin", "ymax"}],
               "size": {"width", "height"},
               "target": "target_0.jpg"}, ...}

``x, y`` are px on the collage, origin top-left. The file gives no fixation times, so
``t_start`` and ``duration`` are NaN. ``subject`` is the participant key as an integer
(JSON object keys are strings; the README calls them "user 1", "user 2", ...);
``trial`` is 0. The target box becomes ``target_bbox = (xmin, ymin, xmax - xmin,
ymax - ymin)`` in the stimulus table; ``target`` (the file's name of the target cover
image: five covers, ``target_0.jpg`` to ``target_4.jpg``, each the target in 20
collages) is kept in both tables. The collage images are not in the JSON's repository:
``path`` is None unless ``<root>/images/<name>`` exists (the upstream layout
``AmazonCovers/images/1.jpg``).
"""

from __future__ import annotations

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

FILE_NAMES = ("Amazon.json", "AmazonCovers/Amazon.json")
ENTRY_KEYS = ("fixations", "ground_truth", "size", "target")
BOX_KEYS = ("xmin", "xmax", "ymin", "ymax")


def _number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def _subject_id(key: str):
    return int(key) if key.isdecimal() else key


def read_amazon_json(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ``Amazon.json`` into per-fixation and per-collage tables, values unchanged.

    Parameters
    ----------
    path : pathlib.Path
        The Amazon book-cover JSON.

    Returns
    -------
    fixations : pandas.DataFrame
        ``stimulus``, ``subject``, ``fix_index``, ``x``, ``y``, ``target``.
    collages : pandas.DataFrame
        ``stimulus``, ``width``, ``height``, ``target_bbox``, ``target``.

    Raises
    ------
    DatasetFormatError
        If the JSON is malformed or truncated, is not an object of collages (e.g.
        a COCO-Search18 file), is the VIU part of the STI dataset, or a collage
        lacks a key or has a malformed point, size or box. The message names the
        collage, participant and point.
    """
    data = read_json(path)
    if not isinstance(data, dict):
        raise DatasetFormatError(
            path, f"top level is a JSON {type(data).__name__}; expected an object keyed by collage "
            "image name (this looks like another dataset's file, e.g. COCO-Search18's list of trials)"
        )
    if not data:
        raise DatasetFormatError(path, "the object of collages is empty")
    names, widths, heights, boxes, targets = [], [], [], [], []
    xs, ys, stim_of, subj_of, lengths, tgt_of = [], [], [], [], [], []
    for name, entry in data.items():
        where = f"collage {name!r}"
        if not isinstance(entry, dict):
            raise DatasetFormatError(path, f"{where} is a JSON {type(entry).__name__}, expected an object")
        if "cue" in entry:
            raise DatasetFormatError(
                path, f"{where} has a 'cue' key: this is the VIU part of the STI dataset, not the "
                "Amazon book covers"
            )
        missing = [k for k in ENTRY_KEYS if k not in entry]
        if missing:
            raise DatasetFormatError(path, f"{where} lacks key(s) {missing}; it has {sorted(entry)}")
        size = entry["size"]
        if (not isinstance(size, dict) or not _number(size.get("width"))
                or not _number(size.get("height"))):
            raise DatasetFormatError(path, f"{where}: 'size' {size!r} lacks a numeric width and height")
        gt = entry["ground_truth"]
        if not isinstance(gt, list) or len(gt) != 1:
            raise DatasetFormatError(
                path, f"{where}: 'ground_truth' should be a list of one box, got {gt!r}"
            )
        box = gt[0]
        if not isinstance(box, dict) or not all(_number(box.get(k)) for k in BOX_KEYS):
            raise DatasetFormatError(path, f"{where}: ground_truth[0] {box!r} lacks numeric {list(BOX_KEYS)}")
        if box["xmax"] < box["xmin"] or box["ymax"] < box["ymin"]:
            raise DatasetFormatError(path, f"{where}: ground_truth[0] {box!r} has max < min")
        fix = entry["fixations"]
        if not isinstance(fix, dict):
            raise DatasetFormatError(path, f"{where}: 'fixations' is a JSON {type(fix).__name__}, "
                                     "expected an object keyed by participant")
        for subj, points in fix.items():
            if not isinstance(points, list):
                raise DatasetFormatError(path, f"{where}, participant {subj!r}: not a list of points")
            for k, p in enumerate(points):
                if not (isinstance(p, list) and len(p) == 2):
                    raise DatasetFormatError(
                        path, f"{where}, participant {subj!r}, point {k}: {p!r} is not [x, y]"
                    )
                if not all(_number(v) or v is None for v in p):
                    raise DatasetFormatError(
                        path, f"{where}, participant {subj!r}, point {k}: {p!r} is not numeric"
                    )
            arr = np.asarray(points, dtype=float).reshape(-1, 2)
            xs.append(arr[:, 0])
            ys.append(arr[:, 1])
            stim_of.append(name)
            subj_of.append(_subject_id(str(subj)))
            tgt_of.append(entry["target"])
            lengths.append(len(points))
        names.append(name)
        widths.append(float(size["width"]))
        heights.append(float(size["height"]))
        boxes.append((box["xmin"], box["ymin"], box["xmax"] - box["xmin"], box["ymax"] - box["ymin"]))
        targets.append(entry["target"])
    lengths = np.asarray(lengths, dtype=np.int64)
    empty = np.array([], dtype=float)
    fixations = pd.DataFrame({
        "stimulus": pd.Series(np.repeat(np.asarray(stim_of, dtype=object), lengths), dtype=object),
        "subject": np.repeat(np.asarray(subj_of, dtype=object), lengths),
        "fix_index": scanpath_positions(lengths),
        "x": np.concatenate(xs) if xs else empty,
        "y": np.concatenate(ys) if ys else empty,
        "target": np.repeat(np.asarray(tgt_of, dtype=object), lengths),
    })
    if len(set(map(type, subj_of))) == 1 and isinstance(subj_of[0], int):
        fixations["subject"] = fixations["subject"].astype(np.int64)
    collages = pd.DataFrame({
        "stimulus": pd.Series(names, dtype=object),
        "width": widths,
        "height": heights,
        "target_bbox": boxes,
        "target": pd.Series(targets, dtype=object),
    })
    return fixations, collages


def _find_file(root: Path, card: DatasetCard) -> Path:
    for name in FILE_NAMES:
        if (root / name).is_file():
            return root / name
    raise DatasetNotFoundError(
        f"amazon-book-covers: none of {list(FILE_NAMES)} is in {root}; get AmazonCovers/Amazon.json "
        f"from {card.homepage}"
    )


@register("amazon-book-covers")
def load_amazon_book_covers(
    root: Path,
    card: DatasetCard,
    *,
    allow_offscreen: bool = False,
) -> Dataset:
    """Load the Amazon book-cover search fixations and target boxes.

    Parameters
    ----------
    root : pathlib.Path
        Folder holding ``Amazon.json`` (or ``AmazonCovers/Amazon.json``), and
        optionally ``images/<collage>.jpg``.
    card : DatasetCard
        The ``amazon-book-covers`` card (pixels per degree).
    allow_offscreen : bool, default False
        Keep fixations outside their collage (the release has none).

    Returns
    -------
    Dataset
        100 collages x 6 participants, 8,683 fixations without times (NaN);
        ``stimuli`` has each collage's own size, ``target_bbox`` (x, y, w, h) and
        ``target``.

    Raises
    ------
    DatasetNotFoundError
        If the JSON is not in ``root``.
    DatasetFormatError
        If the JSON is malformed, truncated, of another dataset, lacks a key, or
        holds NaN or (unless allowed) off-collage coordinates.
    """
    root = Path(root)
    path = _find_file(root, card)
    raw, collages = read_amazon_json(path)

    images = path.parent / "images"
    paths, missing = [], []
    for name in collages["stimulus"]:
        p = images / name
        paths.append(str(p) if p.is_file() else None)
        if not p.is_file():
            missing.append(str(name))
    stimuli = pd.DataFrame({
        "stimulus": collages["stimulus"],
        "path": pd.Series(paths, dtype=object),
        "width": collages["width"],
        "height": collages["height"],
        "px_per_degree": card.px_per_degree,
        "target_bbox": collages["target_bbox"],
        "target": collages["target"],
    })
    if images.is_dir():
        n_fix = int(raw["stimulus"].isin(missing).sum())
        warn_missing_images("amazon-book-covers", images, missing, len(stimuli), n_fix)

    size = stimuli.set_index("stimulus")
    w_of = size["width"].reindex(raw["stimulus"]).to_numpy(dtype=float)
    h_of = size["height"].reindex(raw["stimulus"]).to_numpy(dtype=float)

    def place(i: int) -> str:
        return (f"collage {raw['stimulus'].iat[i]!r}, participant {str(raw['subject'].iat[i])!r}, "
                f"point {int(raw['fix_index'].iat[i])}")

    off = check_coordinates(path, raw["x"].to_numpy(), raw["y"].to_numpy(), w_of, h_of, place,
                            allow_offscreen=allow_offscreen)
    warn_offscreen("amazon-book-covers", path, off, place)

    n = len(raw)
    fixations = pd.DataFrame({
        "stimulus": raw["stimulus"],
        "subject": raw["subject"],
        "trial": np.zeros(n, dtype=np.int64),
        "fix_index": raw["fix_index"],
        "x": raw["x"],
        "y": raw["y"],
        "t_start": np.full(n, np.nan),
        "duration": np.full(n, np.nan),
        "target": raw["target"],
    })
    validate_stimuli(stimuli, source=str(path))
    validate_fixations(fixations, stimuli, allow_offscreen=allow_offscreen, source=str(path))
    return Dataset(
        name="amazon-book-covers",
        fixations=fixations,
        stimuli=stimuli,
        card=card,
        root=root,
        missing_stimuli=missing,
        extras={"n_offscreen": int(off.sum()), "file": str(path)},
    )


__all__ = ["load_amazon_book_covers", "read_amazon_json"]
