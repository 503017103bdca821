"""Metrics of gaze models against human data.

=================================  ==========================================================
module                             what it scores
=================================  ==========================================================
:mod:`~.saliency`                  a predicted map/density against human fixations or a human
                                   density: AUC-Judd, AUC-Borji, shuffled AUC, NSS, CC, KL,
                                   SIM, log-likelihood and information gain
:mod:`~.conditional`               next-fixation densities given the history: cLL, cIG, cNSS, cAUC
:mod:`~.search`                    search behaviour: fixations to target, target-fixation
                                   probability, scanpath ratio, RTs, set-size slopes,
                                   asymmetry index
:mod:`~.behaviour`                 object-level search statistics as OAT reports them, and Δ
:mod:`~.consistency`               the leave-one-subject-out human ceiling of any scanpath metric
:mod:`~.bootstrap`                 percentile bootstrap intervals (plain and clustered)
:mod:`~.scanpath`                  scanpath similarity (MultiMatch, ScanMatch, sequence score, ...)
=================================  ==========================================================

Names of :mod:`gazemodels.metrics.scanpath` (e.g. ``pairwise``) are also
reachable here, imported on first use.
"""

from __future__ import annotations

import importlib

from gazemodels.metrics.behaviour import behaviour_delta, behaviour_statistics, classify_visits, scanpath_behaviour
from gazemodels.metrics.bootstrap import BootstrapResult, bootstrap_ci, cluster_bootstrap_ci
from gazemodels.metrics.conditional import cauc, cig, cll, cnss, conditional_scores, score_conditional
from gazemodels.metrics.consistency import ConsistencyResult, human_consistency
from gazemodels.metrics.saliency import (
    auc_borji,
    auc_judd,
    cc,
    centre_bias_density,
    empirical_saliency_map,
    fixation_map,
    information_gain,
    kl_divergence,
    log_likelihood,
    nss,
    resize_map,
    score_saliency,
    shuffled_auc,
    sim,
    to_density,
    uniform_density,
)
from gazemodels.metrics.search import (
    GUPTA2021,
    RT_PARAMETERISATIONS,
    RTParameterisation,
    SlopeResult,
    asymmetry_index,
    fixations_to_rt,
    fixations_to_target,
    fixations_to_target_by_scanpath,
    probability_mismatch,
    rt_by_set_size,
    rt_setsize_slope,
    scanpath_ratio,
    slope_correlation,
    target_fixation_probability,
    target_found,
    tfp_auc,
)

__all__ = [
    "BootstrapResult",
    "ConsistencyResult",
    "GUPTA2021",
    "RTParameterisation",
    "RT_PARAMETERISATIONS",
    "SlopeResult",
    "asymmetry_index",
    "auc_borji",
    "auc_judd",
    "behaviour_delta",
    "behaviour_statistics",
    "bootstrap_ci",
    "cauc",
    "cc",
    "centre_bias_density",
    "cig",
    "classify_visits",
    "cll",
    "cluster_bootstrap_ci",
    "cnss",
    "conditional_scores",
    "empirical_saliency_map",
    "fixation_map",
    "fixations_to_rt",
    "fixations_to_target",
    "fixations_to_target_by_scanpath",
    "human_consistency",
    "information_gain",
    "kl_divergence",
    "log_likelihood",
    "nss",
    "probability_mismatch",
    "resize_map",
    "rt_by_set_size",
    "rt_setsize_slope",
    "scanpath_behaviour",
    "scanpath_ratio",
    "score_conditional",
    "score_saliency",
    "shuffled_auc",
    "sim",
    "slope_correlation",
    "target_fixation_probability",
    "target_found",
    "tfp_auc",
    "to_density",
    "uniform_density",
]


def __getattr__(name: str):
    """Forward other public names to :mod:`gazemodels.metrics.scanpath`, imported lazily."""
    if name.startswith("_"):
        raise AttributeError(name)
    scanpath = importlib.import_module("gazemodels.metrics.scanpath")
    try:
        return getattr(scanpath, name)
    except AttributeError:
        raise AttributeError(f"module 'gazemodels.metrics' has no attribute {name!r}") from None
