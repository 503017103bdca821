"""The docstring examples of gazemodels.attention run; public functions are documented."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

import gazemodels.attention as att

MODULES = ["reference", "cpu", "dense", "objects", "_checks"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"gazemodels.attention.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) of gazemodels.attention.{name} failed"


@pytest.mark.parametrize("name", [n for n in att.__all__ if inspect.isfunction(getattr(att, n))])
def test_public_functions_have_numpydoc_sections(name):
    doc = inspect.getdoc(getattr(att, name)) or ""
    assert "Parameters\n----------" in doc, name
    assert "Returns\n-------" in doc, name
