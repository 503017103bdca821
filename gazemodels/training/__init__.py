"""Training infrastructure behind ``gazemodels fit``, independent of any one model.

- :mod:`gazemodels.training.task`: the :class:`Task` interface that a model
  implements to be trainable, and its registry (:func:`register_task`).
- :mod:`gazemodels.training.config`: the TOML config (``[task]``, ``[optim]``,
  ``[train]``) and its checks.
- :mod:`gazemodels.training.trainer`: the deterministic, resumable,
  optionally distributed training loop (:func:`fit`).
"""

from gazemodels.training.task import (
    Splits,
    Task,
    get_task_class,
    list_tasks,
    move_to,
    register_task,
)

__all__ = [
    "Splits",
    "Task",
    "get_task_class",
    "list_tasks",
    "move_to",
    "register_task",
]
