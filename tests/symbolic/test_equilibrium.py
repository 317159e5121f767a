import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

import sedtheory as sed
from sedtheory.symbolic import NoClosedFormError, Position, regime_of, symbolic_equilibrium

from ..conftest import random_game, seeds


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seeds)
def test_closed_form_matches_numeric_global(seed):
    rng = np.random.default_rng(seed)
    game = random_game(rng, "global", n=int(rng.integers(2, 5)))
    eq = sed.solve_equilibrium(game)
    try:
        sym = symbolic_equilibrium(game, numeric=["tau", "a_max", "omega"])
    except NoClosedFormError:
        # Only when some interior agent's action is not pinned down by its condition.
        soc = game.society
        assert np.any(soc.selfishness / soc.productivity == 0)
        return
    values = sym.evaluate()
    np.testing.assert_allclose(values, eq.actions, atol=1e-10, rtol=1e-10)
    assert sed.nash_gap(game, np.clip(values, 0, game.max_harvest)) <= 1e-8 * max(
        1, np.abs(eq.utilities).max()
    )
    np.testing.assert_allclose(sym.evaluate_utilities(), eq.utilities, rtol=1e-9, atol=1e-8)
    assert sym.holds()
    interior = [i for i, p in enumerate(sym.regime) if p.kind == "interior"]
    for i in interior:
        assert sym.actions[i].free_symbols  # a real expression, not a number


@settings(max_examples=6, deadline=None, derandomize=True)
@given(seeds)
def test_closed_form_matches_numeric_local(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    family = ["ring", "path", "star", "erdos-renyi"][int(rng.integers(4))]
    game = random_game(rng, "local", family=family, n=n, progressive=True)
    try:
        eq = sed.solve_equilibrium(game)
    except sed.errors.EquilibriumNotFoundError:
        return  # the local game need not have a pure equilibrium with non-concave agents
    try:
        sym = symbolic_equilibrium(game, numeric=["sigma", "theta", "tau", "a_max", "omega"])
    except NoClosedFormError:
        # Singular regime systems arise only with interior agents that have sigma_i / theta_i = 0.
        interior = [p.kind == "interior" for p in regime_of(game, eq.actions)]
        soc = game.society
        assert np.any((soc.selfishness / soc.productivity == 0) & np.array(interior))
        return
    np.testing.assert_allclose(sym.evaluate(), eq.actions, atol=1e-10, rtol=1e-10)
    assert sym.holds()


def test_perturbation_moves_like_the_numeric_equilibrium():
    game = sed.scenarios.apple_picking((0.1, 0.3, 0.6))
    sym = symbolic_equilibrium(game)
    for name, delta in [
        ("kappa", 1e-4),
        ("phi_1", 0.005),
        ("sigma_5", -0.005),
        ("theta_4", 0.2),
        ("tau_1", 0.05),
    ]:
        value = sym.values[sym.symbols[name]] + delta
        assert sym.holds(**{name: value})
        moved = sym.evaluate(**{name: value})
        numeric = sed.solve_equilibrium(sym.model.game_at(**{name: value})).actions
        np.testing.assert_allclose(moved, numeric, atol=1e-10)
        assert np.abs(moved - sym.evaluate()).max() > 0 or name == "tau_1"


def test_regime_read_off_and_given():
    game = sed.scenarios.apple_picking((0.1, 0.3, 0.6))
    regime = regime_of(game, sed.solve_equilibrium(game).actions)
    assert regime[6] == Position("threshold", 2)
    given = [p.kind + (f":{p.bracket}" if p.kind in ("interior", "threshold") else "") for p in regime]
    sym = symbolic_equilibrium(game, regime=given, numeric=["sigma", "theta", "tau", "a_max", "omega"])
    np.testing.assert_allclose(sym.evaluate(), sed.solve_equilibrium(game).actions, atol=1e-10)
    assert "\\begin{aligned}" in sym.latex() and "kappa" in sym.latex()
    for p in (1, 0, -1, 0.5, float("-inf"), float("inf")):
        expected = sed.pmean(sym.evaluate_utilities(), p)
        assert sym.evaluate_expression(sym.welfare(p)) == pytest.approx(expected, rel=1e-9)


def test_inconsistent_regimes_are_errors():
    game = sed.scenarios.apple_picking((0.1, 0.3, 0.6))
    n = game.n
    with pytest.raises(NoClosedFormError, match="inconsistent"):
        symbolic_equilibrium(game, regime=["cap"] * n)
    wrong = symbolic_equilibrium(game, regime=["cap"] * n, strict=False)
    assert not wrong.holds()
    # Agent 0 (sigma = 0) has a convex kink at tau_1 under progressive rates: never a best reply.
    with pytest.raises(NoClosedFormError, match="convex kink"):
        symbolic_equilibrium(game, regime=["threshold:1"] + ["zero"] * (n - 1), strict=False)
    with pytest.raises(sed.errors.InvalidParameterError, match="regime"):
        symbolic_equilibrium(game, regime=["zero"] * (n - 1))


def test_no_effort_cost_has_no_individual_closed_form():
    """Global commons without effort costs: every condition reads 1 - kappa A / n = 0."""
    game = sed.CommonsGame(
        sed.Society([1.0, 1.0, 1.0], np.inf), sed.PiecewiseLinearTax([0], [0.0]), 0.1, 0.0, 100.0
    )
    with pytest.raises(NoClosedFormError, match="pin down"):
        symbolic_equilibrium(game, regime=["interior:0"] * 3, strict=False)


def test_untaxed_selfish_tragedy():
    """No effort cost, no tax, selfish agents: A* = n / kappa, n times the utilitarian 1 / kappa."""
    theta = sp.Symbol("theta_0", positive=True)
    n = 4
    game = sed.CommonsGame(sed.Society(np.ones(n), 10.0), sed.PiecewiseLinearTax([0], [0.0]), 0.05, 0.0, 1e6)
    sym = symbolic_equilibrium(game, numeric=["n", "sigma", "phi", "omega", "a_max"])
    agg = sym.aggregate.subs({sym.symbols[f"theta_{i}"]: theta for i in range(n)})
    limit = sp.limit(agg, theta, sp.oo)
    kappa = sym.symbols["kappa"]
    assert sp.simplify(limit - n / kappa) == 0
    # Numeric: the theta = inf game and its utilitarian first best 1 / kappa.
    inf_game = sed.CommonsGame(
        sed.Society(np.ones(n), np.inf), sed.PiecewiseLinearTax([0], [0.0]), 0.05, 0.0, 1e6
    )
    assert sed.solve_equilibrium(inf_game).aggregate == pytest.approx(n * (1 / 0.05))


def test_conditions_catch_a_lost_concavity():
    """Planted: flat rates keep every agent concave; making them progressive breaks the formula
    for agents with sigma_i < s_i / n, and the conditions must say so."""
    game = sed.scenarios.apple_picking((0.3, 0.3, 0.3))
    sym = symbolic_equilibrium(game)
    assert sym.holds()
    assert not sym.holds(phi_2=0.9, phi_0=0.0)
