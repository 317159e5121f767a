"""The first best by its Lagrangian dual, against cvxpy, scipy and the convex program."""

from __future__ import annotations

import math
from dataclasses import replace

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import CapabilityError, DomainError, InvalidParameterError
from sedtheory.principal import first_best
from sedtheory.principal.planner_dual import (
    DUAL_TOL,
    dual_first_best,
    plan_bound,
    prices_bound,
    weighted_plan,
)
from tests.conftest import random_game
from tests.principal.test_first_best import scipy_first_best, small_game

PS = (-math.inf, -2.0, -1.0, 0.0, 0.5, 1.0)


def massed_game(seed: int, n: int = 5, damage: float = 0.05, amax: float = 40.0) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0.0, 1.0, n), rng.uniform(5, 40, n), masses=rng.uniform(0.5, 3.0, n))
    tax = sed.PiecewiseLinearTax([0.0, 10.0], [0.2, 0.4])
    return sed.CommonsGame(soc, tax, damage=damage, endowment=30.0, max_harvest=amax)


def cvxpy_weighted(game: sed.CommonsGame, nu: np.ndarray) -> float:
    """Reference: ``max sum_j nu_j r_j`` over tax-feasible plans, written directly in cvxpy."""
    n, k = game.n, game.kernel
    m = np.ones(n) if k.mass is None else k.mass
    a, t = cp.Variable(n), cp.Variable(n)
    total = m @ a
    cons = [a >= 0, a <= game.max_harvest, m @ t == 0, t >= -a, t <= total / k.population]
    cost = cp.multiply(nu * k.cost_weights, cp.square(a))
    damage = float(nu.sum()) * k.kappa / (2 * k.population) * cp.square(total)
    problem = cp.Problem(cp.Maximize(nu @ (k.omega + a + t) - cp.sum(cost) - damage), cons)
    problem.solve(solver="CLARABEL")
    assert problem.status == cp.OPTIMAL
    return float(problem.value)


def feasible(game: sed.CommonsGame, a: np.ndarray, t: np.ndarray) -> bool:
    k = game.kernel
    m = np.ones(game.n) if k.mass is None else k.mass
    abar = float(m @ a) / k.population
    scale = max(1.0, float(np.abs(t).max()))
    return bool(
        np.all(a >= 0)
        and np.all(a <= game.max_harvest)
        and abs(float(m @ t)) <= 1e-9 * scale * m.sum()
        and np.all(t >= -a - 1e-9 * scale)
        and np.all(t <= abar + 1e-9 * scale)
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), massed=st.booleans())
def test_weighted_plan_matches_cvxpy(seed: int, massed: bool) -> None:
    rng = np.random.default_rng(seed)
    game = massed_game(seed) if massed else random_game(rng)
    nu = rng.uniform(0.0, 2.0, game.n)
    nu[rng.uniform(size=game.n) < 0.2] = 0.0
    plan = weighted_plan(game, nu)
    ref = cvxpy_weighted(game, nu)
    tol = 1e-7 * max(1.0, abs(ref))
    assert plan.value <= ref + tol  # a feasible plan
    assert plan.bound >= ref - tol  # weak duality
    # and the two meet (to 1e-8 where an agent has no curvature: nu_j = 0 or theta_j = inf, whose
    # prices come from a golden-section search instead of the kinks' binary search)
    assert plan.gap <= 1e-8 * max(1.0, abs(plan.bound))
    assert feasible(game, plan.actions, plan.transfers)


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("seed", [0, 1])
def test_dual_first_best_matches_scipy(p: float, seed: int) -> None:
    game = small_game(seed)
    fb = dual_first_best(game, p)
    assert fb.status == "optimal"
    ref = scipy_first_best(game, p, "tax-feasible")
    assert fb.welfare >= ref - 1e-6 * abs(ref)  # SLSQP never beats the certified optimum
    assert fb.upper_bound >= ref - 1e-6 * abs(ref)
    assert fb.welfare == pytest.approx(ref, rel=1e-5)
    assert feasible(game, fb.actions, fb.transfers)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from(PS))
def test_dual_and_convex_first_best_bound_each_other(seed: int, p: float) -> None:
    rng = np.random.default_rng(seed)
    game = massed_game(seed) if seed % 3 == 0 else random_game(rng)
    try:
        dual = first_best(game, p, transfers="tax-feasible", method="dual")
    except DomainError:  # a value at 0 with p <= 0 at the dual's start: the convex program says more
        return
    convex = first_best(game, p, transfers="tax-feasible", method="convex")
    # the cone program's plans violate t >= -a by up to ~2e-7 (its feasibility tolerance), which
    # can lift their value above the exact optimum by that much
    scale = max(1.0, abs(dual.upper_bound))
    assert dual.upper_bound >= convex.welfare - 1e-7 * scale
    assert convex.upper_bound >= dual.welfare - 1e-9 * scale
    if dual.status == "optimal":
        assert dual.upper_bound - dual.welfare <= DUAL_TOL * scale


@pytest.mark.parametrize("seed", [5, 6])
def test_masses_equal_the_split_society(seed: int) -> None:
    """A member of mass m is m identical agents acting alone (DESIGN section 1)."""
    from tests.test_masses import _pair

    massed, split, _ = _pair(np.random.default_rng(seed))
    for p in (-math.inf, 0.0, 1.0):
        one, two = dual_first_best(massed, p), dual_first_best(split, p)
        assert one.status == two.status == "optimal"
        assert one.welfare == pytest.approx(two.welfare, rel=1e-8)
        auto = first_best(massed, p, transfers="tax-feasible")
        assert auto.status == "optimal"
        assert auto.welfare <= one.upper_bound + 1e-7 * one.upper_bound


def test_payoff_welfare() -> None:
    game = small_game(2)
    for p in (-math.inf, 0.0, 1.0):
        dual = dual_first_best(game, p, welfare_of="payoff")
        convex = first_best(game, p, transfers="tax-feasible", welfare_of="payoff", method="convex")
        assert dual.status == convex.status == "optimal"
        assert dual.welfare <= convex.upper_bound + 1e-9 * abs(dual.welfare)
        assert convex.welfare <= dual.upper_bound + 1e-7 * abs(dual.welfare)
        assert dual.welfare == pytest.approx(convex.welfare, rel=1e-5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from(PS), payoff=st.booleans())
def test_separable_values_close_at_once(seed: int, p: float, payoff: bool) -> None:
    """Selfish agents (W diagonal) or payoff welfare: water-filling the transfers for the weighted
    planner's harvests closes the gap in a few rounds (Frank-Wolfe stalled near 1e-5 there)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    sigma = np.ones(n) if not payoff else rng.uniform(0.0, 1.0, n)
    masses = rng.uniform(0.5, 3.0, n) if seed % 2 else None
    soc = sed.Society(sigma, rng.uniform(5, 40, n), masses=masses)
    amax = 40.0 if seed % 3 else math.inf
    game = sed.CommonsGame(
        soc, sed.PiecewiseLinearTax([0.0], [0.1]), damage=0.05, endowment=30.0, max_harvest=amax
    )
    of = "payoff" if payoff else "utility"
    dual = dual_first_best(game, p, welfare_of=of)
    assert dual.status == "optimal" and dual.rounds <= 20
    assert feasible(game, dual.actions, dual.transfers)
    convex = first_best(game, p, transfers="tax-feasible", welfare_of=of, method="convex")
    assert convex.welfare <= dual.upper_bound + 1e-7 * abs(dual.upper_bound)
    assert dual.welfare == pytest.approx(convex.welfare, rel=1e-5)


def test_several_lowest_agents_need_the_column_generation() -> None:
    """Seed 1: two agents tie at the max-min first best; Frank-Wolfe on M_q alone stalled at a gap of
    6e-5 after 200 rounds, the column generation closes it."""
    game = small_game(1)
    fb = dual_first_best(game, -math.inf)
    assert fb.status == "optimal"
    low = np.sort(fb.utilities)[:2]
    assert low[1] - low[0] <= 1e-6 * low[0]


def test_bounds_from_any_reference_are_valid() -> None:
    game = sed.scenarios.apple_picking()
    laissez = game.utilities(sed.solve_equilibrium(game).actions)
    for p in (-2.0, 0.0, 1.0):
        best = first_best(game, p, transfers="tax-feasible", method="convex")
        assert best.status == "optimal"
        assert plan_bound(game, p, laissez) >= best.welfare - 1e-9 * best.welfare  # far, but valid
        if p < 1:  # at p = 1 the gradient is constant: the bound is exact from any reference
            assert plan_bound(game, p, laissez) > best.welfare * (1 + 1e-3)
        # tight at the optimum's own values (to the cone program's accuracy)
        assert plan_bound(game, p, best.utilities) <= best.welfare * (1 + 1e-5)
    spread = np.full(game.n, 1.0 / game.n)
    assert prices_bound(game, spread) >= first_best(game, -math.inf, transfers="tax-feasible").welfare


def test_planted_inaccurate_plan_is_not_certified() -> None:
    """A convex program's plan with its transfers halved (feasible, suboptimal): the certificate must
    report the gap instead of "optimal"."""
    from sedtheory.principal.first_best import _certified

    game = small_game(0)
    fb = first_best(game, 0.0, transfers="tax-feasible", method="convex")
    assert fb.status == "optimal"
    a = fb.actions
    t = 0.5 * (fb.transfers - float(fb.transfers.mean()))  # still feasible: half of every transfer
    pay = game.kernel.plan_payoffs(a, t)
    util = game.society.apply_weights(pay)
    planted = replace(fb, actions=a, payoffs=pay, utilities=util, welfare=sed.pmean(util, 0.0))
    checked = _certified(game, planted, "tax-feasible", "utility")
    assert checked.status == "bounded"
    assert checked.upper_bound >= fb.welfare - 1e-9 * fb.welfare
    assert checked.upper_bound - checked.welfare > 1e-6 * checked.welfare


def test_apply_weights_transposed_matches_the_matrix() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        game = random_game(rng)
        v = rng.normal(size=game.n)
        expected = game.society.weights.T @ v
        assert np.allclose(game.society.apply_weights_transposed(v), expected, atol=1e-12)
    with pytest.raises(sed.errors.ShapeError):
        game.society.apply_weights_transposed(np.ones(game.n + 1))


def test_bad_input() -> None:
    game = small_game(0)
    with pytest.raises(InvalidParameterError, match="weights"):
        weighted_plan(game, -np.ones(game.n))
    with pytest.raises(InvalidParameterError, match="p"):
        dual_first_best(game, 2.0)
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        dual_first_best(game, 0.0, welfare_of="income")
    with pytest.raises(InvalidParameterError, match="max_rounds"):
        dual_first_best(game, 0.0, max_rounds=0)
    with pytest.raises(InvalidParameterError, match="prices"):
        prices_bound(game, np.ones(game.n))
    with pytest.raises(InvalidParameterError, match="method"):
        first_best(game, 0.0, transfers="tax-feasible", method="fast")  # type: ignore[arg-type]
    with pytest.raises(CapabilityError, match="method"):
        first_best(game, 0.0, transfers="lump-sum", method="dual")
    local = random_game(np.random.default_rng(0), commons="local", family="ring", n=5)
    with pytest.raises(CapabilityError, match="global damage"):
        dual_first_best(local, 0.0)
    poor = sed.CommonsGame(game.society, game.tax, damage=0.05, endowment=0.0, max_harvest=40.0)
    with pytest.raises(DomainError, match="endowment"):
        dual_first_best(poor, 0.0)


def test_auto_takes_the_dual_where_it_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    """``method="auto"``: the dual on the complete graph from DUAL_FROM agents and for separable
    values at any size; the cone program (certified by the dual bound) on sparse graphs."""
    import importlib

    module = importlib.import_module("sedtheory.principal.first_best")
    monkeypatch.setattr(module, "DUAL_FROM", 4)
    rng = np.random.default_rng(0)
    tax = sed.PiecewiseLinearTax([0.0, 10.0], [0.1, 0.2])

    def game(graph: object, sigma: np.ndarray) -> sed.CommonsGame:
        soc = sed.Society(sigma, rng.uniform(5, 40, 6), graph=graph)
        return sed.CommonsGame(soc, tax, damage=0.05, endowment=30.0, max_harvest=40.0)

    import networkx as nx

    complete = first_best(game(None, rng.uniform(0.2, 1.0, 6)), 0.0, transfers="tax-feasible")
    ring = first_best(game(nx.cycle_graph(6), rng.uniform(0.2, 1.0, 6)), 0.0, transfers="tax-feasible")
    selfish = first_best(game(nx.cycle_graph(6), np.ones(6)), 0.0, transfers="tax-feasible")
    assert complete.solver == selfish.solver == "sedtheory (planner_dual)"
    assert ring.solver != "sedtheory (planner_dual)" and "dual_bound" in ring.details
    assert all(fb.status == "optimal" for fb in (complete, ring, selfish))
