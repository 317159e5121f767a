import json
from pathlib import Path

import pytest

from sedtheory.cli import main
from sedtheory.errors import InvalidParameterError
from sedtheory.report import load_scenario


@pytest.mark.slow
def test_run_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--out", str(tmp_path), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "laissez-faire equilibrium" in out and "optimal tax rates" in out and "theorems:" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["laissez_faire"]["nash_gap"] <= 1e-9
    for o in data["principal"].values():
        assert o["nash_gap"] <= 1e-8
        assert o["welfare"] >= o["grid_welfare"] - 1e-9  # at least the seed's grid
        bound = o["first_best_bound"]
        assert bound == "inf" or o["welfare"] <= bound + 1e-9
    figures = data["figures"]
    assert len(figures) >= 5
    report = (tmp_path / "report.md").read_text()
    for name in figures.values():
        assert (tmp_path / name).stat().st_size > 10_000
        assert f"]({name})" in report
    assert data["voting"]["winners"]["copeland"] == -1.0


def test_scenario_files(tmp_path: Path) -> None:
    yml = tmp_path / "s.yaml"
    yml.write_text(
        "selfishness: [0.2, 0.8, 1.0]\ngraph: complete\nrates: [0.1, 0.3, 0.6]\ncandidates: [-inf, 0, 1]\n"
    )
    game, spec = load_scenario(yml)
    assert game.n == 3 and game.society.graph is None and spec["candidates"][0] == float("-inf")
    toml = tmp_path / "s.toml"
    toml.write_text('selfishness = [0.1, 0.5]\ngraph = [[0, 1]]\nthresholds = [0, 5]\ncommons = "local"\n')
    game, _ = load_scenario(toml)
    assert game.commons == "local" and game.tax.thresholds.tolist() == [0.0, 5.0]
    bad = tmp_path / "bad.yaml"
    for text, match in (
        ("selfishness: [0.2, 1.5]\n", "selfishness"),
        ("selfishnes: [0.2]\n", "unknown key"),
        ("graph: ring\n", "selfishness"),
        ("selfishness: [0.2, 0.3]\ngraph: torus\n", "graph"),
        ("selfishness: [0.2, 0.3]\ndamage: lots\n", "malformed"),
        ("- 1\n- 2\n", "mapping"),
    ):
        bad.write_text(text)
        with pytest.raises(InvalidParameterError, match=match):
            load_scenario(bad)
    with pytest.raises(InvalidParameterError, match="yaml"):
        load_scenario(tmp_path / "missing.json")
    assert main(["run", "--scenario", str(bad), "--out", str(tmp_path / "o")]) == 2


def test_help_is_plain_text_and_every_option_says_what_it_does():
    """Issue 16: --help showed reST markup and --out had no help text."""
    import argparse

    from sedtheory.cli import _parser

    parser = _parser()
    text = parser.format_help()
    assert "``" not in text and ":mod:" not in text
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        assert "``" not in sub.format_help()
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings} has no help"


@pytest.mark.parametrize(
    "grid", [{"n": [0]}, {"rounds": [-5]}, {"p": [float("nan")]}, {"seed": [-1]}, {"n": [2.5]}]
)
def test_sweep_rejects_bad_cells_up_front(grid, tmp_path):
    """Issue 16: these became error rows that resume never retries."""
    from sedtheory.errors import InvalidParameterError
    from sedtheory.learning.sweep import sweep

    out = tmp_path / "s.csv"
    with pytest.raises(InvalidParameterError):
        sweep(grid, out=out, progress=False)
    assert not out.exists()
