"""Stem features of a search display and of its target template.

The stem is the package's ImageNet-trained EfficientNet-lite0 (or lite1, lite2;
:class:`gazemodels.backbone.EfficientNetLiteStem`), frozen and used zero-shot. One forward
pass gives the outputs of several block stages (the "layers" of the search model), as eccNET
read the outputs of VGG16's pooling blocks 3 to 5 (Gupta et al. 2021).

Both images are first placed on a canvas of the display's background colour (the median of
its border pixels), so that items near the display edge see the same surround as the others
and the TensorFlow "same" padding of the stem falls on the background, not on a grey that is
not in the display. The canvas sides are multiples of 32 px, the stem's total stride.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gazemodels.backbone.config import EFFICIENTNET_LITE_STAGES
from gazemodels.backbone.stems import EfficientNetLiteStem, normalize_tf_lite

__all__ = ["CANVAS_ALIGN", "Canvas", "MultiStageStem", "background_colour", "place_on_canvas"]

CANVAS_ALIGN = 32
"""Canvas sides are multiples of this (the stride of the deepest EfficientNet-lite stage)."""


def background_colour(image: np.ndarray) -> np.ndarray:
    """Background colour of a display: the per-channel median of its border pixels.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` float, 0-255.
    """
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]], axis=0)
    return np.median(border.reshape(-1, image.shape[-1]).astype(float), axis=0)


@dataclass(frozen=True)
class Canvas:
    """An image placed on a background canvas.

    Attributes
    ----------
    pixels : numpy.ndarray
        ``(Hc, Wc, 3)`` uint8 canvas.
    offset : (int, int)
        ``(x, y)`` canvas position of the image's top-left pixel.
    size : (int, int)
        ``(H, W)`` of the placed image.
    """

    pixels: np.ndarray
    offset: tuple[int, int]
    size: tuple[int, int]


def place_on_canvas(image: np.ndarray, margin: int, background=None, align: int = CANVAS_ALIGN) -> Canvas:
    """Put an image on a background canvas with at least ``margin`` px on every side.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` uint8.
    margin : int
        Minimum background border, px.
    background : array_like, optional
        RGB fill; default :func:`background_colour` of ``image``.
    align : int, default 32
        Canvas sides are rounded up to a multiple of this; the extra goes to the right and
        bottom, so the image's top-left corner is at ``(margin, margin)``.

    Returns
    -------
    Canvas
    """
    h, w = image.shape[:2]
    bg = background_colour(image) if background is None else np.asarray(background, dtype=float)
    off = int(margin)
    hc = int(math.ceil((h + 2 * off) / align) * align)
    wc = int(math.ceil((w + 2 * off) / align) * align)
    canvas = np.empty((hc, wc, 3), dtype=np.uint8)
    canvas[:] = np.clip(np.rint(bg), 0, 255).astype(np.uint8)
    canvas[off: off + h, off: off + w] = image
    return Canvas(canvas, (off, off), (h, w))


class MultiStageStem(torch.nn.Module):
    """EfficientNet-lite returning the outputs of several block stages in one pass.

    Parameters
    ----------
    stages : sequence of int
        Block stages (0-6) whose outputs are returned, see
        :data:`~gazemodels.backbone.config.EFFICIENTNET_LITE_STAGES`.
    pretrained : bool, default True
        ImageNet weights; False gives the randomly initialised network (an ablation).
    rectify : bool, default True
        Half-wave rectify the stage outputs. EfficientNet stages end with a linear bottleneck,
        whose outputs are signed; rectified, they are non-negative "firing rates" like the
        post-ReLU VGG16 maps eccNET correlated (Gupta et al. 2021).
    seed : int, default 0
        Seed of the random initialisation (used when ``pretrained`` is False).
    layer : {"output", "hidden"}, default "output"
        ``"output"``: each stage's output (the linear bottleneck); ``"hidden"``: the
        non-negative ReLU6 activations inside the stage's last block (after its depthwise
        convolution; 6 times as many channels), EfficientNet's own post-nonlinearity units.
    variant : {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}, default lite0
        The network.
    """

    def __init__(self, stages, pretrained: bool = True, rectify: bool = True, seed: int = 0,
                 layer: str = "output", variant: str = "efficientnet_lite0"):
        super().__init__()
        self.stages = tuple(sorted(int(s) for s in stages))
        if variant not in EFFICIENTNET_LITE_STAGES:
            raise ValueError(f"variant must be one of {sorted(EFFICIENTNET_LITE_STAGES)}, got {variant!r}")
        table = EFFICIENTNET_LITE_STAGES[variant]
        if not self.stages or self.stages[0] < 0 or self.stages[-1] >= len(table):
            raise ValueError(f"stages must be integers in [0, {len(table) - 1}], got {stages!r}")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"stages must be distinct, got {stages!r}")
        with torch.random.fork_rng():
            torch.manual_seed(int(seed))
            self.stem = EfficientNetLiteStem(self.stages[-1], frozen=True, pretrained=pretrained, variant=variant)
        self.rectify = bool(rectify)
        if layer not in ("output", "hidden"):
            raise ValueError(f"layer must be 'output' or 'hidden', got {layer!r}")
        self.layer = layer
        self.strides = {s: table[s][1] for s in self.stages}
        self.channels = {s: table[s][0] for s in self.stages}
        self._hidden: dict[int, Tensor] = {}
        if layer == "hidden":
            for st in self.stages:
                last = self.stem.blocks[st][-1]
                # post-activation of the depthwise convolution: bn2 of an inverted residual
                # block, bn1 of the depthwise-separable block of stage 0
                unit = last.bn2 if hasattr(last, "conv_pw") else last.bn1
                unit.register_forward_hook(self._keep(st))
                self.channels[st] = unit.num_features
        self.eval()

    def _keep(self, stage: int):
        def hook(_module, _inputs, output):
            self._hidden[stage] = output

        return hook

    @torch.inference_mode()
    def forward(self, image: np.ndarray) -> dict[int, Tensor]:
        """Feature maps of one RGB image.

        Parameters
        ----------
        image : numpy.ndarray
            ``(H, W, 3)`` uint8, H and W multiples of 32.

        Returns
        -------
        dict of int to Tensor
            Stage -> ``(C, H / stride, W / stride)`` float32.
        """
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
        stem = self.stem
        h = stem.bn1(stem.conv_stem(normalize_tf_lite(x)))
        out: dict[int, Tensor] = {}
        for i, block in enumerate(stem.blocks):
            h = block(h)
            if i in self.strides:
                f = self._hidden.pop(i) if self.layer == "hidden" else h
                out[i] = (f.clamp_min(0.0) if self.rectify else f)[0].clone()
            if i >= self.stages[-1]:
                break
        return out
