"""Docstring examples of the model modules run and are right; public functions carry numpydoc sections."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

MODULES = [
    "gazemodels.models.registry",
    "gazemodels.models.scanpath.base",
    "gazemodels.models.scanpath.baselines",
    "gazemodels.models.scanpath.durations",
    "gazemodels.saliency.maps",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) of {name} failed"


def _public_functions():
    for name in MODULES:
        module = importlib.import_module(name)
        for fname, fn in inspect.getmembers(module, inspect.isfunction):
            if not fname.startswith("_") and fn.__module__ == name:
                yield f"{name}.{fname}", fn


@pytest.mark.parametrize("qualname, fn", list(_public_functions()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_functions_have_numpydoc_sections(qualname, fn):
    doc = inspect.getdoc(fn) or ""
    assert "Parameters\n----------" in doc, qualname
    assert "Returns\n-------" in doc or "Raises\n------" in doc, qualname
