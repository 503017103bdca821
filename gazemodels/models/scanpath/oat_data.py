"""Object-level scanpath data for the OAT-style model: episodes, the Amazon grid slots, rule arrays.

The object-level scanpath model (:mod:`gazemodels.models.scanpath.oat`, after Fang et al.
2024) learns from **episodes**: one display (object boxes, optionally an image and a target
template), the index of the target object, and a human (or rule) scanpath as the sequence of
fixated object indices. This module builds episodes

- from any fixation table and stimulus table (:func:`episodes_from_fixations`): fixations
  become objects through :func:`gazemodels.data.map_to_objects`, and fixations outside every
  box go to the object with the nearest centre, as OAT's preprocessing does;
- for the Amazon book-cover collages (:func:`amazon_episodes`): objects are the 84 slots of
  a 14 x 6 grid (:func:`grid_boxes`, layout notes there), the target is the slot of the
  ground-truth box, and the collages are split in halves by :data:`AMAZON_SPLIT_SEED`;
- on generated object arrays (:func:`rule_array_episodes`): scanpaths produced by a known
  rule (:func:`rule_sequence`: items in decreasing similarity to the target, nearest first
  among equals, stop at the target) on :func:`gazemodels.stimuli.arrays.random_object_array`
  displays, to test whether a model recovers the rule from appearance.

References
----------
Fang, Y., Yu, J., Zhang, H., van der Lans, R., & Shi, B. (2024). OAT: Object-level attention
transformer for gaze scanpath prediction. ECCV 2024. Code: github.com/HKUST-NISL/oat_eccv24.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from gazemodels.data import map_to_objects
from gazemodels.data.schema import SCANPATH_KEYS

__all__ = [
    "AMAZON_GRID",
    "AMAZON_SPLIT_SEED",
    "OBJECT_BOXES_COLUMN",
    "RULE_SIMILARITY_WEIGHTS",
    "ObjectEpisode",
    "RuleArrayDataset",
    "amazon_episodes",
    "display_episode",
    "drop_long_episodes",
    "episodes_from_fixations",
    "grid_boxes",
    "grid_layout_check",
    "map_to_nearest_objects",
    "object_table",
    "objects_of_stimulus",
    "rule_array_episode",
    "rule_array_episodes",
    "rule_sequence",
    "split_stimuli",
    "target_object",
]

AMAZON_GRID: tuple[int, int] = (14, 6)
"""(columns, rows) of the Amazon book-cover collages: 84 covers, 14 per row, 6 rows (Fang et al.
2024 use the same 84 slots, from a 14 x 6 binary mask of the cover borders)."""

AMAZON_SPLIT_SEED = 20240929
"""Seed of the train/test split of the 100 Amazon collages (:func:`split_stimuli`): the collage
names, sorted as strings, are permuted by ``numpy.random.default_rng(AMAZON_SPLIT_SEED)``; the
first 50 are the training half, the last 50 the test half. (The date of ECCV 2024's opening.)"""

OBJECT_BOXES_COLUMN = "object_boxes"
"""Optional column of a stimulus table: the list of object boxes ``(x, y, w, h)`` px of each
stimulus. Without it the object-level model uses grid slots."""

RULE_SIMILARITY_WEIGHTS: dict[str, float] = {"shape": 0.0, "colour": 1.0, "size": 0.0}
"""Feature weights of :func:`gazemodels.stimuli.arrays.item_similarity` that order the items of
the rule arrays: the colour only (what guides search from the periphery), so the distractors of
the target's colour tie with the target (similarity 1) and the others have 0."""


@dataclass
class ObjectEpisode:
    """One display with its objects, its target and one scanpath over the objects.

    Attributes
    ----------
    stimulus : str
        Stimulus identifier.
    boxes : numpy.ndarray
        ``(M, 4)`` float object boxes ``(x, y, w, h)`` in stimulus px (top-left corner).
    width, height : float
        Stimulus size, px.
    px_per_degree : float
        Pixels per degree of the stimulus.
    target : int
        Index of the target object in ``boxes``; -1 when unknown.
    sequence : numpy.ndarray
        ``(n,)`` int fixated object indices, in fixation order (empty for prediction).
    image : numpy.ndarray or None
        ``(H, W, 3)`` uint8 image (for appearance), or None.
    template : numpy.ndarray or None
        ``(h, w, 3)`` uint8 target template, or None.
    subject : object
        Who produced ``sequence`` (participant, or ``"rule"``).
    info : dict
        Anything else (e.g. the similarity of each object to the target).
    """

    stimulus: str
    boxes: np.ndarray
    width: float
    height: float
    px_per_degree: float
    target: int = -1
    sequence: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    image: np.ndarray | None = None
    template: np.ndarray | None = None
    subject: object = None
    info: dict = field(default_factory=dict)

    @property
    def n_objects(self) -> int:
        """Number of objects M."""
        return int(len(self.boxes))

    @property
    def centres(self) -> np.ndarray:
        """``(M, 2)`` box centres, px."""
        b = np.asarray(self.boxes, dtype=float)
        return b[:, :2] + 0.5 * b[:, 2:]

    def with_sequence(self, sequence, subject=None) -> ObjectEpisode:
        """A copy with another scanpath.

        Parameters
        ----------
        sequence : array_like of int
            Object indices.
        subject : object, optional

        Returns
        -------
        ObjectEpisode
        """
        return replace(self, sequence=np.asarray(sequence, dtype=np.int64), subject=subject)


# ------------------------------------------------------------------------------ grid slots
def grid_boxes(width: float, height: float, grid: tuple[int, int] = AMAZON_GRID) -> np.ndarray:
    """The slots of a regular grid that tiles a stimulus, row-major.

    Layout assumption (Amazon collages): the 84 covers sit in 14 columns and 6 rows of equal
    cells that tile the collage, so slot ``k = row * 14 + col`` is the cell
    ``[col W / 14, (col + 1) W / 14] x [row H / 6, (row + 1) H / 6]`` of a collage of W x H px.
    The covers (about 155 x 242 px) do not fill their cells (183 x 267 px at 2560 x 1600): the
    cells include the gaps around each cover, so every fixation falls in exactly one slot. The
    assumption is checked on the data by :func:`grid_layout_check`: every ground-truth target box
    has its centre in the middle third of its cell, and the fixations pile up at the cell centres
    and thin out at the cell borders.

    Parameters
    ----------
    width, height : float
        Stimulus size, px.
    grid : (int, int), default :data:`AMAZON_GRID`
        ``(columns, rows)``.

    Returns
    -------
    numpy.ndarray
        ``(columns * rows, 4)`` float boxes ``(x, y, w, h)`` px.
    """
    cols, rows = (int(g) for g in grid)
    if cols < 1 or rows < 1:
        raise ValueError(f"grid must be two positive integers (columns, rows), got {grid!r}")
    if not (np.isfinite(width) and np.isfinite(height) and width > 0 and height > 0):
        raise ValueError(f"stimulus size must be positive, got {width!r} x {height!r}")
    cw, ch = float(width) / cols, float(height) / rows
    r, c = np.divmod(np.arange(cols * rows), cols)
    return np.column_stack([c * cw, r * ch, np.full(cols * rows, cw), np.full(cols * rows, ch)])


def grid_layout_check(fixations: pd.DataFrame, stimuli: pd.DataFrame, grid: tuple[int, int] = AMAZON_GRID,
                      bins: int = 10) -> dict:
    """Check the equal-cell layout of :func:`grid_boxes` against fixations and target boxes.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table (``stimulus``, ``x``, ``y``).
    stimuli : pandas.DataFrame
        Stimulus table with ``width``, ``height`` and optionally ``target_bbox``.
    grid : (int, int)
        ``(columns, rows)``.
    bins : int
        Bins of the within-cell position histograms.

    Returns
    -------
    dict
        ``x_hist``, ``y_hist``: counts of the fixations' position within their cell (0 = left /
        top border, 1 = right / bottom border); ``x_centre_to_border``, ``y_centre_to_border``:
        mean count of the two central bins over the mean of the two border bins (> 1 when
        fixations avoid the gaps between covers); ``target_offset_range``: the smallest and
        largest within-cell position of the target boxes' centres, over x and y (inside
        (1/3, 2/3) when every target sits in the middle of its cell).
    """
    cols, rows = grid
    size = stimuli.set_index(stimuli["stimulus"].astype(str))
    key = fixations["stimulus"].astype(str)
    w = size["width"].reindex(key).to_numpy(float)
    h = size["height"].reindex(key).to_numpy(float)
    u = (fixations["x"].to_numpy(float) / w * cols) % 1.0
    v = (fixations["y"].to_numpy(float) / h * rows) % 1.0
    xh = np.histogram(u, bins=bins, range=(0, 1))[0]
    yh = np.histogram(v, bins=bins, range=(0, 1))[0]
    mid = [bins // 2 - 1, bins // 2]

    def ratio(hist):
        return float(hist[mid].mean() / max(hist[[0, -1]].mean(), 1e-12))

    out = {"x_hist": xh, "y_hist": yh, "x_centre_to_border": ratio(xh), "y_centre_to_border": ratio(yh)}
    if "target_bbox" in stimuli.columns:
        tb = np.array([tuple(b) for b in stimuli["target_bbox"]], dtype=float)
        tu = ((tb[:, 0] + tb[:, 2] / 2) / stimuli["width"].to_numpy(float) * cols) % 1.0
        tv = ((tb[:, 1] + tb[:, 3] / 2) / stimuli["height"].to_numpy(float) * rows) % 1.0
        both = np.concatenate([tu, tv])
        out["target_offset_range"] = (float(both.min()), float(both.max()))
    return out


# ------------------------------------------------------------------------------ objects and targets
def objects_of_stimulus(stimulus: pd.Series, grid: tuple[int, int] | None = AMAZON_GRID) -> np.ndarray:
    """The object boxes of one stimulus: its :data:`OBJECT_BOXES_COLUMN`, else grid slots.

    Parameters
    ----------
    stimulus : pandas.Series
        A stimulus-table row.
    grid : (int, int) or None
        ``(columns, rows)`` of the slots used when the row has no object boxes; None makes
        object boxes required.

    Returns
    -------
    numpy.ndarray
        ``(M, 4)`` float boxes ``(x, y, w, h)`` px.

    Raises
    ------
    ValueError
        If the row has no usable boxes and no grid is given, or a box is malformed.
    """
    boxes = stimulus.get(OBJECT_BOXES_COLUMN, None) if hasattr(stimulus, "get") else None
    if boxes is not None and not (isinstance(boxes, float) and np.isnan(boxes)):
        b = np.asarray([tuple(x) for x in boxes], dtype=float).reshape(-1, 4)
        if len(b) == 0 or not np.isfinite(b).all() or (b[:, 2:] < 0).any():
            raise ValueError(f"stimulus {stimulus['stimulus']!r}: {OBJECT_BOXES_COLUMN} must hold boxes "
                             f"(x, y, w, h) with w, h >= 0, got {boxes!r}")
        return b
    if grid is None:
        raise ValueError(f"stimulus {stimulus['stimulus']!r} has no {OBJECT_BOXES_COLUMN!r} and no grid is set")
    return grid_boxes(float(stimulus["width"]), float(stimulus["height"]), grid)


def object_table(stimuli: pd.DataFrame, grid: tuple[int, int] | None = AMAZON_GRID) -> pd.DataFrame:
    """Object table (:mod:`gazemodels.data.aoi`) of every stimulus; ``object`` is the box index.

    Parameters
    ----------
    stimuli : pandas.DataFrame
        Stimulus table.
    grid : (int, int) or None
        See :func:`objects_of_stimulus`.

    Returns
    -------
    pandas.DataFrame
        ``stimulus, object, x, y, w, h``.
    """
    rows = []
    for _, row in stimuli.iterrows():
        b = objects_of_stimulus(row, grid)
        rows.append(pd.DataFrame({"stimulus": row["stimulus"], "object": np.arange(len(b)),
                                  "x": b[:, 0], "y": b[:, 1], "w": b[:, 2], "h": b[:, 3]}))
    return pd.concat(rows, ignore_index=True)


def target_object(boxes: np.ndarray, target_bbox) -> int:
    """Index of the object box that best overlaps a target box (largest IoU; Fang et al. 2024).

    Parameters
    ----------
    boxes : numpy.ndarray
        ``(M, 4)`` object boxes ``(x, y, w, h)``.
    target_bbox : sequence of float or None
        ``(x, y, w, h)`` of the target, or None / NaN.

    Returns
    -------
    int
        The index, or -1 without a target box or when no box overlaps it.
    """
    if target_bbox is None or (isinstance(target_bbox, float) and np.isnan(target_bbox)):
        return -1
    t = np.asarray(tuple(target_bbox), dtype=float)
    if t.shape != (4,) or not np.isfinite(t).all():
        return -1
    b = np.asarray(boxes, dtype=float)
    lo = np.maximum(b[:, :2], t[:2])
    hi = np.minimum(b[:, :2] + b[:, 2:], t[:2] + t[2:])
    inter = np.clip(hi - lo, 0, None).prod(axis=1)
    union = b[:, 2:].prod(axis=1) + t[2:].prod() - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
    return int(np.argmax(iou)) if iou.max() > 0 else -1


def map_to_nearest_objects(fixations: pd.DataFrame, objects: pd.DataFrame, column: str = "object") -> pd.DataFrame:
    """Label fixations with their object: the box that contains them, else the nearest box centre.

    Containment follows :func:`gazemodels.data.map_to_objects` (closed boxes, smallest box wins);
    a fixation in no box goes to the object with the nearest centre, as in OAT's preprocessing
    (Fang et al. 2024).

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    objects : pandas.DataFrame
        Object table with integer ``object`` labels.
    column : str
        Name of the label column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``fixations`` with ``column`` (int64).
    """
    out = map_to_objects(fixations, objects, column=column, overwrite=True)
    miss = out[column].isna().to_numpy()
    if miss.any():
        for stim, idx in out.index[miss].groupby(out.loc[miss, "stimulus"]).items():
            ob = objects[objects["stimulus"] == stim]
            c = ob[["x", "y"]].to_numpy(float) + 0.5 * ob[["w", "h"]].to_numpy(float)
            p = out.loc[idx, ["x", "y"]].to_numpy(float)
            d = ((p[:, None, :] - c[None, :, :]) ** 2).sum(-1)
            out.loc[idx, column] = ob["object"].to_numpy()[d.argmin(axis=1)]
    out[column] = out[column].astype(np.int64)
    return out


# ------------------------------------------------------------------------------ episodes
def episodes_from_fixations(
    fixations: pd.DataFrame,
    stimuli: pd.DataFrame,
    *,
    grid: tuple[int, int] | None = AMAZON_GRID,
    images: Mapping[str, np.ndarray] | None = None,
) -> list[ObjectEpisode]:
    """One episode per human scanpath: fixations mapped to objects, the target from ``target_bbox``.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table; fixations with NaN positions are dropped.
    stimuli : pandas.DataFrame
        Stimulus table; optional columns :data:`OBJECT_BOXES_COLUMN` (else grid slots) and
        ``target_bbox`` (the target object is the box of largest IoU with it).
    grid : (int, int) or None
        Grid of slots for stimuli without object boxes.
    images : mapping, optional
        ``stimulus -> (H, W, 3) uint8`` images; the template is the crop at ``target_bbox``.

    Returns
    -------
    list of ObjectEpisode
        In the order of (stimulus, subject, trial).
    """
    fix = fixations.dropna(subset=["x", "y"])
    objects = object_table(stimuli, grid)
    fix = map_to_nearest_objects(fix, objects)
    rows = {str(r["stimulus"]): r for _, r in stimuli.iterrows()}
    out = []
    for key, sp in fix.sort_values([*SCANPATH_KEYS, "fix_index"], kind="stable").groupby(list(SCANPATH_KEYS),
                                                                                         sort=True):
        stim = str(key[0])
        out.append(_episode(rows[stim], grid, images).with_sequence(sp["object"].to_numpy(np.int64), key[1]))
    return out


def _episode(row: pd.Series, grid, images=None) -> ObjectEpisode:
    boxes = objects_of_stimulus(row, grid)
    tb = row.get("target_bbox", None)
    target = target_object(boxes, tb)
    image = template = None
    if images is not None and str(row["stimulus"]) in images:
        image = images[str(row["stimulus"])]
        if target >= 0:
            x, y, w, h = (int(round(v)) for v in tuple(tb))
            template = image[max(y, 0): y + h, max(x, 0): x + w]
    return ObjectEpisode(stimulus=str(row["stimulus"]), boxes=boxes, width=float(row["width"]),
                         height=float(row["height"]), px_per_degree=float(row["px_per_degree"]), target=target,
                         image=image, template=template)


def display_episode(row: pd.Series, grid=AMAZON_GRID, image: np.ndarray | None = None) -> ObjectEpisode:
    """The episode of one stimulus-table row without a scanpath (for prediction).

    Parameters
    ----------
    row : pandas.Series
        Stimulus-table row.
    grid : (int, int) or None
        Grid of slots when the row has no object boxes.
    image : numpy.ndarray, optional
        The stimulus image; the template is cropped at ``target_bbox``.

    Returns
    -------
    ObjectEpisode
    """
    images = None if image is None else {str(row["stimulus"]): image}
    return _episode(row, grid, images)


def split_stimuli(names: Sequence, seed: int = AMAZON_SPLIT_SEED, fraction: float = 0.5) -> tuple[list, list]:
    """A seeded split of stimuli into a first and a second part.

    The names are sorted (as strings), permuted by ``numpy.random.default_rng(seed)``; the first
    ``round(fraction * n)`` are the first part.

    Parameters
    ----------
    names : sequence
        Stimulus identifiers (duplicates are dropped).
    seed : int
        Seed of the permutation.
    fraction : float
        Share of the first part.

    Returns
    -------
    first, second : list
        Names of each part, in permuted order.
    """
    uniq = sorted(set(names), key=str)
    perm = np.random.default_rng(seed).permutation(len(uniq))
    k = int(round(fraction * len(uniq)))
    return [uniq[i] for i in perm[:k]], [uniq[i] for i in perm[k:]]


def drop_long_episodes(episodes: Sequence[ObjectEpisode], n_sd: float = 3.0) -> list[ObjectEpisode]:
    """Drop episodes whose scanpath is longer than the mean + ``n_sd`` standard deviations.

    Fang et al. (2024) keep the scanpaths within 3 standard deviations of the mean length for
    training; the shortest ones are never that far below the mean here.

    Parameters
    ----------
    episodes : sequence of ObjectEpisode
    n_sd : float

    Returns
    -------
    list of ObjectEpisode
    """
    lens = np.array([len(e.sequence) for e in episodes], dtype=float)
    if not len(lens):
        return []
    hi = lens.mean() + n_sd * lens.std()
    lo = lens.mean() - n_sd * lens.std()
    return [e for e, n in zip(episodes, lens) if lo <= n <= hi and n >= 1]


def amazon_episodes(
    root=None,
    *,
    seed: int = AMAZON_SPLIT_SEED,
    n_val: int = 10,
) -> dict:
    """The Amazon book-cover scanpaths as object episodes on the 14 x 6 slots, split in halves.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Data folder of ``amazon-book-covers``; by default the dataset's
        :func:`gazemodels.datasets.registry.default_root` (``$GAZEMODELS_DATA/...``).
    seed : int, default :data:`AMAZON_SPLIT_SEED`
        Split seed (:func:`split_stimuli`).
    n_val : int, default 10
        Collages of the training half held out for validation (early stopping): the last
        ``n_val`` of the training half's permuted order.

    Returns
    -------
    dict
        ``train``, ``val``, ``test``: lists of episodes (all human scanpaths; the OAT length
        filter is applied by the training code); ``train_stimuli``, ``val_stimuli``,
        ``test_stimuli``: collage names; ``fixations``: the human fixation table with the slot
        (``object``) and the target slot (``target_object``) of every fixation; ``stimuli``: the
        stimulus table.
    """
    from gazemodels.datasets import load

    ds = load("amazon-book-covers", root=root)
    stimuli, fixations = ds.stimuli, ds.fixations
    train, test = split_stimuli(stimuli["stimulus"], seed)
    fit, val = (train[:-n_val], train[-n_val:]) if n_val else (train, [])
    eps = episodes_from_fixations(fixations, stimuli, grid=AMAZON_GRID)
    by = {"train": set(fit), "val": set(val), "test": set(test)}
    objects = object_table(stimuli, AMAZON_GRID)
    fx = map_to_nearest_objects(fixations, objects)
    tgt = {str(r["stimulus"]): target_object(grid_boxes(r["width"], r["height"]), r["target_bbox"])
           for _, r in stimuli.iterrows()}
    fx["target_object"] = fx["stimulus"].astype(str).map(tgt).astype(np.int64)
    return {
        **{k: [e for e in eps if e.stimulus in names] for k, names in by.items()},
        "train_stimuli": fit, "val_stimuli": val, "test_stimuli": test,
        "fixations": fx, "stimuli": stimuli,
    }


# ------------------------------------------------------------------------------ rule arrays
def rule_sequence(similarity: np.ndarray, centres: np.ndarray, target: int, start_xy) -> list[int]:
    """The rule scanpath: items in decreasing similarity to the target, nearest first; stop at the target.

    Starting from ``start_xy``, the next fixation goes to the unfixated item of highest
    similarity to the target; among equally similar items, to the one nearest the current
    fixation (then the lowest index). The scanpath stops when it fixates the target. With a
    similarity that the target shares with some distractors (the colour, as seen in the
    periphery, :data:`RULE_SIMILARITY_WEIGHTS`), this is colour-guided search (Wolfe's guided
    search): the items of the target's colour are inspected from near to far until the target
    turns up.

    Parameters
    ----------
    similarity : numpy.ndarray
        ``(M,)`` similarity of each item to the target, the target included.
    centres : numpy.ndarray
        ``(M, 2)`` item centres, px.
    target : int
        Index of the target.
    start_xy : (float, float)
        Where the eye starts, px.

    Returns
    -------
    list of int
        Item indices, ending with ``target``.
    """
    sim = np.asarray(similarity, dtype=float)
    c = np.asarray(centres, dtype=float)
    left = list(range(len(sim)))
    cur = np.asarray(start_xy, dtype=float)
    seq: list[int] = []
    while left:
        best = max(sim[i] for i in left)
        cand = [i for i in left if np.isclose(sim[i], best)]
        d = [float(np.hypot(*(c[i] - cur))) for i in cand]
        nxt = cand[int(np.argmin(d))]
        seq.append(nxt)
        if nxt == target:
            break
        left.remove(nxt)
        cur = c[nxt]
    return seq


def rule_array_episodes(
    n_displays: int,
    *,
    seed: int = 0,
    set_size: int = 8,
    kind: str = "conjunction",
    px_per_degree: float = 6.0,
    field_deg: float = 16.0,
    item_deg: float = 2.0,
    grid: tuple[int, int] = (4, 4),
    weights: Mapping[str, float] | None = None,
    shapes: Sequence[str] = ("circle", "plus", "horizontal_bar", "vertical_bar"),
    colours: Sequence[str] = ("red", "green", "blue", "yellow"),
) -> list[ObjectEpisode]:
    """Object-array displays with images and rule scanpaths (:func:`rule_sequence`).

    Each display is :func:`gazemodels.stimuli.arrays.random_object_array` of ``kind``
    distractors (``"conjunction"``: each shares either the target's colour or its shape) on a
    jittered grid; the rule orders the items by :func:`gazemodels.stimuli.arrays.item_similarity`
    with ``weights`` (default :data:`RULE_SIMILARITY_WEIGHTS`: colour only, so the target and the
    distractors of its colour tie, and which of them is the target only shows when it is
    fixated). The objects are the items in a random order (the target's index carries no
    information); the template is the target's crop; the scanpath starts at the display centre.
    Following the rule needs appearance: the colour of every item against the template's, and
    the shape of the fixated item, to stop on the target and not on a same-coloured distractor.

    Parameters
    ----------
    n_displays : int
        Number of displays (one episode each).
    seed : int
        Seed; display ``i`` uses ``seed * 100003 + i``.
    set_size : int
        Items per display, the target included.
    kind : {"conjunction", "mixed", "feature"}
        Distractor kind (:func:`gazemodels.stimuli.arrays.distractor_pool`).
    px_per_degree, field_deg, item_deg : float
        Geometry of the displays (:func:`gazemodels.stimuli.arrays.object_array`).
    grid : (int, int)
        ``(rows, cols)`` of the jittered grid.
    weights : mapping, optional
        Similarity weights.
    shapes, colours : sequence of str
        Item shapes and colours (:data:`gazemodels.stimuli.arrays.SHAPES`, ``COLOURS``); the
        default shapes stay distinct at a few pixels.

    Returns
    -------
    list of ObjectEpisode
        ``info["similarity"]`` holds each object's rule similarity to the target (1 for the
        target).
    """
    return [rule_array_episode(i, seed=seed, set_size=set_size, kind=kind, px_per_degree=px_per_degree,
                               field_deg=field_deg, item_deg=item_deg, grid=grid, weights=weights, shapes=shapes,
                               colours=colours) for i in range(int(n_displays))]


def rule_array_episode(
    i: int,
    *,
    seed: int = 0,
    set_size: int = 8,
    kind: str = "conjunction",
    px_per_degree: float = 6.0,
    field_deg: float = 16.0,
    item_deg: float = 2.0,
    grid: tuple[int, int] = (4, 4),
    weights: Mapping[str, float] | None = None,
    shapes: Sequence[str] = ("circle", "plus", "horizontal_bar", "vertical_bar"),
    colours: Sequence[str] = ("red", "green", "blue", "yellow"),
) -> ObjectEpisode:
    """Display ``i`` of :func:`rule_array_episodes` (same parameters), generated alone.

    Parameters
    ----------
    i : int
        Display number.
    seed, set_size, kind, px_per_degree, field_deg, item_deg, grid, weights, shapes, colours
        As in :func:`rule_array_episodes`.

    Returns
    -------
    ObjectEpisode
    """
    from gazemodels.stimuli.arrays import random_object_array

    w = dict(RULE_SIMILARITY_WEIGHTS if weights is None else weights)
    s = int(seed) * 100003 + int(i)
    d = random_object_array(set_size, kind, seed=s, layout="grid", px_per_degree=px_per_degree,
                            field_deg=field_deg, item_deg=item_deg, grid=grid, similarity_weights=w,
                            shapes=tuple(shapes), colours=tuple(colours))
    boxes = d.item_boxes.astype(float)  # target first
    sim = np.concatenate([[1.0], np.asarray(d.distractor_similarity, dtype=float)])
    perm = np.random.default_rng([int(seed), int(i), 7]).permutation(len(boxes))
    boxes, sim = boxes[perm], sim[perm]
    target = int(np.flatnonzero(perm == 0)[0])
    centres = boxes[:, :2] + 0.5 * boxes[:, 2:]
    seq = rule_sequence(sim, centres, target, (d.width / 2.0, d.height / 2.0))
    return ObjectEpisode(
        stimulus=f"rule_array_{seed}_{i}", boxes=boxes, width=float(d.width), height=float(d.height),
        px_per_degree=float(px_per_degree), target=target, sequence=np.asarray(seq, dtype=np.int64),
        image=d.image, template=d.target, subject="rule", info={"similarity": sim},
    )


class RuleArrayDataset:
    """A map-style dataset of rule-array episodes generated on demand (``ds[i]`` is display ``i``).

    Many displays fit in no memory at all: each is drawn from its own seed when asked for, so
    ``ds[i]`` is the same episode every time (:func:`rule_array_episode`).

    Parameters
    ----------
    n : int
        Number of displays.
    **kwargs
        Parameters of :func:`rule_array_episode` (``seed``, ``set_size``, ...).
    """

    def __init__(self, n: int, **kwargs):
        if int(n) < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        self.n = int(n)
        self.kwargs = dict(kwargs)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> ObjectEpisode:
        if not -self.n <= int(i) < self.n:
            raise IndexError(f"display {i} of {self.n}")
        return rule_array_episode(int(i) % self.n, **self.kwargs)
