"""The first best for p > 1 with tax-feasible transfers: the dual route against the cone programs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import CapabilityError
from sedtheory.principal.first_best import first_best, rows_dual, upper_bound
from sedtheory.principal.weighted_planner import agent_maxima
from sedtheory.welfare import pmean
from tests.conftest import random_game
from tests.principal.test_planner_dual import feasible, massed_game
from tests.principal.test_weighted_planner import ring_game

HIGH = (1.5, 2.0, 4.0, math.inf)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from(HIGH), massed=st.booleans())
def test_dual_and_convex_bound_each_other(seed: int, p: float, massed: bool) -> None:
    rng = np.random.default_rng(seed)
    game = massed_game(seed) if massed else random_game(rng)
    try:
        convex = first_best(game, p, transfers="tax-feasible", method="convex")
    except sed.errors.SolverError:
        return  # the cone programs' own trouble; the dual does not need them
    dual = first_best(game, p, transfers="tax-feasible", method="dual")
    tol = 1e-6 * max(1.0, abs(convex.upper_bound))
    assert dual.welfare <= convex.upper_bound + tol  # the dual's plan is feasible
    assert convex.welfare <= dual.upper_bound + tol  # the dual's bound holds
    # (for finite p the cone programs also keep every value >= 0, the p-mean's domain, so their
    # bound may be the tighter one; for p = inf any value is allowed and the two are the same maximum)
    assert feasible(game, dual.actions, dual.transfers)
    values = dual.utilities
    assert dual.welfare == pytest.approx(pmean(values, p, game.welfare_weights), rel=1e-12)
    if p == math.inf:
        assert dual.status == "optimal"
        assert dual.welfare == pytest.approx(convex.welfare, rel=1e-6)


def test_large_sparse_graph_gets_a_finite_bound() -> None:
    """Before: the lump-sum first best, unbounded on a graph (``inf``); now a proven number."""
    game = ring_game(400, seed=1)
    assert rows_dual(game, "utility")
    for p in (2.0, math.inf):
        fb = first_best(game, p, transfers="tax-feasible")
        assert math.isfinite(fb.upper_bound) and fb.welfare <= fb.upper_bound
        assert feasible(game, fb.actions, fb.transfers)
        ub, source = upper_bound(game, p)
        assert ub == fb.upper_bound and "tax-feasible" in source
    assert fb.status == "optimal"  # p = inf: the largest agent's exact maximum
    top = agent_maxima(game)
    assert fb.upper_bound <= top.max() and fb.welfare == pytest.approx(top.max(), rel=1e-9)


def test_hoelder_tightens_the_per_agent_bound() -> None:
    """Near p = 1 Hölder's bound is the tighter one (here p = 1.5; by p = 2 M_p(U) is)."""
    game = ring_game(400, seed=1)
    fb = first_best(game, 1.5, transfers="tax-feasible")
    maxima = fb.details["agent_maxima"]
    per_agent = pmean(np.maximum(maxima, 0.0), 1.5, game.welfare_weights)
    mean = first_best(game, 1.0, transfers="tax-feasible").upper_bound
    hoelder = maxima.max() ** (1.0 / 3.0) * mean ** (2.0 / 3.0)
    assert fb.upper_bound == pytest.approx(min(per_agent, hoelder), rel=1e-12)
    assert fb.upper_bound < per_agent


def test_every_tax_is_below_the_bound() -> None:
    """Planted check: bracket taxes on a grid never exceed the p > 1 bound."""
    game = ring_game(30, seed=3)
    for p in (2.0, math.inf):
        bound = first_best(game, p, transfers="tax-feasible").upper_bound
        for rates in ([0.0, 0.0], [0.5, 0.2], [1.0, 1.0], [0.0, 1.0]):
            eq = sed.solve_equilibrium(game.with_tax(sed.PiecewiseLinearTax([0.0, 10.0], rates)))
            assert pmean(eq.utilities, p) <= bound + 1e-9


def test_dual_method_needs_the_global_damage() -> None:
    game = ring_game(10)
    local = sed.CommonsGame(game.society, game.tax, damage=0.01, commons="local", endowment=50.0)
    with pytest.raises(CapabilityError, match="global damage"):
        first_best(local, 2.0, transfers="tax-feasible", method="dual")
    assert not rows_dual(local, "utility")
