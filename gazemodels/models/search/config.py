"""The search model's configuration: every choice, checked on construction, and the ablations.

:class:`SearchModelConfig` is the explicit contract of :class:`~gazemodels.models.search.VisualSearchModel`:
a frozen dataclass whose construction rejects any invalid combination with a message naming
each problem. :data:`ABLATIONS` names the config changes of the model's ablations. How each
default was chosen (on object arrays, never on the search-asymmetry RTs) is recorded in
:mod:`gazemodels.models.search.model`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from gazemodels.backbone.config import EFFICIENTNET_LITE0_STAGES, EFFICIENTNET_LITE_STAGES
from gazemodels.models.search.pooling import POOL_IMPLS, POOL_REDUCTIONS

__all__ = [
    "ABLATIONS",
    "ECCNET_POOLING",
    "SearchModelConfig",
    "apply_ablation",
    "eccnet_gaussian_pooling",
]

ECCNET_POOLING: dict[int, tuple[float, float, float]] = {3: (2 / 8, 3.5 * 0.02, 2.0), 4: (2 / 4, 8 * 0.02, 2.0),
                                                         5: (2 / 2, 16 * 0.02, 2.0)}
"""eccNET's pooling windows per VGG16 block: ``block -> (rf_min_deg, ecc_slope, fovea_radius_deg)``.

In eccNET (Gupta et al. 2021, ``vs_model/ecc_net.py``, ``eccParamDefault``) block ``b``'s
average-pooling window is ``rf_min`` = 2 px at that block's resolution (30 / 2^(b-1) px/deg)
inside a 4-deg fovea, and beyond it grows as ``rf_min + ecc_slope * (2 ecc - 4 deg)`` (in that
block's pixels): in degrees, ``rf(ecc) = rf_min_deg + 2 ecc_slope (ecc - 2)``."""


def eccnet_gaussian_pooling(block: int) -> tuple[float, float]:
    """Gaussian ``(sigma0, slope)`` equivalent to eccNET's pooling window at a VGG16 block.

    A box window of width ``w`` has the variance of a Gaussian of width ``w / sqrt(12)``; the
    linear growth ``2 ecc_slope`` of eccNET's window beyond its fovea becomes the slope, and its
    foveal window the foveal width (we drop the 2-deg plateau, so the pooling is slightly wider
    at 0-2 deg than eccNET's).

    Parameters
    ----------
    block : {3, 4, 5}
        VGG16 block whose pooling eccNET made eccentricity-dependent.

    Returns
    -------
    (float, float)
        ``sigma0`` (deg) and ``slope`` (deg per deg).
    """
    rf_min, ecc_slope, _ = ECCNET_POOLING[block]
    k = 1.0 / math.sqrt(12.0)
    return rf_min * k, 2.0 * ecc_slope * k


_DEFAULT_POOL = tuple(eccnet_gaussian_pooling(b) for b in (3, 4, 5))

ABLATIONS: dict[str, dict] = {
    "none": {},
    "no_ecc": {"eccentricity": False},
    "no_ecc_fovea": {"eccentricity": False, "constant_width": "fovea"},
    "no_topdown": {"topdown": False},
    "random_stem": {"pretrained": False},
}
"""Named ablations: the config fields each one changes."""

LAYER_WEIGHTS = ("max", "equal")
NORMALISATIONS = ("minmax", "none")
BASELINES = ("none", "background")
NOISE_GROWTHS = ("pooling", "constant")
MATCHES = ("dot", "cosine", "contain")
TEMPLATES = ("full", "mean")
GAINS = ("none", "snr")
TEMPLATE_POOLINGS = ("fovea", "eccentric")


@dataclass(frozen=True)
class SearchModelConfig:
    """Every choice of the search model.

    Parameters
    ----------
    stages : tuple of int, default (2, 4, 6)
        EfficientNet-lite0 block stages that are the model's layers (strides 8, 16, 32 px),
        one per resolution as eccNET used VGG16's blocks 3, 4 and 5.
    sigma0_deg : tuple of float, default eccNET's
        Foveal pooling width per stage, degrees (:func:`eccnet_gaussian_pooling` of blocks
        3, 4, 5: 0.072, 0.144, 0.289).
    slope : tuple of float, default eccNET's
        Growth of the pooling width per degree of eccentricity, per stage (0.040, 0.092, 0.185).
    cutoff : float, default 3.0
        Pooling excludes keys beyond ``cutoff * sigma``.
    layer_weights : {"max", "equal"}, default "max"
        Combination of the stages' normalised correlation maps: weights proportional to each
        map's raw maximum (eccNET) or equal.
    normalise : {"minmax", "none"}, default "minmax"
        Each stage's correlation map is min-max normalised over the display before the stages
        are combined (eccNET), or kept in its own units (``"none"``: with ``match="cosine"``
        the map is the cosine similarity itself, so the priority noise is in cosine units,
        the same for every display).
    baseline : {"none", "background"}, default "none"
        Subtract from the features of the display and of the template the stem's response to a
        blank canvas of the same size in the background colour (``"background"``): every unit
        then codes its response above the one to an empty display, so the matching compares the
        items and not the background around them that every item's window shares.
    match : {"dot", "cosine", "contain"}, default "cosine"
        Template matching: the unnormalised dot product of eccNET, or the cosine of the template
        and the window under it (energy-normalised; slower, all channels are pooled), or the
        share of the template's feature mass that the window holds (``"contain"``,
        :func:`~gazemodels.models.search.matching.containment`: an asymmetric similarity,
        Tversky 1977, the feature-presence account of search asymmetries, Treisman & Gormican
        1988; needs non-negative features, as ``pooling="max"`` does).
    template : {"full", "mean"}, default "full"
        The template's cells as the kernel, or its mean feature vector repeated over its extent.
    rectify : bool, default True
        Half-wave rectify the features (a no-op for the hidden units, which are ReLU6 outputs;
        see :class:`~gazemodels.models.search.features.MultiStageStem`).
    layer : {"hidden", "output"}, default "hidden"
        Read each stage at the ReLU6 units of its last block, or at its (linear) output.
    stem : {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}, default lite0
        The ImageNet-trained stem (:data:`~gazemodels.backbone.config.EFFICIENTNET_LITE_STAGES`);
        lite1 and lite2 need the ``stems`` extra. The block stages keep their strides in all
        three (lite1 and lite2 have more blocks per stage, lite2 more channels), so ``stages``
        and the pooling widths carry over unchanged.
    pretrained : bool, default True
        ImageNet stem; False is the random-stem ablation.
    eccentricity : bool, default True
        Eccentricity-dependent pooling; False is the constant-width ablation.
    constant_width : {"mean", "fovea"}, default "mean"
        The width of the constant pooling when ``eccentricity=False``: ``"mean"``, the mean
        width the eccentricity model uses over the display's cells from the central fixation
        (the same overall blur, without its dependence on eccentricity; ablation ``no_ecc``);
        ``"fovea"``, the foveal width ``sigma0_deg`` everywhere, i.e. foveal resolution at every
        location, as in eccNET's own no-eccentricity ablation, which is plain VGG16 (its
        ``eccNET_noecc``; Gupta et al. 2021; ablation ``no_ecc_fovea``). The priority noise
        is then constant at the matching level.
    topdown : bool, default True
        Target guidance; False is the uniform-priority ablation.
    target_margin_deg : float, default 0.0
        Item boxes (and the target box of the stopping rule) are grown by this much on every
        side. Fixations go to the highest point of an item's box, so with the default the
        stopping rule is "the fixated item is the target".
    max_fixations : int or None, default None
        Most fixations per search, the initial one included; None: set size + 1.
    check_initial : bool, default False
        Let the initial central fixation find the target (eccNET does not).
    image_scale : float, default 1.0
        Resize displays and templates by this factor before the stem (pixels per degree scale
        with it; fixations are returned in the display's own pixels).
    max_image_px : int, default 352
        Displays whose larger side exceeds this (after ``image_scale``) are shrunk to it,
        templates with them (0: no limit). The stem then sees every display at no more than
        about the scale of its ImageNet training images (224-320 px), and the cost of a search
        stays bounded; of the six asymmetry experiments only the 20.5-deg intersection and T/L
        displays (615 px at 30 px/deg) are affected, shrunk by 0.57.
    canvas_margin_px : int, default 16
        Background border around the display and the template, px (the canvas is then rounded
        up to a multiple of 32 px).
    noise : float, default 1e-6
        Size of the seeded tie-breaking noise, relative to the priority range.
    priority_noise : float, default 0.015
        Standard deviation, at the fovea, of the Gaussian noise added to every item's priority
        (the map lies in [0, 1]) at every fixation: a signal-detection "late noise" (Palmer,
        Verghese & Pavel 2000). 0 turns it off. The default is fitted on object arrays, see
        :mod:`gazemodels.models.search.model`.
    noise_growth : {"pooling", "constant"}, default "pooling"
        How the noise's standard deviation depends on the item's eccentricity: in proportion to
        the model's pooling width there (``"pooling"``: ``priority_noise * sum_l sigma_l(ecc) /
        sum_l sigma0_l``, the mean over the layers; constant widths in the no-eccentricity
        ablation, so constant noise there), or the same everywhere (``"constant"``).
    bottom_up : float, default 2.0
        Weight of a bottom-up term added to every item's priority (Guided Search: priority is
        top-down plus bottom-up activation, Wolfe 1994): the item's dissimilarity, ``1 -
        cosine``, to the mean of all items, with the features pooled as seen from the current
        fixation at each item's centre, averaged over the layers. A singleton among alike
        distractors stands out; among heterogeneous distractors every item does. The default
        is chosen on object arrays, see :mod:`gazemodels.models.search.model`.
    gain : {"none", "snr"}, default "none"
        Top-down feature gains (Navalpakkam & Itti 2007): ``"snr"`` multiplies every channel
        of each layer, in the display and in the template alike, by its signal-to-noise ratio
        for the search, ``(mu_T + eps) / (mu_D + eps)``, with ``mu_T`` the channel's mean
        response over the template's extent, ``mu_D`` its mean response over the display's
        item boxes (each item counted once) and ``eps`` the mean of ``mu_D`` over the channels;
        the gains are scaled to mean 1. Channels that respond to the target more than to the
        display's items are weighted up, so guidance is sharp among homogeneous distractors
        and blunt among heterogeneous ones, which drive many channels (Duncan & Humphreys
        1989). The bottom-up term sees the gained features too, as the gains act on the
        feature maps (Navalpakkam & Itti's model biases the saliency computation itself).
    topdown_stages : tuple of int, default () (all of ``stages``)
        The stages whose correlation maps form the top-down priority; the bottom-up term
        always reads every stage. Guided Search 6 (Wolfe 2021) takes guidance to come from a
        coarse representation, separate from the one that recognises the fixated item.
    pool_impl : {"auto", "dense", "window", "attention"}, default "auto"
        Implementation of the pooling (all equal up to float rounding).
    pooling : {"mean", "max", "moments"}, default "mean"
        How each window combines its cells: the Gaussian-weighted mean (eccNET), the
        Gaussian-weighted maximum, the MAX pooling of complex cells (Riesenhuber & Poggio 1999;
        :class:`~gazemodels.models.search.pooling.EccentricityPooling`), under which a feature
        present anywhere in a peripheral window keeps its response, as the feature-presence
        account of search asymmetries has it (Treisman & Gormican 1988). ``"max"`` needs
        non-negative features (rectified stage outputs or the hidden units, no background
        baseline) and the windowed implementation (``pool_impl`` "auto" or "window").
        ``"moments"`` keeps the weighted mean and standard deviation of every channel (twice
        the channels, for matching and for the bottom-up term alike): the periphery as local
        summary statistics, by which Rosenholtz et al. (2012) explain search difficulty and
        its asymmetries (``experiments/search_asymmetry_moments.toml``).
    template_pooling : {"fovea", "eccentric"}, default "fovea"
        How the target template is pooled before it is matched. ``"fovea"``: with the foveal
        width at every position (the target is inspected foveally; eccNET). ``"eccentric"``:
        every display window is compared with the template pooled as that window is, with the
        width of the window's own eccentricity, so that a peripheral window is matched with the
        target as it would look there, alone on the background (the target-present
        statistics of Rosenholtz et al. 2012's account, here those of the isolated target).
        The template is pooled at a geometric series of widths from the foveal one (ratio
        ``template_band_ratio``), and each cell's match is interpolated linearly in log width
        between the two bands around its own width.
    template_band_ratio : float, default sqrt(2)
        Ratio of successive template widths for ``template_pooling="eccentric"`` (> 1).
    """

    stages: tuple[int, ...] = (2, 4, 6)
    sigma0_deg: tuple[float, ...] = tuple(round(s, 4) for s, _ in _DEFAULT_POOL)
    slope: tuple[float, ...] = tuple(round(k, 4) for _, k in _DEFAULT_POOL)
    cutoff: float = 3.0
    layer_weights: str = "max"
    normalise: str = "minmax"
    baseline: str = "none"
    match: str = "cosine"
    template: str = "full"
    rectify: bool = True
    layer: str = "hidden"
    stem: str = "efficientnet_lite0"
    pretrained: bool = True
    eccentricity: bool = True
    constant_width: str = "mean"
    topdown: bool = True
    target_margin_deg: float = 0.0
    max_fixations: int | None = None
    check_initial: bool = False
    image_scale: float = 1.0
    max_image_px: int = 352
    canvas_margin_px: int = 16
    noise: float = 1e-6
    priority_noise: float = 0.015
    noise_growth: str = "pooling"
    bottom_up: float = 2.0
    gain: str = "none"
    topdown_stages: tuple[int, ...] = ()
    pool_impl: str = "auto"
    pooling: str = "mean"
    template_pooling: str = "fovea"
    template_band_ratio: float = 2.0 ** 0.5

    def __post_init__(self):
        object.__setattr__(self, "stages", tuple(int(s) for s in self.stages))
        object.__setattr__(self, "topdown_stages", tuple(int(s) for s in self.topdown_stages))
        object.__setattr__(self, "sigma0_deg", tuple(float(s) for s in self.sigma0_deg))
        object.__setattr__(self, "slope", tuple(float(s) for s in self.slope))
        p = []
        if self.stem not in EFFICIENTNET_LITE_STAGES:
            p.append(f"stem must be one of {sorted(EFFICIENTNET_LITE_STAGES)}, got {self.stem!r}")
        n_st = len(EFFICIENTNET_LITE_STAGES.get(self.stem, EFFICIENTNET_LITE0_STAGES))
        if not self.stages or any(not 0 <= s < n_st for s in self.stages) or len(set(self.stages)) != len(self.stages):
            p.append(f"stages must be distinct integers in [0, {n_st - 1}], got {self.stages}")
        if list(self.stages) != sorted(self.stages):
            p.append(f"stages must be increasing, got {self.stages}")
        if len(self.sigma0_deg) != len(self.stages) or len(self.slope) != len(self.stages):
            p.append(f"sigma0_deg and slope need one value per stage ({len(self.stages)}), got "
                     f"{len(self.sigma0_deg)} and {len(self.slope)}")
        if any(not (math.isfinite(s) and s > 0) for s in self.sigma0_deg):
            p.append(f"sigma0_deg must be positive, got {self.sigma0_deg}")
        if any(not (math.isfinite(s) and s >= 0) for s in self.slope):
            p.append(f"slope must be >= 0, got {self.slope}")
        if not self.cutoff > 0:
            p.append(f"cutoff must be positive, got {self.cutoff}")
        if self.template not in TEMPLATES:
            p.append(f"template must be one of {TEMPLATES}, got {self.template!r}")
        if self.match not in MATCHES:
            p.append(f"match must be one of {MATCHES}, got {self.match!r}")
        if self.baseline not in BASELINES:
            p.append(f"baseline must be one of {BASELINES}, got {self.baseline!r}")
        if self.normalise not in NORMALISATIONS:
            p.append(f"normalise must be one of {NORMALISATIONS}, got {self.normalise!r}")
        if self.layer_weights not in LAYER_WEIGHTS:
            p.append(f"layer_weights must be one of {LAYER_WEIGHTS}, got {self.layer_weights!r}")
        if not (math.isfinite(self.target_margin_deg) and self.target_margin_deg >= 0):
            p.append(f"target_margin_deg must be >= 0, got {self.target_margin_deg}")
        if self.max_fixations is not None and (isinstance(self.max_fixations, bool) or int(self.max_fixations) < 1):
            p.append(f"max_fixations must be None or >= 1, got {self.max_fixations}")
        if not (math.isfinite(self.image_scale) and self.image_scale > 0):
            p.append(f"image_scale must be positive, got {self.image_scale}")
        if isinstance(self.max_image_px, bool) or int(self.max_image_px) < 0:
            p.append(f"max_image_px must be >= 0 (0: no limit), got {self.max_image_px}")
        if int(self.canvas_margin_px) < 0:
            p.append(f"canvas_margin_px must be >= 0, got {self.canvas_margin_px}")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            p.append(f"noise must be >= 0, got {self.noise}")
        if not (math.isfinite(self.priority_noise) and self.priority_noise >= 0):
            p.append(f"priority_noise must be >= 0, got {self.priority_noise}")
        if not (math.isfinite(self.bottom_up) and self.bottom_up >= 0):
            p.append(f"bottom_up must be >= 0, got {self.bottom_up}")
        if self.noise_growth not in NOISE_GROWTHS:
            p.append(f"noise_growth must be one of {NOISE_GROWTHS}, got {self.noise_growth!r}")
        if not set(self.topdown_stages) <= set(self.stages):
            p.append(f"topdown_stages must be a subset of stages {self.stages}, got {self.topdown_stages}")
        if self.gain not in GAINS:
            p.append(f"gain must be one of {GAINS}, got {self.gain!r}")
        if self.constant_width not in ("mean", "fovea"):
            p.append(f"constant_width must be 'mean' or 'fovea', got {self.constant_width!r}")
        if self.pool_impl not in POOL_IMPLS:
            p.append(f"pool_impl must be one of {POOL_IMPLS}, got {self.pool_impl!r}")
        if self.template_pooling not in TEMPLATE_POOLINGS:
            p.append(f"template_pooling must be one of {TEMPLATE_POOLINGS}, got {self.template_pooling!r}")
        if not (math.isfinite(self.template_band_ratio) and self.template_band_ratio > 1):
            p.append(f"template_band_ratio must be a number > 1, got {self.template_band_ratio}")
        if self.pooling not in POOL_REDUCTIONS:
            p.append(f"pooling must be one of {POOL_REDUCTIONS}, got {self.pooling!r}")
        elif self.pooling == "max":
            if self.pool_impl not in ("auto", "window"):
                p.append(f"pooling 'max' has the windowed implementation only: pool_impl must be 'auto' or "
                         f"'window', got {self.pool_impl!r}")
            if self.baseline != "none" or not (self.rectify or self.layer == "hidden"):
                p.append("pooling 'max' needs non-negative features: rectify=True or layer='hidden', and "
                         f"baseline='none' (got rectify={self.rectify}, layer={self.layer!r}, "
                         f"baseline={self.baseline!r})")
        if self.match == "contain" and (self.baseline != "none" or not (self.rectify or self.layer == "hidden")):
            p.append("match 'contain' needs non-negative features: rectify=True or layer='hidden', and "
                     f"baseline='none' (got rectify={self.rectify}, layer={self.layer!r}, baseline={self.baseline!r})")
        for name in ("rectify", "pretrained", "eccentricity", "topdown", "check_initial"):
            if not isinstance(getattr(self, name), bool):
                p.append(f"{name} must be a bool, got {getattr(self, name)!r}")
        if p:
            raise ValueError("invalid SearchModelConfig: " + "; ".join(p))

    def to_dict(self) -> dict:
        """The config as a dict of builtins (lists for tuples), TOML/JSON-serialisable.

        TOML has no null, so ``max_fixations=None`` is written as 0 (:meth:`from_dict` reads 0
        back as None).

        Returns
        -------
        dict
        """
        d = dataclasses.asdict(self)
        d["max_fixations"] = 0 if self.max_fixations is None else int(self.max_fixations)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> SearchModelConfig:
        """Build a config from a dict; missing fields take their defaults.

        Parameters
        ----------
        d : dict

        Returns
        -------
        SearchModelConfig
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown search model option(s) {unknown}; known: {sorted(known)}")
        d = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()}
        if d.get("max_fixations", None) == 0:  # TOML has no null: 0 means "set size + 1"
            d["max_fixations"] = None
        return cls(**d)


def apply_ablation(config: SearchModelConfig, ablation: str) -> SearchModelConfig:
    """The config of a named ablation.

    Parameters
    ----------
    config : SearchModelConfig
        The full model.
    ablation : {"none", "no_ecc", "no_topdown", "random_stem"}
        See :data:`ABLATIONS`.

    Returns
    -------
    SearchModelConfig
    """
    if ablation not in ABLATIONS:
        raise ValueError(f"unknown ablation {ablation!r}; known: {list(ABLATIONS)}")
    return dataclasses.replace(config, **ABLATIONS[ablation])
