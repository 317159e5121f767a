"""The comparison policies: grid principal, laissez-faire, Pigouvian flat rate, Saez formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.principal import grid_search_tax, laissez_faire, optimal_tax, pigouvian_tax, saez_tax


def test_laissez_faire_is_the_zero_tax_equilibrium() -> None:
    game = sed.scenarios.apple_picking()
    lf = laissez_faire(game, 1.0)
    assert np.all(lf.rates == 0)
    assert lf.equilibrium.actions.sum() == pytest.approx(86.69, abs=0.01)
    assert lf.welfare == pytest.approx(lf.equilibrium.utilities.mean())


def test_grid_search_is_the_best_grid_policy() -> None:
    game = sed.scenarios.apple_picking()
    best = grid_search_tax(game, 0.0, step=0.5)
    assert best.evaluations == 27
    for r in np.array(np.meshgrid(*[[0.0, 0.5, 1.0]] * 3)).reshape(3, -1).T:
        eq = sed.solve_equilibrium(game.with_tax(game.tax.with_rates(r)))
        assert sed.pmean(eq.utilities, 0.0) <= best.welfare + 1e-9


def test_pigouvian_rate_matches_the_symmetric_closed_form() -> None:
    n, sigma, theta, kappa, omega = 6, 1.0, 20.0, 0.05, 30.0
    soc = sed.Society(np.full(n, sigma), theta, neighbor_weighting="mean")
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0.0], [0.0]), kappa, omega, 60.0)
    pig = pigouvian_tax(game)
    forms = sed.symmetric_closed_forms("mean")
    rate = forms.evaluate(forms.pigouvian_rate, n=n, sigma=sigma, theta=theta, kappa=kappa, omega=omega)
    assert pig.rates[0] == pytest.approx(rate, abs=1e-9)
    assert pig.details["aggregate"] == pytest.approx(pig.details["efficient_aggregate"], rel=1e-9)
    # In the symmetric society the Pigouvian tax attains the (utilitarian) first best.
    fb = sed.first_best(game, 1.0)
    assert pig.welfare == pytest.approx(fb.welfare, rel=1e-6)
    assert optimal_tax(game, 1.0).status == "optimal"


def test_pigouvian_on_the_default_scenario_matches_the_efficient_harvest() -> None:
    pig = pigouvian_tax(sed.scenarios.apple_picking())
    assert 0 < pig.rates[0] < 1
    assert pig.details["aggregate"] == pytest.approx(pig.details["efficient_aggregate"], rel=1e-8)


def test_saez_formula_facts() -> None:
    game = sed.scenarios.apple_picking()
    # Uniform welfare weights (p = 1): G = 1 everywhere, so every rate is 0.
    assert np.all(saez_tax(game, 1.0).rates == 0)
    for p in (-math.inf, -1.0, 0.0):
        out = saez_tax(game, p)
        assert np.all((out.rates >= 0) & (out.rates <= 1))
        assert out.equilibrium.relative_nash_gap <= 1e-9
    # More inequality aversion, higher weights on the poor: rates do not fall.
    assert saez_tax(game, -2.0).rates[0] >= saez_tax(game, 0.0).rates[0] - 1e-12
    with pytest.raises(InvalidParameterError, match="elasticity"):
        saez_tax(game, 0.0, elasticity=-1.0)


def test_optimum_beats_every_baseline_on_the_default_scenario() -> None:
    game = sed.scenarios.apple_picking()
    for p in (-math.inf, 0.0, 1.0):
        best = optimal_tax(game, p, bound=False).welfare
        for base in (laissez_faire(game, p), pigouvian_tax(game, p), saez_tax(game, p)):
            assert best >= base.welfare - 1e-9


def test_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    with pytest.raises(InvalidParameterError, match="step"):
        grid_search_tax(game, 1.0, step=0.0)
    with pytest.raises(InvalidParameterError, match="engine"):
        grid_search_tax(game, 1.0, step=0.5, engine="gpu")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="p"):
        laissez_faire(game, float("nan"))
