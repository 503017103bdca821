"""Percentile bootstrap confidence intervals, plain and clustered.

Every metric summary in gazemodels that carries a confidence interval comes
from here, so that the resampling scheme is written down once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["BootstrapResult", "bootstrap_ci", "cluster_bootstrap_ci"]

_CHUNK = 256  # resamples drawn at once; bounds memory at _CHUNK * n values


@dataclass(frozen=True)
class BootstrapResult:
    """A point estimate with its percentile bootstrap interval.

    Attributes
    ----------
    estimate : float
        The statistic on the original sample.
    low, high : float
        Lower and upper bounds of the ``level`` percentile interval.
    level : float
        Coverage of the interval, e.g. 0.95.
    n_boot : int
        Number of bootstrap resamples.
    n : int
        Number of resampled units (values, or clusters for the clustered bootstrap).
    """

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    n: int

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """Return ``{prefix+'mean': estimate, prefix+'ci_low': low, prefix+'ci_high': high}``."""
        return {f"{prefix}mean": self.estimate, f"{prefix}ci_low": self.low, f"{prefix}ci_high": self.high}


def _check_level(level: float, n_boot: int) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap: level must lie in (0, 1), got {level}")
    if int(n_boot) < 0:
        raise ValueError(f"bootstrap: n_boot must be a non-negative integer, got {n_boot}")


def bootstrap_ci(
    values,
    statistic: Callable[[np.ndarray], float] | str = "mean",
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | None = 0,
) -> BootstrapResult:
    """Percentile bootstrap confidence interval of a statistic of one sample.

    Resamples the values with replacement ``n_boot`` times, evaluates the
    statistic on each resample and returns the ``(1-level)/2`` and
    ``(1+level)/2`` quantiles of those replicates (Efron & Tibshirani 1993,
    ch. 13, the percentile interval).

    Parameters
    ----------
    values : array_like, shape (n,) or (n, ...)
        The sample; the first axis indexes independent units. NaNs are an error
        (drop them first, knowingly).
    statistic : {"mean", "median"} or callable, default "mean"
        ``"mean"`` and ``"median"`` (1-D samples only) are vectorised; a
        callable receives one resample (an array shaped like ``values``, rows
        drawn with replacement) and returns a float.
    n_boot : int, default 1000
        Number of resamples; 0 gives the estimate with a NaN interval.
    level : float, default 0.95
        Coverage of the interval.
    seed : int or None, default 0
        Seed of the random generator; ``None`` draws fresh entropy.

    Returns
    -------
    BootstrapResult
        ``estimate`` is the statistic on the full sample. With a single value
        the interval collapses onto it.

    Raises
    ------
    ValueError
        If ``values`` is empty or contains NaN, or ``level``/``n_boot`` are invalid.
    """
    _check_level(level, n_boot)
    x = np.asarray(values, dtype=float)
    if x.ndim == 0:
        x = x[None]
    if x.shape[0] == 0:
        raise ValueError("bootstrap_ci: no values to resample")
    if np.isnan(x).any():
        raise ValueError(f"bootstrap_ci: {int(np.isnan(x).sum())} NaN value(s); drop them first")
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    if int(n_boot) == 0:
        est = statistic(x) if callable(statistic) else (np.mean(x) if statistic == "mean" else np.median(x))
        return BootstrapResult(float(est), np.nan, np.nan, level, 0, n)
    if isinstance(statistic, str):
        if statistic not in ("mean", "median"):
            raise ValueError(f"bootstrap_ci: unknown statistic {statistic!r}; use 'mean', 'median' or a callable")
        if x.ndim != 1:
            raise ValueError(f"bootstrap_ci: {statistic!r} needs a 1-D sample, got shape {x.shape}")
        reduce = np.mean if statistic == "mean" else np.median
        estimate = float(reduce(x))
        reps = []
        for start in range(0, n_boot, _CHUNK):
            m = min(_CHUNK, n_boot - start)
            idx = rng.integers(0, n, size=(m, n))
            reps.append(reduce(x[idx], axis=1))
        reps = np.concatenate(reps, axis=0)
    else:
        estimate = float(statistic(x))
        reps = np.array([statistic(x[rng.integers(0, n, size=n)]) for _ in range(n_boot)], dtype=float)
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    return BootstrapResult(float(estimate), float(lo), float(hi), level, int(n_boot), n)


def cluster_bootstrap_ci(
    values,
    clusters,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | None = 0,
) -> BootstrapResult:
    """Percentile bootstrap of a mean when values come in dependent clusters.

    Pairs of scanpaths on the same stimulus share that stimulus, so they are
    not independent. This resamples whole clusters (e.g. stimuli) with
    replacement and recomputes the pooled mean of all values in the drawn
    clusters (the cluster bootstrap; Field & Welsh 2007, "Bootstrapping
    clustered data", JRSS-B 69:369).

    Parameters
    ----------
    values : array_like, shape (n,)
        One value per observation (e.g. per scanpath pair). NaNs are an error.
    clusters : array_like, shape (n,)
        Cluster label of each value.
    n_boot : int, default 1000
        Number of resamples; 0 gives the estimate with a NaN interval.
    level : float, default 0.95
        Coverage of the interval.
    seed : int or None, default 0
        Seed of the random generator.

    Returns
    -------
    BootstrapResult
        ``estimate`` is the pooled mean over all values; ``n`` the number of clusters.

    Raises
    ------
    ValueError
        If the inputs are empty, differ in length, or contain NaN values.
    """
    _check_level(level, n_boot)
    x = np.asarray(values, dtype=float).ravel()
    c = np.asarray(clusters).ravel()
    if x.size == 0:
        raise ValueError("cluster_bootstrap_ci: no values to resample")
    if c.size != x.size:
        raise ValueError(f"cluster_bootstrap_ci: {x.size} values but {c.size} cluster labels")
    if np.isnan(x).any():
        raise ValueError(f"cluster_bootstrap_ci: {int(np.isnan(x).sum())} NaN value(s); drop them first")
    _, inv = np.unique(c, return_inverse=True)
    k = int(inv.max()) + 1
    sums = np.bincount(inv, weights=x, minlength=k)  # per-cluster sum
    counts = np.bincount(inv, minlength=k).astype(float)  # per-cluster size
    if int(n_boot) == 0:
        return BootstrapResult(float(x.mean()), np.nan, np.nan, level, 0, k)
    rng = np.random.default_rng(seed)
    reps = []
    for start in range(0, n_boot, _CHUNK):
        m = min(_CHUNK, n_boot - start)
        draw = rng.integers(0, k, size=(m, k))
        reps.append(sums[draw].sum(axis=1) / counts[draw].sum(axis=1))  # pooled mean of drawn clusters
    reps = np.concatenate(reps)
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    return BootstrapResult(float(x.mean()), float(lo), float(hi), level, int(n_boot), k)
