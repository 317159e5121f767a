"""Batched equilibria over rate vectors against the scalar solver."""

from __future__ import annotations

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError, ShapeError
from sedtheory.principal import policy_equilibria
from sedtheory.welfare import pmean_rows
from tests.conftest import random_game


def _grid(b: int, points: int) -> np.ndarray:
    axes = np.meshgrid(*[np.linspace(0, 1, points)] * b, indexing="ij")
    return np.stack([x.ravel() for x in axes], axis=1)


def test_default_scenario_grid_matches_scalar_solver() -> None:
    game = sed.scenarios.apple_picking()
    rates = _grid(3, 5)
    batch = policy_equilibria(game, rates)
    assert batch.relative_nash_gaps.max() <= 1e-12
    for row, r in enumerate(rates):
        g = game.with_tax(game.tax.with_rates(r))
        if g.is_concave[game.society.selfishness > 0].all():
            # Unique aggregate (an agent with sigma = 0 only splits it differently).
            eq = sed.solve_equilibrium(g)
            assert batch.actions[row].sum() == pytest.approx(eq.actions.sum(), rel=1e-9, abs=1e-9)
        # Every row: an independent check of its gap with the scalar game's exact best responses
        # (non-concave agents allow several equilibria; the batch may select another one).
        assert g.nash_gap(batch.actions[row]) <= 1e-9 * max(1.0, np.abs(batch.utilities[row]).max())
        np.testing.assert_allclose(
            batch.utilities[row], g.utilities(batch.actions[row]), rtol=1e-12, atol=1e-9
        )


@pytest.mark.parametrize("seed", range(30))
def test_random_games_every_row_certified(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = random_game(rng, n=int(rng.integers(2, 10)), finite_theta=bool(rng.uniform() < 0.8))
    rates = rng.uniform(0, 1, (40, game.tax.n_brackets))
    rates[::5] = 0.0
    batch = policy_equilibria(game, rates)
    for row, r in enumerate(rates):
        g = game.with_tax(game.tax.with_rates(r))
        gap = g.nash_gap(batch.actions[row])
        assert gap == pytest.approx(batch.nash_gaps[row], abs=1e-9)
        assert gap <= 1e-9 * max(1.0, np.abs(batch.utilities[row]).max())


def test_concave_games_agree_with_unique_equilibrium() -> None:
    rng = np.random.default_rng(1)
    for _ in range(10):
        game = random_game(rng, n=6, progressive=True)
        rates = np.sort(rng.uniform(0, 1, (10, game.tax.n_brackets)), axis=1)
        batch = policy_equilibria(game, rates)
        for row, r in enumerate(rates):
            g = game.with_tax(game.tax.with_rates(r))
            if g.is_concave.all() and np.all(g.society.productivity < np.inf):
                eq = sed.solve_equilibrium(g)
                np.testing.assert_allclose(batch.actions[row], eq.actions, atol=1e-8)


def test_local_commons_falls_back_to_scalar_solver() -> None:
    rng = np.random.default_rng(4)
    game = random_game(rng, commons="local", family="ring", n=5)
    batch = policy_equilibria(game, rng.uniform(0, 1, (3, game.tax.n_brackets)))
    assert batch.fallback.all()
    assert batch.relative_nash_gaps.max() <= 1e-9


def test_welfare_rows_match_pmean() -> None:
    game = sed.scenarios.apple_picking()
    batch = policy_equilibria(game, _grid(3, 3))
    for p in (-np.inf, -1.0, 0.0, 0.5, 1.0, 2.0, np.inf):
        w = batch.welfare(p)
        for row in range(w.size):
            assert w[row] == pytest.approx(sed.pmean(batch.utilities[row], p), rel=1e-12)


def test_pmean_rows_domain_gives_minus_inf() -> None:
    out = pmean_rows([[1.0, 2.0], [0.0, 2.0], [-1.0, 2.0]], -1)
    assert np.isfinite(out[0]) and out[1] == -np.inf and out[2] == -np.inf
    assert pmean_rows([[-1.0, 3.0]], 1)[0] == 1.0


def test_bad_rates() -> None:
    game = sed.scenarios.apple_picking()
    with pytest.raises(ShapeError, match="rates"):
        policy_equilibria(game, [[0.1, 0.2]])
    with pytest.raises(InvalidParameterError, match="finite"):
        policy_equilibria(game, [[0.1, np.nan, 0.2]])


def test_roots_on_the_jump_of_a_flat_agent_are_exact() -> None:
    """Agent 0 of the seed scenario has sigma = 0: its reply is a whole piece or nothing, switching
    at A = -k_0 r_b / c_0. Equilibria whose aggregate sits exactly on such a jump must come out
    certified (the root finder places them on the jump instead of bisecting towards it)."""
    game = sed.scenarios.apple_picking()
    rates = _grid(3, 11)
    batch = policy_equilibria(game, rates)
    k0, c0 = game.own_tax_weight[0], game.own_damage_curvature[0]
    assert game.society.selfishness[0] == 0 and k0 < 0
    jumps = -k0 * rates / c0  # (m, B): the jump aggregate of each bracket's piece
    agg = batch.actions.sum(axis=1)
    on_jump = np.isclose(agg[:, None], jumps, rtol=1e-12, atol=1e-9).any(axis=1)
    assert on_jump.sum() >= 10  # the case is exercised
    assert batch.relative_nash_gaps[on_jump].max() <= 1e-12
    for row in np.flatnonzero(on_jump)[:10]:
        g = game.with_tax(game.tax.with_rates(rates[row]))
        assert g.nash_gap(batch.actions[row]) <= 1e-12 * max(1.0, np.abs(batch.utilities[row]).max())
