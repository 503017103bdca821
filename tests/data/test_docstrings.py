"""The examples in the docstrings of gazemodels.data run and are right; public functions are documented."""

from __future__ import annotations

import doctest
import importlib
import inspect

import matplotlib
import pytest

import gazemodels.data

matplotlib.use("Agg")

MODULES = ["aoi", "plotting", "scanpaths", "schema", "units", "validate"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"gazemodels.data.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) of gazemodels.data.{name} failed (run pytest --doctest-modules)"


@pytest.mark.parametrize("name", [n for n in gazemodels.data.__all__ if inspect.isfunction(getattr(gazemodels.data, n))])
def test_public_functions_have_numpydoc_sections(name):
    doc = inspect.getdoc(getattr(gazemodels.data, name)) or ""
    assert "Parameters\n----------" in doc, name
    assert "Returns\n-------" in doc or "Yields\n------" in doc, name
