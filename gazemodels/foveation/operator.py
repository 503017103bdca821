"""The differentiable foveation operator.

:class:`Foveation` renders an image as seen from a fixation: sharp at the fovea and
increasingly blurred towards the periphery, together with a memory of earlier fixations.
Every step is a smooth function of the fixation position (the resolution map is a smooth
function of the distance to the fixation, and the blurred levels are blended with
weights that depend on it), so the rendered image is differentiable with respect to the
fixation: NeVA-style models move a candidate fixation by gradient steps on a downstream
objective (:mod:`gazemodels.models.scanpath.neva`).

Two choices define an operator:

``fovea``
    ``"gaussian"``: ``r = exp(-e**2 / (2 sigma**2))`` with the fovea's standard deviation
    ``fovea_sigma_deg`` (NeVA, Schwinn et al. 2022; NevaClip, Zanca et al. 2023).
    ``"eccentricity"``: ``r = e2 / (e2 + e)`` (Geisler & Perry 1998).
``periphery``
    ``"blend"``: one blurred copy (Gaussian, ``blur_sigma_deg``) blended with the sharp
    image, ``r * image + (1 - r) * blurred``: NeVA's foveation.
    ``"pyramid"``: ``n_levels`` levels of blur ``sigma_k = (2**k - 1) * blur_sigma_deg``
    (:func:`~gazemodels.foveation.level_sigmas`), a Gaussian pyramid at full
    resolution; each pixel is rendered at level ``-log2(r)``, interpolated between the two
    nearest levels (Geisler & Perry 1998), so the blur grows as the resolution falls.

Sizes are in degrees of visual angle and converted with ``px_per_degree`` (a number, or
``(ppd_x, ppd_y)`` for an image resized anisotropically). Images are ``(B, C, H, W)``;
fixations ``(B, F, 2)`` (``x, y`` in pixels, origin top-left, see
:mod:`gazemodels.foveation.maps`), so one call foveates every image at ``F`` fixations
and returns ``(B, F, C, H, W)``.

References
----------
Geisler, W. S., & Perry, J. S. (1998). Real-time foveated multiresolution system for
low-bandwidth video communication. Proc. SPIE 3299, 294-305.

Schwinn, L., Precup, D., Eskofier, B., & Zanca, D. (2022). Behind the machine's gaze:
biologically constrained neural networks exhibit human-like visual attention. TMLR.

Zanca, D., et al. (2023). Contrastive language-image pretrained models are zero-shot
human scanpath predictors. arXiv:2305.12380.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gazemodels.foveation.blur import blur_levels, level_sigmas
from gazemodels.foveation.maps import (
    E2_DEG,
    eccentricity_resolution,
    gaussian_fovea,
    level_weights,
    ppd_pair,
)
from gazemodels.foveation.memory import MEMORY_MODES, check_forgetting, combine, update_memory

__all__ = ["FOVEAS", "PERIPHERIES", "Foveation"]

FOVEAS: tuple[str, ...] = ("gaussian", "eccentricity")
PERIPHERIES: tuple[str, ...] = ("blend", "pyramid")


def _positive(name: str, v) -> float:
    v = float(v)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be finite and positive, got {v!r}")
    return v


class Foveation(nn.Module):
    """Differentiable foveation with memory (see the module docstring).

    Parameters
    ----------
    px_per_degree : float or (float, float)
        Pixels per degree of the images it foveates, or ``(ppd_x, ppd_y)``.
    fovea : {"gaussian", "eccentricity"}, default "gaussian"
        Fall-off of the resolution with eccentricity.
    fovea_sigma_deg : float, default 2.0
        Standard deviation (deg) of the Gaussian fovea.
    e2_deg : float, default 2.3
        Half-resolution eccentricity (deg) of the ``"eccentricity"`` fovea.
    periphery : {"blend", "pyramid"}, default "blend"
        How the periphery is blurred.
    blur_sigma_deg : float, default 1.0
        Blur (deg) of the blurred copy (``"blend"``) or of pyramid level 1.
    n_levels : int, default 5
        Levels of the ``"pyramid"`` periphery, level 0 sharp.
    memory : {"sum", "max"}, default "sum"
        How fixations accumulate (:mod:`gazemodels.foveation.memory`).
    forgetting : float, default 1.0
        Forgetting factor of the memory, in ``[0, 1]`` (1: no forgetting).

    Examples
    --------
    >>> import torch
    >>> fov = Foveation(px_per_degree=8.0, fovea_sigma_deg=1.0)
    >>> image = torch.rand(2, 3, 32, 48)
    >>> fix = torch.tensor([[[24.5, 16.5]], [[8.5, 8.5]]], requires_grad=True)
    >>> out = fov(image, fix)
    >>> out.shape
    torch.Size([2, 1, 3, 32, 48])
    >>> torch.allclose(out[0, 0, :, 16, 24], image[0, :, 16, 24])  # sharp at the fixation
    True
    >>> out.sum().backward(); fix.grad.shape
    torch.Size([2, 1, 2])
    """

    def __init__(
        self,
        px_per_degree=24.0,
        *,
        fovea: str = "gaussian",
        fovea_sigma_deg: float = 2.0,
        e2_deg: float = E2_DEG,
        periphery: str = "blend",
        blur_sigma_deg: float = 1.0,
        n_levels: int = 5,
        memory: str = "sum",
        forgetting: float = 1.0,
    ):
        super().__init__()
        if fovea not in FOVEAS:
            raise ValueError(f"fovea must be one of {list(FOVEAS)}, got {fovea!r}")
        if periphery not in PERIPHERIES:
            raise ValueError(f"periphery must be one of {list(PERIPHERIES)}, got {periphery!r}")
        if memory not in MEMORY_MODES:
            raise ValueError(f"memory must be one of {list(MEMORY_MODES)}, got {memory!r}")
        self.px_per_degree = ppd_pair(px_per_degree)
        self.fovea = fovea
        self.fovea_sigma_deg = _positive("fovea_sigma_deg", fovea_sigma_deg)
        self.e2_deg = _positive("e2_deg", e2_deg)
        self.periphery = periphery
        self.blur_sigma_deg = _positive("blur_sigma_deg", blur_sigma_deg)
        if int(n_levels) != n_levels or n_levels < 2:
            raise ValueError(f"n_levels must be an integer >= 2, got {n_levels!r}")
        self.n_levels = int(n_levels) if periphery == "pyramid" else 2
        self.memory = memory
        self.forgetting = check_forgetting(forgetting)

    def extra_repr(self) -> str:
        """Settings shown by ``repr``."""
        size = (f"fovea_sigma_deg={self.fovea_sigma_deg:g}" if self.fovea == "gaussian"
                else f"e2_deg={self.e2_deg:g}")
        return (f"px_per_degree={self.px_per_degree}, fovea={self.fovea!r}, {size}, "
                f"periphery={self.periphery!r}, blur_sigma_deg={self.blur_sigma_deg:g}, "
                f"n_levels={self.n_levels}, memory={self.memory!r}, forgetting={self.forgetting:g}")

    # ----------------------------------------------------------------------------- parts
    def level_sigmas_px(self) -> list[tuple[float, float]]:
        """Blur of each level in pixels, ``(sigma_y, sigma_x)``; level 0 is sharp.

        Returns
        -------
        list of (float, float)
        """
        ppx, ppy = self.px_per_degree
        return [(s * ppy, s * ppx) for s in level_sigmas(self.blur_sigma_deg, self.n_levels)]

    def levels(self, image: Tensor) -> Tensor:
        """The sharp image and its blurred levels; compute once per image and reuse.

        Parameters
        ----------
        image : Tensor
            ``(B, C, H, W)``, floating point.

        Returns
        -------
        Tensor
            ``(B, L, C, H, W)``: ``L = 2`` for ``"blend"``, ``n_levels`` for ``"pyramid"``.
        """
        if not isinstance(image, Tensor) or image.dim() != 4 or not image.is_floating_point():
            raise ValueError("image must be a floating-point tensor of shape (B, C, H, W)")
        return blur_levels(image, self.level_sigmas_px())

    def resolution(self, fixations: Tensor, height: int, width: int) -> Tensor:
        """Resolution map of each fixation.

        Parameters
        ----------
        fixations : Tensor
            ``(..., 2)``: ``x, y`` in pixels.
        height, width : int
            Image size.

        Returns
        -------
        Tensor
            ``(..., H, W)`` in ``(0, 1]``, 1 at the fixation.
        """
        if self.fovea == "gaussian":
            return gaussian_fovea(fixations, height, width, self.fovea_sigma_deg, self.px_per_degree)
        return eccentricity_resolution(fixations, height, width, self.px_per_degree, self.e2_deg)

    def render(self, levels: Tensor, seen: Tensor) -> Tensor:
        """Blend the levels by a resolution map.

        Parameters
        ----------
        levels : Tensor
            ``(B, L, C, H, W)`` from :meth:`levels`.
        seen : Tensor
            ``(B, F, H, W)``: resolution at which each pixel is seen, in ``[0, 1]``.

        Returns
        -------
        Tensor
            ``(B, F, C, H, W)``.
        """
        if levels.dim() != 5 or levels.shape[1] != self.n_levels:
            raise ValueError(
                f"levels must have shape (B, {self.n_levels}, C, H, W), got {tuple(levels.shape)}"
            )
        if seen.dim() != 4 or seen.shape[-2:] != levels.shape[-2:]:
            raise ValueError(f"seen must have shape (B, F, H, W) matching the levels, got {tuple(seen.shape)}")
        if self.periphery == "blend":
            sharp, blurred = levels[:, 0:1], levels[:, 1:2]  # (B, 1, C, H, W)
            return blurred + seen.unsqueeze(2) * (sharp - blurred)
        w = level_weights(seen, self.n_levels)  # (B, F, L, H, W)
        return torch.einsum("bflhw,blchw->bfchw", w, levels)

    # ----------------------------------------------------------------------------- memory
    def update_memory(self, memory: Tensor | None, fixations: Tensor, height: int, width: int) -> Tensor:
        """Memory after fixating ``fixations`` (see :mod:`gazemodels.foveation.memory`).

        Parameters
        ----------
        memory : Tensor or None
            ``(B, F, H, W)`` or None (nothing seen yet).
        fixations : Tensor
            ``(B, F, 2)``: the fixation just made, per image and scanpath.
        height, width : int
            Image size.

        Returns
        -------
        Tensor
            ``(B, F, H, W)``.
        """
        return update_memory(memory, self.resolution(fixations, height, width), self.forgetting, self.memory)

    # ----------------------------------------------------------------------------- forward
    def forward(
        self,
        image: Tensor | None,
        fixations: Tensor,
        memory: Tensor | None = None,
        *,
        levels: Tensor | None = None,
    ) -> Tensor:
        """Foveate images at fixations, with the memory of earlier fixations.

        Parameters
        ----------
        image : Tensor or None
            ``(B, C, H, W)``; may be None when ``levels`` is given.
        fixations : Tensor
            ``(B, F, 2)``: ``x, y`` in pixels; differentiable.
        memory : Tensor, optional
            ``(B, F, H, W)`` (or broadcastable, e.g. ``(B, 1, H, W)``): memory of the
            earlier fixations (:meth:`update_memory`); None for a first fixation.
        levels : Tensor, optional
            Precomputed :meth:`levels` of ``image``, to avoid blurring again at every call.

        Returns
        -------
        Tensor
            ``(B, F, C, H, W)``: each image seen from each fixation.
        """
        if levels is None:
            if image is None:
                raise ValueError("give the image or its precomputed levels")
            levels = self.levels(image)
        if fixations.dim() != 3 or fixations.shape[-1] != 2 or fixations.shape[0] != levels.shape[0]:
            raise ValueError(
                f"fixations must have shape (B, F, 2) with B = {levels.shape[0]}, got {tuple(fixations.shape)}"
            )
        h, w = levels.shape[-2:]
        seen = combine(memory, self.resolution(fixations.to(levels.dtype), h, w), self.memory)
        if seen.shape[:2] != fixations.shape[:2]:
            seen = seen.expand(fixations.shape[0], fixations.shape[1], h, w)
        return self.render(levels, seen)

    def scanpath(self, image: Tensor, fixations: Tensor) -> Tensor:
        """The image as seen at each fixation of a scanpath, remembering the earlier ones.

        Parameters
        ----------
        image : Tensor
            ``(B, C, H, W)``.
        fixations : Tensor
            ``(B, T, 2)``: one scanpath of ``T`` fixations per image.

        Returns
        -------
        Tensor
            ``(B, T, C, H, W)``: entry ``t`` is the image seen at fixation ``t`` with the
            memory of fixations ``0 .. t - 1``.
        """
        if fixations.dim() != 3 or fixations.shape[-1] != 2:
            raise ValueError(f"fixations must have shape (B, T, 2), got {tuple(fixations.shape)}")
        levels = self.levels(image)
        h, w = levels.shape[-2:]
        out, mem = [], None
        for t in range(fixations.shape[1]):
            f = fixations[:, t : t + 1]
            out.append(self(None, f, mem, levels=levels)[:, 0])
            mem = self.update_memory(mem, f, h, w)
        return torch.stack(out, dim=1)
