"""The figure notebooks run top to bottom against the real data (their code cells, in order)."""

import json
from pathlib import Path

import matplotlib
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, shared_data, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.setenv("GAZEMODELS_DATA", str(shared_data))
    monkeypatch.chdir(path.parent)
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    namespace: dict = {}
    exec(compile(code, str(path), "exec"), namespace)
    import matplotlib.pyplot as plt

    assert plt.get_fignums(), f"{path.name} drew no figure"
    plt.close("all")
