"""``GazeBackbone``: the transformer shared by the four model families.

image ──stem──► feature map ──tokenizer──► tokens + positions (deg) ──blocks──► tokens
                                   ▲                                     ▲
                    fixation (retinal positions)          fixation (sigma_i), target (FiLM / token)

Conditioning
------------
- **Fixation.** Token positions are retinal: degrees relative to the current fixation, and
  their Fourier embedding is added to the tokens, so the features depend on where the eye is.
  Eccentricity-aware attention widens each query's Gaussian with its eccentricity
  ``|p_i - f|`` (``sigma_i = sigma0 + slope * |p_i - f|``), so pooling is fine in the fovea and
  coarse in the periphery (eccNET, Gupta et al. 2021).
- **Target** (visual search), a template image encoded by the same stem (global average of its
  feature map, projected), or an embedding of size ``config.target_dim``. Two ways:

  * ``conditioning="film"``: before every block, ``x <- x * (1 + gamma_l(t)) + beta_l(t)``
    (FiLM, Perez et al. 2018). A channel-wise gain set by the target is the
    feature-similarity gain of top-down attention (Treue & Martinez-Trujillo 1999) and plays
    the role of eccNET's target-modulation of the search features (Gupta et al. 2021) without
    tying the target's size to a convolution kernel. It works with every attention kind, and
    is the choice for eccentricity-aware attention.
  * ``conditioning="token"``: the target is one more token that every token attends to, as in
    OAT (Fang et al. 2024), whose encoder reads the target next to the object tokens. A target
    has no place in the visual field, so this needs ``"dense"`` attention, or ``"object"``
    attention without the eccentricity window (``object_eccentricity=False``).

Checkpoints hold the config; :meth:`GazeBackbone.load` rebuilds the network from it and refuses
a checkpoint whose config differs from the one the caller expects.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gazemodels.backbone.blocks import AttentionContext, Block
from gazemodels.backbone.config import BackboneConfig, BackboneConfigError
from gazemodels.backbone.stems import build_stem, prepare_image
from gazemodels.backbone.tokens import (
    ObjectTokenizer,
    PatchTokenizer,
    as_px_per_degree,
    check_boxes,
    px_to_deg,
)
from gazemodels.errors import GazemodelsError

__all__ = ["CHECKPOINT_FORMAT", "BackboneOutput", "CheckpointError", "GazeBackbone"]

CHECKPOINT_FORMAT = "gazemodels.backbone.GazeBackbone/1"
"""Tag stored in every checkpoint."""

_INIT_ONLY_FIELDS = ("pretrained", "attention_impl")
"""Config fields that do not change the network's parameters; a checkpoint may differ in them."""


class CheckpointError(GazemodelsError, ValueError):
    """A file is not a GazeBackbone checkpoint, or its tensors do not fit the network."""


@dataclass
class BackboneOutput:
    """What :meth:`GazeBackbone.forward` returns.

    Attributes
    ----------
    tokens : Tensor
        (B, N, C) output tokens: patches (row-major over :attr:`grid`) or objects (box order).
    positions_deg : Tensor
        (B, N, 2) token positions in retinal degrees: relative to the fixation, x right, y up.
        A token at the fixation has position (0, 0).
    fixation_deg : Tensor
        (B, 2) fixation in stimulus degrees (from the stimulus centre, y up).
    token_kind : str
        ``"patch"`` or ``"object"``.
    grid : (int, int) or None
        Rows and columns of the patch grid (patch tokens only).
    mask : Tensor or None
        (B, N) bool, True for real objects, False for padding (object tokens only).
    target_token : Tensor or None
        (B, C) output of the target token (``conditioning="token"`` only).
    boxes_deg : Tensor or None
        (B, N, 4) object boxes ``(x, y, w, h)`` in retinal degrees, (x, y) the bottom-left corner
        (y up), as :mod:`gazemodels.attention.objects` takes them (object tokens only).
    """

    tokens: Tensor
    positions_deg: Tensor
    fixation_deg: Tensor
    token_kind: str
    grid: tuple[int, int] | None = None
    mask: Tensor | None = None
    target_token: Tensor | None = None
    boxes_deg: Tensor | None = None

    def as_map(self) -> Tensor:
        """Patch tokens as a feature map.

        Returns
        -------
        Tensor
            (B, C, rows, cols).

        Raises
        ------
        ValueError
            For object tokens.
        """
        if self.grid is None:
            raise ValueError("as_map needs patch tokens; these are object tokens")
        B, N, C = self.tokens.shape
        return self.tokens.transpose(1, 2).reshape(B, C, *self.grid)

    def pooled(self) -> Tensor:
        """Mean over the (real) tokens.

        Returns
        -------
        Tensor
            (B, C).
        """
        if self.mask is None:
            return self.tokens.mean(1)
        w = self.mask.to(self.tokens.dtype)[..., None]
        return (self.tokens * w).sum(1) / w.sum(1).clamp_min(1.0)


class GazeBackbone(nn.Module):
    """Eccentricity-aware / object-level transformer over an image seen from a fixation.

    Parameters
    ----------
    config : BackboneConfig, optional
        The architecture; the default config when omitted.
    **overrides
        Config fields to change, e.g. ``GazeBackbone(depth=2, attention="dense")``.

    Examples
    --------
    >>> import torch
    >>> bb = GazeBackbone(depth=1, width=32, heads=2, patch_size=8, attention="dense")
    >>> out = bb(torch.rand(1, 3, 32, 48), fixation_px=torch.tensor([[24.0, 16.0]]), px_per_degree=8.0)
    >>> out.tokens.shape, out.grid
    (torch.Size([1, 24, 32]), (4, 6))
    """

    def __init__(self, config: BackboneConfig | None = None, **overrides):
        super().__init__()
        config = config if config is not None else BackboneConfig()
        if not isinstance(config, BackboneConfig):
            raise BackboneConfigError(f"config must be a BackboneConfig, got {type(config).__name__}")
        if overrides:
            config = config.replace(**overrides)
        self.config = config
        C = config.width
        self.stem = build_stem(config)
        if config.token_kind == "patch":
            self.patch_tokens = PatchTokenizer(
                config.feature_channels, C, config.patch_size, config.feature_stride, config.fourier_bands
            )
        else:
            from gazemodels.attention.objects import BoxRelationBias

            self.object_tokens = ObjectTokenizer(
                config.feature_channels, C, config.feature_stride, config.roi_size, config.oat_sigma_deg
            )
            # One relation bias (Hu et al. 2018) for all blocks, computed once per forward pass;
            # it starts at zero, i.e. as plain (eccentricity-aware) attention over objects.
            self.box_bias = BoxRelationBias(config.heads)
        if config.conditioning != "none":
            self.target_image_proj = nn.Sequential(nn.Linear(config.feature_channels, C), nn.LayerNorm(C))
            self.target_embed_proj = (
                nn.Sequential(nn.Linear(config.target_dim, C), nn.LayerNorm(C)) if config.target_dim else None
            )
        if config.conditioning == "film":
            self.film = nn.ModuleList(nn.Linear(C, 2 * C) for _ in range(config.depth))
            for lin in self.film:  # start near the identity, x * (1 + gamma) + beta with small gamma, beta
                nn.init.normal_(lin.weight, std=0.02)
                nn.init.zeros_(lin.bias)
        if config.conditioning == "token":
            self.target_type = nn.Parameter(torch.zeros(C))  # marks the target token
            nn.init.normal_(self.target_type, std=0.02)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        # eccNET mode is pooling all the way: no normalisation of the output either.
        self.norm = nn.Identity() if config.pooling_only else nn.LayerNorm(C)

    # ------------------------------------------------------------------ inputs
    def _feature_map(self, image, features, image_hw) -> tuple[Tensor, tuple[int, int]]:
        if (image is None) == (features is None):
            raise ValueError("give exactly one of image (B, 3, H, W) or features (B, C, h, w)")
        if image is not None:
            image = prepare_image(image)
            return self.stem(image), (int(image.shape[-2]), int(image.shape[-1]))
        cfg = self.config
        if not isinstance(features, Tensor) or features.dim() != 4 or features.shape[1] != cfg.feature_channels:
            shape = tuple(features.shape) if isinstance(features, Tensor) else type(features).__name__
            raise ValueError(
                f"features must be a stem feature map of shape (B, {cfg.feature_channels}, h, w), got {shape}"
            )
        if image_hw is None:
            image_hw = (features.shape[-2] * cfg.feature_stride, features.shape[-1] * cfg.feature_stride)
        return features, (int(image_hw[0]), int(image_hw[1]))

    @staticmethod
    def _fixation(fixation_deg, fixation_px, image_hw, ppd: Tensor, batch: int) -> Tensor:
        if (fixation_deg is None) == (fixation_px is None):
            raise ValueError("give exactly one of fixation_deg (stimulus degrees) or fixation_px (image pixels)")
        name, f = ("fixation_deg", fixation_deg) if fixation_deg is not None else ("fixation_px", fixation_px)
        f = torch.as_tensor(f, dtype=ppd.dtype, device=ppd.device)
        if f.shape == (2,):
            f = f.expand(batch, 2)
        if f.shape != (batch, 2):
            raise ValueError(f"{name} must have shape ({batch}, 2) or (2,), got {tuple(f.shape)}")
        if not bool(torch.isfinite(f).all()):
            raise ValueError(f"{name} contains NaN or infinite values: {f.tolist()}")
        if fixation_px is not None:
            f = px_to_deg(f, image_hw, ppd)
        return f

    def encode_target(self, target: Tensor) -> Tensor:
        """Embed a search target.

        Parameters
        ----------
        target : Tensor
            A template image (B, 3 or 1, h, w) with values in [0, 1], encoded by the backbone's
            own stem and averaged over space; or an embedding (B, config.target_dim).

        Returns
        -------
        Tensor
            (B, width).

        Raises
        ------
        ValueError
            Without target conditioning, or for a target of the wrong shape.
        """
        cfg = self.config
        if cfg.conditioning == "none":
            raise ValueError("this backbone has conditioning='none' and takes no target")
        if isinstance(target, Tensor) and target.dim() == 4:
            return self.target_image_proj(self.stem(prepare_image(target)).mean(dim=(-2, -1)))
        if isinstance(target, Tensor) and target.dim() == 2:
            if not cfg.target_dim or target.shape[1] != cfg.target_dim:
                raise ValueError(
                    f"a target embedding must have shape (B, target_dim={cfg.target_dim}), got {tuple(target.shape)}"
                    + ("; set config.target_dim to accept embeddings" if not cfg.target_dim else "")
                )
            return self.target_embed_proj(target)
        shape = tuple(target.shape) if isinstance(target, Tensor) else type(target).__name__
        raise ValueError(f"target must be an image (B, 3, h, w) or an embedding (B, target_dim), got {shape}")

    # ------------------------------------------------------------------ transformer
    def encode(
        self,
        tokens: Tensor,
        pos_deg: Tensor,
        fixation_deg: Tensor,
        bias: Tensor | None = None,
        mask: Tensor | None = None,
        target_embedding: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Run the blocks on given tokens (the transformer without the tokenizer).

        Parameters
        ----------
        tokens : Tensor
            (B, N, width).
        pos_deg : Tensor
            (N, 2) or (B, N, 2) token positions in stimulus degrees.
        fixation_deg : Tensor
            (B, 2) fixation in stimulus degrees.
        bias : Tensor, optional
            (B or 1, H or 1, N, N) additive attention bias.
        mask : Tensor, optional
            (B, N) bool; False tokens are never attended to (padding).
        target_embedding : Tensor, optional
            (B, width), from :meth:`encode_target`; required with target conditioning.

        Returns
        -------
        tokens : Tensor
            (B, N, width).
        target_token : Tensor or None
            (B, width) with ``conditioning="token"``, else None.
        """
        cfg = self.config
        B, N, C = tokens.shape
        if (cfg.conditioning == "none") != (target_embedding is None):
            raise ValueError(
                "a target is required with conditioning=" + repr(cfg.conditioning)
                if target_embedding is None
                else "this backbone has conditioning='none' and takes no target"
            )
        x = tokens
        if mask is not None and (mask.shape != (B, N) or mask.dtype != torch.bool):
            raise ValueError(f"mask must be a bool tensor of shape ({B}, {N}), got {mask.dtype} {tuple(mask.shape)}")
        if cfg.conditioning == "token":
            x = torch.cat([(target_embedding + self.target_type)[:, None, :], x], dim=1)
            if bias is not None:  # the target token relates to every token with bias 0
                bias = nn.functional.pad(bias, (1, 0, 1, 0))
            if mask is not None:
                mask = nn.functional.pad(mask, (1, 0), value=True)
            pos = pos_deg if pos_deg.dim() == 3 else pos_deg.expand(B, -1, -1)
            pos_deg = torch.cat([fixation_deg[:, None, :].to(pos.dtype), pos], dim=1)  # unused by dense attention
        if mask is not None:
            # Padding keys are masked out for every query; each token still sees itself, so no
            # row is empty.
            n = x.shape[1]
            pad = torch.zeros(B, 1, n, n, dtype=x.dtype, device=x.device)
            pad = pad.masked_fill(~mask[:, None, None, :], -math.inf)
            pad = pad.masked_fill(torch.eye(n, dtype=torch.bool, device=x.device), 0.0)
            bias = pad if bias is None else bias + pad
        ctx = AttentionContext(pos_deg, fixation_deg, bias)
        for i, block in enumerate(self.blocks):
            if cfg.conditioning == "film":
                # FiLM (Perez et al. 2018): target-dependent channel-wise gain and shift.
                gamma, beta = self.film[i](target_embedding).chunk(2, dim=-1)
                x = x * (1.0 + gamma[:, None, :]) + beta[:, None, :]
            x = block(x, ctx)
        x = self.norm(x)
        if cfg.conditioning == "token":
            return x[:, 1:], x[:, 0]
        return x, None

    def forward(
        self,
        image: Tensor | None = None,
        *,
        features: Tensor | None = None,
        fixation_deg=None,
        fixation_px=None,
        px_per_degree,
        boxes: Tensor | None = None,
        box_mask: Tensor | None = None,
        target: Tensor | None = None,
        image_hw: tuple[int, int] | None = None,
    ) -> BackboneOutput:
        """Tokens of an image seen from a fixation.

        Parameters
        ----------
        image : Tensor, optional
            (B, 3 or 1, H, W), values in [0, 1]; H and W multiples of ``config.patch_size`` for
            patch tokens.
        features : Tensor, optional
            Instead of ``image``: a precomputed stem feature map (B, feature_channels, h, w).
        fixation_deg : Tensor, optional
            (B, 2) or (2,) fixation in stimulus degrees (from the centre, y up), as the
            ``x_deg``/``y_deg`` columns of :func:`gazemodels.data.units.add_degrees`.
        fixation_px : Tensor, optional
            Instead of ``fixation_deg``: (B, 2) or (2,) in image pixels (top-left origin, y down),
            as the fixation table's ``x``, ``y``.
        px_per_degree : float or Tensor
            Pixels per degree of the stimulus, one value or (B,).
        boxes : Tensor, optional
            (B, M, 4) object boxes ``(x, y, w, h)`` in image pixels (top-left corner); required
            by object attention, refused otherwise.
        box_mask : Tensor, optional
            (B, M) bool, False for padding boxes.
        target : Tensor, optional
            Template image (B, 3 or 1, h, w) or embedding (B, target_dim); required with target
            conditioning, refused without.
        image_hw : (int, int), optional
            Image size in pixels when ``features`` are given (default: feature size x stride).

        Returns
        -------
        BackboneOutput
        """
        cfg = self.config
        fmap, image_hw = self._feature_map(image, features, image_hw)
        B = fmap.shape[0]
        ppd = as_px_per_degree(px_per_degree, B, device=fmap.device, dtype=torch.float32)
        fix = self._fixation(fixation_deg, fixation_px, image_hw, ppd, B)
        emb = None
        if target is not None or cfg.conditioning != "none":
            if target is None:
                raise ValueError(f"a target (image or embedding) is required with conditioning={cfg.conditioning!r}")
            emb = self.encode_target(target)
            if emb.shape[0] != B:
                raise ValueError(f"target batch size {emb.shape[0]} differs from the image batch size {B}")
        if cfg.token_kind == "patch":
            if boxes is not None or box_mask is not None:
                raise ValueError(f"boxes are tokenized by object attention; this backbone has attention={cfg.attention!r}")
            tok = self.patch_tokens(fmap, image_hw, ppd, fix)
            x, target_token = self.encode(tok.tokens, tok.pos_deg, fix, target_embedding=emb)
            return BackboneOutput(
                tokens=x, positions_deg=tok.pos_deg - fix[:, None, :], fixation_deg=fix, token_kind="patch",
                grid=tok.grid, target_token=target_token,
            )
        if boxes is None:
            raise ValueError("object attention needs boxes (B, M, 4) as (x, y, w, h) in pixels")
        check_boxes(boxes, B)
        M = boxes.shape[1]
        if box_mask is None:
            box_mask = torch.ones(B, M, dtype=torch.bool, device=fmap.device)
        elif not isinstance(box_mask, Tensor) or box_mask.shape != (B, M) or box_mask.dtype != torch.bool:
            raise ValueError(f"box_mask must be a bool tensor of shape ({B}, {M})")
        tok = self.object_tokens(fmap, boxes, image_hw, ppd, fix)
        bias = self.box_bias(tok.boxes_deg)
        x, target_token = self.encode(tok.tokens, tok.pos_deg, fix, bias=bias, mask=box_mask, target_embedding=emb)
        return BackboneOutput(
            tokens=x, positions_deg=tok.pos_deg - fix[:, None, :], fixation_deg=fix, token_kind="object",
            mask=box_mask, target_token=target_token, boxes_deg=tok.boxes_deg,
        )

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | os.PathLike) -> None:
        """Save the config and the weights to one file.

        Parameters
        ----------
        path : str or os.PathLike
        """
        torch.save(
            {"format": CHECKPOINT_FORMAT, "config": self.config.to_dict(), "state_dict": self.state_dict()}, path
        )

    @staticmethod
    def _read_checkpoint(path, map_location) -> tuple[BackboneConfig, dict]:
        try:
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
        except FileNotFoundError:
            raise
        except Exception as e:  # unpickling errors come in many types
            raise CheckpointError(f"{path}: not a readable GazeBackbone checkpoint ({type(e).__name__}: {e})") from e
        if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT or "config" not in ckpt:
            raise CheckpointError(f"{path}: not a GazeBackbone checkpoint (expected format {CHECKPOINT_FORMAT!r})")
        try:
            config = BackboneConfig.from_dict(ckpt["config"])
        except BackboneConfigError as e:
            raise CheckpointError(f"{path}: the stored config is invalid: {e}") from e
        return config, ckpt["state_dict"]

    @staticmethod
    def _check_same(expected: BackboneConfig, stored: BackboneConfig, path) -> None:
        diff = {k: v for k, v in expected.diff(stored).items() if k not in _INIT_ONLY_FIELDS}
        if diff:
            lines = ", ".join(f"{k}: expected {a!r}, checkpoint has {b!r}" for k, (a, b) in sorted(diff.items()))
            raise BackboneConfigError(f"{path}: checkpoint config does not match ({lines})")

    def _load_state(self, state_dict: dict, path) -> None:
        try:
            self.load_state_dict(state_dict, strict=True)
        except RuntimeError as e:
            raise CheckpointError(f"{path}: the stored weights do not fit the network: {e}") from e

    @classmethod
    def load(
        cls, path: str | os.PathLike, config: BackboneConfig | None = None, map_location="cpu"
    ) -> GazeBackbone:
        """Rebuild a backbone from a checkpoint written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
        config : BackboneConfig, optional
            The config the caller expects; the checkpoint is refused if its config differs in a
            field that shapes the network (all but ``pretrained`` and ``attention_impl``, which
            are taken from ``config``).
        map_location : default "cpu"
            Passed to :func:`torch.load`.

        Returns
        -------
        GazeBackbone
            In eval mode.

        Raises
        ------
        BackboneConfigError
            If ``config`` is given and does not match the stored config.
        CheckpointError
            If the file is not a GazeBackbone checkpoint or its weights do not fit.
        """
        stored, state = cls._read_checkpoint(path, map_location)
        if config is not None:
            cls._check_same(config, stored, path)
            stored = stored.replace(**{k: getattr(config, k) for k in _INIT_ONLY_FIELDS})
        # The stored weights replace the ImageNet ones; no need to read them first.
        model = cls(stored.replace(pretrained=False))
        model.config = stored
        model._load_state(state, path)
        return model.eval()

    def load_checkpoint(self, path: str | os.PathLike, map_location="cpu") -> GazeBackbone:
        """Load a checkpoint's weights into this backbone, refusing one with another config.

        Parameters
        ----------
        path : str or os.PathLike
        map_location : default "cpu"

        Returns
        -------
        GazeBackbone
            self.

        Raises
        ------
        BackboneConfigError
            If the checkpoint's config does not match ``self.config``.
        CheckpointError
            If the file is not a GazeBackbone checkpoint or its weights do not fit.
        """
        stored, state = self._read_checkpoint(path, map_location)
        self._check_same(self.config, stored, path)
        self._load_state(state, path)
        return self
