"""The benchmark scripts still run (tiny sizes, CPU): a GPU session must find them working."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.slow
def test_gpu_benchmark_script_runs_on_the_cpu_at_tiny_sizes():
    recorded = {p.name: p.stat().st_mtime for p in BENCH.glob("results-*.json")}
    r = subprocess.run([sys.executable, "run_gpu.py", "--platform", "cpu", "--smoke"],
                       cwd=BENCH, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "GRADSCOPE_NO_CACHE": "1"})
    assert r.returncode == 0, r.stderr
    single, many = (json.loads(line) for line in r.stdout.splitlines()[:2])
    assert single["case"] == "lstm H=16 T=20"
    assert 0 < single["gradscope_P_only_s"] and 0 < single["chain_floor_s"]
    if single["torch_s"] is not None:  # torch installed: the same numbers, to float32 accuracy
        assert single["max_abs_diff_vs_torch"] < 1e-3
    assert many["P_only_s"] > 0 and np.isfinite(many["fraction_of_matmul_rate"])
    assert "| lstm H=16 T=20 |" in r.stdout
    # a smoke run records nothing
    assert {p.name: p.stat().st_mtime for p in BENCH.glob("results-*.json")} == recorded


@pytest.mark.slow
def test_cli_benchmark_script_times_every_case_at_tiny_sizes():
    recorded = {p.name: p.stat().st_mtime for p in BENCH.glob("results-*.json")}
    r = subprocess.run([sys.executable, "run_cli.py", "--smoke"], cwd=BENCH,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert [row["case"] for row in rows] == ["--help", "analyze, warm"]
    assert all(row["runs"] == 1 and 0 < row["min"] == row["median"] == row["max"] < 600
               for row in rows)
    assert "| analyze, warm | this tree |" in r.stdout
    assert {p.name: p.stat().st_mtime for p in BENCH.glob("results-*.json")} == recorded
