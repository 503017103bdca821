"""``benchmarks/tune_triton_kernels.py`` runs end to end (its interpreter dry run, on the CPU).

The sweep itself needs a GPU (``benchmarks/gpu_notes.md`` has its H100 figures); the dry run
checks the script's logic: every host-side stage is timed, every swept setting yields a row,
and the kernels it times are the library's (they run and return).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "tune_triton_kernels.py"


def test_dry_run_writes_stages_and_a_row_per_setting(tmp_path):
    out = tmp_path / "tune.json"
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--n", "64", "--batch", "1",
                           "--dtypes", "float32", "--json", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    stages = data["stages"]["float32"]
    assert {"check_args", "morton_sort", "block_plan", "fwd_kernel", "whole_call"} <= set(stages)
    assert all(v > 0 for v in stages.values())
    rows = data["sweep"]
    assert [r["precision"] for r in rows] == ["ieee", "tf32"]
    assert all("error" not in r and r["fwd_ms"] > 0 and r["bwd_ms"] > 0 for r in rows)
    assert "best per dtype and precision" in proc.stdout
