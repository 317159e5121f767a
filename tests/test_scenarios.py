import numpy as np
import pytest
from scipy.optimize import minimize

import sedtheory as sed


def utilitarian_first_best(game):
    """Independent oracle: maximise the sum of own payoffs over [0, a_max]^n with scipy."""
    n = game.n

    def neg(a):
        return -game.payoffs(np.clip(a, 0, game.max_harvest)).sum()

    res = minimize(neg, np.full(n, 5.0), bounds=[(0, game.max_harvest)] * n, method="L-BFGS-B")
    return res.x


def test_apple_picking_tragedy_is_visible():
    game = sed.scenarios.apple_picking()
    assert game.n == 7
    np.testing.assert_allclose(game.society.selfishness, np.linspace(0, 1, 7))
    assert game.tax.thresholds.tolist() == [0.0, 10.0, 20.0]
    eq = sed.solve_equilibrium(game)
    fb = utilitarian_first_best(game)
    # Closed form of that optimum: a_i = theta (1 - kappa A), so A = n theta / (1 + n theta kappa).
    assert fb.sum() == pytest.approx(7 * 40 / (1 + 7 * 40 * 0.02), rel=1e-4)
    assert eq.aggregate > 1.8 * fb.sum()
    assert game.payoffs(fb).sum() > game.payoffs(eq.actions).sum() + 30  # about 10% of total payoff


def test_taxes_matter_in_the_default_scenario():
    lf = sed.solve_equilibrium(sed.scenarios.apple_picking())
    taxed = sed.solve_equilibrium(sed.scenarios.apple_picking((0.1, 0.3, 0.6)))
    assert taxed.aggregate < 0.85 * lf.aggregate
    assert sed.pmean(taxed.utilities, 1) > sed.pmean(lf.utilities, 1)
    # Every utility is positive for every rate vector in [0, 1]^3 (all p-means defined).
    for rates in [(1, 1, 1), (0, 0, 1), (1, 0, 0), (0.5, 0.5, 0.5)]:
        eq = sed.solve_equilibrium(sed.scenarios.apple_picking(rates))
        assert eq.utilities.min() > 0 and eq.converged
