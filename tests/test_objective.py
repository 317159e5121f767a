"""Objective and Certificate: the value objects every entry point shares."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sedtheory as sed
from sedtheory.errors import DomainError, InvalidParameterError
from sedtheory.objective import as_objective


def test_objective_validates_and_is_hashable() -> None:
    assert (
        Objective(1).p == 1.0
        and Objective(1) == Objective(1.0)
        and hash(Objective(1)) == hash(Objective(1.0))
    )
    with pytest.raises(InvalidParameterError, match="p"):
        Objective(float("nan"))
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        Objective(1.0, of="happiness")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="weights"):
        Objective(1.0, weights=(-1.0, 2.0))
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        as_objective(Objective(1.0, "utility"), "payoff")
    assert as_objective(0.5, "payoff") == Objective(0.5, "payoff")


Objective = sed.Objective


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(0.1, 100.0), min_size=1, max_size=8), st.sampled_from([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0])
)
def test_objective_agrees_with_scipy(values: list[float], p: float) -> None:
    ref = float(stats.pmean(values, p)) if p != 0 else float(stats.gmean(values))
    assert Objective(p).evaluate(values) == pytest.approx(ref, rel=1e-10)
    assert Objective(p).rows([values, values])[1] == pytest.approx(ref, rel=1e-10)


def test_objective_rows_score_outside_the_domain_as_minus_inf() -> None:
    rows = Objective(0.0).rows([[1.0, 4.0], [-1.0, 2.0]])
    assert rows[0] == pytest.approx(2.0) and rows[1] == -math.inf
    weighted = Objective(0.0, weights=(0.5, 0.5)).rows([[1.0, 4.0], [-1.0, 2.0]])
    assert weighted[0] == pytest.approx(2.0) and weighted[1] == -math.inf
    with pytest.raises(DomainError):
        Objective(0.0).evaluate([-1.0, 2.0])


def test_objective_at_a_profile_and_everywhere_p_is_accepted() -> None:
    game = sed.scenarios.apple_picking()
    eq = sed.solve_equilibrium(game)
    obj = Objective(0.0, "payoff")
    assert obj.of_profile(game, eq.actions) == pytest.approx(sed.pmean(eq.payoffs, 0.0))
    assert sed.welfare(game, eq.actions, obj) == pytest.approx(obj.of_profile(game, eq.actions))
    d1, d2 = (
        sed.optimal_tax(game, obj, bound=False),
        sed.optimal_tax(game, 0.0, welfare_of="payoff", bound=False),
    )
    assert np.allclose(d1.rates, d2.rates) and d1.objective == obj
    fb = sed.first_best(game, Objective(1.0), transfers="tax-feasible")
    assert fb.welfare == pytest.approx(sed.first_best(game, 1.0, transfers="tax-feasible").welfare)


def test_certificate_status_from_bounds() -> None:
    c = sed.Certificate.from_bounds(1.0, 1.0 + 1e-9, "test")
    assert c.status == "optimal" and c.gap == pytest.approx(1e-9)
    c = sed.Certificate.from_bounds(1.0, 2.0, "test")
    assert c.status == "best-found" and c.relative_gap == pytest.approx(0.5)
    c = sed.Certificate.from_bounds(1.0, math.inf, "none")
    assert c.status == "best-found" and c.gap == math.inf
    assert sed.Certificate.from_bounds(math.nan, 1.0, "x").status == "failed"
    with pytest.raises(ValueError):
        sed.Certificate(0.0, 1.0, "x", "great", 1.0)


def test_designs_first_best_and_implementations_share_the_certificate() -> None:
    game = sed.scenarios.apple_picking()
    design = sed.optimal_tax(game, 1.0)
    c = design.certificate
    assert isinstance(c, sed.Certificate) and c.lower == design.welfare and c.upper == design.upper_bound
    assert (
        c.status == design.status
        and "upper bound" in c
        and c.source.startswith("second best: relaxed planner")
    )
    fb = sed.first_best(game, 1.0, transfers="tax-feasible")
    assert isinstance(fb.certificate, sed.Certificate) and fb.certificate.status == "optimal"
    assert sed.first_best(game, 1.0).certificate.status == "unbounded"
    impl = sed.best_implementation(game, design.equilibrium.actions, 1.0)
    assert isinstance(impl.certificate, sed.Certificate) and impl.certificate.lower == impl.welfare
