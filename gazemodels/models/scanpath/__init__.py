"""Scanpath models: the contract (:mod:`.base`), the duration model
(:mod:`.durations`), the baselines (:mod:`.baselines`) and the zero-shot
NeVA family.

Every module of this package is imported by the model registry on first use
(:func:`gazemodels.models.list_models`), so a model registers itself with
``@register_model("name")`` in its own file.
"""

from gazemodels.models.scanpath.base import (
    ImageReadError,
    ModelNotFittedError,
    ScanpathContractError,
    ScanpathModel,
    load_image,
    positions_to_table,
    stimulus_rng,
    validate_scanpath_model,
)
from gazemodels.models.scanpath.durations import DEFAULT_DURATION_MODEL, fit_duration_model

__all__ = [
    "DEFAULT_DURATION_MODEL",
    "ImageReadError",
    "ModelNotFittedError",
    "ScanpathContractError",
    "ScanpathModel",
    "fit_duration_model",
    "load_image",
    "positions_to_table",
    "stimulus_rng",
    "validate_scanpath_model",
]
