"""Spectral-residual and Itti-Koch saliency maps.

References
----------
Hou, X., & Zhang, L. (2007). Saliency detection: A spectral residual approach.
CVPR 2007.

Itti, L., Koch, C., & Niebur, E. (1998). A model of saliency-based visual
attention for rapid scene analysis. IEEE TPAMI 20(11), 1254-1259.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from scipy import ndimage


def _as_float_rgb(image: np.ndarray) -> np.ndarray:
    """An image as float32 RGB in [0, 1], shape (H, W, 3)."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {img.shape}")
    img = img[:, :, :3]
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    img = img.astype(np.float32)
    if img.size and img.max() > 1.0:
        img = img / 255.0
    return img


def _finish(sal: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize to ``shape`` (H, W), clip at 0, and scale to maximum 1."""
    sal = cv2.resize(sal.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    sal = np.maximum(sal, 0.0)
    m = float(sal.max())
    return sal / m if m > 0 else sal


def spectral_residual(image: np.ndarray, *, width: int = 64, sigma: float = 2.5) -> np.ndarray:
    """Spectral-residual saliency (Hou & Zhang 2007).

    The grey image, downsampled to ``width`` px, has Fourier transform with log
    amplitude ``L`` and phase ``P``. The spectral residual is
    ``R = L - h * L`` (``h`` a 3x3 average filter, Hou & Zhang eq. 5) and the
    saliency ``S = g * |F^-1[exp(R + iP)]|^2`` (eq. 6) with ``g`` a Gaussian of
    ``sigma`` px at the downsampled scale.

    Parameters
    ----------
    image : numpy.ndarray
        RGB or grey image, ``uint8`` or float in [0, 1].
    width : int, default 64
        Width of the downsampled image (Hou & Zhang use 64 px).
    sigma : float, default 2.5
        Standard deviation of the smoothing Gaussian, in px of the downsampled image.

    Returns
    -------
    numpy.ndarray
        Map of shape ``(H, W)``, ``float32``, in [0, 1] with maximum 1 (zeros on
        a uniform image).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((60, 80, 3), np.uint8); img[20:26, 50:56] = 255
    >>> s = spectral_residual(img)
    >>> [int(v) for v in np.unravel_index(s.argmax(), s.shape)]  # row, column: on the square
    [21, 50]
    """
    rgb = _as_float_rgb(image)
    h, w = rgb.shape[:2]
    grey = rgb.mean(axis=2)
    if float(grey.max() - grey.min()) < 1e-8:
        return np.zeros((h, w), np.float32)
    sw = int(width)
    sh = max(1, round(sw * h / w))
    small = cv2.resize(grey, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float64)
    f = np.fft.fft2(small)
    log_amp = np.log(np.abs(f) + 1e-12)
    phase = np.angle(f)
    residual = log_amp - ndimage.uniform_filter(log_amp, size=3, mode="wrap")  # Hou & Zhang eq. 5
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2  # eq. 6
    sal = ndimage.gaussian_filter(sal, sigma)
    return _finish(sal, (h, w))


def _normalise_map(m: np.ndarray) -> np.ndarray:
    """Itti et al.'s N(.): scale to [0, 1], then weight by (1 - mean of the other local maxima)^2."""
    m = m - m.min()
    top = float(m.max())
    if top <= 0:
        return m
    m = m / top
    size = max(3, min(m.shape) // 8)
    peaks = (m == ndimage.maximum_filter(m, size=size)) & (m > 0.05)
    vals = m[peaks]
    vals = vals[vals < 1.0]
    mean_other = float(vals.mean()) if vals.size else 0.0
    return m * (1.0 - mean_other) ** 2


def itti_koch(image: np.ndarray, *, work_width: int = 512, centres=(2, 3, 4), deltas=(3, 4)) -> np.ndarray:
    """Itti-Koch-Niebur saliency: centre-surround contrast of intensity, colour and orientation.

    Follows Itti, Koch & Niebur (1998): dyadic Gaussian pyramids (levels 0-8)
    of intensity ``I = (r + g + b) / 3``, the colour channels
    ``R, G, B, Y`` (normalised by ``I``, zero where ``I`` < 0.1 of its
    maximum) and Gabor orientations 0, 45, 90, 135 deg; feature maps are
    across-scale differences ``|C(c) - S(s)|`` for centre levels ``c`` and
    surround ``s = c + delta`` (eq. 1-4, with red-green and blue-yellow
    double opponency); each map goes through the normalisation operator ``N``
    (scale to [0, 1], multiply by ``(1 - mean local maximum)^2``), maps are summed
    at level 4 into conspicuity maps, and the saliency map is the mean of the
    three normalised conspicuity maps (eq. 5-8). The winner-take-all neural
    network and the dynamics of the original are not modelled here (see
    :class:`gazemodels.models.scanpath.baselines.SaliencyWTAModel`).

    Parameters
    ----------
    image : numpy.ndarray
        RGB or grey image, ``uint8`` or float in [0, 1].
    work_width : int, default 512
        The image is resized to this width before the pyramids (so that level
        8 still has a few pixels).
    centres : tuple of int
        Centre pyramid levels ``c``.
    deltas : tuple of int
        Centre-surround level differences ``delta``.

    Returns
    -------
    numpy.ndarray
        Map of shape ``(H, W)``, ``float32``, in [0, 1] with maximum 1.
    """
    rgb = _as_float_rgb(image)
    h, w = rgb.shape[:2]
    if float(rgb.max() - rgb.min()) < 1e-8:
        return np.zeros((h, w), np.float32)
    ww = int(work_width)
    wh = max(2, round(ww * h / w))
    work = cv2.resize(rgb, (ww, wh), interpolation=cv2.INTER_AREA)
    r, g, b = work[..., 0], work[..., 1], work[..., 2]
    inten = (r + g + b) / 3.0
    mask = inten > 0.1 * inten.max()
    denom = np.where(mask, inten, 1.0)
    rr = np.where(mask, (r - (g + b) / 2) / denom, 0).clip(0)
    gg = np.where(mask, (g - (r + b) / 2) / denom, 0).clip(0)
    bb = np.where(mask, (b - (r + g) / 2) / denom, 0).clip(0)
    yy = np.where(mask, ((r + g) / 2 - np.abs(r - g) / 2 - b) / denom, 0).clip(0)

    n_levels = max(centres) + max(deltas) + 1

    def pyramid(img):
        levels = [img.astype(np.float32)]
        for _ in range(1, n_levels):
            prev = levels[-1]
            if min(prev.shape) < 2:
                levels.append(prev)
            else:
                levels.append(cv2.pyrDown(prev))
        return levels

    pi = pyramid(inten)
    pr, pg, pb, py = (pyramid(c) for c in (rr, gg, bb, yy))
    gabors = [
        cv2.getGaborKernel((9, 9), 2.0, np.deg2rad(theta), 5.0, 1.0, 0, ktype=cv2.CV_32F)
        for theta in (0, 45, 90, 135)
    ]
    po = [[np.abs(cv2.filter2D(level, -1, k)) for level in pi] for k in gabors]
    target = pi[4].shape[::-1]  # conspicuity maps live at level 4 (Itti et al. eq. 5-7)

    def at(m, ref):
        return cv2.resize(m, (ref.shape[1], ref.shape[0]), interpolation=cv2.INTER_LINEAR)

    def cs(pyr_c, pyr_s=None, opp=False):
        out = np.zeros(target[::-1], np.float32)
        for c in centres:
            for d in deltas:
                s = c + d
                if opp:  # double opponency, eq. 3-4: |(A(c) - B(c)) - (B(s) - A(s))|
                    fm = np.abs(pyr_c[0][c] - pyr_c[1][c] - at(pyr_s[1][s] - pyr_s[0][s], pyr_c[0][c]))
                else:
                    fm = np.abs(pyr_c[c] - at(pyr_c[s], pyr_c[c]))
                out += cv2.resize(_normalise_map(fm), target, interpolation=cv2.INTER_LINEAR)
        return out

    c_int = cs(pi)
    c_col = cs((pr, pg), (pr, pg), opp=True) + cs((pb, py), (pb, py), opp=True)
    c_ori = sum(_normalise_map(cs(p)) for p in po)
    sal = (_normalise_map(c_int) + _normalise_map(c_col) + _normalise_map(c_ori)) / 3.0  # eq. 8
    return _finish(sal, (h, w))


SALIENCY_MAPS: dict[str, Callable[..., np.ndarray]] = {
    "spectral_residual": spectral_residual,
    "itti_koch": itti_koch,
}
"""Saliency maps by name."""


def saliency_map(image: np.ndarray, method: str = "spectral_residual", **kwargs) -> np.ndarray:
    """Compute a saliency map by name.

    Parameters
    ----------
    image : numpy.ndarray
        RGB or grey image.
    method : {"spectral_residual", "itti_koch"}
        Which map.
    **kwargs
        Passed to the map's function.

    Returns
    -------
    numpy.ndarray
        Map of shape ``(H, W)`` in [0, 1].
    """
    if method not in SALIENCY_MAPS:
        raise ValueError(f"unknown saliency map {method!r}; known: {sorted(SALIENCY_MAPS)}")
    return SALIENCY_MAPS[method](image, **kwargs)
