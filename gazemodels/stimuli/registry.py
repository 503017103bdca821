"""Registry of seeded stimulus sets and the driver that generates them.

A stimulus set is a render function registered with
:func:`register_stimulus_set`::

    @register_stimulus_set("curvature", conditions=("line_in_curves", "curve_in_lines"),
                           set_sizes=(8, 16, 32), n_per_set_size=30)
    def render(condition, set_size, *, seed, px_per_degree) -> SearchDisplay

``render`` draws **one** display from its own seed with
``numpy.random.default_rng(seed)``. :meth:`StimulusSet.iter_displays` derives
one seed per display from the set's base seed, the experiment name, the
condition, the set size and the display's index
(:class:`numpy.random.SeedSequence`), so every display can be regenerated alone
from the ``seed`` stored in it, and asking for fewer conditions or set sizes
does not change the displays that remain.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from gazemodels.stimuli.display import SearchDisplay

Renderer = Callable[..., SearchDisplay]
_SETS: dict[str, StimulusSet] = {}

DEFAULT_PX_PER_DEGREE = 30.0
"""Pixels per degree of the eccNET stimuli (``deg2px = 30`` in every upstream script)."""


@dataclass(frozen=True)
class StimulusSet:
    """A registered family of search displays.

    Attributes
    ----------
    name : str
        Registry name.
    conditions : tuple of str
        Condition names; for the asymmetry experiments ``(hard, easy)`` for
        humans, the names of ``human_rt_by_setsize.json``.
    set_sizes : tuple of int
        Set sizes (target included).
    n_per_set_size : int
        Displays per condition and set size by default.
    render_fn : callable
        ``render(condition, set_size, *, seed, px_per_degree) -> SearchDisplay``.
    title : str
        Human-readable name.
    """

    name: str
    conditions: tuple[str, ...]
    set_sizes: tuple[int, ...]
    n_per_set_size: int
    render_fn: Renderer
    title: str = ""

    def render(
        self, condition: str, set_size: int, *, seed: int, px_per_degree: float = DEFAULT_PX_PER_DEGREE
    ) -> SearchDisplay:
        """One display of this set from its own seed.

        Parameters
        ----------
        condition : str
            One of :attr:`conditions`.
        set_size : int
            Number of items, the target included.
        seed : int
            Seed of this display (``display.seed``).
        px_per_degree : float, default 30
            Pixels per degree.

        Returns
        -------
        SearchDisplay
        """
        if condition not in self.conditions:
            raise ValueError(f"{self.name}: unknown condition {condition!r}; known: {list(self.conditions)}")
        if int(set_size) < 1:
            raise ValueError(f"{self.name}: set_size must be at least 1, got {set_size}")
        if not np.isfinite(px_per_degree) or px_per_degree <= 0:
            raise ValueError(f"{self.name}: px_per_degree must be a positive number, got {px_per_degree!r}")
        d = self.render_fn(condition, int(set_size), seed=int(seed), px_per_degree=float(px_per_degree))
        return dataclasses.replace(d, experiment=self.name)

    def display_seed(self, seed: int, condition: str, set_size: int, index: int) -> int:
        """Seed of one display of a generated set.

        Parameters
        ----------
        seed : int
            Base seed of the set.
        condition : str
            Condition name.
        set_size : int
            Set size.
        index : int
            Index of the display within (condition, set size).

        Returns
        -------
        int
            A 32-bit seed.
        """
        key = [int(seed), zlib.crc32(self.name.encode()), zlib.crc32(condition.encode()), int(set_size), int(index)]
        return int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint32)[0])

    def iter_displays(
        self,
        *,
        seed: int = 0,
        n_per_set_size: int | None = None,
        conditions: Sequence[str] | None = None,
        set_sizes: Sequence[int] | None = None,
        px_per_degree: float = DEFAULT_PX_PER_DEGREE,
    ) -> Iterator[SearchDisplay]:
        """Generate displays one at a time (condition, then set size, then index).

        Parameters
        ----------
        seed : int, default 0
            Base seed.
        n_per_set_size : int, optional
            Displays per condition and set size; default :attr:`n_per_set_size`.
        conditions : sequence of str, optional
            Subset of :attr:`conditions`.
        set_sizes : sequence of int, optional
            Set sizes; default :attr:`set_sizes`.
        px_per_degree : float, default 30
            Pixels per degree.

        Yields
        ------
        SearchDisplay
            With ``stimulus = "<name>-<condition>-n<set size>-<index>"``.
        """
        n = self.n_per_set_size if n_per_set_size is None else int(n_per_set_size)
        if n < 0:
            raise ValueError(f"n_per_set_size must be >= 0, got {n}")
        conds = self.conditions if conditions is None else tuple(conditions)
        for c in conds:
            if c not in self.conditions:
                raise ValueError(f"{self.name}: unknown condition {c!r}; known: {list(self.conditions)}")
        sizes = self.set_sizes if set_sizes is None else tuple(int(s) for s in set_sizes)
        for c in conds:
            for s in sizes:
                for i in range(n):
                    d = self.render(c, s, seed=self.display_seed(seed, c, s, i), px_per_degree=px_per_degree)
                    yield dataclasses.replace(d, stimulus=f"{self.name}-{c}-n{s:02d}-{i:03d}")

    def generate(self, **kwargs) -> list[SearchDisplay]:
        """All displays of :meth:`iter_displays` as a list.

        Parameters
        ----------
        **kwargs
            As :meth:`iter_displays`.

        Returns
        -------
        list of SearchDisplay
        """
        return list(self.iter_displays(**kwargs))


def register_stimulus_set(
    name: str,
    *,
    conditions: Sequence[str],
    set_sizes: Sequence[int],
    n_per_set_size: int = 30,
    title: str = "",
) -> Callable[[Renderer], Renderer]:
    """Register a render function as the stimulus set ``name``.

    Parameters
    ----------
    name : str
        Registry name.
    conditions : sequence of str
        Condition names.
    set_sizes : sequence of int
        Default set sizes (target included).
    n_per_set_size : int, default 30
        Default displays per condition and set size.
    title : str, optional
        Human-readable name.

    Returns
    -------
    callable
        Decorator returning the render function unchanged.
    """

    def deco(fn: Renderer) -> Renderer:
        if name in _SETS:
            raise ValueError(f"stimulus set {name!r} is registered twice")
        _SETS[name] = StimulusSet(
            name=name,
            conditions=tuple(conditions),
            set_sizes=tuple(int(s) for s in set_sizes),
            n_per_set_size=int(n_per_set_size),
            render_fn=fn,
            title=title or name,
        )
        return fn

    return deco


def list_stimulus_sets() -> list[str]:
    """Names of the registered stimulus sets, in registration order.

    Returns
    -------
    list of str
    """
    return list(_SETS)


def get_stimulus_set(name: str) -> StimulusSet:
    """The stimulus set registered under ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    StimulusSet
    """
    try:
        return _SETS[name]
    except KeyError:
        raise KeyError(f"unknown stimulus set {name!r}; known: {list_stimulus_sets()}") from None


def generate(name: str, **kwargs) -> list[SearchDisplay]:
    """Generate the displays of a registered stimulus set.

    Parameters
    ----------
    name : str
        Registered name, e.g. ``"curvature"``.
    **kwargs
        ``seed``, ``n_per_set_size``, ``conditions``, ``set_sizes``,
        ``px_per_degree``; see :meth:`StimulusSet.iter_displays`.

    Returns
    -------
    list of SearchDisplay
    """
    return get_stimulus_set(name).generate(**kwargs)


def condition_experiment(condition: str) -> str:
    """Name of the registered stimulus set that has ``condition``.

    Parameters
    ----------
    condition : str

    Returns
    -------
    str
    """
    for s in _SETS.values():
        if condition in s.conditions:
            return s.name
    raise KeyError(f"no registered stimulus set has condition {condition!r}")
