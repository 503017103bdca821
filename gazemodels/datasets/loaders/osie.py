"""OSIE: free viewing of 700 natural images by 15 observers (Xu et al. 2014, JoV).

Source layout (as in ``data/`` of github.com/NUS-VIP/predicting-human-gaze-beyond-pixels)::

    <root>/eye/fixations.mat   MATLAB struct array 'fixations' of 700 entries:
                               .img ('1001.jpg'), .subjects (15 structs with
                               fix_x, fix_y (px), fix_duration (ms))
    <root>/stimuli/*.jpg       the 800x600 images (a partial folder loads too)

Coordinates. The file holds MATLAB image coordinates, 1-based: the upstream code
uses them as 1-based pixel indices (``src/dataset/computeFixationMaps.m`` rounds
them and clips to ``[1, w]`` before ``map(fix_y, fix_x) = 1``), and their range in the
release is 1.2 to 799.2 (x) and 1.2 to 599.2 (y). In MATLAB, pixel ``k`` is centred on
``k``; in gazemodels the origin is the top-left corner of the image, so that 0-based
pixel ``i`` spans ``[i, i + 1)`` and is centred on ``i + 0.5``. The loader therefore
subtracts 0.5 px from both coordinates (``Dataset.extras['coordinate_shift_px']``);
pass ``matlab_coordinates=False`` to keep the file's values unchanged.

The file gives no fixation onsets, so ``t_start`` is NaN; ``duration`` is the file's
``fix_duration`` in ms. ``subject`` is the observer's 1-based position in
``.subjects``; ``trial`` is 0 (one viewing per image and observer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.validate import validate_fixations, validate_stimuli
from gazemodels.datasets.card import DatasetCard
from gazemodels.datasets.loaders._source_checks import (
    check_coordinates,
    image_size,
    scanpath_positions,
    warn_missing_images,
    warn_offscreen,
)
from gazemodels.datasets.registry import Dataset, register
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

FIXATIONS_FILE = Path("eye") / "fixations.mat"
STIMULI_DIR = "stimuli"
MATLAB_SHIFT_PX = -0.5
"""Added to the file's 1-based MATLAB coordinates to give top-left-origin coordinates."""


def _read_mat(path: Path):
    import scipy.io

    try:
        return scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except Exception as e:  # scipy raises many types (ValueError, TypeError, OSError, zlib.error)
        raise DatasetFormatError(
            path, f"not a readable MATLAB .mat file ({type(e).__name__}: {e}); the file may be "
            "truncated or of another format"
        ) from None


def _field(path: Path, obj, name: str, where: str):
    if not hasattr(obj, "_fieldnames"):
        raise DatasetFormatError(path, f"{where} is a {type(obj).__name__}, expected a MATLAB struct")
    if name not in obj._fieldnames:
        raise DatasetFormatError(
            path, f"{where} has no field {name!r} (its fields: {list(obj._fieldnames)})"
        )
    return getattr(obj, name)


def _as_vector(path: Path, value, where: str) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise DatasetFormatError(path, f"{where} is not numeric ({type(value).__name__})") from None
    if arr.ndim != 1:
        raise DatasetFormatError(path, f"{where} has shape {arr.shape}, expected a vector")
    return arr


def read_osie_fixations(path: Path) -> dict[str, np.ndarray]:
    """Read ``eye/fixations.mat`` into flat per-fixation arrays, unchanged.

    Parameters
    ----------
    path : pathlib.Path
        The OSIE ``fixations.mat``.

    Returns
    -------
    dict of numpy.ndarray
        ``entry`` (0-based index in the struct array), ``img``, ``subject``
        (1-based), ``fix_index``, ``fix_x``, ``fix_y``, ``fix_duration``; and
        ``images``, the image names in file order.

    Raises
    ------
    DatasetFormatError
        If the file is not a MAT file, has no ``fixations`` struct array, or an
        entry lacks a field or has vectors of unequal length. The message names
        the entry (0-based index and image name), subject and field.
    """
    mat = _read_mat(path)
    if "fixations" not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise DatasetFormatError(
            path, f"no variable 'fixations' (the file holds {found}); expected OSIE's eye/fixations.mat"
        )
    entries = np.atleast_1d(mat["fixations"])
    if entries.dtype != object or entries.ndim != 1:
        raise DatasetFormatError(path, "variable 'fixations' is not a struct array")
    images, xs, ys, ds, entry_of, subj_of = [], [], [], [], [], []
    for i, entry in enumerate(entries):
        img = _field(path, entry, "img", f"fixations[{i}]")
        if not isinstance(img, str) or not img:
            raise DatasetFormatError(path, f"fixations[{i}].img is {img!r}, expected an image file name")
        images.append(img)
        subjects = np.atleast_1d(_field(path, entry, "subjects", f"fixations[{i}] (img {img!r})"))
        for j, sub in enumerate(subjects):
            where = f"fixations[{i}] (img {img!r}).subjects[{j}]"
            x = _as_vector(path, _field(path, sub, "fix_x", where), f"{where}.fix_x")
            y = _as_vector(path, _field(path, sub, "fix_y", where), f"{where}.fix_y")
            d = _as_vector(path, _field(path, sub, "fix_duration", where), f"{where}.fix_duration")
            if not (x.size == y.size == d.size):
                raise DatasetFormatError(
                    path, f"{where}: fix_x, fix_y and fix_duration have different lengths "
                    f"({x.size}, {y.size}, {d.size})"
                )
            xs.append(x)
            ys.append(y)
            ds.append(d)
            entry_of.append(i)
            subj_of.append(j + 1)
    dup = pd.Index(images)[pd.Index(images).duplicated()].unique().tolist()
    if dup:
        raise DatasetFormatError(path, f"image(s) listed in more than one entry: {dup[:5]}")
    lengths = np.array([len(x) for x in xs], dtype=np.int64)
    entry_idx = np.repeat(np.array(entry_of, dtype=np.int64), lengths)
    empty = np.array([], dtype=float)
    return {
        "entry": entry_idx,
        "img": np.asarray(images, dtype=object)[entry_idx],
        "subject": np.repeat(np.array(subj_of, dtype=np.int64), lengths),
        "fix_index": scanpath_positions(lengths),
        "fix_x": np.concatenate(xs) if xs else empty,
        "fix_y": np.concatenate(ys) if ys else empty,
        "fix_duration": np.concatenate(ds) if ds else empty,
        "images": np.asarray(images, dtype=object),
    }


@register("osie")
def load_osie(
    root: Path,
    card: DatasetCard,
    *,
    matlab_coordinates: bool = True,
    allow_offscreen: bool = False,
) -> Dataset:
    """Load OSIE free-viewing fixations, tolerating a partial ``stimuli/`` folder.

    Parameters
    ----------
    root : pathlib.Path
        Folder holding ``eye/fixations.mat`` and ``stimuli/`` (upstream's ``data/``).
    card : DatasetCard
        The ``osie`` card; gives the image size and pixels per degree.
    matlab_coordinates : bool, default True
        Treat the file's coordinates as 1-based MATLAB pixel coordinates and shift
        them by -0.5 px to the top-left-origin frame of gazemodels (see the module
        docstring). False keeps the file's values.
    allow_offscreen : bool, default False
        Keep fixations that lie off their image (the release has none).

    Returns
    -------
    Dataset
        ``fixations`` (98,321 in the full release, 700 images x 15 observers) and
        ``stimuli`` (one row per image; ``path`` is None where the image file is
        absent). ``missing_stimuli`` lists the images whose file is absent; a
        single warning says how many. ``extras`` holds ``coordinate_shift_px`` and
        ``n_offscreen``.

    Raises
    ------
    DatasetNotFoundError
        If ``eye/fixations.mat`` is absent.
    DatasetFormatError
        If the MAT file is malformed, truncated, of another dataset, or holds NaN
        or (unless allowed) off-image coordinates; the message names the entry.
    """
    root = Path(root)
    path = root / FIXATIONS_FILE
    if not path.is_file():
        raise DatasetNotFoundError(
            f"osie: {path} is absent; place upstream's data/eye/fixations.mat there "
            f"(see {card.homepage})"
        )
    raw = read_osie_fixations(path)
    shift = MATLAB_SHIFT_PX if matlab_coordinates else 0.0
    x = raw["fix_x"] + shift
    y = raw["fix_y"] + shift

    images = raw["images"]
    folder = root / STIMULI_DIR
    paths, widths, heights, missing = [], [], [], []
    default_w = float(card.geometry.get("width_px", 800))
    default_h = float(card.geometry.get("height_px", 600))
    for img in images:
        p = folder / img
        if p.is_file():
            w, h = image_size(p)
            paths.append(str(p))
            widths.append(float(w))
            heights.append(float(h))
        else:
            # Every OSIE image is 800x600 (Xu et al. 2014), so an absent file keeps the card's size.
            paths.append(None)
            widths.append(default_w)
            heights.append(default_h)
            missing.append(str(img))
    stimuli = pd.DataFrame({
        "stimulus": pd.Series(images, dtype=object),
        "path": pd.Series(paths, dtype=object),
        "width": widths,
        "height": heights,
        "px_per_degree": card.px_per_degree,
    })

    size = stimuli.set_index("stimulus")
    w_of = size["width"].reindex(raw["img"]).to_numpy(dtype=float)
    h_of = size["height"].reindex(raw["img"]).to_numpy(dtype=float)

    def place(i: int) -> str:
        return (f"fixations[{raw['entry'][i]}] (img {raw['img'][i]!r}).subjects"
                f"[{raw['subject'][i] - 1}] fixation {raw['fix_index'][i]} (0-based; in the file "
                f"fix_x={float(raw['fix_x'][i]):g}, fix_y={float(raw['fix_y'][i]):g})")

    off = check_coordinates(path, x, y, w_of, h_of, place, allow_offscreen=allow_offscreen)
    warn_offscreen("osie", path, off, place)

    fixations = pd.DataFrame({
        "stimulus": pd.Series(raw["img"], dtype=object),
        "subject": raw["subject"],
        "trial": np.zeros(len(x), dtype=np.int64),
        "fix_index": raw["fix_index"],
        "x": x,
        "y": y,
        "t_start": np.full(len(x), np.nan),
        "duration": raw["fix_duration"],
    })
    n_missing_fix = int(fixations["stimulus"].isin(missing).sum())
    warn_missing_images("osie", folder, missing, len(images), n_missing_fix)

    source = str(path)
    validate_stimuli(stimuli, source=source)
    validate_fixations(fixations, stimuli, allow_offscreen=allow_offscreen, source=source)
    return Dataset(
        name="osie",
        fixations=fixations,
        stimuli=stimuli,
        card=card,
        root=root,
        missing_stimuli=missing,
        extras={"coordinate_shift_px": shift, "n_offscreen": int(off.sum())},
    )


__all__ = ["load_osie", "read_osie_fixations"]
