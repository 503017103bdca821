"""Experiments 5 and 6 of Gupta et al. (2021): orientation, homogeneous and heterogeneous distractors.

Items are bars. Tilts are in degrees **clockwise from vertical** (top to the
right); ``t0`` is a vertical target and ``t20`` a target tilted 20 deg
clockwise. Conditions (names of ``human_rt_by_setsize.json``, named after the
target):

Experiment 5, ``orientation_homo`` (all distractors alike):

``homo_t0``
    a vertical target among bars tilted 20 deg: **hard** for humans
    (9.9 ms/item);
``homo_t20``
    a 20 deg target among vertical bars: **easy** (2.4 ms/item).

Experiment 6, ``orientation_hetero`` (mixed distractor tilts):

``hetero_t20``
    a 20 deg target among bars of tilts 0, -20, +-40, +-60, +-80: **hard**
    (71 ms/item);
``hetero_t0``
    a vertical target among bars of tilts +-20, +-40, +-60, +-80: **easy**
    (24 ms/item). The vertical target is the only "steep, untilted" item, so
    it can be found by category.

Set sizes 1, 4, 8, 12 (target included), 30 displays per set size. In the
heterogeneous displays the distractors use the eight tilts as evenly as
possible (each once before any repeats), as upstream.

Sources
-------
- Wolfe, J. M., Friedman-Hill, S. R., Stewart, M. I., & O'Connell, K. M.
  (1992). The role of categorization in visual search for orientation.
  *Journal of Experimental Psychology: Human Perception and Performance,
  18*(1), 34-49. https://doi.org/10.1037/0096-1523.18.1.34 -- search for one
  orientation is fast among homogeneous distractors and can become inefficient
  among heterogeneous ones, unless the target is categorically unique (e.g.
  the only steep or only untilted item). Gupta et al. (2021) cite it for both
  orientation experiments (their upstream folder is named ``categorization``)
  and their human RTs (set sizes 1, 4, 8, 12) are read off its figures.
  Foster and Ward (1991, Proc. R. Soc. B) studied related asymmetries in
  oriented-line detection; as far as we could tell Gupta et al. take no data
  from it, and neither do we.
- Geometry: ``extras/experiment_stimuli_generators/gen_categorization.ipynb``
  of kreimanlab/VisualSearchAsymmetry (commit 2e41a9e): a 11.3 x 11.3 deg
  field at 30 px/deg (339 px), a 4 x 4 grid (cells of 2.83 deg), bars 2 deg
  long and 0.3 deg wide in 2.3 deg boxes, black on white. Upstream rotates a
  vertical bar with ``cv2.getRotationMatrix2D`` by 0 and -20 deg for the
  targets and by -80, -60, -40, 20, 40, 60, 80 deg for the heterogeneous
  distractors (counter-clockwise positive), i.e. clockwise tilts 0 and 20, and
  80, 60, 40, -20, -40, -60, -80; each heterogeneous condition adds the other
  target's tilt to its distractor pool. A set size of 1 is the target alone.

Not confirmed: the bar sizes and field of the original study (Gupta et al.'s
values are used), and which of the original experiments each human RT curve
was read from.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gazemodels.stimuli._draw import Sprite, bar, coverage
from gazemodels.stimuli._grid import GridGeometry, balanced_choice, grid_display
from gazemodels.stimuli.display import SearchDisplay
from gazemodels.stimuli.registry import register_stimulus_set

GEOMETRY = GridGeometry(field_deg=11.3, grid=(4, 4), item_deg=2.3, background=255.0)
"""Field, grid, item box and background (white) of the orientation displays."""

FOREGROUND = 0.0
"""Grey level of the bars (black)."""

BAR_LENGTH_DEG = 2.0
BAR_WIDTH_DEG = 0.3

TARGET_TILTS = {"t0": 0.0, "t20": 20.0}
"""Target tilts, degrees clockwise from vertical."""

HETERO_TILTS = (80.0, 60.0, 40.0, -20.0, -40.0, -60.0, -80.0)
"""Heterogeneous distractor tilts before the other target's tilt is added (upstream order)."""

HOMO_CONDITIONS = ("homo_t0", "homo_t20")
HETERO_CONDITIONS = ("hetero_t20", "hetero_t0")


@lru_cache(maxsize=64)
def bar_sprite(tilt_deg: float, px_per_degree: float) -> Sprite:
    """A bar tilted clockwise from vertical.

    Parameters
    ----------
    tilt_deg : float
        Degrees clockwise from vertical (top to the right).
    px_per_degree : float
        Pixels per degree.

    Returns
    -------
    Sprite
    """
    box = GEOMETRY.item_px(px_per_degree)
    poly = bar((box / 2.0, box / 2.0), BAR_LENGTH_DEG * px_per_degree, BAR_WIDTH_DEG * px_per_degree,
               90.0 - tilt_deg)
    alpha = coverage((box, box), [poly])
    alpha.setflags(write=False)
    return Sprite(alpha, FOREGROUND)


def distractor_tilts(condition: str) -> tuple[float, ...]:
    """The distractor tilts a condition draws from.

    Parameters
    ----------
    condition : str
        One of ``homo_t0, homo_t20, hetero_t0, hetero_t20``.

    Returns
    -------
    tuple of float
        Degrees clockwise from vertical.
    """
    kind, target = condition.split("_")
    other = TARGET_TILTS["t20" if target == "t0" else "t0"]
    if kind == "homo":
        return (other,)
    return HETERO_TILTS + (other,)


def _render(condition: str, set_size: int, seed: int, px_per_degree: float) -> SearchDisplay:
    tilt = TARGET_TILTS[condition.split("_")[1]]
    pool = distractor_tilts(condition)
    rng = np.random.default_rng(seed)
    ppd = float(px_per_degree)
    which = balanced_choice(rng, len(pool), set_size - 1)

    def item(t: float) -> tuple[Sprite, str]:
        return bar_sprite(float(t), ppd), f"bar@{t:g}"

    return grid_display(
        rng, GEOMETRY, target=item(tilt), distractors=[item(pool[int(k)]) for k in which],
        condition=condition, seed=seed, px_per_degree=ppd,
    )


@register_stimulus_set(
    "orientation_homo", conditions=HOMO_CONDITIONS, set_sizes=(1, 4, 8, 12), n_per_set_size=30,
    title="Orientation, homogeneous distractors (Exp. 5): vertical among 20 deg / 20 deg among vertical",
)
def render_homo(condition: str, set_size: int, *, seed: int, px_per_degree: float = 30.0) -> SearchDisplay:
    """One orientation display with homogeneous distractors.

    Parameters
    ----------
    condition : {"homo_t0", "homo_t20"}
        ``homo_t0``: a vertical target among 20 deg bars; ``homo_t20``: a
        20 deg target among vertical bars.
    set_size : int
        Items including the target (at most 16).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    px_per_degree : float, default 30
        Pixels per degree.

    Returns
    -------
    SearchDisplay
        Labels are ``"bar@<tilt clockwise from vertical>"``.
    """
    return _render(condition, set_size, seed, px_per_degree)


@register_stimulus_set(
    "orientation_hetero", conditions=HETERO_CONDITIONS, set_sizes=(1, 4, 8, 12), n_per_set_size=30,
    title="Orientation, heterogeneous distractors (Exp. 6): 20 deg / vertical among mixed tilts",
)
def render_hetero(condition: str, set_size: int, *, seed: int, px_per_degree: float = 30.0) -> SearchDisplay:
    """One orientation display with heterogeneous distractors.

    Parameters
    ----------
    condition : {"hetero_t20", "hetero_t0"}
        ``hetero_t20``: a 20 deg target among tilts 0, -20, +-40, +-60, +-80;
        ``hetero_t0``: a vertical target among tilts +-20, +-40, +-60, +-80.
    set_size : int
        Items including the target (at most 16).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    px_per_degree : float, default 30
        Pixels per degree.

    Returns
    -------
    SearchDisplay
        Labels are ``"bar@<tilt clockwise from vertical>"``.
    """
    return _render(condition, set_size, seed, px_per_degree)
