"""Voting rules: agreement with pref_voting, the registry's axioms (both directions), bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pref_voting.c1_methods import condorcet as pv_condorcet
from pref_voting.c1_methods import copeland as pv_copeland
from pref_voting.iterative_methods import instant_runoff as pv_instant_runoff
from pref_voting.iterative_methods import plurality_with_runoff_put as pv_runoff
from pref_voting.scoring_methods import borda as pv_borda
from pref_voting.scoring_methods import plurality as pv_plurality

from sedtheory.errors import InvalidParameterError, ProfileError
from sedtheory.voting import RULES, random_profiles, to_pref_voting, winner, winners
from sedtheory.voting.profile import Profile
from sedtheory.voting.rules import Ballots, get_rule

P_AXIS = (-math.inf, -1.0, 0.0, 0.5, 1.0, math.inf)

PREF_VOTING = {
    "plurality": pv_plurality,
    "borda": pv_borda,
    "copeland": pv_copeland,
    "instant_runoff": pv_instant_runoff,
    "condorcet": pv_condorcet,
    "plurality_with_runoff": pv_runoff,
}


def _random_profiles(rng: np.random.Generator, count: int) -> list[Profile]:
    out: list[Profile] = []
    for _ in range(count):
        k = int(rng.integers(2, 6))
        n = int(rng.integers(1, 12))
        cands = list(range(k))
        model = "single_peaked" if rng.random() < 0.3 else "impartial_culture"
        out += random_profiles(n, cands, 1, model=model, seed=int(rng.integers(2**31)))
    return out


@pytest.mark.parametrize("name", sorted(PREF_VOTING))
def test_agrees_with_pref_voting(name: str) -> None:
    """Thousands of random profiles (many with ties: 1-11 voters, 2-5 candidates)."""
    rng = np.random.default_rng(7)
    vm = PREF_VOTING[name]
    for prof in _random_profiles(rng, 2500):
        ours = winners(prof, name)
        theirs = [int(c) for c in vm(to_pref_voting(prof))]
        assert ours == theirs, (name, prof.rankings())


def _options(name: str, prof: Profile, rng: np.random.Generator) -> dict[str, Any]:
    """Options a rule needs, consistent with the rankings (utilities ordered as the rankings)."""
    if name == "score":
        n, k = prof.n_voters, prof.n_candidates
        levels = np.sort(rng.random((n, k)), axis=1)[:, ::-1]  # best first
        u = np.empty((n, k))
        np.put_along_axis(u, prof.order, levels, axis=1)
        return {"utilities": u}
    if name == "fork_weighted_median":
        return {"types": rng.random(prof.n_voters)}
    if name == "seed_threshold":
        return {"seed": int(rng.integers(1000))}
    return {}


def _p_profiles(rng: np.random.Generator, count: int, n_max: int = 9) -> list[Profile]:
    out = []
    for _ in range(count):
        k = int(rng.integers(3, 7))
        extra = [c for c in P_AXIS if c not in (-math.inf, 1.0, math.inf)]
        pick = list(rng.choice(extra, size=k - 3, replace=False)) if k > 3 else []
        cands = sorted({-math.inf, 1.0, math.inf, *map(float, pick)})
        n = int(rng.integers(1, n_max + 1))
        model = "single_peaked" if rng.random() < 0.3 else "impartial_culture"
        out += random_profiles(n, cands, 1, model=model, seed=int(rng.integers(2**31)))
    return out


def _relabel(prof: Profile, opts: dict[str, Any], perm: np.ndarray) -> tuple[list[tuple], dict[str, Any]]:
    """Candidate c -> candidates[perm[c]]; utilities columns move with their candidates."""
    cands = prof.candidates
    new = [tuple(cands[perm[c]] for c in row) for row in prof.order]
    out = dict(opts)
    if "utilities" in opts:
        u = np.empty_like(opts["utilities"])
        u[:, perm] = opts["utilities"]  # sorted candidate set is unchanged (a permutation of it)
        out["utilities"] = u
    return new, out


def test_registry_metadata_is_complete() -> None:
    required = {
        "plurality",
        "borda",
        "copeland",
        "instant_runoff",
        "plurality_with_runoff",
        "approval",
        "score",
        "median",
        "condorcet",
        "seed_threshold",
        "fork_weighted_median",
    }
    assert required <= set(RULES)
    for name, rule in RULES.items():
        assert rule.name == name
        assert rule.uses in {"top", "ranking", "utilities", "top+types", "none"}
        assert set(rule.required) <= set(rule.options)
        assert rule.description and rule.domain


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_satisfies_exactly_its_declared_axioms(name: str) -> None:
    """One loop over the registry: each True flag holds on every random profile, each False flag
    has a counterexample among them."""
    rule = get_rule(name)
    rng = np.random.default_rng(11)
    violations = {"anonymous": 0, "neutral": 0, "condorcet_consistent": 0, "unanimous": 0}
    for prof in _p_profiles(rng, 600):
        opts = _options(name, prof, rng)
        base = winners(prof, name, **opts)
        assert base and all(w in prof.candidates for w in base)
        # Anonymity: permute the voters together with their per-voter options.
        perm_v = rng.permutation(prof.n_voters)
        p_opts = {
            k: (v[perm_v] if isinstance(v, np.ndarray) and v.shape[:1] == (prof.n_voters,) else v)
            for k, v in opts.items()
        }
        if winners([prof.rankings()[i] for i in perm_v], name, **p_opts) != base:
            violations["anonymous"] += 1
        # Neutrality: relabel the candidates.
        perm_c = rng.permutation(prof.n_candidates)
        relabelled, r_opts = _relabel(prof, opts, perm_c)
        expected = sorted(prof.candidates[perm_c[prof.index(w)]] for w in base)
        if winners(relabelled, name, **r_opts) != expected:
            violations["neutral"] += 1
        margins = prof.majority_margins()
        cw = np.flatnonzero(((margins > 0) | np.eye(prof.n_candidates, dtype=bool)).all(axis=1))
        if cw.size and base != [prof.candidates[int(cw[0])]]:
            violations["condorcet_consistent"] += 1
        # Unanimity: make every voter rank this profile's first voter's favourite first.
        top = int(prof.order[0, 0])
        order = np.array([[top] + [c for c in row if c != top] for row in prof.order])
        una = Profile(prof.candidates, order)
        u_opts = _options(name, una, rng) | ({"types": opts["types"]} if "types" in opts else {})
        if winners(una, name, **u_opts) != [prof.candidates[top]]:
            violations["unanimous"] += 1
    for axiom, count in violations.items():
        if getattr(rule, axiom):
            assert count == 0, f"{name} declared {axiom} but violated it {count} times"
        else:
            assert count > 0, f"{name} declared not {axiom} but no counterexample was found"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.permutations([0, 1, 2, 3]), min_size=1, max_size=9),
    st.sampled_from(sorted(n for n, r in RULES.items() if not r.required and n != "seed_threshold")),
)
def test_winner_is_the_first_tied_winner_in_tie_break_order(rankings: list, name: str) -> None:
    tied = winners(rankings, name)
    assert winner(rankings, name) == tied[0]
    reverse = [3, 2, 1, 0]
    assert winner(rankings, name, tie_break=reverse) == tied[-1]


def test_planted_profiles() -> None:
    cyclic = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    assert winners(cyclic, "condorcet") == ["a", "b", "c"]
    assert winners(cyclic, "copeland") == ["a", "b", "c"]
    # Borda and plurality disagree; the Condorcet winner b is elected by Copeland, not plurality.
    prof = [["a", "b", "c"]] * 3 + [["b", "c", "a"]] * 2 + [["c", "b", "a"]] * 2
    assert winners(prof, "plurality") == ["a"]
    assert winners(prof, "copeland") == ["b"] == winners(prof, "condorcet")
    assert winners(prof, "borda") == ["b"]
    assert winners(prof, "approval", k=1) == ["a"]
    assert winners(prof, "approval", k=2) == ["b"]
    # Median of peaks on the p axis (even number of voters: both middle peaks).
    p_prof = [[-1.0, 0.0, 1.0], [0.0, 1.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, -1.0]]
    assert winners(p_prof, "median") == [0.0, 1.0]
    assert winners(p_prof, "median", axis=[1.0, 0.0, -1.0]) == [0.0, 1.0]
    assert winners(p_prof[:3], "median") == [0.0]


def test_score_uses_normalised_utilities() -> None:
    rankings = [["x", "y", "z"], ["z", "y", "x"], ["y", "x", "z"]]
    # Columns in sorted order x, y, z.
    u = np.array([[10.0, 9.0, 0.0], [0.0, 1.0, 2.0], [5.0, 6.0, 4.0]])
    # Normalised: [1, .9, 0], [0, .5, 1], [.5, 1, 0] -> x 1.5, y 2.4, z 1.0.
    assert winners(rankings, "score", utilities=u) == ["y"]
    assert winners(rankings, "score", utilities=np.ones((3, 3))) == ["x", "y", "z"]


def test_seed_threshold_follows_the_mean_of_its_draws() -> None:
    rankings = [[1.0, -math.inf, 0.0]] * 5
    for seed in range(20):
        mean = np.random.default_rng(seed).uniform(size=5).mean()
        expected = 1.0 if mean > 0.5 else -math.inf
        assert winners(rankings, "seed_threshold", seed=seed) == [expected]
    with pytest.raises(InvalidParameterError, match="choices"):
        winners([[0.0, 0.5]], "seed_threshold")


def test_fork_weighted_median() -> None:
    # Peaks -inf, 0, 1 with weights .1, .1, .9: the weighted median is 1.
    rankings = [[-math.inf, 0.0, 1.0], [0.0, -math.inf, 1.0], [1.0, 0.0, -math.inf]]
    assert winners(rankings, "fork_weighted_median", types=[0.1, 0.1, 0.9]) == [1.0]
    assert winners(rankings, "fork_weighted_median", types=[1.0, 0.1, 0.9]) == [-math.inf]
    assert winners(rankings, "fork_weighted_median", types=[0.0, 0.0, 0.0]) == [0.0]  # unweighted
    # Groups: median of the group medians {-inf} and {0, 1 -> weighted 1}: lower median -inf.
    assert winners(rankings, "fork_weighted_median", types=[0.1, 0.1, 0.9], groups=[0, 1, 1]) == [-math.inf]
    # p above 1 is clipped to 1 (v = exp(p - 1) <= 1): everyone's favourite +inf elects 1.
    assert winners([[math.inf, 1.0, 0.0]] * 3, "fork_weighted_median", types=[0.5] * 3) == [1.0]


def test_kernels_batch_equals_one_by_one() -> None:
    rng = np.random.default_rng(3)
    profs = random_profiles(6, [0, 1, 2, 3], 50, seed=4)
    orders = np.stack([p.order for p in profs])
    for name, rule in RULES.items():
        if rule.required or name == "seed_threshold":
            continue
        mask = rule.kernel(Ballots(profs[0].candidates, orders))
        for i, p in enumerate(profs):
            assert [profs[0].candidates[c] for c in np.flatnonzero(mask[i])] == winners(p, name)
    _ = rng


@pytest.mark.parametrize(
    "rankings, match",
    [
        ([], "empty"),
        ([["a", "b"], ["a", "c"]], "same candidates"),
        ([["a", "a", "b"]], "repeated"),
        ([["a", "b"], ["b", "a", "a"]], "repeated"),
        ([[]], "at least one candidate"),
        ([[float("nan"), 1.0]], "NaN"),
        ("abc", "sequence of rankings"),
        ([3, 4], "each ranking is a sequence"),
    ],
)
def test_bad_profiles(rankings: Any, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        winners(rankings, "borda")


def test_bad_rules_and_options() -> None:
    with pytest.raises(InvalidParameterError, match="registered rules") as exc:
        winners([["a", "b"]], "dictatorship")
    assert "borda" in str(exc.value)
    with pytest.raises(InvalidParameterError, match="needs utilities"):
        winners([["a", "b"]], "score")
    with pytest.raises(InvalidParameterError, match="accepts the options"):
        winners([["a", "b"]], "borda", k=2)
    with pytest.raises(InvalidParameterError, match="k="):
        winners([["a", "b"]], "approval", k=3)
    with pytest.raises(InvalidParameterError, match="utilities"):
        winners([["a", "b"]], "score", utilities=[[1.0, float("nan")]])
    with pytest.raises(InvalidParameterError, match="types"):
        winners([[0.0, 1.0]], "fork_weighted_median", types=[1.5])
    with pytest.raises(ProfileError, match="numeric"):
        winners([["a", "b"]], "fork_weighted_median", types=[0.5])
    with pytest.raises(InvalidParameterError, match="tie_break"):
        winner([["a", "b"]], "borda", tie_break=["a"])
    with pytest.raises(ProfileError, match="candidate"):
        winner([["a", "b"]], "borda", tie_break=["a", "z"])
    with pytest.raises(InvalidParameterError, match="axis"):
        winners([["a", "b", "c"]], "median", axis=["a", "b"])
