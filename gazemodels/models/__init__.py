"""Computational models of gaze, registered by family and name.

Families
--------
scanpath
    :class:`~gazemodels.models.scanpath.base.ScanpathModel`:
    ``predict(stimuli, n_scanpaths, n_fixations, seed) -> fixation table``,
    checked by :func:`~gazemodels.models.scanpath.base.validate_scanpath_model`.

Use :func:`list_models` and :func:`get_model`; register a new model with
:func:`register_model`.
"""

from gazemodels.models.registry import (
    ModelSpec,
    get_model,
    get_model_spec,
    list_models,
    load_model,
    register_model,
    save_model,
)
from gazemodels.models.scanpath.base import ScanpathModel, validate_scanpath_model

__all__ = [
    "ModelSpec",
    "ScanpathModel",
    "get_model",
    "get_model_spec",
    "list_models",
    "load_model",
    "register_model",
    "save_model",
    "validate_scanpath_model",
]
