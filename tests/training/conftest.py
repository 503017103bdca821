"""The training tests import the toy task (``tests/training/toy_task.py``), which registers itself."""

from __future__ import annotations

import training.toy_task  # noqa: F401
