"""The regimes of the global commons over a box of rates: at a point they are exactly the
equilibria that the enumeration lists; on a box they cover every equilibrium of every rate in it;
the quadratic bounds hold for every offset."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory import CommonsGame, PiecewiseLinearTax, Society
from sedtheory.errors import CapabilityError
from sedtheory.principal.regime_forms import RegimeModel, box_regimes, curvature, quad_max


def random_game(seed: int, n: int, brackets: int) -> CommonsGame:
    rng = np.random.default_rng(seed)
    tau = np.concatenate([[0.0], np.sort(rng.uniform(2, 25, brackets - 1))])
    society = Society(rng.uniform(0, 1, n), rng.uniform(5, 40, n))
    tax = PiecewiseLinearTax(tau, np.zeros(brackets))
    return CommonsGame(
        society, tax, damage=float(rng.uniform(0.05, 0.3)) / n, endowment=50.0, max_harvest=40.0
    )


def _at(game: CommonsGame, rates: np.ndarray) -> CommonsGame:
    return game.with_policy(PiecewiseLinearTax(game.tax.thresholds, rates))


def _covered(found: np.ndarray, regimes: np.ndarray, tol: float = 1e-7) -> bool:
    return bool(
        np.all([np.min(np.abs(regimes - a).max(axis=1)) <= tol * max(1.0, np.abs(a).max()) for a in found])
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6), st.integers(1, 3))
def test_at_a_point_the_regimes_are_the_equilibria(seed: int, n: int, brackets: int) -> None:
    game = random_game(seed, n, brackets)
    rates = np.random.default_rng(seed + 1).uniform(0, 1, brackets)
    model = RegimeModel.of(game, np.array([np.zeros(brackets), np.ones(brackets)]))
    reg = box_regimes(model, rates, np.zeros(brackets))
    assert reg is not None
    listed = sed.equilibria(_at(game, rates))
    actions = reg.actions[0]
    assert _covered(listed.actions, actions)  # every equilibrium is a regime
    g = _at(game, rates)
    for a, u, r in zip(actions, reg.utilities[0], reg.payoffs[0], strict=True):
        if g.nash_gap(a) <= 1e-9 * max(1.0, float(np.abs(g.utilities(a)).max())):
            np.testing.assert_allclose(u, g.utilities(a), rtol=1e-10, atol=1e-9)
            np.testing.assert_allclose(r, g.payoffs(a), rtol=1e-10, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.integers(1, 3), st.floats(0.005, 0.2))
def test_a_box_covers_every_equilibrium_of_every_rate_in_it(
    seed: int, n: int, brackets: int, width: float
) -> None:
    """Soundness: equilibria at rates sampled in the box are regimes of the box, with the regime's
    affine actions and exact quadratic utilities reproducing them."""
    game = random_game(seed, n, brackets)
    rng = np.random.default_rng(seed + 2)
    centre = rng.uniform(width, 1 - width, brackets)
    half = np.full(brackets, width)
    model = RegimeModel.of(game, np.array([np.zeros(brackets), np.ones(brackets)]))
    reg = box_regimes(model, centre, half)
    if reg is None:  # too many regimes: the search splits such a box, nothing is claimed
        return
    for d in rng.uniform(-1, 1, (4, brackets)) * half:
        g = _at(game, centre + d)
        listed = sed.equilibria(g)
        a = reg.actions[0] + reg.actions[1] @ d
        assert _covered(listed.actions, a, 1e-6)
        quad = reg.utilities
        u = quad[0] + quad[1] @ d + 0.5 * np.einsum("rnjk,j,k->rn", quad[2], d, d)
        for found, util in zip(listed.actions, listed.utilities, strict=True):
            row = int(np.argmin(np.abs(a - found).max(axis=1)))
            np.testing.assert_allclose(u[row], util, rtol=1e-8, atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_quadratic_bounds_hold_at_every_offset(seed: int, dim: int) -> None:
    rng = np.random.default_rng(seed)
    c, g = rng.normal(), rng.normal(size=dim)
    h = rng.normal(size=(dim, dim))
    h = h + h.T
    half = rng.uniform(0, 2, dim)
    top, curv = quad_max(c, g, h, half), curvature(h, half)
    for d in rng.uniform(-1, 1, (50, dim)) * half:
        value = c + g @ d + 0.5 * d @ h @ d
        assert value <= top + 1e-12
        assert 0.5 * d @ h @ d <= curv + 1e-12


def test_concave_diagonal_quadratic_is_bounded_exactly() -> None:
    """Planted: a concave parabola with its vertex inside the box; the bound is its maximum, not
    the value at a corner plus a curvature term."""
    top = quad_max(np.array(1.0), np.array([0.5]), np.array([[-2.0]]), np.array([1.0]))
    assert float(top) == pytest.approx(1.0 + 0.5**2 / 4)


def test_games_the_analysis_does_not_cover_are_refused() -> None:
    soc = Society([0.5, 0.5, 0.5], [np.inf, np.inf, 10.0])
    game = CommonsGame(soc, PiecewiseLinearTax([0.0], [0.0]), damage=0.1, endowment=10.0, max_harvest=20.0)
    with pytest.raises(CapabilityError, match="effort cost"):
        RegimeModel.of(game, np.array([[0.0], [1.0]]))
    ring = Society([0.5] * 4, 10.0, graph=nx.cycle_graph(4))
    local = CommonsGame(ring, PiecewiseLinearTax([0.0], [0.0]), 0.1, commons="local")
    with pytest.raises(CapabilityError, match="global commons"):
        RegimeModel.of(local, np.array([[0.0], [1.0]]))
