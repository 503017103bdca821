"""Statistical scanpaths: fixation durations and saccade amplitudes drawn from fitted distributions.

The default parameters are maximum-likelihood gamma fits (location 0) to the
98,321 fixations of the OSIE free-viewing data (Xu et al. 2014), at 24 px/deg:

- fixation duration ~ Gamma(shape 3.574, scale 59.97 ms), mean 214 ms;
- saccade amplitude ~ Gamma(shape 1.060, scale 5.608 deg), mean 5.9 deg.

Saccade directions are uniform. These scanpaths carry no image content: they are
the "random" baseline of scanpath studies and the ground truth of simulated recordings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazemodels.data.schema import FIXATION_COLUMNS


@dataclass(frozen=True)
class GammaModel:
    """A gamma distribution with location 0.

    Attributes
    ----------
    shape : float
        Shape parameter k.
    scale : float
        Scale parameter theta (mean = k theta), in the quantity's unit.
    """

    shape: float
    scale: float

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        """Draw samples.

        Parameters
        ----------
        rng : numpy.random.Generator
            Random generator.
        size : int or tuple
            Output shape.

        Returns
        -------
        numpy.ndarray
        """
        return rng.gamma(self.shape, self.scale, size=size)


OSIE_DURATION_MS = GammaModel(3.574, 59.97)
"""Fixation durations of OSIE free viewing, in ms."""

OSIE_AMPLITUDE_DEG = GammaModel(1.060, 5.608)
"""Saccade amplitudes of OSIE free viewing, in degrees."""


def sample_scanpaths(
    n_scanpaths: int,
    n_fixations: int,
    *,
    width: float,
    height: float,
    px_per_degree: float,
    seed: int = 0,
    stimulus: str = "synthetic",
    start: str = "centre",
    durations: GammaModel = OSIE_DURATION_MS,
    amplitudes: GammaModel = OSIE_AMPLITUDE_DEG,
    max_tries: int = 100,
) -> pd.DataFrame:
    """Draw scanpaths whose durations and amplitudes follow the given distributions.

    Each saccade draws an amplitude and a uniform direction; a landing point off
    the stimulus is redrawn (up to ``max_tries`` times, then the amplitude is
    drawn again from scratch with a uniformly random on-screen point as the last
    resort), so every fixation lies on the stimulus.

    Parameters
    ----------
    n_scanpaths, n_fixations : int
        How many scanpaths, and fixations in each.
    width, height : float
        Stimulus size in px.
    px_per_degree : float
        Pixels per degree, to turn amplitudes into px.
    seed : int, default 0
        Random seed.
    stimulus : str
        Value of the ``stimulus`` column.
    start : {"centre", "uniform"}
        Where the first fixation lies.
    durations, amplitudes : GammaModel
        Distributions of fixation duration (ms) and saccade amplitude (deg).
    max_tries : int
        Redraws of the direction and amplitude before falling back to a uniform point.

    Returns
    -------
    pandas.DataFrame
        A fixation table; ``subject`` is the scanpath number, ``t_start`` the
        cumulative duration (saccade time not included).
    """
    if n_scanpaths < 1 or n_fixations < 1:
        raise ValueError("n_scanpaths and n_fixations must be at least 1")
    if start not in ("centre", "uniform"):
        raise ValueError(f"start must be 'centre' or 'uniform', got {start!r}")
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_scanpaths):
        if start == "centre":
            p = np.array([width / 2.0, height / 2.0])
        else:
            p = rng.uniform([0, 0], [width, height])
        dur = durations.sample(rng, n_fixations)
        t = 0.0
        for i in range(n_fixations):
            rows.append((stimulus, s, 0, i, p[0], p[1], t, dur[i]))
            t += dur[i]
            for _ in range(max_tries):
                amp = amplitudes.sample(rng, None) * px_per_degree
                ang = rng.uniform(0, 2 * np.pi)
                q = p + amp * np.array([np.cos(ang), np.sin(ang)])
                if 0 <= q[0] <= width and 0 <= q[1] <= height:
                    break
            else:
                q = rng.uniform([0, 0], [width, height])
            p = q
    return pd.DataFrame(rows, columns=list(FIXATION_COLUMNS))
