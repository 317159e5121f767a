"""Batches split over the free threads (sedtheory.principal.cores)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.equilibrium.batch import stack_evaluations, stack_windows
from sedtheory.errors import InvalidParameterError
from sedtheory.objective import Objective
from sedtheory.principal.cores import SharedCores
from sedtheory.principal.gradient import ascent
from sedtheory.principal.spaces import BracketRates


def _game(n: int, seed: int = 0) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0.0, 1.0, n), rng.uniform(5.0, 40.0, n))
    tax = sed.PiecewiseLinearTax([0.0, 10.0, 20.0], [0.0, 0.0, 0.0])
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


def _same(a, b) -> None:
    for name in ("points", "actions", "utilities", "payoffs", "nash_gaps", "relative_nash_gaps", "certified"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_free_threads_follow_the_searches() -> None:
    cores = SharedCores(2)
    assert cores.free() == 2
    inside, release = threading.Event(), threading.Event()

    def other_search() -> None:
        with cores.search():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other_search)
    t.start()
    inside.wait(10)
    try:
        assert cores.free() == 1  # the other search holds a thread
        with cores.search():
            assert cores.free() == 1  # this search's own thread only
        assert len(cores.map(lambda x: x, np.zeros((4, 2)))) == 1  # not split
    finally:
        release.set()
        t.join()
    assert cores.free() == 2 and len(cores.map(lambda x: x, np.zeros((4, 2)))) == 2
    assert len(cores.map(lambda x: x, np.zeros((1, 2)))) == 1  # one row: one block
    with pytest.raises(InvalidParameterError, match="threads"):
        SharedCores(0)


def test_split_batches_equal_the_whole_batch() -> None:
    """Rows are solved independently: blocks stacked back are the batch bit for bit."""
    game = _game(600)
    space = BracketRates().for_game(game)
    x = np.random.default_rng(1).uniform(0.0, 1.0, (7, 3))
    cores = SharedCores(3)
    whole = space.batch_equilibria(game, x)
    _same(stack_evaluations(cores.map(lambda r: space.batch_equilibria(game, r), x)), whole)
    windows = space.equilibrium_windows(game, x)
    split = stack_windows(cores.map(lambda r: space.equilibrium_windows(game, r), x))
    assert split is not None
    for name in ("low", "high", "unique"):
        assert np.array_equal(getattr(split, name), getattr(windows, name))
    _same(split.smallest, windows.smallest)
    _same(split.largest, windows.largest)
    assert stack_windows([windows, None]) is None


def test_ascent_with_shared_cores_takes_the_same_path() -> None:
    game = _game(500, seed=2)
    space = BracketRates().for_game(game)
    obj = Objective(1.0).for_game(game)
    gradient = space.gradient(game, obj)
    starts = np.array([[0.1, 0.3, 0.5], [0.6, 0.2, 0.1]])
    first = space.batch_equilibria(game, starts)
    begin = (starts, first.welfare(obj), first.actions)
    lo, hi = space.bounds
    cores = SharedCores()

    def split(x: np.ndarray):
        return stack_evaluations(cores.map(lambda r: space.batch_equilibria(game, r), x))

    plain = ascent(lambda x: space.batch_equilibria(game, x), gradient, obj, begin, lo, hi, 0.1, 1e-3, 6)
    shared = ascent(split, gradient, obj, begin, lo, hi, 0.1, 1e-3, 6, cores)
    assert np.array_equal(plain.points, shared.points) and np.array_equal(plain.values, shared.values)
    assert plain.evaluations == shared.evaluations and cores.free() == 2
