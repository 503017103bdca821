"""Experiment 1 of Gupta et al. (2021): curvature, a line among curves vs a curve among lines.

Conditions (names of ``human_rt_by_setsize.json``; the target comes first):

``line_in_curves``
    a straight line target among curved distractors: **hard** for humans
    (7.6 ms/item);
``curve_in_lines``
    a curved target among straight lines: **easy** (0.8 ms/item).

Set sizes 8, 16, 32 (target included), 30 displays per set size.

Sources
-------
- Treisman, A., & Gormican, S. (1988). Feature analysis in early vision:
  Evidence from search asymmetries. *Psychological Review, 95*(1), 15-48.
  https://doi.org/10.1037/0033-295X.95.1.15 -- the original finding that a
  curve pops out among straight lines while a line among curves needs serial
  search.
- Wolfe, J. M., Yee, A., & Friedman-Hill, S. R. (1992). Curvature is a basic
  feature for visual search tasks. *Perception, 21*(4), 465-480.
  https://doi.org/10.1068/p210465 -- its Experiment 1 replicates Treisman and
  Gormican. Gupta et al. cite it first among the asymmetry studies (then
  Kleffner and Ramachandran, Wolfe and DiMase, and Wolfe et al. 1992 on
  orientation: the order of their six experiments), so we take it to be the
  source of the human RTs at set sizes 8, 16, 32; we could not read Gupta et
  al.'s methods text to confirm which figure they transcribed.
- Geometry: the upstream script ``extras/experiment_stimuli_generators/
  gen_curvature.ipynb`` of kreimanlab/VisualSearchAsymmetry (commit 2e41a9e),
  followed here in degrees: a 11.3 x 11.3 deg field at 30 px/deg (339 px), a
  6 x 6 grid (cells of 1.88 deg), 1.6 deg item boxes, white items on black.
  The curve is an arc of radius 1 deg, stroke 1/6 deg, spanning 1.3 rad (chord
  1.21 deg, depth 0.20 deg), centred in its box; the line is 1.2 deg long and
  0.2 deg thick (1/6 + 1/30 deg upstream, which roughly equates its area with
  the curve's). Both come in the four upstream orientations, rotated by -45,
  -90, -135 and 180 deg (counter-clockwise on screen): the line at 45 deg
  either way, vertical and horizontal, the curve likewise. Orientations are
  balanced over the items of a display, as upstream cycles item ``i`` through
  orientation ``i % 4``.

Not confirmed: the physical sizes of the original displays (the upstream
degrees are Gupta et al.'s choice; Wolfe et al. 1992 give theirs in a paper we
could not read in full), and whether the original curves had the same
orientations.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gazemodels.stimuli._draw import Sprite, arc_band, bar, coverage, rotate
from gazemodels.stimuli._grid import GridGeometry, balanced_choice, grid_display
from gazemodels.stimuli.display import SearchDisplay
from gazemodels.stimuli.registry import register_stimulus_set

GEOMETRY = GridGeometry(field_deg=11.3, grid=(6, 6), item_deg=1.6, background=0.0)
"""Field, grid, item box and background (black) of the curvature displays."""

FOREGROUND = 255.0
"""Grey level of the items (white)."""

CURVE_RADIUS_DEG = 1.0
CURVE_STROKE_DEG = 1.0 / 6.0
CURVE_SPAN_RAD = 1.3
LINE_LENGTH_DEG = 1.2
LINE_STROKE_DEG = 1.0 / 6.0 + 1.0 / 30.0

ORIENTATIONS = (-45.0, -90.0, -135.0, 180.0)
"""Rotations of both shapes, degrees counter-clockwise on screen (upstream values)."""

CONDITIONS = ("line_in_curves", "curve_in_lines")


def curve_polygon(px_per_degree: float, angle_deg: float) -> tuple[int, np.ndarray]:
    """The curved item as a polygon in its box.

    Parameters
    ----------
    px_per_degree : float
        Pixels per degree.
    angle_deg : float
        Rotation, counter-clockwise on screen.

    Returns
    -------
    box : int
        Side of the item box, px.
    polygon : numpy.ndarray
        ``(k, 2)`` vertices in box pixels.
    """
    box = GEOMETRY.item_px(px_per_degree)
    r = CURVE_RADIUS_DEG * px_per_degree
    half = np.rad2deg(CURVE_SPAN_RAD) / 2.0
    # upstream centring: the band between the chord (y = cy + r cos(span/2)) and the arc's
    # lowest point (y = cy + r) is centred vertically in the box
    cy = (box - (r * np.cos(CURVE_SPAN_RAD / 2) + r)) / 2.0
    poly = arc_band((box / 2.0, cy), r, CURVE_STROKE_DEG * px_per_degree, 90.0 - half, 90.0 + half)
    return box, rotate(poly, angle_deg, (box / 2.0, box / 2.0))


@lru_cache(maxsize=64)
def item_sprite(shape: str, angle_deg: float, px_per_degree: float) -> Sprite:
    """One curvature item.

    Parameters
    ----------
    shape : {"line", "curve"}
        Which item.
    angle_deg : float
        Rotation, counter-clockwise on screen (one of :data:`ORIENTATIONS`
        for the experiment).
    px_per_degree : float
        Pixels per degree.

    Returns
    -------
    Sprite
    """
    box = GEOMETRY.item_px(px_per_degree)
    if shape == "curve":
        _, poly = curve_polygon(px_per_degree, angle_deg)
    elif shape == "line":
        poly = bar((box / 2.0, box / 2.0), LINE_LENGTH_DEG * px_per_degree,
                   LINE_STROKE_DEG * px_per_degree, angle_deg)
    else:
        raise ValueError(f"curvature: unknown shape {shape!r} (line or curve)")
    alpha = coverage((box, box), [poly])
    alpha.setflags(write=False)
    return Sprite(alpha, FOREGROUND)


@register_stimulus_set(
    "curvature", conditions=CONDITIONS, set_sizes=(8, 16, 32), n_per_set_size=30,
    title="Curvature (Exp. 1): line among curves / curve among lines",
)
def render(condition: str, set_size: int, *, seed: int, px_per_degree: float = 30.0) -> SearchDisplay:
    """One curvature display.

    Parameters
    ----------
    condition : {"line_in_curves", "curve_in_lines"}
        ``line_in_curves``: a line target among curves; ``curve_in_lines``: a
        curve target among lines.
    set_size : int
        Items including the target (at most 36).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    px_per_degree : float, default 30
        Pixels per degree.

    Returns
    -------
    SearchDisplay
        Labels are ``"<shape>@<rotation>"``.
    """
    target_shape, distractor_shape = ("line", "curve") if condition == "line_in_curves" else ("curve", "line")
    rng = np.random.default_rng(seed)
    orient = balanced_choice(rng, len(ORIENTATIONS), set_size)

    def item(shape: str, k: int) -> tuple[Sprite, str]:
        a = ORIENTATIONS[int(k)]
        return item_sprite(shape, a, float(px_per_degree)), f"{shape}@{a:g}"

    return grid_display(
        rng, GEOMETRY,
        target=item(target_shape, orient[0]),
        distractors=[item(distractor_shape, k) for k in orient[1:]],
        condition=condition, seed=seed, px_per_degree=px_per_degree,
    )
