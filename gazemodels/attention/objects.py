"""Object-level attention: a box-geometry relation bias and the OAT positional encoding.

Object tokens carry boxes. They go through the same operation as patch tokens,
:func:`gazemodels.attention.ecc_attention`, with ``pos`` the box centres in degrees (so the
eccentricity-dependent window applies to objects too) and ``bias`` the additive relation
bias of :class:`BoxRelationBias`, computed from the geometry of every pair of boxes:

- the distance between the centres, in degrees of visual angle;
- the relative size, ``log(w_j / w_i)`` and ``log(h_j / h_i)``;
- the overlap, intersection over union.

Spatial relations between objects guide where attention goes next (objects, not pixels,
are the units of attention in visual search: Fang et al. 2024, OAT). The bias follows the
relation-network idea of Hu et al. 2018 ("Relation networks for object detection"), which
also feeds log size ratios and centre offsets of box pairs into per-head attention weights.

Positional encoding
-------------------
:func:`oat_positional_encoding` follows OAT (Fang, Yu, Zhang, van der Lans & Shi 2024,
"OAT: Object-Level Attention Transformer for Gaze Scanpath Prediction", ECCV; code at
github.com/HKUST-NISL/oat_eccv24). OAT does **not** use DETR's sinusoidal encoding: its
"distance-based" encoding gives every grid coordinate of an object (shelf row, column) a
vector whose cosine similarity to the vector of another coordinate is a Gaussian of their
difference, ``exp(-(i - j)^2 / (2 sigma^2))`` (sigma = 2 grid cells in their code), with
equal norms, and concatenates the per-axis vectors. OAT obtains the vectors by fitting a
lookup table over the discrete shelf positions by gradient descent. Object positions here
are continuous (degrees), so the same property is built in closed form: per axis,
``[cos(w_k x), sin(w_k x)] / sqrt(m)`` with frequencies ``w_k`` at the quantiles of a
normal law of standard deviation ``1 / sigma`` (deterministic Fourier features; Rahimi &
Recht 2007 with quadrature instead of random draws), whose dot product is
``mean_k cos(w_k (x - x'))``, close to ``exp(-(x - x')^2 / (2 sigma^2))``. The x and y parts
(and, optionally, log width and log height) are concatenated and scaled to unit norm, so
the cosine similarity of two encodings is the mean of the per-axis Gaussians, as in OAT.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import torch
from torch import Tensor, nn

__all__ = [
    "BoxRelationBias",
    "box_centres",
    "box_relation_bias",
    "box_relation_features",
    "check_boxes",
    "oat_positional_encoding",
]

RELATION_FEATURES = ("centre_distance_deg", "log_width_ratio", "log_height_ratio", "iou")
"""Names of the pairwise features, in the order of the last axis of :func:`box_relation_features`."""

MIN_SIZE_DEG = 1e-3
"""Sizes are clamped to this (degrees) before taking logs, so that degenerate boxes stay finite."""


def check_boxes(boxes) -> Tensor:
    """Validate boxes ``(x, y, w, h)`` in degrees and return them as a (B, M, 4) tensor.

    Parameters
    ----------
    boxes : Tensor
        (M, 4) or (B, M, 4): top-left corner, width and height in degrees of visual angle
        (the object-table convention of :mod:`gazemodels.data.aoi`, converted to degrees).

    Returns
    -------
    Tensor
        (B, M, 4) floating point (a leading batch axis is added to (M, 4)).

    Raises
    ------
    ValueError
        If the shape is wrong, a value is NaN or infinite, or a width or height is negative.
    """
    if not isinstance(boxes, Tensor):
        raise ValueError(f"boxes must be a tensor of shape (M, 4) or (B, M, 4), got {type(boxes).__name__}")
    if boxes.dim() == 2:
        boxes = boxes.unsqueeze(0)
    if boxes.dim() != 3 or boxes.shape[-1] != 4:
        raise ValueError(f"boxes must have shape (M, 4) or (B, M, 4) as (x, y, w, h), got {tuple(boxes.shape)}")
    if not boxes.is_floating_point():
        boxes = boxes.float()
    if not bool(torch.isfinite(boxes).all()):
        raise ValueError(f"boxes of shape {tuple(boxes.shape)} contain NaN or infinite values")
    if bool((boxes[..., 2:] < 0).any()):
        raise ValueError("boxes must have width and height >= 0 (format x, y, w, h)")
    return boxes


def box_centres(boxes) -> Tensor:
    """Centres of boxes ``(x, y, w, h)``: the ``pos`` of object tokens.

    Parameters
    ----------
    boxes : Tensor
        (M, 4) or (B, M, 4), degrees.

    Returns
    -------
    Tensor
        (B, M, 2), degrees.
    """
    b = check_boxes(boxes)
    return b[..., :2] + 0.5 * b[..., 2:]


def box_relation_features(boxes) -> Tensor:
    """Pairwise geometric relations between boxes.

    Parameters
    ----------
    boxes : Tensor
        (M, 4) or (B, M, 4) as ``(x, y, w, h)`` in degrees.

    Returns
    -------
    Tensor
        (B, M, M, 4): for query box i and key box j, the centre distance in degrees,
        ``log(w_j / w_i)``, ``log(h_j / h_i)`` and the IoU (see :data:`RELATION_FEATURES`).
        Distance and IoU are symmetric, the log ratios antisymmetric; the diagonal is
        ``(0, 0, 0, 1)`` (``0`` IoU for an empty box).
    """
    b = check_boxes(boxes)
    xy, wh = b[..., :2], b[..., 2:]
    c = xy + 0.5 * wh
    diff = c[:, :, None, :] - c[:, None, :, :]
    dist = torch.sqrt((diff * diff).sum(-1) + 1e-12) * (1 - torch.eye(b.shape[1], dtype=b.dtype, device=b.device))
    logwh = torch.log(wh.clamp_min(MIN_SIZE_DEG))
    log_ratio = logwh[:, None, :, :] - logwh[:, :, None, :]  # [b, i, j] = log wh_j - log wh_i
    lo = torch.maximum(xy[:, :, None, :], xy[:, None, :, :])
    hi = torch.minimum((xy + wh)[:, :, None, :], (xy + wh)[:, None, :, :])
    inter = (hi - lo).clamp_min(0).prod(-1)
    area = wh.prod(-1)
    union = area[:, :, None] + area[:, None, :] - inter
    iou = torch.where(union > 0, inter / union.clamp_min(1e-12), torch.zeros_like(union))
    return torch.stack([dist, log_ratio[..., 0], log_ratio[..., 1], iou], -1)


def _key_mask(valid, B: int, M: int, device) -> Tensor | None:
    if valid is None:
        return None
    valid = torch.as_tensor(valid, device=device)
    if valid.dim() == 1:
        valid = valid.unsqueeze(0)
    if valid.shape not in ((B, M), (1, M)) or valid.dtype != torch.bool:
        raise ValueError(f"valid must be a bool tensor of shape ({B}, {M}) or ({M},), got {valid.dtype} {tuple(valid.shape)}")
    return valid


def box_relation_bias(boxes, weights: Tensor, valid=None) -> Tensor:
    """Linear per-head relation bias: ``bias[b, h, i, j] = features[b, i, j] @ weights[:, h]``.

    Parameters
    ----------
    boxes : Tensor
        (M, 4) or (B, M, 4) as ``(x, y, w, h)`` in degrees.
    weights : Tensor
        (4, H): one weight per relation feature (:data:`RELATION_FEATURES`) and head.
    valid : Tensor, optional
        Bool (B, M) or (M,): False marks padding objects, which get ``-inf`` as keys.

    Returns
    -------
    Tensor
        (B, H, M, M), for the ``bias`` argument of :func:`gazemodels.attention.ecc_attention`.

    Raises
    ------
    ValueError
        On bad boxes, a ``weights`` shape other than (4, H), or a bad ``valid`` mask.
    """
    feats = box_relation_features(boxes)
    if not isinstance(weights, Tensor) or weights.dim() != 2 or weights.shape[0] != len(RELATION_FEATURES):
        raise ValueError(f"weights must have shape ({len(RELATION_FEATURES)}, H), got {getattr(weights, 'shape', weights)}")
    bias = torch.einsum("bijf,fh->bhij", feats.to(weights.dtype), weights)
    mask = _key_mask(valid, bias.shape[0], bias.shape[-1], bias.device)
    if mask is not None:
        bias = bias.masked_fill(~mask[:, None, None, :], -math.inf)
    return bias


class BoxRelationBias(nn.Module):
    """Learnable additive attention bias from the geometry of object boxes.

    Each pair of boxes is described by :func:`box_relation_features` (centre distance in
    degrees, log relative width and height, IoU), mapped to one bias per head by a linear
    map (``hidden=0``) or a tiny MLP (``4 -> hidden -> H``, GELU). The output layer starts
    at zero, so a fresh module leaves object attention equal to plain eccentricity-aware
    attention until training moves it.

    Parameters
    ----------
    n_heads : int
        Number of attention heads H.
    hidden : int, default 16
        Hidden width of the MLP; 0 for a linear map.

    Examples
    --------
    >>> import torch
    >>> rel = BoxRelationBias(n_heads=4)
    >>> boxes = torch.tensor([[0.0, 0.0, 2.0, 1.0], [1.0, 0.5, 2.0, 2.0], [6.0, 3.0, 1.0, 1.0]])
    >>> rel(boxes).shape
    torch.Size([1, 4, 3, 3])
    """

    def __init__(self, n_heads: int, hidden: int = 16):
        super().__init__()
        if not isinstance(n_heads, int) or n_heads < 1:
            raise ValueError(f"n_heads must be a positive int, got {n_heads!r}")
        if not isinstance(hidden, int) or hidden < 0:
            raise ValueError(f"hidden must be an int >= 0, got {hidden!r}")
        self.n_heads = n_heads
        self.hidden = hidden
        n_feat = len(RELATION_FEATURES)
        if hidden:
            self.net = nn.Sequential(nn.Linear(n_feat, hidden), nn.GELU(), nn.Linear(hidden, n_heads))
        else:
            self.net = nn.Linear(n_feat, n_heads)
        out = self.net[-1] if hidden else self.net
        nn.init.zeros_(out.weight)
        nn.init.zeros_(out.bias)

    def forward(self, boxes, valid=None) -> Tensor:
        """Relation bias for ``ecc_attention(..., bias=...)``.

        Parameters
        ----------
        boxes : Tensor
            (M, 4) or (B, M, 4) as ``(x, y, w, h)`` in degrees.
        valid : Tensor, optional
            Bool (B, M) or (M,): False marks padding objects (masked as keys with ``-inf``).

        Returns
        -------
        Tensor
            (B, H, M, M).
        """
        feats = box_relation_features(boxes)
        w = self.net[0].weight if self.hidden else self.net.weight
        bias = self.net(feats.to(w.dtype)).permute(0, 3, 1, 2)  # (B, H, M, M)
        mask = _key_mask(valid, bias.shape[0], bias.shape[-1], bias.device)
        if mask is not None:
            bias = bias.masked_fill(~mask[:, None, None, :], -math.inf)
        return bias

    def extra_repr(self) -> str:
        """Heads and hidden width."""
        return f"n_heads={self.n_heads}, hidden={self.hidden}"


def _gaussian_frequencies(m: int, sigma: float) -> list[float]:
    """``m`` quantiles of |N(0, 1/sigma^2)|: E cos(w d) over them ~ exp(-d^2 / (2 sigma^2))."""
    nd = NormalDist()
    return [nd.inv_cdf(0.5 + 0.5 * (k + 0.5) / m) / sigma for k in range(m)]


def oat_positional_encoding(boxes, dim: int, sigma: float = 1.0, with_size: bool = False) -> Tensor:
    """OAT-style distance-preserving positional encoding of object positions.

    Parameters
    ----------
    boxes : Tensor
        (M, 4) or (B, M, 4) as ``(x, y, w, h)`` in degrees; the box centre is encoded.
    dim : int
        Encoding width; a multiple of 4 (of 8 with ``with_size``).
    sigma : float, default 1.0
        Length scale in degrees (in log units for the sizes): the per-axis cosine
        similarity of two encodings is ``exp(-(x - x')^2 / (2 sigma^2))``.
    with_size : bool, default False
        Also encode ``log w`` and ``log h`` (OAT encodes positions only).

    Returns
    -------
    Tensor
        (B, M, dim), unit-norm rows; ``enc_i . enc_j`` is the mean over the encoded axes
        of the Gaussian of the coordinate difference (Fang et al. 2024, see module notes).

    Raises
    ------
    ValueError
        On bad boxes, a ``dim`` that does not split into cos/sin pairs per axis, or
        ``sigma <= 0``.
    """
    b = check_boxes(boxes)
    n_axes = 4 if with_size else 2
    if not isinstance(dim, int) or dim <= 0 or dim % (2 * n_axes):
        raise ValueError(f"dim must be a positive multiple of {2 * n_axes} ({n_axes} axes x cos/sin), got {dim!r}")
    if not (isinstance(sigma, (int, float)) and sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be a positive float, got {sigma!r}")
    m = dim // (2 * n_axes)
    freqs = torch.tensor(_gaussian_frequencies(m, float(sigma)), dtype=b.dtype, device=b.device)
    coords = [b[..., 0] + 0.5 * b[..., 2], b[..., 1] + 0.5 * b[..., 3]]
    if with_size:
        coords += [torch.log(b[..., 2].clamp_min(MIN_SIZE_DEG)), torch.log(b[..., 3].clamp_min(MIN_SIZE_DEG))]
    parts = []
    for x in coords:
        phase = x[..., None] * freqs
        parts += [torch.cos(phase), torch.sin(phase)]
    # Each axis contributes norm^2 = 1 before this scale; the whole vector has unit norm.
    return torch.cat(parts, -1) / math.sqrt(m * n_axes)
