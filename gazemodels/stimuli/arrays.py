"""General object-array search displays: coloured shapes on a ring or a grid.

Scanpath and search models need displays with several distinct object
appearances and a known similarity of each distractor to the target. An
:class:`Item` is a shape, a colour and a size; :func:`object_array` draws a
target among given distractors on a ring (the classic object arrays of, e.g.,
Zhang et al. 2018's IVSN "object arrays") or on a jittered grid, and returns
an :class:`ObjectArrayDisplay`: a :class:`~gazemodels.stimuli.SearchDisplay`
that also carries every distractor's label and similarity to the target.

Similarity is feature overlap: the fraction of the three features (shape,
colour, size) a distractor shares with the target, optionally weighted
(:func:`item_similarity`). This is the target-distractor similarity of
similarity theory (Duncan & Humphreys, 1989): search gets harder as it rises.
Distractor sets for the textbook cases come from :func:`distractor_pool`:
``"feature"`` distractors differ from the target in colour only and are all
alike (Treisman & Gelade, 1980: pop-out); ``"conjunction"`` distractors each
share exactly one of shape and colour with the target (half share its colour,
half its shape: conjunction search); ``"mixed"`` distractors are any other
shape-colour pairs.

References
----------
- Duncan, J., & Humphreys, G. W. (1989). Visual search and stimulus
  similarity. *Psychological Review, 96*(3), 433-458.
  https://doi.org/10.1037/0033-295X.96.3.433
- Treisman, A. M., & Gelade, G. (1980). A feature-integration theory of
  attention. *Cognitive Psychology, 12*(1), 97-136.
  https://doi.org/10.1016/0010-0285(80)90005-5
- Zhang, M., Feng, J., Ma, K. T., Lim, J. H., Zhao, Q., & Kreiman, G. (2018).
  Finding any Waldo with zero-shot invariant and efficient visual search.
  *Nature Communications, 9*, 3730. https://doi.org/10.1038/s41467-018-06217-x
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from gazemodels.stimuli._draw import Sprite, bar, blank, composite, coverage, disc, rectangle, regular_polygon
from gazemodels.stimuli.display import SearchDisplay, make_display
from gazemodels.stimuli.layout import boxes_overlap, jittered_grid, ring_positions
from gazemodels.stimuli.registry import register_stimulus_set

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (50, 90, 230),
    "yellow": (240, 210, 30),
    "magenta": (200, 50, 200),
    "cyan": (40, 200, 210),
    "orange": (245, 135, 25),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
"""Named RGB colours."""

SHAPES = ("circle", "square", "triangle", "inverted_triangle", "diamond", "plus", "x", "vertical_bar",
          "horizontal_bar", "star", "hexagon", "ring")
"""Shape names understood by :func:`item_sprite`."""

FEATURES = ("shape", "colour", "size")


@dataclass(frozen=True)
class Item:
    """One object of an array.

    Attributes
    ----------
    shape : str
        One of :data:`SHAPES`.
    colour : str
        A key of :data:`COLOURS`.
    size : float
        Side of the item's box relative to the display's ``item_deg``.
    """

    shape: str
    colour: str
    size: float = 1.0

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}; known: {SHAPES}")
        if self.colour not in COLOURS:
            raise ValueError(f"unknown colour {self.colour!r}; known: {sorted(COLOURS)}")
        if not np.isfinite(self.size) or self.size <= 0:
            raise ValueError(f"item size must be a positive number, got {self.size!r}")

    @property
    def label(self) -> str:
        """``"<colour> <shape>"``, with ``"x<size>"`` appended when the size is not 1."""
        base = f"{self.colour} {self.shape}"
        return base if self.size == 1.0 else f"{base} x{self.size:g}"


def item_similarity(a: Item, b: Item, weights: Mapping[str, float] | None = None) -> float:
    """Feature-overlap similarity of two items, in [0, 1].

    Parameters
    ----------
    a, b : Item
        The items.
    weights : mapping, optional
        Weight of ``"shape"``, ``"colour"`` and ``"size"``; default equal.

    Returns
    -------
    float
        Weighted fraction of the features on which the items agree (1 for
        identical items).

    Examples
    --------
    >>> item_similarity(Item("circle", "red"), Item("square", "red"))
    0.6666666666666666
    >>> item_similarity(Item("circle", "red"), Item("square", "red"), {"shape": 1, "colour": 1, "size": 0})
    0.5
    """
    w = {f: 1.0 for f in FEATURES}
    if weights is not None:
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown feature weight(s) {sorted(unknown)}; features are {FEATURES}")
        w.update({k: float(v) for k, v in weights.items()})
    total = sum(w.values())
    if total <= 0:
        raise ValueError("feature weights must not all be zero")
    same = {"shape": a.shape == b.shape, "colour": a.colour == b.colour, "size": a.size == b.size}
    return sum(w[f] for f in FEATURES if same[f]) / total


def distractor_pool(
    target: Item,
    kind: str,
    *,
    shapes: Sequence[str] = ("circle", "square", "triangle", "diamond"),
    colours: Sequence[str] = ("red", "green", "blue", "yellow"),
) -> list[Item]:
    """Candidate distractors of one textbook kind for a target.

    Parameters
    ----------
    target : Item
        The target.
    kind : {"feature", "conjunction", "mixed"}
        ``feature``: the target's shape in each other colour; ``conjunction``:
        items sharing exactly one of the target's shape and colour;
        ``mixed``: every other shape-colour pair.
    shapes, colours : sequence of str
        The shapes and colours to combine.

    Returns
    -------
    list of Item
        At the target's size; never the target itself.
    """
    s = target.size
    if kind == "feature":
        pool = [Item(target.shape, c, s) for c in colours if c != target.colour]
    elif kind == "conjunction":
        pool = [Item(target.shape, c, s) for c in colours if c != target.colour]
        pool += [Item(sh, target.colour, s) for sh in shapes if sh != target.shape]
    elif kind == "mixed":
        pool = [Item(sh, c, s) for sh in shapes for c in colours if (sh, c) != (target.shape, target.colour)]
    else:
        raise ValueError(f"unknown distractor kind {kind!r} (feature, conjunction or mixed)")
    if not pool:
        raise ValueError(
            f"no {kind} distractors for {target.label} with shapes {list(shapes)} and colours {list(colours)}"
        )
    return pool


def _shape_polygons(shape: str, box: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    c = (box / 2.0, box / 2.0)
    r = 0.46 * box  # half-extent of a shape filling its box with a small margin
    if shape == "circle":
        return [disc(c, r)], []
    if shape == "ring":
        return [disc(c, r)], [disc(c, 0.6 * r)]
    if shape == "square":
        k = 0.85 * r
        return [rectangle(c[0] - k, c[1] - k, c[0] + k, c[1] + k)], []
    if shape in ("triangle", "inverted_triangle"):
        # equilateral with circumradius R: width sqrt(3) R fills the box, height 1.5 R is
        # centred in it
        R = 2 * r / np.sqrt(3.0)
        up = shape == "triangle"
        centre = (c[0], c[1] + (R / 4 if up else -R / 4))
        return [regular_polygon(centre, R, 3, 90.0 if up else -90.0)], []
    if shape == "diamond":
        return [regular_polygon(c, r, 4, 90.0)], []
    if shape == "hexagon":
        return [regular_polygon(c, r, 6, 0.0)], []
    if shape == "star":
        t = np.deg2rad(90.0 + 36.0 * np.arange(10))
        rad = np.where(np.arange(10) % 2 == 0, r, 0.42 * r)
        return [np.stack([c[0] + rad * np.cos(t), c[1] - rad * np.sin(t)], axis=1)], []
    if shape in ("plus", "x"):
        a = 0.0 if shape == "plus" else 45.0
        L = 2 * r if shape == "plus" else 2 * r * 1.1
        return [bar(c, L, 0.5 * r, a), bar(c, L, 0.5 * r, a + 90.0)], []
    if shape == "vertical_bar":
        return [bar(c, 2 * r, 0.5 * r, 90.0)], []
    if shape == "horizontal_bar":
        return [bar(c, 2 * r, 0.5 * r, 0.0)], []
    raise ValueError(f"unknown shape {shape!r}; known: {SHAPES}")


@lru_cache(maxsize=256)
def item_sprite(item: Item, box_px: int) -> Sprite:
    """One array item, drawn in its colour in a square box.

    Parameters
    ----------
    item : Item
        The item.
    box_px : int
        Side of the box, px.

    Returns
    -------
    Sprite
    """
    polys, holes = _shape_polygons(item.shape, int(box_px))
    alpha = coverage((box_px, box_px), polys, holes)
    alpha.setflags(write=False)
    return Sprite(alpha, np.asarray(COLOURS[item.colour], dtype=np.float32))


@dataclass(frozen=True, eq=False)
class ObjectArrayDisplay(SearchDisplay):
    """A :class:`SearchDisplay` with the items' features and similarities.

    Attributes
    ----------
    target_item : Item or None
        The target.
    distractor_items : tuple of Item
        The distractors, in the order of ``distractor_boxes``.
    distractor_similarity : numpy.ndarray
        ``(set_size - 1,)`` :func:`item_similarity` of each distractor to the
        target.
    layout : str
        ``"ring"`` or ``"grid"``.
    """

    target_item: Item | None = None
    distractor_items: tuple[Item, ...] = field(default_factory=tuple)
    distractor_similarity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    layout: str = ""


def object_array(
    target: Item,
    distractors: Sequence[Item],
    *,
    layout: str = "ring",
    seed: int = 0,
    px_per_degree: float = 30.0,
    field_deg: float = 16.0,
    item_deg: float = 2.0,
    ring_radius_deg: float = 5.5,
    grid: tuple[int, int] = (4, 4),
    gap_deg: float = 0.25,
    background: tuple[int, int, int] | float = (128, 128, 128),
    similarity_weights: Mapping[str, float] | None = None,
    condition: str = "object_array",
) -> ObjectArrayDisplay:
    """Draw a target among distractors on a ring or a jittered grid.

    Parameters
    ----------
    target : Item
        The target.
    distractors : sequence of Item
        The distractors (``set_size - 1`` of them, in the order drawn).
    layout : {"ring", "grid"}, default "ring"
        ``ring``: items evenly spaced on a circle around the centre, starting
        at a random angle, the target at a random slot; ``grid``: distinct
        random cells of a ``grid`` with a random offset inside each cell.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.
    px_per_degree : float, default 30
        Pixels per degree.
    field_deg : float, default 16
        Side of the square image, degrees.
    item_deg : float, default 2
        Side of an item box of ``size`` 1, degrees.
    ring_radius_deg : float, default 5.5
        Radius of the ring (item centres), degrees.
    grid : (int, int), default (4, 4)
        ``(rows, cols)`` of the grid layout.
    gap_deg : float, default 0.25
        Minimum clearance between item boxes (ring) or from a box to its cell
        edges (grid), degrees.
    background : float or (int, int, int), default mid-grey
        Background grey level or RGB.
    similarity_weights : mapping, optional
        Feature weights of :func:`item_similarity`.
    condition : str, default "object_array"
        Condition name stored in the display.

    Returns
    -------
    ObjectArrayDisplay

    Raises
    ------
    ValueError
        If the items do not fit: the ring is too small for their number, the
        grid has too few cells, or a box leaves the image.
    """
    ppd = float(px_per_degree)
    rng = np.random.default_rng(seed)
    n = len(distractors) + 1
    size = max(int(round(field_deg * ppd)), 1)
    items = list(distractors)
    t = int(rng.integers(n))
    items.insert(t, target)
    box_px = [max(int(round(item_deg * it.size * ppd)), 1) for it in items]
    gap = gap_deg * ppd
    if layout == "ring":
        start = float(rng.uniform(0.0, 360.0))
        centres = ring_positions(n, centre=(size / 2.0, size / 2.0), radius=ring_radius_deg * ppd, start_deg=start)
        xy = np.rint(centres - np.asarray(box_px, dtype=float)[:, None] / 2.0).astype(np.int64)
    elif layout == "grid":
        big = max(box_px)
        xy, _ = jittered_grid(rng, n, image_size=(size, size), grid=grid, item_size=(big, big), gap=int(round(gap)))
        # centre smaller items in the largest box
        xy = xy + (big - np.asarray(box_px))[:, None] // 2
    else:
        raise ValueError(f"unknown layout {layout!r} (ring or grid)")
    boxes = np.column_stack([xy, box_px, box_px]).astype(np.int64)
    if (boxes[:, 0] < 0).any() or (boxes[:, 1] < 0).any() or (boxes[:, 0] + boxes[:, 2] > size).any() \
            or (boxes[:, 1] + boxes[:, 3] > size).any():
        raise ValueError(f"items leave the {field_deg:g} deg image; shrink ring_radius_deg or item_deg")
    if layout == "ring" and boxes_overlap(boxes, gap=gap):
        raise ValueError(
            f"{n} items of {item_deg:g} deg do not fit on a ring of radius {ring_radius_deg:g} deg "
            f"with {gap_deg:g} deg between them"
        )
    image = blank(size, size, background)
    for it, b, (x, y) in zip(items, box_px, xy):
        composite(image, item_sprite(it, b), int(x), int(y))
    dis = tuple(it for k, it in enumerate(items) if k != t)
    return make_display(
        image, boxes, t, condition=condition, seed=seed, px_per_degree=ppd,
        labels=[it.label for it in items], display_cls=ObjectArrayDisplay,
        target_item=target, distractor_items=dis,
        distractor_similarity=np.array([item_similarity(target, d, similarity_weights) for d in dis]),
        layout=layout,
    )


def random_object_array(
    set_size: int,
    kind: str = "conjunction",
    *,
    seed: int = 0,
    shapes: Sequence[str] = ("circle", "square", "triangle", "diamond"),
    colours: Sequence[str] = ("red", "green", "blue", "yellow"),
    **kwargs,
) -> ObjectArrayDisplay:
    """A random target and ``set_size - 1`` distractors of one kind.

    Parameters
    ----------
    set_size : int
        Items including the target.
    kind : {"feature", "conjunction", "mixed"}, default "conjunction"
        Distractor kind (:func:`distractor_pool`). ``feature`` distractors are
        all one item (a single odd colour); ``conjunction`` distractors
        alternate between sharing the target's colour and its shape;
        ``mixed`` distractors are drawn from every other shape-colour pair,
        each as evenly as possible.
    seed : int, default 0
        Seed; the same seed gives the same display.
    shapes, colours : sequence of str
        The shapes and colours to use.
    **kwargs
        Passed to :func:`object_array` (``layout``, ``px_per_degree``, ...).

    Returns
    -------
    ObjectArrayDisplay
    """
    if set_size < 1:
        raise ValueError(f"set_size must be at least 1, got {set_size}")
    rng = np.random.default_rng(seed)
    target = Item(str(rng.choice(list(shapes))), str(rng.choice(list(colours))))
    n = set_size - 1
    if kind == "feature":
        pool = distractor_pool(target, "feature", shapes=shapes, colours=colours)
        dis = [pool[int(rng.integers(len(pool)))]] * n
    elif kind == "conjunction":
        same_shape = [Item(target.shape, c) for c in colours if c != target.colour]
        same_colour = [Item(s, target.colour) for s in shapes if s != target.shape]
        if not same_shape or not same_colour:
            raise ValueError("conjunction search needs at least two shapes and two colours")
        first = int(rng.integers(2))
        dis = []
        for k in range(n):
            group = same_shape if (k + first) % 2 == 0 else same_colour
            dis.append(group[int(rng.integers(len(group)))])
    elif kind == "mixed":
        pool = distractor_pool(target, "mixed", shapes=shapes, colours=colours)
        reps = -(-n // len(pool)) if n else 0
        order = np.concatenate([rng.permutation(len(pool)) for _ in range(reps)])[:n] if n else []
        dis = [pool[int(k)] for k in order]
    else:
        raise ValueError(f"unknown distractor kind {kind!r} (feature, conjunction or mixed)")
    sub = int(rng.integers(2**31 - 1))
    return object_array(target, dis, seed=sub, condition=kwargs.pop("condition", kind), **kwargs)


OBJECT_ARRAY_KINDS = ("feature", "conjunction", "mixed")


@register_stimulus_set(
    "object_array", conditions=OBJECT_ARRAY_KINDS, set_sizes=(3, 6, 9), n_per_set_size=30,
    title="Coloured-shape object arrays on a ring: feature, conjunction and mixed search",
)
def render_object_array(condition: str, set_size: int, *, seed: int, px_per_degree: float = 30.0) -> SearchDisplay:
    """One ring object array of the registered ``object_array`` set.

    Parameters
    ----------
    condition : {"feature", "conjunction", "mixed"}
        Distractor kind.
    set_size : int
        Items including the target.
    seed : int
        Seed.
    px_per_degree : float, default 30
        Pixels per degree.

    Returns
    -------
    SearchDisplay
        An :class:`ObjectArrayDisplay`.
    """
    return random_object_array(set_size, condition, seed=seed, px_per_degree=px_per_degree, layout="ring")
