"""The theorem registry: every statement holds on fresh instances, every planted violation is caught."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sedtheory.cli import main
from sedtheory.errors import InvalidParameterError
from sedtheory.theory import THEOREMS, Report, statement, verify, verify_all

REQUIRED = {
    "power_mean_inequality",
    "power_mean_limits",
    "pmean_concave",
    "pigou_dalton",
    "atkinson_index",
    "tax_convex_iff_progressive",
    "budget_balance",
    "weighted_potential",
    "pure_equilibrium_exists",
    "uniqueness_dsc",
    "tragedy_of_the_commons",
    "pigouvian_rate_implements_first_best",
    "bunching_at_thresholds",
    "median_voter_theorem",
    "gibbard_satterthwaite_plurality",
    "gibbard_satterthwaite_borda",
    "no_regret_reaches_cce",
    "preferences_over_p_single_peaked",
}
CHEAP = [n for n in THEOREMS if THEOREMS[n].instances >= 200]


def test_registry_contents() -> None:
    assert REQUIRED <= set(THEOREMS)
    assert sum(s.kind == "theorem" for s in THEOREMS.values()) >= 15
    for name, s in THEOREMS.items():
        assert s.name == name and s.kind in {"theorem", "conjecture"}
        assert s.statement and s.hypotheses and s.citation and s.how


@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_every_statement_on_fresh_instances(name: str) -> None:
    """Fresh instances (a seed the registry defaults do not use): theorems hold; conjectures are
    refuted by their recorded counterexample and the report carries it."""
    s = THEOREMS[name]
    count = min(s.instances, 60)
    rep = verify(name, instances=count, seed=20261126)
    assert isinstance(rep, Report) and rep.instances + rep.skipped >= min(count, 1)
    if s.kind == "theorem":
        assert rep.holds, rep.counterexamples
        assert rep.instances > 0  # the generator reaches the hypotheses
    else:
        assert not rep.holds and rep.counterexamples


@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_planted_violation_is_caught(name: str) -> None:
    """Each check catches a planted violation: a false variant, or the statement's own check on an
    instance outside its hypotheses (and then verify skips that instance rather than failing)."""
    s = THEOREMS[name]
    assert s.catch_planted(), f"{name}: the planted violation was not detected"
    if s.kind == "theorem" and s.planted_check is None:
        planted = s.planted()
        assert not s.holds_on(planted)
        rep = verify(name, instances=[planted])
        assert rep.holds and rep.skipped == 1 and rep.instances == 0
    if s.kind == "theorem" and s.planted_check is not None:
        assert s.holds_on(s.planted())
        assert not s.check(s.planted())  # the true statement holds where the false variant fails


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_hypothesis_strategies(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(CHEAP))
    s = THEOREMS[name]
    inst = data.draw(s.strategy())
    if s.holds_on(inst):
        assert s.check(inst) == []


def test_verify_all_and_bad_input() -> None:
    seen: list[str] = []
    reports = verify_all(
        instances=5,
        seed=1,
        names=["pigou_dalton", "median_voter_theorem"],
        progress=lambda r: seen.append(r.name),
    )
    assert [r.name for r in reports] == seen == ["pigou_dalton", "median_voter_theorem"]
    assert all(r.holds for r in reports)
    with pytest.raises(InvalidParameterError, match="registered statements"):
        verify("fermat")
    with pytest.raises(InvalidParameterError, match="instances"):
        verify("pigou_dalton", instances=-1)


def test_cli_verify(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--only", "pigou_dalton,budget_balance", "--instances", "20"]) == 0
    out = capsys.readouterr().out
    assert "pigou_dalton" in out and "2 of 2 theorems hold" in out
    # A false statement registered for the test makes the command fail with its counterexample.
    statement(
        "false_for_the_test",
        text="every positive number is below 1",
        hypotheses=("x > 0",),
        citation="none",
        generate=lambda rng: {"x": float(rng.uniform(0, 2))},
        holds_on=lambda inst: inst["x"] > 0,
        planted=lambda: {"x": 1.5},
        how="compare",
    )(lambda inst: [] if inst["x"] < 1 else [{"x": inst["x"]}])
    try:
        assert main(["verify", "--only", "false_for_the_test", "--instances", "50"]) == 1
        out = capsys.readouterr().out
        assert "FAILS" in out and "counterexample" in out
    finally:
        del THEOREMS["false_for_the_test"]
    assert main(["verify", "--only", "fermat"]) == 2


def test_docs_list_every_statement() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "theory.md").read_text()
    for name, s in THEOREMS.items():
        assert f"`{name}`" in text, name
        assert s.citation.split(",")[0].split(";")[0] in text, name
