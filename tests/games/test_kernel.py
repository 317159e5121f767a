"""The commons kernel: one formula, checked against the loop-based reference model, per-policy games,
sympy, and brute-force replies."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.games.commons import CommonsKernel, formulas, piece_search
from tests.conftest import random_game, reference_payoffs, reference_utilities, seeds


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seeds)
def test_batched_policies_equal_one_game_per_policy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = random_game(rng, commons=str(rng.choice(["global", "local"])))
    kernel: CommonsKernel = game.kernel
    rates = rng.uniform(0, 1, (4, game.tax.n_brackets))
    a = rng.uniform(0, game.max_harvest, (4, game.n))
    pay = kernel.payoffs(a, rates)
    gains = kernel.gains(a, rates, game.reply_upper_bounds)
    for m in range(4):
        g = game.with_policy(game.tax.with_rates(rates[m]))
        assert np.allclose(pay[m], reference_payoffs(g, a[m]), rtol=1e-10, atol=1e-9)
        assert np.allclose(kernel.utilities(a[m : m + 1], rates[m : m + 1])[0], reference_utilities(g, a[m]))
        assert np.allclose(gains[m], g.deviation_gains(a[m]), rtol=1e-8, atol=1e-8)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seeds)
def test_piece_search_is_the_maximum_over_a_fine_grid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = random_game(rng)
    kernel = game.kernel
    alpha = rng.uniform(-1, 1, game.n)
    x, value, _ = piece_search(
        alpha, kernel.beta, kernel.k, game.reply_upper_bounds, kernel.pieces(game.tax.rates)
    )
    grid = np.linspace(0, game.max_harvest, 20001)
    for i in range(game.n):
        xs = grid[grid <= game.reply_upper_bounds[i]]
        f = formulas.own_objective(xs, alpha[i], kernel.k[i], game.tax(xs), kernel.beta[i])
        assert value[i] >= f.max() - 1e-9 * max(1.0, abs(f.max()))
        assert value[i] == pytest.approx(
            formulas.own_objective(x[i], alpha[i], kernel.k[i], game.tax(x[i]), kernel.beta[i]), abs=1e-9
        )


def test_formulas_are_backend_agnostic() -> None:
    sigma, s, n, x, alpha, t, b = sp.symbols("sigma s n x alpha T beta")
    assert sp.simplify(formulas.own_tax_weight(sigma, s, n) - (sigma - s / n)) == 0
    assert sp.expand(formulas.own_objective(x, alpha, 1, t, b)) == sp.expand(alpha * x - t - b * x**2 / 2)
    game = sed.scenarios.apple_picking((0.1, 0.3, 0.6))
    a = sed.solve_equilibrium(game).actions
    k = game.kernel
    manual = formulas.payoff(
        game.endowment,
        a,
        formulas.tax_transfer(game.tax(a), game.tax(a).mean()),
        formulas.effort_cost(a, k.cost_weights),
        k.damages(a),
    )
    assert np.allclose(manual, game.payoffs(a), rtol=1e-13)


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 5), st.floats(0.0, 1.0))
def test_screened_consistency_check_equals_the_full_one(seed: int, brackets: int, zero_share: float) -> None:
    """consistent_best (an O(1) local screen, then the global maximum for survivors) decides
    every candidate of the consistent-reply check exactly as the full maximum over every piece
    does: random rates (regressive ones make kinks convex), some selfishness 0, random aggregates."""
    rng = np.random.default_rng(seed)
    n, m = 9, 4
    sigma = np.where(rng.uniform(size=n) < zero_share, 0.0, rng.uniform(0.0, 1.0, n))
    game = sed.CommonsGame(
        sed.Society(sigma, rng.uniform(5.0, 40.0, n)),
        sed.PiecewiseLinearTax(np.arange(brackets) * 8.0, np.zeros(brackets)),
        damage=rng.uniform(0.0, 0.3),
        endowment=20.0,
        max_harvest=40.0,
    )
    kernel = game.kernel
    rates = rng.uniform(-0.2, 1.0, (m, brackets))
    pc = kernel.pieces(rates)
    upper = kernel.reply_bound(1.2, np.full(n, 40.0))
    up = upper[None, :, None]
    lo, hi = np.minimum(pc.lo[None, None, :], up), np.minimum(pc.hi[None, None, :], up)
    agg = rng.uniform(0.0, 200.0, m)
    mu = (kernel.beta - kernel.c)[None, :, None]
    g = (
        kernel.sigma[None, :, None]
        - kernel.c[None, :, None] * agg[:, None, None]
        - kernel.k[None, :, None] * pc.rate[:, None, :]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(mu > 0, g / np.where(mu > 0, mu, 1.0), np.where(g >= 0, np.inf, -np.inf))
    x = np.minimum(np.maximum(stat, lo), hi)  # the consistent point of each piece (the oracle's copy)
    alpha = kernel.sigma[None, :, None] - kernel.c[None, :, None] * (agg[:, None, None] - x)
    own = kernel.own(x, alpha, pc.base[:, None, :] + pc.rate[:, None, :] * (x - pc.lo[None, None, :]))
    scale = 1e-12 * np.maximum(1.0, np.abs(alpha)) * np.maximum(1.0, x)
    exists = (pc.lo[None, None, :] < up) | (np.arange(pc.lo.size)[None, None, :] == 0)
    full = kernel.replies(alpha, pc, upper)[1]
    screened = kernel.consistent_best(x, lo, hi, alpha, scale, exists, pc, upper)
    np.testing.assert_array_equal(exists & (screened - own <= scale), exists & (full - own <= scale))
    kept = np.isfinite(screened)
    np.testing.assert_array_equal(screened[kept], full[kept])
