"""Shared machinery of the six asymmetry experiments: geometry in degrees and
the jittered-grid display.

Every upstream eccNET generator (Gupta et al., 2021,
``extras/experiment_stimuli_generators/gen_*.ipynb``) has the same structure: a
square field of ``field_deg`` degrees at 30 px/deg split into a grid of cells,
one item box per chosen cell with a random offset inside the cell, the target
in one of the chosen cells, and the target template being the target item on
the background. :class:`GridGeometry` holds those numbers and
:func:`grid_display` draws one display.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gazemodels.stimuli._draw import Sprite, blank, composite
from gazemodels.stimuli.display import SearchDisplay, make_display
from gazemodels.stimuli.layout import jittered_grid

DEFAULT_GAP_DEG = 1.0 / 15.0
"""Minimum distance of an item box from its grid cell's edges (2 px at 30 px/deg)."""


def deg2px(deg: float, px_per_degree: float) -> int:
    """A length in degrees as a whole number of pixels (rounded, at least 1).

    Parameters
    ----------
    deg : float
        Degrees of visual angle.
    px_per_degree : float
        Pixels per degree.

    Returns
    -------
    int
    """
    return max(int(round(deg * px_per_degree)), 1)


@dataclass(frozen=True)
class GridGeometry:
    """Field, grid, item box and background of one experiment.

    Attributes
    ----------
    field_deg : float
        Side of the square search image, degrees.
    grid : (int, int)
        ``(rows, cols)``.
    item_deg : float
        Side of the square item box, degrees.
    background : float
        Grey level of the background, 0-255.
    gap_deg : float
        Minimum distance of an item box from its cell's edges, degrees.
    """

    field_deg: float
    grid: tuple[int, int]
    item_deg: float
    background: float
    gap_deg: float = DEFAULT_GAP_DEG

    def image_px(self, px_per_degree: float) -> int:
        """Side of the image, px."""
        return deg2px(self.field_deg, px_per_degree)

    def item_px(self, px_per_degree: float) -> int:
        """Side of an item box, px."""
        return deg2px(self.item_deg, px_per_degree)

    def gap_px(self, px_per_degree: float) -> int:
        """Minimum box-to-cell-edge distance, px (0 allowed)."""
        return int(round(self.gap_deg * px_per_degree))


def grid_display(
    rng: np.random.Generator,
    geometry: GridGeometry,
    *,
    target: tuple[Sprite, str],
    distractors: Sequence[tuple[Sprite, str]],
    condition: str,
    seed: int,
    px_per_degree: float,
) -> SearchDisplay:
    """Draw one display: the target and distractors on random grid cells.

    Parameters
    ----------
    rng : numpy.random.Generator
        The display's generator (used after the caller's own draws).
    geometry : GridGeometry
        Field, grid and box sizes.
    target : (Sprite, str)
        Target sprite and label.
    distractors : sequence of (Sprite, str)
        ``set_size - 1`` distractor sprites and labels.
    condition : str
        Condition name.
    seed : int
        Seed stored in the display.
    px_per_degree : float
        Pixels per degree.

    Returns
    -------
    SearchDisplay
    """
    n = len(distractors) + 1
    size = geometry.image_px(px_per_degree)
    item = geometry.item_px(px_per_degree)
    xy, _ = jittered_grid(
        rng, n, image_size=(size, size), grid=geometry.grid, item_size=(item, item),
        gap=geometry.gap_px(px_per_degree),
    )
    t = int(rng.integers(n))
    items = list(distractors[:t]) + [target] + list(distractors[t:])
    image = blank(size, size, geometry.background)
    boxes = np.empty((n, 4), dtype=np.int64)
    for k, ((sprite, _), (x, y)) in enumerate(zip(items, xy)):
        h, w = sprite.shape
        composite(image, sprite, int(x), int(y))
        boxes[k] = (x, y, w, h)
    return make_display(
        image, boxes, t, condition=condition, seed=seed, px_per_degree=px_per_degree,
        labels=[lab for _, lab in items],
    )


def balanced_choice(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """``n`` indices into ``range(k)``, each used as evenly as possible, in random order.

    The upstream curvature script cycles item ``i`` through variant ``i % 4``,
    and the heterogeneous-orientation script uses every distractor orientation
    once before repeating one; this draws such a balanced assignment.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    k : int
        Number of variants.
    n : int
        Number of items.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` int.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    reps = -(-n // k)
    pool = np.concatenate([rng.permutation(k) for _ in range(reps)])
    return pool[:n].astype(np.int64)
