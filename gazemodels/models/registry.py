"""Registry of gaze models, by family and name.

Models register a factory (a class or a function returning a model) with
:func:`register_model`; :func:`get_model` builds one by name and
:func:`list_models` lists the names. Every module inside
:mod:`gazemodels.models.scanpath` is imported on first use, so a new model is
one new file with a ``@register_model("name")`` decorator.

Examples
--------
>>> from gazemodels.models import get_model, list_models
>>> "random" in list_models("scanpath")
True
>>> model = get_model("random")
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FAMILIES: tuple[str, ...] = ("scanpath",)
"""Model families with a contract (see :mod:`gazemodels.models.scanpath.base`)."""

_PACKAGES: dict[str, str] = {"scanpath": "gazemodels.models.scanpath"}


@dataclass(frozen=True)
class ModelSpec:
    """A registered model.

    Attributes
    ----------
    name : str
        Registry name (``gazemodels predict --model NAME``).
    family : str
        Model family, one of :data:`FAMILIES`.
    factory : callable
        ``factory(**kwargs) -> model``: a class or a function.
    summary : str
        One line describing the model (the first line of the factory's docstring
        when not given).
    smoke_kwargs : dict
        Keyword arguments that make the model small and fast enough for the test
        that runs every registered model through the contract validator (for
        example a tiny image size or few optimisation steps for a slow model).
    """

    name: str
    family: str
    factory: Callable[..., Any]
    summary: str = ""
    smoke_kwargs: dict = field(default_factory=dict)


_MODELS: dict[str, ModelSpec] = {}
_LOADED: set[str] = set()


def register_model(
    name: str,
    family: str = "scanpath",
    *,
    summary: str | None = None,
    smoke_kwargs: dict | None = None,
) -> Callable:
    """Register a model factory (a class or a function) under a name.

    Parameters
    ----------
    name : str
        Registry name, unique across families.
    family : str, default "scanpath"
        Model family; the factory must build objects that follow that family's
        contract (for ``"scanpath"``:
        :class:`~gazemodels.models.scanpath.base.ScanpathModel`).
    summary : str, optional
        One-line description; defaults to the first line of the factory's docstring.
    smoke_kwargs : dict, optional
        Keyword arguments for a small, fast instance used by the test that runs
        every registered model through the validator.

    Returns
    -------
    callable
        Decorator that returns the factory unchanged.

    Raises
    ------
    ValueError
        If the family is unknown or the name is already registered.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; known: {list(FAMILIES)}")

    def deco(factory):
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        doc = (factory.__doc__ or "").strip().splitlines()
        _MODELS[name] = ModelSpec(
            name=name,
            family=family,
            factory=factory,
            summary=summary if summary is not None else (doc[0] if doc else ""),
            smoke_kwargs=dict(smoke_kwargs or {}),
        )
        return factory

    return deco


def _ensure_loaded() -> None:
    """Import every module of each family's package once, so that they register."""
    for family, pkg_name in _PACKAGES.items():
        if family in _LOADED:
            continue
        pkg = importlib.import_module(pkg_name)
        for mod in pkgutil.iter_modules(pkg.__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{pkg_name}.{mod.name}")
        _LOADED.add(family)


def list_models(family: str | None = None) -> list[str]:
    """Names of the registered models.

    Parameters
    ----------
    family : str, optional
        Only this family.

    Returns
    -------
    list of str
        Sorted names.
    """
    _ensure_loaded()
    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; known: {list(FAMILIES)}")
    return sorted(n for n, s in _MODELS.items() if family is None or s.family == family)


def get_model_spec(name: str) -> ModelSpec:
    """The registration record of a model.

    Parameters
    ----------
    name : str
        Registry name.

    Returns
    -------
    ModelSpec

    Raises
    ------
    KeyError
        If no model has this name; the message lists the known names.
    """
    _ensure_loaded()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; registered models: {sorted(_MODELS)}")
    return _MODELS[name]


def get_model(name: str, **kwargs):
    """Build a registered model.

    Parameters
    ----------
    name : str
        Registry name.
    **kwargs
        Passed to the model's factory.

    Returns
    -------
    object
        The model, for example a
        :class:`~gazemodels.models.scanpath.base.ScanpathModel`.

    Raises
    ------
    KeyError
        If no model has this name.
    """
    model = get_model_spec(name).factory(**kwargs)
    if not getattr(model, "name", ""):
        model.name = name
    return model


def save_model(model, path) -> None:
    """Save a (fitted) model to a ``.pt`` file that :func:`load_model` and ``gazemodels predict --model`` read.

    Parameters
    ----------
    model : object
        The model, e.g. a fitted
        :class:`~gazemodels.models.scanpath.base.ScanpathModel`.
    path : str or os.PathLike
        Output file, conventionally ``*.pt``.

    Returns
    -------
    None

    Notes
    -----
    The file is a :func:`torch.save` pickle of ``{"format": "gazemodels-model",
    "name": ..., "family": ..., "model": model}``. Like every pickle, load only
    files you trust.
    """
    import torch

    family = next((s.family for s in _MODELS.values() if s.name == getattr(model, "name", None)), None)
    torch.save({"format": "gazemodels-model", "name": getattr(model, "name", ""), "family": family,
                "model": model}, path)


def load_model(path):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.pt`` file written by :func:`save_model` (a pickle: trusted files only).

    Returns
    -------
    object
        The model.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a gazemodels model file; the message names it.
    """
    from pathlib import Path

    import torch

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such model file")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a bad file
        raise ValueError(f"{p}: cannot be read as a saved gazemodels model ({type(e).__name__}: {e})") from None
    if not isinstance(blob, dict) or blob.get("format") != "gazemodels-model":
        raise ValueError(f"{p}: not a gazemodels model file (save one with gazemodels.models.save_model)")
    return blob["model"]
