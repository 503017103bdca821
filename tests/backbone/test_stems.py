"""Stems: the pretrained EfficientNet-lite0 classifies a real photograph right; key mapping; freezing."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

from gazemodels.backbone import BackboneConfig, GazeBackbone
from gazemodels.backbone.config import EFFICIENTNET_LITE0_STAGES, EFFICIENTNET_LITE_STAGES, BackboneConfigError
from gazemodels.backbone.stems import (
    ConvStem,
    EfficientNetLite0Stem,
    StemWeightsError,
    efficientnet_lite0_weights_path,
    load_efficientnet_lite,
    load_efficientnet_lite0,
    map_state_dict_in_order,
    normalize_tf_lite,
    resize_center_crop,
)

MILITARY_UNIFORM = 652  # ImageNet-1k class index of "military uniform"


@pytest.fixture(scope="module")
def classifier():
    return load_efficientnet_lite0(pretrained=True)


@pytest.fixture(scope="module")
def grace_hopper() -> torch.Tensor:
    """matplotlib's sample photograph of Grace Hopper in uniform, (3, H, W) in [0, 1]."""
    from matplotlib import cbook
    from PIL import Image

    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


@pytest.fixture(scope="module")
def source_state():
    return torch.load(efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)


def _probs(model, image01: torch.Tensor, crop_pct: float) -> torch.Tensor:
    x = normalize_tf_lite(resize_center_crop(image01, 224, crop_pct))[None]
    with torch.no_grad():
        return model(x).softmax(-1)[0]


def test_top1_on_grace_hopper_is_military_uniform(classifier, grace_hopper):
    p = _probs(classifier, grace_hopper, crop_pct=1.0)
    assert int(p.argmax()) == MILITARY_UNIFORM
    # Measured 0.43; a wrong padding or normalisation gives at most 0.27 (next test).
    assert float(p[MILITARY_UNIFORM]) > 0.35
    # With the usual 0.875 ImageNet crop the uniform is partly cut away; it stays in the top 3
    # (academic gown 0.24, mortarboard 0.21, military uniform 0.18 as measured).
    p875 = _probs(classifier, grace_hopper, crop_pct=0.875)
    assert MILITARY_UNIFORM in p875.topk(3).indices.tolist()


def test_tf_padding_and_normalisation_matter(grace_hopper, source_state):
    """timm's efficientnet_lite0 defaults (symmetric padding, eps 1e-5, ImageNet mean/std) do worse."""
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    model.load_state_dict(map_state_dict_in_order(source_state, model.state_dict()))
    model.eval()
    x = resize_center_crop(grace_hopper, 224, 1.0)
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    with torch.no_grad():
        p_imagenet = model(((x - mean) / std)[None]).softmax(-1)[0]
        p_tf = model(normalize_tf_lite(x)[None]).softmax(-1)[0]
    assert int(p_imagenet.argmax()) != MILITARY_UNIFORM
    assert float(p_tf[MILITARY_UNIFORM]) < 0.3


def test_key_mapping_is_one_to_one(source_state, classifier):
    assert len(source_state) == 296
    target = classifier.state_dict()
    mapped = map_state_dict_in_order(source_state, target)
    assert list(mapped) == list(target)
    assert all(mapped[k].shape == target[k].shape for k in target)
    # The pairing is the intended one at both ends and in the middle.
    assert torch.equal(mapped["conv_stem.weight"], source_state["_conv_stem.weight"])
    assert torch.equal(mapped["classifier.weight"], source_state["_fc.weight"])
    assert torch.equal(mapped["blocks.6.0.conv_pwl.weight"], source_state["_blocks.15._project_conv.weight"])
    # ... and it is what the loaded classifier holds.
    assert torch.equal(classifier.state_dict()["blocks.3.1.bn2.running_var"],
                       source_state["_blocks.6._bn1.running_var"])


def test_key_mapping_fails_loudly(source_state, classifier):
    target = classifier.state_dict()
    fewer = OrderedDict(list(source_state.items())[:-1])
    with pytest.raises(StemWeightsError, match="296"):
        map_state_dict_in_order(fewer, target)
    items = list(source_state.items())
    items[10] = (items[10][0], torch.zeros(7, 7))
    with pytest.raises(StemWeightsError, match="shape"):
        map_state_dict_in_order(OrderedDict(items), target)
    items = list(source_state.items())
    items[1], items[2] = items[2], items[1]  # bn weight <-> bias: same shape, different kind
    with pytest.raises(StemWeightsError, match="kind"):
        map_state_dict_in_order(OrderedDict(items), target)


@pytest.mark.parametrize("variant", sorted(EFFICIENTNET_LITE_STAGES))
def test_stage_channels_and_strides(variant):
    net = load_efficientnet_lite(variant, pretrained=False)
    feats = []
    hooks = [b.register_forward_hook(lambda m, i, o: feats.append(o)) for b in net.blocks]
    with torch.no_grad():
        net(torch.zeros(1, 3, 64, 64))
    for h in hooks:
        h.remove()
    got = [(f.shape[1], 64 // f.shape[-1]) for f in feats]
    assert got == list(EFFICIENTNET_LITE_STAGES[variant])
    assert EFFICIENTNET_LITE_STAGES["efficientnet_lite0"] == EFFICIENTNET_LITE0_STAGES


def test_stem_matches_the_classifier_trunk(classifier):
    stem = EfficientNetLite0Stem(stage=2)
    x = torch.rand(2, 3, 48, 64)
    with torch.no_grad():
        ref = classifier.blocks[:3](classifier.bn1(classifier.conv_stem(normalize_tf_lite(x))))
        got = stem(x)
    assert got.shape == (2, 40, 6, 8)
    torch.testing.assert_close(got, ref)
    # A grey image is the same as its three-channel copy.
    g = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(stem(g), stem(g.expand(1, 3, 32, 32)))


def _backbone_grads(config: BackboneConfig):
    bb = GazeBackbone(config).train()
    out = bb(torch.rand(2, 3, 64, 64), fixation_deg=torch.zeros(2, 2), px_per_degree=16.0)
    (out.tokens * torch.randn_like(out.tokens)).sum().backward()
    return bb


def test_frozen_stem_gets_no_gradients():
    cfg = BackboneConfig(depth=1, width=16, heads=2, patch_size=16, attention="dense",
                         stem="efficientnet_lite0", stem_stage=3, stem_frozen=True)
    bb = _backbone_grads(cfg)
    assert all(not p.requires_grad and p.grad is None for p in bb.stem.parameters())
    assert bb.patch_tokens.proj.weight.grad is not None
    assert not any(m.training for m in bb.stem.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_finetuned_stem_gets_gradients_and_keeps_bn_statistics():
    cfg = BackboneConfig(depth=1, width=16, heads=2, patch_size=16, attention="dense",
                         stem="efficientnet_lite0", stem_stage=1, stem_frozen=False)
    bb = GazeBackbone(cfg)
    before = bb.stem.bn1.running_mean.clone()
    bb.train()
    out = bb(torch.rand(2, 3, 64, 64), fixation_deg=torch.zeros(2, 2), px_per_degree=16.0)
    (out.tokens * torch.randn_like(out.tokens)).sum().backward()
    assert bb.stem.conv_stem.weight.grad is not None and bb.stem.conv_stem.weight.grad.abs().sum() > 0
    assert torch.equal(bb.stem.bn1.running_mean, before)


def test_conv_stem_shapes_and_gradients():
    stem = ConvStem(32, 8)
    x = torch.rand(2, 3, 40, 24, requires_grad=True)
    y = stem(x)
    assert y.shape == (2, 32, 5, 3)
    y.square().sum().backward()
    assert all(p.grad is not None for p in stem.parameters())
    with pytest.raises(BackboneConfigError, match="power of two"):
        ConvStem(32, 6)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        stem(torch.rand(3, 32, 32))
