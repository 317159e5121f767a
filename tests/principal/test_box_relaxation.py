"""The relaxed planner's second-best bound on boxes of rates, against every equilibrium."""

from __future__ import annotations

import math
from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.principal.box_relaxation import (
    RelaxationBound,
    aggregate_ranges,
    payoff_weights,
    relaxation_bound,
    relaxed_boxes,
    reply_ranges,
)
from sedtheory.principal.branch_bound import rate_box_bound
from sedtheory.principal.certification import tightest_bound
from sedtheory.welfare import pmean
from tests.conftest import random_game
from tests.principal.test_planner_dual import massed_game

PS = (-math.inf, -1.0, 0.0, 0.5, 1.0)


def random_box(rng: np.random.Generator, b: int) -> np.ndarray:
    lo = rng.uniform(0.0, 1.0, b)
    hi = np.minimum(lo + rng.uniform(0.0, 0.6, b), 1.0)
    return np.stack([lo, hi])


def game_at(game: sed.CommonsGame, rates: np.ndarray) -> sed.CommonsGame:
    return game.with_policy(sed.PiecewiseLinearTax(game.tax.thresholds, rates))


def equilibria_in(game: sed.CommonsGame, box: np.ndarray, rng: np.random.Generator, draws: int = 4):
    """Every equilibrium (complete enumerations only) at the box's corners and random rates in it."""
    points = [box[0], box[1]] + [rng.uniform(box[0], box[1]) for _ in range(draws)]
    for rates in points:
        found = sed.equilibria(game_at(game, rates))
        if found.complete:
            yield rates, found


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), massed=st.booleans(), free=st.booleans())
def test_replies_and_aggregate_hold_every_equilibrium(seed: int, massed: bool, free: bool) -> None:
    rng = np.random.default_rng(seed)
    game = massed_game(seed) if massed else random_game(rng, finite_theta=not free)
    box = random_box(rng, game.tax.thresholds.size)
    a_lo, a_hi, low, high = aggregate_ranges(game, box[:1], box[1:])
    for _, found in equilibria_in(game, box, rng):
        for a in found.actions:
            total = float(game.kernel.total(a))
            tol = 1e-7 * (1.0 + abs(total))
            assert a_lo[0] - tol <= total <= a_hi[0] + tol
            assert np.all(low[0] - 1e-7 <= a) and np.all(a <= high[0] + 1e-7)
            one_lo, one_hi = reply_ranges(game, box[:1], box[1:], np.array([total]), np.array([total]))
            assert np.all(one_lo[0] - 1e-7 <= a) and np.all(a <= one_hi[0] + 1e-7)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from(PS), massed=st.booleans(), payoff=st.booleans())
def test_bound_holds_at_every_equilibrium(seed: int, p: float, massed: bool, payoff: bool) -> None:
    rng = np.random.default_rng(seed)
    game = massed_game(seed) if massed else random_game(rng)
    box = random_box(rng, game.tax.thresholds.size)
    obj = sed.Objective(p, of="payoff" if payoff else "utility").for_game(game)
    reference = rng.uniform(1.0, 100.0, game.n)  # any positive reference gives a valid bound
    res = relaxation_bound(game, obj, box, values=reference, aggregate=rng.uniform(0, 100), max_boxes=5)
    for rates, found in equilibria_in(game, box, rng):
        for u, a in zip(found.utilities, found.actions, strict=True):
            values = game.kernel.payoffs(a, rates) if payoff else u
            if p <= 0 and np.any(values <= 0) or p > 0 and p != 1 and np.any(values < 0):
                continue  # outside the p-mean's domain: not a candidate design
            welfare = pmean(values, p, obj.weights)
            assert welfare <= res.upper + 1e-7 * max(1.0, abs(welfare))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_above_the_certified_second_best(seed: int) -> None:
    """Against the branch and bound's certified optimum over the whole rate box (n = 3)."""
    rng = np.random.default_rng(seed)
    game = random_game(rng, commons="global", n=3)
    box = np.stack([np.zeros(game.tax.thresholds.size), np.ones(game.tax.thresholds.size)])
    for p in (1.0, 0.0, -math.inf):
        obj = sed.Objective(p).for_game(game)
        exact = rate_box_bound(game, obj, box, time_limit=30.0)
        if exact.status != "optimal" or not math.isfinite(exact.primal):
            continue
        eq = exact.actions
        u = game_at(game, exact.x).kernel.utilities(eq, exact.x)
        res = relaxation_bound(game, obj, box, values=u, aggregate=float(eq.sum()), max_boxes=16)
        assert res.upper >= exact.upper - 1e-7 * max(1.0, abs(exact.upper))


def ws_game(n: int) -> sed.CommonsGame:
    rng = np.random.default_rng(0)
    graph = nx.watts_strogatz_graph(n, 6, 0.1, seed=1)
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(20, 60, n), graph=graph)
    tax = sed.PiecewiseLinearTax([0.0, 10.0, 20.0], [0.0, 0.0, 0.0])
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


@pytest.mark.parametrize("p", [1.0, 0.0])
def test_tighter_than_the_first_best(p: float) -> None:
    """A 200-agent Watts-Strogatz society: the whole rate box as one box already beats the first
    best (from a reference near the optimum, rates (0.85, 1, 1))."""
    game = ws_game(200)
    eq = sed.solve_equilibrium(game.with_tax(sed.PiecewiseLinearTax([0.0, 10.0, 20.0], [0.85, 1.0, 1.0])))
    obj = sed.Objective(p).for_game(game)
    box = np.stack([np.zeros(3), np.ones(3)])
    one = relaxation_bound(
        game, obj, box, values=eq.utilities, aggregate=float(eq.actions.sum()), max_boxes=1
    )
    fb = sed.first_best(game, p, transfers="tax-feasible").upper_bound
    assert pmean(eq.utilities, p) <= one.upper < fb


@pytest.mark.parametrize("p", [1.0, -math.inf])
def test_optimal_tax_reports_it(p: float) -> None:
    game = ws_game(60)
    design = sed.optimal_tax(game, p)
    assert design.welfare <= design.upper_bound <= design.details["first_best_bound"]
    assert "relaxed planner" in design.certificate.source
    assert design.details["relaxed_bound"] == design.upper_bound


def test_more_boxes_never_loosen() -> None:
    game = ws_game(100)
    design = sed.optimal_tax(game, 1.0, bound=False)
    eq = design.equilibrium
    box = np.stack([np.zeros(3), np.ones(3)])
    uppers = [
        relaxation_bound(game, design.objective, box, values=eq.utilities, aggregate=float(eq.actions.sum()),
                         max_boxes=m).upper
        for m in (1, 5, 17)
    ]  # fmt: skip
    assert uppers[0] >= uppers[1] >= uppers[2] >= design.welfare


def test_several_references_keep_the_best_root() -> None:
    """Two references: the whole box's bound is the smaller of the two single-reference ones."""
    game = ws_game(100)
    box = np.stack([np.zeros(3), np.ones(3)])
    rng = np.random.default_rng(3)
    refs = rng.uniform(20.0, 120.0, (2, game.n))
    obj = sed.Objective(-math.inf)
    alone = [relaxation_bound(game, obj, box, values=r, aggregate=300.0, max_boxes=1).upper for r in refs]
    both = relaxation_bound(game, obj, box, values=refs, aggregate=np.array([300.0, 300.0]), max_boxes=1)
    assert both.upper == pytest.approx(min(alone), rel=1e-12)
    with pytest.raises(InvalidParameterError, match="aggregate"):
        relaxation_bound(game, obj, box, values=refs, aggregate=300.0)


def test_payoff_weights_are_the_gradient() -> None:
    game = sed.scenarios.apple_picking()
    v = np.linspace(20.0, 80.0, game.n)
    w = np.full(game.n, 1.0 / game.n)
    for p in (0.5, -2.0):
        lam = w * (v / pmean(v, p)) ** (p - 1.0)
        got = payoff_weights(game, sed.Objective(p, of="payoff"), v)
        np.testing.assert_allclose(got, lam, rtol=1e-10)
        assert got @ v == pytest.approx(pmean(v, p), rel=1e-10)  # homogeneous: the bound is tight at v
    lam = payoff_weights(game, sed.Objective(-math.inf, of="payoff"), v)
    assert lam.sum() == pytest.approx(1.0) and int(np.argmax(lam)) == 0


def test_a_bound_below_the_design_is_dropped() -> None:
    """Planted: a relaxed bound below a verified welfare is reported as dropped, never used."""
    fake = RelaxationBound(upper=9.0, boxes=1, seconds=0.0, method="planted")
    details: dict = {}
    ub, source = tightest_bound(20.0, "first best", None, 10.0, details, fake)
    assert (ub, source) == (20.0, "first best") and "dropped_relaxed_bound" in details
    ub, source = tightest_bound(20.0, "first best", None, 10.0, {}, replace(fake, upper=12.0))
    assert ub == 12.0 and "planted" in source


@pytest.mark.parametrize(("damage", "amax"), [(0.05, math.inf), (0.0, 40.0)])
def test_no_cap_or_no_damage(damage: float, amax: float) -> None:
    rng = np.random.default_rng(7)
    game = massed_game(7, damage=damage, amax=amax)
    box = np.stack([np.zeros(2), np.ones(2)])
    res = relaxation_bound(game, sed.Objective(1.0).for_game(game), box, values=np.ones(game.n),
                           aggregate=30.0, max_boxes=9)  # fmt: skip
    assert not math.isnan(res.upper)
    for _, found in equilibria_in(game, box, rng):
        for u in found.utilities:
            assert pmean(u, 1.0, game.welfare_weights) <= res.upper + 1e-7


def test_box_budget() -> None:
    assert relaxed_boxes(1000) == 20 and relaxed_boxes(7) == 32 and relaxed_boxes(1000, 7) == 8
    assert relaxed_boxes(20_001) == 0 and relaxed_boxes(10_000, 7) == 0  # the first best stands


def test_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    obj = sed.Objective(1.0)
    box = np.stack([np.zeros(3), np.ones(3)])
    ref = dict(values=np.ones(game.n), aggregate=10.0)
    with pytest.raises(InvalidParameterError, match="box"):
        relaxation_bound(game, obj, box[:, :2], **ref)
    with pytest.raises(InvalidParameterError, match="box"):
        relaxation_bound(game, obj, box[::-1] + np.array([[0.5], [0.0]]), **ref)
    with pytest.raises(InvalidParameterError, match="max_boxes"):
        relaxation_bound(game, obj, box, max_boxes=0, **ref)
    with pytest.raises(InvalidParameterError, match="reference"):
        relaxation_bound(game, obj, box, values=np.ones(2), aggregate=1.0)
    with pytest.raises(CapabilityError, match="p <= 1"):
        relaxation_bound(game, sed.Objective(2.0), box, **ref)
    local = sed.CommonsGame(game.society, game.tax, damage=0.01, commons="local", endowment=50.0)
    with pytest.raises(CapabilityError, match="global commons"):
        relaxation_bound(local, obj, box, **ref)
