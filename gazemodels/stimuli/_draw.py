"""Anti-aliased drawing of search items with OpenCV.

An item is a :class:`Sprite`: a coverage mask ``alpha`` in [0, 1] over the
item's box and the value painted where it is covered (a grey level, an RGB
colour, or a per-pixel image such as a shaded disc). Coverage comes from
polygons sampled on an 8x supersampled grid and averaged back to the item's
resolution with OpenCV (``cv2.resize``, ``INTER_AREA``), so edges are
anti-aliased and shapes keep their sizes in degrees at any ``px_per_degree``;
OpenCV also composites and writes the images.

Coordinates inside a sprite are continuous pixels: pixel ``(row, col)`` covers
``[col, col + 1) x [row, row + 1)``; ``x`` grows rightwards and ``y`` downwards.
Angles are in degrees, **counter-clockwise as seen on the screen** (the sign
convention of :func:`cv2.getRotationMatrix2D`, which the upstream eccNET
stimulus scripts use).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SUPERSAMPLE = 8
"""Supersampling factor per axis of the coverage masks."""


@dataclass(frozen=True)
class Sprite:
    """One item ready to be composited onto a display.

    Attributes
    ----------
    alpha : numpy.ndarray
        ``(h, w)`` float32 coverage in [0, 1].
    value : float or numpy.ndarray
        What is painted where ``alpha`` is 1: a grey level (0-255), an RGB
        triple, or an ``(h, w)`` / ``(h, w, 3)`` array.
    """

    alpha: np.ndarray
    value: float | np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(h, w)`` of the sprite's box in px."""
        return int(self.alpha.shape[0]), int(self.alpha.shape[1])

    def transformed(self, op: str) -> Sprite:
        """The sprite flipped or transposed (exact, pixel for pixel).

        Parameters
        ----------
        op : {"identity", "flipud", "fliplr", "transpose", "transpose_fliplr", "rot180"}
            ``transpose_fliplr`` is the transpose then a left-right flip
            (``cv2.flip(img.T, 1)`` in the upstream scripts).

        Returns
        -------
        Sprite
        """
        fn = _OPS.get(op)
        if fn is None:
            raise ValueError(f"unknown sprite transform {op!r}; known: {sorted(_OPS)}")
        value = self.value
        if isinstance(value, np.ndarray) and value.ndim >= 2:
            value = fn(value)
        return Sprite(np.ascontiguousarray(fn(self.alpha)), value)


def _transpose(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, 0, 1)


_OPS = {
    "identity": lambda a: a,
    "flipud": lambda a: a[::-1],
    "fliplr": lambda a: a[:, ::-1],
    "transpose": _transpose,
    "transpose_fliplr": lambda a: _transpose(a)[:, ::-1],
    "rot180": lambda a: a[::-1, ::-1],
}


def _fill(mask: np.ndarray, poly: np.ndarray, value: bool) -> None:
    """Set the pixels of ``mask`` whose centres lie inside ``poly`` (even-odd rule).

    ``poly`` is in ``mask``'s own pixel units (pixel ``j`` covers ``[j, j + 1)``).
    A pixel is inside when its centre is, with half-open spans, so abutting
    polygons share no pixel and an ``a x b`` rectangle on the grid fills exactly
    ``a b`` pixels.
    """
    H, W = mask.shape
    p = np.asarray(poly, dtype=float).reshape(-1, 2)
    x0, y0 = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    keep = y0 != y1
    x0, y0, x1, y1 = x0[keep], y0[keep], x1[keep], y1[keep]
    if x0.size == 0:
        return
    r_lo = max(int(np.floor(min(y0.min(), y1.min()))), 0)
    r_hi = min(int(np.ceil(max(y0.max(), y1.max()))), H)
    if r_hi <= r_lo:
        return
    yc = np.arange(r_lo, r_hi, dtype=float)[:, None] + 0.5
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    crosses = (yc >= lo) & (yc < hi)
    xs = np.where(crosses, x0 + (yc - y0) * (x1 - x0) / (y1 - y0), np.inf)
    xs.sort(axis=1)
    n = crosses.sum(axis=1)
    diff = np.zeros((r_hi - r_lo, W + 1), dtype=np.int32)
    rows = np.arange(r_hi - r_lo)
    for k in range(0, xs.shape[1] - 1, 2):
        ok = n > k + 1
        # pixel j is inside a span [a, b) when its centre j + 0.5 is
        a = np.clip(np.ceil(xs[ok, k] - 0.5), 0, W).astype(np.int64)
        b = np.clip(np.ceil(xs[ok, k + 1] - 0.5), 0, W).astype(np.int64)
        np.add.at(diff, (rows[ok], a), 1)
        np.add.at(diff, (rows[ok], b), -1)
    inside = np.cumsum(diff, axis=1)[:, :W] > 0
    mask[r_lo:r_hi][inside] = value


def coverage(size: tuple[int, int], polygons: list[np.ndarray], holes: list[np.ndarray] | None = None) -> np.ndarray:
    """Anti-aliased coverage mask of the union of polygons, minus holes.

    The polygons are sampled at the pixel centres of a grid
    :data:`SUPERSAMPLE` times finer each way (each polygon on its own, so
    overlapping polygons make a union), and the fine mask is averaged back to
    ``size`` with :func:`cv2.resize` (``INTER_AREA``): every pixel gets the
    fraction of its area covered, to 1/64. Sampling pixel centres with
    half-open spans keeps areas exact on average; OpenCV's own ``fillPoly``
    includes both ends of every span, which thickens a 6 px stroke by about
    5 % at this supersampling, so it is not used for the shapes.

    Parameters
    ----------
    size : (int, int)
        ``(h, w)`` of the mask in px.
    polygons : list of numpy.ndarray
        Each ``(k, 2)`` vertices ``(x, y)`` in continuous sprite pixels.
    holes : list of numpy.ndarray, optional
        Polygons cleared after the union is drawn (e.g. the inside of a ring).

    Returns
    -------
    numpy.ndarray
        ``(h, w)`` float32 in [0, 1].
    """
    h, w = int(size[0]), int(size[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"a sprite must be at least 1 px each way, got {h} x {w}")
    s = SUPERSAMPLE
    big = np.zeros((h * s, w * s), dtype=bool)
    for poly in polygons:
        _fill(big, np.asarray(poly, dtype=float) * s, True)
    for poly in holes or ():
        _fill(big, np.asarray(poly, dtype=float) * s, False)
    small = cv2.resize(big.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    return np.clip(small, 0.0, 1.0).astype(np.float32)


def rotate(points: np.ndarray, angle_deg: float, centre: tuple[float, float]) -> np.ndarray:
    """Rotate points counter-clockwise on screen about ``centre``.

    Parameters
    ----------
    points : numpy.ndarray
        ``(k, 2)`` ``(x, y)`` with ``y`` downwards.
    angle_deg : float
        Counter-clockwise on screen (``cv2.getRotationMatrix2D`` convention).
    centre : (float, float)
        ``(x, y)`` of the centre of rotation.

    Returns
    -------
    numpy.ndarray
        ``(k, 2)``.
    """
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    p = np.asarray(points, dtype=float) - np.asarray(centre, dtype=float)
    # y points down, so a counter-clockwise turn on screen is x' = x c + y s, y' = -x s + y c
    out = np.empty_like(p)
    out[:, 0] = p[:, 0] * c + p[:, 1] * s
    out[:, 1] = -p[:, 0] * s + p[:, 1] * c
    return out + np.asarray(centre, dtype=float)


def rectangle(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Axis-aligned rectangle ``[x0, x1] x [y0, y1]`` as a polygon.

    Parameters
    ----------
    x0, y0, x1, y1 : float
        Corners in continuous px.

    Returns
    -------
    numpy.ndarray
        ``(4, 2)`` vertices.
    """
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def bar(centre: tuple[float, float], length: float, width: float, angle_deg: float) -> np.ndarray:
    """A straight bar (thick line segment) as a polygon.

    Parameters
    ----------
    centre : (float, float)
        ``(x, y)`` of the bar's midpoint.
    length, width : float
        Along and across the bar, px.
    angle_deg : float
        Orientation of the long axis, counter-clockwise from horizontal.

    Returns
    -------
    numpy.ndarray
        ``(4, 2)`` vertices.
    """
    cx, cy = centre
    r = rectangle(cx - length / 2, cy - width / 2, cx + length / 2, cy + width / 2)
    return rotate(r, angle_deg, centre)


def arc_band(
    centre: tuple[float, float],
    radius: float,
    width: float,
    start_deg: float,
    end_deg: float,
    n: int = 64,
) -> np.ndarray:
    """A thick circular arc as a polygon.

    Parameters
    ----------
    centre : (float, float)
        ``(x, y)`` of the circle.
    radius : float
        Radius of the arc's midline, px.
    width : float
        Stroke width, px.
    start_deg, end_deg : float
        Angular extent in the image frame (0 = +x, 90 = +y, i.e. downwards),
        the convention of :func:`cv2.ellipse`.
    n : int, default 64
        Vertices per edge.

    Returns
    -------
    numpy.ndarray
        ``(2 n, 2)`` vertices.
    """
    t = np.deg2rad(np.linspace(start_deg, end_deg, n))
    cx, cy = centre
    ro, ri = radius + width / 2, max(radius - width / 2, 0.0)
    outer = np.stack([cx + ro * np.cos(t), cy + ro * np.sin(t)], axis=1)
    inner = np.stack([cx + ri * np.cos(t[::-1]), cy + ri * np.sin(t[::-1])], axis=1)
    return np.concatenate([outer, inner])


def regular_polygon(centre: tuple[float, float], radius: float, k: int, angle_deg: float = 90.0) -> np.ndarray:
    """Regular ``k``-gon inscribed in a circle; ``k >= 32`` approximates a disc.

    Parameters
    ----------
    centre : (float, float)
        ``(x, y)``.
    radius : float
        Circumradius, px.
    k : int
        Number of vertices.
    angle_deg : float, default 90
        Direction of the first vertex, counter-clockwise on screen from +x
        (90: pointing up).

    Returns
    -------
    numpy.ndarray
        ``(k, 2)`` vertices.
    """
    t = np.deg2rad(angle_deg) + 2 * np.pi * np.arange(k) / k
    return np.stack([centre[0] + radius * np.cos(t), centre[1] - radius * np.sin(t)], axis=1)


def disc(centre: tuple[float, float], radius: float) -> np.ndarray:
    """A disc as a 128-gon (its area is within 0.05 % of the circle's).

    Parameters
    ----------
    centre : (float, float)
        ``(x, y)``.
    radius : float
        px.

    Returns
    -------
    numpy.ndarray
        ``(128, 2)`` vertices.
    """
    return regular_polygon(centre, radius, 128)


def composite(image: np.ndarray, sprite: Sprite, x: int, y: int) -> None:
    """Paint a sprite onto an ``(H, W, 3)`` uint8 image in place.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8.
    sprite : Sprite
        The item; its box must lie inside the image.
    x, y : int
        Top-left corner of the sprite's box in the image, px.

    Returns
    -------
    None
    """
    h, w = sprite.shape
    H, W = image.shape[:2]
    if x < 0 or y < 0 or x + w > W or y + h > H:
        raise ValueError(f"sprite box {(x, y, w, h)} is not inside the {W} x {H} image")
    value = np.asarray(sprite.value, dtype=np.float32)
    if value.ndim == 2:
        value = value[:, :, None]
    # region * (1 - a) + value * a, computed as value + (region - value) * (1 - a)
    out = image[y : y + h, x : x + w].astype(np.float32)
    out -= value
    out *= (1.0 - sprite.alpha)[:, :, None]
    out += value
    np.rint(out, out=out)
    image[y : y + h, x : x + w] = np.clip(out, 0, 255).astype(np.uint8)


def blank(height: int, width: int, background) -> np.ndarray:
    """A uniform ``(H, W, 3)`` uint8 canvas.

    Parameters
    ----------
    height, width : int
        px.
    background : float or sequence of 3 floats
        Grey level or RGB.

    Returns
    -------
    numpy.ndarray
    """
    img = np.empty((int(height), int(width), 3), dtype=np.uint8)
    img[:] = np.clip(np.rint(np.asarray(background, dtype=float)), 0, 255).astype(np.uint8)
    return img
