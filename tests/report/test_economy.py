"""The US-incomes report (report.economy) and `sedtheory run --scenario us-incomes`."""

import importlib.util
import json
import math

import pytest

from sedtheory.cli import main
from sedtheory.report import EconomyConfig, run_report
from sedtheory.scenarios import CAVEATS

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("taxcalc") is None, reason="the [data] extra (taxcalc) is not installed"
)


def test_report_on_a_small_sample(tmp_path):
    config = EconomyConfig(
        year=2024, sample=400, seed=2, candidates=(-math.inf, 0.0, 1.0), rules=("plurality", "median")
    )
    results = run_report(
        "us-incomes",
        tmp_path,
        progress=False,
        economy=config,
        save=lambda fig, path: path.write_bytes(b"png"),
    )
    assert results["data"]["records"] == pytest.approx(400, abs=5)
    assert results["current_law"]["rates"] == [0.1, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37]
    assert results["current_law"]["nash_gap"] == 0.0
    rows = {r["p"]: r for r in results["optimal"]}
    assert rows["1"]["rates"] == [0.0] * 7  # quasi-linear utility: no motive to redistribute
    assert rows["1"]["saez_top_rate"] == 0.0
    for r in rows.values():
        assert r["welfare"] <= r["upper_bound"] * (1 + 1e-9)
        assert results["current_law"]["welfare"][r["p"]] <= r["welfare"] * (
            1 + 1e-9
        )  # never worse than the law
    assert 0.0 < rows["-inf"]["saez_top_rate"] < 1.0
    assert set(results["votes"]) == {"plurality", "median"}
    assert sum(results["favourite_shares"].values()) == pytest.approx(1.0)
    errors = results["sample_error_current_law"]
    assert set(errors) == {"-inf", "0", "1"} and all(0 <= e < 0.3 for e in errors.values())
    report = (tmp_path / "report.md").read_text()
    assert all(c in report for c in CAVEATS) and "Saez" in report
    assert json.loads((tmp_path / "results.json").read_text())["scenario"] == "us-incomes"
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "us_tax_schedules.png",
        "us_welfare_vs_p.png",
        "us_utility_distribution.png",
        "us_frontier.png",
    }


def test_cli_refuses_a_bad_sample(tmp_path, capsys):
    assert main(["run", "--scenario", "us-incomes", "--sample", "many", "--out", str(tmp_path / "o")]) == 2
    assert "--sample" in capsys.readouterr().err
    assert main(["run", "--scenario", "us-incomes", "--year", "1990", "--out", str(tmp_path / "o")]) == 2
    assert "year" in capsys.readouterr().err
