"""Behavioural statistics of object-level search, as OAT reports them.

Fang, Yu, Zhang, van der Lans & Shi (2024), "OAT: Object-level attention
transformer for gaze scanpath prediction", ECCV, compare model and human
search scanpaths over objects (e.g. book covers in a collage) with five
behavioural statistics and summarise them by their mean relative difference.

An **object scanpath** is the sequence of objects fixated, one entry per
fixation (the ``object`` column of the fixation table). Each fixation is
exactly one of:

* a **first visit**: its object has not been fixated before in the scanpath;
* an **immediate refixation**: same object as the previous fixation;
* a **later revisit**: an object fixated before, but not by the previous fixation.

So the three shares sum to 1. The statistics of a set of scanpaths are:

==========================  =====================================================
``ends_on_target``          share of scanpaths whose last fixation is on the target
``length``                  mean number of fixations per scanpath
``first_visit``             share of fixations that are first visits
``refixation``              share of fixations that are immediate refixations
``revisit``                 share of fixations that are later revisits
==========================  =====================================================

The shares pool all fixations of the set (each fixation weighs the same), the
way a share of fixations is read. :func:`behaviour_delta` is
``Δ = (1/K) sum_k |model_k - human_k| / |human_k|`` over the K statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gazemodels.data.schema import SCANPATH_KEYS

__all__ = [
    "BEHAVIOUR_STATISTICS",
    "behaviour_delta",
    "behaviour_statistics",
    "classify_visits",
    "scanpath_behaviour",
]

BEHAVIOUR_STATISTICS = ("ends_on_target", "length", "first_visit", "refixation", "revisit")
"""Names of the OAT behavioural statistics, in the order of the paper's table."""

FIRST_VISIT, REFIXATION, REVISIT = 0, 1, 2


def classify_visits(objects: Sequence) -> np.ndarray:
    """Classify each fixation of an object scanpath as first visit, refixation or revisit.

    Parameters
    ----------
    objects : sequence
        Object label of each fixation, in order. Labels are compared with ``==``.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        0 = first visit, 1 = immediate refixation (same object as the previous
        fixation), 2 = later revisit (seen before, but not just before).
    """
    codes = pd.factorize(pd.Series(list(objects), dtype=object))[0]
    n = codes.size
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    occurrence = pd.Series(codes).groupby(codes).cumcount().to_numpy()  # 0 at an object's first fixation
    seen_before = occurrence > 0
    same_as_prev = np.zeros(n, dtype=bool)
    same_as_prev[1:] = codes[1:] == codes[:-1]
    out[:] = FIRST_VISIT
    out[seen_before] = REVISIT
    out[same_as_prev] = REFIXATION
    return out


def scanpath_behaviour(
    fixations: pd.DataFrame,
    *,
    object_col: str = "object",
    target: str | None = "target",
    found: str | None = "found",
    drop_unlabelled: bool = True,
    by: Sequence[str] = SCANPATH_KEYS,
) -> pd.DataFrame:
    """Per-scanpath counts behind the OAT statistics.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table with an object label per fixation.
    object_col : str, default "object"
        Column of object labels. Missing labels (fixations on no object) are
        dropped with ``drop_unlabelled=True``, since OAT scanpaths are
        sequences of objects; otherwise they are an error.
    target : str or None, default "target"
        Column with the target object's label (repeated on each row). The
        scanpath ends on target when its last object equals it. If the column
        is absent, ``found`` is used.
    found : str or None, default "found"
        Boolean column "this fixation is on the target", used when ``target``
        is not available: the scanpath ends on target when its last (kept)
        fixation is found.
    drop_unlabelled : bool, default True
        Drop fixations without an object label before counting.
    by : sequence of str
        Scanpath keys.

    Returns
    -------
    pandas.DataFrame
        One row per scanpath: the ``by`` columns, ``length``, ``n_first_visit``,
        ``n_refixation``, ``n_revisit`` and ``ends_on_target`` (bool).
        Scanpaths left empty after dropping are omitted.
    """
    for c in [*by, "fix_index", object_col]:
        if c not in fixations.columns:
            raise ValueError(f"scanpath_behaviour: fixation table lacks column {c!r}")
    use_target = target is not None and target in fixations.columns
    use_found = not use_target and found is not None and found in fixations.columns
    if not (use_target or use_found):
        raise ValueError(
            f"scanpath_behaviour: need a target column ({target!r}) or a found column ({found!r}) "
            "to tell whether a scanpath ends on the target"
        )
    df = fixations
    unlabelled = df[object_col].isna()
    if unlabelled.any():
        if not drop_unlabelled:
            i = unlabelled.to_numpy().nonzero()[0][0]
            raise ValueError(
                f"scanpath_behaviour: {int(unlabelled.sum())} fixation(s) have no object label, "
                f"first at row {df.index[i]!r}; pass drop_unlabelled=True to skip them"
            )
        df = df.loc[~unlabelled]
    df = df.sort_values([*by, "fix_index"], kind="stable")
    rows = []
    for key, sp in df.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        objs = sp[object_col].tolist()
        kinds = classify_visits(objs)
        if use_target:
            tgt = sp[target].iloc[-1]
            ends = bool(objs[-1] == tgt)
        else:
            ends = bool(sp[found].iloc[-1])
        rows.append(
            (
                *key,
                len(objs),
                int((kinds == FIRST_VISIT).sum()),
                int((kinds == REFIXATION).sum()),
                int((kinds == REVISIT).sum()),
                ends,
            )
        )
    cols = [*by, "length", "n_first_visit", "n_refixation", "n_revisit", "ends_on_target"]
    return pd.DataFrame(rows, columns=cols)


def behaviour_statistics(fixations: pd.DataFrame, **kwargs) -> dict[str, float]:
    """The five OAT behavioural statistics of a set of object scanpaths.

    Parameters
    ----------
    fixations : pandas.DataFrame
        Fixation table with object labels (see :func:`scanpath_behaviour`,
        whose keyword arguments are accepted).
    **kwargs
        Passed to :func:`scanpath_behaviour`.

    Returns
    -------
    dict
        ``ends_on_target`` (share of scanpaths, in [0, 1]), ``length`` (mean
        fixations per scanpath), ``first_visit``, ``refixation``, ``revisit``
        (shares of all fixations, summing to 1) and ``n_scanpaths``.

    Raises
    ------
    ValueError
        If no scanpath has a labelled fixation.
    """
    per = scanpath_behaviour(fixations, **kwargs)
    if per.empty:
        raise ValueError("behaviour_statistics: no scanpath with a labelled fixation")
    total = per["length"].sum()
    return {
        "ends_on_target": float(per["ends_on_target"].mean()),
        "length": float(per["length"].mean()),
        "first_visit": float(per["n_first_visit"].sum() / total),  # share of all fixations
        "refixation": float(per["n_refixation"].sum() / total),
        "revisit": float(per["n_revisit"].sum() / total),
        "n_scanpaths": int(len(per)),
    }


def behaviour_delta(
    model: dict[str, float],
    human: dict[str, float],
    statistics: Sequence[str] = BEHAVIOUR_STATISTICS,
) -> float:
    """Mean relative difference Δ between model and human behavioural statistics.

    ``Δ = (1/K) sum_k |model_k - human_k| / |human_k|`` (Fang et al. 2024,
    the behavioural metric of OAT). 0 means the model behaves as humans on
    every statistic; 0.1 means 10 % off on average. Unitless.

    Parameters
    ----------
    model, human : dict
        Outputs of :func:`behaviour_statistics`.
    statistics : sequence of str
        Which statistics to average over; default all five.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a statistic is missing, or a human statistic is 0 (its relative
        difference is undefined; leave it out with ``statistics``).
    """
    diffs = []
    for k in statistics:
        if k not in model or k not in human:
            raise ValueError(f"behaviour_delta: statistic {k!r} is missing from the model or human values")
        h, m = float(human[k]), float(model[k])
        if h == 0:
            raise ValueError(
                f"behaviour_delta: the human value of {k!r} is 0, so its relative difference is "
                "undefined; leave it out with statistics=..."
            )
        diffs.append(abs(m - h) / abs(h))  # Fang et al. 2024: relative difference per statistic
    return float(np.mean(diffs))
