"""The agent-by-agent second-best bound over a box of rates: never below any equilibrium of any rate
in the box (every p, utilities and payoffs, prosocial graphs), tight on small boxes, able to refute
a poor box, and the branch and bound's finite bound for societies past the regime listing."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory import CommonsGame, Objective, PiecewiseLinearTax, Society
from sedtheory.principal.agentwise import agentwise_bound
from sedtheory.principal.branch_bound import REGIME_AGENTS, rate_box_bound
from sedtheory.principal.regime_forms import RegimeModel
from tests.principal.test_regime_forms import random_game

PS = [-math.inf, -1.0, 0.0, 0.5, 1.0, 2.0, math.inf]


def _at(game: CommonsGame, rates: np.ndarray) -> CommonsGame:
    return game.with_policy(PiecewiseLinearTax(game.tax.thresholds, rates))


def _weights(game: CommonsGame, obj: Objective) -> np.ndarray:
    o = obj.for_game(game)
    return np.full(game.n, 1.0 / game.n) if o.weights is None else np.asarray(o.weights, float)


def _best(game: CommonsGame, obj: Objective) -> float:
    """The optimistic welfare at these rates: the best of every pure equilibrium."""
    found = sed.equilibria(game)
    o = obj.for_game(game)
    return max(o.of_profile(game, a) for a in found.actions)


def _safe_best(game: CommonsGame, obj: Objective) -> float:
    try:
        return _best(game, obj)
    except sed.errors.DomainError:  # utilities outside M_p's domain: nothing to bound
        return -math.inf


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(2, 6),
    st.integers(1, 3),
    st.floats(0.002, 0.3),
    st.sampled_from(PS),
    st.sampled_from(["utility", "payoff"]),
)
def test_the_bound_is_above_every_equilibrium_in_the_box(
    seed: int, n: int, brackets: int, width: float, p: float, of: str
) -> None:
    game = random_game(seed, n, brackets)
    rng = np.random.default_rng(seed + 3)
    centre = rng.uniform(width, 1 - width, brackets)
    half = np.full(brackets, width)
    obj = Objective(p, of=of)
    model = RegimeModel.of(game, np.array([np.zeros(brackets), np.ones(brackets)]))
    box = agentwise_bound(model, _weights(game, obj), p, of, centre, half)
    for d in np.vstack([np.zeros(brackets), rng.uniform(-1, 1, (3, brackets)) * half]):
        best = _safe_best(_at(game, centre + d), obj)
        assert best <= box.bound + 1e-7 * max(1.0, abs(best))
    assert 0 <= box.side < brackets


def _prosocial(seed: int, n: int) -> CommonsGame:
    rng = np.random.default_rng(seed)
    soc = Society(
        rng.uniform(0, 1, n), rng.uniform(20, 60, n), graph=nx.watts_strogatz_graph(n, 4, 0.2, seed=seed)
    )
    tax = PiecewiseLinearTax([0.0, 10.0, 20.0], [0.0, 0.0, 0.0])
    return CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 1000), st.sampled_from([-math.inf, 0.0, 1.0, 2.0]))
def test_the_bound_holds_on_a_prosocial_graph_of_a_hundred_agents(seed: int, p: float) -> None:
    """Past the regime listing (n > REGIME_AGENTS), against the solver's equilibria at sampled
    rates (a lower bound on the optimistic welfare there, which the bound must exceed)."""
    game = _prosocial(seed, 100)
    rng = np.random.default_rng(seed)
    centre, half = rng.uniform(0.1, 0.9, 3), np.full(3, 0.05)
    obj = Objective(p)
    model = RegimeModel.of(game, np.array([np.zeros(3), np.ones(3)]))
    box = agentwise_bound(model, _weights(game, obj), p, "utility", centre, half)
    for d in rng.uniform(-1, 1, (3, 3)) * half:
        eq = sed.solve_equilibrium(_at(game, centre + d))
        value = obj.for_game(game).of_profile(_at(game, centre + d), eq.actions)
        assert value <= box.bound + 1e-7 * max(1.0, abs(value))


def test_small_boxes_are_tight_and_a_poor_box_is_refuted() -> None:
    """The error shrinks faster than the box (second order where every agent's type is fixed), and
    a box of poor rates is bounded below the optimum: the planted check that the bound excludes."""
    game = _prosocial(7, 200)
    model = RegimeModel.of(game, np.array([np.zeros(3), np.ones(3)]))
    w = np.full(game.n, 1.0 / game.n)
    rates = np.array([0.3, 0.6, 0.6])
    value = Objective(1.0).of_profile(_at(game, rates), sed.solve_equilibrium(_at(game, rates)).actions)
    excess = [
        agentwise_bound(model, w, 1.0, "utility", rates, np.full(3, h)).bound - value for h in (0.02, 0.005)
    ]
    assert excess[0] > 0 and excess[1] > 0
    assert excess[1] < excess[0] / 4
    design = sed.optimal_tax(game, 1.0)
    poor = agentwise_bound(model, w, 1.0, "utility", np.array([0.02, 0.02, 0.02]), np.full(3, 0.01))
    assert poor.bound < design.welfare


def test_the_branch_and_bound_bounds_a_large_society() -> None:
    game = _prosocial(3, 150)
    assert game.n > REGIME_AGENTS
    design = sed.optimal_tax(game, 1.0)

    def run(limit: float) -> sed.principal.SecondBestBound:
        start = (design.rates, design.equilibrium.actions, design.welfare)
        box = np.array([np.zeros(3), np.ones(3)])
        return rate_box_bound(game, Objective(1.0), box, incumbent=start, time_limit=limit)

    res = run(10.0)
    assert res.details["boxes bounded agent by agent"] == res.nodes - 1
    assert design.welfare - 1e-9 <= res.upper < math.inf
    shorter = run(2.0)
    assert res.upper <= shorter.upper  # the bound only tightens with time


@pytest.mark.parametrize("p", [-math.inf, 1.0])
def test_certify_reports_the_second_best_bound_for_a_large_society(p: float) -> None:
    game = _prosocial(5, 120)
    design = sed.optimal_tax(game, p, certify=True, time_limit=10)
    first = sed.optimal_tax(game, p)
    assert design.welfare >= first.welfare - 1e-9 * abs(first.welfare)
    assert design.welfare <= design.upper_bound <= first.upper_bound
    assert "agent by agent" in design.details["global_bound"]
    # the relaxed planner (a third of the time) is the tighter bound at this size
    assert "relaxed planner" in design.details["global_bound"]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.integers(1, 3), st.floats(0.01, 0.2))
def test_a_child_box_started_from_its_parents_cells_keeps_every_equilibrium_total(
    seed: int, n: int, brackets: int, width: float
) -> None:
    """The branch and bound's cheap cells (parent's cells as the start, the screen only for agents
    with several types, at most 64 cells) stay exhaustive: every equilibrium total at rates in the
    child box lies in one of them."""
    from sedtheory.principal.regime_forms import aggregate_cells

    game = random_game(seed, n, brackets)
    rng = np.random.default_rng(seed + 5)
    centre, half = rng.uniform(width, 1 - width, brackets), np.full(brackets, width)
    model = RegimeModel.of(game, np.array([np.zeros(brackets), np.ones(brackets)]))
    parent = aggregate_cells(model, centre, half, False, 64)
    j = int(rng.integers(brackets))
    child_half = half.copy()
    child_half[j] *= 0.5
    child_centre = centre.copy()
    child_centre[j] += child_half[j] * (1 if rng.uniform() < 0.5 else -1)
    cells = aggregate_cells(model, child_centre, child_half, False, 64, parent[0])[0]
    for d in rng.uniform(-1, 1, (3, brackets)) * child_half:
        for a in sed.equilibria(_at(game, child_centre + d)).actions:
            total = float(a.sum())
            slack = 1e-7 * max(1.0, total)
            assert np.any((cells[:, 0] - slack <= total) & (total <= cells[:, 1] + slack))


def test_the_branch_and_bound_stops_when_asked_with_a_valid_bound() -> None:
    game = _prosocial(2, 70)
    design = sed.optimal_tax(game, 0.0)
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    res = rate_box_bound(
        game,
        Objective(0.0),
        np.array([np.zeros(3), np.ones(3)]),
        incumbent=(design.rates, design.equilibrium.actions, design.welfare),
        stop=stop,
    )
    assert res.status == "stopped" and res.seconds < 30
    assert res.upper >= design.welfare


def test_box_centres_improve_a_poor_incumbent() -> None:
    """Planted: started from laissez-faire, the branch and bound past the regime listing finds a
    better certified design among its boxes' centres (checked by the kernel's exact Nash gap)."""
    game = _prosocial(4, 80)
    zero = np.zeros(3)
    eq = sed.solve_equilibrium(_at(game, zero))
    start = Objective(1.0).of_profile(_at(game, zero), eq.actions)
    res = rate_box_bound(
        game,
        Objective(1.0),
        np.array([zero, np.ones(3)]),
        incumbent=(zero, eq.actions, start),
        time_limit=3.0,
    )
    assert res.primal > start and res.x is not None and res.actions is not None
    g = _at(game, res.x)
    assert g.nash_gap(res.actions) <= 1e-9 * max(1.0, float(np.abs(g.utilities(res.actions)).max()))
    assert Objective(1.0).of_profile(g, res.actions) == pytest.approx(res.primal, rel=1e-12)
    assert res.upper >= res.primal
