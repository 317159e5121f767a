"""The dynamic first best: certified by the relaxed convex program, checked by brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import DomainError, InvalidParameterError
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.principal.dynamic_plan import dynamic_first_best


def _game(regrowth: object = "logistic", **kw: object) -> DynamicCommonsGame:
    args = {"horizon": 2, "discount": 0.9, "initial_stock": 40.0, "grid": 21, "endowment": 5.0}
    return DynamicCommonsGame(
        sed.Society([1.0, 1.0], [10.0, 20.0]),
        sed.PiecewiseLinearTax([0.0], [0.0]),
        regrowth,
        **{**args, **kw},
    )


@pytest.mark.parametrize("p", [1.0, 0.5, 0.0, -1.0, -math.inf])
def test_certified_and_bounds_every_policy(p: float) -> None:
    game = _game()
    plan = dynamic_first_best(game, p)
    assert plan.certificate.status == "optimal" and plan.certificate.lower == plan.welfare
    eq = sed.solve_equilibrium(game, raise_on_failure=False)  # any strategies are a feasible plan
    assert sed.pmean(eq.utilities, p) <= plan.certificate.upper + 1e-9
    assert np.allclose(plan.transfers.sum(axis=1), 0.0, atol=1e-9)
    assert plan.stocks[0] == 40.0 and np.all(plan.harvests >= 0)


def test_utilitarian_plan_against_brute_force() -> None:
    """p = 1 with lump-sum transfers: total payoffs only depend on total harvests per step;
    a grid over both agents' harvests in both steps (with the true stock) is never better."""
    game = _game()
    plan = dynamic_first_best(game, 1.0, transfers="lump-sum")
    c = game.stage.cost_weights
    best = -np.inf
    grid = np.linspace(0.0, 40.0, 41)
    for y0 in itertools.product(grid, repeat=2):
        if sum(y0) > 40.0:
            continue
        s1 = float(game.regrowth(40.0 - sum(y0)))
        # last step: each agent's unconstrained optimum theta_j, scaled down if the stock binds
        y1 = np.array([10.0, 20.0])
        y1 = y1 * min(1.0, s1 / y1.sum())
        total = sum(y - cj * y * y for y, cj in zip(y0, c, strict=True)) + 0.9 * float(
            (y1 - c * y1 * y1).sum()
        )
        best = max(best, total)
    welfare = plan.welfare - 5.0 * (1 + 0.9)
    assert best <= 2 * welfare + 1e-6  # the mean of two utilities is half the total
    assert 2 * welfare - best < 0.5  # the 1-apple grid is close to the optimum


def test_bad_input() -> None:
    with pytest.raises(DomainError):
        dynamic_first_best(_game(), 2.0)
    with pytest.raises(DomainError) as info:
        dynamic_first_best(_game("melting_pot", grid=81), 1.0, method="convex")
    assert info.value.field == "regrowth"
    with pytest.raises(DomainError) as info:  # not concave and p != 1: neither method applies
        dynamic_first_best(_game("melting_pot", grid=81), 0.5)
    assert info.value.field == "p" and "p = 1" in str(info.value)
    with pytest.raises(InvalidParameterError):
        dynamic_first_best(_game(), 1.0, method="guess")
    unequal = DynamicCommonsGame(sed.Society([1.0, 0.5], 10.0), sed.PiecewiseLinearTax([0], [0.0]), horizon=2)
    with pytest.raises(DomainError) as info:  # lump-sum transfers to the most-weighted agent: unbounded
        dynamic_first_best(unequal, 1.0, "lump-sum", method="dynamic-programming")
    assert info.value.field == "transfers"
    with pytest.raises(InvalidParameterError):
        dynamic_first_best(_game(), 1.0, transfers="magic")


def test_optimal_tax_on_the_dynamic_game_uses_the_generic_search() -> None:
    game = _game(horizon=3, grid=81)  # fine enough that the MPE is certified to 1e-4 at every rate
    design = sed.optimal_tax(game, 1.0, resolution=3, min_step=0.05)
    assert design.equilibrium.converged and design.rates.shape == (1,)
    assert design.equilibrium.actions.shape == game.strategy_shape
    # exact at the returned policy, at least as good as laissez-faire, below the dynamic first best
    induced = game.with_policy(design.tax)
    assert design.welfare == pytest.approx(float(np.mean(induced.utilities(design.equilibrium.actions))))
    lf = sed.solve_equilibrium(game)
    assert design.welfare >= float(np.mean(lf.utilities)) - 1e-9
    assert design.upper_bound == pytest.approx(dynamic_first_best(game, 1.0).certificate.upper, rel=1e-6)
    assert design.welfare <= design.upper_bound


def test_run_sed_votes_on_the_dynamic_game_unchanged() -> None:
    game = _game(horizon=2, grid=81)
    run = sed.run_sed(game, rounds=1, candidates=[0.0, 1.0], resolution=3, min_step=0.1)
    record = run.rounds[0]
    assert record.p in (0.0, 1.0) and record.nash_gap >= 0.0
    assert set(run.agents["agent"]) == {0, 1} and np.all(np.isfinite(run.agents["action"]))


def _brute_force_two_steps(game: DynamicCommonsGame) -> float:
    """Best total payoff of two steps over a 1-apple grid of both agents' first harvests (the
    last step: each agent's bliss harvest theta_j, scaled down if the stock binds)."""
    c, best = game.stage.cost_weights, -np.inf
    s0 = game.initial_stock
    for y0 in itertools.product(np.linspace(0.0, s0, int(s0) + 1), repeat=2):
        if sum(y0) > s0:
            continue
        s1 = float(game.regrowth(s0 - sum(y0)))
        y1 = np.array([10.0, 20.0]) * min(1.0, s1 / 30.0)
        total = sum(y - cj * y * y for y, cj in zip(y0, c, strict=True))
        best = max(best, total + game.discount * float((y1 - c * y1 * y1).sum()))
    return float(best)


def test_dynamic_programming_for_a_map_that_is_not_concave() -> None:
    game = _game("melting_pot", grid=81)
    plan = dynamic_first_best(game, 1.0, transfers="lump-sum")
    assert plan.method == "dynamic-programming"
    best = _brute_force_two_steps(game)
    offset = 5.0 * (1 + 0.9)  # the endowments
    assert 2 * (plan.certificate.upper - offset) >= best - 1e-6  # the bound holds
    assert 2 * (plan.welfare - offset) >= best - 0.5  # the plan is as good as the 1-apple grid
    assert plan.certificate.lower <= plan.certificate.upper
    eq = sed.solve_equilibrium(game, raise_on_failure=False)
    assert float(np.mean(eq.utilities)) <= plan.certificate.upper + 1e-9


def test_dynamic_programming_agrees_with_the_convex_program() -> None:
    game = DynamicCommonsGame(
        sed.Society([1.0, 0.5, 1.0], [10.0, 20.0, 15.0]),
        sed.PiecewiseLinearTax([0], [0.0]),
        horizon=6,
        discount=0.95,
        grid=81,
        endowment=2.0,
    )
    convex = dynamic_first_best(game, 1.0, method="convex")
    dp = dynamic_first_best(game, 1.0, method="dynamic-programming")
    assert convex.certificate.status == "optimal"
    assert dp.welfare <= convex.certificate.upper + 1e-6 <= dp.certificate.upper + 1e-6
    assert dp.welfare == pytest.approx(convex.welfare, rel=1e-3)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(5.0, 25.0), min_size=2, max_size=3),
    st.floats(0.8, 0.97),
    st.floats(20.0, 100.0),
)
def test_dynamic_programming_brackets_the_convex_optimum(
    productivity: list[float], discount: float, stock: float
) -> None:
    """For a concave map both methods apply: the DP plan never beats the convex optimum (a true
    plan), and the DP upper bound is never below it (a valid bound)."""
    n = len(productivity)
    game = DynamicCommonsGame(
        sed.Society([1.0] * n, productivity),
        sed.PiecewiseLinearTax([0.0], [0.0]),
        horizon=3,
        discount=discount,
        initial_stock=stock,
        grid=41,
        endowment=2.0,
    )
    convex = dynamic_first_best(game, 1.0, "lump-sum", method="convex")
    dp = dynamic_first_best(game, 1.0, "lump-sum", method="dynamic-programming")
    assert convex.certificate.status == "optimal"
    optimum = convex.certificate.upper
    assert dp.welfare <= optimum + 1e-6 * max(1.0, abs(optimum))
    assert dp.certificate.upper >= optimum - 1e-6 * max(1.0, abs(optimum))
