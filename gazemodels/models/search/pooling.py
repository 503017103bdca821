"""Eccentricity-dependent pooling of a feature map around a fixation.

The operation is :func:`gazemodels.attention.ecc_attention` with zero queries and keys and
the features as values, i.e. the backbone's ``pooling_only`` attention (eccNET's
eccentricity-dependent pooling, Gupta et al. 2021):

.. math::

    y_i = \\sum_j \\operatorname{softmax}_j\\left(-\\frac{|p_i - p_j|^2}{2\\sigma_i^2}\\right) x_j,
    \\qquad \\sigma_i = \\sigma_0 + \\text{slope}\\,|p_i - f|,

over the keys with ``|p_i - p_j|^2 <= (cutoff * sigma_i)^2``, positions ``p`` and fixation
``f`` in degrees of visual angle. Because q = k = 0 the weights depend on the geometry alone,
so one weight set serves every channel, and :class:`EccentricityPooling` computes it either
densely (an N x N matrix) or over a local window of offsets that covers ``cutoff * max sigma``
(exact: every key the cutoff admits lies in the window). ``impl="attention"`` calls
:func:`~gazemodels.attention.ecc_attention` itself; the tests check that the three agree.

``reduce="max"`` replaces the weighted mean by a Gaussian-weighted maximum over the same keys,

.. math::

    y_i = \\max_j \\exp\\left(-\\frac{|p_i - p_j|^2}{2\\sigma_i^2}\\right) x_j,

the MAX pooling of complex cells (Riesenhuber & Poggio 1999) with eccentricity-dependent
windows: a feature present anywhere in the window keeps its response, discounted by its
distance, where the mean would dilute it among its neighbours. It is meant for non-negative
features (a rectified stem) and has the windowed implementation only.

``reduce="moments"`` keeps two summary statistics of every channel over the window, its
Gaussian-weighted mean and standard deviation,

.. math::

    m_i = \\sum_j w_{ij} x_j, \\qquad s_i = \\sqrt{\\textstyle\\sum_j w_{ij} x_j^2 - m_i^2},

with the softmax weights ``w`` of the mean, and returns ``[m; s]`` (twice the channels): the
peripheral representation as local summary statistics (Balas, Nakano & Rosenholtz 2009;
Freeman & Simoncelli 2011), here the first two moments of each feature channel, the
statistics of feature maps that also carry texture and style (Huang & Belongie 2017).
Rosenholtz et al. (2012) explain search difficulty, search asymmetries included, by how well
such statistics of a target-present window tell it from target-absent ones. It has every
implementation of the mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["EccentricityPooling", "grid_positions_deg", "pairwise_d2"]

POOL_IMPLS = ("auto", "dense", "window", "attention")
"""Implementations of :meth:`EccentricityPooling.__call__`."""

POOL_REDUCTIONS = ("mean", "max", "moments")
"""How :class:`EccentricityPooling` combines the keys of a window."""


def grid_positions_deg(rows: int, cols: int, stride_px: float, px_per_degree: float,
                       offset_px: tuple[float, float] = (0.0, 0.0)) -> Tensor:
    """Centres of the cells of a feature grid, in degrees.

    Parameters
    ----------
    rows, cols : int
        Grid size.
    stride_px : float
        Cell side in image pixels.
    px_per_degree : float
        Pixels per degree.
    offset_px : (float, float), default (0, 0)
        ``(x, y)`` pixel position of the grid's top-left corner in the frame the positions are
        expressed in (e.g. minus the padding of a canvas, to get display pixels).

    Returns
    -------
    Tensor
        ``(rows * cols, 2)`` float64 ``(x, y)`` in degrees, row-major; x right, y down (only
        distances are used, so the orientation of y does not matter).
    """
    ys, xs = torch.meshgrid(torch.arange(rows, dtype=torch.float64), torch.arange(cols, dtype=torch.float64),
                            indexing="ij")
    x = ((xs + 0.5) * stride_px + offset_px[0]) / px_per_degree
    y = ((ys + 0.5) * stride_px + offset_px[1]) / px_per_degree
    return torch.stack([x.flatten(), y.flatten()], dim=-1)


def pairwise_d2(pos_deg: Tensor) -> Tensor:
    """Squared distances between positions.

    Parameters
    ----------
    pos_deg : Tensor
        ``(N, 2)`` positions, degrees.

    Returns
    -------
    Tensor
        ``(N, N)`` float32, degrees squared.
    """
    p = pos_deg.to(torch.float64)
    return torch.cdist(p, p).pow(2).to(torch.float32)


@dataclass(frozen=True)
class EccentricityPooling:
    """Gaussian pooling whose width grows linearly with eccentricity (eccNET, Gupta et al. 2021).

    Parameters
    ----------
    sigma0 : float
        Foveal width, degrees (> 0).
    slope : float
        Growth of the width per degree of eccentricity (>= 0); 0 pools with the constant
        width ``sigma0`` everywhere.
    cutoff : float, default 3.0
        Keys farther than ``cutoff * sigma_i`` from query i are excluded, as in
        :func:`~gazemodels.attention.ecc_attention`.
    impl : {"auto", "dense", "window", "attention"}, default "auto"
        ``"dense"``: the full weight matrix; ``"window"``: a loop over the offsets within
        ``cutoff * max sigma``; ``"attention"``: :func:`~gazemodels.attention.ecc_attention`
        with ``q = k = 0`` (its CPU path); ``"auto"``: the cheaper of dense and window
        (always the window for ``reduce="max"``).
    reduce : {"mean", "max"}, default "mean"
        ``"mean"``: the Gaussian-weighted mean (eccNET); ``"max"``: the Gaussian-weighted
        maximum (see the module docstring), windowed implementation only.
    """

    sigma0: float
    slope: float
    cutoff: float = 3.0
    impl: str = "auto"
    reduce: str = "mean"

    def __post_init__(self):
        if not (math.isfinite(self.sigma0) and self.sigma0 > 0):
            raise ValueError(f"sigma0 must be a positive number of degrees, got {self.sigma0!r}")
        if not (math.isfinite(self.slope) and self.slope >= 0):
            raise ValueError(f"slope must be a finite number >= 0, got {self.slope!r}")
        if not (self.cutoff > 0):
            raise ValueError(f"cutoff must be positive, got {self.cutoff!r}")
        if self.impl not in POOL_IMPLS:
            raise ValueError(f"impl must be one of {POOL_IMPLS}, got {self.impl!r}")
        if self.reduce not in POOL_REDUCTIONS:
            raise ValueError(f"reduce must be one of {POOL_REDUCTIONS}, got {self.reduce!r}")
        if self.reduce == "max" and self.impl not in ("auto", "window"):
            raise ValueError(f"max pooling has the windowed implementation only (impl 'auto' or 'window'), "
                             f"got impl={self.impl!r}")

    def sigma(self, pos_deg: Tensor, fixation_deg) -> Tensor:
        """Width of every query, ``sigma0 + slope * |p - f|``.

        Parameters
        ----------
        pos_deg : Tensor
            ``(N, 2)`` positions, degrees.
        fixation_deg : array_like
            ``(2,)`` fixation in the same frame.

        Returns
        -------
        Tensor
            ``(N,)`` float64, degrees.
        """
        f = torch.as_tensor(fixation_deg, dtype=torch.float64).reshape(1, 2)
        ecc = torch.linalg.vector_norm(pos_deg.to(torch.float64) - f, dim=-1)
        return self.sigma0 + self.slope * ecc  # receptive fields grow linearly with eccentricity

    def __call__(self, features: Tensor, pos_deg: Tensor, fixation_deg, cell_deg: float,
                 d2: Tensor | None = None) -> Tensor:
        """Pool a feature map around a fixation.

        Parameters
        ----------
        features : Tensor
            ``(C, rows, cols)`` feature map.
        pos_deg : Tensor
            ``(rows * cols, 2)`` cell centres in degrees (:func:`grid_positions_deg`).
        fixation_deg : array_like
            ``(2,)`` fixation in the frame of ``pos_deg``.
        cell_deg : float
            Side of one grid cell in degrees (used by the windowed path).
        d2 : Tensor, optional
            ``(N, N)`` float32 squared distances between the cells (:func:`pairwise_d2`), to
            reuse across fixations on the dense path.

        Returns
        -------
        Tensor
            ``(C, rows, cols)``, the dtype of ``features`` (``(2 C, rows, cols)`` for
            ``reduce="moments"``: the C means, then the C standard deviations).
        """
        C, rows, cols = features.shape
        n = rows * cols
        if pos_deg.shape != (n, 2):
            raise ValueError(f"pos_deg must have shape ({n}, 2) for a {rows} x {cols} grid, got {tuple(pos_deg.shape)}")
        sig = self.sigma(pos_deg, fixation_deg)
        radius = int(math.ceil(self.cutoff * float(sig.max()) / cell_deg))
        if self.reduce == "max":
            return self._window_max(features, sig, radius, cell_deg)
        if self.reduce == "moments":
            # one weighted mean of x and x^2 serves both moments: var = E[x^2] - E[x]^2, on
            # features centred per channel first (the variance does not change; the rounding
            # of the difference shrinks)
            channel_mean = features.mean(dim=(1, 2), keepdim=True)
            x = features - channel_mean
            both = self._mean(torch.cat([x, x * x]), pos_deg, fixation_deg, cell_deg, d2, sig, radius)
            mean = both[:C]
            sd = (both[C:] - mean * mean).clamp_min(0.0).sqrt()
            return torch.cat([mean + channel_mean, sd])
        return self._mean(features, pos_deg, fixation_deg, cell_deg, d2, sig, radius)

    def at(self, features: Tensor, pos_deg: Tensor, cells: Tensor, fixation_deg) -> Tensor:
        """Pool a feature map at a few of its cells only (dense over the keys).

        The same windows and reduction as :meth:`__call__`, for the query cells ``cells``
        alone: the cost is ``len(cells) x rows x cols`` weights, so a handful of cells of a large
        map are cheap to pool at a large width.

        Parameters
        ----------
        features, pos_deg, fixation_deg
            The feature map, its cell centres and the fixation, as :meth:`__call__` takes them.
        cells : Tensor
            ``(K,)`` int64 flat (row-major) indices of the query cells.

        Returns
        -------
        Tensor
            ``(C, K)`` (``(2 C, K)`` for ``reduce="moments"``), the dtype of ``features``; column
            k equals ``self(features, ...)[:, cells[k] // cols, cells[k] % cols]`` up to rounding.
        """
        C, rows, cols = features.shape
        n = rows * cols
        if pos_deg.shape != (n, 2):
            raise ValueError(f"pos_deg must have shape ({n}, 2) for a {rows} x {cols} grid, got {tuple(pos_deg.shape)}")
        cells = torch.as_tensor(cells, dtype=torch.int64).reshape(-1)
        if len(cells) and (int(cells.min()) < 0 or int(cells.max()) >= n):
            raise ValueError(f"cells must be flat indices in [0, {n - 1}], got range "
                             f"[{int(cells.min())}, {int(cells.max())}]")
        p = pos_deg.to(torch.float64)
        q = p[cells]
        s2 = self.sigma(q, fixation_deg).pow(2)[:, None]
        d2 = torch.cdist(q, p).pow(2)
        logits = self._logits(d2, s2)  # (K, N)
        x = features.reshape(C, n).to(torch.float64)
        if self.reduce == "max":
            w = torch.exp(logits)  # Gaussian weights, 0 beyond the cutoff; 1 at the query itself
            return (x[:, None, :] * w[None]).amax(-1).to(features.dtype)
        w = torch.softmax(logits, dim=-1)
        if self.reduce == "moments":
            x = x - x.mean(dim=1, keepdim=True)  # the centring of __call__
            mean = x @ w.T
            sd = ((x * x) @ w.T - mean * mean).clamp_min(0.0).sqrt()
            return torch.cat([mean + features.reshape(C, n).to(torch.float64).mean(dim=1, keepdim=True), sd]).to(
                features.dtype)
        return (x @ w.T).to(features.dtype)

    def _mean(self, features: Tensor, pos_deg: Tensor, fixation_deg, cell_deg: float, d2: Tensor | None,
              sig: Tensor, radius: int) -> Tensor:
        """The Gaussian-weighted mean, by the implementation ``impl`` names (or the cheaper one)."""
        C, rows, cols = features.shape
        n = rows * cols
        impl = self.impl
        if impl == "auto":
            k = (2 * min(radius, rows - 1) + 1) * (2 * min(radius, cols - 1) + 1)
            # measured on one CPU thread: ~18 ns per weight of the dense path (exp, softmax,
            # product), ~2.5 ns per multiply-add and ~30 us per offset of the windowed one
            impl = "window" if 2.5e-9 * k * n * C + 3e-5 * k < 1.8e-8 * n * n else "dense"
        if impl == "attention":
            return self._attention(features, pos_deg, fixation_deg)
        if impl == "dense":
            return self._dense(features, pos_deg if d2 is None else None, sig, d2)
        return self._window(features, sig, radius, cell_deg)

    # ------------------------------------------------------------------ implementations
    def _logits(self, d2: Tensor, s2: Tensor) -> Tensor:
        """Gaussian log-weights ``-d2 / (2 sigma^2)``, minus infinity for keys beyond ``cutoff * sigma``."""
        return (-d2 / (2.0 * s2)).masked_fill(d2 > (self.cutoff**2) * s2, -math.inf)

    def _attention(self, features: Tensor, pos_deg: Tensor, fixation_deg) -> Tensor:
        from gazemodels.attention import ecc_attention

        C, rows, cols = features.shape
        v = features.reshape(1, 1, C, rows * cols).transpose(-1, -2)  # (1, 1, N, C)
        zeros = torch.zeros(1, 1, rows * cols, 1, dtype=features.dtype)
        f = torch.as_tensor(fixation_deg, dtype=torch.float32).reshape(1, 2)
        out = ecc_attention(zeros, zeros, v, pos_deg.to(torch.float32), f, self.sigma0, self.slope,
                            cutoff=self.cutoff, impl="cpu")
        return out[0, 0].transpose(0, 1).reshape(C, rows, cols)

    def _dense(self, features: Tensor, pos_deg: Tensor | None, sig: Tensor, d2: Tensor | None) -> Tensor:
        C, rows, cols = features.shape
        if d2 is None:
            d2 = pairwise_d2(pos_deg)
        s2 = sig.to(torch.float32).pow(2)[:, None]
        logits = self._logits(d2, s2)
        w = torch.softmax(logits, dim=-1).to(features.dtype)  # the diagonal (logit 0) is always in
        return (features.reshape(C, -1) @ w.T).reshape(C, rows, cols)

    def _window(self, features: Tensor, sig: Tensor, radius: int, cell_deg: float) -> Tensor:
        C, rows, cols = features.shape
        num = torch.zeros_like(features)
        den = torch.zeros(rows, cols, dtype=torch.float32)
        for (qy, qx), (ky, kx), w in self._offsets(sig, radius, cell_deg, rows, cols):
            den[qy, qx] += w
            num[:, qy, qx] += features[:, ky, kx] * w.to(features.dtype)
        return num / den.to(features.dtype)

    def _window_max(self, features: Tensor, sig: Tensor, radius: int, cell_deg: float) -> Tensor:
        out = features.clone()  # offset 0: weight 1, always within the cutoff
        for (qy, qx), (ky, kx), w in self._offsets(sig, radius, cell_deg, *features.shape[1:]):
            out[:, qy, qx] = torch.maximum(out[:, qy, qx], features[:, ky, kx] * w.to(features.dtype))
        return out

    def _offsets(self, sig: Tensor, radius: int, cell_deg: float, rows: int, cols: int):
        """Every window offset that some query admits: its query cells, key cells and weights.

        Yields ``((qy, qx), (ky, kx), w)``: the slices of the queries whose key at this offset
        is on the grid, the slices of those keys, and the ``(len(qy), len(qx))`` float32
        Gaussian weights, zero where the key lies beyond ``cutoff * sigma`` of its query.
        """
        ry, rx = min(radius, rows - 1), min(radius, cols - 1)
        s2 = sig.reshape(rows, cols).pow(2)
        cut2 = (self.cutoff**2) * s2
        neg_inv = (-0.5 / s2).to(torch.float32)
        cut2_max = float(cut2.max())
        for dy in range(-ry, ry + 1):
            y0, y1 = max(0, -dy), min(rows, rows - dy)  # queries whose key row y + dy is on the grid
            for dx in range(-rx, rx + 1):
                d2 = (dy * dy + dx * dx) * cell_deg * cell_deg
                if d2 > cut2_max:
                    continue
                x0, x1 = max(0, -dx), min(cols, cols - dx)
                w = torch.exp(neg_inv[y0:y1, x0:x1] * d2)
                if d2 > 0:
                    w = w.masked_fill(cut2[y0:y1, x0:x1] < d2, 0.0)  # keys beyond cutoff * sigma_i
                yield (slice(y0, y1), slice(x0, x1)), (slice(y0 + dy, y1 + dy), slice(x0 + dx, x1 + dx)), w
