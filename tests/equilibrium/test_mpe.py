"""Which stage equilibrium backward induction keeps per step: the search over selections
(sedtheory.equilibrium.mpe) and the per-step selection it passes to backward induction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.equilibrium.dynamic import STAGE_SELECTIONS, BackwardInduction, backward_induction
from sedtheory.equilibrium.mpe import SelectionRun, _flip, search_selections
from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic import DynamicCommonsGame


def _duopoly(horizon: int = 7) -> DynamicCommonsGame:
    """Two selfish agents, no tax, 41 grid points: neither uniform selection is certified."""
    return DynamicCommonsGame(
        sed.Society([1.0, 1.0], [27.0, 45.0]),
        sed.PiecewiseLinearTax([0.0], [0.0]),
        horizon=horizon,
        discount=0.95,
        grid=41,
        endowment=1.0,
        max_harvest=40.0,
    )


def test_a_per_step_selection_certifies_where_neither_uniform_one_does() -> None:
    game = _duopoly()
    runs = search_selections(game, tol=1e-4)
    assert [r.label for r in runs[:2]] == list(STAGE_SELECTIONS)
    assert all(r.relative_gap > 1e-4 for r in runs[:2])  # planted: both uniform runs fail
    assert runs[-1].relative_gap <= 1e-4 and len(set(runs[-1].strategies.selection)) == 2
    # the certificate is the game's own: the step gains are the one-shot gains of its strategies
    last = runs[-1]
    assert np.isclose(last.gap, sed.nash_gap(game, last.strategies.policies), rtol=0, atol=1e-12)
    assert np.allclose(last.step_gains.max(axis=0), game.deviation_gains(last.strategies.policies))
    eq = sed.solve_equilibrium(game)
    assert eq.converged and eq.details["stage_selection"] == last.strategies.selection
    assert eq.details["selections_tried"][-1][0].startswith("per step")
    # backward induction given that selection reproduces the strategies
    again = backward_induction(game, tol=1e-6, selection=last.strategies.selection)
    assert np.array_equal(again.policies, last.strategies.policies)


def _run(selection: tuple[str, ...], gains: np.ndarray) -> SelectionRun:
    empty = np.zeros((len(selection), 1, 1))
    out = BackwardInduction(empty, empty, np.zeros(len(selection)), 0, selection=selection)
    return SelectionRun(out, 1.0, 1.0, np.zeros(1), gains)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(STAGE_SELECTIONS), min_size=2, max_size=8), st.data())
def test_a_flip_changes_the_step_after_the_largest_gain_not_yet_tried(sels: list[str], data) -> None:
    gains = np.array(data.draw(st.lists(st.floats(0, 1), min_size=len(sels), max_size=len(sels))))[:, None]
    tried: set[tuple[str, ...]] = {tuple(sels)}
    seen = 0
    while (new := _flip(_run(tuple(sels), gains), tried)) is not None:
        changed = [t for t in range(len(sels)) if new[t] != sels[t]]
        assert len(changed) == 1 and changed[0] >= 1  # one step, never the first (nothing before it)
        order = [int(t) + 1 for t in np.argsort(-gains[:, 0], kind="stable") if t + 1 < len(sels)]
        assert changed[0] == order[seen]  # by decreasing gain of the step before
        tried.add(new)
        seen += 1
    assert seen == len(sels) - 1  # every step but the first, each once


def test_a_stationary_game_tries_only_the_uniform_selections() -> None:
    game = _duopoly().with_horizon(float("inf"))
    runs = search_selections(game, tol=1e-4)
    assert 1 <= len(runs) <= 2 and all(len(r.strategies.selection) == 1 for r in runs)


def test_selection_per_step_is_checked() -> None:
    game = _duopoly(horizon=3)
    with pytest.raises(InvalidParameterError, match="selection"):
        backward_induction(game, selection=("max-welfare", "min-welfare"))  # 2 of 3 steps
    with pytest.raises(InvalidParameterError, match="selection"):
        backward_induction(game, selection=("max-welfare", "best", "min-welfare"))
    out = backward_induction(game, selection=("max-welfare", "min-welfare", "max-welfare"))
    assert out.selection == ("max-welfare", "min-welfare", "max-welfare")
