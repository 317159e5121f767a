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


def test_compare_says_which_equilibrium_learners_reached() -> None:
    """At the seed's optimistic optimum for p = -inf the rates sit on agent 5's indifference tie
    (two equilibria): best responses from zero reach the other, worse one, and compare says so; a
    profile at the counted one is named as such (planted)."""
    import numpy as np

    import sedtheory as sed
    from sedtheory.learning import compare
    from sedtheory.learning.compare import _which_equilibrium

    game = sed.scenarios.apple_picking()
    c = compare(game, -np.inf, "best_response", rounds=300, seed=0)
    assert c.equilibria_found == 2 and c.reached is not None and not c.reached_counted
    assert c.row()["reached"] == c.reached and c.welfare < c.second_best - 0.1
    g = game.with_tax(game.tax.with_rates(c.rates))
    found = sed.equilibria(g)
    other = found.actions[1 - c.reached]
    _, row, counted = _which_equilibrium(g, other, c.equilibrium.actions)
    assert row == 1 - c.reached and counted
    _, none, _ = _which_equilibrium(g, np.zeros(g.n), c.equilibrium.actions)  # not an equilibrium
    assert none is None
