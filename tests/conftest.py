"""Shared fixtures. Real human data is found through ``GAZEMODELS_TEST_DATA``,
defaulting to ``../shared/data`` next to the project root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GAZEMODELS_TEST_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real eye-tracking data; the test skips (with the reason) if it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set GAZEMODELS_TEST_DATA)")
    return SHARED_DATA


def dataset_dir(shared: Path, folder: str) -> Path:
    """Sub-folder of the real data, or skip with a clear reason."""
    path = shared / folder
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent")
    return path


@pytest.fixture
def import_benchmark(monkeypatch):
    """Import a script of ``benchmarks/`` by module name (the folder is put on ``sys.path``)."""
    import importlib

    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    return importlib.import_module
