"""Every agent's largest utility over tax-feasible plans, bounded at once (``agent_maxima``)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.principal.weighted_planner import agent_maxima, weight_rows, weighted_plan
from tests.conftest import random_game
from tests.principal.test_planner_dual import cvxpy_weighted, massed_game


def ring_game(n: int, seed: int = 0, masses: bool = False) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    soc = sed.Society(
        rng.uniform(0.0, 1.0, n),
        rng.uniform(5, 40, n),
        graph=nx.cycle_graph(n),
        masses=rng.uniform(0.5, 2.0, n) if masses else None,
    )
    tax = sed.PiecewiseLinearTax([0.0, 10.0], [0.0, 0.0])
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), massed=st.booleans(), payoff=st.booleans())
def test_bounds_every_agents_maximum(seed: int, massed: bool, payoff: bool) -> None:
    rng = np.random.default_rng(seed)
    game = massed_game(seed) if massed else random_game(rng)
    of = "payoff" if payoff else "utility"
    bounds = agent_maxima(game, of)
    rows = weight_rows(game, of).toarray()
    for i in range(game.n):
        ref = cvxpy_weighted(game, rows[i])
        assert bounds[i] >= ref - 1e-7 * max(1.0, abs(ref))  # weak duality, whatever the row


@pytest.mark.parametrize("masses", [False, True])
def test_exact_on_a_sparse_graph(masses: bool) -> None:
    """Three agents in a row of 60: the budget does not bind, so the zero budget price is exact."""
    game = ring_game(60, masses=masses)
    bounds = agent_maxima(game)
    rows = weight_rows(game, "utility").toarray()
    for i in (0, 17, 59):
        plan = weighted_plan(game, rows[i])
        assert plan.value <= bounds[i] <= plan.value + 1e-9 * abs(plan.value)


def test_dense_rows_are_bounded_not_exact() -> None:
    """On the complete graph of seven the unpriced budget overstates the maximum (a valid bound)."""
    game = sed.scenarios.apple_picking()
    bounds = agent_maxima(game)
    exact = np.array([weighted_plan(game, row).value for row in weight_rows(game, "utility").toarray()])
    assert np.all(bounds >= exact)
    assert np.max(bounds - exact) > 1.0


def test_chunks_agree() -> None:
    game = ring_game(300, seed=2)
    whole = agent_maxima(game)
    import sedtheory.principal.weighted_planner as wp

    old = wp.ROW_CHUNK
    try:
        wp.ROW_CHUNK = 50  # blocks of about 17 rows
        np.testing.assert_array_equal(agent_maxima(game), whole)
    finally:
        wp.ROW_CHUNK = old


def test_no_harvest_cap_and_no_damage() -> None:
    rng = np.random.default_rng(4)
    soc = sed.Society(rng.uniform(0.2, 1.0, 6), rng.uniform(5, 40, 6), graph=nx.path_graph(6))
    tax = sed.PiecewiseLinearTax([0.0], [0.0])
    for damage, amax in ((0.05, math.inf), (0.0, 40.0)):
        game = sed.CommonsGame(soc, tax, damage=damage, endowment=30.0, max_harvest=amax)
        bounds = agent_maxima(game)
        for i, row in enumerate(weight_rows(game, "utility").toarray()):
            ref = cvxpy_weighted(game, row)
            assert bounds[i] >= ref - 1e-7 * max(1.0, abs(ref))
            assert math.isfinite(bounds[i])


def test_bad_input() -> None:
    game = ring_game(10)
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        agent_maxima(game, "wealth")
    local = sed.CommonsGame(game.society, game.tax, damage=0.01, commons="local", endowment=50.0)
    with pytest.raises(CapabilityError, match="global damage"):
        agent_maxima(local)
