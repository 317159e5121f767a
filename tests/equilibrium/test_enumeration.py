"""Every pure equilibrium: the aggregate sweep against the regime enumeration, pygambit and the
seed scenario's known second equilibrium."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.equilibrium.enumeration import _collect, equilibria
from sedtheory.equilibrium.regimes import polish, regime_candidates


def _random_game(
    seed: int, n: int, commons: str = "global", graph: nx.Graph | None = None
) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    sigma = rng.choice([0.0, 0.02, 0.1, 0.3, 1.0], n)
    brackets = int(rng.integers(1, 4))
    thresholds = np.concatenate([[0.0], np.sort(rng.uniform(0.0, 10.0, brackets - 1))])
    tax = sed.PiecewiseLinearTax(thresholds, np.sort(rng.uniform(0.0, 1.0, brackets)))
    soc = sed.Society(sigma, rng.uniform(2.0, 20.0, n), graph=graph)
    return sed.CommonsGame(soc, tax, float(rng.uniform(0.01, 0.3)), 50.0, 30.0, commons=commons)  # type: ignore[arg-type]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and all(any(np.allclose(x, y, atol=1e-7) for y in b) for x in a)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 4))
def test_aggregate_sweep_equals_the_regime_enumeration(seed: int, n: int) -> None:
    """Two independent complete enumerations (the aggregate sweep for the global commons, every
    regime's linear system) find the same equilibria."""
    game = _random_game(seed, n)
    found = equilibria(game)
    candidates, why = regime_candidates(game)
    other = _collect(game, candidates, 1e-12, not why, "regimes", why)
    if found.complete and other.complete:
        assert _same(found.actions, other.actions)
    assert np.all(found.gaps <= 1e-12 * np.maximum(1.0, np.abs(found.utilities).max(axis=1)))
    assert found.count >= 1


def test_the_seed_has_a_better_equilibrium_than_the_solver_returns() -> None:
    """Issue 15's instance: at rates (0, 0.513, 0) the seed has two equilibria and the solver's is
    the worse one for the egalitarian objective."""
    base = sed.scenarios.apple_picking()
    game = base.with_policy(sed.PiecewiseLinearTax(base.tax.thresholds, [0.0, 0.513, 0.0]))
    found = equilibria(game)
    assert found.complete and found.count == 2
    welfare = found.welfare(-np.inf)
    solver = sed.pmean(sed.solve_equilibrium(game).utilities, -np.inf)
    assert welfare.max() > solver + 2.0  # 58.67 vs 56.53
    assert found.select(-np.inf, "optimistic") == int(np.argmax(welfare))
    assert found.select(-np.inf, "pessimistic") == int(np.argmin(welfare))


@pytest.mark.parametrize("seed", range(6))
def test_local_commons_regimes_are_complete_on_small_graphs(seed: int) -> None:
    graph = nx.path_graph(4) if seed % 2 else nx.star_graph(3)
    game = _random_game(seed, 4, "local", graph)
    found = equilibria(game)
    assert found.method == "regime-enumeration"
    eq = sed.solve_equilibrium(game)
    assert any(np.allclose(eq.actions, a, atol=1e-6) for a in found.actions)
    for a in found.actions:
        assert game.nash_gap(a) <= 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_pygambit_finds_every_enumerated_equilibrium(seed: int) -> None:
    """Each agent's grid holds its actions in every enumerated equilibrium: Gambit's enumpure on
    that discretised game finds each of them, and every Gambit equilibrium that is an exact
    equilibrium of the continuous game is one of ours (completeness, cross-checked)."""
    pytest.importorskip("pygambit")
    from sedtheory.equilibrium.discrete import gambit_pure_equilibria

    for trial in range(200):  # the first random game with several equilibria
        game = _random_game(1000 * seed + trial, 3)
        found = equilibria(game)
        if found.count > 1 and found.complete:
            break
    grids = [np.unique(np.concatenate([np.linspace(0.0, 30.0, 4), found.actions[:, i]])) for i in range(3)]
    theirs = gambit_pure_equilibria(game, grids)
    for a in found.actions:
        assert any(np.allclose(a, b) for b in theirs)
    exact = [b for b in theirs if game.nash_gap(b) <= 1e-9]
    assert _same(np.array(exact), found.actions)


def test_continua_and_other_games_are_reported_incomplete() -> None:
    """Planted: two agents without effort cost inside one bracket trade off at the same total (a
    continuum); a dynamic game has no enumeration."""
    soc = sed.Society([0.0, 0.0, 0.0], np.inf)  # each wants the total at 0.2 / 0.01 = 20, any split
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 50], [0.2, 0.3]), 0.01, 20.0, 30.0)
    found = equilibria(game)
    assert not found.complete and "continuum" in found.note
    from sedtheory.games.dynamic import DynamicCommonsGame

    dyn = DynamicCommonsGame(sed.Society([1.0, 1.0]), sed.PiecewiseLinearTax([0], [0.0]), horizon=2, grid=21)
    out = equilibria(dyn)
    assert not out.complete and out.count == 1


def test_a_continuum_through_a_kink_is_reported_incomplete() -> None:
    """Planted (found by hypothesis, seed 718954 of tests/principal/test_selection.py): two
    selfishness-0 agents, one inside the bracket [2, 6], the other exactly on its lower kink; the
    kink agent can move into the bracket while the other moves down (same total): (2.2149, 2.2149)
    is an equilibrium too (Nash gap 2e-12), so the listed one is not the whole set."""
    rng = np.random.default_rng(718954)
    n = int(rng.integers(2, 5))
    soc = sed.Society(rng.choice([0.0, 0.05, 0.3, 1.0], n), rng.uniform(2.0, 20.0, n))
    rates = rng.uniform(0.0, 1.0, (6, 3))[1]
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0.0, 2.0, 6.0], rates), 0.1, 50.0, 30.0)
    found = equilibria(game)
    total = found.actions[0][1:].sum()
    even, kink = found.actions[0].copy(), found.actions[0].copy()
    even[1:] = total / 2.0  # the same total split evenly: both inside the bracket
    kink[1:] = 2.0, total - 2.0  # one on the kink, the other inside (which one is listed varies)
    for profile in (even, kink):
        assert game.nash_gap(profile) <= 1e-9
    assert np.abs(even - kink).max() > 0.1
    assert not found.complete and "kink" in found.note


def test_polish_lands_on_the_exact_regime_solution() -> None:
    game = _random_game(3, 3)
    eq = sed.solve_equilibrium(game)
    nudged = eq.actions + 1e-7 * (eq.actions > 1e-6)
    exact = polish(game, nudged)
    assert game.nash_gap(exact) <= game.nash_gap(nudged)
    assert np.allclose(exact, eq.actions, atol=1e-6)
