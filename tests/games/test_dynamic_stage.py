"""The stage's continuation interpolant (monotone cubic) and what it buys: taxed MPE certified
in the true game, converging under grid refinement."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.interpolate
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.equilibrium.dynamic import STAGE_SELECTIONS, backward_induction, stage_equilibria
from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.games.dynamic.stage import continuation, pchip_slopes, smooth_slope, smooth_value

columns = st.lists(st.floats(-50.0, 50.0, allow_nan=False), min_size=3, max_size=12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(columns, columns, st.integers(0, 2**32 - 1))
def test_pchip_matches_scipy_and_never_overshoots(a: list[float], b: list[float], seed: int) -> None:
    """Oracle: scipy's PchipInterpolator, column by column, on an uneven grid; each cell stays
    between its end values (monotone cubic) and the derivative is the cubic's."""
    size = min(len(a), len(b))
    rng = np.random.default_rng(seed)
    grid = np.cumsum(rng.uniform(0.2, 3.0, size))
    values = np.column_stack([a[:size], b[:size]])
    stocks = rng.uniform(grid[0], grid[-1], 200)
    slopes = pchip_slopes(grid, values)
    value, slope = smooth_value(grid, values, slopes, stocks), smooth_slope(grid, values, slopes, stocks)
    for j in range(2):
        ref = scipy.interpolate.PchipInterpolator(grid, values[:, j])
        assert np.allclose(value[:, j], ref(stocks), atol=1e-9 * (1 + np.abs(values).max()))
        assert np.allclose(slope[:, j], ref(stocks, 1), atol=1e-7 * (1 + np.abs(values).max()))
    cell = np.clip(np.searchsorted(grid, stocks, side="right") - 1, 0, size - 2)
    lo = np.minimum(values[cell], values[cell + 1]) - 1e-9
    hi = np.maximum(values[cell], values[cell + 1]) + 1e-9
    assert np.all((value >= lo) & (value <= hi))


def test_smooth_value_per_agent_column_and_clipping() -> None:
    grid = np.linspace(0.0, 10.0, 6)
    values = np.column_stack([grid**2, np.sqrt(grid)])
    slopes = pchip_slopes(grid, values)
    stocks = np.array([[[-1.0, 3.3]], [[7.7, 12.0]]])  # (G=2, n=1, K=2) for agent 0 ... and clipped ends
    agent = np.zeros((1, 1, 1), dtype=int)
    mine = smooth_value(grid, values, slopes, stocks, agent)
    assert smooth_slope(grid, values, slopes, stocks, agent).shape == (2, 1, 2)
    assert mine.shape == (2, 1, 2)
    assert np.allclose(mine[..., :], continuation(grid, values, stocks)[..., 0])
    assert mine[0, 0, 0] == pytest.approx(0.0) and mine[1, 0, 1] == pytest.approx(100.0)  # clipped


def test_continuation_is_c1_across_nodes() -> None:
    """No kink at a node (linear interpolation has one wherever the slope falls, and each gives a
    continuum of spurious stage equilibria aiming at that grid stock)."""
    grid = np.linspace(0.0, 100.0, 41)
    values = np.column_stack([100 * np.log1p(grid), np.minimum(grid, 60.0)])
    slopes = pchip_slopes(grid, values)
    eps = 1e-7
    left = smooth_slope(grid, values, slopes, grid[1:-1] - eps)
    right = smooth_slope(grid, values, slopes, grid[1:-1] + eps)
    assert np.allclose(left, right, atol=1e-4)


def _taxed(points: int, rate: float = 0.3) -> DynamicCommonsGame:
    rng = np.random.default_rng(0)
    soc = sed.Society([1.0] * 7, rng.uniform(5.0, 15.0, 7))
    return DynamicCommonsGame(
        soc,
        sed.PiecewiseLinearTax([0.0], [rate]),
        horizon=20,
        discount=0.95,
        grid=points,
        endowment=1.0,
        max_harvest=40.0,
    )


def test_taxed_mpe_is_certified_and_converges_under_refinement() -> None:
    """Seven selfish agents, a flat rate of 0.3, 20 steps: certified in the true game (one-shot
    deviations with simulated continuations) and the path converges as the grid is refined (the
    linear interpolant gave a 201-point path that aims at grid stocks, true-game gap 0.12)."""
    harvests = []
    for points in (201, 401):
        game = _taxed(points)
        eq = sed.solve_equilibrium(game)
        assert eq.converged and eq.nash_gap < 1e-6
        assert set(eq.details["stage_selection"]) == {"max-welfare"}  # certified at once: no second run
        assert len(eq.details["selections_tried"]) == 1
        harvests.append(game.path(eq.actions).harvests[:3].sum(axis=1))
    assert np.allclose(harvests[0], harvests[1], rtol=1e-4)


def test_the_smallest_stage_equilibrium_certifies_where_the_largest_does_not() -> None:
    """Flat rate 0.5: keeping the stage equilibrium of largest welfare makes the continuation an
    upper envelope with convex kinks, and the previous step's stage game has no pure equilibrium
    next to them (true-game gap 2.4e-2); the solver builds the strategies again with the smallest
    and certifies them (6e-8)."""
    game = _taxed(201, 0.5)
    largest = backward_induction(game, tol=1e-6)
    assert set(largest.selection) == {"max-welfare"} and len(largest.selection) == 20
    assert sed.nash_gap(game, largest.policies) > 1e-3  # planted: the fallback is needed here
    eq = sed.solve_equilibrium(game)
    assert eq.converged and set(eq.details["stage_selection"]) == {"min-welfare"}
    assert [name for name, _ in eq.details["selections_tried"]] == list(STAGE_SELECTIONS)
    assert eq.details["selections_tried"][0][1] > 1e-4 >= eq.relative_nash_gap
    assert "min-welfare" in eq.certificate
    # at every grid stock where both pass, the smallest's stage welfare is at most the largest's
    model, grid = game.stage, game.grid
    cont = model.weigh(largest.values[3])
    welfare, gaps = [], []
    for selection in STAGE_SELECTIONS:
        h, gap, _ = stage_equilibria(model, grid, cont, 1e-8, selection=selection)
        welfare.append(model.total(model.values(grid, h, grid, cont)))
        gaps.append(gap)
    both = (gaps[0] < 1e-6) & (gaps[1] < 1e-6)
    assert both.sum() > grid.size // 2
    assert np.all(welfare[1][both] <= welfare[0][both] + 1e-9)
    assert np.any(welfare[1][both] < welfare[0][both] - 1e-3)  # several equilibria at some stocks


def test_unknown_stage_selection_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="selection"):
        backward_induction(_taxed(41), selection="optimistic")
