r"""Voting rules over candidates (the p values of the principal's objective), with a registry.

Every rule is a vectorised kernel over a batch of profiles (so that manipulation searches and
agreement studies evaluate thousands of profiles at once) registered in :data:`RULES` with
its axiomatic metadata. ``winners(rankings, rule)`` returns the sorted list of tied winners;
``winner`` applies the documented tie-break.

Rules (``name``: definition; ties are kept, i.e. every tied candidate is a winner):

* ``plurality``: most first places.
* ``borda``: a candidate ranked at position r (0 = best) of K gets K - 1 - r points; most points.
* ``copeland``: pairwise majority wins minus losses (a pairwise tie counts 0); highest score.
* ``instant_runoff``: a candidate with a strict majority of first places wins; otherwise every
  candidate with the fewest first places among those remaining is removed (all of them at
  once), and the count repeats; if the last candidates are removed together they all win
  (pref_voting's ``instant_runoff`` without a tie-breaker).
* ``plurality_with_runoff``: runoff by pairwise majority between the plurality leader and the
  runner-up; ties for first or second place are resolved by parallel universes (a candidate
  wins if it wins some admissible runoff; a tied runoff makes both win), as pref_voting's
  ``plurality_with_runoff_put``.
* ``approval``: each voter approves its top ``k`` candidates (``k=2`` by default); most
  approvals.
* ``score``: range voting from cardinal ``utilities`` (one row per voter, columns in the
  profile's sorted candidate order): each voter's utilities are rescaled to [0, 1] (worst 0,
  best 1; a voter indifferent between all candidates gives 0 to each); highest total.
* ``median``: the median of the voters' peaks (top candidates) along ``axis`` (default: the
  sorted candidates, i.e. the p axis); with an even number of voters the two middle peaks tie.
* ``condorcet``: the Condorcet winner (beats every other candidate by a strict pairwise
  majority), or all candidates when there is none (pref_voting's ``condorcet``).
* ``seed_threshold`` (the seed authors' code, for comparison): each voter draws a uniform
  number (``numpy.random.default_rng(seed)``); if their mean exceeds ``threshold`` (0.5) the
  first of ``choices`` (default utilitarian p = 1) wins, otherwise the second (egalitarian
  p = -inf). The ballots are ignored.
* ``fork_weighted_median`` (a public fork's rule, for comparison): each voter's vote
  ``v = exp(p_top - 1)`` (clipped to ``(0, 1]``, so p above 1 counts as 1) is mapped back to
  ``p = ln(v) + 1``; within each group (``groups``, default one group) the lower weighted
  median of these p with weights the voters' *reported* ``types`` is taken, and the winner is
  the lower median of the group medians (moved to the nearest candidate on the p axis if it
  is not one). It is strategy-proof in the votes but not in the reported types.

Single winner (``winner``): the first tied winner in ``tie_break`` order, by default the
sorted candidate order (for p values: the smallest p, i.e. the most egalitarian objective).

Examples
--------
>>> from sedtheory.voting import winners, winner
>>> profile = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
>>> winners(profile, "copeland")  # a majority cycle: all tie
['a', 'b', 'c']
>>> winner(profile, "copeland"), winner(profile, "copeland", tie_break=["c", "b", "a"])
('a', 'c')
>>> winners([[0.0, 1.0, -1.0], [1.0, 0.0, -1.0], [-1.0, 0.0, 1.0]], "median")
[0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.registry import Registry
from sedtheory.voting.profile import majority_margins

__all__ = [
    "Ballots",
    "VotingRule",
    "RULES",
    "voting_rule",
    "get_rule",
]


@dataclass(frozen=True)
class Ballots:
    """A batch of m profiles over the same K candidates, as the rule kernels see it.

    Attributes
    ----------
    candidates : tuple
        Sorted candidates.
    order : numpy.ndarray, shape (m, n, K)
        Candidate indices, best first, per profile and voter.
    utilities : numpy.ndarray, shape (m, n, K), optional
        Cardinal ballots (``score``).
    types : numpy.ndarray, shape (m, n), optional
        Reported types (``fork_weighted_median``).
    weights : numpy.ndarray, shape (n,), optional
        Voter weights (population masses: a voter stands for that many identical voters);
        ``None`` counts every voter once. Every rule counts a voter of weight 2 as two identical
        voters (``seed_threshold``, which ignores the ballots, draws once per record).
    """

    candidates: tuple[Any, ...]
    order: np.ndarray
    utilities: np.ndarray | None = None
    types: np.ndarray | None = None
    weights: np.ndarray | None = None

    def total(self, x: np.ndarray) -> np.ndarray:
        """Sum over voters (axis 1) of ``x`` (m, n, ...), weighted by the voter weights."""
        if self.weights is None:
            return x.sum(axis=1)  # type: ignore[no-any-return]
        w = self.weights.reshape((1, -1) + (1,) * (x.ndim - 2))
        return (x * w).sum(axis=1)  # type: ignore[no-any-return]

    @property
    def voters(self) -> float:
        """Number of voters (total weight)."""
        return float(self.order.shape[1] if self.weights is None else self.weights.sum())

    @property
    def positions(self) -> np.ndarray:
        pos = np.empty_like(self.order)
        k = self.order.shape[2]
        np.put_along_axis(pos, self.order, np.broadcast_to(np.arange(k), self.order.shape), axis=2)
        return pos

    @property
    def shape(self) -> tuple[int, int, int]:
        m, n, k = self.order.shape
        return int(m), int(n), int(k)


Kernel = Callable[..., np.ndarray]


@dataclass(frozen=True)
class VotingRule:
    """A registered voting rule and its properties.

    Attributes
    ----------
    name : str
    kernel : callable
        ``kernel(ballots, **options) -> (m, K)`` boolean mask of winners.
    anonymous, neutral, condorcet_consistent, unanimous : bool
        Whether the rule (with ties kept) satisfies the axiom on every profile of its domain:
        permuting voters' ballots, relabelling candidates, electing the Condorcet winner alone
        when there is one, electing alone a candidate every voter ranks first. Each flag is
        tested in both directions (a flag set to False has a known counterexample).
    domain : str
        What the ballots are and where the rule's guarantees hold.
    uses : str
        The part of a ballot the outcome depends on: ``"top"``, ``"ranking"``,
        ``"utilities"``, ``"top+types"`` or ``"none"`` (this bounds manipulation searches).
    options : tuple of str
        Keyword options the rule accepts; ``required`` are those without default.
    description, reference : str
    """

    name: str
    kernel: Kernel = field(repr=False)
    anonymous: bool
    neutral: bool
    condorcet_consistent: bool
    unanimous: bool
    domain: str
    uses: str
    options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    description: str = ""
    reference: str = ""


def _build(name: str, kernel: Kernel, **meta: Any) -> VotingRule:
    meta["options"] = tuple(meta.get("options", ()))
    meta["required"] = tuple(meta.get("required", ()))
    return VotingRule(name, kernel, **meta)


#: All registered voting rules by name (a :class:`~sedtheory.registry.Registry`).
RULES: Registry[VotingRule] = Registry("rule", build=_build, kind="rules")


def voting_rule(
    name: str,
    *,
    anonymous: bool,
    neutral: bool,
    condorcet_consistent: bool,
    unanimous: bool,
    domain: str,
    uses: str,
    options: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
    description: str = "",
    reference: str = "",
) -> Callable[[Kernel], Kernel]:
    """Register a kernel in :data:`RULES` under ``name`` with its metadata (``RULES.register``)."""
    return RULES.register(
        name,
        anonymous=anonymous,
        neutral=neutral,
        condorcet_consistent=condorcet_consistent,
        unanimous=unanimous,
        domain=domain,
        uses=uses,
        options=options,
        required=required,
        description=description,
        reference=reference,
    )


def get_rule(rule: str | VotingRule) -> VotingRule:
    """The registered rule called ``rule`` (an :class:`InvalidParameterError` listing the valid names)."""
    if isinstance(rule, VotingRule):
        return rule
    return RULES.get(rule)


def _argmax_mask(scores: np.ndarray) -> np.ndarray:
    return scores == scores.max(axis=1, keepdims=True)


def _onehot_counts(idx: np.ndarray, k: int, b: Ballots | None = None) -> np.ndarray:
    """Counts (m, K) of the candidate indices idx (m, n), weighted by ``b``'s voter weights."""
    hits = idx[:, :, None] == np.arange(k)[None, None, :]
    return hits.sum(axis=1) if b is None else b.total(hits)


@voting_rule(
    "plurality",
    anonymous=True,
    neutral=True,
    condorcet_consistent=False,
    unanimous=True,
    domain="linear orders",
    uses="top",
    description="most first places",
)
def _plurality(b: Ballots) -> np.ndarray:
    return _argmax_mask(_onehot_counts(b.order[:, :, 0], b.shape[2], b))


@voting_rule(
    "borda",
    anonymous=True,
    neutral=True,
    condorcet_consistent=False,
    unanimous=True,
    domain="linear orders",
    uses="ranking",
    description="K - 1 - position points per voter; most points",
    reference="de Borda (1781)",
)
def _borda(b: Ballots) -> np.ndarray:
    k = b.shape[2]
    return _argmax_mask(b.total(k - 1 - b.positions))


@voting_rule(
    "copeland",
    anonymous=True,
    neutral=True,
    condorcet_consistent=True,
    unanimous=True,
    domain="linear orders",
    uses="ranking",
    description="pairwise majority wins minus losses",
    reference="Copeland (1951)",
)
def _copeland(b: Ballots) -> np.ndarray:
    margins = majority_margins(b.positions, b.weights)
    return _argmax_mask((margins > 0).sum(axis=2) - (margins < 0).sum(axis=2))


@voting_rule(
    "condorcet",
    anonymous=True,
    neutral=True,
    condorcet_consistent=True,
    unanimous=True,
    domain="linear orders",
    uses="ranking",
    description="the Condorcet winner, or every candidate when there is none",
    reference="Condorcet (1785)",
)
def _condorcet(b: Ballots) -> np.ndarray:
    margins = majority_margins(b.positions, b.weights)
    k = b.shape[2]
    beats_all = ((margins > 0) | np.eye(k, dtype=bool)[None]).all(axis=2)
    none = ~beats_all.any(axis=1)
    return beats_all | none[:, None]


@voting_rule(
    "instant_runoff",
    anonymous=True,
    neutral=True,
    condorcet_consistent=False,
    unanimous=True,
    domain="linear orders",
    uses="ranking",
    description="remove all candidates with the fewest first places until one has a strict majority",
    reference="Hare (1859); pref_voting.iterative_methods.instant_runoff",
)
def _instant_runoff(b: Ballots) -> np.ndarray:
    m, n, k = b.shape
    pos = b.positions
    active = np.ones((m, k), dtype=bool)
    result = np.zeros((m, k), dtype=bool)
    done = np.zeros(m, dtype=bool)
    half = 0.5 * b.voters
    for _ in range(k + 1):
        masked = np.where(active[:, None, :], pos, k)
        tops = np.argmin(masked, axis=2)
        counts = _onehot_counts(tops, k, b)
        winners = active & (counts > half)  # a strict majority
        found = ~done & winners.any(axis=1)
        result[found] = winners[found]
        done |= found
        if done.all():
            break
        low = np.where(active, counts, np.inf)
        lowest = active & (low == low.min(axis=1, keepdims=True))
        emptied = ~done & (lowest == active).all(axis=1)
        result[emptied] = lowest[emptied]
        done |= emptied
        active = active & ~lowest
    return result


@voting_rule(
    "plurality_with_runoff",
    anonymous=True,
    neutral=True,
    condorcet_consistent=False,
    unanimous=True,
    domain="linear orders",
    uses="ranking",
    description="majority runoff between the two plurality leaders (parallel-universe ties)",
    reference="pref_voting.iterative_methods.plurality_with_runoff_put",
)
def _plurality_with_runoff(b: Ballots) -> np.ndarray:
    m, n, k = b.shape
    if k == 1:
        return np.ones((m, 1), dtype=bool)
    counts = _onehot_counts(b.order[:, :, 0], k, b)
    first = _argmax_mask(counts)
    unique = first.sum(axis=1) == 1
    rest = np.where(first, -1, counts)
    second = rest == rest.max(axis=1, keepdims=True)
    pair_first_second = (first[:, :, None] & second[:, None, :]) | (second[:, :, None] & first[:, None, :])
    pair_first_first = first[:, :, None] & first[:, None, :] & ~np.eye(k, dtype=bool)[None]
    eligible = np.where(unique[:, None, None], pair_first_second, pair_first_first)
    margins = majority_margins(b.positions, b.weights)
    won = np.asarray((eligible & (margins >= 0)).any(axis=2))
    return won


@voting_rule(
    "approval",
    anonymous=True,
    neutral=True,
    condorcet_consistent=False,
    unanimous=False,
    domain="linear orders (each voter approves its top k)",
    uses="ranking",
    options=("k",),
    description="each voter approves its top k candidates; most approvals",
    reference="Brams and Fishburn (1978)",
)
def _approval(b: Ballots, k: int = 2) -> np.ndarray:
    kk = b.shape[2]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= kk:
        raise InvalidParameterError("k", k, f"approve between 1 and {kk} candidates (an integer)")
    return _argmax_mask(b.total(b.positions < k))


@voting_rule(
    "score",
    anonymous=True,
    neutral=True,
    condorcet_consistent=False,
    unanimous=True,
    domain="cardinal utilities (rescaled per voter to [0, 1]); unanimity for strict favourites",
    uses="utilities",
    options=("utilities",),
    required=("utilities",),
    description="range voting: per-voter [0, 1]-normalised utilities summed; highest total",
    reference="Smith (2000), range voting",
)
def _score(b: Ballots) -> np.ndarray:
    assert b.utilities is not None
    u = b.utilities
    low = u.min(axis=2, keepdims=True)
    span = u.max(axis=2, keepdims=True) - low
    scaled = np.divide(u - low, span, out=np.zeros_like(u), where=span > 0)
    total = b.total(scaled)
    scale = np.maximum(1.0, np.abs(total).max(axis=1, keepdims=True))
    return total >= total.max(axis=1, keepdims=True) - 1e-12 * scale


@voting_rule(
    "median",
    anonymous=True,
    neutral=False,
    condorcet_consistent=False,
    unanimous=True,
    domain="linear orders; strategy-proof and Condorcet-consistent on profiles single-peaked on `axis`",
    uses="top",
    options=("axis",),
    description="median of the voters' peaks along the axis (two middle peaks tie)",
    reference="Black (1948); Moulin (1980)",
)
def _median(b: Ballots, axis: np.ndarray | None = None) -> np.ndarray:
    m, n, k = b.shape
    place = np.arange(k) if axis is None else axis  # place[c]: position of candidate c on the axis
    peaks = place[b.order[:, :, 0]]
    if b.weights is None:
        peaks = np.sort(peaks, axis=1)
        lower, upper = peaks[:, (n - 1) // 2], peaks[:, n // 2]
    else:  # the weighted lower and upper medians (equal for an odd count of unit voters)
        order = np.argsort(peaks, axis=1, kind="stable")
        sorted_peaks = np.take_along_axis(peaks, order, axis=1)
        cum = np.cumsum(b.weights[order], axis=1)
        half = 0.5 * b.voters
        rows = np.arange(m)
        lower = sorted_peaks[rows, np.argmax(cum >= half * (1 - 1e-12), axis=1)]
        upper = sorted_peaks[rows, np.argmax(cum > half * (1 + 1e-12), axis=1)]
    return (place[None, :] == lower[:, None]) | (place[None, :] == upper[:, None])


@voting_rule(
    "seed_threshold",
    anonymous=True,
    neutral=False,
    condorcet_consistent=False,
    unanimous=False,
    domain="none: ignores the ballots (the seed code's vote)",
    uses="none",
    options=("seed", "threshold", "choices"),
    description="mean of one uniform draw per voter above `threshold` -> choices[0], else choices[1]",
    reference="SED authors' public code (voting stub)",
)
def _seed_threshold(
    b: Ballots,
    seed: int = 0,
    threshold: float = 0.5,
    choices: tuple[Any, Any] = (1.0, -math.inf),
) -> np.ndarray:
    m, n, k = b.shape
    if not (isinstance(threshold, int | float) and 0.0 <= float(threshold) <= 1.0):
        raise InvalidParameterError("threshold", threshold, "use a number in [0, 1]")
    try:
        first, second = choices
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            "choices", choices, "pass two candidates (above, below threshold)"
        ) from exc
    idx = []
    for c in (first, second):
        hits = [i for i, x in enumerate(b.candidates) if x == c]
        if not hits:
            raise InvalidParameterError(
                "choices",
                choices,
                f"both choices must be candidates; the candidates are {list(b.candidates)}",
            )
        idx.append(hits[0])
    draws = np.random.default_rng(seed).uniform(size=n)
    pick = idx[0] if draws.mean() > threshold else idx[1]
    out = np.zeros((m, k), dtype=bool)
    out[:, pick] = True
    return out


def _weighted_lower_median(values: np.ndarray, weights: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Lower weighted median per row over the members (m, n); unweighted when all weights are 0."""
    w = np.where(member, weights, 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 0, w, member.astype(float))
    total = w.sum(axis=1, keepdims=True)
    order = np.argsort(np.where(member, values, np.inf), axis=1, kind="stable")
    v_sorted = np.take_along_axis(values, order, axis=1)
    cum = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
    first = np.argmax(cum >= 0.5 * total * (1 - 1e-12), axis=1)
    return v_sorted[np.arange(values.shape[0]), first]


@voting_rule(
    "fork_weighted_median",
    anonymous=True,
    neutral=False,
    condorcet_consistent=False,
    unanimous=False,
    domain="numeric p candidates; ballots are (ranking, reported type in [0, 1])",
    uses="top+types",
    options=("types", "groups"),
    required=("types",),
    description="median over groups of type-weighted medians of p = ln(v) + 1, v = exp(p_top - 1)",
    reference="a public fork of the SED code (voting module)",
)
def _fork_weighted_median(b: Ballots, groups: np.ndarray | None = None) -> np.ndarray:
    m, n, k = b.shape
    assert b.types is not None
    p_axis = np.asarray(b.candidates, dtype=float)
    votes = np.exp(np.minimum(p_axis[b.order[:, :, 0]], 1.0) - 1.0)  # v in [0, 1]
    with np.errstate(divide="ignore"):
        p = np.log(votes) + 1.0
    labels = np.zeros(n, dtype=np.int64) if groups is None else groups
    medians = np.stack(
        [
            _weighted_lower_median(
                p, b.types if b.weights is None else b.types * b.weights, np.broadcast_to(labels == g, (m, n))
            )
            for g in np.unique(labels)
        ],
        axis=1,
    )
    med = np.sort(medians, axis=1)[:, (medians.shape[1] - 1) // 2]
    # The nearest candidate on the p axis (ties to the lower one); exact when med is a candidate.
    with np.errstate(invalid="ignore"):
        dist = np.abs(p_axis[None, :] - med[:, None])
    dist = np.where(p_axis[None, :] == med[:, None], 0.0, dist)
    dist = np.where(np.isnan(dist), np.inf, dist)
    pick = np.argmin(dist, axis=1)
    out = np.zeros((m, k), dtype=bool)
    out[np.arange(m), pick] = True
    return out


_MOVED = frozenset({"tie_break_order", "winners", "prepare", "winner", "winner_masks"})


def __getattr__(name: str) -> object:
    """Names that moved to sedtheory.voting.winners stay importable from here (deprecated location)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module("sedtheory.voting.winners"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
