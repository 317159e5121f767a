"""compare(): learned vs analytic on the seed scenario and graph families."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.learning import compare


@pytest.fixture(scope="module")
def designs() -> dict[float, sed.TaxDesign]:
    game = sed.scenarios.apple_picking()
    return {p: sed.optimal_tax(game, p) for p in (-math.inf, 0.0, 1.0)}


@pytest.mark.parametrize("p", [-math.inf, 0.0, 1.0])
def test_exact_learners_reach_the_second_best(p: float, designs: dict[float, sed.TaxDesign]) -> None:
    game = sed.scenarios.apple_picking()
    c = compare(game, p, "gradient", rounds=1500, seed=0, design=designs[p])
    assert c.distance <= 1e-6
    assert c.ratio_second_best == pytest.approx(1.0, abs=1e-9)
    assert 0 < c.ratio_first_best <= 1.0
    assert c.welfare <= c.first_best
    np.testing.assert_array_equal(c.optimal_rates, designs[p].rates)
    assert c.regret.shape == c.rounds.shape == c.average_regret.shape
    assert abs(c.regret[-1]) <= 1e-9
    row = c.row()
    assert row["learner"] == "gradient" and row["principal"] == ""


def test_given_rates_and_hedge(designs: dict[float, sed.TaxDesign]) -> None:
    game = sed.scenarios.apple_picking()
    c = compare(game, 1.0, "hedge", rounds=500, seed=2, rates=(0.0, 0.0, 0.0), design=designs[1.0])
    lf = sed.solve_equilibrium(game)
    np.testing.assert_allclose(c.equilibrium.actions, lf.actions)
    assert c.equilibrium_welfare == pytest.approx(sed.pmean(lf.utilities, 1.0))
    assert c.nash_gap == pytest.approx(game.nash_gap(c.actions))
    assert c.details["cce_gap"] >= 0


def test_with_a_learning_principal(designs: dict[float, sed.TaxDesign]) -> None:
    game = sed.scenarios.apple_picking()
    c = compare(
        game, 1.0, "best_response", principal="spsa", epochs=120, inner_rounds=20, seed=0, design=designs[1.0]
    )
    assert c.principal == "spsa"
    g = game.with_tax(game.tax.with_rates(c.rates))
    assert c.welfare == pytest.approx(sed.pmean(g.utilities(c.actions), 1.0))
    assert c.ratio_second_best <= 1.0 + 1e-9
    assert c.rounds.size == 120
    with pytest.raises(InvalidParameterError, match="rates"):
        compare(game, 1.0, principal="ucb", rates=(0.1, 0.1, 0.1), design=designs[1.0])
