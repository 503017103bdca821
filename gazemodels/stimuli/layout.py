"""Item placement: a jittered grid (the eccNET stimuli) and a ring.

The upstream eccNET stimulus scripts (Gupta et al., 2021,
``extras/experiment_stimuli_generators``) divide a square field into a
``rows x cols`` grid of equal cells, draw ``set_size`` distinct cells at random,
and put each item's box at the cell's top-left corner plus a uniform random
offset that keeps the box inside its cell. Items therefore never overlap. Here
the grid is centred in the image and every box keeps at least ``gap`` px from
its cell's edges, so boxes are at least ``2 gap`` apart and ``gap`` inside the
image.
"""

from __future__ import annotations

import numpy as np


def grid_cell_size(image_px: int, n_cells: int) -> int:
    """Cell size of a grid of ``n_cells`` over ``image_px`` pixels (floor).

    Parameters
    ----------
    image_px : int
        Image extent along the axis, px.
    n_cells : int
        Cells along the axis.

    Returns
    -------
    int
    """
    return int(image_px) // int(n_cells)


def jittered_grid(
    rng: np.random.Generator,
    n: int,
    *,
    image_size: tuple[int, int],
    grid: tuple[int, int],
    item_size: tuple[int, int],
    gap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners of ``n`` item boxes on distinct, randomly chosen grid cells.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of items (at most ``rows * cols``).
    image_size : (int, int)
        ``(H, W)`` px.
    grid : (int, int)
        ``(rows, cols)``.
    item_size : (int, int)
        ``(h, w)`` of each item box, px.
    gap : int
        Minimum distance from a box to its cell's edges, px.

    Returns
    -------
    xy : numpy.ndarray
        ``(n, 2)`` int top-left ``(x, y)`` of each box.
    cells : numpy.ndarray
        ``(n,)`` int cell index (row-major) of each box.

    Raises
    ------
    ValueError
        If ``n`` exceeds the number of cells or an item plus its gaps does not
        fit in a cell.
    """
    H, W = (int(v) for v in image_size)
    rows, cols = (int(v) for v in grid)
    h, w = (int(v) for v in item_size)
    if not 1 <= n <= rows * cols:
        raise ValueError(f"cannot place {n} items on a {rows} x {cols} grid")
    ch, cw = grid_cell_size(H, rows), grid_cell_size(W, cols)
    slack_y, slack_x = ch - h - 2 * gap, cw - w - 2 * gap
    if slack_x < 0 or slack_y < 0:
        raise ValueError(
            f"an item of {w} x {h} px with a {gap} px gap does not fit in a {cw} x {ch} px grid cell"
        )
    oy, ox = (H - rows * ch) // 2, (W - cols * cw) // 2
    cells = rng.choice(rows * cols, size=n, replace=False)
    r, c = np.divmod(cells, cols)
    jx = rng.integers(0, slack_x + 1, size=n)
    jy = rng.integers(0, slack_y + 1, size=n)
    x = ox + c * cw + gap + jx
    y = oy + r * ch + gap + jy
    return np.stack([x, y], axis=1).astype(np.int64), cells.astype(np.int64)


def ring_positions(
    n: int,
    *,
    centre: tuple[float, float],
    radius: float,
    start_deg: float = 0.0,
) -> np.ndarray:
    """Centres of ``n`` items evenly spaced on a circle.

    Parameters
    ----------
    n : int
        Number of items.
    centre : (float, float)
        ``(x, y)`` of the ring's centre, px.
    radius : float
        px.
    start_deg : float, default 0
        Angle of the first item, counter-clockwise on screen from the right.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` float ``(x, y)``.
    """
    t = np.deg2rad(start_deg) + 2 * np.pi * np.arange(n) / max(n, 1)
    return np.stack([centre[0] + radius * np.cos(t), centre[1] - radius * np.sin(t)], axis=1)


def boxes_overlap(boxes: np.ndarray, gap: float = 0.0) -> bool:
    """Whether any two ``(x, y, w, h)`` boxes are closer than ``gap`` px.

    Parameters
    ----------
    boxes : numpy.ndarray
        ``(n, 4)``.
    gap : float, default 0
        Required clearance; 0 means only overlapping boxes count (touching
        edges do not).

    Returns
    -------
    bool
    """
    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    x0, y0 = b[:, 0], b[:, 1]
    x1, y1 = x0 + b[:, 2], y0 + b[:, 3]
    sep_x = np.maximum(x0[:, None] - x1[None, :], x0[None, :] - x1[:, None])
    sep_y = np.maximum(y0[:, None] - y1[None, :], y0[None, :] - y1[:, None])
    apart = (sep_x >= gap) | (sep_y >= gap)
    np.fill_diagonal(apart, True)
    return not bool(apart.all())
