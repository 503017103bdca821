"""The fixation data model: tables, validation, units, scanpaths, AOIs and plots.

See :mod:`gazemodels.data.schema` for the columns and units.
"""

from gazemodels.data.scanpaths import from_arrays, iter_scanpaths, n_scanpaths, to_arrays, to_padded
from gazemodels.data.schema import (
    FIXATION_COLUMNS,
    OPTIONAL_FIXATION_COLUMNS,
    SCANPATH_KEYS,
    STIMULUS_COLUMNS,
)
from gazemodels.data.units import add_degrees, deg_to_px, px_per_degree, px_to_deg, px_to_deg_exact
from gazemodels.data.validate import validate_fixations, validate_stimuli

__all__ = [
    "FIXATION_COLUMNS",
    "OPTIONAL_FIXATION_COLUMNS",
    "SCANPATH_KEYS",
    "STIMULUS_COLUMNS",
    "add_degrees",
    "deg_to_px",
    "from_arrays",
    "iter_scanpaths",
    "n_scanpaths",
    "px_per_degree",
    "px_to_deg",
    "px_to_deg_exact",
    "to_arrays",
    "to_padded",
    "validate_fixations",
    "validate_stimuli",
]
