"""Policy spaces and the generic optimiser."""

from __future__ import annotations

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError, ShapeError
from sedtheory.principal import BracketRates, ParametricPolicy, PolicySpace, optimal_policy


def test_bracket_rates_is_a_policy_space() -> None:
    game = sed.scenarios.apple_picking()
    space = BracketRates(game.tax.thresholds, bounds=(0.0, 0.5))
    assert isinstance(space, PolicySpace) and space.dim == 3
    assert space.bounds.tolist() == [[0.0] * 3, [0.5] * 3]
    ev = space.batch_equilibria(game, [[0.0, 0.0, 0.0], [0.1, 0.2, 0.3]])
    assert ev.certified.all() and ev.uncertified == 0
    ref = sed.solve_equilibrium(space.apply(game, [0.1, 0.2, 0.3]))
    assert np.allclose(ev.actions[1], ref.actions, atol=1e-9)
    w = ev.welfare(sed.Objective(1.0))
    assert w[1] == pytest.approx(ref.utilities.mean())
    with pytest.raises(InvalidParameterError, match="bounds"):
        BracketRates(game.tax.thresholds, bounds=(0.0, 1.5))
    with pytest.raises(ShapeError, match="rates"):
        space.batch_equilibria(game, [[0.1, 0.2]])
    with pytest.raises(InvalidParameterError, match="rates"):
        space.batch_equilibria(game, [[0.1, np.nan, 0.2]])


def test_optimal_tax_is_optimal_policy_over_bracket_rates() -> None:
    game = sed.scenarios.apple_picking()
    a = sed.optimal_tax(game, 0.5)
    b = optimal_policy(game, sed.Objective(0.5), BracketRates(game.tax.thresholds))
    assert np.allclose(a.rates, b.x) and a.welfare == pytest.approx(b.welfare, rel=1e-12)
    assert isinstance(a, sed.TaxDesign) and a.tax == b.policy


def test_parametric_space_and_uncertified_policies_are_skipped_and_counted() -> None:
    game = sed.scenarios.apple_picking()

    def make(g: sed.CommonsGame, x: np.ndarray) -> sed.CommonsGame:
        return g.with_policy(sed.PiecewiseLinearTax([0.0], [float(x[0])]))

    space = ParametricPolicy(make, bounds=[[0.0], [1.0]])
    design = optimal_policy(game, 1.0, space, resolution=21, bound=False)
    assert design.details["uncertified"] == 0 and design.equilibrium.converged
    with pytest.raises(InvalidParameterError, match="make"):
        ParametricPolicy("not callable")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="starts"):
        optimal_policy(game, 1.0, space, starts=0)
    with pytest.raises(InvalidParameterError, match="min_step"):
        optimal_policy(game, 1.0, space, min_step=float("nan"))
