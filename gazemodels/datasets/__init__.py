"""Loaders for real eye-tracking datasets, described by cards in ``datasets/*.toml``.

Examples
--------
>>> from gazemodels import datasets
>>> ds = datasets.load("osie", root="../shared/data/osie")  # doctest: +SKIP
>>> ds.fixations.head()  # doctest: +SKIP
"""

from gazemodels.datasets.card import DatasetCard, RemoteFile, read_card
from gazemodels.datasets.remote import download
from gazemodels.datasets.registry import (
    DATA_HOME_ENV,
    Dataset,
    default_root,
    get_card,
    list_datasets,
    load,
    register,
)

__all__ = [
    "DATA_HOME_ENV",
    "Dataset",
    "DatasetCard",
    "RemoteFile",
    "default_root",
    "download",
    "get_card",
    "list_datasets",
    "load",
    "read_card",
    "register",
]
