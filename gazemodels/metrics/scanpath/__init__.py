"""Scanpath similarity metrics: MultiMatch, ScanMatch, sequence scores, string edit
distance, DTW, Frechet, Hausdorff, mean minimal distance and cross-recurrence (RQA).

Every metric has a single-pair function (``multimatch(sp1, sp2, ...)``) and a batch
function registered by name (``multimatch_batch(scanpaths, pairs, ...)``);
:func:`pairwise` scores all within-stimulus pairs of a fixation table and returns a
tidy DataFrame.
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
