"""Registry of dataset loaders, looked up by name.

A loader is a function ``loader(root: Path, card: DatasetCard, **options) -> Dataset``
registered with :func:`register`. Adding a dataset is one card in ``datasets/``
and one module with a registered loader.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gazemodels.datasets.card import CARDS_DIR, DatasetCard, read_card
from gazemodels.errors import DatasetNotFoundError

DATA_HOME_ENV = "GAZEMODELS_DATA"
"""Environment variable naming the folder that holds one sub-folder per dataset."""


@dataclass
class Dataset:
    """A loaded dataset.

    Attributes
    ----------
    name : str
        Registry name.
    fixations : pandas.DataFrame
        Fixation table (see :mod:`gazemodels.data.schema`).
    stimuli : pandas.DataFrame
        Stimulus table, one row per stimulus.
    card : DatasetCard
        The dataset's card.
    root : pathlib.Path
        Folder the files were read from.
    missing_stimuli : list of str
        Stimuli that have fixations but whose image file is absent from ``root``.
    extras : dict
        Dataset-specific tables (e.g. per-trial summaries, raw samples).
    """

    name: str
    fixations: pd.DataFrame
    stimuli: pd.DataFrame
    card: DatasetCard
    root: Path
    missing_stimuli: list[str] = field(default_factory=list)
    extras: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        from gazemodels.data.scanpaths import n_scanpaths

        return (
            f"Dataset({self.name!r}: {len(self.fixations):,} fixations in "
            f"{n_scanpaths(self.fixations):,} scanpaths, {len(self.stimuli):,} stimuli, "
            f"{len(self.missing_stimuli)} stimulus files missing, root={str(self.root)!r})"
        )


Loader = Callable[..., Dataset]
_LOADERS: dict[str, Loader] = {}


def register(name: str) -> Callable[[Loader], Loader]:
    """Register a loader under ``name``; a card ``datasets/<name>.toml`` must exist.

    Parameters
    ----------
    name : str
        Registry name.

    Returns
    -------
    callable
        Decorator that records and returns the loader unchanged.
    """

    def deco(fn: Loader) -> Loader:
        if name in _LOADERS:
            raise ValueError(f"dataset loader {name!r} is registered twice")
        _LOADERS[name] = fn
        return fn

    return deco


def _ensure_loaded() -> None:
    # Importing the loader modules runs their @register decorators.
    from gazemodels.datasets import loaders  # noqa: F401


def list_datasets() -> list[str]:
    """Names of all registered datasets, sorted.

    Returns
    -------
    list of str
    """
    _ensure_loaded()
    return sorted(_LOADERS)


def get_card(name: str) -> DatasetCard:
    """The card of dataset ``name``.

    Parameters
    ----------
    name : str
        Registry name.

    Returns
    -------
    DatasetCard
    """
    _ensure_loaded()
    if name not in _LOADERS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(_LOADERS))}")
    path = CARDS_DIR / f"{name}.toml"
    if not path.exists():
        raise FileNotFoundError(f"dataset {name!r} has no card at {path}")
    return read_card(path)


def default_root(name: str) -> Path:
    """Where dataset ``name`` is looked for when no root is given.

    ``$GAZEMODELS_DATA/<folder>`` when the variable is set, otherwise
    ``~/.cache/gazemodels/<folder>``.

    Parameters
    ----------
    name : str
        Registry name.

    Returns
    -------
    pathlib.Path
    """
    home = os.environ.get(DATA_HOME_ENV)
    base = Path(home) if home else Path.home() / ".cache" / "gazemodels"
    return base / get_card(name).folder


def load(name: str, root: str | os.PathLike | None = None, **options) -> Dataset:
    """Load a dataset by name.

    Parameters
    ----------
    name : str
        Registry name, see :func:`list_datasets`.
    root : str or PathLike, optional
        Folder holding the dataset's files, laid out as upstream publishes them.
        Defaults to :func:`default_root`.
    **options
        Loader-specific options (documented on each loader).

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetNotFoundError
        If ``root`` does not exist; the message says how to download the files.
    DatasetFormatError
        If a file is malformed or belongs to another dataset.
    """
    card = get_card(name)
    root = Path(root) if root is not None else default_root(name)
    if not root.is_dir():
        raise DatasetNotFoundError(
            f"dataset {name!r}: folder {root} does not exist. Download it with "
            f"`gazemodels datasets download {name} --root {root}` or place the files "
            f"from {card.homepage} there by hand."
        )
    return _LOADERS[name](root, card, **options)
