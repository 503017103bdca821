"""Top-down guidance arithmetic: template cross-correlation and channel gains."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["containment", "cross_correlate", "cross_correlate_bank"]


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


def cross_correlate_bank(features: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """:func:`cross_correlate` of one feature map with each of several kernels of one size.

    Parameters
    ----------
    features : Tensor
        ``(C, rows, cols)``.
    kernels : Tensor
        ``(B, C, kh, kw)`` with odd ``kh`` and ``kw``.

    Returns
    -------
    Tensor
        ``(B, rows, cols)``; row b is ``cross_correlate(features, kernels[b])`` up to rounding.
    """
    C, rows, cols = features.shape
    _, _, kh, kw = kernels.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel sides must be odd, got {kh} x {kw}")
    if kh * kw <= 25:
        return F.conv2d(features[None], kernels, padding=(kh // 2, kw // 2))[0]
    fh, fw = rows + kh - 1, cols + kw - 1
    spec = torch.fft.rfft2(features, s=(fh, fw))  # the map's spectrum, shared by the kernels
    out = torch.empty(len(kernels), rows, cols, dtype=features.dtype)
    for b, k in enumerate(kernels):
        full = torch.fft.irfft2((spec * torch.fft.rfft2(k.flip(-2, -1), s=(fh, fw))).sum(0), s=(fh, fw))
        out[b] = full[kh // 2: kh // 2 + rows, kw // 2: kw // 2 + cols]
    return out


def containment(features: torch.Tensor, kernel: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """The fraction of a template's feature mass present in the window under each cell.

    ``out[y, x] = sum_{c, u, v} min(kernel[c, u, v], features[c, y + u - kh // 2, x + v - kw // 2])
    / sum_{c, u, v} kernel[c, u, v]``, zero outside the map: an asymmetric similarity, 1 when the
    window has at least the template's response in every unit and tap, whatever else it holds.
    It is Tversky's (1977) contrast model with the item's extra features unweighted, the
    feature-presence account of search asymmetries (Treisman & Gormican 1988): a target with a
    feature its distractors lack matches them poorly (easy search), a target whose features
    the distractors all hold matches them well (hard search). For non-negative features.

    Parameters
    ----------
    features : Tensor
        ``(C, rows, cols)``, non-negative (values below zero by float rounding, at most 1e-5
        of the largest magnitude, count as zero).
    kernel : Tensor
        ``(C, kh, kw)`` with odd ``kh`` and ``kw``, non-negative likewise, not all zero.
    chunk : int, default 256
        Units processed at a time per template tap (memory: ``chunk * rows * cols`` values).

    Returns
    -------
    Tensor
        ``(rows, cols)`` in [0, 1].
    """
    C, rows, cols = features.shape
    _, kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel sides must be odd, got {kh} x {kw}")
    mass = float(kernel.sum())
    tol = 1e-5 * max(float(features.abs().max()), float(kernel.abs().max()))  # float rounding of pooling
    if not mass > 0 or float(kernel.min()) < -tol or float(features.min()) < -tol:
        raise ValueError("containment needs non-negative features and a kernel with positive mass "
                         f"(kernel sum {mass:.3g}, kernel min {float(kernel.min()):.3g}, "
                         f"feature min {float(features.min()):.3g})")
    features, kernel = features.clamp_min(0.0), kernel.clamp_min(0.0)
    padded = F.pad(features, (kw // 2, kw // 2, kh // 2, kh // 2))
    out = torch.zeros(rows, cols, dtype=features.dtype)
    # tap by tap, over the units where the template responds (min(0, x) = 0 for x >= 0): the
    # hidden units are sparse, so this skips most of the work
    for uy in range(kh):
        for ux in range(kw):
            k = kernel[:, uy, ux]
            units = torch.nonzero(k > 0).flatten()
            for c0 in range(0, len(units), chunk):
                u = units[c0:c0 + chunk]
                window = padded[u, uy:uy + rows, ux:ux + cols]
                out += torch.minimum(window, k[u, None, None]).sum(0)
    return out / mass


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
