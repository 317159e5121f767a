"""Condorcet winners, cycles, single-peakedness and its axis, agreement between rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pref_voting.c1_methods import condorcet as pv_condorcet

from sedtheory.errors import InvalidParameterError
from sedtheory.voting import (
    condorcet_winner,
    is_single_peaked,
    majority_cycles,
    majority_graph,
    random_profiles,
    rule_agreement,
    single_peaked_axis,
    to_pref_voting,
    weak_condorcet_winners,
    winners,
)


def _brute_sp_axis(rankings: list) -> bool:
    cands = sorted(rankings[0])
    return any(is_single_peaked(rankings, axis=list(perm)) for perm in itertools.permutations(cands))


def test_planted_single_peaked_profile_elects_the_median_peak() -> None:
    axis = [-2.0, -1.0, 0.0, 0.5, 1.0]
    rankings = [
        [-2.0, -1.0, 0.0, 0.5, 1.0],
        [-1.0, 0.0, -2.0, 0.5, 1.0],
        [0.0, 0.5, -1.0, 1.0, -2.0],  # the median peak
        [0.5, 1.0, 0.0, -1.0, -2.0],
        [1.0, 0.5, 0.0, -1.0, -2.0],
    ]
    assert is_single_peaked(rankings, axis)
    assert winners(rankings, "median") == [0.0]
    assert condorcet_winner(rankings) == 0.0
    assert winners(rankings, "condorcet") == [0.0]
    assert majority_cycles(rankings) == []


def test_planted_cycle_is_reported() -> None:
    cyclic = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    assert condorcet_winner(cyclic) is None
    assert majority_cycles(cyclic) == [("a", "b", "c")]
    g = majority_graph(cyclic)
    assert set(g.edges) == {("a", "b"), ("b", "c"), ("c", "a")}
    assert all(d["margin"] == 1 for _, _, d in g.edges(data=True))
    assert weak_condorcet_winners(cyclic) == []
    # A 4-candidate profile with a top cycle and a Condorcet loser d.
    four = [["a", "b", "c", "d"], ["b", "c", "a", "d"], ["c", "a", "b", "d"]]
    assert majority_cycles(four) == [("a", "b", "c")]
    assert not is_single_peaked(cyclic)
    assert single_peaked_axis(cyclic) is None


def test_condorcet_winner_agrees_with_pref_voting() -> None:
    for prof in random_profiles(5, [0, 1, 2, 3], 500, seed=2):
        cw = condorcet_winner(prof)
        pv = [int(c) for c in pv_condorcet(to_pref_voting(prof))]
        assert (pv == [cw]) if cw is not None else (pv == [0, 1, 2, 3])


def test_random_single_peaked_profiles_are_single_peaked_and_have_condorcet_winners() -> None:
    """Black: an odd number of voters single-peaked on an axis elect the median peak."""
    for prof in random_profiles(7, [0.0, 1.0, 2.0, 3.0, 4.0], 300, model="single_peaked", seed=5):
        assert is_single_peaked(prof)
        peaks = sorted(prof.candidates[c] for c in prof.tops)
        assert condorcet_winner(prof) == peaks[3] == winners(prof, "median")[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.permutations([0, 1, 2, 3, 4]), min_size=1, max_size=6))
def test_single_peaked_axis_is_exact(rankings: list) -> None:
    """The outside-in search finds an axis exactly when a brute force over all 120 finds one."""
    axis = single_peaked_axis(rankings)
    assert (axis is not None) == _brute_sp_axis(rankings)
    if axis is not None:
        assert is_single_peaked(rankings, axis)
        assert axis[0] <= axis[-1]


def test_single_peaked_axis_on_shuffled_axis() -> None:
    """Profiles single-peaked on a hidden axis: the search recovers an axis."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        hidden = list(rng.permutation(6))
        base = random_profiles(8, list(range(6)), 1, model="single_peaked", seed=int(rng.integers(1000)))[0]
        rankings = [[hidden[c] for c in row] for row in base.order]  # position c on the axis -> label
        assert is_single_peaked(rankings, hidden)
        assert single_peaked_axis(rankings) is not None


def test_rule_agreement() -> None:
    profs = random_profiles(5, [0, 1, 2], 200, seed=1)
    table = rule_agreement(profs, ["plurality", "borda", "copeland", "condorcet"])
    assert np.allclose(np.diag(table.to_numpy()), 1.0)
    assert np.allclose(table.to_numpy(), table.to_numpy().T)
    assert table.loc["copeland", "condorcet"] > table.loc["plurality", "borda"] - 1  # well defined
    # Copeland and the Condorcet rule agree whenever there is a Condorcet winner.
    with_cw = [p for p in profs if condorcet_winner(p) is not None]
    assert rule_agreement(with_cw, ["copeland", "condorcet"]).loc["copeland", "condorcet"] == 1.0
    # Mixed voter counts are grouped, rules needing options are skipped by default.
    mixed = profs[:5] + random_profiles(4, [0, 1, 2], 5, seed=9)
    assert "score" not in rule_agreement(mixed).index
    with pytest.raises(InvalidParameterError, match="profiles"):
        rule_agreement([])
    with pytest.raises(InvalidParameterError, match="must rank"):
        rule_agreement([profs[0], [[0, 1, 3]]])


def test_random_profiles_bad_input() -> None:
    with pytest.raises(InvalidParameterError, match="model"):
        random_profiles(3, [0, 1], 2, model="urn")
    with pytest.raises(InvalidParameterError, match="n_voters"):
        random_profiles(0, [0, 1], 2)
    with pytest.raises(InvalidParameterError, match="max_cycles"):
        majority_cycles([[0, 1]], max_cycles=0)
    with pytest.raises(InvalidParameterError, match="axis"):
        is_single_peaked([[0, 1, 2]], axis=[0, 1])
