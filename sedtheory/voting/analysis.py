r"""Majority relation, Condorcet winners and cycles, single-peakedness, agreement between rules.

Notes
-----
A profile is *single-peaked* on an axis (a linear order of the candidates) when every voter
has a peak and likes candidates less the further they are from it on either side;
equivalently, each voter's top-r candidates form an interval of the axis for every r. On
single-peaked profiles with an odd number of voters the median of the peaks is the
Condorcet winner (Black, 1948) and the median rule is strategy-proof (Moulin, 1980).

Finding an axis: on any axis a profile is single-peaked on, each voter's worst candidate
among the candidates of an inner interval is an end of that interval. So the axis is built
from the outside in: at each step the voters' worst remaining candidates (at most two, or the
profile is single-peaked on no axis) are the two next ends. This search is exact (every
single-peaked axis satisfies the condition at every step) and every candidate axis it
produces is checked in full.

Examples
--------
>>> from sedtheory.voting import condorcet_winner, majority_cycles, is_single_peaked
>>> cyclic = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
>>> condorcet_winner(cyclic) is None, majority_cycles(cyclic)
(True, [('a', 'b', 'c')])
>>> is_single_peaked([[0, -1, 1], [1, 0, -1]])
True
>>> single_peaked_axis([[0, 2, 1], [1, 2, 0]])
(0, 2, 1)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.validate import count as check_count
from sedtheory.voting.profile import Profile, as_profile, majority_margins
from sedtheory.voting.rules import RULES, get_rule
from sedtheory.voting.winners import prepare, tie_break_order, winner_masks

__all__ = [
    "condorcet_winner",
    "weak_condorcet_winners",
    "majority_graph",
    "majority_cycles",
    "is_single_peaked",
    "single_peaked_axis",
    "single_peaked_voters",
    "random_profiles",
    "rule_agreement",
]


def condorcet_winner(rankings: Any, weights: Any = None) -> Any | None:
    """The candidate that beats every other by a strict pairwise majority, or None (voters counted
    with ``weights``, e.g. population masses, when given)."""
    from sedtheory.voting.winners import voter_weights

    prof = as_profile(rankings)
    w = voter_weights(prof, weights)
    m = prof.majority_margins() if w is None else majority_margins(prof.positions[None], w)[0]
    beats = (m > 0) | np.eye(prof.n_candidates, dtype=bool)
    hits = np.flatnonzero(beats.all(axis=1))
    return prof.candidates[int(hits[0])] if hits.size else None


def weak_condorcet_winners(rankings: Any) -> list[Any]:
    """Candidates that no other candidate beats by a strict majority (sorted)."""
    prof = as_profile(rankings)
    m = prof.majority_margins()
    return [prof.candidates[c] for c in np.flatnonzero((m >= 0).all(axis=1))]


def majority_graph(rankings: Any) -> nx.DiGraph:
    """Directed graph with an edge ``a -> b`` (attribute ``margin``) when a strict majority prefers a to b."""
    prof = as_profile(rankings)
    m = prof.majority_margins()
    g = nx.DiGraph()
    g.add_nodes_from(prof.candidates)
    for a, b in zip(*np.nonzero(m > 0), strict=True):
        g.add_edge(prof.candidates[a], prof.candidates[b], margin=int(m[a, b]))
    return g


def majority_cycles(rankings: Any, max_cycles: int = 1000) -> list[tuple[Any, ...]]:
    """Cycles of the strict majority relation (each starts at its smallest candidate), at most ``max_cycles``.

    An empty list means the strict majority relation is acyclic. A tuple ``(a, b, c)`` reads
    "a majority prefers a to b, b to c and c to a".
    """
    if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1:
        raise InvalidParameterError("max_cycles", max_cycles, "use a positive integer")
    prof = as_profile(rankings)
    g = majority_graph(prof)
    rank = {c: i for i, c in enumerate(prof.candidates)}
    out: list[tuple[Any, ...]] = []
    for cycle in nx.simple_cycles(g):
        start = min(range(len(cycle)), key=lambda i: rank[cycle[i]])
        out.append(tuple(cycle[start:] + cycle[:start]))
        if len(out) >= max_cycles:
            break
    return sorted(out, key=lambda c: (len(c), [rank[x] for x in c]))


def _places(prof: Profile, axis: Sequence[Any] | None) -> np.ndarray:
    if axis is None:
        return np.arange(prof.n_candidates)
    items = list(axis)
    idx = [prof.index(c) for c in items]
    if sorted(idx) != list(range(prof.n_candidates)):
        raise InvalidParameterError(
            "axis", items, f"order every candidate once, e.g. {list(prof.candidates)}"
        )
    place = np.empty(prof.n_candidates, dtype=np.int64)
    place[idx] = np.arange(prof.n_candidates)
    return place


def single_peaked_voters(order: np.ndarray, place: np.ndarray) -> np.ndarray:
    """Per voter: is its ranking single-peaked on the axis given by ``place``?"""
    x = place[order]
    if x.shape[1] < 3:
        return np.ones(x.shape[0], dtype=bool)
    lo = np.minimum.accumulate(x, axis=1)[:, :-1]
    hi = np.maximum.accumulate(x, axis=1)[:, :-1]
    nxt = x[:, 1:]
    return ((nxt == lo - 1) | (nxt == hi + 1)).all(axis=1)


def is_single_peaked(rankings: Any, axis: Sequence[Any] | None = None) -> bool:
    """Whether every voter's ranking is single-peaked on ``axis`` (default: the sorted candidates)."""
    prof = as_profile(rankings)
    return bool(single_peaked_voters(prof.order, _places(prof, axis)).all())


def _axes(pos: np.ndarray, remaining: list[int], left: list[int], right: list[int]) -> Iterator[list[int]]:
    if len(remaining) <= 1:
        yield left + remaining + right[::-1]
        return
    sub = pos[:, remaining]
    lasts = sorted({remaining[i] for i in np.argmax(sub, axis=1)})
    if len(lasts) > 2:
        return
    if len(lasts) == 2:
        pairs = [(lasts[0], lasts[1]), (lasts[1], lasts[0])]
    else:
        x = lasts[0]
        pairs = [(a, b) for y in remaining if y != x for a, b in ((x, y), (y, x))]
    for a, b in pairs:
        rest = [c for c in remaining if c not in (a, b)]
        yield from _axes(pos, rest, left + [a], right + [b])


def single_peaked_axis(rankings: Any) -> tuple[Any, ...] | None:
    """An axis the profile is single-peaked on (the sorted order if it is one), or None if none exists.

    Of an axis and its reverse, the one whose first candidate sorts first is returned.
    """
    prof = as_profile(rankings)
    k = prof.n_candidates
    if single_peaked_voters(prof.order, np.arange(k)).all():
        return prof.candidates
    pos = prof.positions
    for axis in _axes(pos, list(range(k)), [], []):
        place = np.empty(k, dtype=np.int64)
        place[axis] = np.arange(k)
        if single_peaked_voters(prof.order, place).all():
            if axis[0] > axis[-1]:
                axis = axis[::-1]
            return tuple(prof.candidates[c] for c in axis)
    return None


def random_profiles(
    n_voters: int,
    candidates: Sequence[Any],
    count: int,
    model: str = "impartial_culture",
    seed: int | np.random.Generator | None = None,
) -> list[Profile]:
    """Random profiles: ``impartial_culture`` (uniform rankings) or ``single_peaked``.

    ``single_peaked`` draws each ranking uniformly among those single-peaked on the sorted
    candidates (Walsh's method: fill the ranking from the worst, taking the left or right end
    of the remaining interval with probability 1/2).
    """
    for name, val in (("n_voters", n_voters), ("count", count)):
        check_count(name, val)
    prof0 = as_profile([list(candidates)])
    k = prof0.n_candidates
    rng = np.random.default_rng(seed)
    if model == "impartial_culture":
        orders = np.argsort(rng.random((count, n_voters, k)), axis=2)
    elif model == "single_peaked":
        right = rng.random((count, n_voters, max(k - 1, 0))) < 0.5
        orders = np.empty((count, n_voters, k), dtype=np.int64)
        lo = np.zeros((count, n_voters), dtype=np.int64)
        hi = np.full((count, n_voters), k - 1, dtype=np.int64)
        for step in range(k - 1):  # worst first: the rank filled is k - 1 - step
            take_hi = right[:, :, step]
            orders[:, :, k - 1 - step] = np.where(take_hi, hi, lo)
            hi = np.where(take_hi, hi - 1, hi)
            lo = np.where(take_hi, lo, lo + 1)
        orders[:, :, 0] = lo
    else:
        raise InvalidParameterError("model", model, "use 'impartial_culture' or 'single_peaked'")
    out = []
    for o in orders:
        o = o.astype(np.int64)
        o.setflags(write=False)
        out.append(Profile(prof0.candidates, o))
    return out


def rule_agreement(
    profiles: Sequence[Any],
    rules: Sequence[str] | None = None,
    tie_break: Sequence[Any] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """Fraction of ``profiles`` on which each pair of rules elects the same (tie-broken) winner.

    Parameters
    ----------
    profiles : sequence of profiles (rankings or :class:`Profile`), all over the same candidates
    rules : sequence of str, optional
        Default: every registered rule that runs on these profiles without options given
        (``seed_threshold`` only when its default choices 1 and -inf are candidates).
    tie_break : sequence, optional
        Single-winner tie-break order (default sorted candidates).
    rule_options : mapping, optional
        Options per rule name (``{"score": {"utilities": U}}`` for a single profile).

    Returns
    -------
    pandas.DataFrame
        Square, indexed and columned by rule; the diagonal is 1.
    """
    import pandas as pd

    opts = dict(rule_options or {})
    if not profiles:
        raise InvalidParameterError("profiles", profiles, "pass at least one profile")
    profs = [as_profile(p) for p in profiles]
    cands = profs[0].candidates
    if rules is not None:
        names = list(rules)
    else:
        names = [n for n, r in RULES.items() if not r.required or n in opts]
        if "seed_threshold" not in opts and not {1.0, -math.inf} <= set(cands):
            names.remove("seed_threshold")
    for i, p in enumerate(profs):
        if p.candidates != cands:
            raise InvalidParameterError(
                f"profiles[{i}]", list(p.candidates), f"all profiles must rank {list(cands)}"
            )
    picks = np.empty((len(names), len(profs)), dtype=np.int64)
    for r_i, name in enumerate(names):
        rule = get_rule(name)
        for n_voters in sorted({p.n_voters for p in profs}):
            idx = [i for i, p in enumerate(profs) if p.n_voters == n_voters]
            first = profs[idx[0]]
            utilities, types, rest = prepare(first, rule, opts.get(name, {}))
            orders = np.stack([profs[i].order for i in idx])
            mask = winner_masks(
                first,
                rule,
                orders,
                None if utilities is None else np.broadcast_to(utilities, (len(idx),) + utilities.shape),
                None if types is None else np.broadcast_to(types, (len(idx),) + types.shape),
                rest,
            )
            priority = tie_break_order(first, tie_break)
            picks[r_i, idx] = np.argmin(np.where(mask, priority[None, :], np.iinfo(np.int64).max), axis=1)
    agree = (picks[:, None, :] == picks[None, :, :]).mean(axis=2)
    return pd.DataFrame(agree, index=names, columns=names)
