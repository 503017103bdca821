"""Scanpath similarity metrics.

=====================  ======================================  ==========================
registry name          single pair                             reference
=====================  ======================================  ==========================
``multimatch``         :func:`multimatch`                      Jarodzka et al. 2010;
                                                               Dewhurst et al. 2012
``scanmatch``          :func:`scanmatch`                       Cristino et al. 2010
``ss``                 :func:`sequence_score`                  Yang et al. 2020
``semantic_ss``        :func:`semantic_sequence_score`         Mondal et al. 2023
``edit_distance``      :func:`edit_distance` (grid strings)    Levenshtein 1966
``edit_distance_aoi``  :func:`edit_distance` (AOI strings)     Levenshtein 1966
``dtw``                :func:`dtw`                             Berndt & Clifford 1994
``frechet``            :func:`frechet`                         Eiter & Mannila 1994
``hausdorff``          :func:`hausdorff`
``mmd``                :func:`mean_minimal_distance`           Mannan et al. 1995
``rqa``                :func:`cross_recurrence`                Anderson et al. 2013
=====================  ======================================  ==========================

Every metric has a single-pair function and a batch function
``<name>_batch(scanpaths, pairs, ...)`` that scores many pairs at once (vectorised
dynamic programmes over padded batches). :func:`pairwise` scores all
within-stimulus pairs of a fixation table, or model-vs-human pairs, and returns a
tidy DataFrame; :func:`get_metric` / :func:`list_metrics` look metrics up by name.

Undefined values (too few fixations, missing durations, no recurrence) are NaN
with a reason, never a silent number: single-pair functions warn
(:class:`UndefinedMetricWarning`) or raise with ``on_undefined="raise"``; batch
functions return the reason per pair.
"""

from gazemodels.metrics.scanpath._common import (
    UndefinedMetricError,
    UndefinedMetricWarning,
    as_scanpath,
)
from gazemodels.metrics.scanpath.registry import (
    MetricSpec,
    get_metric,
    list_metrics,
    pairwise,
    register_metric,
    split_scanpaths,
)
from gazemodels.metrics.scanpath.multimatch import (
    MULTIMATCH_DIMENSIONS,
    MultiMatchResult,
    multimatch,
    multimatch_batch,
    simplify_scanpath,
)
from gazemodels.metrics.scanpath.scanmatch import (
    IVSN_SCANMATCH,
    scanmatch,
    scanmatch_batch,
    scanmatch_sequence,
    scanmatch_substitution_matrix,
)
from gazemodels.metrics.scanpath.sequence import (
    FixationClusters,
    edit_distance,
    edit_distance_aoi_batch,
    edit_distance_batch,
    estimate_bandwidth,
    fixation_clusters,
    grid_string,
    mean_shift,
    semantic_sequence_score,
    semantic_sequence_score_batch,
    sequence_score,
    sequence_score_batch,
)
from gazemodels.metrics.scanpath.geometric import (
    dtw,
    dtw_batch,
    frechet,
    frechet_batch,
    geometric_batch,
    hausdorff,
    hausdorff_batch,
    mean_minimal_distance,
    mmd_batch,
)
from gazemodels.metrics.scanpath.rqa import RQAResult, cross_recurrence, rqa_batch

__all__ = [
    "IVSN_SCANMATCH",
    "MULTIMATCH_DIMENSIONS",
    "FixationClusters",
    "MetricSpec",
    "MultiMatchResult",
    "RQAResult",
    "UndefinedMetricError",
    "UndefinedMetricWarning",
    "as_scanpath",
    "cross_recurrence",
    "dtw",
    "dtw_batch",
    "edit_distance",
    "edit_distance_aoi_batch",
    "edit_distance_batch",
    "estimate_bandwidth",
    "fixation_clusters",
    "frechet",
    "frechet_batch",
    "geometric_batch",
    "get_metric",
    "grid_string",
    "hausdorff",
    "hausdorff_batch",
    "list_metrics",
    "mean_minimal_distance",
    "mean_shift",
    "mmd_batch",
    "multimatch",
    "multimatch_batch",
    "pairwise",
    "register_metric",
    "rqa_batch",
    "scanmatch",
    "scanmatch_batch",
    "scanmatch_sequence",
    "scanmatch_substitution_matrix",
    "semantic_sequence_score",
    "semantic_sequence_score_batch",
    "sequence_score",
    "sequence_score_batch",
    "simplify_scanpath",
    "split_scanpaths",
]
