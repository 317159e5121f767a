"""Regrowth maps: G(0) = 0, increasing, the logistic's MSY, the Melting Pot mean field against the
stochastic cell orchard, steady states, and typed errors for bad maps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sedtheory.errors import InvalidParameterError, UnknownNameError
from sedtheory.games.dynamic import REGROWTH, logistic, melting_pot, regrowth_map, simulate_orchard


@pytest.mark.parametrize("name", sorted(REGROWTH))
def test_every_named_map_is_valid(name: str) -> None:
    g = regrowth_map(name)
    grid = np.linspace(0, g.capacity, 2001)
    values = g(grid)
    assert g(0.0) == 0.0 and np.all(np.diff(values) >= 0) and np.all(values <= g.capacity + 1e-9)
    assert regrowth_map(g.func, g.capacity).capacity == g.capacity  # passes the callable checks too


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.floats(0.01, 1.0), st.floats(1.0, 1e4))
def test_logistic_msy_is_rk_over_4(r: float, k: float) -> None:
    e, y = logistic(r, k).maximum_sustainable_yield()
    assert e == pytest.approx(k / 2, rel=1e-6) and y == pytest.approx(r * k / 4, rel=1e-9)


@pytest.mark.parametrize("stock", [50.0, 200.0, 400.0, 900.0])
def test_melting_pot_mean_field_matches_the_cell_orchard(stock: float) -> None:
    mean, se, cap = simulate_orchard(stock, side=40, runs=3000, seed=int(stock))
    assert abs(mean - melting_pot(K=cap)(stock)) <= 2.5 * se


def test_melting_pot_several_steps_compose() -> None:
    one, two = melting_pot(K=100.0), melting_pot(K=100.0, steps_per_period=2)
    assert two(30.0) == pytest.approx(one(one(30.0)))


def test_steady_states_and_collapse() -> None:
    g = logistic(0.5, 100.0)
    assert g.steady_states().tolist() == [0.0, 100.0]
    # Harvesting 10 % of the stock: S = G(0.9 S) has the root 100 (1 - 0.1/0.45) / 0.9.
    states = g.steady_states(lambda s: 0.1 * s)
    assert states[-1] == pytest.approx(100 * (1 - (1 / 0.9 - 1) / 0.5) / 0.9, rel=1e-9)
    # Harvesting more than the regrowth can replace leaves only collapse.
    assert g.steady_states(lambda s: 0.5 * s).tolist() == [0.0]


def test_bad_maps_are_typed_errors() -> None:
    with pytest.raises(InvalidParameterError, match="G\\(0\\)"):
        regrowth_map(lambda e: e + 1.0, 10.0)
    with pytest.raises(InvalidParameterError, match="non-decreasing"):
        regrowth_map(lambda e: e * (10 - e) / 10, 10.0)
    with pytest.raises(InvalidParameterError, match="into itself"):
        regrowth_map(lambda e: 2 * e, 10.0)
    with pytest.raises(InvalidParameterError, match="finite"):
        with np.errstate(divide="ignore"):
            regrowth_map(lambda e: e / (e - 5.0), 10.0)
    with pytest.raises(InvalidParameterError, match="r"):
        logistic(r=1.5)
    with pytest.raises(UnknownNameError, match="regrowth maps"):
        regrowth_map("exponential")
    with pytest.raises(InvalidParameterError, match="stock"):
        simulate_orchard(-1.0)


@given(st.floats(0.0, 100.0))
def test_scalar_call_equals_array_call(e):
    """The float shortcut of the built-in logistic map returns the array path's number."""
    g = logistic()
    assert g.scalar
    assert g(e) == float(g(np.array([e]))[0])
    assert not regrowth_map(lambda x: np.asarray(x) * 1.0 + 0.0 * x).scalar
