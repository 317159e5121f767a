"""Cross-check against pygambit's pure-strategy enumeration on discretised games."""

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.equilibrium.discrete import (
    action_grids,
    gambit_pure_equilibria,
    pure_equilibria_on_grid,
    to_gambit,
)
from sedtheory.errors import InvalidParameterError

pytest.importorskip("pygambit")


def as_set(profiles):
    return {tuple(np.round(p, 9)) for p in profiles}


@pytest.mark.parametrize("seed", range(6))
def test_grid_equilibria_agree_with_pygambit(seed):
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0, 1, 3), rng.uniform(5, 20, 3))
    rates = np.sort(rng.uniform(0, 1, 2)) if seed % 2 else rng.uniform(0, 1, 2)
    game = sed.CommonsGame(
        soc, sed.PiecewiseLinearTax([0, 4], rates), float(rng.uniform(0.02, 0.2)), 5.0, 12.0
    )
    ours = pure_equilibria_on_grid(game, 7)
    theirs = gambit_pure_equilibria(game, 7)
    assert as_set(ours) == as_set(theirs)


@pytest.mark.parametrize("seed", range(4))
def test_continuous_equilibrium_is_an_equilibrium_of_every_grid_containing_it(seed):
    """Planted: each agent's grid contains its exact equilibrium action, so pygambit must find it."""
    rng = np.random.default_rng(100 + seed)
    soc = sed.Society(rng.uniform(0.3, 1, 3), rng.uniform(5, 20, 3))
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 4], [0.1, 0.4]), 0.1, 5.0, 12.0)
    eq = sed.solve_equilibrium(game)
    grids = [np.unique(np.concatenate([np.linspace(0, 12, 5), [x]])) for x in eq.actions]
    found = gambit_pure_equilibria(game, grids)
    assert any(np.allclose(p, eq.actions) for p in found)
    assert as_set(found) == as_set(pure_equilibria_on_grid(game, grids))


def test_to_gambit_shape_and_limits():
    game = sed.CommonsGame(
        sed.Society([1.0, 0.5], 10.0), sed.PiecewiseLinearTax([0], [0.1]), 0.1, max_harvest=10.0
    )
    g = to_gambit(game, 4)
    assert len(g.players) == 2
    if hasattr(g, "get_strategies"):  # pygambit 17: players are labels
        assert all(len(g.get_strategies(label)) == 4 for label in g.players)
    else:
        assert all(len(p.strategies) == 4 for p in g.players)
    with pytest.raises(InvalidParameterError, match="levels"):
        action_grids(game, 1)
    with pytest.raises(InvalidParameterError, match="levels"):
        action_grids(game, [[0.0, 20.0], [0.0]])
    with pytest.raises(InvalidParameterError, match="profiles"):
        action_grids(sed.scenarios.apple_picking(), 1000)
