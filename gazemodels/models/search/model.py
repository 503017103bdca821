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
   the backbone's ``pooling_only`` eccentricity attention). ``pooling="max"`` keeps each
   window's Gaussian-weighted maximum instead of its weighted mean (MAX pooling, Riesenhuber &
   Poggio 1999; a variant, ``experiments/search_asymmetry_max_pooling.toml``);
   ``pooling="moments"`` keeps each window's weighted mean and standard deviation of every
   channel, local summary statistics (Rosenholtz et al. 2012; a variant,
   ``experiments/search_asymmetry_moments.toml``).
3. **Top-down guidance.** The template's features at each stage, pooled as the fovea pools them
   (width ``sigma0``: the target is inspected foveally), are cross-correlated with the pooled
   search features (eccNET's top-down modulation; Zhang et al. 2018's IVSN before it) and
   divided by the norms of the template and of the window under it: the cosine similarity
   of the two (``match="cosine"``; ``"dot"`` keeps eccNET's unnormalised dot product), with
   the template's cells as the kernel (``template="full"``; ``"mean"`` uses the template's
   mean feature vector over its extent). ``match="contain"`` replaces the cosine by the share
   of the template's feature mass the window holds, ``sum min(template, window) / sum
   template`` (:func:`~gazemodels.models.search.matching.containment`): an asymmetric
   similarity (Tversky 1977) that ignores what the window has beyond the target, the
   feature-presence account of search asymmetries (Treisman & Gormican 1988; a variant,
   ``experiments/search_asymmetry_contain.toml``). ``template_pooling="eccentric"`` pools the
   template at the width of each window's own eccentricity instead of the fovea's: the target
   alone, in the middle of a blank display-sized canvas, pooled at a geometric series of
   widths, each cell's match interpolated in log width between the two around its own. Each
   stage's map is min-max normalised over the display (``normalise="minmax"``, as eccNET)
   and the maps are averaged with weights proportional to their raw maxima (eccNET's layer
   weighting; ``layer_weights="equal"`` gives equal weights). The map is upsampled to display
   pixels.
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
* ``stem = "efficientnet_lite1"`` / ``"efficientnet_lite2"`` (the other ImageNet stems; a
  sensitivity test, see :mod:`gazemodels.experiments.search_asymmetry`): the noise by the
  default's rule (seeds 1 and 2, 40 displays per set size and kind; mean feature / conjunction
  slope, ms/item). lite1: 0.01: 1.1 / 26.3; 0.015: 6.4 / 30.0; 0.02: 11.1 / 43.1; 0.025:
  27.9 / 59.4, so 0.015. lite2: 0.01: -1.6 / 13.7; 0.015: 1.1 / 21.1; 0.02: 5.8 / 23.7; 0.025:
  9.985 / 32.1; 0.03: 14.2 / 44.7, so 0.025 (by a hair: 9.46 and 10.51 for the two seeds).
  Both meet the conjunction figure at their noise, as lite0 does.
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
``min(C, kh * kw)`` maps per fixation instead of C. The dense pooling's cell distances are kept
per grid (:data:`DISTANCE_CACHE_GRIDS`), and displays of one experiment and set size share their
grids: that took the default experiment's own time (``seconds`` in its ``summary.json``) from
146.5 s to 131.3 s with 2 workers on the 2-core development machine (one run each), with every
fixation the same.

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

Riesenhuber, M., & Poggio, T. (1999). Hierarchical models of object recognition in cortex.
*Nature Neuroscience, 2*(11), 1019-1025.

Treisman, A. M., & Gelade, G. (1980). A feature-integration theory of attention. *Cognitive
Psychology, 12*(1), 97-136.

Treisman, A., & Gormican, S. (1988). Feature analysis in early vision: Evidence from search
asymmetries. *Psychological Review, 95*(1), 15-48.

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

from gazemodels.data.schema import FIXATION_COLUMNS
from gazemodels.metrics.search import target_found
from gazemodels.models.search.config import (
    ABLATIONS,
    ECCNET_POOLING,
    SearchModelConfig,
    apply_ablation,
    eccnet_gaussian_pooling,
)
from gazemodels.models.search.features import MultiStageStem, background_colour, place_on_canvas
from gazemodels.models.search.matching import (
    _kernel_slice,
    _region_mean,
    _shift_sum,
    _snr_gain,
    containment,
    cross_correlate,
    cross_correlate_bank,
)
from gazemodels.models.search.pooling import EccentricityPooling, grid_positions_deg, pairwise_d2
from gazemodels.models.search.selection import _peak_in_region, _regions, item_peaks

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

DENSE_CACHE_CELLS = 2500
"""Grids with at most this many cells keep their pairwise distances (25 MB) for dense pooling."""

DISTANCE_CACHE_GRIDS = 8
"""Grids whose pairwise distances a model keeps across displays (displays of one experiment and
set size share their grids)."""


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
    bank: torch.Tensor | None = None  # (B, C, kh, kw): the template pooled at each width of `widths`
    widths: np.ndarray | None = None  # (B,) increasing template widths, deg (template_pooling="eccentric")


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


def _blend_widths(maps: torch.Tensor, sigma: torch.Tensor, widths: np.ndarray) -> torch.Tensor:
    """Each cell's value from the maps of the two widths around its own, linear in log width.

    Parameters
    ----------
    maps : Tensor
        ``(B, rows, cols)``, map b made with width ``widths[b]``.
    sigma : Tensor
        ``(rows, cols)`` each cell's width, degrees (clamped to the range of ``widths``).
    widths : numpy.ndarray
        ``(B,)`` increasing widths, degrees.

    Returns
    -------
    Tensor
        ``(rows, cols)``, the dtype of ``maps``.
    """
    if len(widths) == 1:
        return maps[0]
    lw = torch.as_tensor(np.log(widths), dtype=torch.float64)
    ls = sigma.to(torch.float64).log().clamp(float(lw[0]), float(lw[-1]))
    hi = torch.searchsorted(lw, ls.contiguous()).clamp(1, len(lw) - 1)
    lo = hi - 1
    frac = ((ls - lw[lo]) / (lw[hi] - lw[lo])).to(maps.dtype)
    below = maps.gather(0, lo[None])[0]
    above = maps.gather(0, hi[None])[0]
    return below + frac * (above - below)


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
    >>> fx["fix_index"].tolist()[0], fx["found"].tolist()[0]  # the central fixation
    (0, False)
    >>> bool(fx["found"].iloc[-1]) or len(fx) == d.set_size + 1  # found, or every item visited
    True
    """

    def __init__(self, config: SearchModelConfig | None = None, seed: int = 0, **overrides):
        config = config if config is not None else SearchModelConfig()
        if overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = config
        self.seed = int(seed)
        self.stem = (MultiStageStem(config.stages, pretrained=config.pretrained, rectify=config.rectify, seed=seed,
                                    layer=config.layer, variant=config.stem) if config.topdown else None)
        self._blank_cache: dict = {}
        self._pooled: dict = {}
        self._distances: dict = {}

    # ------------------------------------------------------------------ preparation
    def _pooling(self, i: int, sigma_const: float | None) -> EccentricityPooling:
        c = self.config
        if sigma_const is not None:  # ablation: constant width
            return EccentricityPooling(sigma_const, 0.0, c.cutoff, c.pool_impl, c.pooling)
        return EccentricityPooling(c.sigma0_deg[i], c.slope[i], c.cutoff, c.pool_impl, c.pooling)

    def _blank(self, shape, bg) -> dict:
        """The stem's features of a blank canvas of that shape and colour (cached)."""
        key = (tuple(shape), tuple(np.clip(np.rint(bg), 0, 255).astype(int).tolist()))
        blank = self._blank_cache.get(key)
        if blank is None:
            canvas = np.empty(shape, dtype=np.uint8)
            canvas[:] = np.asarray(key[1], dtype=np.uint8)
            blank = self.stem(canvas)
            if len(self._blank_cache) > 64:
                self._blank_cache.clear()
            self._blank_cache[key] = blank
        return blank

    def _minus_blank(self, feats: dict, shape, bg) -> dict:
        """Features minus the stem's response to a blank canvas of that shape and colour (cached)."""
        blank = self._blank(shape, bg)
        return {st: f - blank[st] for st, f in feats.items()}

    def _template_bank(self, tf: torch.Tensor, stride: int, ppd: float, rows: slice, cols: slice,
                       pool: EccentricityPooling, background: torch.Tensor,
                       reach_deg: float) -> tuple[torch.Tensor, np.ndarray]:
        """The template pooled at a geometric series of widths (``template_pooling="eccentric"``).

        The widths run from ``pool.sigma0`` by factors of ``template_band_ratio`` until they
        pass the widest window the display can have (``pool.sigma(reach_deg)``). The template's
        canvas features are extended with the stem's response to the blank background
        (``background``, a ``(C,)`` vector) as far as the widest window reaches, so that a wide
        window sees the target alone on an unbounded background, and are pooled at the
        template's cells ``rows x cols`` only.

        Returns
        -------
        bank : Tensor
            ``(B, C, kh, kw)`` (``2 C`` channels for moments).
        widths : numpy.ndarray
            ``(B,)`` degrees.
        """
        c = self.config
        widest = pool.sigma0 + pool.slope * reach_deg
        ratio = float(c.template_band_ratio)
        n = 1 + max(0, math.ceil(math.log(widest / pool.sigma0) / math.log(ratio) - 1e-9))
        widths = pool.sigma0 * ratio ** np.arange(n)
        m = int(math.ceil(c.cutoff * widths[-1] * ppd / stride))  # cells the widest window reaches
        C, trows, tcols = tf.shape
        padded = background.to(tf.dtype)[:, None, None].repeat(1, trows + 2 * m, tcols + 2 * m)
        padded[:, m:m + trows, m:m + tcols] = tf
        pos = grid_positions_deg(trows + 2 * m, tcols + 2 * m, stride, ppd)
        rr, cc = torch.meshgrid(torch.arange(trows)[rows] + m, torch.arange(tcols)[cols] + m, indexing="ij")
        cells = (rr * (tcols + 2 * m) + cc).flatten()
        bank = [EccentricityPooling(float(w), 0.0, c.cutoff, "auto", c.pooling).at(padded, pos, cells, (0.0, 0.0))
                for w in widths]
        return torch.stack(bank).reshape(n, -1, *rr.shape), widths

    def _cell_distances(self, pos: torch.Tensor, grid: tuple) -> torch.Tensor:
        """Pairwise squared cell distances of a grid, kept for the next display with that grid.

        ``grid`` is everything ``pos`` is computed from (rows, cols, stride, px/deg, canvas
        offset), so a kept matrix is the one :func:`pairwise_d2` would compute again.
        """
        d2 = self._distances.get(grid)
        if d2 is None:
            d2 = pairwise_d2(pos)
            if len(self._distances) >= DISTANCE_CACHE_GRIDS:
                self._distances.pop(next(iter(self._distances)))  # the oldest
            self._distances[grid] = d2
        return d2

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
        if c.template_pooling == "eccentric":
            # the target alone in the middle of a blank display-sized canvas, so that its
            # features have the surround a display item has, and its wide windows see background
            th, tw = template.shape[:2]
            wide = place_on_canvas(template, c.canvas_margin_px + max(0, (max(H, W) - max(th, tw)) // 2), bg)
            wide_feats = self.stem(wide.pixels)
        if c.baseline == "background":
            feats = self._minus_blank(feats, canvas.pixels.shape, bg)
            tfeats = self._minus_blank(tfeats, tcanvas.pixels.shape, bg)
            if c.template_pooling == "eccentric":
                wide_feats = self._minus_blank(wide_feats, wide.pixels.shape, bg)
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
            tf = tfeats[st]
            trows, tcols = tf.shape[-2:]
            th, tw = template.shape[:2]
            tox, toy = tcanvas.offset
            bank = widths = None
            if c.template_pooling == "eccentric":
                # the template as each window sees it, at the width of the window's eccentricity
                # (target-present statistics, Rosenholtz et al. 2012), on the blank background
                blank = self._blank(canvas.pixels.shape, bg)[st]
                background = blank[:, blank.shape[1] // 2, blank.shape[2] // 2]
                if c.baseline == "background":
                    background = torch.zeros_like(background)  # the blank's response, subtracted
                reach = math.hypot(*canvas.pixels.shape[:2]) / ppd  # the farthest cell from any fixation
                wx, wy = wide.offset
                bank, widths = self._template_bank(wide_feats[st], s, ppd, _kernel_slice(wy, th, s),
                                                   _kernel_slice(wx, tw, s), pool, background, reach)
                kernel = bank[0]
            else:
                # the target is inspected foveally: pooled with the foveal width everywhere
                tpool = EccentricityPooling(pool.sigma0, 0.0, c.cutoff, c.pool_impl, c.pooling)
                tf = tpool(tf, grid_positions_deg(trows, tcols, s, ppd), (0.0, 0.0), cell)
                kernel = tf[:, _kernel_slice(toy, th, s), _kernel_slice(tox, tw, s)]
            d2 = self._cell_distances(pos, (rows, cols, s, ppd, ox, oy)) if rows * cols <= DENSE_CACHE_CELLS else None
            if c.template == "mean":
                # the template's mean feature vector over its extent: feature-based guidance
                kernel = kernel.mean(dim=(1, 2), keepdim=True).expand_as(kernel)
                if bank is not None:
                    bank = bank.mean(dim=(2, 3), keepdim=True).expand_as(bank)
            if c.gain == "snr":
                # top-down feature gains (Navalpakkam & Itti 2007): each channel weighted by its
                # target-to-distractor response ratio, the distractors' being the mean over the
                # display's items; pooling is linear per channel, so the maps are scaled once
                g = _snr_gain(_region_mean(tfeats[st], np.array([[tox, toy, tw, th]], dtype=float), s),
                              _region_mean(fm, boxes + np.array([ox, oy, 0, 0]), s))
                fm = fm * g[:, None, None]
                # the gains scale the template's pooled statistics as they scale its features
                # (a mean and a deviation alike, the gains being positive)
                kernel = kernel * g.repeat(kernel.shape[0] // g.shape[0])[:, None, None]
                if bank is not None:
                    bank = bank * g.repeat(bank.shape[1] // g.shape[0])[:, None, None]
            kernel = kernel.contiguous()
            layer = _Layer(st, s, fm, pos, cell, pool, kernel, d2)
            if bank is not None:
                layer.bank, layer.widths = bank.contiguous(), widths
            kh, kw = kernel.shape[1:]
            # projecting before pooling needs the dot product, a pooling linear in the features
            # and one template
            project = c.match == "dot" and c.pooling == "mean" and bank is None
            if project and c.template == "mean":
                # one projected map, summed over a template-sized window after pooling
                layer.projected = (kernel[:, 0, 0] @ fm.reshape(fm.shape[0], -1)).reshape(1, rows, cols)
            elif project and kh * kw < kernel.shape[0]:
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
                # one map per template width (eccentric template), or the one template's
                if self.config.match == "contain":
                    corr = (containment(pooled, k) if layer.bank is None
                            else torch.stack([containment(pooled, kb) for kb in layer.bank]))
                elif layer.bank is None:
                    corr = cross_correlate(pooled, k)
                else:
                    corr = cross_correlate_bank(pooled, layer.bank)
                if self.config.bottom_up > 0:
                    self._pooled[id(layer)] = (fix_deg, pooled)  # for the bottom-up term
            if self.config.match == "cosine":
                # divide by the norms of the template and of the window under it: the cosine
                # similarity of the two, insensitive to the feature energy of an item
                energy = cross_correlate(pooled.pow(2).sum(0, keepdim=True), torch.ones_like(k[:1]))
                if layer.bank is None:
                    den = energy.clamp_min(0.0).sqrt() * k.norm()
                    corr = corr / den.clamp_min(1e-6 * float(den.max()) + 1e-12)
                else:
                    den = energy.clamp_min(0.0).sqrt()[None] * layer.bank.flatten(1).norm(dim=1)[:, None, None]
                    corr = corr / den.clamp_min(1e-6 * den.amax(dim=(1, 2), keepdim=True) + 1e-12)
            if layer.bank is not None:
                # each cell takes the match of the template pooled at its own window's width
                sig = layer.pooling.sigma(layer.pos_deg, fix_deg).reshape(corr.shape[1:])
                corr = _blend_widths(corr, sig, layer.widths)
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
