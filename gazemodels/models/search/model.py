"""The visual search model: eccentricity-dependent recognition, top-down guidance, WTA with IOR.

One search, on a :class:`~gazemodels.stimuli.SearchDisplay` (image, target template, item
boxes, pixels per degree):

1. **Features, once per display.** The display and the target template, each on a canvas of
   the display's background, go through the frozen ImageNet-trained EfficientNet-lite0
   (:class:`~gazemodels.models.search.features.MultiStageStem`). Three block stages are read
   (default stages 2, 4 and 6, strides 8, 16 and 32 px: one per resolution, as eccNET read
   VGG16's blocks 3, 4 and 5; Gupta et al. 2021), at their non-negative ReLU6 units
   (``layer="hidden"``: the activations after the depthwise convolution of each stage's last
   block), as eccNET correlated post-ReLU VGG maps. Displays larger than ``max_image_px`` are
   shrunk first.
2. **Eccentricity-dependent recognition, per fixation.** Each stage's map is re-pooled around
   the current fixation with Gaussian windows whose width grows linearly with eccentricity,
   ``sigma = sigma0 + slope * ecc`` (:class:`~gazemodels.models.search.pooling.EccentricityPooling`,
   the backbone's ``pooling_only`` eccentricity attention).
3. **Top-down guidance.** The template's features at each stage, pooled as the fovea pools them
   (width ``sigma0``: the target is inspected foveally), are cross-correlated with the pooled
   search features (eccNET's top-down modulation; Zhang et al. 2018's IVSN before it) and
   divided by the norms of the template and of the window under it: the cosine similarity
   of the two (``match="cosine"``; ``"dot"`` keeps eccNET's unnormalised dot product), with
   the template's cells as the kernel (``template="full"``; ``"mean"`` uses the template's
   mean feature vector over its extent). Each stage's map is min-max normalised over the
   display (``normalise="minmax"``, as eccNET) and the maps are averaged with weights
   proportional to their raw maxima (eccNET's layer weighting; ``layer_weights="equal"``
   gives equal weights). The map is upsampled to display pixels.
4. **Selection.** Winner-take-all over the items not yet fixated: the next fixation goes to the
   highest point of the priority map inside an item's box (grown by ``target_margin_deg``),
   and that whole item is then inhibited (object-level inhibition of return, as eccNET
   removes a fixated object using its mask). Before the winner is taken, every item's
   priority gets independent Gaussian noise, redrawn at every fixation, whose standard
   deviation is ``priority_noise`` at the fovea and grows with the item's eccentricity as
   the pooling width does (``noise_growth="pooling"``: ``sd = priority_noise * sum_l
   sigma_l(ecc) / sum_l sigma0_l``, i.e. ``1 + ecc / 1.59 deg`` with eccNET's widths): the
   signal-detection account of search (Palmer, Verghese & Pavel 2000; Eckstein 1998), in
   which peripheral items are judged less reliably (the linear growth of peripheral
   discrimination thresholds with eccentricity, Levi, Klein & Aitsebaomo 1985). Without it
   the winner is a deterministic function of the features, so a search is either found at
   the first saccade or at the last and slopes are all-or-none. A bottom-up term is added to
   the top-down priority first, as in Guided Search (Wolfe 1994): ``bottom_up`` times each
   item's dissimilarity (``1 - cosine``) to the mean of all items, in the features pooled as
   seen from the current fixation (:meth:`VisualSearchModel.saliency`). Exact ties are broken by
   seeded noise of relative size ``noise``, and within an item by the distance to the item's
   centre.

The search starts at the display centre (fixation 0) and stops when a fixation lands on the
target box (grown by ``target_margin_deg`` on every side; :func:`gazemodels.metrics.search.target_found`)
or after ``max_fixations`` fixations, the initial one included (default: set size + 1, so that
every item can be visited once). As in eccNET, the initial fixation does not count as finding
the target (``check_initial=False``): the fixation-to-RT conversion of Gupta et al. (2021) was
fitted with at least one saccade per trial.

Ablations (config switches)
---------------------------
``eccentricity=False``
    Constant pooling width: ``slope = 0`` and ``sigma0`` = the mean width the eccentricity
    model uses over the display's feature cells from the central fixation (per stage and per
    display). The template is pooled with that width too, and the priority noise has the
    constant standard deviation that goes with those widths (``priority_noise`` times their
    sum over the foveal widths' sum).
``topdown=False``
    No target guidance: a uniform priority map, so WTA with IOR visits the items in a random
    (seeded) order.
``pretrained=False``
    The same stem randomly initialised (seeded).

Parameters
----------
Nothing here is fitted to the search-asymmetry human RTs. The pooling widths follow eccNET's
eccentricity-dependent pooling (see :data:`ECCNET_POOLING`), which Gupta et al. set to match
receptive-field sizes of macaque V1-V4, not the search data. The choice of the hidden units
over the stage outputs was made on search efficiency in the coloured-shape object arrays of
:mod:`gazemodels.stimuli.arrays` (no human data): at the stage outputs, the stride-16 layer
ranks the target below most distractors in colour-singleton displays; at the hidden units
every layer ranks it first or nearly so.

The matching and the noise were chosen on the same object arrays (ring layout, set sizes 3,
6, 9; ``benchmarks/calibrate_search_noise.py``), against the textbook human figures for them:
colour-singleton feature search is efficient (target-present slopes of about 10 ms/item or
less) and colour x shape conjunction search is slower (about 25 ms/item or more; Treisman &
Gelade 1980, Wolfe 1998; approximate figures, not fitted point by point):

* ``match="cosine"``: with eccNET's unnormalised dot product and no noise the model needs
  2.3 fixations to find a colour singleton among 8 distractors (feature slope 49 ms/item,
  conjunction 25 ms/item, 12 displays per set size): the dot product favours the items with
  more feature energy over the target. The cosine finds the target at the first saccade in
  both kinds without noise (0 ms/item).
* ``priority_noise = 0.015`` (cosine, min-max maps): the largest value on a grid of 0.005 at
  which colour-singleton search stays efficient (<= 10 ms/item). Slopes (ms/item, feature /
  conjunction), mean of two sets of 60 displays per set size and kind (seeds 1 and 2; 95% CIs
  of each set about +-10 ms/item): 0.01: 4.6 / 13.3; 0.015: 9.1 / 17.9; 0.02: 21.7 / 28.7
  (seed 1: 7.0 / 14.0, 13.3 / 16.1, 34.3 / 30.8; seed 2: 2.1 / 12.6, 4.9 / 19.6, 9.1 / 26.6).
  The stem codes colour weakly, so the model's colour-singleton search degrades with noise
  about as fast as its conjunction search, and no noise level reaches both human figures
  for sure; the rule keeps the feature search efficient, and the conjunction search is then
  a little faster than Treisman and Gelade's. Variants with a background baseline
  (``baseline="background"``) or unnormalised cosine maps (``normalise="none"``) separated
  feature from conjunction search less well (30 displays per set size, seed 1: feature slope
  above 10 ms/item before the conjunction slope passed 12.6 ms/item) and are off by default.
* ``bottom_up = 2.0``: with the top-down term alone the rule above leaves the conjunction
  search faster than people's (17.9 ms/item). A bottom-up term separates the two kinds: a
  colour singleton is the odd item out, a conjunction target is not (half the distractors
  share its colour, half its shape). With weight 2 (the only non-zero weight tried) and the
  same rule, noise 0.015 still keeps feature search efficient and conjunction search meets
  the human figure (40 displays per set size and kind, seeds 1 and 2): feature 8.4 / 3.2,
  mean 5.8 ms/item; conjunction 21.0 / 34.7, mean 27.9 ms/item. At noise 0.02 the feature
  slope passes 10 (17.9 / 6.3, mean 12.1; conjunction 32.1), so the noise stays 0.015.
* ``gain="snr"`` (top-down channel gains, Navalpakkam & Itti 2007; off by default): with
  the gains, colour-singleton search stays efficient at every noise level tried, so the rule
  above does not bind. Slopes (ms/item, feature / conjunction; mean of seeds 1 and 2, 40
  displays per set size and kind): 0.015: -2.7 / 22.1; 0.02: -1.6 / 28.4; 0.025: 0.0 / 34.7;
  0.03: 2.6 / 51.5. Its noise is therefore set by the conjunction figure, the grid value
  whose slope is nearest the middle of the textbook 25-30 ms/item: 0.02
  (``experiments/search_asymmetry_snr_gain.toml``). The gains separate the two kinds at
  least as well as the default (feature 5.8, conjunction 27.9); on the asymmetries they trade
  a higher slope correlation for one polarity fewer (see
  :mod:`gazemodels.experiments.search_asymmetry`), so the default stays without them.
* Rejected on object arrays before any asymmetry run: Itti, Koch & Niebur's (1998) map
  normalisation N(.) applied to every layer's item scores (top-down and bottom-up) made
  conjunction search slower than random search (134-197 ms/item at noise 0.002-0.015, 5.9-7.2
  fixations at set size 9; 40 displays, seeds 1 and 2), and without the bottom-up term it lost
  the colour singleton (feature slope 80 ms/item at noise 0.002). A bottom-up term read from
  the mean of each item box's feature cells, instead of the cell under its centre, kept the
  object-array figures (noise 0.015: feature 9.5, conjunction 20.5) but weakened the term to
  almost nothing on the asymmetry displays, so it was not pursued. eccNET's dot product on
  features minus the stem's response to a blank canvas (``match="dot"``,
  ``baseline="background"``), in which an item's feature energy is its content, keeps the
  colour singleton at low noise but loses the conjunction target: conjunction search is
  nearly as slow as random search at every noise level tried (mean of seeds 1 and 2, 40
  displays per set size and kind; feature / conjunction ms/item): 0: 7.9 / 80.5; 0.005:
  1.6 / 100.4; 0.01: 10.5 / 108.8; 0.015: 6.8 / 103.6; 0.02: 16.8 / 90.4; 0.025: 31.0 / 93.1.
  The conjunction slope is never within 50 ms/item of the textbook figure, so the rule above
  rejects it. (It was tried because its stride-8 target margins on the asymmetry displays,
  from ``benchmarks/search_margins.py``, favoured the condition that is easy for people in
  four of the six experiments.)

Speed
-----
Stem features are computed once per display; per fixation, each layer is re-pooled and
correlated. Because the pooling weights do not depend on the channel, the dot product of a
``kh x kw`` template with the pooled features equals the sum over the template's taps of the
pooled projections ``G_u = sum_c K_c[u] F_c`` (computed once per display), so a layer pools
``min(C, kh * kw)`` maps per fixation instead of C.

References
----------
Eckstein, M. P. (1998). The lower visual search efficiency for conjunctions is due to noise
and not serial attentional processing. *Psychological Science, 9*(2), 111-118.

Gupta, S. K., Zhang, M., Wu, C.-C., Wolfe, J. M., & Kreiman, G. (2021). Visual search
asymmetry: Deep nets and humans share similar inherent biases. *NeurIPS 34*, 6946-6959.

Duncan, J., & Humphreys, G. W. (1989). Visual search and stimulus similarity. *Psychological
Review, 96*(3), 433-458.

Itti, L., Koch, C., & Niebur, E. (1998). A model of saliency-based visual attention for rapid
scene analysis. *IEEE Transactions on Pattern Analysis and Machine Intelligence, 20*(11),
1254-1259.

Levi, D. M., Klein, S. A., & Aitsebaomo, A. P. (1985). Vernier acuity, crowding and cortical
magnification. *Vision Research, 25*(7), 963-977.

Navalpakkam, V., & Itti, L. (2007). Search goal tunes visual features optimally. *Neuron,
53*(4), 605-617.

Palmer, J., Verghese, P., & Pavel, M. (2000). The psychophysics of visual search. *Vision
Research, 40*(10-12), 1227-1268.

Treisman, A. M., & Gelade, G. (1980). A feature-integration theory of attention. *Cognitive
Psychology, 12*(1), 97-136.

Wolfe, J. M. (1994). Guided Search 2.0: A revised model of visual search. *Psychonomic
Bulletin & Review, 1*(2), 202-238.

Wolfe, J. M. (1998). What can 1 million trials tell us about visual search? *Psychological
Science, 9*(1), 33-39.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from gazemodels.backbone.config import EFFICIENTNET_LITE0_STAGES
from gazemodels.data.schema import FIXATION_COLUMNS
from gazemodels.metrics.search import target_found
from gazemodels.models.search.features import MultiStageStem, background_colour, place_on_canvas
from gazemodels.models.search.pooling import POOL_IMPLS, EccentricityPooling, grid_positions_deg, pairwise_d2

__all__ = [
    "ABLATIONS",
    "ECCNET_POOLING",
    "SearchModelConfig",
    "PreparedDisplay",
    "VisualSearchModel",
    "apply_ablation",
    "cross_correlate",
    "eccnet_gaussian_pooling",
    "item_peaks",
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
MATCHES = ("dot", "cosine")
TEMPLATES = ("full", "mean")
GAINS = ("none", "snr")

DENSE_CACHE_CELLS = 2500
"""Grids with at most this many cells keep their pairwise distances (25 MB) for dense pooling."""


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
    match : {"dot", "cosine"}, default "cosine"
        Template matching: the unnormalised dot product of eccNET, or the cosine of the template
        and the window under it (energy-normalised; slower, all channels are pooled).
    template : {"full", "mean"}, default "full"
        The template's cells as the kernel, or its mean feature vector repeated over its extent.
    rectify : bool, default True
        Half-wave rectify the features (a no-op for the hidden units, which are ReLU6 outputs;
        see :class:`~gazemodels.models.search.features.MultiStageStem`).
    layer : {"hidden", "output"}, default "hidden"
        Read each stage at the ReLU6 units of its last block, or at its (linear) output.
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
        Verghese & Pavel 2000). 0 turns it off. The default is fitted on object arrays, see the
        module docstring.
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
        is chosen on object arrays, see the module docstring.
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

    def __post_init__(self):
        object.__setattr__(self, "stages", tuple(int(s) for s in self.stages))
        object.__setattr__(self, "topdown_stages", tuple(int(s) for s in self.topdown_stages))
        object.__setattr__(self, "sigma0_deg", tuple(float(s) for s in self.sigma0_deg))
        object.__setattr__(self, "slope", tuple(float(s) for s in self.slope))
        p = []
        n_st = len(EFFICIENTNET_LITE0_STAGES)
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


@dataclass
class _Layer:
    """One stage of a prepared display."""

    stage: int
    stride: int
    features: torch.Tensor  # (C, rows, cols) over the canvas
    pos_deg: torch.Tensor  # (rows * cols, 2) cell centres, display-pixel frame / ppd
    cell_deg: float
    pooling: EccentricityPooling
    kernel: torch.Tensor | None  # (C, kh, kw), odd sides
    d2: torch.Tensor | None = None  # (N, N) squared cell distances, for the dense pooling path
    projected: torch.Tensor | None = None  # (kh * kw, rows, cols): the features projected on each kernel tap


@dataclass
class PreparedDisplay:
    """A display with its stem features, ready for search.

    Attributes
    ----------
    display : SearchDisplay
        The original display.
    scale : float
        Image scale applied before the stem.
    px_per_degree : float
        Pixels per degree of the scaled display.
    size : (int, int)
        ``(H, W)`` of the scaled display.
    offset : (int, int)
        ``(x, y)`` of the display on its canvas (scaled px).
    canvas_size : (int, int)
        ``(Hc, Wc)``.
    boxes : numpy.ndarray
        ``(n, 4)`` item boxes in scaled px, the target's first.
    layers : list
        Per stage: features, positions, pooling and target kernel.
    """

    display: object
    scale: float
    px_per_degree: float
    size: tuple[int, int]
    offset: tuple[int, int]
    canvas_size: tuple[int, int]
    boxes: np.ndarray
    layers: list = field(default_factory=list)


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image
    import cv2

    h, w = image.shape[:2]
    size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp)


class VisualSearchModel:
    """Eccentricity-dependent, target-guided search with winner-take-all and object IOR.

    See the module docstring for the model. ``search`` runs one display, ``run`` many.

    Parameters
    ----------
    config : SearchModelConfig, optional
        Default config when omitted.
    seed : int, default 0
        Seed of the random stem initialisation (``pretrained=False``) and the default seed of
        :meth:`run`.
    **overrides
        Config fields to change.

    Examples
    --------
    >>> from gazemodels.stimuli import generate
    >>> model = VisualSearchModel(stages=(3,), sigma0_deg=(0.15,), slope=(0.1,))
    >>> d = generate("orientation_homo", seed=0, n_per_set_size=1, set_sizes=[4],
    ...              conditions=["homo_t20"])[0]
    >>> fx = model.search(d)
    >>> fx[["fix_index", "found"]].iloc[0].tolist()
    [0, False]
    """

    def __init__(self, config: SearchModelConfig | None = None, seed: int = 0, **overrides):
        config = config if config is not None else SearchModelConfig()
        if overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = config
        self.seed = int(seed)
        self.stem = (MultiStageStem(config.stages, pretrained=config.pretrained, rectify=config.rectify, seed=seed,
                                    layer=config.layer) if config.topdown else None)
        self._blank_cache: dict = {}
        self._pooled: dict = {}

    # ------------------------------------------------------------------ preparation
    def _pooling(self, i: int, sigma_const: float | None) -> EccentricityPooling:
        c = self.config
        if sigma_const is not None:  # ablation: constant width
            return EccentricityPooling(sigma_const, 0.0, c.cutoff, c.pool_impl)
        return EccentricityPooling(c.sigma0_deg[i], c.slope[i], c.cutoff, c.pool_impl)

    def _minus_blank(self, feats: dict, shape, bg) -> dict:
        """Features minus the stem's response to a blank canvas of that shape and colour (cached)."""
        key = (tuple(shape), tuple(np.clip(np.rint(bg), 0, 255).astype(int).tolist()))
        blank = self._blank_cache.get(key)
        if blank is None:
            canvas = np.empty(shape, dtype=np.uint8)
            canvas[:] = np.asarray(key[1], dtype=np.uint8)
            blank = self.stem(canvas)
            if len(self._blank_cache) > 64:
                self._blank_cache.clear()
            self._blank_cache[key] = blank
        return {st: f - blank[st] for st, f in feats.items()}

    def prepare(self, display) -> PreparedDisplay:
        """Stem features of a display and its target template (one stem pass each).

        Parameters
        ----------
        display : SearchDisplay

        Returns
        -------
        PreparedDisplay
        """
        c = self.config
        scale = float(c.image_scale)
        side = max(display.image.shape[:2]) * scale
        if c.max_image_px and side > c.max_image_px:
            scale *= c.max_image_px / side
        image = _resize(np.asarray(display.image), scale)
        ppd = float(display.px_per_degree) * scale
        H, W = image.shape[:2]
        boxes = np.asarray(display.item_boxes, dtype=float) * scale
        prep = PreparedDisplay(display, scale, ppd, (H, W), (0, 0), (H, W), boxes)
        if not c.topdown:
            return prep
        bg = background_colour(np.asarray(display.image))
        canvas = place_on_canvas(image, c.canvas_margin_px, bg)
        template = _resize(np.asarray(display.target), scale)
        tcanvas = place_on_canvas(template, c.canvas_margin_px, bg)
        feats = self.stem(canvas.pixels)
        tfeats = self.stem(tcanvas.pixels)
        if c.baseline == "background":
            feats = self._minus_blank(feats, canvas.pixels.shape, bg)
            tfeats = self._minus_blank(tfeats, tcanvas.pixels.shape, bg)
        ox, oy = canvas.offset
        prep.offset = (ox, oy)
        prep.canvas_size = canvas.pixels.shape[:2]
        centre = np.array([W / 2.0, H / 2.0]) / ppd
        for i, st in enumerate(c.stages):
            s = self.stem.strides[st]
            fm = feats[st]
            rows, cols = fm.shape[-2:]
            pos = grid_positions_deg(rows, cols, s, ppd, offset_px=(-ox, -oy))
            cell = s / ppd
            sigma_const = None
            if not c.eccentricity and c.constant_width == "fovea":
                # constant-width ablation at foveal resolution (eccNET's plain-VGG16 ablation)
                sigma_const = float(c.sigma0_deg[i])
            elif not c.eccentricity:
                # constant-width ablation: the mean width the eccentricity model uses over the
                # display's cells from the central fixation
                inside = ((pos[:, 0] >= 0) & (pos[:, 0] <= W / ppd) & (pos[:, 1] >= 0) & (pos[:, 1] <= H / ppd))
                full = EccentricityPooling(c.sigma0_deg[i], c.slope[i], c.cutoff)
                sigma_const = float(full.sigma(pos[inside], centre).mean())
            pool = self._pooling(i, sigma_const)
            # the target is inspected foveally: pooled with the foveal width everywhere
            tf = tfeats[st]
            trows, tcols = tf.shape[-2:]
            tpool = EccentricityPooling(pool.sigma0, 0.0, c.cutoff, c.pool_impl)
            tf = tpool(tf, grid_positions_deg(trows, tcols, s, ppd), (0.0, 0.0), cell)
            th, tw = template.shape[:2]
            tox, toy = tcanvas.offset
            kernel = tf[:, _kernel_slice(toy, th, s), _kernel_slice(tox, tw, s)]
            d2 = pairwise_d2(pos) if rows * cols <= DENSE_CACHE_CELLS else None
            if c.template == "mean":
                # the template's mean feature vector over its extent: feature-based guidance
                kernel = kernel.mean(dim=(1, 2), keepdim=True).expand_as(kernel)
            if c.gain == "snr":
                # top-down feature gains (Navalpakkam & Itti 2007): each channel weighted by its
                # target-to-distractor response ratio, the distractors' being the mean over the
                # display's items; pooling is linear per channel, so the maps are scaled once
                g = _snr_gain(_region_mean(tfeats[st], np.array([[tox, toy, tw, th]], dtype=float), s),
                              _region_mean(fm, boxes + np.array([ox, oy, 0, 0]), s))
                fm = fm * g[:, None, None]
                kernel = kernel * g[:, None, None]
            kernel = kernel.contiguous()
            layer = _Layer(st, s, fm, pos, cell, pool, kernel, d2)
            kh, kw = kernel.shape[1:]
            if c.match == "dot" and c.template == "mean":
                # one projected map, summed over a template-sized window after pooling
                layer.projected = (kernel[:, 0, 0] @ fm.reshape(fm.shape[0], -1)).reshape(1, rows, cols)
            elif c.match == "dot" and kh * kw < kernel.shape[0]:
                # pooling acts on every channel alike, so sum_c K_c * P(F_c) = sum_u P(G_u) shifted
                # by u, with G_u = sum_c K_c[u] F_c: pool kh * kw maps instead of C
                layer.projected = (kernel.reshape(kernel.shape[0], -1).T @ fm.reshape(fm.shape[0], -1)).reshape(
                    kh * kw, rows, cols)
            prep.layers.append(layer)
        return prep

    # ------------------------------------------------------------------ priority
    def priority_map(self, prep: PreparedDisplay, fixation_px) -> np.ndarray:
        """Priority map of a prepared display seen from a fixation.

        Parameters
        ----------
        prep : PreparedDisplay
            From :meth:`prepare`.
        fixation_px : (float, float)
            ``(x, y)`` in the scaled display's pixels.

        Returns
        -------
        numpy.ndarray
            ``(H, W)`` float64 in [0, 1] over the scaled display (all zeros without top-down
            guidance).
        """
        H, W = prep.size
        if not self.config.topdown:
            return np.zeros((H, W))
        maps, w = self.layer_maps(prep, fixation_px)
        return sum(wi * mi for wi, mi in zip(w, maps))

    def layer_maps(self, prep: PreparedDisplay, fixation_px) -> tuple[list[np.ndarray], np.ndarray]:
        """Each layer's top-down map and its weight in :meth:`priority_map`.

        Parameters
        ----------
        prep, fixation_px
            The prepared display and the fixation (scaled display px), as :meth:`priority_map`
            takes them.

        Returns
        -------
        maps : list of numpy.ndarray
            One ``(H, W)`` float64 map per layer (in [0, 1] with ``normalise="minmax"``).
        weights : numpy.ndarray
            ``(n_layers,)``, summing to 1.
        """
        H, W = prep.size
        fix_deg = (float(fixation_px[0]) / prep.px_per_degree, float(fixation_px[1]) / prep.px_per_degree)
        ox, oy = prep.offset
        maps, weights = [], []
        guiding = set(self.config.topdown_stages or self.config.stages)
        for layer in prep.layers:
            if layer.stage not in guiding:
                continue
            k = layer.kernel
            # top-down modulation: the target's features as cross-correlation kernels
            # (Zhang et al. 2018; eccNET, Gupta et al. 2021)
            if layer.projected is not None:
                pooled = layer.pooling(layer.projected, layer.pos_deg, fix_deg, layer.cell_deg, d2=layer.d2)
                if len(pooled) == 1:  # mean template: the same vector at every tap
                    corr = F.conv2d(pooled[None], torch.ones(1, 1, k.shape[1], k.shape[2], dtype=pooled.dtype),
                                    padding=(k.shape[1] // 2, k.shape[2] // 2))[0, 0]
                else:
                    corr = _shift_sum(pooled, k.shape[1], k.shape[2])
            else:
                pooled = layer.pooling(layer.features, layer.pos_deg, fix_deg, layer.cell_deg, d2=layer.d2)
                corr = cross_correlate(pooled, k)
                if self.config.bottom_up > 0:
                    self._pooled[id(layer)] = (fix_deg, pooled)  # for the bottom-up term
            if self.config.match == "cosine":
                # divide by the norms of the template and of the window under it: the cosine
                # similarity of the two, insensitive to the feature energy of an item
                energy = cross_correlate(pooled.pow(2).sum(0, keepdim=True), torch.ones_like(k[:1]))
                den = energy.clamp_min(0.0).sqrt() * k.norm()
                corr = corr / den.clamp_min(1e-6 * float(den.max()) + 1e-12)
            up = F.interpolate(corr[None, None], scale_factor=layer.stride, mode="bilinear",
                               align_corners=False)[0, 0]
            m = up[oy: oy + H, ox: ox + W].double().numpy()
            lo, hi = float(m.min()), float(m.max())
            if self.config.normalise == "none":
                maps.append(m)
            else:
                maps.append((m - lo) / (hi - lo) if hi > lo else np.zeros_like(m))
            weights.append(max(hi, 0.0) if self.config.layer_weights == "max" else 1.0)
        w = np.asarray(weights, dtype=float)
        if w.sum() <= 0:  # eccNET weights by raw maxima; all non-positive: fall back to equal
            w = np.ones_like(w)
        return maps, w / w.sum()

    def saliency(self, prep: PreparedDisplay, fixation_px, *, per_layer: bool = False) -> np.ndarray:
        """Bottom-up saliency of every item seen from a fixation: ``1 - cos(f_i, mean_j f_j)``.

        ``f_i`` is the pooled feature vector at the feature cell of item i's centre; the
        dissimilarity is averaged over the layers (see ``bottom_up``). The arguments are those
        of :meth:`priority_map`, whose pooled features are reused when it has just run for the
        same fixation; the result is an ``(n_items,)`` float64 array in [0, 2], zeros without
        top-down features (``per_layer=True``: ``(n_layers, n_items)``, one row per layer).
        """
        n = len(prep.boxes)
        if not prep.layers:
            return np.zeros((0, n)) if per_layer else np.zeros(n)
        fix_deg = (float(fixation_px[0]) / prep.px_per_degree, float(fixation_px[1]) / prep.px_per_degree)
        b = np.asarray(prep.boxes, dtype=float)
        cx = b[:, 0] + b[:, 2] / 2.0 + prep.offset[0]
        cy = b[:, 1] + b[:, 3] / 2.0 + prep.offset[1]
        out = np.zeros((len(prep.layers), n))
        for li, layer in enumerate(prep.layers):
            cached = self._pooled.get(id(layer))
            if cached is not None and cached[0] == fix_deg:
                pooled = cached[1]
            else:
                pooled = layer.pooling(layer.features, layer.pos_deg, fix_deg, layer.cell_deg, d2=layer.d2)
            rows, cols = pooled.shape[-2:]
            r = np.clip((cy // layer.stride).astype(int), 0, rows - 1)
            c = np.clip((cx // layer.stride).astype(int), 0, cols - 1)
            f = pooled[:, r, c].T.double()  # (n, C)
            m = f.mean(0, keepdim=True)
            cos = (f @ m.T)[:, 0] / (f.norm(dim=1) * m.norm()).clamp_min(1e-12)
            out[li] = (1.0 - cos).numpy()
        return out if per_layer else out.mean(0)

    def noise_sd(self, prep: PreparedDisplay, fixation_px) -> np.ndarray:
        """Standard deviation of each item's priority noise, seen from a fixation.

        ``priority_noise`` times the ratio of the pooling width at the item's centre to the
        foveal width (summed over the layers; ``noise_growth="pooling"``), or
        ``priority_noise`` everywhere (``"constant"``, or without top-down guidance).

        Parameters
        ----------
        prep, fixation_px
            As in :meth:`priority_map`.

        Returns
        -------
        numpy.ndarray
            ``(n_items,)`` float64, in priority units (the map lies in [0, 1]).
        """
        c = self.config
        n = len(prep.boxes)
        if c.noise_growth == "constant" or not prep.layers:
            return np.full(n, float(c.priority_noise))
        b = np.asarray(prep.boxes, dtype=float)
        centres = (b[:, :2] + b[:, 2:] / 2.0) / prep.px_per_degree
        ecc = np.hypot(centres[:, 0] - fixation_px[0] / prep.px_per_degree,
                       centres[:, 1] - fixation_px[1] / prep.px_per_degree)
        # recognition noise grows with eccentricity as the pooling does (the widths of the
        # ablation's constant pooling give a constant noise)
        width = sum(layer.pooling.sigma0 + layer.pooling.slope * ecc for layer in prep.layers)
        return float(c.priority_noise) * width / float(sum(c.sigma0_deg))

    def item_regions(self, prep: PreparedDisplay) -> list[tuple[int, int, int, int]]:
        """Pixel ranges ``(x0, y0, x1, y1)`` of the items of a prepared display.

        Each item's box grown by ``target_margin_deg``; a pixel belongs to it when its centre
        lies strictly inside (the rule of :func:`gazemodels.metrics.search.target_found`).
        :meth:`search` scores an item by the peak of the priority map here
        (:func:`item_peaks`).
        """
        H, W = prep.size
        return _regions(prep.boxes, self.config.target_margin_deg * prep.px_per_degree, H, W)

    # ------------------------------------------------------------------ search
    def search(self, display, *, seed: int | None = None, trial: int = 0, subject: int = 0) -> pd.DataFrame:
        """Search one display.

        Parameters
        ----------
        display : SearchDisplay
            Display with image, target template, boxes and ``px_per_degree``.
        seed : int, optional
            Seed of the tie-breaking noise (with ``display.seed``); default the model's seed.
        trial, subject : int, default 0
            Identifiers written into the table.

        Returns
        -------
        pandas.DataFrame
            Fixation table (:data:`gazemodels.data.schema.FIXATION_COLUMNS`; ``t_start`` and
            ``duration`` NaN) with ``experiment``, ``condition``, ``set_size``, ``found``
            (bool, this fixation is on the target) and ``object`` (index of the fixated item
            in ``display.item_boxes``, 0 = target; -1 for the initial fixation).
        """
        c = self.config
        seed = self.seed if seed is None else int(seed)
        rng = np.random.default_rng([seed, int(getattr(display, "seed", 0)) & 0xFFFFFFFF])
        self._pooled.clear()
        prep = self.prepare(display)
        H, W = prep.size
        ppd = prep.px_per_degree
        margin = c.target_margin_deg * ppd
        regions = self.item_regions(prep)
        n_items = len(regions)
        max_fix = int(c.max_fixations) if c.max_fixations is not None else int(display.set_size) + 1
        target_box = prep.boxes[0]
        fix = [(W / 2.0, H / 2.0)]  # the first fixation is at the centre
        objects = [-1]
        found = [bool(c.check_initial and target_found(np.array([fix[0]]), target_box, margin_px=margin)[0])]
        inhibited = np.zeros(n_items, dtype=bool)
        while not found[-1] and len(fix) < max_fix and not inhibited.all():
            pmap = self.priority_map(prep, fix[-1])
            scores = np.where(inhibited, -np.inf, item_peaks(pmap, regions))
            if c.bottom_up > 0:  # Guided Search: top-down plus bottom-up activation
                scores = scores + c.bottom_up * self.saliency(prep, fix[-1])
            vals = scores + rng.random(n_items) * c.noise  # the map lies in [0, 1]
            if c.priority_noise > 0:  # late Gaussian noise on each item's priority, redrawn per fixation
                vals = vals + rng.normal(0.0, 1.0, n_items) * self.noise_sd(prep, fix[-1])
            best = np.flatnonzero(vals >= vals.max())
            k = int(best[rng.integers(len(best))])  # winner-take-all; exact ties drawn at random
            x, y = _peak_in_region(pmap, regions[k], prep.boxes[k])
            inhibited[k] = True  # object-level inhibition of return
            fix.append((x, y))
            objects.append(k)
            found.append(bool(target_found(np.array([[x, y]]), target_box, margin_px=margin)[0]))
        xy = np.asarray(fix, dtype=float) / prep.scale
        n = len(fix)
        table = pd.DataFrame({
            "stimulus": display.stimulus or "display",
            "subject": subject,
            "trial": trial,
            "fix_index": np.arange(n),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "t_start": np.nan,
            "duration": np.nan,
            "experiment": getattr(display, "experiment", ""),
            "condition": display.condition,
            "set_size": int(display.set_size),
            "found": found,
            "object": objects,
        })
        return table[list(FIXATION_COLUMNS) + ["experiment", "condition", "set_size", "found", "object"]]

    def run(self, displays: Iterable, *, seed: int | None = None, progress: bool | str = False,
            total: int | None = None) -> pd.DataFrame:
        """Search many displays.

        Parameters
        ----------
        displays : iterable of SearchDisplay
            Displays with distinct ``stimulus`` names.
        seed : int, optional
            Seed of the tie-breaking noise; default the model's seed.
        progress : bool or str, default False
            Show a tqdm progress bar (a string is its description).
        total : int, optional
            Number of displays, for the progress bar of a generator.

        Returns
        -------
        pandas.DataFrame
            The fixation tables of :meth:`search`, concatenated.
        """
        it = displays
        if progress:
            from tqdm.auto import tqdm

            desc = progress if isinstance(progress, str) else "search"
            it = tqdm(displays, desc=desc, unit="display", total=total)
        tables = [self.search(d, seed=seed) for d in it]
        if not tables:
            return pd.DataFrame(columns=list(FIXATION_COLUMNS) + ["experiment", "condition", "set_size", "found",
                                                                  "object"])
        return pd.concat(tables, ignore_index=True)


def _region_mean(features: torch.Tensor, boxes: np.ndarray, stride: int) -> torch.Tensor:
    """Mean feature vector of the regions' cells, averaged over the regions.

    Each ``(x, y, w, h)`` box (canvas px) contributes the mean of the cells whose centres lie
    inside it (the cell under its centre when none does); the boxes count equally.
    """
    C, rows, cols = features.shape
    xs = (np.arange(cols) + 0.5) * stride
    ys = (np.arange(rows) + 0.5) * stride
    acc = torch.zeros(C, dtype=torch.float64)
    for x, y, w, h in np.asarray(boxes, dtype=float):
        ci = np.flatnonzero((xs > x) & (xs < x + w))
        ri = np.flatnonzero((ys > y) & (ys < y + h))
        if len(ci) == 0 or len(ri) == 0:
            ci = np.array([min(max(int((x + w / 2) // stride), 0), cols - 1)])
            ri = np.array([min(max(int((y + h / 2) // stride), 0), rows - 1)])
        acc += features[:, ri][:, :, ci].double().mean(dim=(1, 2))
    return acc / len(boxes)


def _snr_gain(target: torch.Tensor, distractors: torch.Tensor) -> torch.Tensor:
    """Channel gains ``(mu_T + eps) / (mu_D + eps)``, scaled to mean 1, ``eps`` = mean of ``mu_D``.

    Navalpakkam, V., & Itti, L. (2007). Search goal tunes visual features optimally. *Neuron,
    53*(4), 605-617: the gain of a feature channel grows with its signal-to-noise ratio, the
    mean response to the target over the mean response to the distractors.
    """
    t = target.clamp_min(0.0)
    d = distractors.clamp_min(0.0)
    eps = float(d.mean()) + 1e-12
    g = (t + eps) / (d + eps)
    return (g / g.mean()).float()


def cross_correlate(features: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Cross-correlation of a feature map with a template, summed over channels ("same" size).

    ``out[y, x] = sum_{c, u, v} kernel[c, u, v] * features[c, y + u - kh // 2, x + v - kw // 2]``,
    zero outside the map. Small kernels use :func:`torch.nn.functional.conv2d`, large ones the
    FFT (the same sum, faster for one output channel).

    Parameters
    ----------
    features : Tensor
        ``(C, rows, cols)``.
    kernel : Tensor
        ``(C, kh, kw)`` with odd ``kh`` and ``kw``.

    Returns
    -------
    Tensor
        ``(rows, cols)``.
    """
    C, rows, cols = features.shape
    _, kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel sides must be odd, got {kh} x {kw}")
    if kh * kw <= 25:
        return F.conv2d(features[None], kernel[None], padding=(kh // 2, kw // 2))[0, 0]
    fh, fw = rows + kh - 1, cols + kw - 1
    spec = torch.fft.rfft2(features, s=(fh, fw)) * torch.fft.rfft2(kernel.flip(-2, -1), s=(fh, fw))
    full = torch.fft.irfft2(spec.sum(0), s=(fh, fw))  # full convolution with the flipped kernel
    return full[kh // 2: kh // 2 + rows, kw // 2: kw // 2 + cols].contiguous()


def _shift_sum(maps: torch.Tensor, kh: int, kw: int) -> torch.Tensor:
    """``out[y, x] = sum_u maps[u, y + uy - kh // 2, x + ux - kw // 2]`` over the taps ``u = (uy, ux)``."""
    onehot = torch.eye(kh * kw, dtype=maps.dtype).reshape(1, kh * kw, kh, kw)
    return F.conv2d(maps[None], onehot, padding=(kh // 2, kw // 2))[0, 0]


def _kernel_slice(offset: int, length: int, stride: int) -> slice:
    """Feature cells of a template: an odd number of cells centred on the template's centre."""
    centre = (offset + length / 2.0) / stride
    c = int(math.floor(centre))
    half = int(math.floor(length / (2.0 * stride)))
    return slice(max(c - half, 0), c + half + 1)


def item_peaks(pmap: np.ndarray, regions) -> np.ndarray:
    """Each item's highest map value in its region (:meth:`VisualSearchModel.item_regions`).

    Parameters
    ----------
    pmap : numpy.ndarray
        ``(H, W)`` map over the (scaled) display.
    regions : sequence of (int, int, int, int)
        ``(x0, y0, x1, y1)`` pixel ranges, end exclusive.

    Returns
    -------
    numpy.ndarray
        ``(n_items,)`` float64.
    """
    return np.array([pmap[y0:y1, x0:x1].max() for x0, y0, x1, y1 in regions], dtype=float)


def _regions(boxes: np.ndarray, margin: float, H: int, W: int) -> list[tuple[int, int, int, int]]:
    """Pixel index ranges ``(x0, y0, x1, y1)`` of the item boxes grown by ``margin``.

    A pixel (column c, row r) has its centre at (c + 0.5, r + 0.5); it belongs to a region when
    its centre lies strictly inside the grown box, the rule of :func:`target_found`.
    """
    out = []
    for x, y, w, h in np.asarray(boxes, dtype=float):
        # first pixel whose centre is > x - margin, last whose centre is < x + w + margin
        x0 = max(int(math.floor(x - margin - 0.5)) + 1, 0)
        y0 = max(int(math.floor(y - margin - 0.5)) + 1, 0)
        x1 = min(int(math.ceil(x + w + margin - 0.5)), W)
        y1 = min(int(math.ceil(y + h + margin - 0.5)), H)
        if x1 <= x0 or y1 <= y0:  # degenerate box: its nearest pixel
            x0, y0 = min(max(int(x), 0), W - 1), min(max(int(y), 0), H - 1)
            x1, y1 = x0 + 1, y0 + 1
        out.append((x0, y0, x1, y1))
    return out


def _peak_in_region(pmap: np.ndarray, region, box) -> tuple[float, float]:
    """Highest point of the map in a region; ties go to the pixel nearest the box centre."""
    x0, y0, x1, y1 = region
    sub = pmap[y0:y1, x0:x1]
    top = sub >= sub.max() - 1e-12 * max(1.0, abs(float(sub.max())))
    rr, cc = np.nonzero(top)
    bx, by, bw, bh = (float(v) for v in box)
    d = (cc + x0 + 0.5 - (bx + bw / 2.0)) ** 2 + (rr + y0 + 0.5 - (by + bh / 2.0)) ** 2
    j = int(np.argmin(d))
    return float(cc[j] + x0 + 0.5), float(rr[j] + y0 + 0.5)
