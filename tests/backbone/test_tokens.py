"""Tokenizers: positions in degrees relative to the fixation; ROI-align over the stem's map."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from gazemodels.backbone import GazeBackbone
from gazemodels.backbone.tokens import (
    ObjectTokenizer,
    PatchTokenizer,
    as_px_per_degree,
    boxes_px_to_deg,
    check_boxes,
    deg_to_px,
    px_to_deg,
)
from gazemodels.data.units import add_degrees


def test_px_to_deg_agrees_with_units_add_degrees():
    stimuli = pd.DataFrame({"stimulus": ["a", "b"], "width": [800, 640], "height": [600, 480],
                            "px_per_degree": [30.0, 22.5]})
    fix = pd.DataFrame({"stimulus": ["a", "a", "b"], "x": [0.0, 400.0, 17.0], "y": [600.0, 300.0, 455.5]})
    want = add_degrees(fix, stimuli)[["x_deg", "y_deg"]].to_numpy()
    for i, row in fix.iterrows():
        st = stimuli.set_index("stimulus").loc[row["stimulus"]]
        got = px_to_deg(torch.tensor([[[row["x"], row["y"]]]], dtype=torch.float64),
                        (int(st["height"]), int(st["width"])), torch.tensor([st["px_per_degree"]], dtype=torch.float64))
        assert got[0, 0].tolist() == pytest.approx(want[i].tolist(), abs=1e-12)


def test_deg_to_px_inverts_px_to_deg():
    xy = torch.rand(3, 5, 2, dtype=torch.float64) * 100
    ppd = torch.tensor([10.0, 20.0, 33.0], dtype=torch.float64)
    back = deg_to_px(px_to_deg(xy, (90, 120), ppd), (90, 120), ppd)
    torch.testing.assert_close(back, xy)


def test_px_per_degree_checks():
    assert as_px_per_degree(12.0, 3).tolist() == [12.0] * 3
    with pytest.raises(ValueError, match="positive"):
        as_px_per_degree(torch.tensor([1.0, -2.0]), 2)
    with pytest.raises(ValueError, match="shape"):
        as_px_per_degree(torch.ones(3), 2)


def test_patch_positions_relative_to_fixation():
    tok = PatchTokenizer(in_channels=4, width=8, patch_size=8, stride=4, bands=4)
    fmap = torch.rand(2, 4, 6, 10)  # image 24 x 40 px, token grid 3 x 5
    ppd = torch.tensor([8.0, 4.0])
    # Fixate the centre of the patch at row 1, col 3 in image 0, and the image centre in image 1.
    fix_px = torch.tensor([[3.5 * 8, 1.5 * 8], [20.0, 12.0]])
    fix_deg = px_to_deg(fix_px[:, None], (24, 40), ppd)[:, 0]
    out = tok(fmap, (24, 40), ppd, fix_deg)
    assert out.grid == (3, 5) and out.tokens.shape == (2, 15, 8)
    rel = out.pos_deg - fix_deg[:, None]
    assert rel[0, 1 * 5 + 3].abs().max() == 0  # the token at the fixation sits at 0
    # Patch (0, 0) of image 1 is centred at (4, 4) px: 16 px left and 8 px up of the centre.
    assert rel[1, 0].tolist() == pytest.approx([-16 / 4.0, 8 / 4.0])
    # Neighbouring patches are one patch (8 px) apart: 1 deg at 8 px/deg, 2 deg at 4 px/deg.
    assert (rel[0, 1] - rel[0, 0]).tolist() == pytest.approx([1.0, 0.0])
    assert (rel[1, 5] - rel[1, 0]).tolist() == pytest.approx([0.0, -2.0])  # one row down is y - 2 deg


def test_backbone_positions_and_retinotopy():
    bb = GazeBackbone(depth=1, width=16, heads=2, patch_size=8, stem_stride=4, attention="dense").eval()
    img = torch.rand(1, 3, 32, 32)
    fix_px = torch.tensor([[12.0, 20.0]])  # centre of patch (row 2, col 1)
    a = bb(img, fixation_px=fix_px, px_per_degree=8.0)
    assert a.positions_deg[0, 2 * 4 + 1].abs().max() == 0
    b = bb(img, fixation_deg=px_to_deg(fix_px[:, None], (32, 32), torch.tensor([8.0]))[:, 0], px_per_degree=8.0)
    torch.testing.assert_close(a.tokens, b.tokens)
    # Moving the eye changes the tokens (the representation is retinotopic) and shifts the positions.
    c = bb(img, fixation_px=fix_px + torch.tensor([[8.0, 0.0]]), px_per_degree=8.0)
    torch.testing.assert_close(c.positions_deg, a.positions_deg - torch.tensor([1.0, 0.0]))
    assert not torch.allclose(c.tokens, a.tokens, atol=1e-3)


def test_boxes_px_to_deg():
    boxes = torch.tensor([[[10.0, 20.0, 30.0, 40.0]]])  # x, y, w, h in a 100 x 200 (h x w) image
    got = boxes_px_to_deg(boxes, (100, 200), torch.tensor([10.0]))
    # bottom-left corner ((10 - 100) / 10, (50 - 60) / 10), width 30 / 10, height 40 / 10
    assert got[0, 0].tolist() == pytest.approx([-9.0, -1.0, 3.0, 4.0])


def test_roi_align_pools_the_box_region():
    """A map whose channels hold the x and y pixel coordinates of each cell centre: the pooled
    value of a box is the box centre (bilinear sampling reproduces linear functions)."""
    stride = 8
    tok = ObjectTokenizer(in_channels=2, width=8, stride=stride, roi_size=2)
    h, w = 8, 12
    ys, xs = torch.meshgrid((torch.arange(h) + 0.5) * stride, (torch.arange(w) + 0.5) * stride, indexing="ij")
    fmap = torch.stack([xs, ys])[None].float()
    boxes = torch.tensor([[[8.0, 8.0, 32.0, 16.0], [40.0, 20.0, 24.0, 30.0], [60.0, 30.0, 16.0, 16.0]]])
    pooled = tok.pool(fmap, boxes)
    assert pooled.shape == (1, 3, 2, 2, 2)
    centre = boxes[..., :2] + boxes[..., 2:] / 2
    torch.testing.assert_close(pooled.mean(dim=(-2, -1)), centre, atol=1e-4, rtol=0)
    # The 2 x 2 bins split each box: left bins lie a quarter of the width left of the centre.
    torch.testing.assert_close(pooled[0, :, 0, :, 0].mean(-1), centre[0, :, 0] - boxes[0, :, 2] / 4, atol=1e-4, rtol=0)


def test_check_boxes():
    check_boxes(torch.zeros(2, 3, 4), 2)
    with pytest.raises(ValueError, match=r"\(2, M, 4\)"):
        check_boxes(torch.zeros(2, 3), 2)
    with pytest.raises(ValueError, match="NaN"):
        check_boxes(torch.tensor([[[0.0, float("nan"), 1.0, 1.0]]]), 1)
    with pytest.raises(ValueError, match="non-negative"):
        check_boxes(torch.tensor([[[0.0, 0.0, -1.0, 1.0]]]), 1)
    with pytest.raises(ValueError, match="at least one"):
        check_boxes(torch.zeros(1, 0, 4), 1)
