import json

from sedtheory.cli import main


def test_run_writes_certified_equilibria(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "laissez-faire" in out and "nash gap" in out
    data = json.loads((tmp_path / "equilibrium.json").read_text())
    assert len(data["equilibria"]) >= 3
    for row in data["equilibria"]:
        assert row["relative_nash_gap"] <= 1e-9 and row["status"] == "optimal"
        assert len(row["actions"]) == 7
