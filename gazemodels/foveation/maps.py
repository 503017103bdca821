"""Resolution maps: how sharply each pixel is seen from a fixation.

A **resolution map** ``r`` has values in ``[0, 1]`` per pixel: 1 where the image is seen
at full resolution (the fovea), falling towards 0 in the periphery. The foveation
operator renders an image from it (:func:`level_weights`) and the memory of past
fixations accumulates it (:mod:`gazemodels.foveation.memory`). Two fall-offs:

- :func:`gaussian_fovea`, ``r = exp(-e**2 / (2 sigma**2))`` with the eccentricity ``e`` and
  the fovea size ``sigma`` in degrees of visual angle: the Gaussian foveation of NeVA
  (Schwinn et al. 2022) and NevaClip (Zanca et al. 2023);
- :func:`eccentricity_resolution`, ``r = e2 / (e2 + e)``: the relative resolution of the
  human visual field, which halves at eccentricity ``e2`` (Geisler & Perry 1998).

Coordinates
-----------
Fixations are ``(x, y)`` in pixels of the image they foveate, origin at the top-left
corner, as in gazemodels' fixation tables; the centre of pixel ``(i, j)`` (row, column)
is at ``x = j + 0.5, y = i + 0.5``. Pixels per degree may differ between the axes
(an image resized to a square network input): give ``px_per_degree`` as ``(ppd_x, ppd_y)``.

References
----------
Geisler, W. S., & Perry, J. S. (1998). Real-time foveated multiresolution system for
low-bandwidth video communication. Proc. SPIE 3299, Human Vision and Electronic
Imaging III, 294-305.

Schwinn, L., Precup, D., Eskofier, B., & Zanca, D. (2022). Behind the machine's gaze:
biologically constrained neural networks exhibit human-like visual attention.
Transactions on Machine Learning Research. arXiv:2204.09093.

Zanca, D., Zugarini, A., Dietz, S., Altstidl, T. R., Turban Ndjeuha, M. A., Schwinn, L.,
& Eskofier, B. (2023). Contrastive language-image pretrained models are zero-shot
human scanpath predictors. arXiv:2305.12380.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "E2_DEG",
    "eccentricity_resolution",
    "gaussian_fovea",
    "level_weights",
    "pixel_grid",
    "ppd_pair",
    "squared_eccentricity",
]

E2_DEG = 2.3
"""Eccentricity (deg) at which the relative resolution halves (Geisler & Perry 1998)."""


def ppd_pair(px_per_degree) -> tuple[float, float]:
    """Pixels per degree as ``(ppd_x, ppd_y)``.

    Parameters
    ----------
    px_per_degree : float or (float, float)
        One value for both axes or ``(ppd_x, ppd_y)``.

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        If a value is not finite and positive.
    """
    if isinstance(px_per_degree, (tuple, list)):
        if len(px_per_degree) != 2:
            raise ValueError(f"px_per_degree must be a number or (ppd_x, ppd_y), got {px_per_degree!r}")
        px, py = float(px_per_degree[0]), float(px_per_degree[1])
    else:
        px = py = float(px_per_degree)
    if not (math.isfinite(px) and math.isfinite(py) and px > 0 and py > 0):
        raise ValueError(f"px_per_degree must be finite and positive, got {px_per_degree!r}")
    return px, py


def pixel_grid(height: int, width: int, *, dtype=torch.float32, device=None) -> tuple[Tensor, Tensor]:
    """Coordinates of the pixel centres.

    Parameters
    ----------
    height, width : int
        Image size in pixels.
    dtype, device
        Of the returned tensors.

    Returns
    -------
    ys : Tensor
        ``(H, 1)``: ``i + 0.5`` for row ``i``.
    xs : Tensor
        ``(1, W)``: ``j + 0.5`` for column ``j``.
    """
    ys = torch.arange(int(height), dtype=dtype, device=device).add_(0.5).view(-1, 1)
    xs = torch.arange(int(width), dtype=dtype, device=device).add_(0.5).view(1, -1)
    return ys, xs


def _check_fixations(fixations: Tensor) -> None:
    if not isinstance(fixations, Tensor) or fixations.dim() < 1 or fixations.shape[-1] != 2:
        raise ValueError("fixations must be a tensor of shape (..., 2) holding x, y in pixels")
    if not fixations.is_floating_point():
        raise ValueError(f"fixations must be floating point, got dtype {fixations.dtype}")


def squared_eccentricity(fixations: Tensor, height: int, width: int, px_per_degree) -> Tensor:
    """Squared distance in degrees from each fixation to every pixel centre.

    Parameters
    ----------
    fixations : Tensor
        ``(..., 2)``: ``x, y`` in pixels.
    height, width : int
        Image size in pixels.
    px_per_degree : float or (float, float)
        Pixels per degree, or ``(ppd_x, ppd_y)``.

    Returns
    -------
    Tensor
        ``(..., H, W)`` in deg², differentiable with respect to ``fixations``.
    """
    _check_fixations(fixations)
    ppx, ppy = ppd_pair(px_per_degree)
    ys, xs = pixel_grid(height, width, dtype=fixations.dtype, device=fixations.device)
    fx = fixations[..., 0, None, None]
    fy = fixations[..., 1, None, None]
    return ((xs - fx) / ppx) ** 2 + ((ys - fy) / ppy) ** 2


def gaussian_fovea(fixations: Tensor, height: int, width: int, sigma_deg: float, px_per_degree) -> Tensor:
    """Gaussian resolution map: ``exp(-e**2 / (2 sigma**2))``, 1 at the fixation.

    NeVA and NevaClip foveate with a Gaussian of the distance in normalised image
    coordinates; here its standard deviation is given in degrees of visual angle, so
    the fovea has the same angular size whatever the image resolution.

    Parameters
    ----------
    fixations : Tensor
        ``(..., 2)``: ``x, y`` in pixels.
    height, width : int
        Image size in pixels.
    sigma_deg : float
        Standard deviation of the fovea in degrees.
    px_per_degree : float or (float, float)
        Pixels per degree, or ``(ppd_x, ppd_y)``.

    Returns
    -------
    Tensor
        ``(..., H, W)`` in ``(0, 1]``.
    """
    sigma_deg = float(sigma_deg)
    if not math.isfinite(sigma_deg) or sigma_deg <= 0:
        raise ValueError(f"sigma_deg must be finite and positive, got {sigma_deg!r}")
    d2 = squared_eccentricity(fixations, height, width, px_per_degree)
    return torch.exp(d2 / (-2.0 * sigma_deg**2))


def eccentricity_resolution(
    fixations: Tensor,
    height: int,
    width: int,
    px_per_degree,
    e2_deg: float = E2_DEG,
    *,
    eps_deg: float = 1e-3,
) -> Tensor:
    """Relative resolution of the visual field, ``e2 / (e2 + e)`` (Geisler & Perry 1998).

    Parameters
    ----------
    fixations : Tensor
        ``(..., 2)``: ``x, y`` in pixels.
    height, width : int
        Image size in pixels.
    px_per_degree : float or (float, float)
        Pixels per degree, or ``(ppd_x, ppd_y)``.
    e2_deg : float, default :data:`E2_DEG`
        Eccentricity (deg) at which the resolution halves.
    eps_deg : float, default 1e-3
        The eccentricity is ``sqrt(d**2 + eps**2) - eps``: 0 at the fixation (so the
        resolution there is exactly 1) and smooth, so that the map has a gradient with
        respect to the fixation everywhere.

    Returns
    -------
    Tensor
        ``(..., H, W)`` in ``(0, 1]``.
    """
    e2_deg = float(e2_deg)
    if not math.isfinite(e2_deg) or e2_deg <= 0:
        raise ValueError(f"e2_deg must be finite and positive, got {e2_deg!r}")
    d2 = squared_eccentricity(fixations, height, width, px_per_degree)
    e = torch.sqrt(d2 + eps_deg**2) - eps_deg
    return e2_deg / (e2_deg + e)


def level_weights(resolution: Tensor, n_levels: int) -> Tensor:
    """Blending weights of the blur levels for a resolution map.

    A pixel of resolution ``r`` is rendered at the continuous level
    ``l = -log2(r)`` (clipped to ``[0, n_levels - 1]``), interpolated linearly
    between the two nearest levels. With the level blurs of
    :func:`gazemodels.foveation.level_sigmas`, ``sigma_k = (2**k - 1) sigma1``, the blur
    at an integer level is ``sigma1 * (1 / r - 1)``: it grows in inverse proportion to
    the resolution, so that with :func:`eccentricity_resolution` it grows linearly with
    eccentricity, ``sigma1 * e / e2`` (Geisler & Perry 1998).

    Parameters
    ----------
    resolution : Tensor
        ``(..., H, W)`` with values in ``[0, 1]``.
    n_levels : int
        Number of levels (level 0 sharp).

    Returns
    -------
    Tensor
        ``(..., n_levels, H, W)``, non-negative, summing to 1 over the levels.
    """
    n = int(n_levels)
    if n < 2:
        raise ValueError(f"n_levels must be >= 2, got {n_levels!r}")
    floor = 2.0 ** -(n - 1)
    lvl = -torch.log2(resolution.clamp(floor, 1.0))
    k = torch.arange(n, dtype=resolution.dtype, device=resolution.device).view(n, 1, 1)
    return torch.relu(1.0 - (lvl.unsqueeze(-3) - k).abs())
