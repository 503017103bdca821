"""Selection: each item's priority from the map, and where in the item the eye lands."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["item_peaks"]


def item_peaks(pmap: np.ndarray, regions) -> np.ndarray:
    """Each item's highest map value in its region.

    The regions are those of :meth:`gazemodels.models.search.VisualSearchModel.item_regions`.

    Parameters
    ----------
    pmap : numpy.ndarray
        ``(H, W)`` map over the (scaled) display.
    regions : sequence of (int, int, int, int)
        ``(x0, y0, x1, y1)`` pixel ranges, end exclusive.

    Returns
    -------
    numpy.ndarray
        ``(n_items,)`` float64.
    """
    return np.array([pmap[y0:y1, x0:x1].max() for x0, y0, x1, y1 in regions], dtype=float)


def _regions(boxes: np.ndarray, margin: float, H: int, W: int) -> list[tuple[int, int, int, int]]:
    """Pixel index ranges ``(x0, y0, x1, y1)`` of the item boxes grown by ``margin``.

    A pixel (column c, row r) has its centre at (c + 0.5, r + 0.5); it belongs to a region when
    its centre lies strictly inside the grown box, the rule of :func:`gazemodels.metrics.search.target_found`.
    """
    out = []
    for x, y, w, h in np.asarray(boxes, dtype=float):
        # first pixel whose centre is > x - margin, last whose centre is < x + w + margin
        x0 = max(int(math.floor(x - margin - 0.5)) + 1, 0)
        y0 = max(int(math.floor(y - margin - 0.5)) + 1, 0)
        x1 = min(int(math.ceil(x + w + margin - 0.5)), W)
        y1 = min(int(math.ceil(y + h + margin - 0.5)), H)
        if x1 <= x0 or y1 <= y0:  # degenerate box: its nearest pixel
            x0, y0 = min(max(int(x), 0), W - 1), min(max(int(y), 0), H - 1)
            x1, y1 = x0 + 1, y0 + 1
        out.append((x0, y0, x1, y1))
    return out


def _peak_in_region(pmap: np.ndarray, region, box) -> tuple[float, float]:
    """Highest point of the map in a region; ties go to the pixel nearest the box centre."""
    x0, y0, x1, y1 = region
    sub = pmap[y0:y1, x0:x1]
    top = sub >= sub.max() - 1e-12 * max(1.0, abs(float(sub.max())))
    rr, cc = np.nonzero(top)
    bx, by, bw, bh = (float(v) for v in box)
    d = (cc + x0 + 0.5 - (bx + bw / 2.0)) ** 2 + (rr + y0 + 0.5 - (by + bh / 2.0)) ** 2
    j = int(np.argmin(d))
    return float(cc[j] + x0 + 0.5), float(rr[j] + y0 + 0.5)
