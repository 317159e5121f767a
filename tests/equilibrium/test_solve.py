import dataclasses

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

import sedtheory as sed
from sedtheory.errors import EquilibriumNotFoundError, InvalidParameterError

from ..conftest import GRAPH_FAMILIES, random_game, reference_utilities, seeds

TOL = 1e-8


def grid_gap(game, a, points=801):
    """Independent lower bound on the Nash gap: deviations on a fine grid, reference utilities."""
    base = reference_utilities(game, a)
    grid = np.unique(np.concatenate([np.linspace(0, game.max_harvest, points), game.tax.thresholds]))
    grid = grid[grid <= game.max_harvest]
    worst = 0.0
    for i in range(game.n):
        profiles = np.repeat(a[None, :], grid.size, axis=0)
        profiles[:, i] = grid
        worst = max(worst, float(game.utilities(profiles)[:, i].max() - base[i]))
    return worst


def check(eq, game):
    assert eq.converged and eq.status == "optimal"
    assert eq.relative_nash_gap <= TOL
    assert eq.nash_gap == pytest.approx(game.nash_gap(eq.actions), abs=1e-12)
    assert grid_gap(game, eq.actions) <= TOL * max(1.0, np.abs(eq.utilities).max())
    np.testing.assert_allclose(eq.utilities, game.utilities(eq.actions))
    assert eq.aggregate == pytest.approx(eq.actions.sum())


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_global_random_instances(seed):
    rng = np.random.default_rng(seed)
    game = random_game(rng, "global", finite_theta=bool(rng.uniform() < 0.8))
    eq = sed.solve_equilibrium(game)
    check(eq, game)
    expected = "aggregate-root" if game.is_concave.all() else "aggregate-root+segment-search"
    assert eq.method == expected


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_local_random_instances(seed):
    rng = np.random.default_rng(seed)
    family = ["ring", "star", "erdos-renyi", "path", "directed", "empty"][int(rng.integers(6))]
    game = random_game(rng, "local", family=family, progressive=True)
    eq = sed.solve_equilibrium(game)
    check(eq, game)


@pytest.mark.parametrize("family", GRAPH_FAMILIES)
@pytest.mark.parametrize("rates", [(0.1, 0.3, 0.6), (0.6, 0.3, 0.1), (0.0, 0.0, 0.0)])
@pytest.mark.parametrize("commons", ["global", "local"])
def test_graph_families_concave_and_not(family, rates, commons):
    rng = np.random.default_rng(abs(hash((family, rates, commons))) % 2**32)
    n = 8
    from ..conftest import make_graph

    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(10, 40, n), graph=make_graph(family, n, 7))
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 5, 12], rates), 0.08, 20.0, 40.0, commons)
    eq = sed.solve_equilibrium(game)
    check(eq, game)


def test_nonconcave_agents_exercised():
    """Complete graph with seed weighting: agents with sigma < 1/2 have convex kinks."""
    sigma = np.linspace(0, 1, 9)
    game = sed.CommonsGame(
        sed.Society(sigma, 30.0), sed.PiecewiseLinearTax([0, 4, 9], [0.1, 0.5, 0.9]), 0.05, 50.0, 30.0
    )
    assert (~game.is_concave).sum() >= 4
    eq = sed.solve_equilibrium(game)
    check(eq, game)
    assert eq.method == "aggregate-root+segment-search"
    assert eq.details["nonconcave_agents"] == int((~game.is_concave).sum())


def test_unique_equilibrium_agrees_with_best_response_dynamics():
    soc = sed.Society([1.0, 0.8, 0.9, 0.7], [10.0, 20.0, 30.0, 15.0], neighbor_weighting="mean")
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 6], [0.1, 0.3]), 0.05, 5.0, 40.0)
    assert game.is_concave.all()
    exact = sed.solve_equilibrium(game)
    generic = sed.solve_equilibrium(game, method="best-response", tol=1e-12)
    np.testing.assert_allclose(exact.actions, generic.actions, atol=1e-6)


def test_no_effort_cost_selection_and_aggregate():
    """theta = inf: only the aggregate is pinned down; equal agents get equal actions."""
    n, kappa = 5, 0.1
    game = sed.CommonsGame(
        sed.Society(np.ones(n), np.inf), sed.PiecewiseLinearTax([0], [0.0]), kappa, 0.0, 100.0
    )
    eq = sed.solve_equilibrium(game)
    check(eq, game)
    # Selfish FOC: 1 - kappa A / n = 0, so A = n / kappa = n times the utilitarian optimum 1/kappa.
    assert eq.aggregate == pytest.approx(n / kappa)
    np.testing.assert_allclose(eq.actions, eq.aggregate / n)
    assert "lambda" in eq.selection


def test_indifferent_agents_play_zero():
    soc = sed.Society([0.0, 1.0, 1.0], 10.0, graph=_isolated_first())
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0], [0.2]), 0.1, 10.0, 30.0)
    eq = sed.solve_equilibrium(game)
    check(eq, game)
    assert eq.actions[0] == 0.0


def _isolated_first():
    g = nx.empty_graph(3)
    g.add_edge(1, 2)
    return g


def test_nash_gap_of_planted_profile():
    """Two selfish agents, no damage: u = a - a^2/(2 theta), BR = theta, gap at 0 = theta/2."""
    game = sed.CommonsGame(
        sed.Society([1.0, 1.0], 4.0), sed.PiecewiseLinearTax([0], [0.0]), 0.0, max_harvest=10.0
    )
    assert sed.nash_gap(game, np.zeros(2)) == pytest.approx(2.0)
    assert sed.nash_gap(game, np.array([4.0, 4.0])) == 0.0
    eq = sed.certify(game, np.array([4.0, 3.0]))
    assert not eq.converged and eq.nash_gap == pytest.approx(1 / 8)


def test_failure_is_reported_not_hidden():
    game = sed.scenarios.apple_picking((0.1, 0.3, 0.6))
    with pytest.raises(EquilibriumNotFoundError) as info:
        sed.solve_equilibrium(game, method="best-response", max_iter=0)
    assert info.value.status == "no-pure-equilibrium-found"
    assert info.value.best_actions is not None and info.value.best_gap > 0
    eq = sed.solve_equilibrium(game, method="best-response", max_iter=0, raise_on_failure=False)
    assert not eq.converged and eq.status == "no-pure-equilibrium-found"


def test_result_is_frozen_and_read_only():
    eq = sed.solve_equilibrium(sed.scenarios.apple_picking())
    with pytest.raises(dataclasses.FrozenInstanceError):
        eq.nash_gap = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        eq.actions[0] = 1.0
    assert "aggregate" in eq.certificate or "root" in eq.certificate


def test_bad_method_arguments():
    game = sed.scenarios.apple_picking()
    with pytest.raises(InvalidParameterError, match="method"):
        sed.solve_equilibrium(game, method="gradient")
    with pytest.raises(InvalidParameterError, match="method"):
        sed.solve_equilibrium(game, method="active-set")
    with pytest.raises(InvalidParameterError, match="tol"):
        sed.solve_equilibrium(game, tol=0.0)
    local = sed.CommonsGame(
        sed.Society([0.5] * 3, 5.0, graph=nx.path_graph(3)), game.tax, 0.1, max_harvest=40.0, commons="local"
    )
    with pytest.raises(InvalidParameterError, match="method"):
        sed.solve_equilibrium(local, method="aggregate")
    with pytest.raises(InvalidParameterError, match="game"):
        sed.solve_equilibrium("game")  # type: ignore[arg-type]


@pytest.mark.slow
def test_large_instances_certified():
    rng = np.random.default_rng(0)
    n = 200_000
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(20, 60, n))
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 10, 20], [0.1, 0.3, 0.6]), 2.0 / n, 50.0, 40.0)
    eq = sed.solve_equilibrium(game)
    assert eq.converged and eq.relative_nash_gap <= 1e-9
    m = 20_000
    graph = nx.fast_gnp_random_graph(m, 10 / m, seed=1)
    soc = sed.Society(rng.uniform(0, 1, m), rng.uniform(20, 60, m), graph=graph)
    local = sed.CommonsGame(
        soc, sed.PiecewiseLinearTax([0, 10, 20], [0.1, 0.3, 0.6]), 0.05, 50.0, 40.0, "local"
    )
    eq = sed.solve_equilibrium(local)
    assert eq.converged and eq.relative_nash_gap <= 1e-9


@pytest.mark.parametrize("seed", [35203, 2209])
def test_local_regime_cycle_falls_back_to_best_responses(seed):
    """Instances (found by hypothesis) where the regime iteration cycles with an agent on a bracket
    threshold: the solver recovers through damped best responses and says so in its method."""
    rng = np.random.default_rng(seed)
    family = ["ring", "star", "erdos-renyi", "path", "directed", "empty"][int(rng.integers(6))]
    game = random_game(rng, "local", family=family, progressive=True)
    eq = sed.solve_equilibrium(game)
    check(eq, game)
    assert eq.method == "active-set-newton+best-response"
    assert eq.details["fallback"] == "damped-best-response"


def test_identical_agents_without_effort_cost_where_the_segment_search_cycles():
    """A hypothesis-found game (seed 57369 of random_game): seven agents without effort cost
    (theta = inf), two of them identical (sigma = 1), a convex kink at the top bracket. The
    restricted root shares the jump between the identical agents, the segment search cycles,
    and the improvement path (one exact best reply at a time, the weighted potential rising)
    ends at an exact equilibrium: one of the twins takes the top bracket alone."""
    rng = np.random.default_rng(57369)
    game = random_game(rng, "global", finite_theta=bool(rng.uniform() < 0.8))
    assert np.all(np.isinf(game.society.productivity))
    eq = sed.solve_equilibrium(game)
    check(eq, game)
    assert eq.details["improvement_steps"] >= 1
    twins = np.flatnonzero(game.society.selfishness == 1.0)
    assert (
        sorted(np.round(eq.actions[twins], 9).tolist())[0]
        != sorted(np.round(eq.actions[twins], 9).tolist())[1]
    )


def test_auto_falls_back_to_the_enumeration_where_the_search_cycles():
    """Hypothesis seed 4804 of tests/test_masses.py: a 4-agent game with masses whose segment
    search cycles; method="auto" returns the enumeration's equilibrium, certified."""
    from tests.test_masses import _pair

    massed, _, _ = _pair(np.random.default_rng(4804))
    eq = sed.solve_equilibrium(massed)
    assert eq.converged and eq.method.endswith("+enumeration")
    assert eq.nash_gap <= 1e-9 * max(1.0, float(np.abs(eq.utilities).max()))
    with pytest.raises(EquilibriumNotFoundError):  # a named solver reports its own failure
        sed.solve_equilibrium(massed, method="aggregate")
