"""GazeBackbone: config round trip and validation, argument errors, conditioning, checkpoints."""

from __future__ import annotations

import math

import pytest
import torch

from gazemodels.backbone import (
    BackboneConfig,
    BackboneConfigError,
    CheckpointError,
    GazeBackbone,
)

SMALL = dict(depth=2, width=16, heads=2, patch_size=8, stem_channels=16, stem_stride=4)


def _inputs(b=2, h=32, w=32):
    torch.manual_seed(0)
    return torch.rand(b, 3, h, w), torch.tensor([[16.0, 16.0], [4.0, 28.0]])[:b]


# ------------------------------------------------------------------------------ config
def test_config_dict_round_trip():
    cfg = BackboneConfig(depth=3, attention="dense", conditioning="token", target_dim=12, cutoff=math.inf)
    d = cfg.to_dict()
    assert BackboneConfig.from_dict(d) == cfg
    assert all(isinstance(v, (int, float, str, bool)) for v in d.values())
    assert cfg.diff(cfg.replace(depth=4)) == {"depth": (3, 4)}


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(width=30, heads=4), "divide"),
        (dict(attention="sparse"), "attention must be one of"),
        (dict(attention="dense", pooling_only=True), "pooling_only"),
        (dict(conditioning="token"), "no position"),
        (dict(attention="object", conditioning="token"), "object_eccentricity=False"),
        (dict(attention="object", width=18, heads=2), "divisible by 4"),
        (dict(sigma0=0.0), "sigma0"),
        (dict(slope=-0.1), "slope"),
        (dict(cutoff=0), "cutoff"),
        (dict(patch_size=10, stem_stride=4), "multiple of the stem's stride"),
        (dict(stem="efficientnet_lite0", stem_stage=7), "stem_stage"),
        (dict(stem_stride=6), "power of two"),
        (dict(dropout=1.0), "dropout"),
        (dict(target_dim=8), "ignore the target"),
        (dict(depth=0), "depth"),
    ],
)
def test_config_validation(changes, message):
    with pytest.raises(BackboneConfigError, match=message):
        BackboneConfig(**changes)


def test_config_from_dict_rejects_unknown_fields():
    with pytest.raises(BackboneConfigError, match="unknown BackboneConfig field"):
        BackboneConfig.from_dict({"depth": 2, "n_layers": 3})


# ------------------------------------------------------------------------------ forward
def test_forward_shapes_for_nonsquare_images_and_per_image_px_per_degree():
    bb = GazeBackbone(**SMALL)
    img = torch.rand(2, 3, 24, 40)
    out = bb(img, fixation_px=torch.tensor([[20.0, 12.0], [0.0, 0.0]]), px_per_degree=torch.tensor([8.0, 16.0]))
    assert out.tokens.shape == (2, 15, 16) and out.grid == (3, 5)
    assert out.as_map().shape == (2, 16, 3, 5)
    assert out.pooled().shape == (2, 16)
    # Image 1 fixates the top-left corner at 16 px/deg: patch (0, 0) is at (+0.25, -0.25) deg.
    assert out.positions_deg[1, 0].tolist() == pytest.approx([0.25, -0.25])
    assert torch.isfinite(out.tokens).all()


def test_features_input_equals_image_input():
    bb = GazeBackbone(**SMALL).eval()
    img, fix = _inputs()
    a = bb(img, fixation_px=fix, px_per_degree=8.0)
    b = bb(features=bb.stem(img), fixation_px=fix, px_per_degree=8.0)
    torch.testing.assert_close(a.tokens, b.tokens)


@pytest.mark.parametrize("impl", ["auto", "sdpa"])
def test_cpu_path_and_reference_agree_inside_the_backbone(impl):
    bb = GazeBackbone(**SMALL, attention_impl="reference").eval()
    img, fix = _inputs()
    ref = bb(img, fixation_px=fix, px_per_degree=8.0).tokens
    for block in bb.blocks:
        block.attn.impl = impl
    torch.testing.assert_close(bb(img, fixation_px=fix, px_per_degree=8.0).tokens, ref, atol=1e-4, rtol=1e-4)


def test_argument_errors():
    bb = GazeBackbone(**SMALL)
    img, fix = _inputs()
    with pytest.raises(ValueError, match="exactly one of image"):
        bb(img, features=torch.rand(2, 16, 8, 8), fixation_px=fix, px_per_degree=8.0)
    with pytest.raises(ValueError, match="exactly one of fixation_deg"):
        bb(img, px_per_degree=8.0)
    with pytest.raises(ValueError, match=r"fixation_px must have shape \(2, 2\)"):
        bb(img, fixation_px=torch.zeros(3, 2), px_per_degree=8.0)
    with pytest.raises(ValueError, match="NaN"):
        bb(img, fixation_deg=torch.tensor([[0.0, float("nan")], [0.0, 0.0]]), px_per_degree=8.0)
    with pytest.raises(ValueError, match="multiple of the patch size"):
        bb(torch.rand(2, 3, 30, 32), fixation_px=fix, px_per_degree=8.0)
    with pytest.raises(ValueError, match="positive"):
        bb(img, fixation_px=fix, px_per_degree=0.0)
    with pytest.raises(ValueError, match="object attention"):
        bb(img, fixation_px=fix, px_per_degree=8.0, boxes=torch.zeros(2, 1, 4))
    with pytest.raises(ValueError, match="takes no target"):
        bb(img, fixation_px=fix, px_per_degree=8.0, target=torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match=r"\(B, 16, h, w\)"):
        bb(features=torch.rand(2, 5, 8, 8), fixation_px=fix, px_per_degree=8.0)


def test_film_target_conditioning():
    bb = GazeBackbone(**SMALL, conditioning="film", target_dim=5).eval()
    img, fix = _inputs()
    t1, t2 = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    a = bb(img, fixation_px=fix, px_per_degree=8.0, target=t1).tokens
    b = bb(img, fixation_px=fix, px_per_degree=8.0, target=t2).tokens
    assert not torch.allclose(a, b, atol=1e-4)  # the target changes the features
    e = bb(img, fixation_px=fix, px_per_degree=8.0, target=torch.randn(2, 5)).tokens
    assert e.shape == a.shape
    with pytest.raises(ValueError, match="required"):
        bb(img, fixation_px=fix, px_per_degree=8.0)
    with pytest.raises(ValueError, match="target_dim=5"):
        bb(img, fixation_px=fix, px_per_degree=8.0, target=torch.randn(2, 4))


def test_target_token_conditioning_with_dense_attention():
    bb = GazeBackbone(**SMALL, attention="dense", conditioning="token")
    img, fix = _inputs()
    out = bb(img, fixation_px=fix, px_per_degree=8.0, target=torch.rand(2, 1, 16, 16))
    assert out.tokens.shape == (2, 16, 16) and out.target_token.shape == (2, 16)
    (out.target_token * torch.randn_like(out.target_token)).sum().backward()
    # The target token reads the image: gradients reach the patch tokenizer through attention.
    assert bb.patch_tokens.proj.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------------------ checkpoints
def test_checkpoint_round_trip(tmp_path):
    cfg = BackboneConfig(**SMALL, conditioning="film", sigma0=0.7, learn_slope=False)
    bb = GazeBackbone(cfg).eval()
    with torch.no_grad():
        bb.blocks[0].attn.sigma0_raw.add_(0.3)  # trained values must survive
    img, fix = _inputs()
    tgt = torch.rand(2, 3, 16, 16)
    want = bb(img, fixation_px=fix, px_per_degree=8.0, target=tgt).tokens
    path = tmp_path / "bb.pt"
    bb.save(path)
    loaded = GazeBackbone.load(path)
    assert loaded.config == cfg
    torch.testing.assert_close(loaded(img, fixation_px=fix, px_per_degree=8.0, target=tgt).tokens, want)
    torch.testing.assert_close(GazeBackbone.load(path, config=cfg).blocks[0].attn.sigma0, bb.blocks[0].attn.sigma0)
    # Into an existing network with the same config.
    fresh = GazeBackbone(cfg).eval().load_checkpoint(path)
    torch.testing.assert_close(fresh(img, fixation_px=fix, px_per_degree=8.0, target=tgt).tokens, want)
    # The implementation is not part of the architecture.
    other_impl = GazeBackbone.load(path, config=cfg.replace(attention_impl="reference"))
    assert other_impl.config.attention_impl == "reference"


def test_checkpoint_with_pretrained_stem_round_trip(tmp_path):
    cfg = BackboneConfig(depth=1, width=16, heads=2, patch_size=16, stem="efficientnet_lite0", stem_stage=1)
    bb = GazeBackbone(cfg).eval()
    path = tmp_path / "bb.pt"
    bb.save(path)
    loaded = GazeBackbone.load(path, config=cfg)
    torch.testing.assert_close(loaded.stem.conv_stem.weight, bb.stem.conv_stem.weight)
    assert loaded.config.pretrained and all(not p.requires_grad for p in loaded.stem.parameters())


def test_checkpoint_config_mismatch(tmp_path):
    cfg = BackboneConfig(**SMALL)
    path = tmp_path / "bb.pt"
    GazeBackbone(cfg).save(path)
    with pytest.raises(BackboneConfigError, match="depth: expected 3, checkpoint has 2"):
        GazeBackbone.load(path, config=cfg.replace(depth=3))
    with pytest.raises(BackboneConfigError, match="sigma0"):
        GazeBackbone(cfg.replace(sigma0=2.0)).load_checkpoint(path)
    with pytest.raises(BackboneConfigError, match="attention: expected 'dense', checkpoint has 'ecc'"):
        GazeBackbone(cfg.replace(attention="dense")).load_checkpoint(path)


def test_bad_checkpoint_files(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        GazeBackbone.load(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(CheckpointError, match="not a GazeBackbone checkpoint"):
        GazeBackbone.load(other)
    bb = GazeBackbone(**SMALL)
    tampered = tmp_path / "tampered.pt"
    bb.save(tampered)
    ckpt = torch.load(tampered, weights_only=True)
    del ckpt["state_dict"]["norm.weight"]
    torch.save(ckpt, tampered)
    with pytest.raises(CheckpointError, match="norm.weight"):
        GazeBackbone.load(tampered)
    with pytest.raises(FileNotFoundError):
        GazeBackbone.load(tmp_path / "missing.pt")


# ------------------------------------------------------------------------------ docs
@pytest.mark.parametrize("name", ["config", "stems", "tokens", "blocks", "model"])
def test_doctests_and_numpydoc(name):
    import doctest
    import importlib
    import inspect

    module = importlib.import_module(f"gazemodels.backbone.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0
    for obj_name in module.__all__:
        obj = getattr(module, obj_name)
        if inspect.isfunction(obj):
            doc = inspect.getdoc(obj) or ""
            assert "Returns\n-------" in doc, f"{name}.{obj_name}"
            if inspect.signature(obj).parameters:
                assert "Parameters\n----------" in doc, f"{name}.{obj_name}"
