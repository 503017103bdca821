"""The fixation-duration model shared by every scanpath model.

Scanpath models decide *where* the eyes go; *how long* each fixation lasts comes
from one documented model, so that duration-aware metrics (ScanMatch with
temporal binning, MultiMatch's duration dimension) apply to every model alike.

The model is a gamma distribution with location 0, independent across fixations,
fitted by maximum likelihood (:func:`scipy.stats.gamma.fit` with ``floc=0``).
Gamma distributions describe fixation durations in free viewing well
(e.g. Tatler & Vincent 2008). The default, :data:`DEFAULT_DURATION_MODEL`, is the
fit to all 98,321 OSIE fixations (Xu et al. 2014): shape 3.574, scale 59.97 ms,
mean 214 ms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazemodels.simulate.scanpaths import OSIE_DURATION_MS, GammaModel

DEFAULT_DURATION_MODEL: GammaModel = OSIE_DURATION_MS
"""Gamma(3.574, 59.97 ms): the maximum-likelihood fit to OSIE free viewing."""

MIN_DURATIONS_FOR_FIT = 10
"""Fewest finite positive durations :func:`fit_duration_model` accepts."""


def fit_duration_model(fixations: pd.DataFrame) -> GammaModel:
    """Fit a gamma distribution (location 0) to the durations of a fixation table.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table with a ``duration`` column (ms). NaN and non-positive
        durations are ignored (a gamma density is 0 at 0).

    Returns
    -------
    GammaModel
        Maximum-likelihood shape and scale (ms).

    Raises
    ------
    ValueError
        If there is no ``duration`` column, fewer than
        :data:`MIN_DURATIONS_FOR_FIT` usable durations, or all of them are equal.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = np.random.default_rng(0).gamma(4.0, 50.0, size=5000)
    >>> m = fit_duration_model(pd.DataFrame({"duration": d}))
    >>> round(m.shape, 1), round(m.shape * m.scale)  # shape about 4, mean about 200 ms
    (4.0, 202)
    """
    from scipy import stats

    if "duration" not in fixations.columns:
        raise ValueError("fit_duration_model: the fixation table has no 'duration' column")
    d = fixations["duration"].to_numpy(dtype=float)
    d = d[np.isfinite(d) & (d > 0)]
    if d.size < MIN_DURATIONS_FOR_FIT:
        raise ValueError(
            f"fit_duration_model: need at least {MIN_DURATIONS_FOR_FIT} positive durations, "
            f"got {d.size}"
        )
    if np.ptp(d) == 0:
        raise ValueError(
            f"fit_duration_model: all {d.size} positive durations equal {d[0]:g} ms; a gamma "
            "distribution cannot be fitted to data without spread (are the durations placeholders?)"
        )
    shape, _, scale = stats.gamma.fit(d, floc=0)
    return GammaModel(float(shape), float(scale))
