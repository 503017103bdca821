"""Anti-aliased drawing of search items with OpenCV.

An item is a :class:`Sprite`: a coverage mask ``alpha`` in [0, 1] over the
item's box and the value painted where it is covered (a grey level, an RGB
colour, or a per-pixel image such as a shaded disc). Coverage comes from
polygons filled with :func:`cv2.fillPoly` on a supersampled canvas (sub-pixel
vertices through ``shift``, ``LINE_AA`` edges) and averaged back to the item's
resolution with :data:`cv2.INTER_AREA`, so edges are anti-aliased and shapes
keep their sizes in degrees at any ``px_per_degree``.

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

SUPERSAMPLE = 4
"""Supersampling factor per axis of the coverage masks."""

_SHIFT = 4  # fractional bits of the fillPoly vertices


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


def coverage(size: tuple[int, int], polygons: list[np.ndarray], holes: list[np.ndarray] | None = None) -> np.ndarray:
    """Anti-aliased coverage mask of the union of polygons, minus holes.

    Each polygon is filled on its own, so overlapping polygons make a union
    (one ``fillPoly`` call with several contours would leave the overlaps
    empty).

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
    big = np.zeros((h * s, w * s), dtype=np.uint8)

    def fixed(poly: np.ndarray) -> np.ndarray:
        p = np.asarray(poly, dtype=float).reshape(-1, 2)
        # continuous coordinate u -> supersampled pixel-centre coordinate u*s - 0.5
        return np.round((p * s - 0.5) * (1 << _SHIFT)).astype(np.int32)

    for poly in polygons:
        cv2.fillPoly(big, [fixed(poly)], 255, lineType=cv2.LINE_AA, shift=_SHIFT)
    for poly in holes or ():
        cv2.fillPoly(big, [fixed(poly)], 0, lineType=cv2.LINE_AA, shift=_SHIFT)
    small = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0


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
    region = image[y : y + h, x : x + w].astype(np.float32)
    a = sprite.alpha[:, :, None]
    value = np.asarray(sprite.value, dtype=np.float32)
    if value.ndim == 2:
        value = value[:, :, None]
    out = region * (1.0 - a) + value * a
    image[y : y + h, x : x + w] = np.clip(np.rint(out), 0, 255).astype(np.uint8)


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
