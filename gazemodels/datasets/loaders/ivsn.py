"""IVSN human visual search scanpaths (Zhang et al. 2018, *Nat. Commun.* 9:3730).

Fifteen observers searched for a target object in three kinds of displays:
``NaturalDesign`` (240 natural images), ``Waldo`` (67 "Where's Waldo" pages) and
``ObjArr`` (300 arrays of six objects). The files read here are the preprocessed
human scanpaths that Gupta et al. (2021, NeurIPS, "Visual search asymmetry")
published in ``kreimanlab/VisualSearchAsymmetry`` under ``vs_saccade_exp/out/``:

``<subset>/fix/human_all.npy``
    int ``(n_subjects * n_images, max_fix, 2)``, one scanpath per row, zero padded.
``<subset>/ifix/I_human_all.npy``
    ``(n_subjects * n_images, 1)``, 1-based index of the fixation at which the
    target was found, which is also the length of the stored scanpath.
``<subset>/cp/CP_human_all.npy``
    ``(n_subjects * n_images, max_fix)``, per-fixation 0/1 "target found here".
``<subset>/target_pos.npy``
    ``(n_images, 2)`` target centre, ``(row, col)`` = ``(y, x)`` px
    (``NaturalDesign`` and ``Waldo`` only; upstream publishes none for ``ObjArr``).
``<subset>/ss_score/*.npy``
    published ScanMatch ``[mean, sem]`` (read into ``extras`` for reference only).

Decisions, and the evidence for them
------------------------------------
Row order
    Rows are **subject-major**: row ``r`` is subject ``r // n_images + 1`` viewing
    image ``r % n_images + 1``. Upstream ``vs_saccade_exp/score_analysis.py`` slices
    subject ``i`` as ``data_human[i*NumStimuli:(i+1)*NumStimuli]`` and tiles
    ``target_pos`` once per subject block. Checked independently on the data: the
    last fixation of a scanpath lies at a median 56 px (Waldo) / 97 px
    (NaturalDesign) from the target under this order, 538 / 465 px under the
    image-major alternative.
Coordinate order
    ``NaturalDesign`` and ``Waldo`` store ``(y, x)`` (column 0 never exceeds the
    1024-px display height; ``runExp.py`` scales column 0 by ``1024/736``).
    ``ObjArr`` stores ``(x, y)``: its values are the seven fixed object slots of
    ``vs_saccade_exp/data_utils.py`` (centre ``(640, 512)`` and a hexagon of radius
    550 px, e.g. ``(1190, 512)``, impossible as ``(y, x)`` on a 1024-px-high
    display). The loader swaps accordingly; ``x``, ``y`` are always display px,
    origin top-left, on the 1280 x 1024 display.
Padding
    The stored scanpath is the first ``ifix`` entries of a row (every row has
    exactly ``ifix`` entries before an all-zero tail). Padding is therefore decided
    by ``ifix``, not by the value ``(0, 0)``: a real fixation at ``(0, 0)`` inside
    the scanpath is kept (the release has none; 15 fixations have one coordinate
    equal to 0 and are kept), and a non-zero entry after ``ifix`` is an error.
ObjArr coordinates are object slots
    ``ObjArr`` fixations are snapped to the seven slots; the ``object`` column gives
    the slot index (0 = centre, 1-6 in the order of ``data_utils.fix``). Gupta et
    al.'s analysis remaps the hexagon to a 300-px radius before converting to
    degrees; the loader keeps the published values.
Found-at index
    ``extras["trials"]["ifix"]`` is the published 1-based found index. The
    per-fixation ``found`` column follows ``found_from``: ``"cp"`` (default) copies
    ``CP_human_all`` (the indicator behind the published cumulative-performance
    curves); ``"ifix"`` marks the last stored fixation of every trial, i.e. assumes
    that every trial ended on the target.
Known problem of the release
    In ``NaturalDesign`` and ``ObjArr`` the published ``CP_human_all`` rows do not
    agree with ``fix``/``ifix`` (the CP "found" fixation equals ``ifix`` in 1,099 of
    3,600 and 753 of 4,500 trials; in 1,872 NaturalDesign trials it lies beyond the
    end of the stored scanpath). ``Waldo`` agrees in every trial. The target-distance
    check above supports ``fix``/``ifix``. The loader reports this once per subset
    (a warning), keeps every published value in ``extras["trials"]`` (``cp_index``,
    ``cp_consistent``) and drops nothing.
Off-screen fixations
    NaturalDesign has 209 and Waldo 1,037 fixations outside the 1280 x 1024 display
    (tracker output, e.g. ``x = 2182``). They are kept by default
    (``allow_offscreen=True``) and counted in ``extras["consistency"]``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from gazemodels.data.validate import validate_fixations, validate_stimuli
from gazemodels.datasets.card import DatasetCard
from gazemodels.datasets.registry import Dataset, register
from gazemodels.errors import DatasetFormatError, DatasetNotFoundError

SUBSETS: dict[str, int] = {"NaturalDesign": 240, "Waldo": 67, "ObjArr": 300}
"""Number of search images per subset."""

COORDINATE_ORDER: dict[str, str] = {"NaturalDesign": "yx", "Waldo": "yx", "ObjArr": "xy"}
"""Order of the last axis of ``fix/human_all.npy`` per subset (see module notes)."""

OBJARR_SLOTS: tuple[tuple[int, int], ...] = (
    (640, 512), (365, 988), (90, 512), (365, 36), (915, 36), (1190, 512), (915, 988),
)
"""The seven ``(x, y)`` positions of ObjArr fixations, in the order of upstream
``vs_saccade_exp/data_utils.py``; slot 0 is the central fixation point."""

DISPLAY_WIDTH, DISPLAY_HEIGHT = 1280, 1024


def _load_npy(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, EOFError, OSError) as e:
        raise DatasetFormatError(path, f"not a readable .npy array (truncated or malformed): {e}") from None
    if not isinstance(arr, np.ndarray):
        raise DatasetFormatError(path, f"expected a single .npy array, got {type(arr).__name__}")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise DatasetFormatError(path, f"expected a numeric array, got dtype {arr.dtype}")
    return arr


def _place(row: int, n_images: int) -> str:
    return f"row {row} (subject {row // n_images + 1}, image {row % n_images + 1})"


def _parse_subsets(subset) -> list[str]:
    if subset is None or subset == "all":
        return list(SUBSETS)
    names = [subset] if isinstance(subset, str) else list(subset)
    unknown = [s for s in names if s not in SUBSETS]
    if unknown or not names:
        raise ValueError(f"unknown ivsn subset(s) {unknown or names}; choose from {list(SUBSETS)} or 'all'")
    return list(dict.fromkeys(names))


def _read_subset(root: Path, name: str, n_subjects: int, found_from: str, allow_offscreen: bool):
    n_images = SUBSETS[name]
    folder = root / name
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"ivsn: subset folder {folder} does not exist; expected {name}/fix, {name}/ifix, "
            f"{name}/cp as in vs_saccade_exp/out/ of kreimanlab/VisualSearchAsymmetry"
        )
    fix_path = folder / "fix" / "human_all.npy"
    ifix_path = folder / "ifix" / "I_human_all.npy"
    cp_path = folder / "cp" / "CP_human_all.npy"
    for p in (fix_path, ifix_path) + ((cp_path,) if found_from == "cp" else ()):
        if not p.is_file():
            raise DatasetNotFoundError(f"ivsn {name}: required file {p} is missing")

    fix = _load_npy(fix_path)
    n_rows = n_subjects * n_images
    if fix.ndim != 3 or fix.shape[2] != 2 or fix.shape[0] != n_rows:
        raise DatasetFormatError(
            fix_path,
            f"expected shape ({n_rows}, max_fix, 2) for {n_subjects} subjects x {n_images} "
            f"{name} images, got {fix.shape}; is this a file of another subset or dataset?",
        )
    max_fix = fix.shape[1]

    ifix_raw = _load_npy(ifix_path)
    if ifix_raw.shape not in ((n_rows, 1), (n_rows,)):
        raise DatasetFormatError(ifix_path, f"expected shape ({n_rows}, 1), got {ifix_raw.shape}")
    ifix_f = ifix_raw.reshape(-1).astype(float)
    bad = ~np.isfinite(ifix_f) | (ifix_f != np.round(ifix_f)) | (ifix_f < 1) | (ifix_f > max_fix)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise DatasetFormatError(
            ifix_path,
            f"{int(bad.sum())} found indices are not integers in 1..{max_fix}; first at "
            f"{_place(r, n_images)}: {ifix_raw.reshape(-1)[r]!r}",
        )
    ifix = ifix_f.astype(np.int64)

    # The scanpath is the first ifix entries; everything after must be zero padding.
    inside = np.arange(max_fix)[None, :] < ifix[:, None]
    tail = ~inside & np.any(fix != 0, axis=2)
    if tail.any():
        r, k = (int(v[0]) for v in np.nonzero(tail))
        raise DatasetFormatError(
            fix_path,
            f"{int(tail.sum())} non-zero entries lie after the scanpath end given by "
            f"{ifix_path.name}; first at {_place(r, n_images)}, fixation {k} = {fix[r, k].tolist()} "
            f"(scanpath length {ifix[r]}); the array should be zero padded there",
        )
    rows, cols = np.nonzero(inside)
    vals = fix[rows, cols].astype(float)
    if COORDINATE_ORDER[name] == "yx":
        y, x = vals[:, 0], vals[:, 1]
    else:
        x, y = vals[:, 0], vals[:, 1]
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise DatasetFormatError(
            fix_path,
            f"{int((~finite).sum())} fixations have NaN or infinite coordinates; first at "
            f"{_place(int(rows[i]), n_images)}, fixation {int(cols[i])}",
        )
    off = (x < 0) | (y < 0) | (x > DISPLAY_WIDTH) | (y > DISPLAY_HEIGHT)
    if off.any() and not allow_offscreen:
        listed = "; ".join(
            f"{_place(int(rows[i]), n_images)}, fixation {int(cols[i])} at x={x[i]:g}, y={y[i]:g}"
            for i in np.flatnonzero(off)[:5]
        )
        raise DatasetFormatError(
            fix_path,
            f"{int(off.sum())} fixations lie outside the {DISPLAY_WIDTH}x{DISPLAY_HEIGHT} display "
            f"(pass allow_offscreen=True to keep them): {listed}",
        )

    obj = None
    if name == "ObjArr":
        slots = np.asarray(OBJARR_SLOTS, dtype=float)
        match = (x[:, None] == slots[None, :, 0]) & (y[:, None] == slots[None, :, 1])
        if not match.any(axis=1).all():
            i = int(np.flatnonzero(~match.any(axis=1))[0])
            raise DatasetFormatError(
                fix_path,
                f"ObjArr fixations must lie on the seven object slots {list(OBJARR_SLOTS)}; "
                f"{_place(int(rows[i]), n_images)}, fixation {int(cols[i])} is at "
                f"({x[i]:g}, {y[i]:g}); is this a file of another subset?",
            )
        obj = match.argmax(axis=1)

    # Published per-fixation found indicator.
    cp_index = np.full(n_rows, -1, dtype=np.int64)
    cp = None
    if cp_path.is_file():
        cp = _load_npy(cp_path)
        if cp.shape != (n_rows, max_fix):
            raise DatasetFormatError(cp_path, f"expected shape ({n_rows}, {max_fix}), got {cp.shape}")
        if not np.isin(cp, (0, 1)).all():
            r = int(np.flatnonzero(~np.isin(cp, (0, 1)).all(axis=1))[0])
            raise DatasetFormatError(cp_path, f"values must be 0 or 1; {_place(r, n_images)} is not")
        has = cp.any(axis=1)
        cp_index[has] = cp[has].argmax(axis=1) + 1
    if found_from == "cp":
        found = cp[rows, cols].astype(bool)
    else:
        found = cols == (ifix[rows] - 1)

    subject = rows // n_images + 1
    image = rows % n_images + 1
    stim_names = np.array([f"{name}/s_{k}.jpg" for k in range(1, n_images + 1)], dtype=object)
    target_names = np.array([f"{name}/t_{k}.jpg" for k in range(1, n_images + 1)], dtype=object)
    fx = pd.DataFrame(
        {
            "stimulus": stim_names[image - 1],
            "subject": subject.astype(np.int64),
            "trial": np.zeros(len(rows), dtype=np.int64),
            "fix_index": cols.astype(np.int64),
            "x": x,
            "y": y,
            "t_start": np.nan,
            "duration": np.nan,
            "condition": name,
            "target": target_names[image - 1],
            "found": found,
        }
    )
    if obj is not None:
        fx["object"] = pd.array(obj, dtype="Int64")
    else:
        fx["object"] = pd.array([pd.NA] * len(fx), dtype="Int64")

    # Per-trial table: every published value, nothing dropped.
    all_rows = np.arange(n_rows)
    found_any = np.zeros(n_rows, dtype=bool)
    first_found = np.full(n_rows, -1, dtype=np.int64)
    if len(rows):
        f_rows = rows[found]
        f_cols = cols[found]
        found_any[f_rows] = True
        order = np.lexsort((f_cols, f_rows))
        f_rows, f_cols = f_rows[order], f_cols[order]
        firsts = np.r_[True, f_rows[1:] != f_rows[:-1]] if len(f_rows) else np.zeros(0, bool)
        first_found[f_rows[firsts]] = f_cols[firsts]
    cp_idx = pd.array(np.where(cp_index > 0, cp_index, 0), dtype="Int64")
    cp_idx[cp_index <= 0] = pd.NA
    trials = pd.DataFrame(
        {
            "condition": name,
            "stimulus": stim_names[all_rows % n_images],
            "subject": (all_rows // n_images + 1).astype(np.int64),
            "trial": np.zeros(n_rows, dtype=np.int64),
            "image": (all_rows % n_images + 1).astype(np.int64),
            "n_fixations": ifix,
            "ifix": ifix,
            "cp_index": cp_idx,
            "cp_consistent": (cp_index <= 0) | (cp_index == ifix) if cp is not None else pd.NA,
            "found_fix_index": pd.array(np.where(found_any, first_found, 0), dtype="Int64"),
        }
    )
    trials.loc[~found_any, "found_fix_index"] = pd.NA

    # Stimulus table, with the target centre where upstream publishes it.
    tx = np.full(n_images, np.nan)
    ty = np.full(n_images, np.nan)
    tpath = folder / "target_pos.npy"
    if tpath.is_file():
        t = _load_npy(tpath).astype(float)
        if t.shape != (n_images, 2):
            raise DatasetFormatError(tpath, f"expected shape ({n_images}, 2), got {t.shape}")
        if not np.isfinite(t).all():
            r = int(np.flatnonzero(~np.isfinite(t).all(axis=1))[0])
            raise DatasetFormatError(tpath, f"target of image {r + 1} is NaN or infinite")
        ty, tx = t[:, 0], t[:, 1]  # (row, col) = (y, x), as in score_analysis.__f2D
    elif name != "ObjArr":
        warnings.warn(
            f"ivsn {name}: {tpath} is absent; target positions are NaN", UserWarning, stacklevel=3
        )
    paths = []
    for k in range(1, n_images + 1):
        p = folder / "stimuli" / f"s_{k}.jpg"
        paths.append(str(p) if p.is_file() else None)
    stimuli = pd.DataFrame(
        {
            "stimulus": stim_names,
            "path": paths,
            "width": DISPLAY_WIDTH,
            "height": DISPLAY_HEIGHT,
            "condition": name,
            "target": target_names,
            "target_x": tx,
            "target_y": ty,
        }
    )

    n_consistent = int(np.sum((cp_index <= 0) | (cp_index == ifix))) if cp is not None else None
    summary = {
        "condition": name,
        "n_trials": n_rows,
        "n_fixations": int(len(rows)),
        "n_offscreen": int(off.sum()),
        "n_cp_found": int((cp_index > 0).sum()) if cp is not None else None,
        "n_cp_equal_ifix": int((cp_index == ifix).sum()) if cp is not None else None,
        "n_cp_beyond_scanpath": int((cp_index > ifix).sum()) if cp is not None else None,
        "n_cp_consistent": n_consistent,
    }
    if cp is not None and n_consistent < n_rows:
        warnings.warn(
            f"ivsn {name}: {cp_path.name} disagrees with {ifix_path.name} in "
            f"{n_rows - n_consistent} of {n_rows} trials ({summary['n_cp_beyond_scanpath']} place the "
            f"find beyond the stored scanpath); 'found' follows found_from={found_from!r}, and "
            "extras['trials'] keeps ifix and cp_index for every trial",
            UserWarning,
            stacklevel=3,
        )

    scores = []
    ss_dir = folder / "ss_score"
    if ss_dir.is_dir():
        for p in sorted(ss_dir.glob("*.npy")):
            v = _load_npy(p).astype(float).reshape(-1)
            if v.shape != (2,):
                raise DatasetFormatError(p, f"expected [mean, sem], got shape {v.shape}")
            scores.append({"condition": name, "model": p.stem, "mean": v[0], "sem": v[1]})
    return fx, stimuli, trials, summary, scores


@register("ivsn")
def load_ivsn(
    root: Path,
    card: DatasetCard,
    *,
    subset: str | Iterable[str] | None = None,
    found_from: str = "cp",
    allow_offscreen: bool = True,
) -> Dataset:
    """Load the IVSN human search scanpaths.

    Parameters
    ----------
    root : pathlib.Path
        Folder holding ``NaturalDesign/``, ``Waldo/`` and ``ObjArr/`` laid out as
        ``vs_saccade_exp/out/`` upstream.
    card : DatasetCard
        The ``ivsn`` card (geometry, expected number of subjects).
    subset : str or iterable of str, optional
        ``"NaturalDesign"``, ``"Waldo"``, ``"ObjArr"``, several of them, or
        ``None``/``"all"`` (default) for all three. The ``condition`` column says
        which subset a fixation comes from.
    found_from : {"cp", "ifix"}, default "cp"
        Source of the per-fixation ``found`` column (see the module notes).
    allow_offscreen : bool, default True
        Keep fixations outside the 1280 x 1024 display (the release has real ones).
        With False they raise :class:`~gazemodels.errors.DatasetFormatError`.

    Returns
    -------
    Dataset
        ``fixations`` with the schema columns plus ``condition``, ``target``,
        ``found`` and ``object`` (ObjArr slot, else NA); ``t_start`` and ``duration``
        are NaN (the release has no timing). ``stimuli`` with ``target_x``,
        ``target_y`` (target centre, px; NaN for ObjArr). ``extras``: ``trials``
        (one row per scanpath: ``ifix``, ``cp_index``, ``cp_consistent``,
        ``found_fix_index``), ``consistency`` (per-subset counts),
        ``published_scanmatch`` (``ss_score`` values) and ``coordinate_order``.

    Raises
    ------
    DatasetNotFoundError
        If a requested subset folder or file is missing.
    DatasetFormatError
        If an array is truncated, malformed, of another shape (another subset or
        dataset), padded wrongly, or has NaN (or, when not allowed, off-screen)
        coordinates. The message names the file and the row (subject, image).
    """
    if found_from not in ("cp", "ifix"):
        raise ValueError(f"found_from must be 'cp' or 'ifix', got {found_from!r}")
    names = _parse_subsets(subset)
    n_subjects = int(card.expected.get("n_subjects", 15))
    parts = [_read_subset(Path(root), n, n_subjects, found_from, allow_offscreen) for n in names]
    fixations = pd.concat([p[0] for p in parts], ignore_index=True)
    stimuli = pd.concat([p[1] for p in parts], ignore_index=True)
    g = card.geometry
    stimuli.insert(4, "px_per_degree", card.px_per_degree)
    for key in ("screen_width_cm", "distance_cm"):
        if key in g:
            stimuli[key] = float(g[key])
    trials = pd.concat([p[2] for p in parts], ignore_index=True)
    consistency = pd.DataFrame([p[3] for p in parts])
    scores = pd.DataFrame([s for p in parts for s in p[4]], columns=["condition", "model", "mean", "sem"])

    validate_stimuli(stimuli, source=f"ivsn ({root})")
    validate_fixations(fixations, stimuli, allow_offscreen=allow_offscreen, source=f"ivsn ({root})")
    missing = stimuli.loc[stimuli["path"].isna(), "stimulus"].tolist()
    return Dataset(
        name="ivsn",
        fixations=fixations,
        stimuli=stimuli,
        card=card,
        root=Path(root),
        missing_stimuli=missing,
        extras={
            "trials": trials,
            "consistency": consistency,
            "published_scanmatch": scores,
            "coordinate_order": {n: COORDINATE_ORDER[n] for n in names},
        },
    )
