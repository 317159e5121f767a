r"""Certified equilibria of one game under many rate vectors at once.

The principal's searches evaluate the induced game for hundreds of rate vectors. For the
global commons this module solves them together, vectorised over ``(policies, agents,
pieces)``: for every policy the aggregate equation :math:`\sum_i x_i(A) = A` is solved
with each agent's *largest consistent backward reply* (see Notes), the profile is checked
with exact best responses, and any policy whose check fails is handed to
:func:`sedtheory.solve_equilibrium` (so every returned row is certified). The local commons
is solved policy by policy.

Notes
-----
For an aggregate ``A`` agent i's consistent actions are the fixed points of
:math:`x \mapsto BR_i(A - x)`. Restricted to tax piece ``b`` the backward reply is the
clipped solution of :math:`\sigma_i - c_i A - (\sigma_i/\theta_i) x - k_i \phi_b = 0`;
every fixed point is the restricted reply of the piece it lies in, so the fixed points are
the restricted replies that pass the exact global best-response test. With strategic
substitutes the map is non-decreasing, the largest fixed point exists (Tarski) and is
non-increasing in ``A``; the aggregate equation built on it has a root bracketed by
``[0, f(0)]``, solved to the last float by :func:`~sedtheory.equilibrium.settled.settled_roots`
(safeguarded Newton steps, exact on linear pieces; from 2,000 agents the agents the bracket
has settled are not evaluated again and the bracket starts from a sample's root). A root on a
jump of the replies goes on to the segment search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium.batch_model import (
    GlobalBatchModel,
    batch_payoffs,
    exact_gains,
    gap_too_large,
    is_decoupled,
    rate_cap,
    reply_bound,
    segment_search,
)
from sedtheory.equilibrium.settled import Replies, settled_roots
from sedtheory.equilibrium.solve import solve_equilibrium
from sedtheory.errors import InvalidParameterError, ShapeError, SolverError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.objective import Objective
from sedtheory.welfare import objective_args

__all__ = [
    "PolicyBatch",
    "PolicyEvaluations",
    "batch_payoffs",
    "check_rates",
    "opponent_intercepts",
    "policy_equilibria",
    "EquilibriumWindows",
    "equilibrium_windows",
    "stack_evaluations",
    "stack_windows",
    "reply_bound",
]

_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class PolicyEvaluations:
    """Certified equilibria of the games induced by the rows of ``points`` (policies).

    Attributes
    ----------
    points : numpy.ndarray, shape (m, d)
    actions : numpy.ndarray, shape (m, n) (or (m, *strategy_shape) for games with richer strategies)
    utilities, payoffs : numpy.ndarray, shape (m, n)
    nash_gaps, relative_nash_gaps : numpy.ndarray, shape (m,)
        Exact Nash gaps of each row's profile (exact best responses).
    certified : numpy.ndarray of bool, shape (m,)
        Rows whose equilibrium was certified (relative gap <= tol). Uncertified rows are kept,
        counted, and score ``-inf`` in :meth:`welfare` (a search never selects them).
    method : str
    """

    points: np.ndarray
    actions: np.ndarray
    utilities: np.ndarray
    payoffs: np.ndarray
    nash_gaps: np.ndarray
    relative_nash_gaps: np.ndarray
    certified: np.ndarray
    method: str

    def welfare(self, p: Any, welfare_of: str = "utility") -> np.ndarray:
        """The objective per row (``p`` a number or an :class:`~sedtheory.Objective`); ``-inf``
        outside the p-mean's domain or where the row is not certified."""
        obj = p if isinstance(p, Objective) else Objective(*objective_args(p, welfare_of))
        return np.where(self.certified, obj.rows(obj.values(self.utilities, self.payoffs)), -np.inf)

    @property
    def uncertified(self) -> int:
        """How many rows have no certified equilibrium."""
        return int((~self.certified).sum())


@dataclass(frozen=True)
class PolicyBatch(PolicyEvaluations):
    """Certified equilibria of ``game`` under each row of ``rates`` (the bracket rates).

    Attributes
    ----------
    rates : numpy.ndarray, shape (m, B)
        ``points``.
    fallback : numpy.ndarray of bool, shape (m,)
        Rows solved by :func:`sedtheory.solve_equilibrium` one by one.
    (and those of :class:`PolicyEvaluations`)
    """

    fallback: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    game: CommonsGame | None = field(default=None, repr=False, compare=False)

    @property
    def rates(self) -> np.ndarray:
        """The rate vector of every row (``points``)."""
        return self.points


def check_rates(game: CommonsGame, rates: npt.ArrayLike, field_name: str = "rates") -> np.ndarray:
    """Rates as an ``(m, B)`` float array matching the game's brackets (one rate vector: m = 1)."""
    r = np.asarray(rates, dtype=float)
    if r.ndim == 1:
        r = r[None, :]
    b = game.tax.n_brackets
    if r.ndim != 2 or r.shape[1] != b:
        raise ShapeError(field_name, rates, f"give {b} rates per policy (one per bracket), shape (m, {b})")
    if not np.all(np.isfinite(r)):
        raise InvalidParameterError(field_name, rates, "rates must be finite")
    return r


def opponent_intercepts(game: CommonsGame, actions: np.ndarray) -> np.ndarray:
    """``alpha_i(a_-i)`` of every row of ``actions`` (m, n) (the kernel's)."""
    return game.kernel.intercepts(actions)


def _solve_global_batch(game: CommonsGame, rates: np.ndarray, tol: float, max_moves: int = 50) -> np.ndarray:
    """Equilibria per row; rows not certified here come back with a NaN in their profile."""
    model = GlobalBatchModel(game, rates)
    m, n = rates.shape[0], game.n
    rows = np.arange(m)
    actions, exact = settled_roots(
        model.consistent_part, m, n, stop_width=1e-12, mass=model.mass, hint=model.root_hint(rows)
    )
    # A root on a jump of the largest replies mixes two replies of the jumping agent(s): such a
    # profile can pass a loose gap test without being an equilibrium, so it goes on to the
    # segment search (as the scalar solver does), which ends on an exact root.
    gains = exact_gains(game, actions, rates, model.upper)
    pending = np.flatnonzero(~exact | gap_too_large(gains, game, actions, rates, tol))
    if pending.size == 0:
        return actions
    return segment_search(model, rates, actions, pending, tol, max_moves)


def _global_actions(
    game: CommonsGame, r: np.ndarray, tol: float, chunk: int | None
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Profiles of the global commons per row (NaN where not certified), the exact gaps where
    the replies gave them (decoupled games), and the method, block by block."""
    m, n = r.shape[0], game.n
    actions = np.zeros((m, n))
    decoupled = is_decoupled(game)
    # Decoupled blocks of ~1e5 agent-policy pairs stay in cache (measured 1.5x at n = 3000).
    size = chunk or max(1, int((1e5 if decoupled else 2e6 / max(game.tax.n_brackets, 1)) // max(n, 1)))
    known = np.zeros(m) if decoupled else None
    for first in range(0, m, size):
        block = slice(first, min(m, first + size))
        if known is not None:
            model = GlobalBatchModel(game, r[block])
            low, _, gain, _ = model.decoupled_replies(np.arange(block.stop - first))
            actions[block], known[block] = low, gain.max(axis=1, initial=0.0)
        else:
            actions[block] = _solve_global_batch(game, r[block], tol)
    if known is not None:
        return (
            actions,
            known,
            "exact best replies (no damage: each agent's reply is independent of the others)",
        )
    return actions, None, "batched aggregate root (largest consistent replies)"


@dataclass(frozen=True)
class EquilibriumWindows:
    """Where the equilibria of each policy can be (see :func:`equilibrium_windows`).

    Attributes
    ----------
    low, high : numpy.ndarray, shape (m,)
        Totals of the smallest and the largest consistent replies' equilibria: every
        equilibrium total lies in ``[low, high]``.
    unique : numpy.ndarray of bool, shape (m,)
        Rows that provably have one equilibrium.
    smallest, largest : PolicyEvaluations
        The two roots' profiles with their exact Nash gaps (``certified`` where they are
        equilibria: the extreme equilibria of the row, when its roots are exact).
    """

    low: np.ndarray
    high: np.ndarray
    unique: np.ndarray
    smallest: PolicyEvaluations
    largest: PolicyEvaluations


def stack_evaluations(parts: list[PolicyEvaluations]) -> PolicyEvaluations:
    """The evaluations of consecutive row blocks as one (the rows in order; the first block's
    method). Rows are solved independently, so a batch split into blocks and stacked back is
    the batch solved whole."""
    if len(parts) == 1:
        return parts[0]

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return PolicyEvaluations(
        cat("points"),
        cat("actions"),
        cat("utilities"),
        cat("payoffs"),
        cat("nash_gaps"),
        cat("relative_nash_gaps"),
        cat("certified"),
        parts[0].method,
    )


def stack_windows(parts: list[EquilibriumWindows | None]) -> EquilibriumWindows | None:
    """The windows of consecutive row blocks as one (None if some block has none)."""
    if any(p is None for p in parts):
        return None
    done = [p for p in parts if p is not None]
    if len(done) == 1:
        return done[0]
    return EquilibriumWindows(
        np.concatenate([p.low for p in done]),
        np.concatenate([p.high for p in done]),
        np.concatenate([p.unique for p in done]),
        stack_evaluations([p.smallest for p in done]),
        stack_evaluations([p.largest for p in done]),
    )


def equilibrium_windows(game: CommonsGame, rates: npt.ArrayLike, tol: float = 1e-9) -> EquilibriumWindows:
    r"""Where the equilibria of each policy (row of ``rates``) can be (global commons).

    Both the smallest and the largest consistent backward replies are non-increasing in the
    aggregate, so every equilibrium total lies between the roots ``low`` and ``high`` of their
    aggregate equations. ``unique`` marks rows that provably have one equilibrium: every own
    payoff is concave, or both roots are exact, coincide and give the same replies
    (single-valued there). Other rows may still have one: :func:`~sedtheory.equilibrium.equilibria`
    decides, searching only ``[low, high]``. Vectorised over the rows.
    """
    require_commons(game, what="equilibrium_windows")
    r = check_rates(game, rates)
    m = r.shape[0]
    if not game.uses_global_formulas:
        raise InvalidParameterError("game", "local commons", "equilibrium windows need the global commons")
    model = GlobalBatchModel(game, r)
    rows = np.arange(m)
    concave = model.segments(rows)[..., -1].max(axis=1) == 0 if m else np.zeros(0, dtype=bool)
    gaps: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    if model.decoupled:
        low, high, gain_low, gain_high = model.decoupled_replies(rows)
        exact_low = exact_high = np.ones(m, dtype=bool)
        gaps = (gain_low.max(axis=1, initial=0.0), gain_high.max(axis=1, initial=0.0))
    else:
        low, exact_low = _extreme_roots(model, rows, largest=False)
        high, exact_high = _extreme_roots(model, rows, largest=True)
    scale = 1e-9 * np.maximum(1.0, np.abs(high).max(axis=1, initial=0.0))
    same = np.abs(high - low).max(axis=1, initial=0.0) <= scale
    unique = concave | (exact_low & exact_high & same)
    smallest = _evaluated(game, r, low, tol, gaps[0])
    largest = smallest if np.array_equal(low, high) else _evaluated(game, r, high, tol, gaps[1])
    return EquilibriumWindows(game.kernel.total(low), game.kernel.total(high), unique, smallest, largest)


def _extreme_roots(model: GlobalBatchModel, rows: np.ndarray, largest: bool) -> tuple[np.ndarray, np.ndarray]:
    """Roots of the smallest (largest) consistent replies' aggregate equation, to the last float."""

    def part(r: np.ndarray, agg: np.ndarray, agents: np.ndarray | None) -> Replies:
        return model.consistent_part(r, agg, agents, largest)

    hint = model.root_hint(rows, largest)
    return settled_roots(part, rows.size, model.sigma.size, stop_width=1e-12, mass=model.mass, hint=hint)


def _evaluated(
    game: CommonsGame, rates: np.ndarray, actions: np.ndarray, tol: float, gaps: np.ndarray | None = None
) -> PolicyEvaluations:
    """Profiles per row with their exact Nash gaps (given, or computed) and whether they are
    equilibria to ``tol``."""
    payoffs = batch_payoffs(game, actions, rates)
    utilities = game.society.apply_weights(payoffs)
    if gaps is None:
        gaps = exact_gains(game, actions, rates, reply_bound(game, rate_cap(rates))).max(axis=1, initial=0.0)
    rel = gaps / np.maximum(1.0, np.abs(utilities).max(axis=1, initial=0.0))
    return PolicyEvaluations(rates, actions, utilities, payoffs, gaps, rel, rel <= tol, "extreme root")


def policy_equilibria(
    game: CommonsGame,
    rates: npt.ArrayLike,
    tol: float = 1e-9,
    chunk: int | None = None,
    raise_on_failure: bool = True,
) -> PolicyBatch:
    r"""Certified equilibria of ``game.with_tax(rates_m)`` for every row ``rates_m``.

    Parameters
    ----------
    game : CommonsGame
        Supplies the society, thresholds and all other parameters.
    rates : array_like, shape (m, B) or (B,)
        One rate vector per policy, for the game's thresholds.
    tol : float
        Relative Nash gap above which a row is re-solved by :func:`sedtheory.solve_equilibrium`.
    chunk : int, optional
        Policies per vectorised block (default: about 2e6 / B agent-policy pairs per block; 1e5
        for games without damage, whose replies are independent).
    raise_on_failure : bool
        Raise when a row has no certified equilibrium (default); with False such rows keep
        the best profile found and their gap (``relative_nash_gaps > tol`` marks them).
    Returns
    -------
    PolicyBatch
        Every row certified: its exact Nash gap is reported and is at most ``tol`` relative
        (rows that :func:`solve_equilibrium` cannot certify raise its error).

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> game = scenarios.apple_picking()
    >>> batch = policy_equilibria(game, [[0.0, 0.0, 0.0], [0.1, 0.3, 0.5]])
    >>> bool(batch.relative_nash_gaps.max() <= 1e-9)
    True
    >>> round(float(batch.actions[0].sum()), 2)
    86.69
    """
    require_commons(game, what="policy_equilibria")
    r = check_rates(game, rates)
    m, n = r.shape[0], game.n
    actions = np.zeros((m, n))
    fallback = np.zeros(m, dtype=bool)
    known: np.ndarray | None = None  # exact gaps computed with the replies (decoupled games)
    if game.uses_global_formulas:
        actions, known, method = _global_actions(game, r, tol, chunk)
    else:
        fallback[:] = True
        method = "solve_equilibrium per policy (local commons)"
    unsolved = np.isnan(actions).any(axis=1)
    actions[unsolved] = 0.0
    payoffs = batch_payoffs(game, actions, r)
    utilities = game.society.apply_weights(payoffs)
    if known is None:
        gaps = exact_gains(game, actions, r, reply_bound(game, rate_cap(r))).max(axis=1)
    else:
        gaps = known
    scale = np.maximum(1.0, np.abs(utilities).max(axis=1))
    redo = fallback | unsolved | (gaps / scale > tol)
    for i in np.flatnonzero(redo):
        try:
            eq = solve_equilibrium(
                game.with_tax(game.tax.with_rates(r[i])), raise_on_failure=raise_on_failure
            )
        except SolverError:  # a trial policy without a certified equilibrium: counted, not fatal
            if raise_on_failure:
                raise
            gaps[i], fallback[i] = np.inf, True
            continue
        actions[i], utilities[i], payoffs[i], gaps[i] = eq.actions, eq.utilities, eq.payoffs, eq.nash_gap
        scale[i] = max(1.0, float(np.abs(eq.utilities).max()))
        fallback[i] = True
    for arr in (r, actions, utilities, payoffs, gaps, fallback):
        arr.setflags(write=False)
    rel = gaps / scale
    rel.setflags(write=False)
    certified = rel <= tol
    certified.setflags(write=False)
    return PolicyBatch(
        points=r,
        actions=actions,
        utilities=utilities,
        payoffs=payoffs,
        nash_gaps=gaps,
        relative_nash_gaps=rel,
        certified=certified,
        method=method,
        fallback=fallback,
        game=game,
    )
