"""Manipulation search: witnesses verified by re-running the rule, completeness, Moulin, the fork."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sedtheory.errors import InvalidParameterError
from sedtheory.voting import (
    RULES,
    find_manipulation,
    is_manipulable,
    is_single_peaked,
    random_profiles,
    winner,
)
from sedtheory.voting.profile import Profile

RANKING_RULES = sorted(n for n, r in RULES.items() if not r.required and n != "seed_threshold")


def _brute_single_voter(prof: Profile, rule: str) -> bool:
    """Every voter tries every ranking; re-runs the public rule each time."""
    rankings = prof.rankings()
    w0 = winner(rankings, rule)
    for v, sincere in enumerate(rankings):
        for lie in itertools.permutations(prof.candidates):
            trial = list(rankings)
            trial[v] = lie
            w = winner(trial, rule)
            if sincere.index(w) < sincere.index(w0):
                return True
    return False


@pytest.mark.parametrize("rule", RANKING_RULES)
def test_witnesses_verified_and_search_complete(rule: str) -> None:
    """Small profiles: the search finds a witness exactly when brute force over all rankings does,
    and every witness re-runs to the claimed outcome (checked independently of ``verify``)."""
    found = 0
    for prof in random_profiles(4, ["a", "b", "c"], 60, seed=hash(rule) % 1000):
        witness = find_manipulation(prof, rule)
        assert (witness is not None) == _brute_single_voter(prof, rule)
        if witness is None:
            continue
        found += 1
        assert witness.verify(prof)
        rankings = prof.rankings()
        (v,) = witness.coalition
        assert witness.sincere == (rankings[v],)
        rankings[v] = witness.misreports[0]
        after = winner(rankings, rule)
        assert after == witness.manipulated_winner != witness.sincere_winner == winner(prof, rule)
        assert prof.rankings()[v].index(after) < prof.rankings()[v].index(witness.sincere_winner)
    if rule != "median":
        assert found > 0  # Gibbard-Satterthwaite: every non-dictatorial onto rule here is manipulable


@pytest.mark.parametrize("rule", ["plurality", "borda"])
def test_gibbard_satterthwaite_witness_with_three_candidates(rule: str) -> None:
    prof = [["a", "b", "c"]] * 2 + [["b", "a", "c"]] * 2 + [["c", "b", "a"]] * 1
    if rule == "plurality":  # a and b tie (2 each), tie-break elects a; voter 4 (c > b > a) votes b
        witness = find_manipulation(prof, rule)
        assert witness is not None and witness.coalition == (4,) and witness.manipulated_winner == "b"
    else:  # Borda: a 6, b 7, c 2 -> b; a's supporters bury b
        witness = find_manipulation(prof, rule)
        assert witness is not None and witness.manipulated_winner == "a"
    assert witness.verify(prof)


def test_median_rule_is_never_manipulable_on_single_peaked_profiles() -> None:
    """Moulin (1980): the median of peaks is strategy-proof on single-peaked profiles, for single
    voters and coalitions (any tie-broken median is an order statistic)."""
    cands = [-math.inf, -1.0, 0.0, 0.5, 1.0, math.inf]
    for n in (1, 2, 3, 4, 5, 6, 7):
        for prof in random_profiles(n, cands, 40, model="single_peaked", seed=n):
            assert is_single_peaked(prof)
            assert find_manipulation(prof, "median", coalition_size=min(n, 3)) is None
            assert find_manipulation(prof, "median", tie_break=cands[::-1]) is None


def test_median_rule_is_manipulable_off_the_single_peaked_domain() -> None:
    """The planted counterexample for the Moulin check: a non-single-peaked voter gains."""
    prof = [["a", "b", "c"]] * 2 + [["b", "c", "a"]] * 2 + [["c", "a", "b"]]
    assert not is_single_peaked(prof)
    witness = find_manipulation(prof, "median")
    assert witness is not None and witness.coalition == (4,) and witness.manipulated_winner == "a"
    assert witness.verify(prof)


def test_fork_weighted_median_is_manipulable_through_reported_types() -> None:
    """Peaks -inf, 0, 1 with reported types 0.1, 0.1, 0.9 elect 1; the egalitarian voter (who
    prefers 0 and -inf to 1) reports a larger type and moves the weighted median."""
    prof = [[-math.inf, 0.0, 1.0], [0.0, -math.inf, 1.0], [1.0, 0.0, -math.inf]]
    assert is_single_peaked(prof)
    types = [0.1, 0.1, 0.9]
    assert winner(prof, "fork_weighted_median", types=types) == 1.0
    witness = find_manipulation(prof, "fork_weighted_median", types=types)
    assert witness is not None
    assert witness.verify(prof)
    assert witness.misreported_types is not None
    (v,) = witness.coalition
    assert witness.misreported_types[0] > types[v]  # it inflated its weight
    assert witness.misreports[0][0] == prof[v][0]  # without changing its vote
    # Reporting types no larger than the sincere ones (the grid {0.1}), nobody gains: the
    # manipulation above comes from the reported type, not the vote.
    assert find_manipulation(prof, "fork_weighted_median", types=types, type_grid=[0.1]) is None


def test_coalitions() -> None:
    # Plurality a 3, b 2, c 2: one c-voter moving to b only ties a and b (tie-break: a); two do it.
    prof = [["a", "b", "c"]] * 3 + [["b", "a", "c"]] * 2 + [["c", "b", "a"]] * 2
    assert find_manipulation(prof, "plurality") is None
    witness = find_manipulation(prof, "plurality", coalition_size=2)
    assert witness is not None and witness.coalition == (5, 6)
    assert witness.manipulated_winner == "b" and witness.verify(prof)
    assert is_manipulable(prof, "plurality", coalition_size=2)


def test_score_and_seed_rules() -> None:
    prof = [["x", "y", "z"], ["y", "z", "x"], ["z", "x", "y"]]
    u = np.array([[1.0, 0.6, 0.0], [0.0, 1.0, 0.5], [0.5, 0.0, 1.0]])  # columns x, y, z
    witness = find_manipulation(prof, "score", utilities=u)
    assert witness is not None and witness.misreported_utilities is not None
    assert witness.verify(prof)
    p_prof = [[1.0, 0.0, -math.inf], [-math.inf, 0.0, 1.0]]
    assert find_manipulation(p_prof, "seed_threshold") is None  # ignores the ballots


def test_bad_input() -> None:
    prof = [["a", "b", "c"]] * 3
    with pytest.raises(InvalidParameterError, match="coalition_size"):
        find_manipulation(prof, "borda", coalition_size=0)
    with pytest.raises(InvalidParameterError, match="type_grid"):
        find_manipulation([[0.0, 1.0]], "fork_weighted_median", types=[0.5], type_grid=[2.0])
    with pytest.raises(InvalidParameterError, match="max_profiles"):
        find_manipulation(
            [["a", "b", "c", "d"], ["d", "c", "b", "a"], ["b", "d", "a", "c"]],
            "borda",
            coalition_size=2,
            max_profiles=10,
        )
    with pytest.raises(InvalidParameterError, match="registered rules"):
        find_manipulation(prof, "nope")
