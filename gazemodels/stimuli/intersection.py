"""Experiments 3 and 4 of Gupta et al. (2021): intersections (cross vs non-cross) and T vs L.

Experiment 3, ``intersection`` (names of ``human_rt_by_setsize.json``):

``cross``
    a cross target (a long bar crossed by a bar near one end) among
    non-crosses: **hard** for humans (96 ms/item);
``non_cross``
    a non-cross target (the long bar with two half-bars meeting it from
    opposite sides at different heights: two T-junctions, no intersection)
    among crosses: **easy** (45 ms/item).

Experiment 4, ``t_vs_l``:

``Ls``
    an L target among Ts: **hard** (33 ms/item);
``Ts``
    a T target among Ls: **easy** (14 ms/item).

Each condition is named after its **target**. Set sizes 3, 6, 9 (target
included), 36 displays per set size as upstream.

Sources
-------
- Wolfe, J. M., & DiMase, J. S. (2003). Do intersections serve as basic
  features in visual search? *Perception, 32*(6), 645-656.
  https://doi.org/10.1068/p3414 -- with stimuli that equate line length and
  the number of terminators, search for the presence or for the absence of an
  intersection is inefficient both ways (their abstract). Gupta et al. (2021)
  take both experiments' human RTs from this study, as linear fits in the set
  size ``n``: ``541 + 96 n`` (cross), ``510 + 45 n`` (non-cross),
  ``474 + 33 n`` (L), ``499 + 14 n`` (T).
- Geometry: ``extras/experiment_stimuli_generators/gen_intersection.ipynb`` of
  kreimanlab/VisualSearchAsymmetry (commit 2e41a9e): a 20.5 x 20.5 deg field
  at 30 px/deg (615 px), a 3 x 3 grid (cells of 6.83 deg), items of
  5.5 x 5.5 deg in a 5.9 deg box (0.2 deg margin), strokes 0.55 deg, black on
  white. With ``w = 0.55`` deg and coordinates in the 5.5 deg square: the
  cross is a full-height bar at the centre and a full-width bar at
  ``y in [3w, 4w]``; the non-cross the same long bar, a left half-bar at
  ``[3w, 4w]`` and a right half-bar at ``[6w, 7w]``; the L a full-height bar
  on the left and a full-width bar at the bottom; the T a full-height bar at
  the centre and a full-width bar at the top. Each shape is drawn in one of
  four variants per item (as is, flipped top-bottom, transposed, transposed
  and flipped left-right), independently at random as upstream.

Not confirmed: Wolfe and DiMase's exact item dimensions and whether their T/L
experiment used these proportions (we could read only the abstract); the
proportions are Gupta et al.'s.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gazemodels.stimuli._draw import Sprite, coverage, rectangle
from gazemodels.stimuli._grid import GridGeometry, grid_display
from gazemodels.stimuli.display import SearchDisplay
from gazemodels.stimuli.registry import register_stimulus_set

GEOMETRY = GridGeometry(field_deg=20.5, grid=(3, 3), item_deg=5.9, background=255.0)
"""Field, grid, item box and background (white) of the intersection and T/L displays."""

FOREGROUND = 0.0
"""Grey level of the strokes (black)."""

SIZE_DEG = 5.5
STROKE_DEG = 0.55
MARGIN_DEG = (GEOMETRY.item_deg - SIZE_DEG) / 2.0

VARIANTS = ("identity", "flipud", "transpose", "transpose_fliplr")
"""The four variants of each shape, as upstream builds them."""

SHAPES = ("cross", "non_cross", "L", "T")

INTERSECTION_CONDITIONS = ("cross", "non_cross")
T_L_CONDITIONS = ("Ls", "Ts")

# condition -> (target shape, distractor shape)
_PAIRS = {"cross": ("cross", "non_cross"), "non_cross": ("non_cross", "cross"),
          "Ls": ("L", "T"), "Ts": ("T", "L")}


def _bars(shape: str) -> list[tuple[float, float, float, float]]:
    """Rectangles ``(x0, y0, x1, y1)`` of a shape, in units of the stroke width."""
    n = SIZE_DEG / STROKE_DEG  # 10 strokes across
    mid0, mid1 = (n - 1) / 2.0, (n + 1) / 2.0
    if shape == "cross":
        return [(mid0, 0, mid1, n), (0, 3, n, 4)]
    if shape == "non_cross":
        return [(mid0, 0, mid1, n), (0, 3, n / 2, 4), (n / 2, 6, n, 7)]
    if shape == "L":
        return [(0, 0, 1, n), (0, n - 1, n, n)]
    if shape == "T":
        return [(mid0, 0, mid1, n), (0, 0, n, 1)]
    raise ValueError(f"intersection: unknown shape {shape!r}; known: {SHAPES}")


@lru_cache(maxsize=64)
def item_sprite(shape: str, variant: str, px_per_degree: float) -> Sprite:
    """One intersection or T/L item.

    Parameters
    ----------
    shape : {"cross", "non_cross", "L", "T"}
        Which item.
    variant : {"identity", "flipud", "transpose", "transpose_fliplr"}
        Which of the four upstream variants.
    px_per_degree : float
        Pixels per degree.

    Returns
    -------
    Sprite
    """
    box = GEOMETRY.item_px(px_per_degree)
    u = STROKE_DEG * px_per_degree
    m = (box - SIZE_DEG * px_per_degree) / 2.0
    polys = [rectangle(m + x0 * u, m + y0 * u, m + x1 * u, m + y1 * u) for x0, y0, x1, y1 in _bars(shape)]
    s = Sprite(coverage((box, box), polys), FOREGROUND).transformed(variant)
    s.alpha.setflags(write=False)
    return s


def _render(condition: str, set_size: int, seed: int, px_per_degree: float) -> SearchDisplay:
    tgt, dis = _PAIRS[condition]
    rng = np.random.default_rng(seed)
    ppd = float(px_per_degree)
    var = rng.integers(len(VARIANTS), size=set_size)

    def item(shape: str, k: int) -> tuple[Sprite, str]:
        v = VARIANTS[int(k)]
        return item_sprite(shape, v, ppd), f"{shape}@{v}"

    return grid_display(
        rng, GEOMETRY, target=item(tgt, var[0]), distractors=[item(dis, k) for k in var[1:]],
        condition=condition, seed=seed, px_per_degree=ppd,
    )


@register_stimulus_set(
    "intersection", conditions=INTERSECTION_CONDITIONS, set_sizes=(3, 6, 9), n_per_set_size=36,
    title="Intersection (Exp. 3): cross among non-crosses / non-cross among crosses",
)
def render_intersection(condition: str, set_size: int, *, seed: int, px_per_degree: float = 30.0) -> SearchDisplay:
    """One intersection display.

    Parameters
    ----------
    condition : {"cross", "non_cross"}
        The target's shape; the distractors are the other one.
    set_size : int
        Items including the target (at most 9).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    px_per_degree : float, default 30
        Pixels per degree.

    Returns
    -------
    SearchDisplay
        Labels are ``"<shape>@<variant>"``.
    """
    return _render(condition, set_size, seed, px_per_degree)


@register_stimulus_set(
    "t_vs_l", conditions=T_L_CONDITIONS, set_sizes=(3, 6, 9), n_per_set_size=36,
    title="T and L (Exp. 4): L among Ts / T among Ls",
)
def render_t_vs_l(condition: str, set_size: int, *, seed: int, px_per_degree: float = 30.0) -> SearchDisplay:
    """One T-vs-L display.

    Parameters
    ----------
    condition : {"Ls", "Ts"}
        ``Ls``: an L target among Ts; ``Ts``: a T target among Ls.
    set_size : int
        Items including the target (at most 9).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    px_per_degree : float, default 30
        Pixels per degree.

    Returns
    -------
    SearchDisplay
        Labels are ``"<shape>@<variant>"``.
    """
    return _render(condition, set_size, seed, px_per_degree)
