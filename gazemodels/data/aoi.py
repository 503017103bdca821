"""Mapping of fixations to objects or areas of interest (AOIs) given as boxes.

An **object table** is a :class:`pandas.DataFrame` with one row per box:

============  ====  =================================================================
column        unit  meaning
============  ====  =================================================================
``stimulus``  --    stimulus identifier, matches the fixation table
``object``    --    label of the object or AOI (any hashable; need not be unique)
``x``, ``y``  px    top-left corner of the box, stimulus pixels, origin top-left
``w``, ``h``  px    width and height of the box (>= 0)
============  ====  =================================================================

A box covers ``x <= fx <= x + w`` and ``y <= fy <= y + h``: a fixation on the
border is inside. Other columns of the object table are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gazemodels.errors import FixationTableError

OBJECT_COLUMNS: tuple[str, ...] = ("stimulus", "object", "x", "y", "w", "h")
"""Required columns of an object (AOI) table."""

_OVERLAP_RULES = ("smallest", "first", "nearest_centre")
_CHUNK_CELLS = 1 << 21  # fixations x boxes handled at once (~16 MiB per float array)


def _box_from_item(stimulus, position: int, item) -> dict:
    """One box of the dict form as a row of the object table."""
    if isinstance(item, Mapping):
        if all(k in item for k in ("x", "y", "w", "h")):
            x, y, w, h = (item[k] for k in ("x", "y", "w", "h"))
        elif all(k in item for k in ("xmin", "ymin", "xmax", "ymax")):
            x, y = item["xmin"], item["ymin"]
            w, h = item["xmax"] - item["xmin"], item["ymax"] - item["ymin"]
        else:
            raise FixationTableError(
                f"objects[{stimulus!r}][{position}]: a box needs keys x, y, w, h "
                f"(or xmin, ymin, xmax, ymax), got {sorted(map(str, item))}"
            )
        label = item.get("object", item.get("label", position))
    else:
        try:
            values = list(item)
        except TypeError:
            values = []
        if len(values) != 4:
            raise FixationTableError(
                f"objects[{stimulus!r}][{position}]: a box is (x, y, w, h) or a mapping, got {item!r}"
            )
        x, y, w, h = values
        label = position
    return {"stimulus": stimulus, "object": label, "x": x, "y": y, "w": w, "h": h}


def as_object_table(objects) -> pd.DataFrame:
    """Bring boxes to the tidy object table of this module and check them.

    Parameters
    ----------
    objects : pandas.DataFrame or mapping
        Either a table with the columns ``stimulus, object, x, y, w, h`` or a
        mapping ``stimulus -> list of boxes``. A box of the mapping form is an
        ``(x, y, w, h)`` sequence, labelled by its 0-based position in the list, or
        a mapping with keys ``x, y, w, h`` (or ``xmin, ymin, xmax, ymax``) and an
        optional ``object`` (or ``label``) entry.

    Returns
    -------
    pandas.DataFrame
        The columns ``stimulus, object, x, y, w, h`` (a new table; ``x, y, w, h``
        as float), in the order given.

    Raises
    ------
    FixationTableError
        If a column is missing, or a box has a non-finite corner or a negative or
        non-finite size. The message names the offending rows.

    Examples
    --------
    >>> as_object_table({"a.jpg": [(0, 0, 10, 10), {"x": 5, "y": 5, "w": 2, "h": 2, "object": "cup"}]})
      stimulus object    x    y     w     h
    0    a.jpg      0  0.0  0.0  10.0  10.0
    1    a.jpg    cup  5.0  5.0   2.0   2.0
    """
    if isinstance(objects, pd.DataFrame):
        missing = [c for c in OBJECT_COLUMNS if c not in objects.columns]
        if missing:
            raise FixationTableError(
                f"object table is missing column(s) {missing}; it has {list(objects.columns)}"
            )
        table = objects[list(OBJECT_COLUMNS)].copy()
    elif isinstance(objects, Mapping):
        rows = []
        for stimulus, boxes in objects.items():
            if isinstance(boxes, (str, bytes)) or not isinstance(boxes, (Sequence, np.ndarray)):
                raise FixationTableError(
                    f"objects[{stimulus!r}] must be a list of boxes, got {type(boxes).__name__}"
                )
            rows.extend(_box_from_item(stimulus, i, b) for i, b in enumerate(boxes))
        table = pd.DataFrame(rows, columns=list(OBJECT_COLUMNS))
    else:
        raise FixationTableError(
            f"objects must be a DataFrame or a mapping stimulus -> boxes, got {type(objects).__name__}"
        )
    for c in ("x", "y", "w", "h"):
        try:
            table[c] = pd.to_numeric(table[c]).astype(float)
        except (TypeError, ValueError) as exc:
            raise FixationTableError(f"object table: column {c!r} must be numeric ({exc})") from None
    geo = table[["x", "y", "w", "h"]].to_numpy(dtype=float)
    bad = ~np.isfinite(geo).all(axis=1) | (geo[:, 2] < 0) | (geo[:, 3] < 0)
    if bad.any():
        shown = table.loc[bad].head(8)
        listed = "; ".join(
            f"row {idx!r} (stimulus={r.stimulus!r}, object={r.object!r}, x={r.x}, y={r.y}, w={r.w}, h={r.h})"
            for idx, r in zip(shown.index.tolist(), shown.itertuples(index=False))
        )
        more = int(bad.sum()) - len(shown)
        raise FixationTableError(
            f"object table: {int(bad.sum())} box(es) have a non-finite corner or a negative or "
            f"non-finite size: {listed}" + (f"; and {more} more" if more > 0 else "")
        )
    return table


def map_to_objects(
    fixations: pd.DataFrame,
    objects,
    *,
    column: str = "object",
    overlap: str = "smallest",
    margin_px: float = 0.0,
    distance: bool | str = False,
    missing: str = "raise",
    overwrite: bool = False,
) -> pd.DataFrame:
    """Label each fixation with the object or AOI box that contains it.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table with ``stimulus``, ``x`` and ``y`` (px, origin top-left).
    objects : pandas.DataFrame or mapping
        Boxes per stimulus: a table ``stimulus, object, x, y, w, h`` (px, top-left
        corner and size) or a mapping ``stimulus -> list of boxes``; see
        :func:`as_object_table`.
    column : str, default ``"object"``
        Name of the new column holding the label of the fixated object.
    overlap : {"smallest", "first", "nearest_centre"}, default ``"smallest"``
        Which box wins when several contain the fixation: the one of smallest
        area, the first of the stimulus in table (or list) order, or the one whose
        centre is nearest the fixation. Remaining ties go to the first box.
    margin_px : float, default 0
        Grow every box by this many pixels on each side before testing
        containment (eye-tracker error). Must be >= 0. The ``"smallest"`` rule
        compares the areas of the boxes as given.
    distance : bool or str, default False
        Also add the Euclidean distance (px) from each fixation to the nearest
        box of its stimulus, 0 inside a box (margins ignored). ``True`` names the
        column ``f"{column}_distance"``; a string names it.
    missing : {"raise", "ignore"}, default ``"raise"``
        What to do with fixations on stimuli that have no box at all: raise an
        error naming those stimuli, or give them "no object" (and a NaN distance).
    overwrite : bool, default False
        Replace, in the returned copy, a column of the same name that the fixation
        table already has; by default that is an error.

    Returns
    -------
    pandas.DataFrame
        A copy of ``fixations`` (same index and row order) with ``column`` and
        optionally the distance column added. The input is not modified.

        A fixation outside every box ("no object") gets the missing value of the
        label type, so ``pd.isna`` is true for it: NaN for string, object and
        float labels, ``pd.NA`` for integer labels, which are stored in the
        nullable ``Int64`` dtype so that they stay integers. Fixations with NaN
        coordinates also get "no object" and a NaN distance.

    Raises
    ------
    FixationTableError
        If a column is missing or already present, a box is invalid, or (with
        ``missing="raise"``) fixations lie on stimuli without boxes.
    ValueError
        If ``overlap``, ``missing`` or ``margin_px`` is not valid.

    Notes
    -----
    Containment is closed: a fixation exactly on the border of a box is inside
    it. The computation is vectorised over fixations and boxes (boxes are padded
    per stimulus and fixations processed in chunks), so 100,000 fixations with
    84 boxes per stimulus take well under a second.

    Examples
    --------
    >>> import pandas as pd
    >>> fix = pd.DataFrame({"stimulus": ["a.jpg"] * 3, "x": [5.0, 15.0, 50.0], "y": [5.0, 5.0, 50.0]})
    >>> boxes = {"a.jpg": [{"x": 0, "y": 0, "w": 20, "h": 10, "object": "table"},
    ...                    {"x": 0, "y": 0, "w": 10, "h": 10, "object": "cup"}]}
    >>> map_to_objects(fix, boxes, distance=True)
      stimulus     x     y object  object_distance
    0    a.jpg   5.0   5.0    cup              0.0
    1    a.jpg  15.0   5.0  table              0.0
    2    a.jpg  50.0  50.0    NaN             50.0
    """
    if overlap not in _OVERLAP_RULES:
        raise ValueError(f"overlap must be one of {_OVERLAP_RULES}, got {overlap!r}")
    if missing not in ("raise", "ignore"):
        raise ValueError(f"missing must be 'raise' or 'ignore', got {missing!r}")
    margin = float(margin_px)
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin_px must be a finite number >= 0, got {margin_px!r}")
    if not isinstance(fixations, pd.DataFrame):
        raise FixationTableError(f"fixations must be a DataFrame, got {type(fixations).__name__}")
    need = [c for c in ("stimulus", "x", "y") if c not in fixations.columns]
    if need:
        raise FixationTableError(f"map_to_objects: fixation table is missing column(s) {need}")
    dist_col = None
    if distance is True:
        dist_col = f"{column}_distance"
    elif isinstance(distance, str):
        dist_col = distance
    elif distance is not False:
        raise ValueError(f"distance must be a bool or a column name, got {distance!r}")
    new_cols = [column] + ([dist_col] if dist_col else [])
    if dist_col == column:
        raise ValueError(f"the distance column cannot also be named {column!r}")
    clash = [c for c in new_cols if c in fixations.columns]
    if clash and not overwrite:
        raise FixationTableError(
            f"map_to_objects: the fixation table already has column(s) {clash}; "
            "choose another name (column=..., distance=...) or pass overwrite=True"
        )

    boxes = as_object_table(objects)
    stim_ids = pd.Index(pd.unique(boxes["stimulus"]))
    code = stim_ids.get_indexer(fixations["stimulus"]) if len(stim_ids) else np.full(len(fixations), -1)
    code = np.asarray(code, dtype=np.int64)
    if missing == "raise" and (code < 0).any():
        absent = pd.unique(fixations.loc[code < 0, "stimulus"])
        listed = [v.item() if isinstance(v, np.generic) else v for v in absent[:10]]
        raise FixationTableError(
            f"map_to_objects: {int((code < 0).sum())} fixation(s) lie on {len(absent)} stimulus "
            f"id(s) with no boxes: {listed}{' ...' if len(absent) > 10 else ''} "
            "(pass missing='ignore' to label them as no object)"
        )

    # Box geometry padded per stimulus, (7, n_stimuli, max_boxes); padding is NaN so that
    # every comparison with it is False.
    bcode = stim_ids.get_indexer(boxes["stimulus"])
    border = np.argsort(bcode, kind="stable")
    counts = np.bincount(bcode, minlength=len(stim_ids))
    n_stim, k = len(stim_ids), int(counts.max()) if len(counts) else 0
    slot = np.arange(len(bcode)) - np.repeat(np.cumsum(counts) - counts, counts)
    geo = boxes[["x", "y", "w", "h"]].to_numpy(dtype=float)[border]
    pad = np.full((7, n_stim, max(k, 1)), np.nan)  # x0, y0, x1, y1, area, cx, cy
    x0, y0, w, h = geo.T
    pad[:, bcode[border], slot] = np.vstack([x0, y0, x0 + w, y0 + h, w * h, x0 + w / 2, y0 + h / 2])
    box_row = np.full((n_stim, max(k, 1)), -1, dtype=np.int64)
    box_row[bcode[border], slot] = border

    fx = fixations["x"].to_numpy(dtype=float)
    fy = fixations["y"].to_numpy(dtype=float)
    hit = np.full(len(fixations), -1, dtype=np.int64)
    dist = np.full(len(fixations), np.nan) if dist_col else None
    todo = np.flatnonzero(code >= 0)
    chunk = max(1, _CHUNK_CELLS // max(k, 1))
    for start in range(0, len(todo), chunk):
        rows = todo[start : start + chunk]
        c = code[rows]
        px, py = fx[rows, None], fy[rows, None]
        bx0, by0, bx1, by1 = pad[0][c], pad[1][c], pad[2][c], pad[3][c]  # (chunk, k)
        inside = (px >= bx0 - margin) & (px <= bx1 + margin) & (py >= by0 - margin) & (py <= by1 + margin)
        if overlap == "first":
            best = np.argmax(inside, axis=1)
        else:
            if overlap == "smallest":
                score = pad[4][c]
            else:
                score = (px - pad[5][c]) ** 2 + (py - pad[6][c]) ** 2
            best = np.argmin(np.where(inside, score, np.inf), axis=1)
        found = inside.any(axis=1)
        hit[rows[found]] = box_row[code[rows[found]], best[found]]
        if dist is not None:
            with np.errstate(invalid="ignore"):
                dx = np.fmax(np.fmax(bx0 - px, px - bx1), 0.0)
                dy = np.fmax(np.fmax(by0 - py, py - by1), 0.0)
                d = np.hypot(dx, dy)
            d[np.isnan(bx0)] = np.inf  # padding
            d = d.min(axis=1)
            d[~(np.isfinite(fx[rows]) & np.isfinite(fy[rows]))] = np.nan
            dist[rows] = d

    labels = boxes["object"].reset_index(drop=True)
    if pd.api.types.is_integer_dtype(labels) and not pd.api.types.is_bool_dtype(labels):
        labels = labels.astype("Int64")
    elif pd.api.types.is_bool_dtype(labels):
        labels = labels.astype("boolean")
    found = hit >= 0
    if len(labels):
        result = labels.take(np.where(found, hit, 0)).reset_index(drop=True).where(pd.Series(found))
    else:
        result = pd.Series(np.full(len(hit), np.nan))
    result.index = fixations.index

    out = fixations.copy()
    out[column] = result
    if dist_col:
        out[dist_col] = dist
    return out
