"""Event detection in raw gaze samples: fixation detectors behind one registry.

>>> from gazemodels.events import detect_fixations, list_detectors
>>> list_detectors()
['idt', 'ivt']

``detect_fixations(samples, method="idt", px_per_degree=..., **params)`` takes a
samples table (``time`` ms, ``x``, ``y`` px) and returns a fixation table. See
:mod:`gazemodels.events.registry` for how missing samples are handled and how to
register another detector.
"""

from gazemodels.events import idt as _idt  # noqa: F401  (registers "idt")
from gazemodels.events import ivt as _ivt  # noqa: F401  (registers "ivt")
from gazemodels.events.registry import detect_fixations, get_detector, list_detectors, register_detector

__all__ = ["detect_fixations", "get_detector", "list_detectors", "register_detector"]
