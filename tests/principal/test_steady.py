"""Steady states of the dynamic commons: stationary MPE fixed points, the planner's golden rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.principal import dynamic_first_best
from sedtheory.principal.steady import mpe_steady_states, planner_steady_state, steady_states


def _game(rate: float = 0.0, productivity: float = 40.0, **kw: object) -> DynamicCommonsGame:
    args = {"horizon": 5, "discount": 0.9, "grid": 41}
    return DynamicCommonsGame(
        sed.Society([1.0, 1.0], productivity), sed.PiecewiseLinearTax([0], [rate]), **{**args, **kw}
    )


def test_laissez_faire_collapses_and_reports_when() -> None:
    st = steady_states(_game())
    assert st.collapses and st.collapse_step is not None
    assert st.path_stocks[st.collapse_step] == 0.0 and np.all(st.path_stocks[: st.collapse_step] > 0)
    assert st.mpe[0].stock == 0.0  # collapse is always a steady state
    assert st.maximum_sustainable_yield == pytest.approx((50.0, 6.25), rel=1e-6)
    again = steady_states(_game(), sed.solve_equilibrium(_game(), raise_on_failure=False))  # reused MPE
    assert np.array_equal(again.path_stocks, st.path_stocks) and again.collapse_step == st.collapse_step


def test_mpe_steady_states_are_fixed_points_of_the_stock_map() -> None:
    game = _game(0.5)
    states, gap = mpe_steady_states(game)
    stationary = game.with_horizon(float("inf"))
    policy = sed.solve_equilibrium(stationary, raise_on_failure=False).actions[0]
    for s in states:
        total = min(float(np.interp(s.stock, game.grid, policy.sum(axis=1))), s.stock)
        assert float(game.regrowth(s.stock - total)) == pytest.approx(s.stock, abs=1e-8)
        assert s.harvest == pytest.approx(total, abs=1e-8)
        assert s.stable == (abs(s.multiplier) < 1.0)
    assert np.all(np.diff([s.stock for s in states]) > 0) and np.isfinite(gap)


def test_planner_steady_state_is_the_modified_golden_rule() -> None:
    game = _game()
    ss = planner_steady_state(game)
    # beta G'(E*) = 1 for the concave logistic map: E* = K/2 (1 - (1/beta - 1)/r)
    assert ss.escapement == pytest.approx(50.0 * (1.0 - (1.0 / 0.9 - 1.0) / 0.25), rel=1e-6)
    assert ss.stock == pytest.approx(float(game.regrowth(ss.escapement)), rel=1e-12)
    # a long-horizon first best passes by it (turnpike) before the end-of-horizon run-down
    plan = dynamic_first_best(game.with_horizon(80), 1.0, "lump-sum")
    assert np.min(np.abs(plan.stocks[5:20] - ss.stock)) < 1.0


def test_planner_stops_at_the_agents_bliss_harvest() -> None:
    game = _game(productivity=2.0)  # the agents want 4 apples a step, the golden rule offers 5
    ss = planner_steady_state(game)
    assert ss.harvest == pytest.approx(4.0) and ss.stock == pytest.approx(84.0, abs=1e-6)
    plan = dynamic_first_best(game.with_horizon(80), 1.0, "lump-sum")
    assert plan.stocks[30] == pytest.approx(ss.stock, abs=0.1)


def test_bad_input() -> None:
    with pytest.raises(InvalidParameterError) as info:
        steady_states(sed.scenarios.apple_picking())
    assert info.value.field == "game"
    with pytest.raises(InvalidParameterError) as info:
        mpe_steady_states(_game(discount=1.0))
    assert info.value.field == "discount"


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.floats(0.6, 0.99), st.floats(0.05, 1.0), st.floats(1.0, 60.0))
def test_planner_steady_state_laws(discount: float, growth: float, productivity: float) -> None:
    """The planner's steady state is a fixed point of the regrowth map at its harvest; its
    escapement satisfies the modified golden rule (below the escapement of maximum sustainable
    yield) unless the agents' bliss harvest binds, and is above it otherwise."""
    from sedtheory.games.dynamic import logistic

    game = DynamicCommonsGame(
        sed.Society([1.0, 1.0], productivity),
        sed.PiecewiseLinearTax([0], [0.0]),
        logistic(r=growth),
        horizon=3,
        discount=discount,
        grid=201,
    )
    ss = planner_steady_state(game)
    g = game.regrowth
    assert float(g(ss.escapement)) == pytest.approx(ss.stock, abs=1e-6)
    assert ss.stock - ss.escapement == pytest.approx(ss.harvest, abs=1e-6)
    golden = max(0.0, 50.0 * (1.0 - (1.0 / discount - 1.0) / growth))
    if ss.harvest < 2 * productivity - 1e-9:  # the bliss harvest does not bind
        assert ss.escapement == pytest.approx(golden, abs=1e-4)
        assert ss.escapement <= g.maximum_sustainable_yield()[0] + 1e-6  # impatience eats into MSY
    else:  # harvesting only what the agents want leaves more than the golden rule
        assert ss.escapement >= golden - 1e-6
