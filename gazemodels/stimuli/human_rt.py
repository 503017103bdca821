"""Human reference reaction times of the six search-asymmetry experiments.

The twelve conditions' mean RTs per set size are small published figures,
packaged as ``gazemodels/stimuli/data/human_rt.json``. They are the values
Gupta et al. (2021) transcribed from the original psychophysics papers
(``vs_exp/human_rt_data.py`` of kreimanlab/VisualSearchAsymmetry), unchanged;
the file keeps the upstream expressions and, per experiment, the original
study:

==================  ========================  ==============  ==========================================
experiment          hard / easy               set sizes       original study
==================  ========================  ==============  ==========================================
curvature           line_in_curves /          8, 16, 32       Wolfe, Yee & Friedman-Hill (1992),
                    curve_in_lines                            after Treisman & Gormican (1988)
lighting_direction  left_right / top_down     1, 6, 12        Kleffner & Ramachandran (1992)
intersection        cross / non_cross         3, 6, 9         Wolfe & DiMase (2003)
t_vs_l              Ls / Ts                   3, 6, 9         Wolfe & DiMase (2003)
orientation_homo    homo_t0 / homo_t20        1, 4, 8, 12     Wolfe, Friedman-Hill, Stewart &
                                                              O'Connell (1992)
orientation_hetero  hetero_t20 / hetero_t0    1, 4, 8, 12     the same
==================  ========================  ==============  ==========================================

"Hard" is the condition of the pair with the larger human slope of RT against
set size (least squares, ms/item). The asymmetry index of Gupta et al. is
``(slope_hard - slope_easy) / (slope_hard + slope_easy)``; over the six
experiments the humans' mean is 0.564.

Reference
---------
Gupta, S. K., Zhang, M., Wu, C.-C., Wolfe, J. M., & Kreiman, G. (2021). Visual
search asymmetry: Deep nets and humans share similar inherent biases.
*Advances in Neural Information Processing Systems 34*, 6946-6959.
arXiv:2106.02953.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

DATA_FILE = "data/human_rt.json"
"""Path of the packaged data inside :mod:`gazemodels.stimuli`."""


@lru_cache(maxsize=1)
def _raw() -> dict:
    text = resources.files("gazemodels.stimuli").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def human_rt_source() -> dict:
    """Citation and provenance of the packaged human RTs.

    Returns
    -------
    dict
        ``source`` (Gupta et al., 2021), ``source_code`` (upstream file and
        commit), ``note`` and ``description``.
    """
    raw = _raw()
    return {k: raw[k] for k in ("source", "source_code", "note", "description")}


def experiment_pairs() -> dict[str, tuple[str, str]]:
    """Experiment name -> ``(hard, easy)`` condition names, in the paper's order.

    Returns
    -------
    dict of str to (str, str)
    """
    exps = sorted(_raw()["experiments"].items(), key=lambda kv: kv[1]["experiment_number"])
    return {name: (e["hard"], e["easy"]) for name, e in exps}


def experiment_citation(experiment: str) -> str:
    """The original study of one experiment, as Gupta et al. (2021) cite it.

    Parameters
    ----------
    experiment : str
        E.g. ``"curvature"``.

    Returns
    -------
    str
        A reference with its DOI.
    """
    exps = _raw()["experiments"]
    if experiment not in exps:
        raise KeyError(f"unknown experiment {experiment!r}; known: {list(experiment_pairs())}")
    return exps[experiment]["citation"]


def human_rt(condition: str) -> tuple[np.ndarray, np.ndarray]:
    """Set sizes and human mean RTs of one condition.

    Parameters
    ----------
    condition : str
        One of the twelve condition names, e.g. ``"line_in_curves"``.

    Returns
    -------
    set_sizes : numpy.ndarray
        int, target included.
    rt_ms : numpy.ndarray
        float, ms.
    """
    conds = _raw()["conditions"]
    if condition not in conds:
        raise KeyError(f"unknown condition {condition!r}; known: {sorted(conds)}")
    c = conds[condition]
    return np.asarray(c["set_size"], dtype=np.int64), np.asarray(c["rt_ms"], dtype=float)


def load_human_rt() -> pd.DataFrame:
    """All human mean RTs as a tidy table.

    Returns
    -------
    pandas.DataFrame
        One row per condition and set size: ``experiment, condition, role``
        (``"hard"``/``"easy"``), ``set_size``, ``rt_ms``, ``citation``; in the
        paper's experiment order, hard condition first.

    Examples
    --------
    >>> t = load_human_rt()
    >>> len(t), t["condition"].nunique()
    (40, 12)
    >>> t.loc[t["condition"] == "cross", "rt_ms"].tolist()
    [829.0, 1117.0, 1405.0]
    """
    rows = []
    for exp, pair in experiment_pairs().items():
        for role, cond in zip(("hard", "easy"), pair):
            sizes, rts = human_rt(cond)
            for s, rt in zip(sizes, rts):
                rows.append((exp, cond, role, int(s), float(rt), experiment_citation(exp)))
    return pd.DataFrame(rows, columns=["experiment", "condition", "role", "set_size", "rt_ms", "citation"])


def rt_slope(set_sizes, rt_ms) -> float:
    """Least-squares slope of RT against set size, ms/item.

    Parameters
    ----------
    set_sizes : array_like
        Set sizes.
    rt_ms : array_like
        Mean RTs, ms.

    Returns
    -------
    float

    Examples
    --------
    >>> round(rt_slope([3, 6, 9], [829.0, 1117.0, 1405.0]), 6)
    96.0
    """
    x = np.asarray(set_sizes, dtype=float)
    y = np.asarray(rt_ms, dtype=float)
    if x.shape != y.shape or x.size < 2 or np.ptp(x) == 0:
        raise ValueError("rt_slope needs at least two distinct set sizes and one RT per set size")
    xc = x - x.mean()
    return float(np.dot(xc, y - y.mean()) / np.dot(xc, xc))


def human_slopes() -> dict[str, float]:
    """Human RT-vs-set-size slope of every condition, ms/item.

    Returns
    -------
    dict of str to float
    """
    return {c: rt_slope(*human_rt(c)) for pair in experiment_pairs().values() for c in pair}


def human_asymmetry_index() -> dict[str, float]:
    """Human asymmetry index per experiment, as defined by Gupta et al. (2021).

    Returns
    -------
    dict of str to float
        ``(slope_hard - slope_easy) / (slope_hard + slope_easy)``.
    """
    s = human_slopes()
    return {e: (s[h] - s[c]) / (s[h] + s[c]) for e, (h, c) in experiment_pairs().items()}
