"""Exact equilibrium sensitivities, the welfare gradient and the gradient ascent of large societies."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
import sedtheory.principal.policy as policy_module
from sedtheory.objective import Objective
from sedtheory.principal import optimal_tax
from sedtheory.principal.gradient import LARGE, ascent, design, welfare_gradient
from sedtheory.principal.search import SearchResult
from sedtheory.principal.spaces import BracketRates

THRESHOLDS = [0.0, 10.0, 20.0]


def _game(n: int, seed: int, rates=(0.2, 0.4, 0.6), masses=None, graph=None) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0.3, 1.0, n), rng.uniform(5.0, 40.0, n), graph=graph, masses=masses)
    tax = sed.PiecewiseLinearTax(THRESHOLDS, list(rates))
    return sed.CommonsGame(soc, tax, damage=0.5 / n, endowment=50.0, max_harvest=40.0)


def _regime(game: sed.CommonsGame, a: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Each agent's piece, and -1 where it does not move with the rates (kink, bound)."""
    moving = np.any(game.kernel.rate_sensitivity(a, rates)[1] != 0.0, axis=1)
    return np.where(moving, np.searchsorted(THRESHOLDS, a, side="right"), -1)


def _solve(game: sed.CommonsGame, rates: np.ndarray) -> np.ndarray:
    g = game.with_policy(sed.PiecewiseLinearTax(THRESHOLDS, rates))
    return np.asarray(sed.solve_equilibrium(g, tol=1e-13).actions)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 30), st.integers(0, 10_000), st.integers(0, 2), st.booleans())
def test_sensitivity_matches_resolved_equilibria(n: int, seed: int, b: int, massed: bool) -> None:
    """d a / d rho_b from the regime equals the difference quotient of re-solved equilibria
    (progressive rates: a unique equilibrium; a step small enough to stay in the regime)."""
    rng = np.random.default_rng(seed)
    masses = rng.uniform(0.5, 3.0, n) if massed else None
    rates = np.sort(rng.uniform(0.05, 0.9, 3))
    game = _game(n, seed, rates, masses)
    a = _solve(game, rates)
    d_agg, da = game.kernel.rate_sensitivity(a, rates)
    h = 1e-7
    up, down = rates.copy(), rates.copy()
    up[b] += h
    down[b] -= h
    a_up, a_down = _solve(game, up), _solve(game, down)
    kink = _regime(game, a_up, up) != _regime(game, a_down, down)
    fd = (a_up - a_down) / (2 * h)
    keep = ~kink  # an agent that changes regime within the step has one-sided derivatives
    assert keep.sum() >= n // 2  # the check below is about most agents, not a vacuous few
    np.testing.assert_allclose(da[keep, b], fd[keep], rtol=1e-4, atol=1e-5)
    total = game.kernel.total(fd)
    if not np.any(kink):
        assert d_agg[b] == pytest.approx(total, rel=1e-4, abs=1e-5)


def test_agents_at_kinks_and_bounds_do_not_move() -> None:
    """An agent sitting on a bracket threshold (or at 0) has zero sensitivity."""
    game = _game(12, 3, (0.0, 0.9, 0.9))
    rates = np.array([0.0, 0.9, 0.9])
    a = _solve(game, rates)
    _, da = game.kernel.rate_sensitivity(a, rates)
    at_kink = np.isclose(a, 10.0, atol=1e-7) | (a <= 1e-9)
    assert np.any(at_kink)
    assert np.all(da[at_kink] == 0.0)


@pytest.mark.parametrize("p", [-math.inf, -1.0, 0.0, 1.0, 2.0])
def test_welfare_gradient_matches_resolved_welfare(p: float) -> None:
    """The regime gradient of M_p equals the difference quotient of M_p at re-solved equilibria."""
    game = _game(15, 7, graph=nx.cycle_graph(15))
    rates = np.array([0.15, 0.35, 0.7])
    obj = Objective(p).for_game(game)
    a = _solve(game, rates)
    g = welfare_gradient(game.kernel, obj, rates, a)
    h = 1e-6
    for b in range(3):
        e = np.eye(3)[b] * h
        w = []
        for r in (rates + e, rates - e):
            gm = game.with_policy(sed.PiecewiseLinearTax(THRESHOLDS, r))
            w.append(obj.evaluate(obj.values(gm.utilities(_solve(game, r)), gm.payoffs(_solve(game, r)))))
        assert g[b] == pytest.approx((w[0] - w[1]) / (2 * h), rel=1e-4, abs=1e-6)


class _Quadratic:
    """A planted smooth objective over the rate box with a known maximiser (for the ascent)."""

    def __init__(self, peak: np.ndarray) -> None:
        self.peak = peak

    def value(self, x: np.ndarray) -> np.ndarray:
        return -np.sum((x - self.peak) ** 2 * np.array([1.0, 4.0, 0.25]), axis=-1)

    def evaluate(self, x: np.ndarray):
        outer = self

        class _Batch:
            actions = x.copy()

            def welfare(self, objective):
                return outer.value(x)

        return _Batch()

    def gradient(self, x: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return -2.0 * (x - self.peak) * np.array([1.0, 4.0, 0.25])


def test_ascent_reaches_a_planted_maximum_and_never_gets_worse() -> None:
    f = _Quadratic(np.array([0.3, 0.8, 1.0]))  # the last coordinate on the face of the box
    lo, hi = np.zeros(3), np.ones(3)
    starts = np.array([[0.9, 0.1, 0.2], [0.0, 0.0, 0.0]])
    values = f.value(starts)
    out = ascent(f.evaluate, f.gradient, Objective(1.0), (starts, values, starts.copy()), lo, hi, 0.25, 1e-7)
    assert isinstance(out, SearchResult)
    assert np.all(out.values >= values)
    np.testing.assert_allclose(out.points, np.tile(f.peak, (2, 1)), atol=1e-5)


@pytest.mark.parametrize("budget", [0, 4, 5, 12, 40])
def test_ascent_stops_within_its_evaluation_budget(budget: int) -> None:
    """Planted wrong gradient: line batches (5 policies) fail, coordinate batches (12) take over;
    no start solves more trial policies than ``max_evaluations``, and a budget large enough
    gives the unbounded result."""
    f = _Quadratic(np.array([0.5, 0.5, 0.5]))
    lo, hi = np.zeros(3), np.ones(3)
    start = np.array([[0.1, 0.9, 0.2], [0.8, 0.2, 0.7]])
    begin = (start, f.value(start), start)
    wrong = lambda x, a: -f.gradient(x, a)  # noqa: E731
    out = ascent(f.evaluate, wrong, Objective(1.0), begin, lo, hi, 0.25, 1e-6, max_evaluations=budget)
    assert out.evaluations <= 2 * budget and np.all(out.values >= f.value(start))
    if budget < 5:
        assert out.evaluations == 0 and np.array_equal(out.points, start)
    free = ascent(f.evaluate, wrong, Objective(1.0), begin, lo, hi, 0.25, 1e-6)
    roomy = ascent(f.evaluate, wrong, Objective(1.0), begin, lo, hi, 0.25, 1e-6, max_evaluations=10**6)
    assert np.array_equal(free.points, roomy.points) and free.evaluations == roomy.evaluations
    assert free.evaluations > 2 * budget or np.array_equal(free.points, out.points)


def test_ascent_with_a_wrong_gradient_still_never_gets_worse() -> None:
    """A planted wrong gradient (pointing away from the maximum): the coordinate moves take over
    and every accepted point improves."""
    f = _Quadratic(np.array([0.5, 0.5, 0.5]))
    lo, hi = np.zeros(3), np.ones(3)
    start = np.array([[0.1, 0.9, 0.2]])
    out = ascent(
        f.evaluate,
        lambda x, a: -f.gradient(x, a),
        Objective(1.0),
        (start, f.value(start), start),
        lo,
        hi,
        0.25,
        1e-6,
    )
    assert out.values[0] >= f.value(start)[0]
    np.testing.assert_allclose(out.points[0], f.peak, atol=1e-3)


def test_ascent_never_evaluates_a_move_clipped_onto_its_point() -> None:
    """A maximum at a corner of the box: every compass round there has moves that the box clips
    back onto the point (or onto each other); none of them is solved again, and the result is
    the same as with every move evaluated."""
    f = _Quadratic(np.array([0.0, 1.0, 0.0]))  # the corner (lo, hi, lo)
    lo, hi = np.zeros(3), np.ones(3)
    start = np.array([[0.2, 0.7, 0.3]])
    seen: list[np.ndarray] = []

    def evaluate(x: np.ndarray):
        seen.append(x.copy())
        return f.evaluate(x)

    out = ascent(evaluate, f.gradient, Objective(1.0), (start, f.value(start), start), lo, hi, 0.25, 1e-6)
    np.testing.assert_allclose(out.points[0], f.peak, atol=1e-9)
    assert out.evaluations == sum(batch.shape[0] for batch in seen)
    for batch in seen:
        assert np.unique(batch, axis=0).shape[0] == batch.shape[0]  # no repeated trial
    corner = [b for b in seen if np.any(np.all(np.abs(b - f.peak) <= 0.25 + 1e-12, axis=1))]
    assert corner and all(not np.any(np.all(b == f.peak, axis=1)) for b in seen[-3:])
    # moves that would leave the box at the corner: +e0 and -e1 and +e2 stay, -e0, +e1, -e2 clip
    assert max(b.shape[0] for b in seen[-3:]) <= 6


def test_design_of_a_large_society() -> None:
    lo, hi = np.zeros(3), np.ones(3)
    pts, points, full = design(lo, hi, 1000)
    assert full and pts.shape == (points**3, 3) and points**3 * 1000 <= 100_000
    pts, points, full = design(np.zeros(7), np.ones(7), 100_000)
    assert not full and pts.shape == (5, 7)
    assert np.all(pts[:, 0:1] == pts)  # flat rates


def test_gradient_hook_only_for_the_global_commons() -> None:
    space = BracketRates(THRESHOLDS)
    assert space.gradient(_game(5, 1), Objective(1.0)) is not None
    local = sed.CommonsGame(
        sed.Society([0.5] * 5, 20.0, graph=nx.path_graph(5)),
        sed.PiecewiseLinearTax(THRESHOLDS, [0.1, 0.2, 0.3]),
        commons="local",
        damage=0.1,
    )
    assert space.gradient(local, Objective(1.0)) is None


@pytest.mark.slow
@pytest.mark.parametrize("p", [-math.inf, 1.0])
def test_large_society_search_is_as_good_as_the_compass(p: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """At n >= LARGE the principal searches by gradient ascent; on the same scan its welfare is
    at least the compass search's (to 1e-7 relative: both stop at a step of min_step)."""
    game = _game(LARGE, 11, rates=(0.0, 0.0, 0.0))
    fast = optimal_tax(game, p, resolution=4, bound=False)
    assert "gradient ascent" in fast.method
    monkeypatch.setattr(policy_module, "LARGE", 10**9)
    slow = optimal_tax(game, p, resolution=4, bound=False)
    assert "compass" in slow.method
    assert fast.welfare >= slow.welfare - 1e-7 * abs(slow.welfare)
    assert fast.equilibrium.nash_gap <= 1e-9 * max(1.0, float(np.max(np.abs(fast.equilibrium.utilities))))


@pytest.mark.slow
def test_large_society_bound_is_the_relaxed_second_best() -> None:
    """From LARGE agents the relaxed second-best bound is the certificate and the first best is not
    computed (it was a thread beside the search); the bound is below the first best computed alone."""
    from sedtheory.principal.first_best import upper_bound

    game = _game(LARGE, 5, rates=(0.0, 0.0, 0.0))
    design = optimal_tax(game, 0.0, resolution=3)
    assert design.details["first_best_bound"] == math.inf
    assert "relaxed planner" in design.certificate.source
    assert design.welfare <= design.upper_bound <= upper_bound(game, 0.0)[0]
    assert design.welfare <= design.upper_bound
