"""The fixation data model: tables, validation, units, scanpaths, AOIs and plots.

See :mod:`gazemodels.data.schema` for the columns and units.
"""

from gazemodels.data.aoi import OBJECT_COLUMNS, as_object_table, map_to_objects
from gazemodels.data.plotting import fixation_density, plot_heatmap, plot_scanpath
from gazemodels.data.scanpaths import from_arrays, iter_scanpaths, n_scanpaths, to_arrays, to_padded
from gazemodels.data.schema import (
    FIXATION_COLUMNS,
    OPTIONAL_FIXATION_COLUMNS,
    SCANPATH_KEYS,
    STIMULUS_COLUMNS,
)
from gazemodels.data.units import (
    add_degrees,
    deg_to_px,
    deg_to_px_exact,
    px_per_degree,
    px_to_deg,
    px_to_deg_exact,
)
from gazemodels.data.validate import validate_fixations, validate_stimuli

__all__ = [
    "FIXATION_COLUMNS",
    "OBJECT_COLUMNS",
    "OPTIONAL_FIXATION_COLUMNS",
    "SCANPATH_KEYS",
    "STIMULUS_COLUMNS",
    "add_degrees",
    "as_object_table",
    "deg_to_px",
    "deg_to_px_exact",
    "fixation_density",
    "from_arrays",
    "iter_scanpaths",
    "map_to_objects",
    "n_scanpaths",
    "plot_heatmap",
    "plot_scanpath",
    "px_per_degree",
    "px_to_deg",
    "px_to_deg_exact",
    "to_arrays",
    "to_padded",
    "validate_fixations",
    "validate_stimuli",
]
