"""Measurements on rendered displays shared by the stimulus tests."""

from __future__ import annotations

import numpy as np


def crop(image: np.ndarray, box) -> np.ndarray:
    """The pixels of ``image`` inside an ``(x, y, w, h)`` box."""
    x, y, w, h = (int(v) for v in box)
    return image[y : y + h, x : x + w]


def background(image: np.ndarray) -> np.ndarray:
    """The display's background colour (the top-left pixel: items keep a gap from the border)."""
    return image[0, 0].astype(float)


def ink(image: np.ndarray, bg=None) -> np.ndarray:
    """Per-pixel difference from the background, in [0, 1] (max over channels)."""
    bg = background(image) if bg is None else np.asarray(bg, dtype=float)
    return np.abs(image.astype(float) - bg).max(axis=-1) / 255.0


def boxes_mask(shape, boxes) -> np.ndarray:
    """Boolean mask of the union of boxes."""
    m = np.zeros(shape[:2], dtype=bool)
    for x, y, w, h in np.asarray(boxes, dtype=int):
        m[y : y + h, x : x + w] = True
    return m


def shape_moments(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroid ``(x, y)`` relative to the crop centre, std along the principal axes
    (minor, major) and the major axis, of a weight image."""
    h, w = weights.shape
    ys, xs = np.mgrid[:h, :w] + 0.5
    m = weights.sum()
    cx, cy = (weights * xs).sum() / m, (weights * ys).sum() / m
    cov = np.cov(np.stack([xs.ravel(), ys.ravel()]), aweights=weights.ravel())
    ev, evec = np.linalg.eigh(cov)
    return np.array([cx - w / 2.0, cy - h / 2.0]), np.sqrt(np.maximum(ev, 0)), evec[:, 1]


def tilt_cw_from_vertical(axis: np.ndarray) -> float:
    """Tilt of an axis ``(vx, vy)`` (y down) in degrees clockwise from vertical, in (-90, 90]."""
    vx, vy = float(axis[0]), float(axis[1])
    if vy > 0 or (vy == 0 and vx < 0):
        vx, vy = -vx, -vy
    t = np.degrees(np.arctan2(vx, -vy))
    return float(t)
