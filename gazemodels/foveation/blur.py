"""Gaussian blur and the blur levels of the periphery.

All functions work on image batches ``(..., C, H, W)`` in any floating dtype and are
differentiable with respect to the image (the foveation operator needs gradients
with respect to the fixation position only, which flow through the blending
weights, not through the blur).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["blur_levels", "gaussian_blur", "gaussian_kernel1d", "level_sigmas"]

TRUNCATE = 3.0
"""Gaussian kernels are cut at this many standard deviations."""


def gaussian_kernel1d(sigma: float, *, truncate: float = TRUNCATE, dtype=torch.float32, device=None) -> Tensor:
    """Normalised 1D Gaussian kernel.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels; 0 gives the identity kernel ``[1]``.
    truncate : float, default 3.0
        Half-width of the kernel in standard deviations.
    dtype, device
        Of the returned tensor.

    Returns
    -------
    Tensor
        Shape ``(2 r + 1,)`` with ``r = ceil(truncate * sigma)``, summing to 1.

    Examples
    --------
    >>> k = gaussian_kernel1d(1.0)
    >>> k.shape, round(float(k.sum()), 6)
    (torch.Size([7]), 1.0)
    """
    sigma = float(sigma)
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be finite and >= 0, got {sigma!r}")
    if sigma == 0:
        return torch.ones(1, dtype=dtype, device=device)
    r = max(1, int(math.ceil(truncate * sigma)))
    t = torch.arange(-r, r + 1, dtype=torch.float64, device=device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).to(dtype)


def _pair(v) -> tuple[float, float]:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"expected one value or a (y, x) pair, got {v!r}")
        return float(v[0]), float(v[1])
    return float(v), float(v)


def gaussian_blur(image: Tensor, sigma, *, truncate: float = TRUNCATE) -> Tensor:
    """Separable Gaussian blur with replicated borders.

    Parameters
    ----------
    image : Tensor
        ``(..., C, H, W)``, floating point.
    sigma : float or (float, float)
        Standard deviation in pixels, or ``(sigma_y, sigma_x)`` for an anisotropic blur
        (used when the pixels per degree differ between the axes of a resized image).
    truncate : float, default 3.0
        Kernel half-width in standard deviations.

    Returns
    -------
    Tensor
        Same shape and dtype as ``image``. Replicated borders (not reflected) so that
        any kernel size works on any image size.
    """
    if not isinstance(image, Tensor) or image.dim() < 3 or not image.is_floating_point():
        raise ValueError("image must be a floating-point tensor of shape (..., C, H, W)")
    sy, sx = _pair(sigma)
    shape = image.shape
    c, h, w = shape[-3:]
    x = image.reshape(-1, c, h, w)
    for axis, s in ((0, sy), (1, sx)):
        k = gaussian_kernel1d(s, truncate=truncate, dtype=image.dtype, device=image.device)
        r = k.numel() // 2
        if r == 0:
            continue
        if axis == 0:
            x = F.pad(x, (0, 0, r, r), mode="replicate")
            x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
        else:
            x = F.pad(x, (r, r, 0, 0), mode="replicate")
            x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return x.reshape(shape)


def level_sigmas(sigma1: float, n_levels: int) -> list[float]:
    """Blur of each level: ``sigma_k = (2**k - 1) * sigma1`` for ``k = 0 .. n_levels - 1``.

    Level 0 is the sharp image; the blur roughly doubles from level to level, as in
    the levels of a Gaussian pyramid (Burt & Adelson 1983) brought back to full
    resolution (Geisler & Perry 1998). The exact form ``2**k - 1`` makes level
    ``-log2(r)`` the one whose blur is ``sigma1 * (1 / r - 1)``: see
    :func:`gazemodels.foveation.level_weights`.

    Parameters
    ----------
    sigma1 : float
        Blur of level 1 (any unit).
    n_levels : int
        Number of levels, at least 2.

    Returns
    -------
    list of float

    Examples
    --------
    >>> level_sigmas(1.0, 4)
    [0.0, 1.0, 3.0, 7.0]
    """
    if int(n_levels) != n_levels or n_levels < 2:
        raise ValueError(f"n_levels must be an integer >= 2, got {n_levels!r}")
    return [(2.0**k - 1.0) * float(sigma1) for k in range(int(n_levels))]


def blur_levels(image: Tensor, sigmas_px: Sequence) -> Tensor:
    """Stack of blurred copies of an image batch.

    Parameters
    ----------
    image : Tensor
        ``(B, C, H, W)``.
    sigmas_px : sequence
        One blur per level, in pixels: a float or a ``(sigma_y, sigma_x)`` pair; 0 keeps
        the image sharp.

    Returns
    -------
    Tensor
        ``(B, L, C, H, W)`` with ``L = len(sigmas_px)``.
    """
    if not isinstance(image, Tensor) or image.dim() != 4:
        raise ValueError("image must be a tensor of shape (B, C, H, W)")
    return torch.stack([gaussian_blur(image, s) for s in sigmas_px], dim=1)
