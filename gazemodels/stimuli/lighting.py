"""Experiment 2 of Gupta et al. (2021): lighting direction, shaded discs.

Every item is a disc shaded by a linear luminance ramp from black on one side
to white on the other, which reads as a bump or a dent lit from the white side.

Conditions (names of ``human_rt_by_setsize.json``):

``top_down``
    a disc lit from above (white at the top) among discs lit from below
    (white at the bottom): **easy** for humans (4.2 ms/item);
``left_right``
    a disc lit from the left (white on the left) among discs lit from the
    right: **hard** (23.9 ms/item).

The names give the axis of the shading, not the target: in each condition the
target is the upstream ``target`` image and the distractors the upstream
``distractor`` image (see below). Set sizes 1, 6, 12 (target included), 30
displays per set size.

Sources
-------
- Kleffner, D. A., & Ramachandran, V. S. (1992). On the perception of shape
  from shading. *Perception & Psychophysics, 52*(1), 18-36.
  https://doi.org/10.3758/BF03206757 -- detection time of a shaded disc among
  discs shaded the opposite way does not grow with set size when the shading
  runs top-bottom, but does when it runs left-right (their abstract: "neither
  left-right differences nor step changes in luminance resulted in
  pop-out"). Gupta et al. (2021) take the human RTs from this study.
- Geometry: ``extras/experiment_stimuli_generators/gen_lighting_dir.ipynb`` of
  kreimanlab/VisualSearchAsymmetry (commit 2e41a9e): a 6.6 x 6.6 deg field at
  30 px/deg (198 px), a 4 x 4 grid (cells of 1.65 deg), discs 1.04 deg across,
  background grey level 27, ramp from 0 to 255. The base disc is dark at the
  top and bright at the bottom; ``top_down`` takes its vertical flip as target
  and itself as distractor; ``left_right`` takes the left-right flip of its
  transpose (bright on the left) as target and its transpose (bright on the
  right) as distractor. Upstream quantises the ramp into 16 steps of 2 px;
  here it is continuous and the disc edge anti-aliased.

Not confirmed: the original background luminance and disc size (Kleffner and
Ramachandran's displays are described in a paper we could only read the
abstract of; Ramachandran's shading demonstrations are usually reproduced on a
mid-grey background, upstream uses a near-black one, which we keep so that the
displays match the ones eccNET was run on).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gazemodels.stimuli._draw import Sprite, coverage, disc
from gazemodels.stimuli._grid import GridGeometry, grid_display
from gazemodels.stimuli.display import SearchDisplay
from gazemodels.stimuli.registry import register_stimulus_set

GEOMETRY = GridGeometry(field_deg=6.6, grid=(4, 4), item_deg=1.04, background=27.0)
"""Field, grid, disc box and background grey level of the lighting displays."""

CONDITIONS = ("left_right", "top_down")

LIT_FROM = ("above", "below", "left", "right")

# (target, distractor) light directions of each condition, from the upstream script
_PAIRS = {"top_down": ("above", "below"), "left_right": ("left", "right")}

# the upstream base disc is bright at the bottom (lit from below); the others are
# its flips and transposes, exactly as upstream builds them
_FROM_BASE = {"below": "identity", "above": "flipud", "right": "transpose", "left": "transpose_fliplr"}


@lru_cache(maxsize=32)
def disc_sprite(lit_from: str, px_per_degree: float) -> Sprite:
    """A shaded disc lit from one side.

    Parameters
    ----------
    lit_from : {"above", "below", "left", "right"}
        The bright side.
    px_per_degree : float
        Pixels per degree.

    Returns
    -------
    Sprite
        Its ``value`` is the ramp (0 on the dark side, 255 on the bright side).
    """
    if lit_from not in _FROM_BASE:
        raise ValueError(f"lighting: lit_from must be one of {LIT_FROM}, got {lit_from!r}")
    box = GEOMETRY.item_px(px_per_degree)
    alpha = coverage((box, box), [disc((box / 2.0, box / 2.0), box / 2.0)])
    rows = (np.arange(box, dtype=np.float32) + 0.5) / box  # 0 at the top edge, 1 at the bottom
    ramp = np.repeat((255.0 * rows)[:, None], box, axis=1).astype(np.float32)
    base = Sprite(alpha, ramp)  # bright at the bottom: lit from below
    s = base.transformed(_FROM_BASE[lit_from])
    s.alpha.setflags(write=False)
    np.asarray(s.value).setflags(write=False)
    return s


@register_stimulus_set(
    "lighting_direction", conditions=CONDITIONS, set_sizes=(1, 6, 12), n_per_set_size=30,
    title="Lighting direction (Exp. 2): shaded discs lit left/right vs top/bottom",
)
def render(condition: str, set_size: int, *, seed: int, px_per_degree: float = 30.0) -> SearchDisplay:
    """One lighting-direction display.

    Parameters
    ----------
    condition : {"left_right", "top_down"}
        ``top_down``: a disc lit from above among discs lit from below;
        ``left_right``: a disc lit from the left among discs lit from the right.
    set_size : int
        Items including the target (at most 16).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    px_per_degree : float, default 30
        Pixels per degree.

    Returns
    -------
    SearchDisplay
        Labels are ``"disc@lit_<side>"``.
    """
    tgt, dis = _PAIRS[condition]
    rng = np.random.default_rng(seed)
    ppd = float(px_per_degree)
    return grid_display(
        rng, GEOMETRY,
        target=(disc_sprite(tgt, ppd), f"disc@lit_{tgt}"),
        distractors=[(disc_sprite(dis, ppd), f"disc@lit_{dis}")] * (set_size - 1),
        condition=condition, seed=seed, px_per_degree=ppd,
    )
