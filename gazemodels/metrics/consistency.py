"""Human consistency: the leave-one-subject-out ceiling of any scanpath metric.

A model that predicts scanpaths cannot be expected to match one human better
than the other humans do. The ceiling scores each subject's scanpath on a
stimulus against the scanpaths of every *other* subject on that stimulus, with
the same metric and the same pairing a model gets (held-out subject in the
"prediction" slot, the others in the "human" slot), and averages. This is the
human-consistency reference of, e.g., Yang et al. (2020, CVPR, "human
consistency" rows) and Kümmerer & Bethge (2021, arXiv:2102.12239, the "gold
standard" leave-one-subject-out model).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gazemodels.metrics.bootstrap import BootstrapResult, cluster_bootstrap_ci

__all__ = ["ConsistencyResult", "human_consistency", "metric_values"]

MetricFn = Callable[..., "float | Mapping[str, float]"]


def metric_values(result, name: str) -> dict[str, float]:
    """Normalise a metric's return value to ``{column: float}``.

    A float becomes ``{name: value}``; a mapping or named tuple ``{k: v}``
    becomes ``{f"{name}_{k}": v}``; another sequence becomes ``{f"{name}_{i}": v}``.
    """
    if hasattr(result, "_asdict"):  # named tuple, e.g. MultiMatchResult
        result = result._asdict()
    if isinstance(result, Mapping):
        return {f"{name}_{k}": float(v) for k, v in result.items()}
    if np.ndim(result) == 0:
        return {name: float(result)}
    return {f"{name}_{i}": float(v) for i, v in enumerate(np.ravel(result))}


def _callable_name(metric) -> str:
    if not callable(metric):
        raise TypeError(
            f"metric must be a callable or registered metric name(s), got {type(metric).__name__}"
        )
    return getattr(metric, "name", None) or getattr(metric, "__name__", "metric")


def _registry_pairs(fixations, names, params, keys, symmetric, n_jobs) -> pd.DataFrame:
    """Between-subject pairs scored by registered metrics through ``pairwise``."""
    from gazemodels.metrics.scanpath import get_metric, pairwise

    for n in names:
        get_metric(n)  # KeyError naming the known metrics
    stimulus, subject, trial = keys
    table = fixations
    renames = {stimulus: "stimulus", subject: "subject", trial: "trial"}
    if any(k != v for k, v in renames.items()):
        table = fixations.rename(columns=renames)
    out = pairwise(table, list(names), by="stimulus", ordered=not symmetric, n_jobs=n_jobs, **params)
    out = out[out["subject_1"].to_numpy() != out["subject_2"].to_numpy()]
    if symmetric:
        swapped = out.rename(columns={"subject_1": "subject_2", "subject_2": "subject_1",
                                      "trial_1": "trial_2", "trial_2": "trial_1",
                                      "n_fix_1": "n_fix_2", "n_fix_2": "n_fix_1"})
        out = pd.concat([out, swapped[out.columns]], ignore_index=True)
    out = out.rename(columns={"stimulus": stimulus, "subject_1": subject, "trial_1": trial,
                              "subject_2": "other_subject", "trial_2": "other_trial"})
    return out.drop(columns=[c for c in ("n_fix_1", "n_fix_2", "reason") if c in out.columns]).reset_index(drop=True)


def _callable_pairs(fixations, metric, params, columns, stimulus, subject, trial, has_trial,
                    symmetric, progress) -> pd.DataFrame:
    """Between-subject pairs scored by a Python callable, one pair at a time."""
    from tqdm.auto import tqdm

    name = _callable_name(metric)
    keys = [stimulus, subject] + ([trial] if has_trial else [])
    df = fixations.sort_values([*keys, "fix_index"], kind="stable")
    by_stim: dict = {}  # stimulus -> list of (subject, trial, scanpath)
    for key, sp in df.groupby(keys, sort=True, dropna=False):
        tr = key[2] if has_trial else 0
        data = sp if columns is None else sp[list(columns)].to_numpy(dtype=float)
        by_stim.setdefault(key[0], []).append((key[1], tr, data))
    jobs = [
        (st, i, j)
        for st, sps in by_stim.items()
        for i in range(len(sps))
        for j in range(len(sps))
        if sps[i][0] != sps[j][0] and not (symmetric and j < i)
    ]
    disable = None if progress is None else not progress
    rows = []
    for st, i, j in tqdm(jobs, desc=f"consistency ({name})", disable=disable, leave=False):
        su_a, tr_a, a = by_stim[st][i]
        su_b, tr_b, b = by_stim[st][j]
        vals = metric_values(metric(a, b, **params), name)
        rows.append({stimulus: st, subject: su_a, trial: tr_a, "other_subject": su_b, "other_trial": tr_b, **vals})
        if symmetric:
            rows.append({stimulus: st, subject: su_b, trial: tr_b, "other_subject": su_a, "other_trial": tr_a, **vals})
    return pd.DataFrame(rows)


@dataclass
class ConsistencyResult:
    """Leave-one-subject-out consistency of humans under one metric.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per ordered pair (held-out scanpath, other subject's scanpath):
        ``stimulus``, ``subject``, ``trial``, ``other_subject``, ``other_trial``
        and one column per metric value.
    per_subject : pandas.DataFrame
        One row per (stimulus, held-out subject): the mean over its pairs
        (NaN pair values are left out of the mean).
    summary : dict of str to BootstrapResult
        Per metric column, the ceiling (mean of ``per_subject``) and its
        percentile interval from a bootstrap over stimuli.
    n_nan : dict of str to int
        Per metric column, the number of pairs on which the metric was undefined (NaN).
    """

    pairs: pd.DataFrame
    per_subject: pd.DataFrame
    summary: dict[str, BootstrapResult] = field(default_factory=dict)
    n_nan: dict[str, int] = field(default_factory=dict)

    @property
    def ceiling(self) -> dict[str, float]:
        """The ceiling value of each metric column."""
        return {k: v.estimate for k, v in self.summary.items()}


def human_consistency(
    fixations: pd.DataFrame,
    metric: MetricFn | str | Sequence[str],
    *,
    metric_params: Mapping | None = None,
    columns: Sequence[str] | None = ("x", "y", "duration"),
    stimulus: str = "stimulus",
    subject: str = "subject",
    trial: str = "trial",
    symmetric: bool = False,
    n_jobs: int = 1,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | None = 0,
    progress: bool | None = False,
) -> ConsistencyResult:
    """Leave-one-subject-out upper bound of a scanpath metric.

    For every stimulus and every subject ``s`` who viewed it, each scanpath of
    ``s`` is scored against each scanpath of every other subject on that
    stimulus, ``metric(held_out, other)``. The held-out subject's score is
    the mean over those pairs; the ceiling is the mean over (stimulus,
    subject) scores, with a percentile bootstrap interval that resamples
    stimuli (:func:`gazemodels.metrics.bootstrap.cluster_bootstrap_ci`).

    Parameters
    ----------
    fixations : pandas.DataFrame
        Human fixation table.
    metric : callable, str or sequence of str
        A callable ``metric(sp_a, sp_b, **metric_params)`` returning a float, a
        dict or a named tuple of floats (e.g. the five MultiMatch dimensions);
        NaN marks an undefined value. Or the name(s) of metrics in the
        scanpath-metric registry (:func:`gazemodels.metrics.scanpath.get_metric`),
        which are computed in batches by
        :func:`gazemodels.metrics.scanpath.pairwise`; their columns are the
        registry's column names.
    metric_params : mapping, optional
        Keyword arguments for the metric (e.g. ``screen_size=(1680, 1050)``).
    columns : sequence of str or None, default ("x", "y", "duration")
        For a callable: each scanpath is passed as an ``(n, len(columns))``
        float array of these columns in fixation order; ``None`` passes the
        scanpath's rows as a DataFrame. Registered metrics take the columns
        they declare.
    stimulus, subject, trial : str
        Key columns.
    symmetric : bool, default False
        Declare ``metric(a, b) == metric(b, a)`` to compute each unordered pair once.
    n_jobs : int, default 1
        Worker processes for registered metrics (see ``pairwise``).
    n_boot : int, default 1000
        Bootstrap resamples of the interval.
    level : float, default 0.95
        Coverage of the interval.
    seed : int or None, default 0
        Seed of the bootstrap.
    progress : bool or None, default False
        Show a tqdm progress bar over pairs (``None``: only on a terminal).

    Returns
    -------
    ConsistencyResult

    Raises
    ------
    ValueError
        If a key column is missing, or no stimulus has scanpaths from two subjects.
    """
    params = dict(metric_params or {})
    has_trial = trial in fixations.columns
    registry = isinstance(metric, str) or (
        isinstance(metric, Sequence) and len(metric) > 0 and all(isinstance(m, str) for m in metric)
    )
    need = [stimulus, subject, "fix_index"] + ([trial] if has_trial else [])
    if not registry:
        need += list(columns or [])
    missing = [c for c in need if c not in fixations.columns]
    if missing:
        raise ValueError(f"human_consistency: fixation table lacks column(s) {missing}")
    n_subjects = fixations.groupby(stimulus)[subject].nunique()
    if len(n_subjects) == 0 or n_subjects.max() < 2:
        raise ValueError(
            "human_consistency: no stimulus has scanpaths from two or more subjects; "
            "a leave-one-subject-out ceiling needs at least two"
        )
    if registry:
        names = [metric] if isinstance(metric, str) else list(metric)
        table = fixations if has_trial else fixations.assign(**{trial: 0})
        pairs = _registry_pairs(table, names, params, (stimulus, subject, trial), symmetric, n_jobs)
    else:
        pairs = _callable_pairs(fixations, metric, params, columns, stimulus, subject, trial,
                                has_trial, symmetric, progress)
    value_cols = [c for c in pairs.columns if c not in (stimulus, subject, trial, "other_subject", "other_trial")]
    pairs[value_cols] = pairs[value_cols].astype(float)
    per_subject = pairs.groupby([stimulus, subject], sort=True)[value_cols].mean().reset_index()  # skips NaN
    summary, n_nan = {}, {}
    for c in value_cols:
        n_nan[c] = int(pairs[c].isna().sum())
        ok = per_subject[c].notna().to_numpy()
        if ok.any():
            summary[c] = cluster_bootstrap_ci(
                per_subject.loc[ok, c].to_numpy(), per_subject.loc[ok, stimulus].to_numpy(),
                n_boot=n_boot, level=level, seed=seed,
            )
        else:
            summary[c] = BootstrapResult(math.nan, math.nan, math.nan, level, n_boot, 0)
    return ConsistencyResult(pairs=pairs, per_subject=per_subject, summary=summary, n_nan=n_nan)
