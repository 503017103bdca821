"""Visual search: eccentricity-dependent recognition, top-down guidance, WTA with object IOR.

:class:`VisualSearchModel` searches a :class:`~gazemodels.stimuli.SearchDisplay` for its
target and returns the scanpath as a fixation table (:mod:`gazemodels.data.schema`), with a
``found`` column that :mod:`gazemodels.metrics.search` scores directly. It follows eccNET
(Gupta et al. 2021) on the package's own parts: the ImageNet-trained EfficientNet-lite0 stem
(zero-shot), eccentricity-dependent pooling as the backbone's ``pooling_only`` eccentricity
attention, the target's features as cross-correlation kernels at several depths (Zhang et
al. 2018's IVSN), winner-take-all and object-level inhibition of return. Unlike eccNET it
matches by cosine similarity, adds a bottom-up term (Guided Search) and eccentricity-dependent
noise to the items' priorities, each chosen on object arrays, not on the asymmetry data. See
:mod:`gazemodels.models.search.model` for the algorithm, its parameters and ablations, and
``gazemodels run search-asymmetry`` for the experiment that tests it.

Modules: :mod:`~gazemodels.models.search.config` (:class:`SearchModelConfig`, the ablations),
:mod:`~gazemodels.models.search.features` (the stem), :mod:`~gazemodels.models.search.pooling`
(eccentricity-dependent pooling), :mod:`~gazemodels.models.search.matching` (template
cross-correlation, channel gains), :mod:`~gazemodels.models.search.selection` (item priorities
and landing points), :mod:`~gazemodels.models.search.model` (the search loop and the record of
how each default was chosen), :mod:`~gazemodels.models.search.parallel` (worker processes).

>>> from gazemodels.models.search import VisualSearchModel, SearchModelConfig
>>> SearchModelConfig().stages
(2, 4, 6)

References
----------
Gupta, S. K., Zhang, M., Wu, C.-C., Wolfe, J. M., & Kreiman, G. (2021). Visual search
asymmetry: Deep nets and humans share similar inherent biases. *NeurIPS 34*, 6946-6959.

Zhang, M., Feng, J., Ma, K. T., Lim, J. H., Zhao, Q., & Kreiman, G. (2018). Finding any
Waldo with zero-shot invariant and efficient visual search. *Nature Communications, 9*, 3730.
"""

from gazemodels.models.search.config import (
    ABLATIONS,
    ECCNET_POOLING,
    SearchModelConfig,
    apply_ablation,
    eccnet_gaussian_pooling,
)
from gazemodels.models.search.features import MultiStageStem, background_colour, place_on_canvas
from gazemodels.models.search.model import PreparedDisplay, VisualSearchModel
from gazemodels.models.search.parallel import run_parallel
from gazemodels.models.search.pooling import EccentricityPooling, grid_positions_deg

__all__ = [
    "ABLATIONS",
    "ECCNET_POOLING",
    "EccentricityPooling",
    "MultiStageStem",
    "PreparedDisplay",
    "SearchModelConfig",
    "VisualSearchModel",
    "apply_ablation",
    "background_colour",
    "eccnet_gaussian_pooling",
    "grid_positions_deg",
    "place_on_canvas",
    "run_parallel",
]
