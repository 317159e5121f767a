"""The benchmark script runs (smoke test at tiny sizes; timings are not asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_equilibrium.py"


@pytest.mark.slow
def test_benchmark_script_quick():
    pytest.importorskip("pygambit")
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, check=True)
    assert "Global commons" in out.stdout and "pygambit" in out.stdout


@pytest.mark.slow
def test_principal_benchmark_quick():
    script = SCRIPT.parent / "bench_principal.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, check=True)
    assert "Default scenario" in out.stdout and "n = 100 agents" in out.stdout


@pytest.mark.slow
def test_learning_benchmark_quick():
    script = SCRIPT.parent / "bench_learning.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, check=True)
    assert "Gradient play" in out.stdout and "policy_gradient" in out.stdout


@pytest.mark.slow
def test_us_incomes_benchmark_quick():
    pytest.importorskip("taxcalc")
    script = SCRIPT.parent / "bench_us_incomes.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, check=True)
    assert "Certified equilibrium under current law" in out.stdout and "Nelder-Mead" in out.stdout


@pytest.mark.slow
def test_dynamic_benchmark_quick():
    script = SCRIPT.parent / "bench_dynamic.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, check=True)
    assert "plain loop" in out.stdout and "Nash gap (true game)" in out.stdout
    assert "random small games" in out.stdout
