r"""Preference profiles: each voter's ranking of the candidates, best first.

A profile is validated once (non-empty, every ranking a permutation of the same candidate
set, no repeats) and stored as integer arrays over the *sorted* candidates, which is what the
vectorised rules and analyses work on:

* ``order[v, r]``: index of the candidate voter ``v`` ranks at position ``r`` (0 = best);
* ``positions[v, c]``: the position at which voter ``v`` ranks candidate ``c``.

Candidates are any hashable, sortable values; for voting over the principal's objective they
are the p values (``-inf`` and ``inf`` included), so "sorted" is the p axis.

Examples
--------
>>> from sedtheory.voting import as_profile
>>> prof = as_profile([[1.0, 0.0, float("-inf")], [0.0, 1.0, float("-inf")]])
>>> prof.candidates
(-inf, 0.0, 1.0)
>>> prof.order.tolist()
[[2, 1, 0], [1, 2, 0]]
>>> prof.majority_margins().tolist()
[[0, -2, -2], [2, 0, 0], [2, 0, 0]]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sedtheory.errors import ProfileError

__all__ = ["Profile", "as_profile", "sort_candidates"]


def sort_candidates(candidates: Iterable[Hashable]) -> tuple[Any, ...]:
    """Candidates in their natural order (numbers ascending; mixed types by type name, then repr)."""
    items = list(candidates)
    try:
        return tuple(sorted(items))  # type: ignore[type-var]
    except TypeError:
        return tuple(sorted(items, key=lambda c: (type(c).__name__, repr(c))))


@dataclass(frozen=True)
class Profile:
    """A validated profile of strict rankings over sorted candidates.

    Attributes
    ----------
    candidates : tuple
        The candidates in sorted order; candidate ``c`` below means ``candidates[c]``.
    order : numpy.ndarray of int, shape (n_voters, n_candidates)
        ``order[v]`` lists voter ``v``'s candidates best first (as indices).
    """

    candidates: tuple[Any, ...]
    order: np.ndarray

    @property
    def n_voters(self) -> int:
        return int(self.order.shape[0])

    @property
    def n_candidates(self) -> int:
        return len(self.candidates)

    @property
    def positions(self) -> np.ndarray:
        """``positions[v, c]``: rank of candidate ``c`` in voter ``v``'s ranking (0 = best)."""
        pos = np.empty_like(self.order)
        np.put_along_axis(pos, self.order, np.arange(self.n_candidates)[None, :], axis=1)
        return pos

    @property
    def tops(self) -> np.ndarray:
        """Each voter's favourite candidate (index)."""
        return self.order[:, 0].copy()

    def rankings(self) -> list[tuple[Any, ...]]:
        """The rankings as tuples of candidates, best first."""
        return [tuple(self.candidates[c] for c in row) for row in self.order]

    def index(self, candidate: Any) -> int:
        """Index of ``candidate`` among :attr:`candidates` (a :class:`ProfileError` if absent)."""
        for i, c in enumerate(self.candidates):
            if c == candidate:
                return i
        raise ProfileError(
            "candidate", candidate, f"use one of the profile's candidates {list(self.candidates)}"
        )

    def majority_margins(self) -> np.ndarray:
        """``M[a, b]`` = #voters preferring ``a`` to ``b`` minus #voters preferring ``b`` to ``a``."""
        return majority_margins(self.positions[None])[0]

    def with_ballots(self, voters: Sequence[int], orders: np.ndarray) -> Profile:
        """A copy in which ``voters`` submit the rankings ``orders`` (indices) instead."""
        order = self.order.copy()
        order[list(voters)] = orders
        order.setflags(write=False)
        return Profile(self.candidates, order)


def majority_margins(positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Majority margins of a batch of profiles given as positions, shape (m, n, K) -> (m, K, K);
    with voter ``weights`` (n,) each voter counts its weight (integer counts without)."""
    prefers = positions[:, :, :, None] < positions[:, :, None, :]
    if weights is None:
        wins = prefers.sum(axis=1, dtype=np.int64)
    else:
        wins = np.einsum("mnab,n->mab", prefers, weights)
    return wins - np.swapaxes(wins, 1, 2)


def _is_nan(x: Any) -> bool:
    return isinstance(x, float | np.floating) and math.isnan(float(x))


def as_profile(rankings: Any, candidates: Sequence[Hashable] | None = None) -> Profile:
    """Validate ``rankings`` (voters' rankings, best first) and index them.

    Parameters
    ----------
    rankings : sequence of sequences, or Profile
        One ranking per voter, each listing every candidate exactly once, best first.
    candidates : sequence, optional
        The candidate set; by default the set ranked by the first voter. Giving it checks that
        every voter ranks exactly these candidates.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        No voters, no candidates, a NaN candidate, a repeated candidate in a ranking, or
        rankings over different candidate sets (the message names the voter).
    """
    if isinstance(rankings, Profile):
        if candidates is not None and set(candidates) != set(rankings.candidates):
            raise ProfileError(
                "candidates", list(candidates), f"the profile ranks {list(rankings.candidates)}"
            )
        return rankings
    if isinstance(rankings, np.ndarray):
        rows = [tuple(r.tolist()) for r in np.atleast_2d(rankings)] if rankings.size else []
    elif isinstance(rankings, str | bytes) or not isinstance(rankings, Iterable):
        raise ProfileError("rankings", rankings, "pass a sequence of rankings, one per voter, best first")
    else:
        rows = []
        for v, r in enumerate(rankings):
            if isinstance(r, str | bytes) or not isinstance(r, Iterable):
                raise ProfileError(
                    f"rankings[{v}]", r, "each ranking is a sequence of candidates, best first"
                )
            rows.append(tuple(r.tolist() if isinstance(r, np.ndarray) else r))
    if not rows:
        raise ProfileError("rankings", rankings, "the profile is empty; pass at least one voter's ranking")
    base = rows[0] if candidates is None else tuple(candidates)
    if len(base) == 0:
        raise ProfileError("candidates", list(base), "rank at least one candidate")
    if any(_is_nan(c) for c in base):
        raise ProfileError("candidates", list(base), "NaN is not a candidate (it is not equal to itself)")
    try:
        cand_set = set(base)
    except TypeError as exc:
        raise ProfileError("candidates", list(base), "candidates must be hashable") from exc
    if len(cand_set) != len(base):
        field = "rankings[0]" if candidates is None else "candidates"
        seen = [c for i, c in enumerate(base) if c in base[:i]]
        raise ProfileError(field, list(base), f"candidate {seen[0]!r} is repeated; list every candidate once")
    cands = sort_candidates(cand_set)
    index = {c: i for i, c in enumerate(cands)}
    order = np.empty((len(rows), len(cands)), dtype=np.int64)
    for v, r in enumerate(rows):
        if len(set(r)) != len(r):
            seen = [c for i, c in enumerate(r) if c in r[:i]]
            raise ProfileError(f"rankings[{v}]", list(r), f"candidate {seen[0]!r} is repeated; rank it once")
        if set(r) != cand_set:
            missing = sorted(map(repr, cand_set - set(r)))
            extra = sorted(map(repr, set(r) - cand_set))
            raise ProfileError(
                f"rankings[{v}]",
                list(r),
                f"every voter must rank the same candidates {list(cands)}; missing {missing}, "
                f"unknown {extra}",
            )
        order[v] = [index[c] for c in r]
    order.setflags(write=False)
    return Profile(cands, order)
