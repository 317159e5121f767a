"""The re-selection step of the policy search (sedtheory.principal.reselect)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.principal import BracketRates
from sedtheory.principal.reselect import SELECTION_RESOLUTION, reselect, selection_matters
from sedtheory.principal.search import SearchResult


@pytest.fixture(scope="module")
def seed_windows():
    """The seed's windows at random rates where some rows have several equilibria."""
    game = sed.scenarios.apple_picking()
    space = BracketRates().for_game(game)
    points = np.random.default_rng(7).uniform(0.0, 1.0, (30, 3))
    windows = space.equilibrium_windows(game, points)
    assert not np.all(windows.unique)  # the test needs rows with several equilibria
    return game, space, points, windows


def _extremes(windows, obj: sed.Objective) -> np.ndarray:
    values = np.stack([e.welfare(obj) for e in (windows.smallest, windows.largest)])
    usable = np.stack([e.certified for e in (windows.smallest, windows.largest)]) & np.isfinite(values)
    return np.where(usable, values, np.nan)  # type: ignore[no-any-return]


@pytest.mark.parametrize("p", [-np.inf, 0.0, 1.0])
def test_selection_matters_only_beyond_the_resolution(seed_windows, p: float) -> None:
    _, _, _, windows = seed_windows
    obj = sed.Objective(p)
    ext = _extremes(windows, obj)
    best, worst = np.nanmax(ext, axis=0), np.nanmin(ext, axis=0)
    # the solver's values equal to the extremes: no candidate gains, either way
    assert not selection_matters(obj, "optimistic", best, windows)
    assert not selection_matters(obj, "pessimistic", worst, windows)
    # just inside the resolution: still no
    inside = best - 0.5 * SELECTION_RESOLUTION * np.maximum(1.0, np.abs(best))
    assert not selection_matters(obj, "optimistic", inside, windows)
    # planted: one row's solver equilibrium worse than its best extreme by 1e-3 relative
    row = int(np.flatnonzero(np.isfinite(best))[0])
    low = best.copy()
    low[row] -= 1e-3 * max(1.0, abs(best[row]))
    assert selection_matters(obj, "optimistic", low, windows)
    assert not selection_matters(obj, "pessimistic", np.where(np.isfinite(worst), worst, low), windows)
    high = worst.copy()
    high[row] += 1e-3 * max(1.0, abs(worst[row]))
    assert selection_matters(obj, "pessimistic", high, windows)


def test_uncertified_extremes_never_matter(seed_windows) -> None:
    _, _, _, windows = seed_windows
    obj = sed.Objective(1.0)
    off = {
        name: dataclasses.replace(getattr(windows, name), certified=np.zeros(windows.unique.size, dtype=bool))
        for name in ("smallest", "largest")
    }
    blind = dataclasses.replace(windows, **off)
    assert not selection_matters(obj, "optimistic", np.full(windows.unique.size, -1e9), blind)
    assert not selection_matters(obj, "pessimistic", np.full(windows.unique.size, 1e9), blind)


class _Counting:
    """A bracket-rate space that counts its batched solves and equilibrium windows."""

    def __init__(self, space) -> None:
        self.space, self.solves, self.windows = space, 0, 0
        self.bounds = space.bounds

    def equilibrium_windows(self, game, points, tol=1e-9):
        self.windows += 1
        return self.space.equilibrium_windows(game, points, tol=tol)

    def batch_equilibria(self, game, points, tol=1e-9):
        self.solves += 1
        return self.space.batch_equilibria(game, points, tol=tol)


def _found(space, game, points, obj) -> tuple[SearchResult, np.ndarray]:
    batch = space.batch_equilibria(game, points)
    w = batch.welfare(obj)
    return SearchResult(points[:2], w[:2], batch.actions[:2], 2, 1), w


def _even(seed_windows):
    """The seed's candidates with the solver's welfare set to the best extreme of each row (the
    selection gains nothing anywhere), the search's result and the gradient, at p = -inf."""
    game, space, points, windows = seed_windows
    obj = sed.Objective(-np.inf)
    found, w = _found(space, game, points, obj)
    top = np.nanmax(_extremes(windows, obj), axis=0)
    w_even = np.where(np.isfinite(top), top, w)
    found_even = dataclasses.replace(found, values=w_even[:2])
    gradient = BracketRates().for_game(game).gradient(game, obj)
    return game, space, points, obj, w_even, found_even, gradient


def test_large_society_restarts_on_the_solver_where_the_selection_moves_nothing(seed_windows) -> None:
    game, space, points, obj, w_even, found_even, gradient = _even(seed_windows)
    counting = _Counting(space)
    out = reselect(counting, game, obj, "optimistic", 1e-9, points, w_even, found_even, 0.1, 1e-3, gradient)
    # the candidates' windows once, then the ascent on the solver's equilibria only
    assert counting.windows == 1 and counting.solves > 0
    assert np.max(out.values) >= np.max(found_even.values)
    # without the gradient (a small society) every trial policy is evaluated at its selection
    small = _Counting(space)
    reselect(small, game, obj, "optimistic", 1e-9, points, w_even, found_even, 0.1, 1e-3)
    assert small.windows > 1


def test_large_society_refines_where_the_selection_gains(seed_windows) -> None:
    """Planted: the solver's welfare below its best extreme by a lot at the scan's top row."""
    game, space, points, windows = seed_windows
    obj = sed.Objective(-np.inf)
    found, w = _found(space, game, points, obj)
    top = np.nanmax(_extremes(windows, obj), axis=0)
    w_low = np.where(np.isfinite(top), top, w)
    row = int(np.nanargmax(top))
    w_low[row] -= 1.0
    counting = _Counting(space)
    gradient = BracketRates().for_game(game).gradient(game, obj)
    out = reselect(counting, game, obj, "optimistic", 1e-9, points, w_low, found, 0.1, 1e-3, gradient)
    assert counting.windows > 1 and out is not found  # trial policies evaluated at their selection
    assert np.max(out.values) >= top[row] - 1e-9


def test_restart_keeps_to_its_work_budget(seed_windows, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no agent-policy pairs to spend, the restart solves nothing and keeps the results."""
    import sedtheory.principal.reselect as module

    game, space, points, obj, w_even, found_even, gradient = _even(seed_windows)
    monkeypatch.setattr(module, "RESTART_PAIRS", 0)
    counting = _Counting(space)
    out = reselect(counting, game, obj, "optimistic", 1e-9, points, w_even, found_even, 0.1, 1e-3, gradient)
    assert counting.solves == 0 and counting.windows == 1
    assert np.array_equal(np.sort(out.values), np.sort(found_even.values))
