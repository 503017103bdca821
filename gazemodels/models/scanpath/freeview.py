"""A fixation-conditioned free-viewing model on the shared backbone, fitted by maximum likelihood.

Given an image, the fixation history and the current fixation, the model predicts a density
over the location of the next fixation and a distribution of its duration. This is the
conditional formulation of DeepGaze III (Kümmerer, Bethge & Wallis 2022): a scanpath's
likelihood factorises as ``p(x_0) prod_i p(x_i | x_0..x_{i-1}, image)``, each factor is a
density over the image, and the parameters maximise the log-likelihood of human scanpaths.
Sampling the factors in turn generates scanpaths.

The network
-----------
1. **Image part (once per image).** The frozen, ImageNet-trained EfficientNet-lite0 stem
   (stage 4: 112 channels at stride 16; its feature maps are computed once per image and
   cached, see :mod:`~gazemodels.models.scanpath.freeview_data`) and a
   :class:`~gazemodels.backbone.GazeBackbone` transformer over its patch tokens (15 x 20
   tokens of 16 px for the default 240 x 320 px input). The backbone sees the image from its
   centre (where the trial's central fixation cross is) with dense attention, so it runs once
   per image and is shared by every fixation on it. A per-token read-out gives an image-only
   priority (the saliency part of DeepGaze III), and a learned bias over the token positions
   the centre bias.
2. **Fixation-conditioned part (per fixation; cheap, like DeepGaze III's scanpath network of
   1 x 1 convolutions).** For the last ``history`` fixations (the current one first):

   - DeepGaze III's history features for every token cell: its offset (dx, dy) and distance,
     in degrees, from each fixation. The offset from the current fixation is the cell's
     retinal position, from which the model learns saccade amplitudes and directions; the
     others carry inhibition of return and returns;
   - a **glimpse** of each fixation: eccentricity-aware attention around the fixation, that
     is, a learned query attends over the image tokens with the Gaussian distance penalty of
     :func:`gazemodels.attention.ecc_attention` at zero eccentricity
     (``score_j = q . k_j / sqrt(D) - |p_j - f|^2 / (2 sigma^2)``, ``sigma`` learned): what
     the observer sees at and around that fixation. The glimpses, with the embedding of each
     fixation's position relative to the current one, form history tokens that modulate
     every cell's features (FiLM, Perez et al. 2018);
   - a residual MLP per cell and a linear read-out give a fixation-dependent logit, added to
     the image priority and the centre bias.

   The logits over the token grid are upsampled bilinearly ``upsample`` times (60 x 80 cells
   by default, 10 x 10 px on OSIE). Two learned **saccade tables** then add, at that
   resolution, a logit for each cell's offset from the current fixation (1 degree steps over
   +-36 degrees): one in the image frame (amplitudes, the horizontal bias of saccades), one in
   the frame of the previous saccade (saccadic momentum and returns; Smith & Henderson 2009).
   A softmax over the cells gives the probability of each cell, uniform inside it, i.e. a
   density ``p / cell_area`` per px^2 that integrates to 1 over the image.
3. **Duration head.** The next fixation's duration is log-normal, with mean and log standard
   deviation of ``log(duration / ms)`` read out from the cell features at the next
   fixation's location (teacher forcing in training, the sampled location in generation).

Why the backbone runs once per image: on two shared CPU cores, the ~42,000 transitions of
OSIE's fitting half leave no room for a transformer pass per fixation (the eccentricity-aware
CPU attention costs ~0.7 s per 300-token image pass with its backward); the per-fixation part
above costs ~1 ms per fixation, and an epoch takes 25-80 s depending on the load.

The training loss is the negative log-likelihood of the next fixation's cell (nats) plus
``duration_weight`` times the negative log-likelihood of its log-duration, each a mean over
transitions (images weighted equally, see :func:`~gazemodels.models.scanpath.freeview_data.collate_images`).

Scanpaths
---------
:class:`FreeviewModel` (registered as ``"freeview"``) samples scanpaths: fixation 0 at the mean
first fixation of the training data (OSIE's first fixation is on the central fixation cross: on
average at 46% of the width and 44% of the height; ``first_fixation="sample"`` draws it around
that mean instead), its duration from a gamma distribution
fitted to the first fixations; then each next fixation from the predicted density (a cell,
then a uniform position inside it; optionally sharpened by ``temperature < 1``, and optionally
reweighted by an empirical saccade prior, ``saccade_prior``), its duration from the duration
head. Positions come from the image's stream 0, durations from stream 1
(:func:`~gazemodels.models.scanpath.base.stimulus_rng`).

Samples are as varied as people are, and scanpath metrics reward the typical scanpath, not
the variety: ``decode="mbr"`` (minimum-Bayes-risk decoding,
:mod:`gazemodels.models.scanpath.mbr`) samples ``mbr_candidates`` times as many scanpaths
and keeps those of highest mean MultiMatch to the other samples, an estimate of their
expected MultiMatch under the model. The benchmark's freeview row uses it with 32
candidates (chosen on the fitting half; see ``benchmarks/tune_neva_osie.py``).

Fitting
-------
``gazemodels fit experiments/freeview_osie.toml --out runs/freeview_osie`` trains it on OSIE's
fitting half (:func:`gazemodels.datasets.splits.fixed_halves`, the halves of
``benchmarks/bench_osie_freeview.py``) with early stopping on held-out images of that half;
``best.pt`` is a :class:`FreeviewModel` for ``gazemodels predict --model runs/freeview_osie/best.pt``
and for the benchmark (``--param freeview.checkpoint=runs/freeview_osie/best.pt``).
:meth:`FreeviewModel.fit` trains the same network with a plain loop (used by the benchmark
when no checkpoint is given, and by the tests).

References
----------
Kümmerer, M., Bethge, M., & Wallis, T. S. A. (2022). DeepGaze III: Modeling free-viewing human
scanpaths with deep learning. Journal of Vision 22(5):7.

Kümmerer, M., & Bethge, M. (2021). State-of-the-art in human scanpath prediction.
arXiv:2102.12239.

Smith, T. J., & Henderson, J. M. (2009). Facilitation of return during scene viewing. Visual
Cognition 17(6-7):1083-1108.

Perez, E., Strub, F., de Vries, H., Dumoulin, V., & Courville, A. (2018). FiLM: Visual reasoning
with a general conditioning layer. AAAI.

Xu, J., Jiang, M., Wang, S., Kankanhalli, M. S., & Zhao, Q. (2014). Predicting human gaze beyond
pixels. Journal of Vision 14(1):28 (OSIE).
"""

from __future__ import annotations

import copy
import math
import sys
import time

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from gazemodels.backbone import GazeBackbone
from gazemodels.backbone.tokens import FourierPositionEmbedding, px_to_deg
from gazemodels.data.schema import FIXATION_COLUMNS
from gazemodels.datasets.splits import OSIE_SPLIT_SEED
from gazemodels.data.validate import validate_fixations
from gazemodels.models.registry import register_model
from gazemodels.models.scanpath.base import (
    ModelNotFittedError,
    ScanpathModel,
    check_predict_args,
    check_stimuli,
    load_image,
    positions_to_table,
    stimulus_rng,
)
from gazemodels.models.scanpath.durations import fit_duration_model
from gazemodels.models.scanpath.freeview_data import (
    FeatureCache,
    Geometry,
    ImageTransitions,
    build_transitions,
    collate_images,
    image_to_input,
)
from gazemodels.models.scanpath.mbr import mbr_select
from gazemodels.training.task import Splits, Task, register_task

__all__ = ["FreeviewModel", "FreeviewNet", "FreeviewTask", "freeview_loss", "train_freeview"]

LOG_2PI = math.log(2.0 * math.pi)

SACCADE_RANGE_DEG = 36.0
"""Half-width (degrees) of the saccade tables: offsets beyond it take the border value."""

TABLE_GAIN = 8.0
"""The saccade tables and the centre bias are stored divided by this gain. Adam moves every
parameter by about the learning rate per step, so a few hundred steps could not otherwise
build the several nats that these log-density tables span."""

NET_DEFAULTS: dict = {
    "input_height": 240,
    "input_width": 320,
    "stem": "efficientnet_lite0",
    "stem_stage": 4,
    "pretrained": True,
    "depth": 2,
    "width": 64,
    "heads": 4,
    "mlp_ratio": 2.0,
    "dropout": 0.0,
    "fourier_bands": 8,
    "head_width": 16,
    "history": 4,
    "upsample": 4,
    "glimpse_sigma": 1.0,
}
"""Architecture of :class:`FreeviewNet` (keyword arguments, also options of the ``freeview`` task).

``input_height`` x ``input_width``: model input in px, multiples of 16; ``stem``: the frozen
ImageNet-trained stem, ``"efficientnet_lite0"`` (or ``"efficientnet_lite1"``,
``"efficientnet_lite2"``: the ``stems`` extra); ``stem_stage``: its stage of the features
(stride 16: stage 3 or 4); ``pretrained``: load its ImageNet weights; ``depth``, ``width``,
``heads``, ``mlp_ratio``, ``dropout``, ``fourier_bands``: the image backbone
(:class:`~gazemodels.backbone.BackboneConfig`); ``head_width``: channels of the
fixation-conditioned part (its cost is per fixation and cell, so it is kept small);
``history``: fixations in the history, the current one included (DeepGaze III uses up to 4);
``upsample``: density cells per token side; ``glimpse_sigma``: initial width (degrees) of the
glimpse window."""


def _inv_softplus(y: float) -> float:
    return y + math.log(-math.expm1(-y))


class FreeviewNet(nn.Module):
    """Next-fixation density and duration given an image and a fixation history.

    See the module docstring for the design. Keyword arguments are those of
    :data:`NET_DEFAULTS`.

    Attributes
    ----------
    grid : (int, int)
        Rows and columns of the token grid.
    fine : (int, int)
        Rows and columns of the density cells (``grid * upsample``).
    """

    def __init__(self, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(NET_DEFAULTS))
        if unknown:
            raise ValueError(f"FreeviewNet: unknown argument(s) {unknown}; known: {sorted(NET_DEFAULTS)}")
        cfg = {**NET_DEFAULTS, **kwargs}
        H, W = int(cfg["input_height"]), int(cfg["input_width"])
        if H % 16 or W % 16 or H < 16 or W < 16:
            raise ValueError(f"input_height and input_width must be positive multiples of 16, got {H} x {W}")
        if int(cfg["history"]) < 1 or int(cfg["upsample"]) < 1:
            raise ValueError("history and upsample must be >= 1")
        self.cfg = cfg
        self.input_hw = (H, W)
        self.backbone = GazeBackbone(
            stem=str(cfg["stem"]), stem_stage=int(cfg["stem_stage"]), pretrained=bool(cfg["pretrained"]),
            stem_frozen=True, attention="dense", depth=int(cfg["depth"]), width=int(cfg["width"]),
            heads=int(cfg["heads"]), patch_size=16, mlp_ratio=float(cfg["mlp_ratio"]),
            dropout=float(cfg["dropout"]), fourier_bands=int(cfg["fourier_bands"]),
        )
        C, D, K = int(cfg["width"]), int(cfg["head_width"]), int(cfg["history"])
        self.grid = (H // 16, W // 16)
        up = int(cfg["upsample"])
        self.fine = (self.grid[0] * up, self.grid[1] * up)
        n_tok = self.grid[0] * self.grid[1]
        # image part
        self.priority = nn.Sequential(nn.LayerNorm(C), nn.Linear(C, C), nn.GELU(), nn.Linear(C, 1))
        self.centre_bias = nn.Parameter(torch.zeros(n_tok))
        self.cell_proj = nn.Linear(C, D)
        self.glimpse_key = nn.Linear(C, D)
        self.glimpse_value = nn.Linear(C, D)
        self.glimpse_query = nn.Parameter(torch.zeros(D))
        self.glimpse_sigma_raw = nn.Parameter(torch.tensor(_inv_softplus(float(cfg["glimpse_sigma"]))))
        # fixation-conditioned part
        bands = int(cfg["fourier_bands"])
        self.hist_pos = FourierPositionEmbedding(D, bands)
        self.history = K
        self.explicit = nn.Linear(4 * K, D)
        self.film = nn.Sequential(nn.LayerNorm(K * D), nn.Linear(K * D, 2 * D))
        nn.init.zeros_(self.film[-1].weight)
        nn.init.zeros_(self.film[-1].bias)
        self.mlp = nn.Sequential(nn.LayerNorm(D), nn.Linear(D, 2 * D), nn.GELU(), nn.Linear(2 * D, D))
        self.readout = nn.Linear(D, 1)
        # saccade tables at the resolution of the density cells: logits over the offset from the
        # current fixation (1 deg steps, +-SACCADE_RANGE_DEG), in the image frame and in the frame of
        # the previous saccade (saccadic momentum and returns)
        n_tab = 2 * int(SACCADE_RANGE_DEG) + 1
        self.saccade_table = nn.Parameter(torch.zeros(1, 1, n_tab, n_tab))
        self.momentum_table = nn.Parameter(torch.zeros(1, 1, n_tab, n_tab))
        self.duration_head = nn.Sequential(nn.LayerNorm(D), nn.Linear(D, D), nn.GELU(), nn.Linear(D, 2))
        with torch.no_grad():  # start at the OSIE log-duration statistics (log 190 ms, sd 0.55)
            self.duration_head[-1].weight.mul_(0.1)
            self.duration_head[-1].bias.copy_(torch.tensor([math.log(190.0), math.log(0.55)]))

    # ------------------------------------------------------------------------------ geometry
    @property
    def n_cells(self) -> int:
        """Number of density cells.

        Returns
        -------
        int
        """
        return self.fine[0] * self.fine[1]

    def cell_centres_px(self) -> Tensor:
        """Centres of the token cells.

        Returns
        -------
        Tensor
            ``(rows * cols, 2)`` model px, row-major.
        """
        return self.backbone.patch_tokens.grid_centres_px(self.grid)

    def _deg(self, xy_px: Tensor, ppd: Tensor) -> Tensor:
        return px_to_deg(xy_px, self.input_hw, ppd)

    # ------------------------------------------------------------------------------ image part
    def encode_images(self, features: Tensor | None = None, ppd: Tensor | None = None,
                      images: Tensor | None = None) -> dict:
        """Run the image part once per image.

        Parameters
        ----------
        features : Tensor, optional
            ``(B, C_stem, h, w)`` cached stem features (or give ``images``).
        ppd : Tensor
            ``(B,)`` model pixels per degree.
        images : Tensor, optional
            ``(B, 3, H, W)`` input images in [0, 1] at the input size.

        Returns
        -------
        dict
            ``tokens (B, N, C)``, ``pos_deg (B, N, 2)`` token centres in stimulus degrees,
            ``prior (B, N)`` image priority plus centre bias (logits), ``cells (B, N, D)``,
            ``gkey (B, N)`` glimpse content scores, ``gval (B, N, D)``, ``ppd (B,)``.
        """
        B = (features if features is not None else images).shape[0]
        ppd = torch.as_tensor(ppd, dtype=torch.float32).reshape(B)
        centre = torch.tensor([self.input_hw[1] / 2.0, self.input_hw[0] / 2.0]).expand(B, 2)
        out = self.backbone(images, features=features, fixation_px=centre, px_per_degree=ppd,
                            image_hw=self.input_hw)
        tokens = out.tokens
        pos_deg = out.positions_deg + out.fixation_deg[:, None, :]
        prior = self.priority(tokens).squeeze(-1) + TABLE_GAIN * self.centre_bias
        D = self.cell_proj.out_features
        gkey = self.glimpse_key(tokens) @ self.glimpse_query / math.sqrt(D)
        return {"tokens": tokens, "pos_deg": pos_deg, "prior": prior, "cells": self.cell_proj(tokens),
                "gkey": gkey, "gval": self.glimpse_value(tokens), "ppd": ppd}

    # ------------------------------------------------------------------------------ fixation part
    def transition_features(self, enc: dict, history_px: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Cell features and logits over the token grid for histories on each image.

        Parameters
        ----------
        enc : dict
            From :meth:`encode_images` (B images).
        history_px : Tensor
            ``(B, T, K, 2)``: T histories per image, model px, current fixation first (padding
            histories are allowed: their values do not matter).
        mask : Tensor
            ``(B, T, K)`` bool: which history slots hold a fixation.

        Returns
        -------
        features : Tensor
            ``(B, T, N, D)`` cell features (input of the duration head).
        logits : Tensor
            ``(B, T, N)`` token-grid logits (unnormalised).
        """
        B, T, K, _ = history_px.shape
        if K != self.history:
            raise ValueError(f"history has {K} slots, the network was built for {self.history}")
        m = mask.to(history_px.dtype)
        hist = self._deg(history_px, enc["ppd"]) * m[..., None]  # (B, T, K, 2) stimulus degrees
        pos = enc["pos_deg"]  # (B, N, 2)
        N = pos.shape[1]
        # DeepGaze III's history features: offset and distance of every cell from each fixation
        delta = pos[:, None, :, None, :] - hist[:, :, None, :, :]  # (B, T, N, K, 2); k = 0: retinal position
        dist = delta.norm(dim=-1)  # (B, T, N, K)
        mk = m[:, :, None, :].expand(-1, -1, N, -1)
        explicit = torch.cat([delta * (mk / 10.0)[..., None], (dist * mk / 10.0)[..., None], mk[..., None]], dim=-1)
        x = enc["cells"][:, None] + self.explicit(explicit.flatten(-2))  # (B, T, N, D)
        # glimpses: attention of a learned query over the image tokens, in a Gaussian window of learned
        # width around each fixation (eccentricity-aware attention for a query at the fovea, whose
        # window is sigma0; gazemodels.attention)
        sg = F.softplus(self.glimpse_sigma_raw) + 1e-3
        gdist2 = (pos[:, None, None, :, :] - hist[:, :, :, None, :]).square().sum(-1)  # (B, T, K, N)
        gw = torch.softmax(enc["gkey"][:, None, None, :] - gdist2 / (2 * sg * sg), dim=-1)
        glimpse = (gw.reshape(B, T * K, N) @ enc["gval"]).reshape(B, T, K, -1)  # (B, T, K, D)
        f = hist[:, :, :1, :]  # current fixation
        htok = (glimpse + self.hist_pos(hist - f)) * m[..., None]  # (B, T, K, D), most recent first
        # the history tokens modulate every cell's features (FiLM, Perez et al. 2018)
        gamma, beta = self.film(htok.flatten(-2)).chunk(2, dim=-1)  # (B, T, D)
        x = x * (1.0 + gamma[:, :, None, :]) + beta[:, :, None, :]
        x = x + self.mlp(x)
        logits = self.readout(x).squeeze(-1) + enc["prior"][:, None, :]
        return x, logits

    def fine_logits(self, logits: Tensor, enc: dict, history_px: Tensor, mask: Tensor) -> Tensor:
        """Token-grid logits to logits of the density cells, with the saccade tables added.

        The token-grid logits are upsampled bilinearly; then every density cell gets the value
        of the learned saccade table at its offset (degrees) from the current fixation, and
        of the momentum table at that offset expressed along and across the previous saccade
        (when there is one): the distribution of saccade vectors at the density's own
        resolution, which the 16 px token grid would blur.

        Parameters
        ----------
        logits : Tensor
            ``(B, T, N)`` from :meth:`transition_features`.
        enc : dict
            From :meth:`encode_images`.
        history_px, mask : Tensor
            As for :meth:`transition_features`.

        Returns
        -------
        Tensor
            ``(B, T, rows_f * cols_f)`` unnormalised, row-major over the density cells.
        """
        B, T, _ = logits.shape
        rf, cf = self.fine
        H, W = self.input_hw
        up = F.interpolate(logits.reshape(B * T, 1, *self.grid), size=self.fine, mode="bilinear",
                           align_corners=False)
        ys = (torch.arange(rf, dtype=logits.dtype) + 0.5) * (H / rf)
        xs = (torch.arange(cf, dtype=logits.dtype) + 0.5) * (W / cf)
        centres = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # (rf, cf, 2) model px
        ppd = enc["ppd"].to(logits.dtype)[:, None, None, None, None]
        cur = history_px[:, :, 0].to(logits.dtype)[:, :, None, None, :]
        rel = (centres[None, None] - cur) / ppd  # (B, T, rf, cf, 2) deg, x right, y down
        # one table, one grid of all cells of all transitions (no per-transition copy of the table)
        grid = (rel / SACCADE_RANGE_DEG).reshape(1, B * T * rf, cf, 2)
        sac = F.grid_sample(TABLE_GAIN * self.saccade_table.to(logits.dtype), grid, mode="bilinear",
                            padding_mode="border", align_corners=True)
        up = up + sac.reshape(B * T, 1, rf, cf)
        if history_px.shape[2] < 2:  # no previous fixation in a one-fixation history
            return up.reshape(B, T, rf * cf)
        prev = history_px[:, :, 1].to(logits.dtype)[:, :, None, None, :]
        step = (cur - prev) / ppd  # (B, T, 1, 1, 2) previous saccade, deg
        amp = step.norm(dim=-1, keepdim=True)
        has_prev = (mask[:, :, 1] & (amp[:, :, 0, 0, 0] > 1e-3)).to(logits.dtype)
        u = step / amp.clamp_min(1e-3)
        along = (rel * u).sum(-1)
        across = rel[..., 1] * u[..., 0] - rel[..., 0] * u[..., 1]
        grid_m = (torch.stack([along, across], dim=-1) / SACCADE_RANGE_DEG).reshape(1, B * T * rf, cf, 2)
        mom = F.grid_sample(TABLE_GAIN * self.momentum_table.to(logits.dtype), grid_m, mode="bilinear",
                            padding_mode="border", align_corners=True)
        up = up + mom.reshape(B * T, 1, rf, cf) * has_prev.reshape(B * T, 1, 1, 1)
        return up.reshape(B, T, rf * cf)

    @staticmethod
    def fine_log_probs(fine_logits: Tensor) -> Tensor:
        """Normalise density-cell logits: natural-log probabilities summing to 1 over the cells.

        Parameters
        ----------
        fine_logits : Tensor
            ``(..., n_cells)`` from :meth:`fine_logits`.

        Returns
        -------
        Tensor
            Same shape.
        """
        return torch.log_softmax(fine_logits, dim=-1)

    def cell_index(self, xy_px: Tensor) -> tuple[Tensor, Tensor]:
        """Density-cell and token-cell indices of model-px positions.

        Parameters
        ----------
        xy_px : Tensor
            ``(..., 2)`` model px.

        Returns
        -------
        fine, coarse : Tensor
            Row-major indices into the density cells and the token cells.
        """
        H, W = self.input_hw
        rf, cf = self.fine
        rg, cg = self.grid
        x = xy_px[..., 0].clamp(0, W - 1e-4)
        y = xy_px[..., 1].clamp(0, H - 1e-4)
        fine = (y * rf / H).long().clamp(max=rf - 1) * cf + (x * cf / W).long().clamp(max=cf - 1)
        coarse = (y * rg / H).long().clamp(max=rg - 1) * cg + (x * cg / W).long().clamp(max=cg - 1)
        return fine, coarse

    def duration_params(self, features: Tensor, coarse: Tensor) -> tuple[Tensor, Tensor]:
        """Log-normal parameters of the next fixation's duration at given token cells.

        Parameters
        ----------
        features : Tensor
            ``(B, T, N, D)`` from :meth:`transition_features`.
        coarse : Tensor
            ``(B, T)`` token-cell index of the next fixation.

        Returns
        -------
        mu, sigma : Tensor
            ``(B, T)``: mean and standard deviation of ``log(duration / ms)``.
        """
        idx = coarse[..., None, None].expand(-1, -1, 1, features.shape[-1])
        at = features.gather(2, idx).squeeze(2)
        mu, log_sigma = self.duration_head(at).unbind(-1)
        return mu, log_sigma.clamp(-3.0, 2.0).exp()

    def forward(self, batch: dict) -> dict:
        """Per-transition negative log-likelihoods of a collated batch.

        Parameters
        ----------
        batch : dict
            From :func:`~gazemodels.models.scanpath.freeview_data.collate_images`.

        Returns
        -------
        dict
            ``(B, T)`` tensors: ``nll_pos`` (nats, the next fixation's cell), ``nll_dur`` (nats,
            its log-duration; 0 where unknown) and ``has_dur`` (float).
        """
        enc = self.encode_images(batch["features"], batch["ppd"])
        feats, logits = self.transition_features(enc, batch["history"], batch["mask"])
        logp = self.fine_log_probs(self.fine_logits(logits, enc, batch["history"], batch["mask"]))
        fine, coarse = self.cell_index(batch["target"])
        nll_pos = -logp.gather(-1, fine[..., None]).squeeze(-1)
        mu, sigma = self.duration_params(feats, coarse)
        d = batch["duration"]
        has = torch.isfinite(d) & (d > 0) & (batch["weight"] > 0)
        z = torch.log(torch.where(has, d, torch.ones_like(d)))
        nll_dur = torch.log(sigma) + 0.5 * LOG_2PI + 0.5 * ((z - mu) / sigma) ** 2
        return {"nll_pos": nll_pos, "nll_dur": torch.where(has, nll_dur, torch.zeros_like(nll_dur)),
                "has_dur": has.to(nll_pos.dtype)}


def freeview_loss(model, batch: dict, duration_weight: float = 1.0, n_cells: int | None = None):
    """The maximum-likelihood loss of a batch and its log metrics.

    Parameters
    ----------
    model : FreeviewNet or DistributedDataParallel of one
        The network (called, not reached into).
    batch : dict
        A collated batch (:func:`~gazemodels.models.scanpath.freeview_data.collate_images`).
    duration_weight : float
        Weight of the duration NLL.
    n_cells : int, optional
        Number of density cells, for the information gain over a uniform density.

    Returns
    -------
    loss : Tensor
        Scalar: the mean over the batch's images of the mean over each image's transitions of
        ``nll_pos + duration_weight * nll_dur``.
    metrics : dict
        ``nll_pos`` (nats), ``nll_dur`` (nats of log-duration), ``ig_uniform_bits`` (bits per
        fixation over a uniform density), all means over images as the loss.
    """
    out = model(batch)
    w = batch["weight"]  # (B, T): 1 / (B * n_i) on real transitions, 0 on padding
    nll_pos = (w * out["nll_pos"]).sum()
    # each image's duration NLL is the mean over its transitions with a known duration
    has = out["has_dur"]
    frac = has.sum(1, keepdim=True) / (w > 0).sum(1, keepdim=True).clamp_min(1)
    nll_dur = (w * has * out["nll_dur"] / frac.clamp_min(1e-12)).sum()
    loss = nll_pos + duration_weight * nll_dur
    metrics = {"nll_pos": float(nll_pos.detach()), "nll_dur": float(nll_dur.detach())}
    if n_cells:
        metrics["ig_uniform_bits"] = float((math.log(n_cells) - nll_pos.detach()) / math.log(2.0))
    return loss, metrics


# ---------------------------------------------------------------------------------------- training
def _evaluate(net: FreeviewNet, dataset, batch_images: int, duration_weight: float) -> dict:
    """Item-weighted mean loss and metrics of a dataset (no gradients)."""
    sums: dict[str, float] = {}
    n_total = len(dataset)
    was = net.training
    net.eval()
    with torch.no_grad():
        for start in range(0, n_total, batch_images):
            items = [dataset[i] for i in range(start, min(start + batch_images, n_total))]
            loss, metrics = freeview_loss(net, collate_images(items), duration_weight, net.n_cells)
            for k, v in {"loss": float(loss), **metrics}.items():
                sums[k] = sums.get(k, 0.0) + v * len(items)
    net.train(was)
    return {k: v / n_total for k, v in sums.items()}


def train_freeview(
    net: FreeviewNet,
    train_set,
    val_set=None,
    *,
    epochs: int = 8,
    batch_images: int = 4,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    patience: int = 3,
    seed: int = 0,
    duration_weight: float = 1.0,
    progress: bool = False,
) -> list[dict]:
    """Fit a :class:`FreeviewNet` by maximum likelihood with Adam (the loop of :meth:`FreeviewModel.fit`).

    ``gazemodels fit`` trains the same loss through :class:`FreeviewTask` with the shared
    trainer (checkpoints, resume, distributed); this plain loop serves :meth:`FreeviewModel.fit`.

    Parameters
    ----------
    net : FreeviewNet
        The network, trained in place; with a validation set it ends with the weights of the
        best validation loss.
    train_set, val_set : ImageTransitions
        Training and (optional) validation items.
    epochs : int
        Most passes over the training images.
    batch_images : int
        Images per step.
    lr, weight_decay : float
        Adam(W) settings.
    patience : int
        Stop after this many epochs without a lower validation loss (0: never).
    seed : int
        Seed of the data order (a permutation per epoch from ``default_rng([seed, epoch])``).
    duration_weight : float
        Weight of the duration NLL in the loss.
    progress : bool
        Print one line per epoch to stderr.

    Returns
    -------
    list of dict
        Per epoch: ``epoch``, ``train_loss``, ``seconds`` and the ``val_*`` metrics.
    """
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    history, best, best_state, bad = [], math.inf, None, 0
    n = len(train_set)
    for epoch in range(epochs):
        t0 = time.perf_counter()
        net.train()
        order = np.random.default_rng([seed, epoch]).permutation(n)
        tot = 0.0
        for start in range(0, n, batch_images):
            items = [train_set[int(i)] for i in order[start:start + batch_images]]
            loss, _ = freeview_loss(net, collate_images(items), duration_weight, net.n_cells)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            tot += float(loss.detach()) * len(items)
        row = {"epoch": epoch + 1, "train_loss": tot / max(n, 1)}
        if val_set is not None and len(val_set):
            row.update({f"val_{k}": v for k, v in _evaluate(net, val_set, batch_images, duration_weight).items()})
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        if progress:
            print("freeview fit: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items()), file=sys.stderr, flush=True)
        if "val_loss" in row:
            if row["val_loss"] < best:
                best, best_state, bad = row["val_loss"], copy.deepcopy(net.state_dict()), 0
            else:
                bad += 1
                if patience and bad >= patience:
                    break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return history


SACCADE_PRIOR_RANGE_DEG = 36
"""Half-width (degrees) of the saccade-vector histogram of ``FreeviewModel(saccade_prior=...)``."""


def _split_validation(names: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Fixed training and validation images: a seeded permutation of the sorted names, ``fraction`` held out."""
    names = sorted(names)
    if fraction <= 0 or len(names) < 2:
        return names, []
    perm = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n_val = min(len(names) - 1, max(1, round(fraction * len(names))))
    return sorted(perm[n_val:]), sorted(perm[:n_val])


def _first_fixation_stats(fixations: pd.DataFrame, stimuli: pd.DataFrame):
    """Mean and covariance of the normalised position, and gamma duration model, of the first fixations."""
    size = stimuli.assign(stimulus=stimuli["stimulus"].astype(str)).set_index("stimulus")[["width", "height"]]
    fx = fixations.assign(stimulus=fixations["stimulus"].astype(str))
    first = fx.sort_values("fix_index", kind="stable").groupby(["stimulus", "subject", "trial"], sort=False).head(1)
    first = first[first["x"].notna() & first["y"].notna()]
    wh = size.loc[first["stimulus"]].to_numpy(float)
    uv = np.clip(first[["x", "y"]].to_numpy(float) / wh, 0.0, 1.0)
    first_uv = uv.mean(axis=0) if len(uv) else np.array([0.5, 0.5])
    first_cov = np.cov(uv.T) if len(uv) >= 3 else np.diag([0.01, 0.01])
    try:
        durations = fit_duration_model(first)
    except ValueError:
        from gazemodels.models.scanpath.durations import DEFAULT_DURATION_MODEL

        durations = DEFAULT_DURATION_MODEL
    return first_uv, first_cov, durations


def _prepare(net: FreeviewNet, fixations: pd.DataFrame, stimuli: pd.DataFrame, names: list[str], cache_dir,
             progress: bool = False) -> ImageTransitions:
    """Cached features and transitions of the named images, as training items."""
    stim = stimuli.assign(stimulus=stimuli["stimulus"].astype(str)).set_index("stimulus").loc[names].reset_index()
    cache = FeatureCache(net.backbone.stem, net.input_hw, cache_dir)
    feats = cache.get(stim, progress=progress)
    ppd = np.array([Geometry.of(r, net.input_hw).model_ppd for _, r in stim.iterrows()])
    tr = build_transitions(fixations, stim, net.history, net.input_hw)
    return ImageTransitions(feats, ppd, tr)


# ---------------------------------------------------------------------------------------- scanpath model
@register_model(
    "freeview",
    smoke_kwargs={"input_height": 32, "input_width": 48, "stem_stage": 3, "pretrained": False, "depth": 1,
                  "width": 16, "heads": 2, "head_width": 8, "epochs": 1, "cache_dir": ""},
)
class FreeviewModel(ScanpathModel):
    """Fixation-conditioned free-viewing model (DeepGaze III-style), fitted by maximum likelihood.

    Parameters
    ----------
    checkpoint : str or os.PathLike, optional
        A fitted model file (``runs/NAME/best.pt`` of ``gazemodels fit`` with the ``freeview``
        task, or :func:`gazemodels.models.save_model` of a fitted model). The model is then
        ready, and :meth:`fit` only checks that the data it is given contains every image the
        network was trained on (so a benchmark cannot score a model on its training images).
    temperature : float, default 1.0
        Sampling temperature: the next fixation is drawn from ``p ** (1 / temperature)``
        (renormalised); 1 samples the fitted density.
    saccade_prior : float, default 0.0
        Exponent ``beta`` of an empirical saccade-vector prior multiplied into the next-fixation
        density at sampling time: the cell probabilities become ``p ** (1 / temperature) *
        q(dx, dy) ** beta`` (renormalised), where ``q`` is a histogram of the human saccade
        vectors (degrees, 1-degree bins over +-36 degrees, Gaussian-smoothed with a 1-degree
        sigma, floored) of the images the network was trained on, evaluated at the offset of each
        cell centre from the current fixation. It is fitted by :meth:`fit` (a checkpointed
        model: on its training images among those given, its validation images left out) or
        :meth:`fit_saccade_prior`. 0 (the default) leaves sampling unchanged; the
        conditional densities (:meth:`conditional_log_density`) never use it. Must be a finite
        number >= 0.
    saccade_prior_kind : {"vector", "direction"}, default "vector"
        ``"vector"``: ``q`` is the histogram itself (amplitude and direction); ``"direction"``:
        the histogram divided by its mean over the ring of equal amplitude (1-degree rings), i.e.
        the direction given the amplitude relative to an isotropic one, so the prior reweights
        directions (e.g. the horizontal bias) without changing the amplitude distribution. On
        the validation images of OSIE's fitting half, ``saccade_prior=2`` with ``"direction"``
        at temperature 1 raised MultiMatch direction most safely (table in
        ``benchmarks/tune_neva_osie.py``); the vector prior lowered it.
    temperature_mode : {"global", "amplitude"}, default "global"
        ``"global"``: ``temperature`` (and the saccade prior) apply to the whole density;
        ``"amplitude"``: afterwards every 1-degree ring of saccade amplitude around the current
        fixation is rescaled to its mass under the fitted density, so the temperature and the
        prior only choose among locations at equal amplitude and the fitted amplitude
        distribution is kept (a lower global temperature shortens the saccades instead).
    decode : {"sample", "mbr"}, default "sample"
        ``"sample"``: each scanpath is a sample of the model. ``"mbr"``: minimum-Bayes-risk
        decoding (:func:`~gazemodels.models.scanpath.mbr.mbr_select`): ``mbr_candidates`` times
        as many scanpaths are sampled and those with the highest mean MultiMatch similarity
        (vector, direction, length, position) to the other samples are returned, i.e. the
        scanpaths of highest expected MultiMatch under the model. It trades the variety of the
        samples for their typicality, which is what MultiMatch and the sequence score reward.
        The OSIE benchmark uses it with ``mbr_candidates=32``, chosen on OSIE's fitting half
        (``benchmarks/tune_neva_osie.py``; results in ``experiments/freeview_osie.toml``).
    mbr_candidates : int, default 4
        Candidates per returned scanpath with ``decode="mbr"`` (MultiMatch is computed for all
        pairs of the ``n_scanpaths * mbr_candidates`` candidates of an image).
    first_fixation : {"mean", "sample"}, default "mean"
        Fixation 0 (on the central cross at trial onset in OSIE) is placed at the mean first
        fixation of the training data in every scanpath; ``"sample"`` draws it from a Gaussian
        fitted to those first fixations (normalised coordinates, truncated to the image). On
        the validation images of OSIE's fitting half, ``"mean"`` scored higher on every
        MultiMatch dimension, ScanMatch and the sequence score.
    epochs, batch_images, lr, weight_decay, patience, val_fraction, seed, duration_weight : optional
        Training settings of :meth:`fit` (see :func:`train_freeview`); ``val_fraction`` of the
        images (at least one, seeded) are held out for early stopping.
    cache_dir : str, optional
        Folder of the cached stem features (default
        :data:`~gazemodels.models.scanpath.freeview_data.DEFAULT_CACHE_DIR`; ``""``: no cache).
    progress : bool, default False
        Report training progress on stderr.
    **net_kwargs
        Architecture, see :data:`NET_DEFAULTS`.

    Attributes
    ----------
    net : FreeviewNet or None
        The fitted network (None before fitting).
    first_uv, first_cov : numpy.ndarray
        Mean and covariance of the first fixations of the training data, as fractions of the
        width and height: the distribution of fixation 0.
    durations : GammaModel
        Duration model of fixation 0 (gamma fitted to the first fixations); later durations
        come from the network's duration head.
    trained_on : list of str
        The images (stimulus names) the network was fitted on, validation images included.
    """

    requires_fit = True

    def __init__(self, checkpoint=None, *, temperature: float = 1.0, saccade_prior: float = 0.0,
                 saccade_prior_kind: str = "vector", temperature_mode: str = "global",
                 decode: str = "sample", mbr_candidates: int = 4, first_fixation: str = "mean",
                 epochs: int = 8, batch_images: int = 4,
                 lr: float = 2e-3, weight_decay: float = 0.0, patience: int = 3, val_fraction: float = 0.1,
                 seed: int = 0, duration_weight: float = 1.0, cache_dir=None, progress: bool = False,
                 **net_kwargs):
        unknown = sorted(set(net_kwargs) - set(NET_DEFAULTS))
        if unknown:
            raise ValueError(f"freeview: unknown argument(s) {unknown}; architecture arguments: {sorted(NET_DEFAULTS)}")
        self.saccade_log_hist: np.ndarray | None = None
        self.set_predict_settings(temperature=temperature, temperature_mode=temperature_mode,
                                  saccade_prior=saccade_prior, saccade_prior_kind=saccade_prior_kind,
                                  decode=decode, mbr_candidates=mbr_candidates, first_fixation=first_fixation)
        self.epochs, self.batch_images, self.lr = int(epochs), int(batch_images), float(lr)
        self.weight_decay, self.patience, self.val_fraction = float(weight_decay), int(patience), float(val_fraction)
        self.seed, self.duration_weight = int(seed), float(duration_weight)
        self.cache_dir = cache_dir
        self.progress = bool(progress)
        self.net_kwargs = dict(net_kwargs)
        self.net: FreeviewNet | None = None
        self.first_uv = np.array([0.5, 0.5])
        self.first_cov = np.zeros((2, 2))
        self.trained_on: list[str] = []
        self.from_checkpoint = ""
        self.fit_history: list[dict] = []
        if checkpoint is not None and str(checkpoint) != "":
            self._load(checkpoint)

    PREDICT_SETTINGS = ("temperature", "temperature_mode", "saccade_prior", "saccade_prior_kind", "decode",
                        "mbr_candidates", "first_fixation")
    """The settings of how a fitted model samples (:meth:`set_predict_settings`)."""

    def set_predict_settings(self, **settings) -> FreeviewModel:
        """Set how the model samples scanpaths, checking each value (also on a loaded checkpoint).

        Parameters
        ----------
        **settings
            Any of :attr:`PREDICT_SETTINGS`, as in the class parameters. A ``saccade_prior > 0``
            set on a loaded model needs :meth:`fit` (or :meth:`fit_saccade_prior`) before it
            predicts.

        Returns
        -------
        FreeviewModel
            ``self``.

        Raises
        ------
        ValueError
            Naming an unknown setting or a bad value.
        """
        unknown = sorted(set(settings) - set(self.PREDICT_SETTINGS))
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; a fitted freeview model takes "
                             f"{list(self.PREDICT_SETTINGS)}")
        choices = {"temperature_mode": ("global", "amplitude"), "saccade_prior_kind": ("vector", "direction"),
                   "decode": ("sample", "mbr"), "first_fixation": ("mean", "sample")}
        for key, value in settings.items():
            if key in choices:
                if value not in choices[key]:
                    raise ValueError(f"{key} must be one of {list(choices[key])}, got {value!r}")
            elif key == "mbr_candidates":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"mbr_candidates must be an integer >= 1, got {value!r}")
            else:
                ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                      and (value > 0 if key == "temperature" else value >= 0))
                if not ok:
                    bound = "a positive number" if key == "temperature" else "a finite number >= 0"
                    raise ValueError(f"{key} must be {bound}, got {value!r}")
                value = float(value)
            setattr(self, key, value)
        return self

    @classmethod
    def from_network(cls, net: FreeviewNet, *, first_uv, first_cov, durations, trained_on,
                     temperature: float = 1.0, first_fixation: str = "mean") -> FreeviewModel:
        """Wrap a trained network (what ``gazemodels fit`` stores in ``best.pt``).

        Parameters
        ----------
        net : FreeviewNet
            Trained network.
        first_uv, first_cov : array_like
            Mean and covariance of the normalised position of fixation 0.
        durations : GammaModel
            Duration model of fixation 0.
        trained_on : list of str
            Training (and validation) image names.
        temperature : float
            Sampling temperature.
        first_fixation : {"mean", "sample"}
            How fixation 0 is placed.

        Returns
        -------
        FreeviewModel
            Fitted.
        """
        m = cls(temperature=temperature, first_fixation=first_fixation,
                **{k: v for k, v in net.cfg.items() if k in NET_DEFAULTS})
        m.net = net.eval()
        m.first_uv = np.asarray(first_uv, dtype=float)
        m.first_cov = np.asarray(first_cov, dtype=float)
        m.durations = durations
        m.trained_on = sorted(map(str, trained_on))
        m.fitted = True
        m.name = "freeview"
        return m

    def _load(self, path) -> None:
        from gazemodels.models.registry import load_model

        other = load_model(path)
        if not isinstance(other, FreeviewModel) or other.net is None:
            raise ValueError(f"{path}: not a fitted freeview model (it holds {type(other).__name__})")
        self.net = other.net.eval()
        self.net_kwargs = {k: v for k, v in self.net.cfg.items() if k in NET_DEFAULTS}
        self.first_uv = other.first_uv
        self.first_cov = other.first_cov
        self.durations = other.durations
        self.trained_on = list(other.trained_on)
        self.fit_history = list(getattr(other, "fit_history", []))
        self.from_checkpoint = str(path)
        self.fitted = True

    # ------------------------------------------------------------------ fitting
    def fit(self, fixations: pd.DataFrame, stimuli: pd.DataFrame | None = None, *, fit_durations: bool = True):
        """Fit the network by maximum likelihood on human scanpaths (or check a loaded one).

        A model built with ``checkpoint=`` is already fitted: it is not trained again, but
        every image it was trained on must be among ``stimuli`` (the data it is "fitted" on),
        or a ``ValueError`` names the others.

        Parameters
        ----------
        fixations : pandas.DataFrame
            Human fixation table (``duration`` used when present).
        stimuli : pandas.DataFrame
            Stimulus table with a ``path`` for every image of ``fixations``.
        fit_durations : bool, default True
            Fit the first fixation's duration model (the duration head is always trained).

        Returns
        -------
        FreeviewModel
            ``self``.
        """
        if stimuli is None:
            raise ValueError("freeview.fit needs the stimulus table (the images)")
        validate_fixations(fixations, stimuli, allow_offscreen=True, source="fit")
        names = sorted(set(fixations["stimulus"].astype(str)) & set(stimuli["stimulus"].astype(str)))
        if self.from_checkpoint:
            outside = sorted(set(self.trained_on) - set(stimuli["stimulus"].astype(str)))
            if outside:
                raise ValueError(f"freeview model {self.from_checkpoint}: trained on {len(outside)} image(s) that are "
                                 f"not in the fitting data, e.g. {outside[:5]}; it would be scored on its own "
                                 "training images")
            if self.saccade_prior > 0:
                train_names, _ = _split_validation(self.trained_on, self.val_fraction, self.seed)
                self.fit_saccade_prior(fixations, stimuli, train_names)
            self.fitted = True
            return self
        stim = stimuli.assign(stimulus=stimuli["stimulus"].astype(str))
        check_stimuli(stim[stim["stimulus"].isin(names)], need_path=True)
        if not names:
            raise ValueError("freeview.fit: no fixation falls on a stimulus of the table")
        net = FreeviewNet(**self.net_kwargs)
        train_names, val_names = _split_validation(names, self.val_fraction, self.seed)
        train = _prepare(net, fixations, stim, train_names, self.cache_dir, self.progress)
        val = _prepare(net, fixations, stim, val_names, self.cache_dir, self.progress) if val_names else None
        if len(train) == 0:
            raise ValueError("freeview.fit: no scanpath with two or more fixations to learn from")
        torch.manual_seed(self.seed)
        self.fit_history = train_freeview(
            net, train, val, epochs=self.epochs, batch_images=self.batch_images, lr=self.lr,
            weight_decay=self.weight_decay, patience=self.patience, seed=self.seed,
            duration_weight=self.duration_weight, progress=self.progress)
        self.net = net.eval()
        uv, cov, first_dur = _first_fixation_stats(fixations[fixations["stimulus"].astype(str).isin(names)], stim)
        self.first_uv, self.first_cov = uv, cov
        if fit_durations:
            self.durations = first_dur
        self.trained_on = names
        if self.saccade_prior > 0:
            self.fit_saccade_prior(fixations, stim, train_names)
        self.fitted = True
        return self

    def __setstate__(self, state):
        # Models pickled before the saccade prior existed: no prior.
        state.setdefault("saccade_prior", 0.0)
        state.setdefault("saccade_prior_kind", "vector")
        state.setdefault("saccade_log_hist", None)
        state.setdefault("temperature_mode", "global")
        state.setdefault("decode", "sample")
        state.setdefault("mbr_candidates", 4)
        self.__dict__.update(state)

    def fit_saccade_prior(self, fixations: pd.DataFrame, stimuli: pd.DataFrame, names=None) -> np.ndarray:
        """Fit the saccade-vector prior of ``saccade_prior`` (maximum likelihood: a smoothed histogram).

        Parameters
        ----------
        fixations : pandas.DataFrame
            Human fixation table (``stimulus``, ``subject``, ``trial``, ``fix_index``, ``x``, ``y``).
        stimuli : pandas.DataFrame
            Stimulus table with ``px_per_degree``.
        names : list of str, optional
            Images whose saccades are counted (default all of ``fixations``).

        Returns
        -------
        numpy.ndarray
            ``(73, 73)`` natural-log probabilities of the 1-degree bins of ``(dy, dx)`` from -36
            to 36 degrees (``saccade_prior_kind="direction"``: divided by their ring means); also
            stored as ``saccade_log_hist``.
        """
        from scipy.ndimage import gaussian_filter

        fx = fixations.assign(stimulus=fixations["stimulus"].astype(str))
        if names is not None:
            fx = fx[fx["stimulus"].isin(set(map(str, names)))]
        ppd = stimuli.assign(stimulus=stimuli["stimulus"].astype(str)).set_index("stimulus")["px_per_degree"]
        fx = fx.sort_values(["stimulus", "subject", "trial", "fix_index"], kind="stable")
        d = fx.groupby(["stimulus", "subject", "trial"], sort=False)[["x", "y"]].diff()
        ok = d["x"].notna() & d["y"].notna()
        deg = d[ok].to_numpy(float) / ppd.loc[fx.loc[ok, "stimulus"]].to_numpy(float)[:, None]
        r = SACCADE_PRIOR_RANGE_DEG
        edges = np.arange(-r - 0.5, r + 1.0, 1.0)
        hist, _, _ = np.histogram2d(deg[:, 1], deg[:, 0], bins=(edges, edges))
        hist = gaussian_filter(hist, 1.0, mode="constant") + 1e-3 * max(hist.sum(), 1.0) / hist.size
        hist = hist / hist.sum()
        if self.saccade_prior_kind == "direction":
            off = np.arange(-r, r + 1)
            ring = np.rint(np.hypot(off[:, None], off[None, :])).astype(int)
            ring_mean = np.bincount(ring.ravel(), hist.ravel()) / np.bincount(ring.ravel())
            hist = hist / ring_mean[ring]
        self.saccade_log_hist = np.log(hist)
        return self.saccade_log_hist

    def _cell_offsets_deg(self, geom: Geometry, pos_model: np.ndarray, rows: int, cols: int):
        """Offsets (degrees) of every density cell's centre from the current fixations, ``(n, rows, cols)`` each."""
        H, W = self._check_ready().input_hw
        sx, sy = geom.scale
        cx = (np.arange(cols) + 0.5) * W / cols
        cy = (np.arange(rows) + 0.5) * H / rows
        dx = (cx[None, None, :] - pos_model[:, 0, None, None]) / sx / geom.px_per_degree
        dy = (cy[None, :, None] - pos_model[:, 1, None, None]) / sy / geom.px_per_degree
        return np.broadcast_to(dx, (len(pos_model), rows, cols)), np.broadcast_to(dy, (len(pos_model), rows, cols))

    def _saccade_log_prior(self, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Log prior of each density cell from its offsets (:meth:`_cell_offsets_deg`), ``(n, rows * cols)``."""
        if self.saccade_log_hist is None:
            raise ModelNotFittedError("saccade_prior > 0 needs the fitted saccade histogram (fit or fit_saccade_prior)")
        r = SACCADE_PRIOR_RANGE_DEG
        ix = np.clip(np.rint(dx + r), 0, 2 * r).astype(int)
        iy = np.clip(np.rint(dy + r), 0, 2 * r).astype(int)
        return self.saccade_log_hist[iy, ix].reshape(len(dx), -1)

    @staticmethod
    def _keep_amplitudes(p: np.ndarray, p_fit: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Rescale ``p`` so that each 1-degree ring of saccade amplitude has its mass under ``p_fit``.

        ``dx, dy`` are the cells' offsets from the current fixations (:meth:`_cell_offsets_deg`).
        ``temperature_mode="amplitude"``: the temperature and the saccade prior then only choose
        among the locations at (about) equal distance from the current fixation; the distribution
        of saccade amplitudes stays the fitted density's.
        """
        ring = np.rint(np.hypot(dx, dy)).astype(np.int64).reshape(len(p), -1)
        n_rings = int(ring.max()) + 1
        flat = ring + n_rings * np.arange(len(p))[:, None]
        mass = np.bincount(flat.ravel(), (p_fit / p_fit.sum(axis=1, keepdims=True)).ravel(),
                           minlength=n_rings * len(p))
        mass_p = np.bincount(flat.ravel(), p.ravel(), minlength=n_rings * len(p))
        scale = np.divide(mass, mass_p, out=np.zeros_like(mass), where=mass_p > 0)
        return p * scale[flat]

    # ------------------------------------------------------------------ densities
    def _check_ready(self) -> FreeviewNet:
        if self.net is None:
            raise ModelNotFittedError("model 'freeview' must be fitted (fit, or checkpoint=) before it predicts")
        return self.net

    @torch.no_grad()
    def _encode(self, image: np.ndarray, geom: Geometry) -> dict:
        net = self._check_ready()
        x = image_to_input(image, net.input_hw)[None]
        return net.encode_images(images=x, ppd=torch.tensor([geom.model_ppd], dtype=torch.float32))

    @property
    def density_grid(self) -> tuple[int, int]:
        """Rows and columns of the density cells (equal cells tiling the image).

        Returns
        -------
        (int, int)
        """
        return self._check_ready().fine

    @torch.no_grad()
    def conditional_log_density(self, image: np.ndarray, stimulus: pd.Series, scanpaths,
                                start: int = 1) -> list[np.ndarray]:
        """Log-probabilities of the density cells for every fixation of human scanpaths given its history.

        For fixation ``i >= start`` of a scanpath, the map is the model's prediction given
        fixations ``0 .. i-1`` (the conditional density of Kümmerer et al. 2022), as natural-log
        probabilities of the :attr:`density_grid` cells (each cell covers ``width / cols`` x
        ``height / rows`` stimulus px; the density per px^2 is ``exp(map) / cell_area``).

        Parameters
        ----------
        image : numpy.ndarray
            RGB ``uint8`` image at the stimulus size.
        stimulus : pandas.Series
            Its stimulus-table row.
        scanpaths : sequence of (n_i, 2) arrays
            Fixation positions in stimulus px, in order.
        start : int, default 1
            First scored fixation (>= 1: fixation 0 has no history).

        Returns
        -------
        list of numpy.ndarray
            Per scanpath, ``(max(n_i - start, 0), rows, cols)`` float64.
        """
        if start < 1:
            raise ValueError("start must be >= 1: the first fixation has no history to condition on")
        net = self._check_ready()
        geom = Geometry.of(stimulus, net.input_hw)
        enc = self._encode(image, geom)
        K = net.history
        hists, masks, counts = [], [], []
        for sp in scanpaths:
            xy = geom.to_model(np.asarray(sp, dtype=float).reshape(-1, 2))
            n = len(xy)
            k = 0
            for i in range(start, n):
                h = np.zeros((K, 2))
                m = np.zeros(K, dtype=bool)
                for j in range(K):
                    if i - 1 - j >= 0:
                        h[j] = xy[i - 1 - j]
                        m[j] = True
                hists.append(h)
                masks.append(m)
                k += 1
            counts.append(k)
        rows, cols = net.fine
        if not hists:
            return [np.zeros((0, rows, cols)) for _ in counts]
        out = []
        H = torch.as_tensor(np.stack(hists), dtype=torch.float32)
        M = torch.as_tensor(np.stack(masks))
        for a in range(0, len(H), 256):
            h, m = H[None, a:a + 256], M[None, a:a + 256]
            _, logits = net.transition_features(enc, h, m)
            out.append(net.fine_log_probs(net.fine_logits(logits, enc, h, m).double())[0].numpy())
        maps = np.concatenate(out).reshape(-1, rows, cols)
        res, at = [], 0
        for k in counts:
            res.append(maps[at:at + k])
            at += k
        return res

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def _sample(self, image, stimulus, n_scanpaths, n_fixations, rng, rng_dur=None):
        if self.decode == "sample":
            return self._draw(image, stimulus, n_scanpaths, n_fixations, rng, rng_dur)
        pos, dur = self._draw(image, stimulus, n_scanpaths * self.mbr_candidates, n_fixations, rng, rng_dur)
        keep = mbr_select(list(pos), n_scanpaths, (float(stimulus["width"]), float(stimulus["height"])))
        return pos[keep], dur[keep]

    @torch.no_grad()
    def _draw(self, image, stimulus, n_scanpaths, n_fixations, rng, rng_dur=None):
        net = self._check_ready()
        geom = Geometry.of(stimulus, net.input_hw)
        enc = self._encode(image, geom)
        H, W = net.input_hw
        rows, cols = net.fine
        K = net.history
        pos = np.zeros((n_scanpaths, n_fixations, 2))
        pos[:, 0] = self._first_positions(rng, n_scanpaths) * np.array([W, H])
        dur = np.zeros((n_scanpaths, n_fixations))
        if rng_dur is not None:
            dur[:, 0] = self.durations.sample(rng_dur, n_scanpaths)
        beta = self.saccade_prior
        for i in range(1, n_fixations):
            hist = np.zeros((n_scanpaths, K, 2))
            mask = np.zeros((n_scanpaths, K), dtype=bool)
            for j in range(K):
                if i - 1 - j >= 0:
                    hist[:, j] = pos[:, i - 1 - j]
                    mask[:, j] = True
            h = torch.as_tensor(hist[None], dtype=torch.float32)
            m = torch.as_tensor(mask[None])
            feats, logits = net.transition_features(enc, h, m)
            logp_fit = net.fine_log_probs(net.fine_logits(logits, enc, h, m).double())[0].numpy()
            logp = logp_fit / self.temperature
            if beta > 0 or self.temperature_mode == "amplitude":
                dx, dy = self._cell_offsets_deg(geom, pos[:, i - 1], rows, cols)
            if beta > 0:
                logp = logp + beta * self._saccade_log_prior(dx, dy)
            p = np.exp(logp - logp.max(axis=1, keepdims=True))
            if self.temperature_mode == "amplitude":
                p = self._keep_amplitudes(p, np.exp(logp_fit), dx, dy)
            cdf = np.cumsum(p, axis=1)
            u = rng.random(n_scanpaths) * cdf[:, -1]
            cell = np.minimum((cdf < u[:, None]).sum(axis=1), rows * cols - 1)
            within = rng.random((n_scanpaths, 2))
            pos[:, i, 0] = (cell % cols + within[:, 0]) * W / cols
            pos[:, i, 1] = (cell // cols + within[:, 1]) * H / rows
            if rng_dur is not None:
                _, coarse = net.cell_index(torch.as_tensor(pos[None, :, i], dtype=torch.float32))
                mu, sigma = net.duration_params(feats, coarse)
                z = rng_dur.standard_normal(n_scanpaths)
                dur[:, i] = np.exp(mu[0].double().numpy() + sigma[0].double().numpy() * z)
        return geom.to_stimulus(pos), np.maximum(dur, 1.0)

    def _first_positions(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Normalised positions of fixation 0: drawn from the fitted Gaussian (truncated to the image), or its mean."""
        mean = np.asarray(self.first_uv, dtype=float)
        cov = np.asarray(getattr(self, "first_cov", np.zeros((2, 2))), dtype=float)
        if self.first_fixation == "mean" or not np.any(cov):
            return np.tile(mean, (n, 1))
        out = np.empty((0, 2))
        for _ in range(100):
            d = rng.multivariate_normal(mean, cov, size=2 * n, method="eigh")
            out = np.vstack([out, d[((d >= 0) & (d <= 1)).all(axis=1)]])[:n]
            if len(out) == n:
                return out
        return np.vstack([out, np.tile(mean, (n - len(out), 1))])

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """Sampled positions of the scanpaths on one image; durations come with :meth:`predict`.

        Parameters
        ----------
        image : numpy.ndarray
            RGB ``uint8`` image at the stimulus size.
        stimulus : pandas.Series
            Its stimulus-table row.
        n_scanpaths, n_fixations : int
            How many scanpaths, and fixations in each.
        rng : numpy.random.Generator
            The image's position stream (:func:`~gazemodels.models.scanpath.base.stimulus_rng`, stream 0).

        Returns
        -------
        numpy.ndarray
            ``(n_scanpaths, n_fixations, 2)`` stimulus px.
        """
        return self._sample(image, stimulus, n_scanpaths, n_fixations, rng)[0]

    def predict(self, stimuli: pd.DataFrame, n_scanpaths: int, n_fixations: int, seed: int) -> pd.DataFrame:
        """Sample scanpaths with durations from the duration head (see :meth:`ScanpathModel.predict`).

        Positions come from each image's stream 0 and durations from its stream 1
        (:func:`~gazemodels.models.scanpath.base.stimulus_rng`), so the positions equal those of
        :meth:`generate` with the same seed.

        Parameters
        ----------
        stimuli : pandas.DataFrame
            Stimulus table with image paths.
        n_scanpaths, n_fixations, seed : int
            As in :meth:`ScanpathModel.predict`.

        Returns
        -------
        pandas.DataFrame
            Fixation table; ``attrs`` as in the contract.
        """
        check_predict_args(n_scanpaths, n_fixations, seed)
        if not self.fitted or self.net is None:
            raise ModelNotFittedError("model 'freeview' must be fitted (fit, or checkpoint=) before predict")
        check_stimuli(stimuli, need_path=True)
        tables = []
        for _, row in stimuli.iterrows():
            w, h = float(row["width"]), float(row["height"])
            image = load_image(row["path"], size=(round(w), round(h)))
            pos, dur = self._sample(image, row, n_scanpaths, n_fixations, stimulus_rng(seed, row["stimulus"], 0),
                                    stimulus_rng(seed, row["stimulus"], 1))
            tables.append(positions_to_table(pos, row["stimulus"], dur))
        out = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame({c: [] for c in FIXATION_COLUMNS})
        out.attrs = {"model": self.name or "freeview", "seed": int(seed), "n_scanpaths": int(n_scanpaths),
                     "n_fixations": int(n_fixations)}
        return out


# ---------------------------------------------------------------------------------------- gazemodels fit
@register_task("freeview")
class FreeviewTask(Task):
    """``gazemodels fit`` task: the free-viewing model on a data set's fitting half (OSIE by default).

    Options (``[task]`` table) are :data:`NET_DEFAULTS` and:

    ``dataset``, ``data_root``
        The data set (:func:`gazemodels.datasets.load`) and its folder.
    ``split_seed``
        Seed of the fixed halves (:func:`gazemodels.datasets.splits.fixed_halves`); training
        uses the fitting half only, the other half is the benchmark's.
    ``val_fraction``, ``val_seed``
        Share of the fitting half's images held out for early stopping, and its seed.
    ``max_images``
        Use only the first N images of the fitting half (0: all), for quick runs and tests.
    ``cache_dir``
        Folder of the cached stem features (``""``: the default,
        :data:`~gazemodels.models.scanpath.freeview_data.DEFAULT_CACHE_DIR`).
    ``duration_weight``
        Weight of the duration NLL in the loss.
    ``temperature``, ``first_fixation``
        Sampling settings of the scanpath model in ``best.pt`` (see :class:`FreeviewModel`).

    The validation metric is ``val_loss`` (mean NLL per fixation: position in nats plus
    ``duration_weight`` times log-duration in nats); ``val_ig_uniform_bits`` is the
    information gain of the position density over a uniform one, bits per fixation.
    """

    options = {
        "dataset": "osie",
        "data_root": "../shared/data/osie",
        "split_seed": OSIE_SPLIT_SEED,
        "val_fraction": 0.1,
        "val_seed": 0,
        "max_images": 0,
        "cache_dir": "",
        "duration_weight": 1.0,
        "temperature": 1.0,
        "first_fixation": "mean",
        **NET_DEFAULTS,
    }
    path_options = ("data_root",)
    metric, mode = "val_loss", "min"

    def _net_kwargs(self) -> dict:
        return {k: self.options[k] for k in NET_DEFAULTS}

    def build_model(self) -> FreeviewNet:
        """The untrained network (its stem is the one that computes the cached features).

        Returns
        -------
        FreeviewNet
        """
        self._net = FreeviewNet(**self._net_kwargs())
        return self._net

    def datasets(self) -> Splits:
        """Training and validation images of the fitting half, as image items.

        Returns
        -------
        Splits
            :class:`~gazemodels.models.scanpath.freeview_data.ImageTransitions` of the training
            and validation images (no test split: the evaluation half is the benchmark's).
        """
        import warnings

        from gazemodels.datasets import load
        from gazemodels.datasets.splits import fixed_halves

        o = self.options
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # absent images are reported by the data set's loader
            ds = load(o["dataset"], root=o["data_root"])
        fit_names, _ = fixed_halves(ds.stimuli, o["split_seed"])
        if o["max_images"] > 0:
            fit_names = fit_names[: o["max_images"]]
        train_names, val_names = _split_validation(fit_names, o["val_fraction"], o["val_seed"])
        if not val_names:
            raise ValueError("task.val_fraction: the validation split is empty (need > 0 and at least 2 images)")
        net = getattr(self, "_net", None) or FreeviewNet(**self._net_kwargs())
        cache = o["cache_dir"] or None
        stim = ds.stimuli.assign(stimulus=ds.stimuli["stimulus"].astype(str))
        fix = ds.fixations.assign(stimulus=ds.fixations["stimulus"].astype(str))
        fix = fix[fix["stimulus"].isin(fit_names)]
        train = _prepare(net, fix, stim, train_names, cache, progress=True)
        val = _prepare(net, fix, stim, val_names, cache, progress=True)
        self._first_uv, self._first_cov, self._first_durations = _first_fixation_stats(fix, stim)
        self._trained_on = list(fit_names)
        self._n_cells = net.n_cells
        return Splits(train, val)

    def collate(self, items: list):
        """Batch image items (:func:`~gazemodels.models.scanpath.freeview_data.collate_images`).

        Parameters
        ----------
        items : list of dict
            Image items.

        Returns
        -------
        dict
        """
        return collate_images(items)

    def loss(self, model, batch):
        """The maximum-likelihood loss (:func:`freeview_loss` with the task's ``duration_weight``).

        Parameters
        ----------
        model : FreeviewNet or DistributedDataParallel of one
            The network.
        batch : dict
            A collated batch.

        Returns
        -------
        loss : Tensor
        metrics : dict
        """
        return freeview_loss(model, batch, self.options["duration_weight"], getattr(self, "_n_cells", None))

    def to_scanpath_model(self, model) -> FreeviewModel:
        """The trained network as a :class:`FreeviewModel` (for ``best.pt``).

        Parameters
        ----------
        model : FreeviewNet
            CPU copy of the trained network.

        Returns
        -------
        FreeviewModel
        """
        return FreeviewModel.from_network(model, first_uv=self._first_uv, first_cov=self._first_cov,
                                          durations=self._first_durations, trained_on=self._trained_on,
                                          temperature=self.options["temperature"],
                                          first_fixation=self.options["first_fixation"])
