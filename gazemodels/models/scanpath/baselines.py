"""Baseline scanpath models: random uniform, centre bias, saliency winner-take-all, human-shuffled.

Every scanpath claim needs these lower bounds (and the human ceiling,
:func:`gazemodels.metrics.human_consistency`, as the upper one):

================  ==============================================================
name              model
================  ==============================================================
``random``        every fixation uniform on the stimulus
``centre``        every fixation drawn independently from a centre-bias density
                  fitted to human fixations in normalised coordinates
                  (Tatler 2007)
``saliency``      winner-take-all over a bottom-up saliency map (spectral
                  residual, Hou & Zhang 2007, or Itti, Koch & Niebur 1998) with
                  inhibition of return; the first fixation at the centre
``human-shuffled``  the human scanpaths of *other* images, rescaled to this image
================  ==============================================================

All of them take positions from the image's own random stream and durations
from the duration model (:mod:`gazemodels.models.scanpath.durations`), so they
are seeded and reproducible; all pass
:func:`~gazemodels.models.scanpath.base.validate_scanpath_model`.

References
----------
Tatler, B. W. (2007). The central fixation bias in scene viewing. Journal of
Vision 7(14):4.

Hou, X., & Zhang, L. (2007). Saliency detection: A spectral residual approach. CVPR.

Itti, L., Koch, C., & Niebur, E. (1998). A model of saliency-based visual
attention for rapid scene analysis. IEEE TPAMI 20(11).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazemodels.data.schema import SCANPATH_KEYS
from gazemodels.models.registry import register_model
from gazemodels.models.scanpath.base import ScanpathModel

OSIE_CENTRE_MEAN = (0.5012, 0.4718)
"""Mean of all OSIE fixations as fractions of the image width and height."""

OSIE_CENTRE_COV = ((0.04584, -0.00052), (-0.00052, 0.03849))
"""Covariance of all OSIE fixations in the same normalised coordinates
(standard deviations 0.214 of the width, 0.196 of the height)."""


def normalised_fixations(fixations: pd.DataFrame, stimuli: pd.DataFrame) -> pd.DataFrame:
    """Fixations with ``u = x / width`` and ``v = y / height`` of their stimulus, clipped to [0, 1].

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table.
    stimuli : pandas.DataFrame
        Stimulus table with every stimulus of ``fixations``.

    Returns
    -------
    pandas.DataFrame
        The fixations (new index) with added columns ``u`` and ``v``.

    Raises
    ------
    ValueError
        If ``stimuli`` is None or lacks some stimulus of ``fixations``.
    """
    if stimuli is None:
        raise ValueError("fitting needs the stimulus table (image sizes) of the fixations")
    missing = sorted(set(map(str, fixations["stimulus"])) - set(map(str, stimuli["stimulus"])))
    if missing:
        raise ValueError(f"fixations refer to stimuli absent from the stimulus table: {missing[:8]}")
    sizes = stimuli[["stimulus", "width", "height"]].copy()
    sizes["_key"] = sizes["stimulus"].astype(str)
    f = fixations.assign(_key=fixations["stimulus"].astype(str)).merge(
        sizes.drop(columns="stimulus"), on="_key", how="left"
    )
    f["u"] = (f["x"] / f["width"]).clip(0.0, 1.0)
    f["v"] = (f["y"] / f["height"]).clip(0.0, 1.0)
    return f.drop(columns=["_key", "width", "height"])


@register_model("random")
class RandomModel(ScanpathModel):
    """Random baseline: every fixation uniform on the stimulus, independently.

    Parameters
    ----------
    None. Durations come from the duration model (``fit`` refits it).
    """

    needs_image = False

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """Uniform positions on the stimulus (see :meth:`ScanpathModel.generate`)."""
        w, h = float(stimulus["width"]), float(stimulus["height"])
        return rng.uniform([0.0, 0.0], [w, h], size=(n_scanpaths, n_fixations, 2))


@register_model("centre")
class CentreBiasModel(ScanpathModel):
    """Centre-bias baseline: fixations drawn from a density fitted to human fixations.

    Every fixation is drawn independently from a density over normalised
    coordinates ``(x / width, y / height)``, truncated to the stimulus: the
    central fixation bias of scene viewing (Tatler 2007) with no image content.

    Parameters
    ----------
    density : {"gaussian", "kde"}, default "gaussian"
        A 2D Gaussian (mean and covariance of the fitted fixations; Tatler 2007
        fits a Gaussian) or a Gaussian kernel density estimate
        (:class:`scipy.stats.gaussian_kde`, Scott's bandwidth) of the fixations.
    mean, cov : array-like, optional
        Gaussian parameters before fitting; default :data:`OSIE_CENTRE_MEAN`
        and :data:`OSIE_CENTRE_COV` (all OSIE fixations). ``fit`` replaces them.
    max_kde_points : int, default 5000
        The KDE keeps at most this many fitted fixations (a fixed-seed subsample).

    Notes
    -----
    Draws outside the unit square are redrawn (rejection sampling), up to 100
    rounds; the rare remainder is clipped onto the border.
    """

    needs_image = False

    def __init__(self, density: str = "gaussian", mean=None, cov=None, max_kde_points: int = 5000):
        if density not in ("gaussian", "kde"):
            raise ValueError(f"density must be 'gaussian' or 'kde', got {density!r}")
        self.density = density
        self.mean = np.asarray(OSIE_CENTRE_MEAN if mean is None else mean, dtype=float)
        self.cov = np.asarray(OSIE_CENTRE_COV if cov is None else cov, dtype=float)
        if self.mean.shape != (2,) or self.cov.shape != (2, 2):
            raise ValueError("mean must have 2 values and cov shape (2, 2)")
        self.max_kde_points = int(max_kde_points)
        self.points: np.ndarray | None = None
        if density == "kde":
            # Before fitting, the KDE samples from the default Gaussian's points.
            self.points = np.random.default_rng(0).multivariate_normal(self.mean, self.cov, 2000)

    def fit(self, fixations: pd.DataFrame, stimuli: pd.DataFrame | None = None, *, fit_durations: bool = True):
        """Fit the centre density (and the duration model) to human fixations.

        Parameters
        ----------
        fixations : pandas.DataFrame
            Human fixation table.
        stimuli : pandas.DataFrame
            Stimulus table with the sizes of the fixations' images.
        fit_durations : bool, default True
            Also fit the duration model.

        Returns
        -------
        CentreBiasModel
            ``self``.
        """
        super().fit(fixations, stimuli, fit_durations=fit_durations)
        uv = normalised_fixations(fixations, stimuli)[["u", "v"]].to_numpy(float)
        if len(uv) < 3:
            raise ValueError(f"the centre model needs at least 3 fixations to fit, got {len(uv)}")
        self.mean = uv.mean(axis=0)
        self.cov = np.cov(uv.T)
        if self.density == "kde":
            if len(uv) > self.max_kde_points:
                keep = np.random.default_rng(0).choice(len(uv), self.max_kde_points, replace=False)
                uv = uv[keep]
            self.points = uv
        return self

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.density == "gaussian":
            return rng.multivariate_normal(self.mean, self.cov, size=n, method="cholesky")
        from scipy.stats import gaussian_kde

        return gaussian_kde(self.points.T).resample(n, seed=rng).T

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """Independent draws from the truncated centre density (see :meth:`ScanpathModel.generate`)."""
        n = n_scanpaths * n_fixations
        out = np.empty((0, 2))
        for _ in range(100):
            d = self._draw(rng, max(n - len(out), 1) * 2)
            d = d[((d >= 0) & (d <= 1)).all(axis=1)]
            out = np.vstack([out, d])[:n]
            if len(out) == n:
                break
        else:
            extra = np.clip(self._draw(rng, n - len(out)), 0.0, 1.0)
            out = np.vstack([out, extra])
        size = np.array([float(stimulus["width"]), float(stimulus["height"])])
        return (out * size).reshape(n_scanpaths, n_fixations, 2)


@register_model("saliency")
class SaliencyWTAModel(ScanpathModel):
    """Saliency baseline: winner-take-all over a saliency map with inhibition of return.

    The scanpath starts at the stimulus centre (``first="centre"``, as human
    free-viewing scanpaths start from a central fixation cross). Each next
    fixation goes to the maximum of the current map (winner-take-all, Itti,
    Koch & Niebur 1998); the map is then multiplied by
    ``1 - ior_strength * exp(-d^2 / (2 sigma^2))`` around the fixated point,
    ``sigma = ior_radius_deg`` degrees, so the region is not refixated
    (inhibition of return; it is permanent within a scanpath).

    Parameters
    ----------
    method : {"spectral_residual", "itti_koch"}, default "spectral_residual"
        Saliency map (:mod:`gazemodels.saliency`): Hou & Zhang (2007) or
        Itti, Koch & Niebur (1998).
    ior_radius_deg : float, default 2.0
        Standard deviation of the Gaussian inhibition of return, in degrees.
    ior_strength : float, default 1.0
        Depth of the inhibition at the fixated point (1 removes it entirely).
    noise : float, default 0.3
        Standard deviation of the log-normal multiplicative noise on the map at
        each selection; it makes the 15 scanpaths of an image differ. 0 gives
        the deterministic winner-take-all.
    first : {"centre", "saliency"}, default "centre"
        Where the first fixation lies: the stimulus centre, or the first winner.
    work_width : int, default 160
        Width (px) of the map on which the winner-take-all runs; the winner's
        cell is mapped back to stimulus px with a uniform jitter within the cell.
    """

    def __init__(
        self,
        method: str = "spectral_residual",
        ior_radius_deg: float = 2.0,
        ior_strength: float = 1.0,
        noise: float = 0.3,
        first: str = "centre",
        work_width: int = 160,
    ):
        from gazemodels.saliency import SALIENCY_MAPS

        if method not in SALIENCY_MAPS:
            raise ValueError(f"unknown saliency map {method!r}; known: {sorted(SALIENCY_MAPS)}")
        if first not in ("centre", "saliency"):
            raise ValueError(f"first must be 'centre' or 'saliency', got {first!r}")
        if ior_radius_deg <= 0 or not 0 <= ior_strength <= 1 or noise < 0 or work_width < 8:
            raise ValueError("need ior_radius_deg > 0, 0 <= ior_strength <= 1, noise >= 0, work_width >= 8")
        self.method = method
        self.ior_radius_deg = float(ior_radius_deg)
        self.ior_strength = float(ior_strength)
        self.noise = float(noise)
        self.first = first
        self.work_width = int(work_width)

    def saliency(self, image: np.ndarray) -> np.ndarray:
        """The saliency map of an image, at the image size (see :func:`gazemodels.saliency.saliency_map`).

        Parameters
        ----------
        image : numpy.ndarray
            RGB image.

        Returns
        -------
        numpy.ndarray
            Map ``(H, W)`` in [0, 1].
        """
        from gazemodels.saliency import saliency_map

        return saliency_map(image, self.method)

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """Winner-take-all with inhibition of return (see :meth:`ScanpathModel.generate`)."""
        import cv2

        w, h = float(stimulus["width"]), float(stimulus["height"])
        ppd = float(stimulus["px_per_degree"])
        sal = self.saliency(image)
        ww = min(self.work_width, sal.shape[1])
        wh = max(1, round(ww * sal.shape[0] / sal.shape[1]))
        work = cv2.resize(sal, (ww, wh), interpolation=cv2.INTER_AREA).astype(np.float64)
        work = np.maximum(work, 0.0) + 1e-6  # a floor keeps the argmax defined on a blank map
        sx, sy = w / ww, h / wh  # stimulus px per working cell
        yy, xx = np.mgrid[0:wh, 0:ww]
        cx, cy = (xx + 0.5) * sx, (yy + 0.5) * sy  # cell centres in stimulus px
        sigma = self.ior_radius_deg * ppd
        out = np.empty((n_scanpaths, n_fixations, 2))
        for s in range(n_scanpaths):
            m = work.copy()
            for i in range(n_fixations):
                if i == 0 and self.first == "centre":
                    p = np.array([w / 2.0, h / 2.0])
                else:
                    score = m * np.exp(self.noise * rng.standard_normal(m.shape)) if self.noise else m
                    r, c = np.unravel_index(int(np.argmax(score)), m.shape)
                    p = np.array([(c + rng.uniform()) * sx, (r + rng.uniform()) * sy])
                out[s, i] = p
                d2 = (cx - p[0]) ** 2 + (cy - p[1]) ** 2
                m *= 1.0 - self.ior_strength * np.exp(-d2 / (2.0 * sigma**2))  # inhibition of return
                m += 1e-9
        out[..., 0] = np.clip(out[..., 0], 0.0, w)
        out[..., 1] = np.clip(out[..., 1], 0.0, h)
        return out


@register_model("human-shuffled")
class HumanShuffledModel(ScanpathModel):
    """Human-shuffled baseline: the human scanpaths of other images, rescaled to this image.

    ``fit(fixations, stimuli)`` stores every human scanpath in normalised
    coordinates. For an image, ``predict`` draws ``n_scanpaths`` of the stored
    scanpaths of **other** stimuli (never the image's own; without replacement
    when there are enough), keeps their first ``n_fixations`` fixations and
    rescales them to the image size. It keeps the human statistics of
    scanpaths (centre bias, amplitudes, directions) and removes the image
    content: the usual chance level of scanpath studies.

    Parameters
    ----------
    None.

    Notes
    -----
    Only scanpaths with at least ``n_fixations`` fixations are eligible, so the
    baseline never pads; ``predict`` raises a ``ValueError`` when no other
    stimulus has one that long. Durations come from the duration model like
    every model's (fitted to the same human data by ``fit``), not from the
    borrowed scanpath.
    """

    needs_image = False
    requires_fit = True

    def __init__(self):
        self.sources: list[str] = []
        self.scanpaths: list[np.ndarray] = []

    def fit(self, fixations: pd.DataFrame, stimuli: pd.DataFrame | None = None, *, fit_durations: bool = True):
        """Store the human scanpaths (normalised) and fit the duration model.

        Parameters
        ----------
        fixations : pandas.DataFrame
            Human fixation table.
        stimuli : pandas.DataFrame
            Stimulus table with the sizes of the fixations' images.
        fit_durations : bool, default True
            Also fit the duration model.

        Returns
        -------
        HumanShuffledModel
            ``self``.
        """
        super().fit(fixations, stimuli, fit_durations=fit_durations)
        f = normalised_fixations(fixations, stimuli).sort_values([*SCANPATH_KEYS, "fix_index"], kind="stable")
        self.sources, self.scanpaths = [], []
        for key, sp in f.groupby(list(SCANPATH_KEYS), sort=True):
            self.sources.append(str(key[0]))
            self.scanpaths.append(sp[["u", "v"]].to_numpy(float))
        return self

    def generate(self, image, stimulus: pd.Series, n_scanpaths, n_fixations, rng) -> np.ndarray:
        """Other images' scanpaths, rescaled (see :meth:`ScanpathModel.generate`)."""
        me = str(stimulus["stimulus"])
        pool = [i for i, (src, sp) in enumerate(zip(self.sources, self.scanpaths))
                if src != me and len(sp) >= n_fixations]
        if not pool:
            raise ValueError(
                f"human-shuffled: no human scanpath of another stimulus than {me!r} has "
                f"{n_fixations} fixations; ask for fewer fixations or fit on more data"
            )
        pick = rng.choice(len(pool), size=n_scanpaths, replace=len(pool) < n_scanpaths)
        size = np.array([float(stimulus["width"]), float(stimulus["height"])])
        return np.stack([self.scanpaths[pool[k]][:n_fixations] * size for k in pick])
