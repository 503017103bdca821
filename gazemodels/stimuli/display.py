"""The search display returned by every generator, and its stimulus table.

A :class:`SearchDisplay` holds the search image, the target template (the
target item cropped from the image, on its background, at the same scale), the
target box and the distractor boxes in pixels with a top-left origin, and where
it came from (experiment, condition, set size, seed). :func:`to_stimulus_table`
turns a list of displays into the stimulus table of
:mod:`gazemodels.data.schema`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from gazemodels.data.validate import validate_stimuli


@dataclass(frozen=True, eq=False)
class SearchDisplay:
    """One search display: image, target template, boxes and provenance.

    Attributes
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8 RGB search image.
    target : numpy.ndarray
        ``(h, w, 3)`` uint8 target template: the crop of ``image`` at
        ``target_box`` (the target item on the display's background, same scale).
    target_box : tuple of int
        ``(x, y, w, h)`` px, top-left origin.
    distractor_boxes : numpy.ndarray
        ``(set_size - 1, 4)`` int ``(x, y, w, h)`` rows.
    condition : str
        Condition name, e.g. ``"line_in_curves"``.
    set_size : int
        Number of items, the target included.
    seed : int
        Seed that regenerates exactly this display with the same condition and
        set size (see :meth:`gazemodels.stimuli.StimulusSet.render`).
    px_per_degree : float
        Pixels per degree of visual angle.
    experiment : str
        Registered stimulus set name (``""`` for ad-hoc displays).
    stimulus : str
        Stimulus identifier, unique within a generated set.
    target_label : str
        What the target is, e.g. ``"line@-45"`` (shape and variant).
    distractor_labels : tuple of str
        The same for each distractor, in the order of ``distractor_boxes``.
    """

    image: np.ndarray
    target: np.ndarray
    target_box: tuple[int, int, int, int]
    distractor_boxes: np.ndarray
    condition: str
    set_size: int
    seed: int
    px_per_degree: float
    experiment: str = ""
    stimulus: str = ""
    target_label: str = ""
    distractor_labels: tuple[str, ...] = field(default_factory=tuple)

    @property
    def height(self) -> int:
        """Image height, px."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Image width, px."""
        return int(self.image.shape[1])

    @property
    def item_boxes(self) -> np.ndarray:
        """All item boxes, ``(set_size, 4)`` int, the target's first.

        Returns
        -------
        numpy.ndarray
        """
        t = np.asarray(self.target_box, dtype=np.int64).reshape(1, 4)
        d = np.asarray(self.distractor_boxes, dtype=np.int64).reshape(-1, 4)
        return np.concatenate([t, d])

    @property
    def target_centre(self) -> tuple[float, float]:
        """Centre ``(x, y)`` of the target box, px."""
        x, y, w, h = self.target_box
        return x + w / 2.0, y + h / 2.0


def make_display(
    image: np.ndarray,
    boxes: np.ndarray,
    target_index: int,
    *,
    condition: str,
    seed: int,
    px_per_degree: float,
    labels: Sequence[str] | None = None,
    display_cls: type[SearchDisplay] = SearchDisplay,
    **extra,
) -> SearchDisplay:
    """Assemble a display from a rendered image and its item boxes.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8.
    boxes : numpy.ndarray
        ``(n, 4)`` ``(x, y, w, h)`` of every item.
    target_index : int
        Row of ``boxes`` holding the target.
    condition : str
        Condition name.
    seed : int
        Seed of the display.
    px_per_degree : float
        Pixels per degree.
    labels : sequence of str, optional
        One label per item, in the order of ``boxes``.
    display_cls : type, default SearchDisplay
        Class to build (a subclass adds fields through ``extra``).
    **extra
        Further fields of ``display_cls``.

    Returns
    -------
    SearchDisplay
    """
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    n = len(boxes)
    if not 0 <= target_index < n:
        raise ValueError(f"target_index {target_index} is not one of the {n} items")
    x, y, w, h = (int(v) for v in boxes[target_index])
    keep = np.arange(n) != target_index
    labels = tuple(labels) if labels is not None else ("",) * n
    return display_cls(
        image=image,
        target=image[y : y + h, x : x + w].copy(),
        target_box=(x, y, w, h),
        distractor_boxes=boxes[keep],
        condition=condition,
        set_size=n,
        seed=int(seed),
        px_per_degree=float(px_per_degree),
        target_label=labels[target_index],
        distractor_labels=tuple(lab for i, lab in enumerate(labels) if i != target_index),
        **extra,
    )


def _box_tuple(b) -> tuple[int, int, int, int]:
    return tuple(int(v) for v in b)  # type: ignore[return-value]


def to_stimulus_table(displays: Iterable[SearchDisplay], *, image_dir: str | Path | None = None) -> pd.DataFrame:
    """The stimulus table of a list of displays.

    Parameters
    ----------
    displays : iterable of SearchDisplay
        Displays with distinct ``stimulus`` identifiers.
    image_dir : str or pathlib.Path, optional
        If given, each image is written there as ``<stimulus>.png`` and its
        target template as ``<stimulus>_target.png``, and ``path`` is filled;
        otherwise ``path`` is None (the images live in memory).

    Returns
    -------
    pandas.DataFrame
        The required columns of :data:`gazemodels.data.schema.STIMULUS_COLUMNS`
        (``stimulus, path, width, height, px_per_degree``), ``target_bbox``
        (``(x, y, w, h)``), ``objects`` (all item boxes, the target's first),
        and ``experiment, condition, set_size, seed, target_path``.

    Raises
    ------
    FixationTableError
        If two displays share a stimulus identifier.
    """
    rows = []
    out = Path(image_dir) if image_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    for i, d in enumerate(displays):
        name = d.stimulus or f"display_{i:05d}"
        path = target_path = None
        if out is not None:
            path = str(out / f"{name}.png")
            target_path = str(out / f"{name}_target.png")
            for p, img in ((path, d.image), (target_path, d.target)):
                if not cv2.imwrite(p, cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR)):
                    raise OSError(f"could not write {p}")
        rows.append({
            "stimulus": name,
            "path": path,
            "width": d.width,
            "height": d.height,
            "px_per_degree": float(d.px_per_degree),
            "target_bbox": _box_tuple(d.target_box),
            "objects": [_box_tuple(b) for b in d.item_boxes],
            "experiment": d.experiment,
            "condition": d.condition,
            "set_size": int(d.set_size),
            "seed": int(d.seed),
            "target_path": target_path,
        })
    columns = ["stimulus", "path", "width", "height", "px_per_degree", "target_bbox", "objects",
               "experiment", "condition", "set_size", "seed", "target_path"]
    table = pd.DataFrame(rows, columns=columns)
    for col in ("stimulus", "path", "target_path", "target_bbox", "objects", "experiment", "condition"):
        table[col] = table[col].astype(object)
    return validate_stimuli(table, source="to_stimulus_table")
