"""Top-down guidance arithmetic: template cross-correlation and channel gains."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["cross_correlate"]


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
