"""Column names and units of the two tables that cross every module boundary.

A **fixation table** is a :class:`pandas.DataFrame` with one row per fixation:

==============  ========  ==========================================================
column          unit      meaning
==============  ========  ==========================================================
``stimulus``    --        stimulus identifier (usually the image file name)
``subject``     --        observer identifier
``trial``       --        trial identifier within (stimulus, subject); 0 if unique
``fix_index``   --        0-based position of the fixation within its scanpath
``x``           px        horizontal position in stimulus pixels, origin top-left
``y``           px        vertical position in stimulus pixels, origin top-left,
                          increasing downwards
``t_start``     ms        fixation onset from trial onset; NaN where unknown
``duration``    ms        fixation duration; NaN where unknown
==============  ========  ==========================================================

Optional columns with documented meaning: ``task`` (search target category or
instruction), ``target`` (target identifier), ``condition`` (e.g. ``present``),
``correct`` (bool), ``rt`` (ms, per trial, repeated on each row), ``object``
(label of the object or AOI fixated), ``x_deg``/``y_deg`` (degrees of visual
angle from the stimulus centre, positive right and **up**), ``found`` (bool, the
target was fixated at this fixation).

A **stimulus table** has one row per stimulus:

=================  ========  =====================================================
column             unit      meaning
=================  ========  =====================================================
``stimulus``       --        identifier, matches the fixation table
``path``           --        image file path; ``None``/NaN when the file is absent
``width``          px        stimulus width
``height``         px        stimulus height
``px_per_degree``  px/deg    pixels per degree of visual angle at the screen centre
=================  ========  =====================================================

Optional: ``target_bbox`` (tuple ``(x, y, w, h)`` in px, top-left origin),
``objects`` (list of ``(x, y, w, h)`` boxes), ``screen_width_cm``,
``distance_cm``.

Object or AOI boxes for :func:`gazemodels.data.map_to_objects` come as a tidy
**object table** (``stimulus, object, x, y, w, h``, px, top-left corner) or a
mapping ``stimulus -> list of boxes``; see :mod:`gazemodels.data.aoi`.
"""

from __future__ import annotations

FIXATION_COLUMNS: tuple[str, ...] = (
    "stimulus",
    "subject",
    "trial",
    "fix_index",
    "x",
    "y",
    "t_start",
    "duration",
)
"""Required columns of a fixation table, in canonical order."""

SCANPATH_KEYS: tuple[str, ...] = ("stimulus", "subject", "trial")
"""Columns that identify one scanpath."""

OPTIONAL_FIXATION_COLUMNS: tuple[str, ...] = (
    "task",
    "target",
    "condition",
    "correct",
    "rt",
    "object",
    "x_deg",
    "y_deg",
    "found",
)

STIMULUS_COLUMNS: tuple[str, ...] = ("stimulus", "path", "width", "height", "px_per_degree")
"""Required columns of a stimulus table."""

OPTIONAL_STIMULUS_COLUMNS: tuple[str, ...] = (
    "target_bbox",
    "objects",
    "screen_width_cm",
    "distance_cm",
)
