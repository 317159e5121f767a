"""Voter weights (population masses): a voter of weight w counts as w identical voters, for every rule."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sedtheory.errors import InvalidParameterError
from sedtheory.voting import condorcet_winner, winner, winners
from sedtheory.voting.rules import RULES

CANDIDATES = [-math.inf, -1.0, 0.0, 1.0]


def _options(rule, rng, n, counts):
    """The rule's required options for the weighted profile and for the replicated one."""
    if "utilities" in rule.required:
        u = rng.uniform(size=(n, len(CANDIDATES)))
        return {"utilities": u}, {"utilities": np.repeat(u, counts, axis=0)}
    if "types" in rule.required:
        t = rng.uniform(size=n)
        return {"types": t}, {"types": np.repeat(t, counts)}
    return {}, {}


@pytest.mark.parametrize("name", [r for r in RULES if r != "seed_threshold"])
@settings(max_examples=60)
@given(seed=st.integers(0, 2**31 - 1))
def test_integer_weights_equal_replicated_ballots(name, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    counts = rng.integers(1, 4, n)
    ranks = [list(rng.permutation(CANDIDATES)) for _ in range(n)]
    replicated = [r for r, c in zip(ranks, counts, strict=True) for _ in range(c)]
    weighted, plain = _options(RULES[name], rng, n, counts)
    assert winners(ranks, name, weights=counts.astype(float), **weighted) == winners(
        replicated, name, **plain
    )
    assert winner(ranks, name, weights=counts, **weighted) == winner(replicated, name, **plain)


def test_weights_decide_against_the_head_count():
    ranks = [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]
    assert winners(ranks, "plurality") == [1.0]
    assert winners(ranks, "plurality", weights=[5.0, 1.0, 1.0]) == [0.0]
    assert condorcet_winner(ranks, weights=[5.0, 1.0, 1.0]) == 0.0
    assert winners(ranks, "median", weights=[0.5, 0.25, 0.25]) == [0.0, 1.0]  # half the mass each side


@pytest.mark.parametrize("weights", [[1.0, 0.0], [1.0, -1.0], [1.0, np.nan], [1.0], "ab"])
def test_bad_weights_are_typed_errors(weights):
    with pytest.raises(InvalidParameterError, match="weights"):
        winners([[0.0, 1.0], [1.0, 0.0]], "borda", weights=weights)
