"""Preferences over p at the principal's optimum, tie-breaking, and the vote report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import InvalidParameterError, ProfileError
from sedtheory.voting import (
    DEFAULT_CANDIDATES,
    condorcet_winner,
    is_single_peaked,
    preferences_over_p,
    rank_by_utility,
    vote_report,
    winner,
)


@pytest.fixture(scope="module")
def prefs() -> sed.PreferencesOverP:
    return preferences_over_p(sed.scenarios.apple_picking())


def test_default_scenario_preferences(prefs: sed.PreferencesOverP) -> None:
    game = sed.scenarios.apple_picking()
    assert prefs.candidates == DEFAULT_CANDIDATES
    assert prefs.utilities.shape == (7, 6)
    for k, (p, d) in enumerate(zip(prefs.candidates, prefs.designs, strict=True)):
        assert d.p == p
        assert d.equilibrium.relative_nash_gap <= 1e-8
        g = game.with_tax(d.tax)
        np.testing.assert_allclose(prefs.utilities[:, k], g.utilities(d.equilibrium.actions), rtol=1e-12)
    for i, ranking in enumerate(prefs.rankings):
        u = [prefs.utilities[i, prefs.candidates.index(c)] for c in ranking]
        assert all(a >= b - 1e-9 * max(1.0, abs(b)) for a, b in zip(u, u[1:], strict=False))
        assert prefs.peaks[i] == ranking[0]
    assert prefs.single_peaked == is_single_peaked(prefs.rankings)
    for i in range(7):
        assert (i in prefs.violators) == (not is_single_peaked([prefs.rankings[i]], prefs.candidates))
    # Measured on the seed scenario: the fully prosocial agent 0 and the selfish agents 3..6 are not
    # single-peaked along the p axis (the elitist policy beats the utilitarian one for them).
    assert prefs.violators == (0, 3, 4, 5, 6)
    assert condorcet_winner(prefs.rankings) == -1.0
    frame = prefs.to_frame()
    assert list(frame["peak"]) == list(prefs.peaks)
    np.testing.assert_allclose(prefs.welfare(1.0), prefs.utilities.mean(axis=0))


def test_designs_are_reused(prefs: sed.PreferencesOverP) -> None:
    game = sed.scenarios.apple_picking()
    again = preferences_over_p(game, designs={d.p: d for d in prefs.designs})
    assert all(a is b for a, b in zip(again.designs, prefs.designs, strict=True))
    assert again.rankings == prefs.rankings


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 7).flatmap(
        lambda k: st.tuples(
            st.integers(0, k - 1),
            st.lists(st.integers(0, 3), min_size=k, max_size=k),
        )
    )
)
def test_single_plateaued_utilities_give_single_peaked_rankings(data: tuple[int, list[int]]) -> None:
    """Law: utilities non-decreasing up to a peak and non-increasing after it (plateaus allowed,
    ties exact) give a ranking single-peaked on the axis, thanks to the tie-break."""
    peak, steps = data
    k = len(steps)
    u = np.zeros(k)
    for j in range(peak - 1, -1, -1):
        u[j] = u[j + 1] - steps[j]
    for j in range(peak + 1, k):
        u[j] = u[j - 1] - steps[j]
    order, tied = rank_by_utility(u[None, :])
    assert is_single_peaked([list(order[0])], list(range(k)))
    assert u[order[0, 0]] == u.max()
    assert np.all(np.diff(u[order[0]]) <= 0)
    assert tied[0].sum() != 1


def test_rank_by_utility_ties_within_tolerance() -> None:
    u = np.array([[1.0, 3.0, 3.0 + 1e-12, 2.0]])
    order, tied = rank_by_utility(u)
    assert order[0].tolist() == [1, 2, 3, 0]  # peak = smallest index of the best class
    assert tied[0].tolist() == [False, True, True, False]
    order_strict, _ = rank_by_utility(u, tie_tolerance=0.0)
    assert order_strict[0].tolist() == [2, 1, 3, 0]
    with pytest.raises(InvalidParameterError, match="utilities"):
        rank_by_utility(np.array([[1.0, np.nan]]))
    with pytest.raises(InvalidParameterError, match="tie_tolerance"):
        rank_by_utility(u, tie_tolerance=-1)


def test_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    with pytest.raises(ProfileError, match="at least one"):
        preferences_over_p(game, [])
    with pytest.raises(ProfileError, match="repeated"):
        preferences_over_p(game, [0.0, 0.0])
    with pytest.raises(InvalidParameterError, match="p"):
        preferences_over_p(game, [0.0, float("nan")])
    with pytest.raises(InvalidParameterError, match="CommonsGame"):
        preferences_over_p("apple-picking")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        preferences_over_p(game, [0.0], welfare_of="happiness")  # type: ignore[arg-type]


def test_vote_report_on_the_default_scenario() -> None:
    report = vote_report(
        candidates=[-math.inf, 0.0, 0.5, 1.0], rules=["copeland", "median", "borda", "score"]
    )
    prefs = report.preferences
    assert list(report.winners.index) == ["copeland", "median", "borda", "score"]
    for rule in report.winners.index:
        w = report.winners.loc[rule, "winner"]
        assert w == winner(prefs.rankings, rule, **report.rule_options.get(rule, {}))
        k = prefs.candidates.index(w)
        assert report.winners.loc[rule, "M_1"] == pytest.approx(prefs.utilities[:, k].mean())
    assert report.condorcet_winner == condorcet_winner(prefs.rankings)
    assert set(report.manipulations) == {"copeland", "median", "borda", "score"}
    for rule, witness in report.manipulations.items():
        if witness is not None:
            assert witness.verify(prefs.rankings)
            assert witness.rule == rule
    text = report.to_markdown()
    assert "| rule | winners | winner |" in text and "manipulable" in text
    assert "Condorcet winner" in text


def test_manipulation_by_utility_ignores_tie_break_artefacts(prefs: sed.PreferencesOverP) -> None:
    """p = -1, 0, 0.5 lead to the same policy on the seed scenario. Agent 0's ranking breaks that
    tie (0.5 > 0 > -1), so by rankings it 'gains' by moving the Borda winner from -1 to 0; by its
    utilities it gains nothing. The Condorcet rule is manipulable in utility (agent 6)."""
    from sedtheory.voting import find_manipulation

    by_rank = find_manipulation(prefs.rankings, "borda")
    assert by_rank is not None and by_rank.coalition == (0,)
    k = [prefs.candidates.index(c) for c in (by_rank.sincere_winner, by_rank.manipulated_winner)]
    assert prefs.utilities[0, k[0]] == pytest.approx(prefs.utilities[0, k[1]], rel=1e-9)
    assert find_manipulation(prefs.rankings, "borda", sincere_utilities=prefs.utilities) is None
    witness = find_manipulation(prefs.rankings, "condorcet", sincere_utilities=prefs.utilities)
    assert witness is not None and witness.coalition == (6,) and witness.manipulated_winner == -math.inf
    assert witness.verify(prefs.rankings)
    with pytest.raises(InvalidParameterError, match="sincere_utilities"):
        find_manipulation(prefs.rankings, "borda", sincere_utilities=prefs.utilities[:, :2])
