"""Implementing rates of a target and its best implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InfeasibleTargetError, InvalidParameterError
from sedtheory.principal import (
    ImplementationSolver,
    best_implementation,
    implementing_rates,
    policy_equilibria,
)
from tests.conftest import random_game


def _target(seed: int) -> tuple[sed.CommonsGame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    game = random_game(rng, n=int(rng.integers(3, 7)))
    rates = rng.uniform(0, 1, game.tax.n_brackets)
    g = game.with_tax(game.tax.with_rates(rates))
    return g, sed.solve_equilibrium(g).actions, rates


@pytest.mark.parametrize("seed", range(12))
def test_generating_rates_are_in_the_set_and_its_ends_implement(seed: int) -> None:
    game, target, rates = _target(seed)
    imp = implementing_rates(game, target)
    assert imp.feasible
    assert imp.contains(rates)
    assert np.all(imp.lower <= rates + 1e-7) and np.all(rates <= imp.upper + 1e-7)
    # The nearest implementing rates the convex program returns implement the target exactly.
    assert imp.contains(imp.rates, tol=1e-9)
    # Rates well outside the range do not.
    outside = rates.copy()
    b = int(np.argmax(imp.upper - imp.lower < 0.5))
    if imp.upper[b] < 0.9:
        outside[b] = min(1.0, imp.upper[b] + 0.1)
        assert not imp.contains(outside)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("p", [-math.inf, -1.0, 0.0, 1.0, 2.0])
def test_best_implementation_beats_generating_rates_and_a_dense_search(seed: int, p: float) -> None:
    game, target, rates = _target(seed)
    u_target = game.utilities(target)
    if (p <= 0 and np.any(u_target <= 0)) or (p == 2.0 and np.any(u_target < 0)):
        pytest.skip("utilities outside the domain of M_p")
    best = best_implementation(game, target, p)
    assert best.nash_gap <= 1e-8
    assert best.welfare >= sed.pmean(u_target, p) - 1e-7 * max(1.0, abs(best.welfare))
    assert best.welfare <= best.upper_bound + 1e-9
    # Brute force: random rate vectors that implement the same outcome (exact gap) never beat it.
    rng = np.random.default_rng(seed)
    trials = np.clip(rates + rng.normal(0, 0.05, (400, rates.size)), 0, 1)
    for r in trials:
        g = game.with_tax(game.tax.with_rates(r))
        if g.nash_gap(target) <= 1e-10:
            assert sed.pmean(g.utilities(target), p) <= best.upper_bound + 1e-7 * max(
                1.0, abs(best.upper_bound)
            )


def test_default_scenario_polish_and_dpp_reuse() -> None:
    game = sed.scenarios.apple_picking(rates=(0.1, 0.3, 0.5))
    target = sed.solve_equilibrium(game).actions
    solver = ImplementationSolver(game, 0.0)
    first = solver(target)
    again = solver(target)
    assert first.welfare == pytest.approx(again.welfare, rel=1e-9)
    assert len(solver._cache) == 1
    # The agents inside brackets 0 and 1 pin those rates exactly.
    assert first.rates[:2] == pytest.approx([0.1, 0.3], abs=1e-9)


def test_planted_infeasible_target() -> None:
    game = sed.scenarios.apple_picking()
    target = np.full(game.n, 39.0)  # nobody would harvest this much at any rate in [0, 1]
    assert not implementing_rates(game, target).feasible
    with pytest.raises(InfeasibleTargetError, match="target_actions"):
        best_implementation(game, target, 1.0)


def test_bounds_and_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    target = policy_equilibria(game, [[0.2, 0.2, 0.2]]).actions[0]
    with pytest.raises(InvalidParameterError, match="bounds"):
        implementing_rates(game, target, bounds=(-0.1, 1.0))
    with pytest.raises(InvalidParameterError, match="bounds"):
        best_implementation(game, target, 1.0, bounds=(0.0, 1.5))
    with pytest.raises(InvalidParameterError, match="p"):
        best_implementation(game, target, float("nan"))
    with pytest.raises(sed.errors.ActionError):
        implementing_rates(game, np.full(game.n, -1.0))
    narrow = implementing_rates(game, target, bounds=(0.15, 0.25))
    assert narrow.feasible and np.all(narrow.rates >= 0.15 - 1e-9) and np.all(narrow.rates <= 0.25 + 1e-9)
