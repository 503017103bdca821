"""Docstring examples of the search model's modules run; public functions have numpydoc sections."""

import doctest
import importlib
import inspect

import pytest

import gazemodels.models.search

MODULES = ["", ".config", ".features", ".matching", ".model", ".parallel", ".pooling", ".selection"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"gazemodels.models.search{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0


@pytest.mark.parametrize("name", [n for n in gazemodels.models.search.__all__
                                  if inspect.isfunction(getattr(gazemodels.models.search, n))])
def test_public_functions_have_numpydoc_sections(name):
    fn = getattr(gazemodels.models.search, name)
    doc = inspect.getdoc(fn) or ""
    if inspect.signature(fn).parameters:
        assert "Parameters\n----------" in doc, name
    assert "Returns\n-------" in doc, name
