"""Docstring examples of gazemodels.stimuli run; public functions have numpydoc sections."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

import gazemodels.stimuli

MODULES = ["", ".arrays", ".curvature", ".display", ".human_rt", ".intersection", ".layout", ".lighting", ".plotting",
           ".orientation", ".registry", "._draw", "._grid"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"gazemodels.stimuli{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0


@pytest.mark.parametrize("name", [n for n in gazemodels.stimuli.__all__
                                  if inspect.isfunction(getattr(gazemodels.stimuli, n))])
def test_public_functions_have_numpydoc_sections(name):
    fn = getattr(gazemodels.stimuli, name)
    doc = inspect.getdoc(fn) or ""
    if inspect.signature(fn).parameters:
        assert "Parameters\n----------" in doc, name
    assert "Returns\n-------" in doc, name


@pytest.mark.parametrize("name", ["curvature", "lighting", "intersection", "orientation"])
def test_generator_modules_document_their_sources(name):
    doc = importlib.import_module(f"gazemodels.stimuli.{name}").__doc__
    assert "Sources\n-------" in doc and "doi.org" in doc and "kreimanlab/VisualSearchAsymmetry" in doc
    assert "Not confirmed" in doc
