"""Training infrastructure behind ``gazemodels fit``, independent of any one model.

- :mod:`gazemodels.training.task`: the :class:`Task` interface that a model
  implements to be trainable, and its registry (:func:`register_task`).
- :mod:`gazemodels.training.config`: the TOML config (``[task]``, ``[optim]``,
  ``[train]``) and its checks (:func:`load_config`, :func:`validate_config`).
- :mod:`gazemodels.training.trainer`: the deterministic, resumable,
  optionally distributed training loop (:func:`fit`).
- :mod:`gazemodels.training.checkpoint`: ``last.pt`` and ``best.pt``
  (:func:`load_checkpoint`, :func:`load_fitted`).

Examples
--------
>>> from gazemodels.training import load_config, fit      # doctest: +SKIP
>>> result = fit(load_config("experiments/oat_amazon.toml"), "runs/oat")  # doctest: +SKIP
"""

from gazemodels.training.checkpoint import CheckpointError, load_checkpoint, load_fitted
from gazemodels.training.config import ConfigError, load_config, validate_config
from gazemodels.training.task import (
    Splits,
    Task,
    get_task_class,
    list_tasks,
    move_to,
    register_task,
)
from gazemodels.training.trainer import Callback, FitResult, Trainer, TrainingError, fit

__all__ = [
    "Callback",
    "CheckpointError",
    "ConfigError",
    "FitResult",
    "Splits",
    "Task",
    "Trainer",
    "TrainingError",
    "fit",
    "get_task_class",
    "list_tasks",
    "load_checkpoint",
    "load_config",
    "load_fitted",
    "move_to",
    "register_task",
    "validate_config",
]
