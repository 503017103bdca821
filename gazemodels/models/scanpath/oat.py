"""Object-level scanpath model after OAT (Fang et al. 2024): objects as tokens, a pointer decoder.

OAT ("Object-level Attention Transformer", Fang, Yu, Zhang, van der Lans & Shi, ECCV 2024)
predicts a search scanpath as a sequence of *objects*. This module follows its design on
the project's backbone (:mod:`gazemodels.backbone`):

Encoder
    One token per object: appearance from ROI-align over the image where an image exists
    (OAT crops each object and runs a small CNN), box geometry, and the OAT distance-preserving
    positional encoding of the box centre (:func:`gazemodels.attention.oat_positional_encoding`);
    plus a target token. :class:`~gazemodels.backbone.GazeBackbone` with ``attention="object",
    object_eccentricity=False, conditioning="token"`` runs the transformer encoder over them,
    with the box-relation attention bias of :mod:`gazemodels.attention.objects`. Positions are
    relative to the display centre, where OAT's start token sits.
Target
    OAT's target token is the target object itself: its appearance and its position, flagged
    as the target; and every object token (and history token) that is the target carries the
    same flag (the third coordinate of OAT's position input). Here the target token is the sum
    of an embedding of the target box (``target_location``) and of the template image encoded
    by the backbone's stem (``target_template``); the flag is a learned vector added to the
    target's object token (``target_location``).
Decoder
    A transformer decoder over the fixated-object history (a start token at the display
    centre, then the tokens of the fixated objects, with a 1-D sinusoidal order encoding), with
    cross-attention to the encoder output. Its output at each step is a query that *points*:
    the logits of the next fixation are scaled dot products of the query with every encoded
    object, as in OAT's "cross-attention" read-out, and one more logit, against the encoded
    target token, means *stop* (in OAT, pointing at the target token ends the scanpath). The
    first step cannot stop (as in OAT).
State bias (an addition to OAT)
    A small MLP adds to each object's logit a bias from the search state: whether the object
    is the current fixation, whether and how often it has been fixated, its distance in
    degrees from the current fixation, the number of fixations so far, and (with appearance
    and a template) the cosine similarity of the object's appearance vector to the template's,
    both computed by the same stem, ROI-align and projection. OAT has to infer these from the
    history and the target token through attention; the bias lets a small model learn
    refixation, inhibition of return, short saccades and target-similarity guidance from a few
    hundred scanpaths. Likewise a second MLP adds to the stop logit a bias from the similarity
    of the fixated object to the template, whether the fixated object is the target (when the
    target's box is given, as OAT's target flag says), and the number of fixations.
    ``state_bias=False`` removes both.

Training is teacher forcing with the cross-entropy of the next object (or stop) at every step
(OAT's loss; here averaged per scanpath, then over scanpaths). Prediction samples the next
object from the softmax (optionally with a temperature), or runs beam search.

On the Amazon book-cover data (no cover images) the objects are the 84 grid slots of each
collage and the model uses geometry only (:mod:`.oat_data`). ``gazemodels fit`` trains it
through the ``"oat"`` task (:class:`OATTask`); :class:`OATModel` (registered as ``"oat"``) is
the fitted model behind ``gazemodels predict``.

References
----------
Fang, Y., Yu, J., Zhang, H., van der Lans, R., & Shi, B. (2024). OAT: Object-level attention
transformer for gaze scanpath prediction. ECCV 2024. Code: github.com/HKUST-NISL/oat_eccv24.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gazemodels.models.registry import register_model
from gazemodels.models.scanpath.base import (
    ScanpathModel,
    check_predict_args,
    check_stimuli,
    load_image,
)
from gazemodels.models.scanpath.oat_data import (
    AMAZON_GRID,
    ObjectEpisode,
    display_episode,
    drop_long_episodes,
    episodes_from_fixations,
)
from gazemodels.training.task import Splits, Task, register_task

__all__ = [
    "OATConfig",
    "OATModel",
    "OATNet",
    "OATTask",
    "baseline_sequences",
    "beam_search",
    "collate_episodes",
    "episode_loss",
    "evaluate_loss",
    "evaluate_object_scanpaths",
    "fit_centre_sigma",
    "format_table",
    "group_by_display",
    "rule_recovery",
    "sample_sequences",
    "train_network",
]

IGNORE = -100
"""Label of padded decoder steps (ignored by the loss)."""


# ------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class OATConfig:
    """Architecture of :class:`OATNet`.

    Parameters
    ----------
    width : int, default 64
        Token dimension (a multiple of 4 and of ``heads``).
    heads : int, default 4
        Attention heads of the encoder and the decoder.
    encoder_depth, decoder_depth : int, default 2
        Transformer blocks of the encoder (the backbone) and of the decoder.
    mlp_ratio : float, default 2.0
        Hidden size of the MLPs relative to ``width``.
    dropout : float, default 0.1
        Dropout in the encoder and the decoder.
    appearance : bool, default False
        Object tokens take appearance from the image (ROI-align over the backbone's stem);
        needs an image per display. False: geometry only.
    target_location : bool, default True
        The target token embeds the target's box, and the target's object token gets the
        target flag (OAT's target token; needs the target's box).
    target_template : bool, default False
        The target token adds the stem encoding of the target template image.
    stem_channels : int, default 32
        Channels of the backbone's conv stem.
    stem_stride : int, default 4
        Stride of the conv stem, px.
    roi_size : int, default 2
        ROI-align grid side.
    oat_sigma_deg : float, default 5.0
        Length scale of the OAT positional encoding, degrees (OAT: 2 shelf slots; an Amazon
        slot is 4.4 x 6.4 deg at 41.5 px/deg).
    template_px : int, default 32
        Side to which templates of different sizes are resized before encoding.
    state_bias : bool, default True
        Add the search-state bias to the pointer logits (see the module notes).
    freeze_stem : bool, default False
        Keep the conv stem at its (random) initial weights: appearance is then read out from
        fixed random features (cheaper to train; for small experiments).
    """

    width: int = 64
    heads: int = 4
    encoder_depth: int = 2
    decoder_depth: int = 2
    mlp_ratio: float = 2.0
    dropout: float = 0.1
    appearance: bool = False
    target_location: bool = True
    target_template: bool = False
    stem_channels: int = 32
    stem_stride: int = 4
    roi_size: int = 2
    oat_sigma_deg: float = 5.0
    template_px: int = 32
    state_bias: bool = True
    freeze_stem: bool = False

    def __post_init__(self):
        for name in ("width", "heads", "encoder_depth", "decoder_depth", "stem_channels", "roi_size",
                     "template_px"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"OATConfig.{name} must be a positive integer, got {v!r}")
        if self.width % 4 or self.width % self.heads:
            raise ValueError(f"OATConfig.width ({self.width}) must be a multiple of 4 and of heads ({self.heads})")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"OATConfig.dropout must lie in [0, 1), got {self.dropout!r}")
        if not (self.oat_sigma_deg > 0 and math.isfinite(self.oat_sigma_deg)):
            raise ValueError(f"OATConfig.oat_sigma_deg must be a positive number, got {self.oat_sigma_deg!r}")
        for name in ("appearance", "target_location", "target_template", "state_bias", "freeze_stem"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"OATConfig.{name} must be a bool, got {getattr(self, name)!r}")

    @property
    def needs_image(self) -> bool:
        """Whether the network reads images (appearance or a template)."""
        return self.appearance or self.target_template

    def to_dict(self) -> dict:
        """The config as a dict of builtins."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> OATConfig:
        """Build from :meth:`to_dict`'s output; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown OATConfig field(s) {unknown}; known: {sorted(known)}")
        return cls(**d)


# ------------------------------------------------------------------------------ batches
def _image_tensor(img: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float() / 255.0


def collate_episodes(episodes: Sequence[ObjectEpisode], template_px: int = 32) -> dict:
    """Batch episodes: padded boxes, teacher-forcing inputs and labels, images when all have them.

    Parameters
    ----------
    episodes : sequence of ObjectEpisode
        The episodes (their ``sequence`` may be empty, for prediction).
    template_px : int, default 32
        Templates of different sizes are resized (bilinear) to this side; templates of one size
        are kept as they are (at the scale of the objects in the image).

    Returns
    -------
    dict
        ``boxes`` (B, M, 4) px; ``box_mask`` (B, M) bool; ``size`` (B, 2) stimulus width and
        height px; ``ppd`` (B,); ``target`` (B,) long (-1 unknown); ``inputs`` (B, T) long, the
        decoder inputs: -1 (start) then the fixated objects; ``valid`` (B, T) bool; ``labels``
        (B, T) long, the next object at each step and ``M`` for stop, :data:`IGNORE` on padding;
        ``image`` (B, 3, H, W) in [0, 1] (padded at the bottom and right) when every episode has
        an image; ``template`` (B, 3, h, w) when every episode has one.
    """
    if not episodes:
        raise ValueError("collate_episodes: no episodes")
    B = len(episodes)
    M = max(e.n_objects for e in episodes)
    T = max(len(e.sequence) for e in episodes) + 1
    boxes = torch.zeros(B, M, 4)
    box_mask = torch.zeros(B, M, dtype=torch.bool)
    inputs = torch.full((B, T), -1, dtype=torch.long)
    valid = torch.zeros(B, T, dtype=torch.bool)
    labels = torch.full((B, T), IGNORE, dtype=torch.long)
    for i, e in enumerate(episodes):
        m, seq = e.n_objects, np.array(e.sequence, dtype=np.int64)  # a copy: inputs may be read-only
        if len(seq) and (seq.min() < 0 or seq.max() >= m):
            raise ValueError(f"episode {e.stimulus!r}: object indices must lie in [0, {m}), got {seq.tolist()}")
        boxes[i, :m] = torch.as_tensor(np.asarray(e.boxes, dtype=np.float32))
        box_mask[i, :m] = True
        n = len(seq)
        inputs[i, 1 : n + 1] = torch.as_tensor(seq)
        valid[i, : n + 1] = True
        if n:
            labels[i, :n] = torch.as_tensor(seq)
            labels[i, n] = M  # stop
    batch = {
        "boxes": boxes,
        "box_mask": box_mask,
        "size": torch.tensor([[e.width, e.height] for e in episodes], dtype=torch.float32),
        "ppd": torch.tensor([e.px_per_degree for e in episodes], dtype=torch.float32),
        "target": torch.tensor([e.target for e in episodes], dtype=torch.long),
        "inputs": inputs,
        "valid": valid,
        "labels": labels,
    }
    if all(e.image is not None for e in episodes):
        H = max(e.image.shape[0] for e in episodes)
        W = max(e.image.shape[1] for e in episodes)
        img = torch.zeros(B, 3, H, W)
        for i, e in enumerate(episodes):
            img[i, :, : e.image.shape[0], : e.image.shape[1]] = _image_tensor(e.image)
        batch["image"] = img
    if all(e.template is not None and e.template.size for e in episodes):
        shapes = {e.template.shape[:2] for e in episodes}
        if len(shapes) == 1:  # same scale as the objects in the image
            batch["template"] = torch.stack([_image_tensor(e.template) for e in episodes])
        else:
            batch["template"] = torch.cat([
                F.interpolate(_image_tensor(e.template)[None], size=(template_px, template_px), mode="bilinear",
                              align_corners=False) for e in episodes
            ])
    return batch


# ------------------------------------------------------------------------------ network
class Encoded(NamedTuple):
    """Encoder output of :meth:`OATNet.encode`.

    ``memory`` (B, M, C) encoded objects; ``target`` (B, C) encoded target token; ``tokens``
    (B, M, C) object tokens before the encoder (the decoder's history embeddings); ``mask``
    (B, M) real objects; ``centres_deg`` (B, M, 2) box centres, degrees from the display centre;
    ``similarity`` (B, M) cosine similarity of each object's appearance to the template's (0
    without appearance or template); ``target_index`` (B,) the target object where the network
    is told it (``target_location``), else -1.
    """

    memory: Tensor
    target: Tensor
    tokens: Tensor
    mask: Tensor
    centres_deg: Tensor
    similarity: Tensor
    target_index: Tensor


def _sinusoid(T: int, C: int, device) -> Tensor:
    pos = torch.arange(T, device=device, dtype=torch.float32)[:, None]
    div = torch.exp(-torch.arange(0, C, 2, device=device, dtype=torch.float32) * math.log(10000.0) / C)
    pe = torch.zeros(T, C, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class OATNet(nn.Module):
    """The OAT-style network: object encoder (the backbone), history decoder, pointer read-out.

    Parameters
    ----------
    config : OATConfig, optional
        Architecture (default :class:`OATConfig`).
    """

    def __init__(self, config: OATConfig | None = None):
        super().__init__()
        from gazemodels.backbone import BackboneConfig, GazeBackbone

        cfg = config if config is not None else OATConfig()
        if not isinstance(cfg, OATConfig):
            raise ValueError(f"config must be an OATConfig, got {type(cfg).__name__}")
        self.config = cfg
        C = cfg.width
        self.backbone = GazeBackbone(BackboneConfig(
            depth=cfg.encoder_depth, width=C, heads=cfg.heads, patch_size=cfg.stem_stride, attention="object",
            object_eccentricity=False, conditioning="token", target_dim=6, stem="conv",
            stem_channels=cfg.stem_channels, stem_stride=cfg.stem_stride, roi_size=cfg.roi_size,
            oat_sigma_deg=float(cfg.oat_sigma_deg), mlp_ratio=float(cfg.mlp_ratio), dropout=float(cfg.dropout),
        ))
        # Modules that a configuration never uses are frozen, so that distributed training
        # (which expects a gradient for every trainable parameter) and optimisers skip them.
        if not cfg.needs_image or cfg.freeze_stem:
            self.backbone.stem.requires_grad_(False)
        if not cfg.target_template:
            self.backbone.target_image_proj.requires_grad_(False)
        self.target_flag = nn.Parameter(torch.randn(C) * 0.02, requires_grad=cfg.target_location)
        self.bos = nn.Parameter(torch.randn(C) * 0.02)
        self.history_proj = nn.Linear(C, C)
        layer = nn.TransformerDecoderLayer(C, cfg.heads, dim_feedforward=int(round(cfg.mlp_ratio * C)),
                                           dropout=cfg.dropout, batch_first=True, norm_first=True,
                                           activation="gelu")
        self.decoder = nn.TransformerDecoder(layer, cfg.decoder_depth, norm=nn.LayerNorm(C))
        self.query = nn.Linear(C, C)
        self.key = nn.Linear(C, C)
        self.stop_key = nn.Linear(C, C)
        self.stop_bias = nn.Parameter(torch.zeros(()))
        if cfg.state_bias:
            self.state_mlp = nn.Sequential(nn.Linear(7, 32), nn.GELU(), nn.Linear(32, 1))
            self.stop_mlp = nn.Sequential(nn.Linear(3, 16), nn.GELU(), nn.Linear(16, 1))
            for mlp in (self.state_mlp, self.stop_mlp):  # start as the plain pointer
                nn.init.zeros_(mlp[-1].weight)
                nn.init.zeros_(mlp[-1].bias)

    # -------------------------------------------------------------- encoder
    def _target_geometry(self, batch: dict, centres_deg: Tensor, boxes_deg: Tensor) -> Tensor:
        B = centres_deg.shape[0]
        t = batch["target"]
        known = (t >= 0) & torch.tensor(self.config.target_location, device=t.device)
        idx = t.clamp_min(0)
        ar = torch.arange(B, device=t.device)
        c = centres_deg[ar, idx]
        wh = boxes_deg[ar, idx, 2:]
        geom = torch.cat([known[:, None].float(), c / 10.0, wh / 10.0,
                          torch.log(wh.prod(-1).clamp_min(1e-4))[:, None] / 10.0], dim=-1)
        return geom * torch.cat([torch.ones_like(known[:, None]), known[:, None].expand(-1, 5)], -1).float()

    def encode(self, batch: dict) -> Encoded:
        """Encode the objects and the target of a batch (:func:`collate_episodes`).

        Parameters
        ----------
        batch : dict
            A collated batch.

        Returns
        -------
        Encoded
        """
        from gazemodels.backbone.stems import prepare_image
        from gazemodels.backbone.tokens import px_to_deg

        cfg, bb = self.config, self.backbone
        boxes, mask = batch["boxes"], batch["box_mask"]
        B = boxes.shape[0]
        size, ppd = batch["size"], batch["ppd"]
        if cfg.appearance:
            if "image" not in batch:
                raise ValueError("this OAT network uses appearance (config.appearance) and needs an image per display")
            fmap = bb.stem(prepare_image(batch["image"]))
            image_hw = (int(batch["image"].shape[-2]), int(batch["image"].shape[-1]))
        else:
            # Geometry only: a blank feature map makes the appearance term a constant.
            fmap = boxes.new_zeros(B, bb.config.feature_channels, 1, 1)
            image_hw = (int(math.ceil(float(size[:, 1].max()))), int(math.ceil(float(size[:, 0].max()))))
        # The display centre is the reference (OAT's start token): positions relative to it.
        fix = px_to_deg(size[:, None, :] / 2.0, image_hw, ppd)[:, 0]
        tok = bb.object_tokens(fmap, boxes, image_hw, ppd, fix)
        centres_deg = tok.pos_deg - fix[:, None, :]
        tokens = tok.tokens
        t = batch["target"]
        if cfg.target_location:
            is_target = (torch.arange(boxes.shape[1], device=t.device)[None] == t[:, None]) & (t[:, None] >= 0)
            tokens = tokens + is_target[..., None].to(tokens.dtype) * self.target_flag
        emb = bb.encode_target(self._target_geometry(batch, centres_deg, tok.boxes_deg))
        similarity = boxes.new_zeros(boxes.shape[:2])
        if cfg.target_template:
            if "template" not in batch:
                raise ValueError("this OAT network encodes a target template (config.target_template) and needs "
                                 "one per display")
            template = prepare_image(batch["template"])
            emb = emb + bb.encode_target(template)
            if cfg.appearance:
                # The template through the same stem, ROI-align and projection as the objects: an
                # object that looks like the target has an appearance vector close to the template's.
                # The template is padded by replicating its border (its background), so that the
                # convolutions see it as they see an object inside the image, not against zeros.
                ot = bb.object_tokens
                th, tw = template.shape[-2:]
                pad = 2 * bb.config.feature_stride
                padded = F.pad(template, (pad, pad, pad, pad), mode="replicate")
                tbox = boxes.new_tensor([float(pad), float(pad), float(tw), float(th)]).expand(B, 1, 4)
                t_app = ot.appearance(ot.pool(bb.stem(padded), tbox).flatten(2))
                o_app = ot.appearance(ot.pool(fmap, boxes).flatten(2))
                similarity = F.cosine_similarity(o_app, t_app, dim=-1)
        bias = bb.box_bias(tok.boxes_deg)
        memory, target = bb.encode(tokens, tok.pos_deg, fix, bias=bias, mask=mask, target_embedding=emb)
        target_index = t if cfg.target_location else torch.full_like(t, -1)
        return Encoded(memory, target, tokens, mask, centres_deg, similarity, target_index)

    # -------------------------------------------------------------- decoder
    def _state_features(self, enc: Encoded, inputs: Tensor) -> Tensor:
        B, T = inputs.shape
        M = enc.memory.shape[1]
        onehot = F.one_hot(inputs.clamp_min(0), M).to(enc.memory.dtype) * (inputs >= 0)[..., None]
        counts = onehot.cumsum(1)  # fixations of each object up to and including step t
        current = onehot
        ar = torch.arange(B, device=inputs.device)[:, None]
        cur_xy = enc.centres_deg[ar, inputs.clamp_min(0)]  # (B, T, 2)
        cur_xy = torch.where((inputs >= 0)[..., None], cur_xy, torch.zeros_like(cur_xy))  # start: centre
        dist = torch.linalg.vector_norm(enc.centres_deg[:, None, :, :] - cur_xy[:, :, None, :], dim=-1)
        sim = enc.similarity[:, None, :].expand(B, T, M)
        step = (torch.arange(T, device=inputs.device, dtype=dist.dtype) / 10.0)[None, :, None].expand(B, T, M)
        return torch.stack([current, (counts > 0).to(counts.dtype), counts.clamp(max=3.0) / 3.0, dist / 10.0,
                            torch.log1p(dist), sim, step], dim=-1)

    def decode(self, enc: Encoded, inputs: Tensor, last_only: bool = False) -> Tensor:
        """Pointer logits of the next fixation after each prefix of the history.

        Parameters
        ----------
        enc : Encoded
            From :meth:`encode` (batch size B).
        inputs : Tensor
            (B, T) long: -1 (the start token) at step 0, then fixated object indices (entries
            after the end of a history are ignored through causality).
        last_only : bool, default False
            Only the logits after the whole history (autoregressive decoding): (B, 1, M + 1).

        Returns
        -------
        Tensor
            (B, T, M + 1): logits over the objects and, last, stop. Padding objects are
            ``-inf``; stop is ``-inf`` at step 0.
        """
        B, T = inputs.shape
        C = self.config.width
        ar = torch.arange(B, device=inputs.device)[:, None]
        hist = self.history_proj(enc.tokens[ar, inputs.clamp_min(0)])
        x = torch.where((inputs >= 0)[..., None], hist, self.bos.expand(B, T, C))
        x = x + _sinusoid(T, C, x.device)
        memory = torch.cat([enc.target[:, None, :], enc.memory], dim=1)
        mem_pad = torch.cat([torch.zeros_like(enc.mask[:, :1]), ~enc.mask], dim=1)
        causal = torch.triu(torch.full((T, T), float("-inf"), device=x.device), diagonal=1)
        h = self.decoder(x, memory, tgt_mask=causal, memory_key_padding_mask=mem_pad)
        steps = torch.arange(T, device=x.device)
        if last_only:
            h, steps = h[:, -1:], steps[-1:]
        q = self.query(h)
        logits = torch.einsum("btc,bmc->btm", q, self.key(enc.memory)) / math.sqrt(C)
        if self.config.state_bias:
            feats = self._state_features(enc, inputs)
            logits = logits + self.state_mlp(feats[:, -1:] if last_only else feats).squeeze(-1)
        logits = logits.masked_fill(~enc.mask[:, None, :], float("-inf"))
        stop = (q * self.stop_key(enc.target)[:, None, :]).sum(-1) / math.sqrt(C) + self.stop_bias
        if self.config.state_bias:
            # how target-like the fixated object looks, whether it is the target (when its box
            # is known), and how many fixations were made
            cur = inputs[:, -1:] if last_only else inputs
            cur_sim = torch.where(cur >= 0, enc.similarity[ar, cur.clamp_min(0)], torch.zeros_like(stop))
            on_target = ((cur == enc.target_index[:, None]) & (cur >= 0)).to(stop.dtype)
            step = (steps.to(stop.dtype) / 10.0).expand_as(stop)
            stop = stop + self.stop_mlp(torch.stack([cur_sim, on_target, step], -1)).squeeze(-1)
        stop = stop.masked_fill(steps[None] == 0, float("-inf"))
        return torch.cat([logits, stop[..., None]], dim=-1)

    def forward(self, batch: dict) -> Tensor:
        """Teacher-forcing logits of a collated batch: (B, T, M + 1)."""
        return self.decode(self.encode(batch), batch["inputs"])


def episode_loss(logits: Tensor, labels: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """Cross-entropy of the next object (or stop), averaged per scanpath, then over scanpaths.

    Parameters
    ----------
    logits : Tensor
        (B, T, M + 1) from :meth:`OATNet.forward`.
    labels : Tensor
        (B, T) long, :data:`IGNORE` on padding.

    Returns
    -------
    loss : Tensor
        Scalar.
    metrics : dict
        ``accuracy``: per-scanpath share of steps whose arg-max is the label, averaged;
        ``stop_accuracy``: share of scanpaths whose last step's arg-max is stop.
    """
    B, T, K = logits.shape
    ok = labels != IGNORE
    n = ok.sum(1).clamp_min(1).to(logits.dtype)
    ce = F.cross_entropy(logits.reshape(-1, K), labels.reshape(-1), ignore_index=IGNORE, reduction="none")
    ce = ce.view(B, T)
    loss = (ce.sum(1) / n).mean()
    hit = (logits.argmax(-1) == labels) & ok
    acc = (hit.sum(1).to(logits.dtype) / n).mean()
    last = ok.sum(1) - 1
    ar = torch.arange(B, device=labels.device)
    stop_acc = hit[ar, last.clamp_min(0)].to(logits.dtype).mean()
    return loss, {"accuracy": acc.detach(), "stop_accuracy": stop_acc.detach()}


# ------------------------------------------------------------------------------ decoding
def _select(enc: Encoded, index: Tensor) -> Encoded:
    return Encoded(*(t[index] for t in enc))


def _penalise_refixation(logits: Tensor, last: Tensor, mask: Tensor, penalty: float) -> Tensor:
    """Subtract ``penalty`` from the logit of the current object (``last``, -1 at the start), in place.

    Displays with a single object are left alone, so that some choice always remains.
    """
    if penalty:
        rows = torch.nonzero((last >= 0) & (mask.sum(1) > 1)).squeeze(1)
        logits[rows, last[rows]] -= float(penalty)
    return logits


@torch.no_grad()
def sample_sequences(
    net: OATNet,
    episodes: Sequence[ObjectEpisode],
    n: int,
    *,
    max_len: int = 40,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    allow_stop: bool = True,
    greedy: bool = False,
    batch_size: int = 256,
    refixation_penalty: float = 0.0,
) -> list[list[np.ndarray]]:
    """Sample scanpaths over objects autoregressively.

    Parameters
    ----------
    net : OATNet
        The network (put in eval mode here).
    episodes : sequence of ObjectEpisode
        Displays (their sequences are ignored).
    n : int
        Scanpaths per display.
    max_len : int, default 40
        Fixations at most; with ``allow_stop=False`` exactly this many.
    generator : torch.Generator, optional
        Source of randomness.
    temperature : float, default 1.0
        Softmax temperature.
    allow_stop : bool, default True
        Let the model stop; False masks stop (fixed-length scanpaths).
    greedy : bool, default False
        Take the arg-max instead of sampling (OAT's "max" decoding); all ``n`` are then equal.
    batch_size : int, default 256
        Scanpaths decoded at once.
    refixation_penalty : float, default 0.0
        Subtracted from the (tempered) log-probability of fixating the current object again at
        every step (an immediate refixation); 0 is the network as trained, ``inf`` forbids
        immediate refixations.

    Returns
    -------
    list of list of numpy.ndarray
        Per display, ``n`` arrays of object indices (at least one fixation each).
    """
    net.eval()
    out: list[list[np.ndarray]] = [[] for _ in episodes]
    jobs = [(i, k) for i in range(len(episodes)) for k in range(n)]
    device = next(net.parameters()).device
    for start in range(0, len(jobs), batch_size):
        part = jobs[start : start + batch_size]
        disp = sorted({i for i, _ in part})
        pos = {i: j for j, i in enumerate(disp)}
        batch = _to(collate_episodes([episodes[i].with_sequence([]) for i in disp], net.config.template_px), device)
        enc = _select(net.encode(batch), torch.tensor([pos[i] for i, _ in part], device=device))
        B = len(part)
        M = enc.memory.shape[1]
        inputs = torch.full((B, 1), -1, dtype=torch.long, device=device)
        done = torch.zeros(B, dtype=torch.bool, device=device)
        for _ in range(max_len):
            logits = net.decode(enc, inputs, last_only=True)[:, -1] / max(float(temperature), 1e-6)
            _penalise_refixation(logits, inputs[:, -1], enc.mask, refixation_penalty)
            if not allow_stop:
                logits[:, M] = float("-inf")
            if greedy:
                nxt = logits.argmax(-1)
            else:
                nxt = torch.multinomial(F.softmax(logits, -1).cpu(), 1, generator=generator).squeeze(1).to(device)
            nxt = torch.where(done, torch.full_like(nxt, M), nxt)
            done = done | (nxt == M)
            inputs = torch.cat([inputs, torch.where(nxt == M, torch.full_like(nxt, -1), nxt)[:, None]], dim=1)
            if bool(done.all()):
                break
        seqs = inputs[:, 1:].cpu().numpy()
        for (i, _), s in zip(part, seqs):
            cut = np.flatnonzero(s < 0)
            out[i].append(s[: cut[0]] if len(cut) else s)
    return out


@torch.no_grad()
def beam_search(
    net: OATNet,
    episode: ObjectEpisode,
    *,
    beam_width: int = 5,
    max_len: int = 40,
    n_best: int = 1,
    allow_stop: bool = True,
    length_penalty: float = 0.0,
    refixation_penalty: float = 0.0,
) -> list[tuple[np.ndarray, float]]:
    """Beam search for the most probable scanpaths of one display.

    Hypotheses are ranked by ``log p / len ** length_penalty`` (0: the plain log-probability).
    A hypothesis that stops is finished; the search ends when ``beam_width`` hypotheses are
    finished and none of the open ones can beat them, or at ``max_len`` fixations (open
    hypotheses are then finished as they stand).

    Parameters
    ----------
    net : OATNet
    episode : ObjectEpisode
    beam_width : int, default 5
    max_len : int, default 40
    n_best : int, default 1
        How many hypotheses to return.
    allow_stop : bool, default True
        False masks stop: every hypothesis has ``max_len`` fixations.
    length_penalty : float, default 0.0
    refixation_penalty : float, default 0.0
        Subtracted from the log-probability of an immediate refixation (the current object
        again) at every step; the returned scores include it. Beam search seeks the mode: an
        immediate refixation is often the single most probable next object, so unpenalised
        beams refixate far more than humans do (see :class:`OATModel`).

    Returns
    -------
    list of (numpy.ndarray, float)
        The best ``n_best`` object sequences with their log-probabilities, best first.
    """
    net.eval()
    device = next(net.parameters()).device
    batch = _to(collate_episodes([episode.with_sequence([])], net.config.template_px), device)
    enc0 = net.encode(batch)
    M = enc0.memory.shape[1]
    beams: list[tuple[list[int], float]] = [([], 0.0)]
    finished: list[tuple[list[int], float]] = []

    def rank(item):
        seq, lp = item
        return lp / max(len(seq), 1) ** length_penalty

    for _ in range(max_len):
        enc = _select(enc0, torch.zeros(len(beams), dtype=torch.long, device=device))
        inputs = torch.tensor([[-1] + s for s, _ in beams], dtype=torch.long, device=device)
        logp = F.log_softmax(net.decode(enc, inputs, last_only=True)[:, -1], -1)
        _penalise_refixation(logp, inputs[:, -1], enc.mask, refixation_penalty)
        if not allow_stop:
            logp[:, M] = float("-inf")
        cand = []
        for b, (s, lp) in enumerate(beams):
            top = torch.topk(logp[b], min(beam_width, M + 1))
            for v, k in zip(top.values.tolist(), top.indices.tolist()):
                if math.isfinite(v):
                    cand.append((s, lp + v, int(k)))
        cand.sort(key=lambda c: -rank((c[0] + ([] if c[2] == M else [c[2]]), c[1])))
        beams = []
        for s, lp, k in cand:
            if k == M:
                finished.append((s, lp))
            else:
                beams.append((s + [k], lp))
            if len(beams) == beam_width:
                break
        if not beams:
            break
        if len(finished) >= beam_width and max(map(rank, finished)) >= max(map(rank, beams)) and length_penalty == 0:
            break  # log-probabilities only fall: no open hypothesis can overtake
    finished += beams
    finished.sort(key=lambda it: -rank(it))
    return [(np.asarray(s, dtype=np.int64), float(lp)) for s, lp in finished[:n_best]]


def _to(batch: dict, device) -> dict:
    return {k: (v.to(device) if isinstance(v, Tensor) else v) for k, v in batch.items()}


# ------------------------------------------------------------------------------ training
def train_network(
    net: OATNet,
    train: Sequence[ObjectEpisode],
    val: Sequence[ObjectEpisode] | None = None,
    *,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    patience: int | None = None,
    log=None,
) -> dict:
    """A compact teacher-forcing loop (Adam), for :meth:`OATModel.fit` and tests.

    ``gazemodels fit`` trains through :class:`OATTask` instead (checkpoints, resume, DDP);
    this loop is the same loss without those.

    Parameters
    ----------
    net : OATNet
    train, val : sequence of ObjectEpisode
    epochs, batch_size : int
    lr, weight_decay : float
    seed : int
        Seeds the shuffling.
    patience : int, optional
        Stop after this many epochs without a better validation loss (and restore the best
        weights); needs ``val``.
    log : callable, optional
        Called with a dict per epoch.

    Returns
    -------
    dict
        ``history`` (list of per-epoch dicts), ``best_val_loss``, ``seconds``.
    """
    if not train:
        raise ValueError("train_network: no training episodes")
    t0 = time.perf_counter()
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    tp = net.config.template_px
    history, best, best_state, bad = [], math.inf, None, 0
    for epoch in range(int(epochs)):
        net.train()
        order = rng.permutation(len(train))
        tot, cnt = 0.0, 0
        for s in range(0, len(order), batch_size):
            items = [train[i] for i in order[s : s + batch_size]]
            loss, _ = _batch_loss(net, items, tp)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            tot += loss.item() * len(items)
            cnt += len(items)
        row = {"epoch": epoch, "train_loss": tot / cnt}
        if val:
            row.update(evaluate_loss(net, val, batch_size=batch_size))
            if row["val_loss"] < best - 1e-6:
                best, bad = row["val_loss"], 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                bad += 1
        history.append(row)
        if log is not None:
            log(row)
        if patience is not None and val and bad >= patience:
            break
    if best_state is not None and patience is not None:
        net.load_state_dict(best_state)
    net.eval()
    return {"history": history, "best_val_loss": best, "seconds": time.perf_counter() - t0}


def _batch_loss(net: OATNet, items, template_px: int):
    batch = collate_episodes(items, template_px)
    return episode_loss(net(batch), batch["labels"])


@torch.no_grad()
def evaluate_loss(net: OATNet, episodes: Sequence[ObjectEpisode], batch_size: int = 64) -> dict[str, float]:
    """Scanpath-weighted mean teacher-forcing loss and accuracies.

    Parameters
    ----------
    net : OATNet
    episodes : sequence of ObjectEpisode
    batch_size : int

    Returns
    -------
    dict
        ``val_loss``, ``val_accuracy``, ``val_stop_accuracy``.
    """
    net.eval()
    sums = {"val_loss": 0.0, "val_accuracy": 0.0, "val_stop_accuracy": 0.0}
    device = next(net.parameters()).device
    for s in range(0, len(episodes), batch_size):
        items = list(episodes[s : s + batch_size])
        batch = _to(collate_episodes(items, net.config.template_px), device)
        loss, m = episode_loss(net(batch), batch["labels"])
        sums["val_loss"] += float(loss) * len(items)
        sums["val_accuracy"] += float(m["accuracy"]) * len(items)
        sums["val_stop_accuracy"] += float(m["stop_accuracy"]) * len(items)
    return {k: v / max(len(episodes), 1) for k, v in sums.items()}


# ------------------------------------------------------------------------------ scanpath model
@register_model(
    "oat",
    smoke_kwargs={"config": {"width": 16, "heads": 2, "encoder_depth": 1, "decoder_depth": 1},
                  "grid": (4, 3), "epochs": 1},
)
class OATModel(ScanpathModel):
    """Object-level scanpath model after OAT (Fang et al. 2024): fixations go to object centres.

    ``predict`` samples, for each stimulus, scanpaths over its objects: the boxes of the
    stimulus table's ``object_boxes`` column (:data:`~.oat_data.OBJECT_BOXES_COLUMN`), else the
    slots of ``grid`` (the Amazon collages' 14 x 6 by default). The target is the object that
    best overlaps the stimulus's ``target_bbox`` (when the table has that column). Each fixation
    is at the centre of its object; the result has an extra ``object`` column (the object's
    index). The contract asks for exactly ``n_fixations`` fixations, so ``predict`` masks the
    stop decision; :meth:`sample_objects` gives the model's own variable-length scanpaths.

    Parameters
    ----------
    net : OATNet, optional
        A trained network (e.g. from ``gazemodels fit``); without it the model must be fitted.
    config : OATConfig or dict, optional
        Architecture of the network that :meth:`fit` builds.
    grid : (int, int) or None, default (14, 6)
        ``(columns, rows)`` of the slots for stimuli without object boxes.
    temperature : float, default 1.0
        Sampling temperature.
    decoding : {"sample", "beam"}, default "sample"
        ``"beam"`` returns the ``n_scanpaths`` best beams (deterministic: every seed gives the
        same table).
    beam_width : int, default 5
    refixation_penalty : float, default 0.0
        Subtracted from the log-probability of an immediate refixation at every step of sampling
        and beam search (:func:`beam_search`); 0 is the network as trained.
    epochs, batch_size, lr, train_seed : training settings of :meth:`fit`.

    Notes
    -----
    Refixations (``runs/oat_amazon``, the 50 Amazon test collages, the first 8 / 15 fixations;
    ``benchmarks/bench_oat_refixation.py``): humans refixate the slot they are on with 11% / 14%
    of their fixations. Fixed-length sampling (``predict``'s default) gives 20% / 28%, and
    fixed-length beam search 60% / 76%: beam search seeks the mode, an immediate refixation is
    often the single most probable next slot, and once on the target, with stop masked, the beam
    stays there (96% of the best beams of 15 fixations end on the target, repeated). A
    ``refixation_penalty`` does not make beam scanpaths human-like: refixations turn into
    revisits (at 2, 16-18% refixations but 18-37% revisits, humans 2-3%), and the behaviour
    statistics stay further from the humans' than sampling's (Δ 1.1 at 0.5, the best, against
    0.36-0.67 for sampling); for sampling, the penalty chosen on the validation collages (0 for 8
    fixations, 1 for 15) does not lower Δ on the test half. Hence the defaults: sampling, no
    penalty.
    """

    requires_fit = True
    refixation_penalty: float = 0.0  # a class default: models saved before the option load with it
    predict_settings = ("temperature", "decoding", "beam_width", "refixation_penalty")
    """Attributes that only change how the trained network decodes: ``gazemodels predict --param``
    may set them on a saved model (:meth:`set_predict_settings`)."""

    def __init__(self, net: OATNet | None = None, config=None, grid=AMAZON_GRID, temperature: float = 1.0,
                 decoding: str = "sample", beam_width: int = 5, epochs: int = 30, batch_size: int = 32,
                 lr: float = 1e-3, train_seed: int = 0, refixation_penalty: float = 0.0):
        if isinstance(config, dict):
            config = OATConfig.from_dict(config)
        self.config = net.config if net is not None else (config or OATConfig())
        self.net = net.eval() if net is not None else None
        self.grid = None if grid is None else (int(grid[0]), int(grid[1]))
        self.set_predict_settings(temperature=temperature, decoding=decoding, beam_width=beam_width,
                                  refixation_penalty=refixation_penalty)
        self.epochs, self.batch_size = int(epochs), int(batch_size)
        self.lr, self.train_seed = float(lr), int(train_seed)
        self.fitted = net is not None
        self.training_log: dict = {}

    @property
    def needs_image(self) -> bool:  # type: ignore[override]
        """Whether the network reads images (appearance or a template)."""
        return self.config.needs_image

    def set_predict_settings(self, **settings) -> OATModel:
        """Set how the network decodes (:attr:`predict_settings`), checking each value.

        Parameters
        ----------
        **settings
            ``temperature`` (> 0), ``decoding`` (``"sample"`` or ``"beam"``), ``beam_width``
            (>= 1), ``refixation_penalty`` (>= 0).

        Returns
        -------
        OATModel
            ``self``.

        Raises
        ------
        ValueError
            Naming an unknown setting or a bad value.
        """
        unknown = sorted(set(settings) - set(self.predict_settings))
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; a fitted OAT model takes {list(self.predict_settings)}")
        checks = {"temperature": (float, lambda v: v > 0, "> 0"),
                  "decoding": (str, lambda v: v in ("sample", "beam"), "'sample' or 'beam'"),
                  "beam_width": (int, lambda v: v >= 1, ">= 1"),
                  "refixation_penalty": (float, lambda v: v >= 0, ">= 0")}
        for k, v in settings.items():
            cast, ok, text = checks[k]
            try:
                value = cast(v)
            except (TypeError, ValueError):
                value = None
            if value is None or isinstance(v, bool) or not ok(value):
                raise ValueError(f"{k} must be {text}, got {v!r}")
            setattr(self, k, value)
        return self

    @property
    def needs_objects(self) -> bool:
        """Whether every stimulus needs its ``object_boxes``: there is no grid of slots to fall back on."""
        return self.grid is None

    @property
    def needs_target(self) -> bool:
        """Whether every stimulus needs a ``target_bbox``: the network encodes the target's template."""
        return self.config.target_template

    @property
    def uses_target(self) -> bool:
        """Whether the network reads the target (its box or its template) when the stimulus gives one."""
        return self.config.target_location or self.config.target_template

    def fit(self, fixations: pd.DataFrame, stimuli: pd.DataFrame | None = None, *, fit_durations: bool = True):
        """Train a new network on human scanpaths mapped to objects (teacher forcing).

        Parameters
        ----------
        fixations : pandas.DataFrame
            Human fixation table.
        stimuli : pandas.DataFrame
            Their stimulus table (sizes; optional ``object_boxes`` and ``target_bbox``; image
            paths when the network reads images).
        fit_durations : bool, default True
            Also fit the duration model, when the fixations have durations.

        Returns
        -------
        OATModel
            ``self``.
        """
        if stimuli is None:
            raise ValueError("OATModel.fit needs the stimulus table (sizes and objects)")
        has_dur = "duration" in fixations.columns and np.isfinite(pd.to_numeric(fixations["duration"],
                                                                                 errors="coerce")).all()
        super().fit(fixations, stimuli, fit_durations=fit_durations and bool(has_dur))
        images = None
        if self.needs_image:
            check_stimuli(stimuli, need_path=True)
            images = {str(r["stimulus"]): load_image(r["path"], size=(round(r["width"]), round(r["height"])))
                      for _, r in stimuli.iterrows()}
        eps = drop_long_episodes(episodes_from_fixations(fixations, stimuli, grid=self.grid, images=images))
        torch.manual_seed(self.train_seed)
        self.net = OATNet(self.config)
        self.training_log = train_network(self.net, eps, epochs=self.epochs, batch_size=self.batch_size,
                                          lr=self.lr, seed=self.train_seed)
        self.fitted = True
        return self

    def _episode(self, image, stimulus: pd.Series) -> ObjectEpisode:
        return display_episode(stimulus, self.grid, image)

    def sample_objects(self, episodes: Sequence[ObjectEpisode], n: int, seed: int, max_len: int = 40,
                       allow_stop: bool = True) -> list[list[np.ndarray]]:
        """The model's own scanpaths over objects (with stopping), ``n`` per display.

        Parameters
        ----------
        episodes : sequence of ObjectEpisode
        n, seed, max_len : int
        allow_stop : bool

        Returns
        -------
        list of list of numpy.ndarray
        """
        g = torch.Generator().manual_seed(int(seed))
        return sample_sequences(self.net, episodes, n, max_len=max_len, generator=g, temperature=self.temperature,
                                allow_stop=allow_stop, refixation_penalty=self.refixation_penalty)

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """Object scanpaths of one display, as object centres (see :meth:`ScanpathModel.generate`)."""
        ep = self._episode(image, stimulus)
        if self.decoding == "beam":
            best = beam_search(self.net, ep, beam_width=max(self.beam_width, n_scanpaths), max_len=n_fixations,
                               n_best=n_scanpaths, allow_stop=False, refixation_penalty=self.refixation_penalty)
            seqs = [s for s, _ in best]
            seqs += [seqs[-1]] * (n_scanpaths - len(seqs))
        else:
            g = torch.Generator().manual_seed(int(rng.integers(2**62)))
            seqs = sample_sequences(self.net, [ep], n_scanpaths, max_len=n_fixations, generator=g,
                                    temperature=self.temperature, allow_stop=False,
                                    refixation_penalty=self.refixation_penalty)[0]
        objs = np.stack([np.asarray(s, dtype=np.int64) for s in seqs])
        # predict reads the objects back for its ``object`` column
        self.__dict__.setdefault("_last_objects", {})[str(stimulus["stimulus"])] = objs
        return ep.centres[objs]

    def predict(self, stimuli: pd.DataFrame, n_scanpaths: int, n_fixations: int, seed: int) -> pd.DataFrame:
        """Scanpaths over objects for every stimulus (see :meth:`ScanpathModel.predict`).

        Returns
        -------
        pandas.DataFrame
            The fixation table, plus ``object``: the index of the fixated object (a box of the
            stimulus's ``object_boxes``, or a grid slot ``row * columns + column``).
        """
        check_predict_args(n_scanpaths, n_fixations, seed)
        self._last_objects: dict[str, np.ndarray] = {}
        out = super().predict(stimuli, n_scanpaths, n_fixations, seed)
        obj = np.concatenate([self._last_objects[str(s)].ravel() for s in stimuli["stimulus"]]) if len(out) else []
        out["object"] = np.asarray(obj, dtype=np.int64)
        self._last_objects = {}
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_last_objects", None)
        return state


# ------------------------------------------------------------------------------ object-level baselines
def _lengths_and_stop(rng, lengths: np.ndarray) -> int:
    return int(lengths[rng.integers(len(lengths))])


def _stop_at_target(seq: list[int], target: int) -> list[int]:
    if target >= 0 and target in seq:
        return seq[: seq.index(target) + 1]
    return seq


def fit_centre_sigma(episodes: Sequence[ObjectEpisode], grid=np.geomspace(1.0, 100.0, 200)) -> float:
    """Maximum-likelihood width (degrees) of the centre-biased object distribution.

    ``P(object j) ∝ exp(-|c_j|^2 / (2 sigma^2))``, ``c_j`` the object's centre in degrees from
    the display centre, fitted over a grid of sigma to every fixated object of ``episodes``.

    Parameters
    ----------
    episodes : sequence of ObjectEpisode
        Human episodes (training half).
    grid : array_like
        Candidate sigmas, degrees.

    Returns
    -------
    float
        Sigma in degrees.
    """
    best, best_ll = float(grid[0]), -math.inf
    for s in grid:
        ll = 0.0
        for e in episodes:
            d2 = (((e.centres - [e.width / 2.0, e.height / 2.0]) / e.px_per_degree) ** 2).sum(1)
            logp = -d2 / (2 * s * s)
            logp = logp - np.logaddexp.reduce(logp)
            ll += float(logp[np.asarray(e.sequence, dtype=np.int64)].sum())
        if ll > best_ll:
            best, best_ll = float(s), ll
    return best


def baseline_sequences(
    kind: str,
    episodes: Sequence[ObjectEpisode],
    n: int,
    lengths: Sequence[int],
    *,
    seed: int = 0,
    centre_sigma_deg: float | None = None,
) -> list[list[np.ndarray]]:
    """Object-level baseline scanpaths: random, centre-biased or nearest-neighbour objects.

    Every baseline scanpath draws its length from ``lengths`` (the human training lengths)
    and stops early when it fixates the target (a searcher stops on finding the target):

    - ``"random"``: each fixation on an object drawn uniformly, independently;
    - ``"centre"``: each fixation on an object drawn independently with probability
      ``∝ exp(-d^2 / (2 sigma^2))``, d the object's distance (degrees) from the display centre
      (``centre_sigma_deg``, fitted by :func:`fit_centre_sigma`);
    - ``"nearest"``: the first fixation on the object nearest the display centre, then always
      to the nearest object not yet fixated (ties at random).

    Parameters
    ----------
    kind : {"random", "centre", "nearest"}
    episodes : sequence of ObjectEpisode
        The displays.
    n : int
        Scanpaths per display.
    lengths : sequence of int
        Scanpath lengths to draw from.
    seed : int
    centre_sigma_deg : float, optional
        Required for ``"centre"``.

    Returns
    -------
    list of list of numpy.ndarray
        Per display, ``n`` object sequences.
    """
    if kind not in ("random", "centre", "nearest"):
        raise ValueError(f"unknown baseline {kind!r} (random, centre or nearest)")
    if kind == "centre" and not centre_sigma_deg:
        raise ValueError("the centre baseline needs centre_sigma_deg (fit_centre_sigma)")
    lengths = np.asarray(lengths, dtype=np.int64)
    out = []
    for i, e in enumerate(episodes):
        rng = np.random.default_rng([int(seed), i, {"random": 0, "centre": 1, "nearest": 2}[kind]])
        M = e.n_objects
        c_deg = (e.centres - [e.width / 2.0, e.height / 2.0]) / e.px_per_degree
        per = []
        for _ in range(n):
            L = _lengths_and_stop(rng, lengths)
            if kind == "random":
                seq = rng.integers(0, M, size=L).tolist()
            elif kind == "centre":
                logp = -(c_deg ** 2).sum(1) / (2 * centre_sigma_deg ** 2)
                p = np.exp(logp - logp.max())
                seq = rng.choice(M, size=L, p=p / p.sum()).tolist()
            else:
                seq, cur, left = [], np.zeros(2), set(range(M))
                for _ in range(min(L, M)):
                    idx = np.array(sorted(left))
                    d = np.hypot(*(c_deg[idx] - cur).T)
                    near = idx[np.isclose(d, d.min())]
                    k = int(near[rng.integers(len(near))])
                    seq.append(k)
                    left.discard(k)
                    cur = c_deg[k]
            per.append(np.asarray(_stop_at_target(seq, e.target), dtype=np.int64))
        out.append(per)
    return out


# ------------------------------------------------------------------------------ evaluation
def group_by_display(episodes: Sequence[ObjectEpisode]) -> tuple[list[ObjectEpisode], list[list[np.ndarray]]]:
    """One episode per display, and the human sequences of each display.

    Parameters
    ----------
    episodes : sequence of ObjectEpisode

    Returns
    -------
    displays : list of ObjectEpisode
        The first episode of each stimulus, in order of appearance.
    humans : list of list of numpy.ndarray
        The sequences of every episode of that stimulus.
    """
    order: dict[str, int] = {}
    displays, humans = [], []
    for e in episodes:
        if e.stimulus not in order:
            order[e.stimulus] = len(displays)
            displays.append(e)
            humans.append([])
        humans[order[e.stimulus]].append(np.asarray(e.sequence, dtype=np.int64))
    return displays, humans


def _pair_scores(pred: list[np.ndarray], human: list[np.ndarray], loso: bool = False) -> tuple[float, float, float]:
    from gazemodels.metrics.scanpath.sequence import edit_distance_aoi_batch, semantic_sequence_score_batch

    seqs = [*map(list, pred), *map(list, human)] if not loso else [*map(list, human)]
    if (loso and len(human) < 2) or not len(seqs) or (not loso and not (len(pred) and len(human))):
        return math.nan, math.nan, math.nan  # nothing to compare on this display
    if loso:
        pairs = [(a, b) for a in range(len(human)) for b in range(len(human)) if a != b]
    else:
        pairs = [(a, len(pred) + b) for a in range(len(pred)) for b in range(len(human))]
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    ss, _ = semantic_sequence_score_batch(seqs, pairs)
    ed, _ = edit_distance_aoi_batch(seqs, pairs)
    return float(np.nanmean(ss[:, 0])), float(np.nanmean(ed[:, 1])), float(np.nanmean(ed[:, 0]))


def _behaviour_rows(seqs_per_display: list[list[np.ndarray]], targets: Sequence[int]) -> np.ndarray:
    from gazemodels.metrics.behaviour import classify_visits

    rows = []
    for d, (seqs, t) in enumerate(zip(seqs_per_display, targets)):
        for s in seqs:
            if len(s) == 0:
                continue
            k = classify_visits(list(s))
            rows.append((d, len(s), (k == 0).sum(), (k == 1).sum(), (k == 2).sum(), float(s[-1] == t)))
    return np.asarray(rows, dtype=float).reshape(-1, 6)


def _behaviour_from_rows(rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = weights[rows[:, 0].astype(int)]
    tot = (w * rows[:, 1]).sum()
    return np.array([(w * rows[:, 5]).sum() / w.sum(), tot / w.sum(), (w * rows[:, 2]).sum() / tot,
                     (w * rows[:, 3]).sum() / tot, (w * rows[:, 4]).sum() / tot])


def _delta(model: np.ndarray, human: np.ndarray):
    """Mean relative difference over the statistics (last axis) whose human value is not 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(model - human) / np.abs(human)
    rel = np.where(human != 0, rel, np.nan)
    out = np.nanmean(rel, axis=-1) if np.isfinite(rel).any() else np.full(rel.shape[:-1], np.nan)
    return float(out) if np.ndim(out) == 0 else out


def evaluate_object_scanpaths(
    methods: dict[str, list[list[np.ndarray]]],
    humans: list[list[np.ndarray]],
    targets: Sequence[int],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ceiling: bool = True,
) -> pd.DataFrame:
    """Score object scanpaths against humans: sequence score, edit distance, OAT behaviour and Δ.

    Per display, every scanpath of a method is compared with every human scanpath of the display:
    the sequence score of the object strings (Needleman-Wunsch, the semantic sequence score) and
    the Levenshtein edit distance (normalised by the longer length, and raw); a display's value
    is the mean over those pairs. The five behavioural statistics of Fang et al. (2024)
    (:mod:`gazemodels.metrics.behaviour`) pool every scanpath of the method; Δ is their mean
    relative difference from the humans' statistics on the same displays (over the statistics
    whose human value is not 0, for which it is defined). The 95% intervals are
    percentile bootstraps over displays (the human statistics are recomputed on each resample).

    Parameters
    ----------
    methods : dict
        ``name -> per display, a list of object sequences``.
    humans : list of list of numpy.ndarray
        Per display, the human sequences.
    targets : sequence of int
        Per display, the target object.
    n_boot : int
    seed : int
    ceiling : bool
        Add a ``human (LOSO)`` row: each human against the other humans of the display.

    Returns
    -------
    pandas.DataFrame
        One row per method; columns ``ss``, ``ed``, ``ed_raw``, the statistics
        (:data:`gazemodels.metrics.behaviour.BEHAVIOUR_STATISTICS`) and ``delta``, each with
        ``_lo`` and ``_hi`` bounds; and ``n_scanpaths``.
    """
    from gazemodels.metrics.behaviour import BEHAVIOUR_STATISTICS

    D = len(humans)
    rng = np.random.default_rng(seed)
    draws = np.array([np.bincount(rng.integers(0, D, D), minlength=D) for _ in range(n_boot)],
                     dtype=float).reshape(int(n_boot), D)
    h_rows = _behaviour_rows(humans, targets)
    h_stat = _behaviour_from_rows(h_rows, np.ones(D))
    h_boot = np.stack([_behaviour_from_rows(h_rows, w) for w in draws]) if n_boot else None
    names = list(methods)
    table = []

    def ci(point, reps):
        if reps is None or not len(reps):
            return point, np.nan, np.nan
        lo, hi = np.nanquantile(reps, [0.025, 0.975])
        return point, float(lo), float(hi)

    def per_display_ci(vals):
        # displays without a comparison (one human, for the LOSO row) are left out
        vals = np.asarray(vals, dtype=float)
        ok = np.isfinite(vals)
        point = float(np.mean(vals[ok])) if ok.any() else math.nan
        reps = (draws[:, ok] @ vals[ok]) / np.maximum(draws[:, ok].sum(1), 1) if n_boot and ok.any() else None
        return ci(point, reps)

    rows_in = [(n, methods[n], False) for n in names]
    if ceiling:
        rows_in.append(("human (LOSO)", humans, True))
    for name, seqs, loso in rows_in:
        sc = np.array([_pair_scores(p, h, loso=loso) for p, h in zip(seqs, humans)])
        row = {"method": name}
        for j, key in enumerate(("ss", "ed", "ed_raw")):
            row[key], row[key + "_lo"], row[key + "_hi"] = per_display_ci(sc[:, j])
        rows = _behaviour_from_rows(_behaviour_rows(seqs, targets), np.ones(D)) if not loso else h_stat
        b_rows = _behaviour_rows(seqs, targets)
        reps = np.stack([_behaviour_from_rows(b_rows, w) for w in draws]) if n_boot else None
        for j, key in enumerate(BEHAVIOUR_STATISTICS):
            row[key], row[key + "_lo"], row[key + "_hi"] = ci(float(rows[j]), None if reps is None else reps[:, j])
        delta = _delta(rows, h_stat)
        d_reps = _delta(reps, h_boot) if n_boot else None
        row["delta"], row["delta_lo"], row["delta_hi"] = ci(delta, d_reps)
        row["n_scanpaths"] = int(sum(len(s) for s in seqs))
        table.append(row)
    return pd.DataFrame(table)


def format_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A Markdown table of :func:`evaluate_object_scanpaths`'s output, values with their CIs.

    Parameters
    ----------
    df : pandas.DataFrame
    digits : int

    Returns
    -------
    str
    """
    from gazemodels.metrics.behaviour import BEHAVIOUR_STATISTICS

    cols = [("ss", "SS ↑"), ("ed", "ED norm ↓"), *((k, k) for k in BEHAVIOUR_STATISTICS), ("delta", "Δ ↓")]
    head = "| method | " + " | ".join(c[1] for c in cols) + " |"
    sep = "|---" * (len(cols) + 1) + "|"
    lines = [head, sep]
    for _, r in df.iterrows():
        cells = []
        for key, _ in cols:
            v, lo, hi = r[key], r.get(key + "_lo", np.nan), r.get(key + "_hi", np.nan)
            d = 2 if key == "length" else digits
            cells.append(f"{v:.{d}f}" + (f" [{lo:.{d}f}, {hi:.{d}f}]" if np.isfinite(lo) else ""))
        lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ rule recovery
@torch.no_grad()
def rule_recovery(net: OATNet, episodes: Sequence[ObjectEpisode]) -> dict[str, float]:
    """How well a network reproduces rule scanpaths (:func:`~.oat_data.rule_array_episodes`) on new displays.

    Parameters
    ----------
    net : OATNet
    episodes : sequence of ObjectEpisode
        Rule episodes (``info["similarity"]`` set), displays not seen in training.

    Returns
    -------
    dict
        ``step_accuracy``: share of steps, given the rule's history (teacher forcing), whose
        most probable choice (an object, or stop) is the rule's; ``step_chance``: the same for a
        chooser uniform over the objects not yet fixated (and stop after the first step);
        ``similarity_accuracy``: on the steps that go to an object, the share of most probable
        choices that are an unfixated object as similar to the target as the rule's choice
        (the part of the rule that only appearance can tell); ``similarity_chance``: its uniform
        rate; ``stop_accuracy``: share of the final steps (after the target) predicted as stop;
        ``false_stop_rate``: share of the object steps after the first predicted as stop (a
        same-coloured distractor taken for the target); ``sequence_accuracy``: share of displays
        whose greedy (arg-max) scanpath equals the rule's, stop included; ``n_steps``.
    """
    net.eval()
    device = next(net.parameters()).device
    batch = _to(collate_episodes(list(episodes), net.config.template_px), device)
    pred = net(batch).argmax(-1).cpu().numpy()
    labels = batch["labels"].cpu().numpy()
    Mb = int(batch["boxes"].shape[1])  # the stop class of the padded batch
    hit = chance = sim_hit = sim_chance = 0.0
    n = n_obj = n_stop = stop_hit = n_cont = false_stop = 0
    for i, e in enumerate(episodes):
        M, seq, sim = e.n_objects, list(e.sequence), np.asarray(e.info["similarity"], dtype=float)
        for t in range(len(seq) + 1):
            lab, p = int(labels[i, t]), int(pred[i, t])
            lab = M if lab == Mb else lab
            p = M if p == Mb else p
            free = [j for j in range(M) if j not in set(seq[:t])]
            n_choices = len(free) + (1 if t > 0 else 0)
            n += 1
            hit += float(p == lab)
            chance += 1.0 / n_choices
            if lab == M:
                n_stop += 1
                stop_hit += int(p == M)
                continue
            n_obj += 1
            same = [j for j in free if np.isclose(sim[j], sim[lab])]
            sim_hit += float(p in same)
            sim_chance += len(same) / n_choices
            if t > 0:
                n_cont += 1
                false_stop += int(p == M)
    greedy = sample_sequences(net, episodes, 1, max_len=max(len(e.sequence) for e in episodes) + 2, greedy=True)
    exact = np.mean([np.array_equal(g[0], e.sequence) for g, e in zip(greedy, episodes)])
    return {
        "step_accuracy": hit / n, "step_chance": chance / n,
        "similarity_accuracy": sim_hit / max(n_obj, 1), "similarity_chance": sim_chance / max(n_obj, 1),
        "stop_accuracy": stop_hit / max(n_stop, 1), "false_stop_rate": false_stop / max(n_cont, 1),
        "sequence_accuracy": float(exact), "n_steps": int(n),
    }


# ------------------------------------------------------------------------------ training task

_CONFIG_OPTIONS = ("width", "heads", "encoder_depth", "decoder_depth", "mlp_ratio", "dropout", "appearance",
                   "target_location", "target_template", "stem_channels", "stem_stride", "roi_size",
                   "oat_sigma_deg", "template_px", "state_bias", "freeze_stem")


@register_task("oat")
class OATTask(Task):
    """``gazemodels fit`` task of the OAT-style model: Amazon book covers or rule object arrays.

    ``[task] dataset`` picks the data:

    - ``"amazon-book-covers"``: the collages of ``data_root`` split in halves by
      ``split_seed`` (:func:`~.oat_data.amazon_episodes`); the last ``n_val`` collages of the
      training half validate; training scanpaths longer than the mean + 3 SD are dropped
      (Fang et al. 2024); objects are the 14 x 6 slots, geometry only.
    - ``"rule-arrays"``: :func:`~.oat_data.rule_array_episodes` displays with images (seeds
      ``array_seed`` for training, ``array_seed + 1`` for validation, ``array_seed + 2`` for
      the test set), ``n_train`` / ``n_val_displays`` / ``n_test`` of them, ``set_size`` items
      of ``array_kind`` distractors at ``array_ppd`` px/deg.

    The other options are the fields of :class:`OATConfig`. Validation reports the
    teacher-forcing loss and accuracies; on the Amazon data also the sequence score and Δ of
    ``val_samples`` sampled scanpaths per collage against the humans, and on rule arrays the
    rule-recovery numbers (:func:`rule_recovery`). Early stopping follows ``val_loss``.
    """

    options = {
        "dataset": "amazon-book-covers",
        "data_root": "../shared/data/amazon-book-covers",
        "split_seed": 20240929,
        "n_val": 10,
        "max_len": 60,
        "val_samples": 3,
        "n_train": 2000,
        "n_val_displays": 100,
        "n_test": 200,
        "set_size": 8,
        "array_kind": "conjunction",
        "array_ppd": 6.0,
        "array_seed": 0,
        **{k: getattr(OATConfig(), k) for k in _CONFIG_OPTIONS},
    }
    path_options = ("data_root",)
    metric, mode = "val_loss", "min"

    def __init__(self, options: dict):
        super().__init__(options)
        if self.options["dataset"] not in ("amazon-book-covers", "rule-arrays"):
            raise ValueError(f"task.dataset: must be 'amazon-book-covers' or 'rule-arrays', got "
                             f"{self.options['dataset']!r}")
        try:
            self.config = OATConfig(**{k: self.options[k] for k in _CONFIG_OPTIONS})
        except ValueError as e:
            raise ValueError(f"task: {e}") from None
        self._splits: Splits | None = None

    @property
    def amazon(self) -> bool:
        """Whether the task trains on the Amazon book covers."""
        return self.options["dataset"] == "amazon-book-covers"

    def build_model(self) -> OATNet:
        """A fresh :class:`OATNet` of the task's config."""
        return OATNet(self.config)

    def datasets(self) -> Splits:
        """Train / validation / test episodes (lists of :class:`~.oat_data.ObjectEpisode`)."""
        if self._splits is not None:
            return self._splits
        o = self.options
        if self.amazon:
            d = _amazon_cached(str(o["data_root"]), int(o["split_seed"]), int(o["n_val"]))
            self._splits = Splits(drop_long_episodes(d["train"]), d["val"], d["test"])
        else:
            from gazemodels.models.scanpath.oat_data import RuleArrayDataset, rule_array_episodes

            kw = {"set_size": int(o["set_size"]), "kind": str(o["array_kind"]),
                  "px_per_degree": float(o["array_ppd"])}
            s = int(o["array_seed"])
            # training displays are drawn on demand (many, no memory); the others are kept
            self._splits = Splits(RuleArrayDataset(int(o["n_train"]), seed=s, **kw),
                                  rule_array_episodes(int(o["n_val_displays"]), seed=s + 1, **kw),
                                  rule_array_episodes(int(o["n_test"]), seed=s + 2, **kw))
        return self._splits

    def collate(self, items: list) -> dict:
        """:func:`collate_episodes`."""
        return collate_episodes(items, self.config.template_px)

    def loss(self, model, batch) -> tuple[Tensor, dict[str, float]]:
        """Teacher-forcing cross-entropy (:func:`episode_loss`), a mean over the batch's scanpaths."""
        loss, m = episode_loss(model(batch), batch["labels"])
        return loss, {k: float(v) for k, v in m.items()}

    def evaluate(self, model, dataset, *, batch_size: int, device) -> dict[str, float]:
        """Validation loss and accuracies, plus sampled-scanpath scores (see the class notes)."""
        out = evaluate_loss(model, list(dataset), batch_size=batch_size)
        if self.amazon:
            displays, humans = group_by_display(list(dataset))
            g = torch.Generator().manual_seed(0)
            pred = sample_sequences(model, displays, int(self.options["val_samples"]),
                                    max_len=int(self.options["max_len"]), generator=g)
            t = evaluate_object_scanpaths({"oat": pred}, humans, [e.target for e in displays], n_boot=0,
                                          ceiling=False)
            out.update({"val_seq_score": float(t["ss"].iloc[0]), "val_edit_distance": float(t["ed"].iloc[0]),
                        "val_delta": float(t["delta"].iloc[0])})
        else:
            out.update({f"val_rule_{k}": float(v) for k, v in rule_recovery(model, list(dataset)).items()})
        return out

    def to_scanpath_model(self, model) -> OATModel:
        """:class:`OATModel` around the trained network (grid slots on Amazon, object boxes otherwise)."""
        m = OATModel(net=model, grid=AMAZON_GRID if self.amazon else None)
        m.name = "oat"
        return m


_AMAZON_CACHE: dict = {}


def _amazon_cached(root: str, seed: int, n_val: int) -> dict:
    from gazemodels.models.scanpath.oat_data import amazon_episodes

    key = (root, seed, n_val)
    if key not in _AMAZON_CACHE:
        _AMAZON_CACHE[key] = amazon_episodes(root, seed=seed, n_val=n_val)
    return _AMAZON_CACHE[key]
