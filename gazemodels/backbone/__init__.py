"""The transformer backbone shared by the four model families.

:class:`GazeBackbone` turns an image seen from a fixation into tokens with positions in
degrees of visual angle relative to that fixation:

- stems (:mod:`~gazemodels.backbone.stems`): a small conv stem, or the ImageNet-trained
  EfficientNet-lite0 (or lite1, lite2), frozen or fine-tuned;
- tokenizers (:mod:`~gazemodels.backbone.tokens`): patch tokens, or object tokens from boxes
  (ROI-align + box geometry + OAT positional encoding);
- blocks (:mod:`~gazemodels.backbone.blocks`): pre-norm transformer blocks with
  eccentricity-aware (``"ecc"``), dense or object attention, and eccNET's pure
  eccentricity-dependent pooling as a special case (``pooling_only``);
- conditioning on the fixation and, optionally, a search target (FiLM or a target token);
- checkpoints that carry their :class:`BackboneConfig`.

How each family uses it
-----------------------
- visual search: ``attention="ecc", conditioning="film"``; ``forward(search_image,
  fixation_px=..., px_per_degree=..., target=template)``, then a linear read-out of
  ``out.tokens`` gives a priority map over ``out.grid``;
- scanpath prediction, object level (OAT): ``attention="object", object_eccentricity=False,
  conditioning="token"``; ``forward(image, boxes=..., box_mask=..., target=...)`` gives one
  token per object and ``out.target_token``, whose products give logits over objects (or
  ``attention="object"`` with the eccentricity window and FiLM); free viewing:
  ``attention="ecc"``, patch tokens give the next-fixation density;
- foveated perception: ``attention="ecc"``; ``out.pooled()`` feeds a classifier;
- mental rotation: one backbone applied to both images (``attention="ecc"`` or ``"dense"``),
  their pooled tokens compared by a same/different head.
"""

from gazemodels.backbone.blocks import Attention, AttentionContext, Block
from gazemodels.backbone.config import BackboneConfig, BackboneConfigError
from gazemodels.backbone.model import BackboneOutput, CheckpointError, GazeBackbone
from gazemodels.backbone.stems import (
    ConvStem,
    EfficientNetLite0Stem,
    EfficientNetLiteStem,
    StemWeightsError,
    build_stem,
    load_efficientnet_lite,
    load_efficientnet_lite0,
)
from gazemodels.backbone.tokens import ObjectTokenizer, PatchTokenizer

__all__ = [
    "Attention",
    "AttentionContext",
    "BackboneConfig",
    "BackboneConfigError",
    "BackboneOutput",
    "Block",
    "CheckpointError",
    "ConvStem",
    "EfficientNetLite0Stem",
    "EfficientNetLiteStem",
    "GazeBackbone",
    "ObjectTokenizer",
    "PatchTokenizer",
    "StemWeightsError",
    "build_stem",
    "load_efficientnet_lite",
    "load_efficientnet_lite0",
]
