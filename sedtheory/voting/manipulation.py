r"""Manipulation search: can a voter, or a coalition, gain by misreporting?

A coalition ``C`` manipulates rule ``f`` at a profile when some ballots for its members make
the (tie-broken) winner a candidate that *every* member strictly prefers, by its sincere
ranking, to the sincere winner. The search is exhaustive over the ballots that can change
the outcome of the rule, which its registry metadata ``uses`` says:

* ``"top"``: only the top matters, so K ballots per voter (each candidate on top);
* ``"ranking"``: all K! rankings;
* ``"utilities"``: score vectors with entries in ``score_levels`` (default 0, 1/2, 1);
* ``"top+types"``: K tops times ``type_grid`` reported types (default 0, 0.1, ..., 1);
* ``"none"``: the outcome ignores the ballots: never manipulable.

Coalitions are tried by size (1 up to ``coalition_size``), voters in index order, and only
those whose members share a candidate they all prefer to the sincere winner. Every witness
is verified by re-running the rule on the manipulated profile (:meth:`Manipulation.verify`).

Examples
--------
>>> from sedtheory.voting import find_manipulation
>>> profile = [["a", "b", "c"], ["a", "b", "c"], ["b", "a", "c"], ["c", "b", "a"], ["c", "b", "a"]]
>>> m = find_manipulation(profile, "borda")  # Borda scores a 5, b 6, c 4
>>> # voter 0 buries b: all three score 5, and the tie-break (sorted order) elects a
>>> m.sincere_winner, m.manipulated_winner, m.coalition
('b', 'a', (0,))
>>> m.misreports
(('a', 'c', 'b'),)
>>> m.verify(profile)
True
>>> find_manipulation(profile, "median") is None  # single-peaked on a < b < c: Moulin
True
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError, SedtheoryError
from sedtheory.voting.profile import Profile, as_profile
from sedtheory.voting.rules import get_rule
from sedtheory.voting.winners import prepare, tie_break_order, winner, winner_masks

__all__ = ["Manipulation", "find_manipulation", "is_manipulable"]

_CHUNK = 4096


@dataclass(frozen=True)
class Manipulation:
    """A verified manipulation witness.

    Attributes
    ----------
    rule : str
    coalition : tuple of int
        The manipulating voters (indices into the profile).
    sincere : tuple of rankings
        Their sincere rankings (best first).
    misreports : tuple of rankings
        The rankings they submit instead.
    misreported_types, misreported_utilities : tuple, optional
        The types (``fork_weighted_median``) or score vectors (``score``) they submit.
    sincere_winner, manipulated_winner
        The tie-broken winners before and after; every member ranks the second above the first.
    tie_break : tuple
        The single-winner tie-break order used.
    options : dict
        The rule options of the sincere profile.
    """

    rule: str
    coalition: tuple[int, ...]
    sincere: tuple[tuple[Any, ...], ...]
    misreports: tuple[tuple[Any, ...], ...]
    sincere_winner: Any
    manipulated_winner: Any
    tie_break: tuple[Any, ...]
    misreported_types: tuple[float, ...] | None = None
    misreported_utilities: tuple[tuple[float, ...], ...] | None = None
    options: dict[str, Any] = field(default_factory=dict, repr=False)
    sincere_utilities: np.ndarray | None = field(default=None, repr=False, compare=False)

    def manipulated_profile(self, rankings: Any) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
        """The profile and rule options with the coalition's misreports substituted."""
        prof = as_profile(rankings)
        ranks = prof.rankings()
        opts = dict(self.options)
        for i, v in enumerate(self.coalition):
            ranks[v] = self.misreports[i]
        if self.misreported_types is not None:
            types = np.array(opts["types"], dtype=float)
            types[list(self.coalition)] = self.misreported_types
            opts["types"] = types
        if self.misreported_utilities is not None:
            utilities = np.array(opts["utilities"], dtype=float)
            utilities[list(self.coalition)] = self.misreported_utilities
            opts["utilities"] = utilities
        return ranks, opts

    def verify(self, rankings: Any) -> bool:
        """Re-run the rule on the sincere and the manipulated profile and check the claim."""
        prof = as_profile(rankings)
        before = winner(prof, self.rule, tie_break=self.tie_break, **self.options)
        ranks, opts = self.manipulated_profile(prof)
        after = winner(ranks, self.rule, tie_break=self.tie_break, **opts)
        if before != self.sincere_winner or after != self.manipulated_winner:
            return False
        return bool(
            _strictly_better(prof, self.sincere_utilities)[list(self.coalition)][
                :, [prof.index(before)], prof.index(after)
            ].all()
        )


def _strictly_better(prof: Profile, values: np.ndarray | None) -> np.ndarray:
    """``out[v, b, a]``: voter v strictly prefers a to b (by ranking, or by value when given)."""
    if values is None:
        pos = prof.positions
        return pos[:, None, :] < pos[:, :, None]
    tol = 1e-9 * np.maximum(1.0, np.abs(values))
    return values[:, None, :] > values[:, :, None] + tol[:, :, None]


def _ballot_space(
    prof: Profile, uses: str, type_grid: np.ndarray, score_levels: np.ndarray, sincere_order: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Per-voter misreport options: orders (B, K), types (B,) or None, utilities (B, K) or None."""
    k = prof.n_candidates
    if uses == "ranking":
        return np.array(list(itertools.permutations(range(k))), dtype=np.int64), None, None
    tops = np.array([[c] + [x for x in sincere_order if x != c] for c in range(k)], dtype=np.int64)
    if uses == "top":
        return tops, None, None
    if uses == "top+types":
        orders = np.repeat(tops, type_grid.size, axis=0)
        return orders, np.tile(type_grid, k), None
    if uses == "utilities":
        grid = np.array(list(itertools.product(score_levels, repeat=k)), dtype=float)
        return np.broadcast_to(sincere_order, (grid.shape[0], k)).copy(), None, grid
    raise InvalidParameterError("uses", uses, "unknown ballot kind")  # pragma: no cover - registry guard


def find_manipulation(
    rankings: Any,
    rule: str,
    coalition_size: int = 1,
    tie_break: Sequence[Any] | None = None,
    type_grid: Sequence[float] | None = None,
    score_levels: Sequence[float] = (0.0, 0.5, 1.0),
    max_profiles: int = 2_000_000,
    sincere_utilities: npt.ArrayLike | None = None,
    **options: Any,
) -> Manipulation | None:
    """Search for a voter or coalition (up to ``coalition_size``) that gains by misreporting.

    Parameters
    ----------
    rankings : profile (sincere rankings, best first)
    rule : str
        A name in :data:`~sedtheory.voting.RULES`.
    coalition_size : int
        Largest coalition tried (1: single voters).
    tie_break : sequence, optional
        Single-winner tie-break (default: sorted candidates).
    type_grid : sequence of float, optional
        Reported types tried for rules whose ballots carry types (default 0, 0.1, ..., 1).
    score_levels : sequence of float
        Entries of the score vectors tried for ``score``.
    max_profiles : int
        Refuse (with an :class:`InvalidParameterError`) searches larger than this.
    sincere_utilities : array_like (voters, candidates), optional
        Cardinal sincere values (columns in sorted candidate order). When given, a voter
        gains only if its value strictly increases (beyond a relative 1e-9), so that an
        outcome tied with the sincere one in value (e.g. two p giving the same policy) is no
        gain even when the ranking breaks the tie in its favour.
    **options
        The rule's options for the sincere profile (``types=``, ``utilities=``, ...).

    Returns
    -------
    Manipulation or None
        The first witness found (smallest coalition, then voter order, then ballot order),
        verified; None when the exhaustive search finds none.
    """
    r = get_rule(rule)
    if isinstance(coalition_size, bool) or not isinstance(coalition_size, int) or coalition_size < 1:
        raise InvalidParameterError("coalition_size", coalition_size, "use a positive integer")
    prof = as_profile(rankings)
    utilities, types, rest = prepare(prof, r, options)
    priority = tie_break_order(prof, tie_break)
    tb = tuple(prof.candidates[c] for c in np.argsort(priority))
    if r.uses == "none":
        return None
    grid = np.linspace(0.0, 1.0, 11) if type_grid is None else np.asarray(type_grid, dtype=float)
    if grid.ndim != 1 or grid.size == 0 or not np.all((grid >= 0) & (grid <= 1)):
        raise InvalidParameterError("type_grid", type_grid, "pass reported types in [0, 1]")
    levels = np.asarray(score_levels, dtype=float)
    if levels.ndim != 1 or levels.size == 0 or not np.all(np.isfinite(levels)):
        raise InvalidParameterError("score_levels", score_levels, "pass finite score levels")
    n, k = prof.n_voters, prof.n_candidates
    big = np.iinfo(np.int64).max

    def tie_broken(mask: np.ndarray) -> np.ndarray:
        return np.asarray(np.argmin(np.where(mask, priority[None, :], big), axis=1))

    base = winner_masks(
        prof,
        r,
        prof.order[None],
        None if utilities is None else utilities[None],
        None if types is None else types[None],
        rest,
    )
    w0 = int(tie_broken(base)[0])
    values = None
    if sincere_utilities is not None:
        values = np.asarray(sincere_utilities, dtype=float)
        if values.shape != (n, k) or not np.all(np.isfinite(values)):
            raise InvalidParameterError(
                "sincere_utilities",
                sincere_utilities,
                f"pass finite values of shape ({n}, {k}), sorted columns",
            )
    better = _strictly_better(prof, values)[:, w0, :]  # better[v, c]: v strictly prefers c to w0
    spaces = [_ballot_space(prof, r.uses, grid, levels, prof.order[v]) for v in range(n)]
    size = spaces[0][0].shape[0]
    checked = 0
    for s in range(1, min(coalition_size, n) + 1):
        for coalition in itertools.combinations(range(n), s):
            targets = np.asarray(better[list(coalition)].all(axis=0))
            if not targets.any():
                continue
            total = size**s
            checked += total
            if checked > max_profiles:
                raise InvalidParameterError(
                    "coalition_size",
                    coalition_size,
                    f"the exhaustive search needs more than max_profiles={max_profiles} profiles "
                    f"({size} ballots per voter); lower coalition_size or raise max_profiles",
                )
            for start in range(0, total, _CHUNK):
                flat = np.arange(start, min(total, start + _CHUNK))
                choice = np.stack(np.unravel_index(flat, (size,) * s), axis=1)  # (chunk, s)
                orders, t_batch, u_batch = _batch(prof, coalition, choice, spaces, types, utilities)
                won = tie_broken(winner_masks(prof, r, orders, u_batch, t_batch, rest))
                hits = np.flatnonzero(targets[won])
                if hits.size == 0:
                    continue
                h = int(hits[0])
                ballots = (
                    orders[h],
                    None if t_batch is None else t_batch[h],
                    None if u_batch is None else u_batch[h],
                )
                return _witness(prof, r.name, coalition, ballots, (w0, int(won[h])), tb, options, values)
    return None


def _batch(
    prof: Profile,
    coalition: tuple[int, ...],
    choice: np.ndarray,
    spaces: list[Any],
    types: Any,
    utilities: Any,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Profiles (orders, types, utilities) with the coalition's ballots replaced per ``choice`` row."""
    m, n, k = choice.shape[0], prof.n_voters, prof.n_candidates
    orders = np.broadcast_to(prof.order, (m, n, k)).copy()
    t_batch = None if types is None else np.broadcast_to(types, (m, n)).copy()
    u_batch = None if utilities is None else np.broadcast_to(utilities, (m, n, k)).copy()
    for j, v in enumerate(coalition):
        o_space, t_space, u_space = spaces[v]
        orders[:, v] = o_space[choice[:, j]]
        if t_batch is not None and t_space is not None:
            t_batch[:, v] = t_space[choice[:, j]]
        if u_batch is not None and u_space is not None:
            u_batch[:, v] = u_space[choice[:, j]]
    return orders, t_batch, u_batch


def _witness(
    prof: Profile,
    rule: str,
    coalition: tuple[int, ...],
    ballots: tuple[Any, Any, Any],
    winners: tuple[int, int],
    tb: Any,
    options: Any,
    values: Any,
) -> Manipulation:
    """The verified witness of a manipulation found in one profile of a batch."""
    orders, types, utilities = ballots
    witness = Manipulation(
        rule=rule,
        coalition=tuple(coalition),
        sincere=tuple(tuple(prof.candidates[c] for c in prof.order[v]) for v in coalition),
        misreports=tuple(tuple(prof.candidates[c] for c in orders[v]) for v in coalition),
        sincere_winner=prof.candidates[winners[0]],
        manipulated_winner=prof.candidates[winners[1]],
        tie_break=tb,
        misreported_types=None if types is None else tuple(float(types[v]) for v in coalition),
        misreported_utilities=None
        if utilities is None
        else tuple(tuple(float(x) for x in utilities[v]) for v in coalition),
        options=dict(options),
        sincere_utilities=values,
    )
    if not witness.verify(prof):  # pragma: no cover - kernel and winner() disagree
        raise SedtheoryError(f"internal error: unverifiable manipulation witness {witness}")
    return witness


def is_manipulable(rankings: Any, rule: str, coalition_size: int = 1, **kwargs: Any) -> bool:
    """Whether :func:`find_manipulation` finds a witness."""
    return find_manipulation(rankings, rule, coalition_size, **kwargs) is not None
