"""Tokenizers: patch tokens and object tokens, with positions in degrees of visual angle.

Coordinate frames
-----------------
- **Image pixels**: origin at the top-left corner of the stimulus, x to the right, y
  **downwards** (the fixation table's ``x``, ``y``). A patch of side P at grid cell (i, j)
  covers ``[j P, (j + 1) P) x [i P, (i + 1) P)`` and is placed at its centre.
- **Stimulus degrees**: from the stimulus centre, x to the right, y **upwards**, linear in
  pixels, ``x_deg = (x - W / 2) / ppd``, ``y_deg = (H / 2 - y) / ppd``: exactly the convention
  of :func:`gazemodels.data.units.add_degrees` (``x_deg``/``y_deg`` columns). These functions are
  its torch twins (batched, differentiable); a test checks that the two agree.
- **Retinal (fixation-relative) degrees**: stimulus degrees minus the fixation. A token at the
  fixation has position (0, 0). Tokens carry these positions, and their embeddings are computed
  from them, so the representation is retinotopic: it changes when the eye moves.

Boxes follow the project's object tables (:mod:`gazemodels.data.aoi`): ``(x, y, w, h)`` in image
pixels, top-left corner.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

__all__ = [
    "FourierPositionEmbedding",
    "ObjectTokenizer",
    "ObjectTokens",
    "PatchTokenizer",
    "PatchTokens",
    "as_px_per_degree",
    "boxes_px_to_deg",
    "check_boxes",
    "deg_to_px",
    "px_to_deg",
]


# ------------------------------------------------------------------------------ units
def as_px_per_degree(px_per_degree, batch: int, device=None, dtype=torch.float32) -> Tensor:
    """Pixels per degree as a (B,) tensor, checked.

    Parameters
    ----------
    px_per_degree : float or Tensor
        One value for the batch or one per batch element, (B,).
    batch : int
        Batch size B.
    device, dtype
        Of the result.

    Returns
    -------
    Tensor
        (B,) positive and finite.

    Raises
    ------
    ValueError
        For a wrong shape or a non-positive or non-finite value.
    """
    t = torch.as_tensor(px_per_degree, dtype=dtype, device=device)
    if t.dim() == 0:
        t = t.expand(batch)
    if t.shape != (batch,):
        raise ValueError(f"px_per_degree must be a number or have shape ({batch},), got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()) or bool((t <= 0).any()):
        raise ValueError(f"px_per_degree must be positive and finite, got {t.tolist()}")
    return t


def px_to_deg(xy_px: Tensor, image_hw: tuple[int, int], px_per_degree: Tensor) -> Tensor:
    """Image pixels (top-left origin, y down) to stimulus degrees (centre origin, y up).

    Parameters
    ----------
    xy_px : Tensor
        (B, ..., 2) points in pixels.
    image_hw : (int, int)
        Stimulus height and width in pixels.
    px_per_degree : Tensor
        (B,) pixels per degree.

    Returns
    -------
    Tensor
        (B, ..., 2) in degrees; the same convention as :func:`gazemodels.data.units.add_degrees`.
    """
    h, w = image_hw
    ppd = px_per_degree.reshape((-1,) + (1,) * (xy_px.dim() - 1))
    x = (xy_px[..., 0:1] - w / 2.0) / ppd
    y = (h / 2.0 - xy_px[..., 1:2]) / ppd
    return torch.cat([x, y], dim=-1)


def deg_to_px(xy_deg: Tensor, image_hw: tuple[int, int], px_per_degree: Tensor) -> Tensor:
    """Stimulus degrees to image pixels; the inverse of :func:`px_to_deg`.

    Parameters
    ----------
    xy_deg : Tensor
        (B, ..., 2) points in degrees from the stimulus centre, y up.
    image_hw : (int, int)
        Stimulus height and width in pixels.
    px_per_degree : Tensor
        (B,) pixels per degree.

    Returns
    -------
    Tensor
        (B, ..., 2) in pixels, top-left origin, y down.
    """
    h, w = image_hw
    ppd = px_per_degree.reshape((-1,) + (1,) * (xy_deg.dim() - 1))
    x = xy_deg[..., 0:1] * ppd + w / 2.0
    y = h / 2.0 - xy_deg[..., 1:2] * ppd
    return torch.cat([x, y], dim=-1)


def boxes_px_to_deg(boxes_px: Tensor, image_hw: tuple[int, int], px_per_degree: Tensor) -> Tensor:
    """``(x, y, w, h)`` pixel boxes (top-left corner) to ``(x, y, w, h)`` boxes in stimulus degrees.

    In degrees y points up, so the corner ``(x, y)`` of the result is the **bottom**-left one
    (the minimum of both coordinates) and ``(x + w / 2, y + h / 2)`` is the centre: the box
    format of :mod:`gazemodels.attention.objects`.

    Parameters
    ----------
    boxes_px : Tensor
        (B, M, 4) boxes in pixels.
    image_hw : (int, int)
        Stimulus height and width.
    px_per_degree : Tensor
        (B,) pixels per degree.

    Returns
    -------
    Tensor
        (B, M, 4): left, bottom, width, height in degrees.
    """
    x, y, w, h = boxes_px.unbind(-1)
    bottom_left = px_to_deg(torch.stack([x, y + h], -1), image_hw, px_per_degree)
    ppd = px_per_degree.reshape((-1,) + (1,) * (boxes_px.dim() - 2))
    return torch.cat([bottom_left, torch.stack([w / ppd, h / ppd], -1)], dim=-1)


# ------------------------------------------------------------------------------ embeddings
class FourierPositionEmbedding(nn.Module):
    """Learned projection of Fourier features of 2-D positions in degrees.

    ``[sin(2 pi f x), cos(2 pi f x), sin(2 pi f y), cos(2 pi f y), x / 10, y / 10]`` for
    ``bands`` frequencies f spaced geometrically from 1/64 to 1/2 cycle per degree (periods of
    2 to 64 degrees, the span from foveal detail to a whole screen), then a linear layer.

    Parameters
    ----------
    width : int
        Output dimension.
    bands : int
        Number of frequencies.
    """

    def __init__(self, width: int, bands: int):
        super().__init__()
        freqs = torch.logspace(math.log10(1.0 / 64.0), math.log10(0.5), bands)
        self.register_buffer("freqs", freqs, persistent=False)
        self.proj = nn.Linear(4 * bands + 2, width)

    def forward(self, pos_deg: Tensor) -> Tensor:
        """Embed positions.

        Parameters
        ----------
        pos_deg : Tensor
            (..., 2) positions in degrees.

        Returns
        -------
        Tensor
            (..., width).
        """
        ang = 2.0 * math.pi * pos_deg[..., None] * self.freqs.to(pos_deg.dtype)  # (..., 2, bands)
        feats = torch.cat([ang.sin().flatten(-2), ang.cos().flatten(-2), pos_deg / 10.0], dim=-1)
        return self.proj(feats)


# ------------------------------------------------------------------------------ patch tokens
class PatchTokens(NamedTuple):
    """Result of :class:`PatchTokenizer`.

    ``tokens`` (B, N, C); ``pos_deg`` (B, N, 2) token centres in stimulus degrees (not yet relative
    to the fixation); ``grid`` the (rows, cols) of the token grid, N = rows * cols, row-major.
    """

    tokens: Tensor
    pos_deg: Tensor
    grid: tuple[int, int]


class PatchTokenizer(nn.Module):
    """Patch tokens from a stem feature map: a strided convolution, plus a retinal position embedding.

    Parameters
    ----------
    in_channels : int
        Channels of the stem's feature map.
    width : int
        Token dimension.
    patch_size : int
        Patch side in image pixels.
    stride : int
        Stride of the feature map in image pixels; divides ``patch_size``.
    bands : int
        Fourier bands of the position embedding.
    """

    def __init__(self, in_channels: int, width: int, patch_size: int, stride: int, bands: int):
        super().__init__()
        if patch_size % stride:
            raise ValueError(f"patch_size ({patch_size}) must be a multiple of the feature stride ({stride})")
        cells = patch_size // stride
        self.patch_size = patch_size
        self.stride = stride
        self.proj = nn.Conv2d(in_channels, width, kernel_size=cells, stride=cells)
        self.pos_embed = FourierPositionEmbedding(width, bands)

    def grid_centres_px(self, grid: tuple[int, int], device=None, dtype=torch.float32) -> Tensor:
        """Centres of the patches of a token grid, in image pixels.

        Parameters
        ----------
        grid : (int, int)
            Rows and columns.
        device, dtype
            Of the result.

        Returns
        -------
        Tensor
            (rows * cols, 2) as (x, y), row-major.
        """
        rows, cols = grid
        P = self.patch_size
        ys = (torch.arange(rows, device=device, dtype=dtype) + 0.5) * P
        xs = (torch.arange(cols, device=device, dtype=dtype) + 0.5) * P
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=-1)

    def forward(
        self, fmap: Tensor, image_hw: tuple[int, int], px_per_degree: Tensor, fixation_deg: Tensor
    ) -> PatchTokens:
        """Tokenize a feature map.

        Parameters
        ----------
        fmap : Tensor
            (B, C_in, H / stride, W / stride).
        image_hw : (int, int)
            Image height and width in pixels, multiples of ``patch_size``.
        px_per_degree : Tensor
            (B,) pixels per degree.
        fixation_deg : Tensor
            (B, 2) fixation in stimulus degrees.

        Returns
        -------
        PatchTokens
            ``tokens`` (B, N, width) with the embedding of the fixation-relative positions added,
            ``pos_deg`` (B, N, 2) in stimulus degrees, ``grid``.
        """
        H, W = image_hw
        P = self.patch_size
        if H % P or W % P:
            raise ValueError(f"image size {H}x{W} px must be a multiple of the patch size {P} px in both dimensions")
        rows, cols = H // P, W // P
        if fmap.shape[-2] * self.stride < H or fmap.shape[-1] * self.stride < W:
            raise ValueError(
                f"feature map of spatial size {tuple(fmap.shape[-2:])} at stride {self.stride} does not cover an "
                f"image of {H}x{W} px"
            )
        cells = P // self.stride
        fmap = fmap[..., : rows * cells, : cols * cells]
        tokens = self.proj(fmap).flatten(2).transpose(1, 2)  # (B, N, C)
        B = tokens.shape[0]
        centres = self.grid_centres_px((rows, cols), device=tokens.device, dtype=tokens.dtype)
        pos_deg = px_to_deg(centres.expand(B, -1, -1), image_hw, px_per_degree.to(tokens.dtype))
        tokens = tokens + self.pos_embed(pos_deg - fixation_deg[:, None, :].to(tokens.dtype))
        return PatchTokens(tokens, pos_deg, (rows, cols))


# ------------------------------------------------------------------------------ object tokens
class ObjectTokens(NamedTuple):
    """Result of :class:`ObjectTokenizer`.

    ``tokens`` (B, M, C); ``pos_deg`` (B, M, 2) box centres in stimulus degrees; ``boxes_deg``
    (B, M, 4) boxes ``(x, y, w, h)`` in fixation-relative degrees, (x, y) the bottom-left
    corner (y up), the format of :mod:`gazemodels.attention.objects`.
    """

    tokens: Tensor
    pos_deg: Tensor
    boxes_deg: Tensor


def check_boxes(boxes_px: Tensor, batch: int) -> None:
    """Raise ValueError unless ``boxes_px`` is a finite (B, M, 4) ``(x, y, w, h)`` tensor with w, h >= 0.

    Parameters
    ----------
    boxes_px : Tensor
        Boxes to check.
    batch : int
        Expected B.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        For another shape, no boxes, a NaN or infinite value, or a negative width or height.
    """
    if not isinstance(boxes_px, Tensor) or boxes_px.dim() != 3 or boxes_px.shape[0] != batch or boxes_px.shape[2] != 4:
        shape = tuple(boxes_px.shape) if isinstance(boxes_px, Tensor) else type(boxes_px).__name__
        raise ValueError(f"boxes must have shape ({batch}, M, 4) as (x, y, w, h) in pixels, got {shape}")
    if boxes_px.shape[1] == 0:
        raise ValueError("boxes must hold at least one box per image (pad with box_mask=False)")
    if not bool(torch.isfinite(boxes_px).all()):
        raise ValueError("boxes contain NaN or infinite values")
    if bool((boxes_px[..., 2:] < 0).any()):
        raise ValueError("boxes must have non-negative width and height (x, y, w, h)")


class ObjectTokenizer(nn.Module):
    """Object tokens: ROI-aligned appearance + box geometry + OAT positional encoding.

    For each box: ``torchvision.ops.roi_align`` pools the stem's feature map into a
    ``roi_size x roi_size`` grid (He et al. 2017), flattened and projected to the token width;
    a small MLP embeds the box geometry in retinal degrees (centre x, y, width, height, log
    area, eccentricity); and the OAT positional encoding of the box (Fang et al. 2024,
    :func:`gazemodels.attention.objects.oat_positional_encoding`) is added.

    Parameters
    ----------
    in_channels : int
        Channels of the stem's feature map.
    width : int
        Token dimension.
    stride : int
        Stride of the feature map in image pixels.
    roi_size : int
        Side of the ROI-align grid.
    oat_sigma_deg : float, default 1.0
        Length scale of the OAT encoding: two objects ``d`` degrees apart have encodings with
        cosine similarity ``exp(-d^2 / (2 sigma^2))`` per axis.
    """

    def __init__(self, in_channels: int, width: int, stride: int, roi_size: int, oat_sigma_deg: float = 1.0):
        super().__init__()
        self.stride = stride
        self.roi_size = roi_size
        self.appearance = nn.Linear(in_channels * roi_size * roi_size, width)
        self.geometry = nn.Sequential(nn.Linear(6, width), nn.GELU(), nn.Linear(width, width))
        self.width = width
        self.oat_sigma_deg = oat_sigma_deg

    def pool(self, fmap: Tensor, boxes_px: Tensor) -> Tensor:
        """ROI-align each box over the feature map.

        Parameters
        ----------
        fmap : Tensor
            (B, C, h, w) feature map of stride ``stride``; cell k covers pixels [k s, (k + 1) s).
        boxes_px : Tensor
            (B, M, 4) boxes ``(x, y, w, h)`` in image pixels.

        Returns
        -------
        Tensor
            (B, M, C, roi_size, roi_size) bilinearly sampled averages over the bins of each box.
        """
        from torchvision.ops import roi_align

        B, M, _ = boxes_px.shape
        x, y, w, h = boxes_px.to(fmap.dtype).unbind(-1)
        xyxy = torch.stack([x, y, x + w, y + h], dim=-1)
        # aligned=True: pixel p maps to feature coordinate p / stride - 0.5, so the centre of
        # feature cell k, which covers pixels [k s, (k + 1) s), is at k (He et al. 2017, v2 fix).
        pooled = roi_align(
            fmap, list(xyxy.unbind(0)), output_size=self.roi_size, spatial_scale=1.0 / self.stride,
            sampling_ratio=2, aligned=True,
        )  # (B * M, C, r, r)
        return pooled.view(B, M, *pooled.shape[1:])

    def forward(
        self,
        fmap: Tensor,
        boxes_px: Tensor,
        image_hw: tuple[int, int],
        px_per_degree: Tensor,
        fixation_deg: Tensor,
    ) -> ObjectTokens:
        """Tokenize boxes.

        Parameters
        ----------
        fmap : Tensor
            (B, C_in, h, w) stem feature map of stride ``stride``.
        boxes_px : Tensor
            (B, M, 4) boxes ``(x, y, w, h)`` in image pixels.
        image_hw : (int, int)
            Image height and width in pixels.
        px_per_degree : Tensor
            (B,).
        fixation_deg : Tensor
            (B, 2) fixation in stimulus degrees.

        Returns
        -------
        ObjectTokens
        """
        from gazemodels.attention.objects import oat_positional_encoding

        B, M, _ = boxes_px.shape
        boxes_px = boxes_px.to(fmap.dtype)
        appearance = self.appearance(self.pool(fmap, boxes_px).flatten(2))

        ppd = px_per_degree.to(fmap.dtype)
        fix = fixation_deg.to(fmap.dtype)
        boxes_deg = boxes_px_to_deg(boxes_px, image_hw, ppd)
        boxes_deg = torch.cat([boxes_deg[..., :2] - fix[:, None, :], boxes_deg[..., 2:]], dim=-1)  # retinal
        size = boxes_deg[..., 2:]
        centre = boxes_deg[..., :2] + 0.5 * size
        log_area = torch.log((size[..., 0] * size[..., 1]).clamp_min(1e-4))
        ecc = torch.linalg.vector_norm(centre, dim=-1)
        geom = torch.cat([centre / 10.0, size / 10.0, log_area[..., None], ecc[..., None] / 10.0], dim=-1)
        # OAT's encoding has unit-norm rows; times sqrt(width) its entries have unit RMS, the scale
        # of the other two terms and of sinusoidal encodings.
        oat = oat_positional_encoding(boxes_deg, self.width, sigma=self.oat_sigma_deg) * math.sqrt(self.width)
        tokens = appearance + self.geometry(geom) + oat.to(fmap.dtype)
        pos_deg = centre + fix[:, None, :]
        return ObjectTokens(tokens, pos_deg, boxes_deg)
