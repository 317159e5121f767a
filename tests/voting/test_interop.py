"""Round trips with pref_voting profiles."""

from __future__ import annotations

import math

import pytest
from pref_voting.profiles import Profile as PVProfile

from sedtheory.errors import ProfileError
from sedtheory.voting import from_pref_voting, random_profiles, to_pref_voting, winners


def test_round_trip() -> None:
    cands = [-math.inf, -1.0, 0.0, 1.0]
    for prof in random_profiles(5, cands, 50, seed=3):
        pv = to_pref_voting(prof)
        assert pv.num_voters == 5 and pv.candidates == [0, 1, 2, 3]
        assert from_pref_voting(pv, candidates=prof.candidates) == prof.rankings()
    assert to_pref_voting([[1.0, 0.0]]).cmap == {0: "0.0", 1: "1.0"}
    assert to_pref_voting([["b", "a"]]).cmap == {0: "a", 1: "b"}


def test_from_pref_voting_expands_counts() -> None:
    pv = PVProfile([[0, 1, 2], [2, 1, 0]], [2, 1])
    rankings = from_pref_voting(pv)
    assert rankings == [(0, 1, 2), (0, 1, 2), (2, 1, 0)]
    assert winners(rankings, "plurality") == [0]
    assert from_pref_voting(pv, candidates=["x", "y", "z"])[2] == ("z", "y", "x")


def test_bad_input() -> None:
    with pytest.raises(ProfileError, match="pref_voting"):
        from_pref_voting([[0, 1]])
    with pytest.raises(ProfileError, match="distinct"):
        from_pref_voting(PVProfile([[0, 1]]), candidates=["x", "x"])
