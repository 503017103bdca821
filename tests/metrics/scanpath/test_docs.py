"""Docstring examples of gazemodels.metrics.scanpath run and are right; public functions are documented."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

import gazemodels.metrics.scanpath as scanpath_metrics

MODULES = ["_common", "registry", "multimatch", "scanmatch", "sequence", "geometric", "rqa", "_align"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"gazemodels.metrics.scanpath.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) of {module.__name__} failed"


PUBLIC = [n for n in scanpath_metrics.__all__ if inspect.isfunction(getattr(scanpath_metrics, n))]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_functions_have_numpydoc_sections(name):
    fn = getattr(scanpath_metrics, name)
    doc = inspect.getdoc(fn) or ""
    if name.endswith("_batch") and name in ("dtw_batch", "frechet_batch", "hausdorff_batch", "mmd_batch"):
        assert "geometric_batch" in doc, name  # thin wrappers point to the documented function
        return
    assert "Parameters\n----------" in doc, name
    assert "Returns\n-------" in doc, name
