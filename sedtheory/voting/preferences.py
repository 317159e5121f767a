r"""Agents' sincere preferences over the principal's objective p.

Agent i values a candidate p by its own utility :math:`u_i` at the principal's optimal policy
for p (:func:`~sedtheory.principal.optimal_tax`) and the equilibrium it induces. Its ranking
orders the candidates by that utility, best first.

Ties. Different p often lead the principal to the same policy (so to exactly the same
utilities), and policies found to solver precision differ in the last digits. Utilities
within ``tie_tolerance`` (relative, default 1e-9) of each other are treated as equal and the
tie is broken deterministically: the agent's *peak* is the smallest p among its best
candidates, and tied candidates are ordered by their distance from the peak along the p axis
(then by the smaller p). This keeps single-plateaued preferences single-peaked: with
utilities 1, 2, 2, 3 along the axis the ranking is 4th > 3rd > 2nd > 1st, not 4th > 2nd > 3rd.

Examples
--------
>>> import sedtheory as sed
>>> prefs = sed.voting.preferences_over_p(sed.scenarios.apple_picking(), [-math.inf, 0.0, 1.0])
>>> prefs.candidates
(-inf, 0.0, 1.0)
>>> [r[0] for r in prefs.rankings]  # each agent's favourite objective
[1.0, 1.0, 1.0, 0.0, 0.0, 0.0, -inf]
>>> prefs.rankings[0]  # the fully prosocial agent: the p axis has a valley for it
(1.0, -inf, 0.0)
>>> prefs.single_peaked, prefs.violators, prefs.axis  # every candidate is someone's worst
(False, (0,), None)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sedtheory.errors import InvalidParameterError, ProfileError
from sedtheory.games.protocol import Game, require_game
from sedtheory.objective import Objective
from sedtheory.principal.optimal import optimal_design
from sedtheory.principal.policy import PolicyDesign
from sedtheory.voting.analysis import single_peaked_axis, single_peaked_voters
from sedtheory.voting.profile import Profile, as_profile
from sedtheory.welfare import check_p, check_welfare_of, format_p, pmean

__all__ = ["DEFAULT_CANDIDATES", "PreferencesOverP", "preferences_over_p", "rank_by_utility"]

#: Default candidate objectives: egalitarian, p = -1, Nash (0), 0.5, utilitarian (1), elitist.
DEFAULT_CANDIDATES: tuple[float, ...] = (-math.inf, -1.0, 0.0, 0.5, 1.0, math.inf)


@dataclass(frozen=True)
class PreferencesOverP:
    """Each agent's utility at the principal's optimum for every candidate p, and the rankings.

    Attributes
    ----------
    candidates : tuple of float
        The candidate p, ascending (the p axis).
    utilities : numpy.ndarray, shape (n, K)
        ``utilities[i, k]``: agent i's utility at the optimal policy for ``candidates[k]``.
    rankings : tuple of tuples
        Each agent's ranking of the candidates, best first (ties broken as documented).
    peaks : tuple of float
        Each agent's favourite p.
    single_peaked : bool
        Whether every ranking is single-peaked along the p axis.
    violators : tuple of int
        Agents whose ranking is not single-peaked along the p axis.
    axis : tuple or None
        The p axis if the profile is single-peaked on it, else another axis it is
        single-peaked on, else None.
    designs : tuple of PolicyDesign
        The principal's optimum for each candidate.
    tied : numpy.ndarray of bool, shape (n, K)
        Whether the candidate's utility ties (within the tolerance) with another candidate's.
    welfare_of : str
        What the principal maximised (``"utility"`` or ``"payoff"``).
    weights : numpy.ndarray or None
        The voters' population masses (``None``: one vote each); pass them to
        :func:`~sedtheory.voting.winners` as ``weights=``.
    """

    candidates: tuple[float, ...]
    utilities: np.ndarray
    rankings: tuple[tuple[float, ...], ...]
    peaks: tuple[float, ...]
    single_peaked: bool
    violators: tuple[int, ...]
    axis: tuple[float, ...] | None
    designs: tuple[PolicyDesign, ...]
    tied: np.ndarray
    welfare_of: str = "utility"
    weights: np.ndarray | None = None

    @property
    def profile(self) -> Profile:
        """The rankings as a :class:`~sedtheory.voting.Profile`."""
        return as_profile(self.rankings)

    def welfare(self, q: float) -> np.ndarray:
        """``M_q`` of the agents' utilities at each candidate's optimal policy, shape (K,)."""
        shares = None if self.weights is None else self.weights / self.weights.sum()
        return np.array([pmean(self.utilities[:, k], q, shares) for k in range(len(self.candidates))])

    def to_frame(self) -> Any:
        """One row per agent: utility at each candidate's policy, peak, ranking (pandas)."""
        import pandas as pd

        frame = pd.DataFrame(self.utilities, columns=[f"u(p={format_p(c)})" for c in self.candidates])
        frame.index.name = "agent"
        frame["peak"] = self.peaks
        frame["ranking"] = [" > ".join(format_p(c) for c in r) for r in self.rankings]
        frame["single_peaked"] = [i not in self.violators for i in range(self.utilities.shape[0])]
        return frame


def rank_by_utility(utilities: np.ndarray, tie_tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Rankings (candidate indices, best first) from utilities (n, K) and the tie mask.

    Utilities within ``tie_tolerance * max(1, |u|)`` of a neighbour in sorted order form one
    class; ties are broken by distance from the peak (the smallest index in the best class),
    then by the smaller index.
    """
    u = np.asarray(utilities, dtype=float)
    if u.ndim != 2 or u.shape[1] == 0 or not np.all(np.isfinite(u)):
        raise InvalidParameterError(
            "utilities", utilities, "pass finite utilities of shape (agents, candidates)"
        )
    if not (isinstance(tie_tolerance, int | float) and 0 <= tie_tolerance < 1):
        raise InvalidParameterError("tie_tolerance", tie_tolerance, "use a relative tolerance in [0, 1)")
    n, k = u.shape
    order = np.argsort(u, axis=1, kind="stable")
    su = np.take_along_axis(u, order, axis=1)
    gap = np.diff(su, axis=1) > tie_tolerance * np.maximum(1.0, np.abs(su[:, 1:]))
    cls_sorted = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(gap, axis=1)], axis=1)
    cls = np.empty_like(cls_sorted)
    np.put_along_axis(cls, order, cls_sorted, axis=1)
    idx = np.arange(k)[None, :]
    best = cls == cls.max(axis=1, keepdims=True)
    peak = np.argmax(best, axis=1)  # smallest index in the best class
    dist = np.abs(idx - peak[:, None])
    key = (cls.max() - cls) * (k * k) + dist * k + idx
    ranking = np.argsort(key, axis=1, kind="stable")
    counts = np.stack([(cls == cls[:, [c]]).sum(axis=1) for c in range(k)], axis=1)
    return ranking, counts > 1


def preferences_over_p(
    game: Game,
    candidates: Sequence[float] = DEFAULT_CANDIDATES,
    welfare_of: Literal["utility", "payoff"] = "utility",
    tie_tolerance: float = 1e-9,
    designs: Mapping[float, PolicyDesign] | None = None,
    space: Any = None,
    **optimal_tax_options: Any,
) -> PreferencesOverP:
    r"""Each agent's utility at the principal's optimum per candidate p, its ranking, single-peakedness.

    Parameters
    ----------
    game : Game
        Any game (the commons game, or any object satisfying :class:`~sedtheory.games.Game`).
    candidates : sequence of float
        Candidate p values (any order; they are sorted into the p axis).
    welfare_of : {"utility", "payoff"}
        The principal's objective (agents always rank by their own utility ``u_i``).
    tie_tolerance : float
        Relative tolerance under which two utilities tie (see the module notes).
    designs : mapping p -> PolicyDesign, optional
        Already computed optima to reuse (e.g. across SED rounds with the same game).
    space : PolicySpace, optional
        The principal's policy space (default: bracket rates for a game with a bracket tax,
        else the game's ``default_policy_space()``).
    **optimal_tax_options
        Passed to :func:`~sedtheory.principal.optimal_tax` (or ``optimal_policy``).

    Returns
    -------
    PreferencesOverP

    Raises
    ------
    ProfileError
        No candidates, or a repeated candidate.
    InvalidParameterError
        A candidate is not a valid p (NaN).
    """
    require_game(game)
    check_welfare_of(welfare_of)
    cands = [check_p(c) for c in candidates]
    if not cands:
        raise ProfileError("candidates", list(candidates), "give at least one candidate p")
    if len(set(cands)) != len(cands):
        raise ProfileError("candidates", list(candidates), "a candidate p is repeated; list each once")
    cands.sort()
    reuse = dict(designs or {})
    found: list[PolicyDesign] = []
    for p in cands:
        d = reuse.get(p)
        if d is None or d.welfare_of != welfare_of:
            d = optimal_design(game, Objective(p, welfare_of), space, **optimal_tax_options)
        found.append(d)
    utilities = np.stack([d.equilibrium.utilities for d in found], axis=1)
    order, tied = rank_by_utility(utilities, tie_tolerance)
    sp = single_peaked_voters(order, np.arange(len(cands)))
    rankings = tuple(tuple(cands[c] for c in row) for row in order)
    axis = tuple(cands) if sp.all() else single_peaked_axis(rankings)
    return PreferencesOverP(
        candidates=tuple(cands),
        utilities=utilities,
        rankings=rankings,
        peaks=tuple(cands[int(row[0])] for row in order),
        single_peaked=bool(sp.all()),
        violators=tuple(int(i) for i in np.flatnonzero(~sp)),
        axis=axis,
        designs=tuple(found),
        tied=tied,
        welfare_of=welfare_of,
        weights=game.society.masses if getattr(game, "welfare_weights", None) is not None else None,
    )
