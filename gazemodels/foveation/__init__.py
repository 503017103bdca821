"""Differentiable foveation: a sharp fovea, a blurred periphery, and a memory of fixations.

The operator (:class:`Foveation`) renders images as seen from fixations, differentiably
with respect to the fixation positions, batched over images and fixations:

- a fovea whose size is given in degrees of visual angle, either Gaussian (NeVA,
  Schwinn et al. 2022; NevaClip, Zanca et al. 2023) or the ``e2 / (e2 + e)`` resolution
  fall-off of Geisler & Perry (1998) (:mod:`~gazemodels.foveation.maps`);
- a periphery blurred by one Gaussian (NeVA) or by a Gaussian pyramid blended by
  eccentricity (Geisler & Perry 1998) (:mod:`~gazemodels.foveation.blur`);
- a memory that accumulates what has been foveated, with an optional forgetting factor
  (:mod:`~gazemodels.foveation.memory`).

Examples
--------
>>> import torch
>>> from gazemodels.foveation import Foveation
>>> fov = Foveation(px_per_degree=10.0, fovea_sigma_deg=1.5, forgetting=0.5)
>>> image = torch.rand(1, 3, 60, 80)
>>> scanpath = torch.tensor([[[20.0, 30.0], [60.0, 30.0]]])
>>> fov.scanpath(image, scanpath).shape  # the image seen at each fixation
torch.Size([1, 2, 3, 60, 80])
"""

from gazemodels.foveation.blur import blur_levels, gaussian_blur, gaussian_kernel1d, level_sigmas
from gazemodels.foveation.maps import (
    E2_DEG,
    eccentricity_resolution,
    gaussian_fovea,
    level_weights,
    pixel_grid,
    ppd_pair,
    squared_eccentricity,
)
from gazemodels.foveation.memory import MEMORY_MODES, combine, memory_over_scanpath, update_memory
from gazemodels.foveation.operator import FOVEAS, PERIPHERIES, Foveation

__all__ = [
    "E2_DEG",
    "FOVEAS",
    "MEMORY_MODES",
    "PERIPHERIES",
    "Foveation",
    "blur_levels",
    "combine",
    "eccentricity_resolution",
    "gaussian_blur",
    "gaussian_fovea",
    "gaussian_kernel1d",
    "level_sigmas",
    "level_weights",
    "memory_over_scanpath",
    "pixel_grid",
    "ppd_pair",
    "squared_eccentricity",
    "update_memory",
]
