"""The backbone as each of the four model families will use it: forward, loss, backward.

Each test builds the backbone with the config its family needs, adds the small head that the
family puts on top, and checks shapes, a finite loss, and that gradients reach the backbone's
parameters (the stem, the tokenizer, the blocks, and sigma0 / slope where they are learned).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gazemodels.backbone import BackboneConfig, GazeBackbone

PPD = 16.0  # pixels per degree of the toy stimuli: a 64 px image spans 4 deg


def _assert_backbone_gradients(bb: GazeBackbone, must_be_nonzero=(), unused=()):
    """Every trainable parameter got a finite gradient (but those under the ``unused`` prefixes,
    which this input does not touch); the named ones a non-zero one."""
    trainable = {n: p for n, p in bb.named_parameters() if p.requires_grad and not n.startswith(tuple(unused))}
    assert trainable
    missing = [n for n, p in trainable.items() if p.grad is None]
    assert not missing, f"no gradient reached {missing}"
    assert all(torch.isfinite(p.grad).all() for p in trainable.values())
    for name in must_be_nonzero:
        assert trainable[name].grad.abs().sum() > 0, name


def _sigma_names(bb: GazeBackbone) -> list[str]:
    return [n for n, _ in bb.named_parameters() if n.endswith(("sigma0_raw", "slope_raw"))]


# ------------------------------------------------------------------------------ 1. visual search
def test_visual_search_priority_map():
    """Search image + target template + fixation -> priority over patch tokens (next saccade)."""
    torch.manual_seed(0)
    cfg = BackboneConfig(depth=2, width=32, heads=4, patch_size=8, attention="ecc", conditioning="film",
                         sigma0=0.5, slope=0.3)
    bb = GazeBackbone(cfg).train()
    readout = nn.Linear(cfg.width, 1)
    search, template = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 16, 16)
    fix_px = torch.tensor([[32.0, 32.0], [10.0, 50.0]])
    out = bb(search, fixation_px=fix_px, px_per_degree=PPD, target=template)
    priority = readout(out.tokens).squeeze(-1)  # (B, N)
    assert priority.shape == (2, 64) and out.grid == (8, 8)
    assert readout(out.tokens).transpose(1, 2).reshape(2, 1, *out.grid).shape == (2, 1, 8, 8)
    target_patch = torch.tensor([5, 42])
    loss = F.cross_entropy(priority, target_patch)
    assert torch.isfinite(loss)
    loss.backward()
    sig = _sigma_names(bb)
    assert len(sig) == 2 * cfg.depth
    _assert_backbone_gradients(bb, must_be_nonzero=sig + ["stem.net.0.weight", "film.0.weight",
                                                          "target_image_proj.0.weight"])


def _gaussian_pool(x, pos, fix, sigma0, slope, cutoff):
    """eccNET pooling written out densely: normalised Gaussian weights within cutoff * sigma_i."""
    B, N, C = x.shape
    H = sigma0.numel()
    d = torch.cdist(pos.double(), pos.double())  # (N, N)
    ecc = torch.linalg.vector_norm(pos.double()[None] - fix.double()[:, None], dim=-1)  # (B, N)
    sig = sigma0.double()[None, :, None] + slope.double()[None, :, None] * ecc[:, None, :]  # (B, H, N)
    w = torch.exp(-d[None, None] ** 2 / (2 * sig[..., None] ** 2)) * (d[None, None] <= cutoff * sig[..., None])
    w = w / w.sum(-1, keepdim=True)
    xh = x.double().view(B, N, H, C // H).transpose(1, 2)
    return (w @ xh).transpose(1, 2).reshape(B, N, C)


def test_visual_search_eccnet_pooling_mode():
    """pooling_only: q = k = 0, identity values; the backbone's blocks are Gaussian pooling by hand."""
    torch.manual_seed(1)
    cfg = BackboneConfig(depth=1, width=16, heads=2, patch_size=8, attention="ecc", pooling_only=True,
                         mlp_ratio=0, sigma0=0.4, slope=0.5, cutoff=3.0)
    bb = GazeBackbone(cfg)
    with torch.no_grad():
        bb.blocks[0].attn.slope_raw.add_(torch.tensor([0.0, 1.0]))  # two different heads
    img = torch.rand(2, 3, 64, 64)
    fix_px = torch.tensor([[32.0, 32.0], [8.0, 56.0]])
    ppd = torch.full((2,), PPD)
    out = bb(img, fixation_px=fix_px, px_per_degree=PPD)
    fix_deg = out.fixation_deg
    tok = bb.patch_tokens(bb.stem(img), (64, 64), ppd, fix_deg)
    a = bb.blocks[0].attn
    want = _gaussian_pool(tok.tokens, tok.pos_deg[0], fix_deg, a.sigma0, a.slope, cfg.cutoff)
    torch.testing.assert_close(out.tokens.double(), want, atol=1e-5, rtol=1e-5)

    # The same mode trains: eccNET-style search with a FiLM-ed target and learned pooling widths.
    bb = GazeBackbone(cfg.replace(depth=2, conditioning="film"))
    out = bb(img, fixation_px=fix_px, px_per_degree=PPD, target=torch.rand(2, 3, 16, 16))
    loss = F.cross_entropy(nn.Linear(16, 1)(out.tokens).squeeze(-1), torch.tensor([0, 63]))
    assert torch.isfinite(loss)
    loss.backward()
    _assert_backbone_gradients(bb, must_be_nonzero=_sigma_names(bb))


# ------------------------------------------------------------------------------ 2. scanpaths
def test_scanpath_object_level_oat():
    """Object tokens from boxes + a target token -> logits over objects for the next fixation (OAT)."""
    torch.manual_seed(2)
    cfg = BackboneConfig(depth=2, width=32, heads=4, patch_size=8, attention="object", object_eccentricity=False,
                         conditioning="token")
    bb = GazeBackbone(cfg).train()
    image, template = torch.rand(2, 3, 64, 96), torch.rand(2, 3, 24, 24)
    boxes = torch.tensor([
        [[4.0, 4.0, 20.0, 24.0], [40.0, 8.0, 16.0, 16.0], [60.0, 30.0, 30.0, 30.0], [0.0, 0.0, 0.0, 0.0]],
        [[10.0, 10.0, 40.0, 20.0], [50.0, 40.0, 20.0, 20.0], [70.0, 4.0, 20.0, 20.0], [5.0, 40.0, 20.0, 20.0]],
    ])
    box_mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    fix_px = torch.tensor([[48.0, 32.0], [30.0, 20.0]])
    out = bb(image, fixation_px=fix_px, px_per_degree=PPD, boxes=boxes, box_mask=box_mask, target=template)
    assert out.token_kind == "object" and out.tokens.shape == (2, 4, 32) and out.target_token.shape == (2, 32)
    # Positions are box centres relative to the fixation: box 0 of image 1 is centred on it.
    assert out.positions_deg[1, 0].abs().max() < 1e-6
    assert out.positions_deg[0, 1].tolist() == pytest.approx([0.0, 16 / PPD])
    # OAT-style read-out: each object's score against the target-conditioned query.
    query = nn.Linear(32, 32)(out.target_token)
    logits = torch.einsum("bmc,bc->bm", out.tokens, query) / math.sqrt(32)
    logits = logits.masked_fill(~out.mask, -math.inf)
    next_object = torch.tensor([2, 3])
    loss = F.cross_entropy(logits, next_object)
    assert torch.isfinite(loss)
    loss.backward()
    _assert_backbone_gradients(bb, must_be_nonzero=["stem.net.0.weight", "object_tokens.appearance.weight",
                                                    "target_type", "target_image_proj.0.weight"])
    box_bias_params = [p for n, p in bb.named_parameters() if n.startswith("box_bias.")]
    assert any(p.grad.abs().sum() > 0 for p in box_bias_params)
    # Padding objects do not influence real ones.
    with torch.no_grad():
        bb.eval()
        moved = boxes.clone()
        moved[0, 3] = torch.tensor([30.0, 30.0, 20.0, 20.0])
        a = bb(image, fixation_px=fix_px, px_per_degree=PPD, boxes=boxes, box_mask=box_mask, target=template)
        b = bb(image, fixation_px=fix_px, px_per_degree=PPD, boxes=moved, box_mask=box_mask, target=template)
    torch.testing.assert_close(a.tokens[0, :3], b.tokens[0, :3])
    torch.testing.assert_close(a.target_token, b.target_token)


def test_scanpath_objects_in_the_eccentricity_window():
    """Object tokens through ecc_attention (box centres as positions, relation bias as bias), target by FiLM."""
    torch.manual_seed(6)
    cfg = BackboneConfig(depth=2, width=16, heads=2, patch_size=8, attention="object", conditioning="film",
                         target_dim=8, sigma0=1.0, slope=0.5)
    bb = GazeBackbone(cfg).train()
    boxes = torch.tensor([[[0.0, 0.0, 16.0, 16.0], [20.0, 30.0, 10.0, 20.0], [40.0, 2.0, 20.0, 10.0]]]).repeat(2, 1, 1)
    box_mask = torch.tensor([[True, True, False], [True, True, True]])
    out = bb(torch.rand(2, 3, 64, 64), fixation_px=torch.tensor([[8.0, 8.0], [50.0, 7.0]]), px_per_degree=PPD,
             boxes=boxes, box_mask=box_mask, target=torch.randn(2, 8))
    assert out.tokens.shape == (2, 3, 16) and out.target_token is None
    assert out.positions_deg[0, 0].abs().max() < 1e-6 and out.positions_deg[1, 2].abs().max() < 1e-6
    logits = nn.Linear(16, 1)(out.tokens).squeeze(-1).masked_fill(~out.mask, -math.inf)
    loss = F.cross_entropy(logits, torch.tensor([1, 2]))
    assert torch.isfinite(loss)
    loss.backward()
    _assert_backbone_gradients(bb, must_be_nonzero=_sigma_names(bb) + ["object_tokens.appearance.weight",
                                                                       "target_embed_proj.0.weight"],
                               unused=["target_image_proj."])  # the target is an embedding here


def test_scanpath_free_viewing_density():
    """Patch tokens -> a density over the image for the next fixation (free viewing, no target)."""
    torch.manual_seed(3)
    cfg = BackboneConfig(depth=2, width=32, heads=4, patch_size=8, attention="ecc", sigma0=0.5, slope=0.25)
    bb = GazeBackbone(cfg).train()
    image = torch.rand(3, 3, 48, 64)
    fix_px = torch.tensor([[32.0, 24.0], [5.0, 5.0], [60.0, 40.0]])
    out = bb(image, fixation_px=fix_px, px_per_degree=PPD)
    log_density = F.log_softmax(nn.Linear(32, 1)(out.tokens).squeeze(-1), dim=-1).view(3, *out.grid)
    assert log_density.shape == (3, 6, 8)
    torch.testing.assert_close(log_density.exp().sum(dim=(1, 2)), torch.ones(3))
    next_fix_px = torch.tensor([[40.0, 10.0], [20.0, 30.0], [2.0, 2.0]])
    cell = (next_fix_px[:, 1] // 8).long() * 8 + (next_fix_px[:, 0] // 8).long()
    loss = -log_density.flatten(1).gather(1, cell[:, None]).mean()
    assert torch.isfinite(loss)
    loss.backward()
    _assert_backbone_gradients(bb, must_be_nonzero=_sigma_names(bb) + ["stem.net.0.weight"])


# ------------------------------------------------------------------------------ 3. foveated perception
def _foveate(image: torch.Tensor, fix_px: torch.Tensor, ppd: float, fovea_deg: float = 1.0) -> torch.Tensor:
    """A toy foveated image: sharp within ``fovea_deg`` of the fixation, blurred beyond."""
    blurred = F.avg_pool2d(image, 5, stride=1, padding=2, count_include_pad=False)
    H, W = image.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing="ij")
    ecc = torch.hypot(xs[None] - fix_px[:, 0, None, None], ys[None] - fix_px[:, 1, None, None]) / ppd
    alpha = torch.sigmoid((ecc - fovea_deg) * 4.0)[:, None]
    return (1 - alpha) * image + alpha * blurred


def test_foveated_perception_classifier():
    """Foveated image -> class logits, on the pretrained stem (fine-tuned) with eccentricity-aware attention."""
    torch.manual_seed(4)
    cfg = BackboneConfig(depth=1, width=32, heads=4, patch_size=16, attention="ecc", stem="efficientnet_lite0",
                         stem_stage=2, stem_frozen=False, sigma0=0.5, slope=0.4)
    bb = GazeBackbone(cfg).train()
    classifier = nn.Linear(32, 10)
    image = torch.rand(2, 3, 64, 64)
    fix_px = torch.tensor([[32.0, 32.0], [16.0, 48.0]])
    seen = _foveate(image, fix_px, PPD)
    out = bb(seen, fixation_px=fix_px, px_per_degree=PPD)
    logits = classifier(out.pooled())
    assert logits.shape == (2, 10)
    loss = F.cross_entropy(logits, torch.tensor([3, 7]))
    assert torch.isfinite(loss)
    loss.backward()
    _assert_backbone_gradients(bb, must_be_nonzero=_sigma_names(bb) + ["stem.conv_stem.weight"])


# ------------------------------------------------------------------------------ 4. mental rotation
def test_mental_rotation_same_different():
    """Two images -> same/different logit: one backbone, shared weights, applied to both."""
    torch.manual_seed(5)
    cfg = BackboneConfig(depth=2, width=32, heads=4, patch_size=8, attention="ecc", sigma0=0.75, slope=0.2)
    bb = GazeBackbone(cfg).train()
    head = nn.Sequential(nn.Linear(64, 32), nn.GELU(), nn.Linear(32, 1))
    left = torch.rand(3, 1, 48, 48)  # grey renderings of 3-D objects
    right = torch.rot90(left, 1, dims=(-2, -1))
    right[2] = torch.rand(1, 48, 48)  # the third pair differs
    same = torch.tensor([1.0, 1.0, 0.0])
    centre = torch.tensor([24.0, 24.0])
    out = bb(torch.cat([left, right]), fixation_px=centre, px_per_degree=PPD)
    fa, fb = out.pooled().chunk(2)
    logit = head(torch.cat([fa * fb, (fa - fb).abs()], dim=-1)).squeeze(-1)
    assert logit.shape == (3,)
    loss = F.binary_cross_entropy_with_logits(logit, same)
    assert torch.isfinite(loss)
    loss.backward()
    _assert_backbone_gradients(bb, must_be_nonzero=_sigma_names(bb) + ["stem.net.0.weight"])
