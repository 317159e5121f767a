import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

import sedtheory as sed
from sedtheory.errors import ActionError, InvalidParameterError, ShapeError, UnboundedBestResponseError

from .conftest import random_game, reference_payoffs, reference_utilities, seeds


def random_profile(game, rng, size=None):
    return rng.uniform(0, game.max_harvest, size=(game.n,) if size is None else (size, game.n))


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_payoffs_and_utilities_match_reference(seed):
    rng = np.random.default_rng(seed)
    for commons in ("global", "local"):
        game = random_game(rng, commons)
        a = random_profile(game, rng)
        np.testing.assert_allclose(game.payoffs(a), reference_payoffs(game, a), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(game.utilities(a), reference_utilities(game, a), rtol=1e-12, atol=1e-9)
        batch = random_profile(game, rng, 4)
        np.testing.assert_allclose(game.utilities(batch), np.stack([game.utilities(b) for b in batch]))


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_budget_balance_of_payoffs(seed):
    rng = np.random.default_rng(seed)
    game = random_game(rng)
    a = random_profile(game, rng)
    soc = game.society
    cost = np.where(np.isinf(soc.productivity), 0.0, a**2 / (2 * soc.productivity))
    expected = game.n * game.endowment + a.sum() - cost.sum() - game.damages(a).sum()
    assert game.payoffs(a).sum() == pytest.approx(expected, rel=1e-12, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_best_response_beats_dense_grid(seed):
    """The exact reply is at least as good as every point of a fine grid (independent oracle)."""
    rng = np.random.default_rng(seed)
    game = random_game(rng, "global" if rng.uniform() < 0.5 else "local")
    a = random_profile(game, rng)
    i = int(rng.integers(game.n))
    x = game.best_response(i, a)
    grid = np.unique(np.concatenate([np.linspace(0, game.max_harvest, 1501), game.tax.thresholds]))
    grid = grid[grid <= game.max_harvest]
    profiles = np.repeat(a[None, :], grid.size, axis=0)
    profiles[:, i] = grid
    values = reference_utilities_batch(game, profiles, i)
    b = a.copy()
    b[i] = x
    best = reference_utilities(game, b)[i]
    assert best >= values.max() - 1e-9 * max(1.0, abs(best))
    assert game.best_responses(a)[i] == pytest.approx(x)
    gain = game.deviation_gains(a)[i]
    assert gain == pytest.approx(best - reference_utilities(game, a)[i], abs=1e-8)


def reference_utilities_batch(game, profiles, i):
    return game.utilities(profiles)[:, i]


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_weighted_potential_identity(seed):
    rng = np.random.default_rng(seed)
    game = random_game(rng, "global")
    a = random_profile(game, rng)
    s = game.society.weight_sums
    for i in range(game.n):
        b = a.copy()
        b[i] = rng.uniform(0, game.max_harvest)
        du = game.utilities(b)[i] - game.utilities(a)[i]
        dphi = game.potential(b) - game.potential(a)
        assert du == pytest.approx(s[i] / game.n * dphi, rel=1e-9, abs=1e-9)


def test_unweighted_potential_fails_with_unequal_weight_sums():
    """Planted counterexample: with unequal s_i the game is not an exact potential game."""
    soc = sed.Society([1.0, 0.2, 0.6], 10.0, graph=nx.path_graph(3))
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 5], [0.1, 0.4]), 0.1, max_harvest=20.0)
    s = soc.weight_sums
    assert np.ptp(s) > 0
    a = np.array([3.0, 4.0, 5.0])
    i = int(np.argmax(s))
    b = a.copy()
    b[i] = 9.0
    du = game.utilities(b)[i] - game.utilities(a)[i]
    dphi = game.potential(b) - game.potential(a)
    assert du == pytest.approx(s[i] / 3 * dphi)
    assert abs(du - dphi) > 1e-3  # the exact-potential identity (weight 1) is violated


def test_local_equals_global_on_complete_graph():
    rng = np.random.default_rng(3)
    sigma = rng.uniform(0, 1, 6)
    tax = sed.PiecewiseLinearTax([0, 5], [0.2, 0.5])
    g_global = sed.CommonsGame(sed.Society(sigma, 8.0), tax, 0.1, 1.0, 30.0, "global")
    explicit = sed.Society(sigma, 8.0, graph=nx.complete_graph(6))
    g_local = sed.CommonsGame(explicit, tax, 0.1, 1.0, 30.0, "local")
    assert not g_local.uses_global_formulas
    a = rng.uniform(0, 30, 6)
    np.testing.assert_allclose(g_local.payoffs(a), g_global.payoffs(a))
    np.testing.assert_allclose(g_local.best_responses(a), g_global.best_responses(a), atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_strategic_substitutes(seed):
    """Global commons: best replies are non-increasing in the others' actions."""
    rng = np.random.default_rng(seed)
    game = random_game(rng, "global", progressive=True)
    a = random_profile(game, rng)
    b = a + rng.uniform(0, 1, game.n) * (game.max_harvest - a)
    i = int(rng.integers(game.n))
    b[i] = a[i]
    assert game.best_response(i, b) <= game.best_response(i, a) + 1e-9


def test_concavity_condition():
    soc = sed.Society([0.9, 0.1], 10.0)
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 5], [0.1, 0.5]), 0.1, max_harvest=20.0)
    # s_i/n = (sigma + (1 - sigma)) / 2 = 0.5: concave iff sigma_i >= 0.5 under progressive rates.
    assert game.is_concave.tolist() == [True, False]
    regressive = game.with_tax(sed.PiecewiseLinearTax([0, 5], [0.5, 0.1]))
    assert regressive.is_concave.tolist() == [False, True]


def test_bad_actions_and_parameters():
    game = sed.scenarios.apple_picking()
    with pytest.raises(ShapeError, match="actions"):
        game.payoffs(np.zeros(6))
    with pytest.raises(ActionError, match="actions"):
        game.utilities(np.full(7, -1.0))
    with pytest.raises(ActionError, match="max_harvest"):
        game.utilities(np.full(7, 41.0))
    with pytest.raises(ActionError):
        game.utilities(np.full(7, np.nan))
    with pytest.raises(InvalidParameterError, match="i"):
        game.best_response(7, np.zeros(7))
    soc, tax = game.society, game.tax
    with pytest.raises(InvalidParameterError, match="damage"):
        sed.CommonsGame(soc, tax, damage=-0.1)
    with pytest.raises(InvalidParameterError, match="max_harvest"):
        sed.CommonsGame(soc, tax, damage=0.1, max_harvest=-5.0)
    with pytest.raises(InvalidParameterError, match="endowment"):
        sed.CommonsGame(soc, tax, damage=0.1, endowment=np.nan)
    with pytest.raises(InvalidParameterError, match="commons"):
        sed.CommonsGame(soc, tax, damage=0.1, commons="regional")
    with pytest.raises(UnboundedBestResponseError, match="max_harvest"):
        sed.CommonsGame(sed.Society([1.0, 1.0], np.inf), tax, damage=0.0)


def test_with_tax_keeps_everything_else():
    game = sed.scenarios.apple_picking()
    other = game.with_tax(sed.PiecewiseLinearTax([0, 10, 20], [0.1, 0.2, 0.3]))
    assert other.society is game.society and other.damage == game.damage
    assert other.tax.rates.tolist() == [0.1, 0.2, 0.3] and other.n == 7


def test_payoff_terms_that_would_overflow_are_refused():
    """Issue 16: endowment 1.7e308 gave a 'converged' equilibrium with inf/NaN utilities."""
    from sedtheory.errors import InvalidParameterError

    society = sed.Society([0.5, 1.0], [10.0, 10.0])
    tax = sed.PiecewiseLinearTax([0.0, 10.0], [0.0, 0.0])
    with pytest.raises(InvalidParameterError, match="endowment"):
        sed.CommonsGame(society, tax, damage=0.02, endowment=1.7e308, max_harvest=40.0)
    no_cost = sed.Society([1.0], [float("inf")])
    with pytest.raises(InvalidParameterError, match="max_harvest"):
        sed.CommonsGame(
            no_cost, sed.PiecewiseLinearTax([0.0], [0.0]), damage=0.0, endowment=1.0, max_harvest=1e200
        )


def test_non_finite_utilities_are_never_certified():
    game = sed.scenarios.apple_picking()

    class Broken:  # the game with one utility replaced by NaN
        def __getattr__(self, name):
            return getattr(game, name)

        def utilities(self, a):
            u = game.utilities(a).copy()
            u[0] = np.nan
            return u

    eq = sed.equilibrium.certify(Broken(), sed.solve_equilibrium(game).actions)
    assert not eq.converged
