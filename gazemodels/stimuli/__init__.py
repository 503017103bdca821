"""Seeded search displays: the six search-asymmetry experiments, object arrays, human RTs.

The six classic asymmetry experiments of Gupta et al. (2021), one registered
stimulus set each, with the condition names and set sizes of their human data
(:mod:`gazemodels.stimuli.human_rt`):

====================  ==========================================  ==============  ==========
stimulus set          conditions, hard / easy for humans          set sizes       per size
====================  ==========================================  ==============  ==========
curvature             line_in_curves / curve_in_lines             8, 16, 32       30
lighting_direction    left_right / top_down                       1, 6, 12        30
intersection          cross / non_cross                           3, 6, 9         36
t_vs_l                Ls / Ts                                     3, 6, 9         36
orientation_homo      homo_t0 / homo_t20                          1, 4, 8, 12     30
orientation_hetero    hetero_t20 / hetero_t0                      1, 4, 8, 12     30
====================  ==========================================  ==============  ==========

Conditions are named after the target ("line_in_curves": a line among curves;
"cross": a cross among non-crosses; "Ls": an L among Ts; "homo_t0": a vertical
bar among 20 deg bars), except the lighting ones, named after the shading axis
("top_down": a disc lit from above among discs lit from below). Set sizes count
the target. Each generator follows the geometry of the upstream eccNET scripts
(kreimanlab/VisualSearchAsymmetry) in degrees at 30 px/deg and documents its
sources; see the modules :mod:`~gazemodels.stimuli.curvature`,
:mod:`~gazemodels.stimuli.lighting`, :mod:`~gazemodels.stimuli.intersection` and
:mod:`~gazemodels.stimuli.orientation`.

>>> from gazemodels.stimuli import generate, to_stimulus_table
>>> displays = generate("curvature", seed=0, n_per_set_size=2)
>>> len(displays), displays[0].condition, displays[0].set_size, displays[0].image.shape
(12, 'line_in_curves', 8, (339, 339, 3))
>>> t = to_stimulus_table(displays)
>>> t.loc[0, "stimulus"], int(t.loc[0, "width"]), float(t.loc[0, "px_per_degree"])
('curvature-line_in_curves-n08-000', 339, 30.0)

:mod:`~gazemodels.stimuli.arrays` draws general object arrays (coloured shapes
on a ring or a grid) with a known similarity of each distractor to the target;
they are also registered as ``object_array``.

Reference: Gupta, S. K., Zhang, M., Wu, C.-C., Wolfe, J. M., & Kreiman, G.
(2021). Visual search asymmetry: Deep nets and humans share similar inherent
biases. *NeurIPS 34*, 6946-6959.
"""

from gazemodels.stimuli.display import SearchDisplay, make_display, to_stimulus_table
from gazemodels.stimuli.registry import (
    DEFAULT_PX_PER_DEGREE,
    StimulusSet,
    condition_experiment,
    generate,
    get_stimulus_set,
    list_stimulus_sets,
    register_stimulus_set,
)

# importing the generators registers them
from gazemodels.stimuli import curvature, lighting, intersection, orientation  # noqa: E402,F401  isort: skip
from gazemodels.stimuli.arrays import (  # noqa: E402
    COLOURS,
    SHAPES,
    Item,
    ObjectArrayDisplay,
    distractor_pool,
    item_similarity,
    object_array,
    random_object_array,
)
from gazemodels.stimuli.human_rt import (  # noqa: E402
    experiment_citation,
    experiment_pairs,
    human_asymmetry_index,
    human_rt,
    human_rt_source,
    human_slopes,
    load_human_rt,
    rt_slope,
)
from gazemodels.stimuli.plotting import plot_search_display  # noqa: E402

ASYMMETRY_EXPERIMENTS: tuple[str, ...] = (
    "curvature",
    "lighting_direction",
    "intersection",
    "t_vs_l",
    "orientation_homo",
    "orientation_hetero",
)
"""The six asymmetry stimulus sets, in the order of Gupta et al.'s Experiments 1-6."""

__all__ = [
    "ASYMMETRY_EXPERIMENTS",
    "COLOURS",
    "DEFAULT_PX_PER_DEGREE",
    "SHAPES",
    "Item",
    "ObjectArrayDisplay",
    "SearchDisplay",
    "StimulusSet",
    "condition_experiment",
    "distractor_pool",
    "experiment_citation",
    "experiment_pairs",
    "generate",
    "get_stimulus_set",
    "human_asymmetry_index",
    "human_rt",
    "human_rt_source",
    "human_slopes",
    "item_similarity",
    "list_stimulus_sets",
    "load_human_rt",
    "make_display",
    "object_array",
    "plot_search_display",
    "random_object_array",
    "register_stimulus_set",
    "rt_slope",
    "to_stimulus_table",
]
