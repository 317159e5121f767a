"""Identical agents of the dynamic commons grouped into types: the type model is exact."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic import DynamicCommonsGame

TAX = sed.PiecewiseLinearTax([0.0, 5.0], [0.1, 0.4])


def _pair(sigma: list[float], theta: list[float], tax: sed.PiecewiseLinearTax, **kw: object):
    """The same game with the implicit complete graph (grouped into types) and with an explicit
    complete graph (every agent on its own)."""
    n = len(sigma)
    grouped = DynamicCommonsGame(sed.Society(sigma, theta), tax, **kw)  # type: ignore[arg-type]
    full = DynamicCommonsGame(sed.Society(sigma, theta, graph=nx.complete_graph(n)), tax, **kw)  # type: ignore[arg-type]
    return grouped, full


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from([(1.0, 10.0), (0.6, 10.0), (0.6, 20.0), (0.2, np.inf)]), min_size=2, max_size=6),
    st.integers(0, 2**31 - 1),
)
def test_type_model_values_equal_the_agents_model(kinds: list[tuple[float, float]], seed: int) -> None:
    """Every candidate value of a deviating agent (rationed or not) in the type model equals that
    of the same agent in the every-agent model, for a random type-symmetric profile."""
    sigma, theta = [k[0] for k in kinds], [k[1] for k in kinds]
    game, _ = _pair(sigma, theta, TAX, horizon=2, grid=21, endowment=1.0, max_harvest=30.0)
    red, full = game.symmetry, game.stage
    rng = np.random.default_rng(seed)
    g = 7
    stock = rng.uniform(1.0, 100.0, g)
    per_type = rng.uniform(0.0, 30.0, (g, red.model.size))
    demands = red.expand(per_type)
    cont = rng.uniform(0.0, 10.0, (21, red.model.size))
    x = rng.uniform(0.0, 30.0, (g, red.model.size, 9))
    fast = red.model.own_values(stock, per_type, x, game.grid, cont)
    slow = full.own_values(stock, demands, x[:, red.types], game.grid, red.expand(cont))
    assert np.allclose(fast[:, red.types], slow, rtol=1e-12, atol=1e-9)
    here = red.model.values(stock, per_type, game.grid, cont)
    assert np.allclose(
        here[:, red.types], full.values(stock, demands, game.grid, red.expand(cont)), atol=1e-9
    )


def test_grouped_and_ungrouped_games_have_the_same_equilibrium() -> None:
    sigma, theta = [1.0, 1.0, 1.0, 0.5, 0.5], [10.0, 10.0, 10.0, 15.0, 15.0]
    grouped, full = _pair(sigma, theta, TAX, horizon=4, grid=41, discount=0.9, endowment=1.0)
    assert grouped.symmetry.reduces and grouped.symmetry.counts.tolist() == [2, 3]
    assert not full.symmetry.reduces
    a, b = sed.solve_equilibrium(grouped), sed.solve_equilibrium(full)
    assert a.converged and b.converged
    assert np.allclose(grouped.path(a.actions).stocks, full.path(b.actions).stocks, atol=1e-6)
    # the two games are one game: each certifies the other's profile
    assert np.allclose(full.deviation_gains(a.actions), grouped.deviation_gains(a.actions), atol=1e-9)
    assert np.allclose(grouped.utilities(a.actions), full.utilities(a.actions), atol=1e-9)


def test_an_asymmetric_profile_is_evaluated_agent_by_agent() -> None:
    """A profile where two agents of one type differ is not reduced: its gains are those of the
    every-agent model, and a planted deviation of one member is caught for that member only."""
    game, full = _pair([1.0] * 3, [10.0] * 3, TAX, horizon=3, grid=41, discount=0.9)
    eq = sed.solve_equilibrium(game)
    assert np.ptp(eq.actions, axis=-1).max() == 0.0  # one policy for the type
    planted = eq.actions.copy()
    planted[:, :, 1] = 0.0  # agent 1 harvests nothing
    assert game.symmetry.reduce(planted) is None
    gains = game.deviation_gains(planted)
    assert np.allclose(gains, full.deviation_gains(planted), atol=1e-12)
    assert gains[1] > 1e-3 > max(gains[0], gains[2]) - 1e-3


def test_large_societies_solve_on_types() -> None:
    """5000 agents of two types (beyond the dense limit of the every-agent model): the type model
    solves and certifies them; the every-agent model says why it is unavailable."""
    sigma = np.repeat([1.0, 0.5], 2500)
    game = DynamicCommonsGame(sed.Society(sigma, 10.0), TAX, horizon=2, grid=41, max_harvest=100.0)
    eq = sed.solve_equilibrium(game)
    assert eq.converged and eq.actions.shape == (2, 41, 5000)
    assert np.array_equal(eq.actions[..., :2500], np.repeat(eq.actions[..., :1], 2500, axis=-1))
    with pytest.raises(InvalidParameterError, match="graph"):
        _ = game.stage
    too_many = sed.Society(np.linspace(0.0, 1.0, 4001), 10.0)
    with pytest.raises(InvalidParameterError, match="society"):
        DynamicCommonsGame(too_many, TAX, horizon=2, grid=41)
