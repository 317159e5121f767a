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
``[0, f(0)]``, found by safeguarded Newton steps (exact on linear pieces) with bisection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium.roots import aggregate_roots
from sedtheory.equilibrium.segments import potential_change, potential_weights, segment_bounds, segment_ids
from sedtheory.equilibrium.solve import solve_equilibrium
from sedtheory.errors import InvalidParameterError, ShapeError, SolverError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.games.commons.kernel import RatePieces
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


def batch_payoffs(game: CommonsGame, actions: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Own payoffs ``r_j`` of profiles ``actions`` (m, n) under per-row rates (m, B) (the kernel's)."""
    return game.kernel.payoffs(actions, rates)


def reply_bound(game: CommonsGame, cap: float = 1.0) -> np.ndarray:
    """Per-agent bound on best responses under any rates with ``|rate| <= cap``.

    The slope of ``f_i`` is at most ``sigma_i + |k_i| cap`` (its intercept ``alpha_i <= sigma_i``);
    agents without curvature keep the game's own bound.
    """
    return game.kernel.reply_bound(cap, fallback=game.reply_upper_bounds)


def _rate_cap(rates: np.ndarray) -> float:
    """At least 1, so that a row's equilibrium does not depend on the other rows of the batch."""
    return max(1.0, float(np.max(np.abs(rates)))) if rates.size else 1.0


def opponent_intercepts(game: CommonsGame, actions: np.ndarray) -> np.ndarray:
    """``alpha_i(a_-i)`` of every row of ``actions`` (m, n) (the kernel's)."""
    return game.kernel.intercepts(actions)


def _decoupled(game: CommonsGame) -> bool:
    """No agent's reply depends on the others (no damage curvature) and every own problem is
    strictly concave on each piece: each agent's exact best replies solve the whole game."""
    return not np.any(game.own_damage_curvature) and bool(np.all(game.own_curvature > 0))


class _GlobalBatch:
    """Backward replies of every agent for every policy (rows), vectorised over (rows, agents, pieces)."""

    def __init__(self, game: CommonsGame, rates: np.ndarray) -> None:
        soc = game.society
        self.game = game
        self.kernel = game.kernel
        self.pieces = game.kernel.pieces(rates)
        self.rates = rates
        self.sigma = soc.selfishness
        self.m = soc.selfishness / soc.productivity
        self.c = game.own_damage_curvature
        self.k = game.own_tax_weight
        self.beta = game.own_curvature
        indifferent = soc.weight_sums == 0
        self.upper = np.where(indifferent, 0.0, reply_bound(game, _rate_cap(rates)))
        self.weight = potential_weights(soc.weight_sums, game.kernel.mass)
        #: Population masses (None: all 1), the weights of the aggregate equation.
        self.mass = game.kernel.mass
        #: No agent's reply depends on the others (no damage curvature) and every own problem is
        #: strictly concave on each piece: each agent's best replies solve the whole game.
        self.decoupled = _decoupled(game)

    def decoupled_replies(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Smallest and largest best replies ``(len(rows), n)`` of a decoupled game (intercepts
        ``sigma_i``) - every combination of them is an equilibrium, and there is no other - and
        the exact deviation gains of each: ``max_b f_i(x_b) - f_i(x_i)`` over the pieces' exact
        maximisers (at most the tie tolerance, 1e-12 relative)."""
        pc = self.pieces.subset(rows)
        sigma, k, beta = self.sigma, self.k, self.beta
        inv_beta, half_beta = 1.0 / beta, 0.5 * beta
        xs, vs = [], []
        for b in range(pc.lo.size):  # each piece's exact maximiser and value (the kernel's f_i), once
            rate, base = pc.rate[:, b : b + 1], pc.base[:, b : b + 1]
            lo_b, hi_b = np.minimum(pc.lo[b], self.upper), np.minimum(pc.hi[b], self.upper)
            x = np.multiply(k, rate)  # (rows, n)
            np.subtract(sigma, x, out=x)
            x *= inv_beta
            np.clip(x, lo_b, hi_b, out=x)
            v = x - pc.lo[b]
            v *= rate
            v += base
            v *= -k
            v += x * (sigma - half_beta * x)  # f_i(x) = sigma x - k T(x) - beta x^2 / 2
            if b > 0:
                v[:, ~(pc.lo[b] < self.upper)] = -np.inf
            xs.append(x)
            vs.append(v)
        best = np.max(vs, axis=0)
        tie = 1e-12 * np.maximum(1.0, np.abs(best))
        low, high = np.full(best.shape, np.inf), np.full(best.shape, -np.inf)
        value_low, value_high = np.zeros(best.shape), np.zeros(best.shape)
        for xb, vb in zip(xs, vs, strict=True):
            live = vb >= best - tie
            lower, higher = live & (xb < low), live & (xb > high)
            value_low = np.where(lower, vb, value_low)
            value_high = np.where(higher, vb, value_high)
            low = np.where(lower, xb, low)
            high = np.where(higher, xb, high)
        return low, high, best - value_low, best - value_high

    def _stationary(
        self, pc: RatePieces, agg: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per piece: the restricted backward reply clipped to ``[lo, hi]`` and its slope in A."""
        h = self.sigma[None, :, None] - self.c[None, :, None] * agg[:, None, None]
        g = h - self.k[None, :, None] * pc.rate[:, None, :]
        m = self.m[None, :, None]
        pos = m > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = np.where(pos, g / np.where(pos, m, 1.0), np.where(g >= 0, np.inf, -np.inf))
        x = np.minimum(np.maximum(stat, lo), hi)
        inside = pos & (stat > lo) & (stat < hi)
        slope = np.where(inside, -(self.c[None, :, None] / np.where(pos, m, 1.0)), 0.0)
        return x, slope

    def largest(self, rows: np.ndarray, agg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Largest consistent reply of every agent (the Tarski fixed point) and its slope."""
        return self._consistent(rows, agg, largest=True)

    def smallest(self, rows: np.ndarray, agg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest consistent reply of every agent (also non-increasing in the aggregate)."""
        return self._consistent(rows, agg, largest=False)

    def _consistent(self, rows: np.ndarray, agg: np.ndarray, largest: bool) -> tuple[np.ndarray, np.ndarray]:
        pc = self.pieces.subset(rows)
        up = self.upper[None, :, None]
        lo = np.minimum(pc.lo[None, None, :], up)
        hi = np.minimum(pc.hi[None, None, :], up)
        x, slope = self._stationary(pc, agg, lo, hi)
        exists = (pc.lo[None, None, :] < up) | (np.arange(pc.lo.size)[None, None, :] == 0)
        alpha = self.sigma[None, :, None] - self.c[None, :, None] * (agg[:, None, None] - x)
        t_x = pc.base[:, None, :] + pc.rate[:, None, :] * (x - pc.lo[None, None, :])
        own = self.kernel.own(x, alpha, t_x)
        scale = 1e-12 * np.maximum(1.0, np.abs(alpha)) * np.maximum(1.0, x)
        best = self.kernel.consistent_best(x, lo, hi, alpha, scale, exists, pc, self.upper)
        valid = exists & (best - own <= scale)
        pick = (
            np.argmax(np.where(valid, x, -np.inf), axis=2)
            if largest
            else np.argmin(np.where(valid, x, np.inf), axis=2)
        )
        pick = np.where(valid.any(axis=2), pick, 0)  # numerical corner: the first piece
        xs = np.take_along_axis(x, pick[:, :, None], axis=2)[:, :, 0]
        ds = np.take_along_axis(slope, pick[:, :, None], axis=2)[:, :, 0]
        return xs, ds

    def segments(self, rows: np.ndarray) -> np.ndarray:
        """Segment id of every (row, agent, piece): runs of pieces joined by concave kinks."""
        return segment_ids(self.k, self.pieces.rate[rows])

    def restricted(
        self, rows: np.ndarray, seg_lo: np.ndarray, seg_hi: np.ndarray
    ) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Backward replies of agents restricted to ``[seg_lo, seg_hi]`` (one concave segment each)."""
        pc_all = self.pieces.subset(rows)

        def replies(sub: np.ndarray, agg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            pc = pc_all.subset(sub)
            low, high = seg_lo[sub][:, :, None], seg_hi[sub][:, :, None]
            lo = np.clip(pc.lo[None, None, :], low, high)
            hi = np.clip(pc.hi[None, None, :], low, high)
            x, slope = self._stationary(pc, agg, lo, hi)
            # The telescoping sum of piece widths can pass the segment's end by an ulp.
            total = np.minimum(low[:, :, 0] + (x - lo).sum(axis=2), high[:, :, 0])
            return total, slope.sum(axis=2)

        return replies

    def jumps(
        self, rows: np.ndarray, seg_lo: np.ndarray | None = None, seg_hi: np.ndarray | None = None
    ) -> Callable[[np.ndarray], np.ndarray] | None:
        """Aggregates where a flat agent's backward reply jumps, per row (NaN-padded), or None.

        An agent with ``sigma_i = 0`` has a linear own payoff on each piece: it takes the whole
        piece while ``-c_i A - k_i r_b >= 0`` and none of it after, so its reply jumps at
        ``A = -k_i r_b / c_i``; at that aggregate it is indifferent over the piece, which is
        what lets a root sit exactly on the jump.
        """
        flat = np.flatnonzero((self.m == 0) & (self.c > 0))
        if flat.size == 0:
            return None
        pc_all = self.pieces.subset(rows)

        def points(sub: np.ndarray) -> np.ndarray:
            pc = pc_all.subset(sub)
            lo = np.broadcast_to(pc.lo[None, None, :], (sub.size, flat.size, pc.lo.size))
            hi = np.minimum(pc.hi[None, None, :], self.upper[None, flat, None])
            if seg_lo is not None and seg_hi is not None:
                low, high = seg_lo[sub][:, flat, None], seg_hi[sub][:, flat, None]
                lo, hi = np.clip(lo, low, high), np.clip(hi, low, high)
            where = (self.sigma[flat, None] - self.k[flat, None] * pc.rate[:, None, :]) / self.c[flat, None]
            return np.where(hi > lo, where, np.nan).reshape(sub.size, -1)

        return points

    def potential_change(self, rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``Phi(b) - Phi(a)`` per row (the factored form shared with the scalar solver)."""
        return potential_change(self.kernel, a, b, self.rates[rows])


def _solve_global_batch(game: CommonsGame, rates: np.ndarray, tol: float, max_moves: int = 50) -> np.ndarray:
    """Equilibria per row; rows not certified here come back with a NaN in their profile."""
    model = _GlobalBatch(game, rates)
    m, n = rates.shape[0], game.n
    actions, exact = aggregate_roots(model.largest, m, n, stop_width=1e-3, mass=model.mass)
    # A root on a jump of the largest replies mixes two replies of the jumping agents: such a
    # profile can pass a loose gap test without being an equilibrium, so it goes on to the
    # segment search below, which ends on an exact root.
    gains = _gains(game, actions, rates, model.upper)
    pending = np.flatnonzero(~exact | _too_large(gains, game, actions, rates, tol))
    if pending.size == 0:
        return actions
    # Segment search on the rows that ended on a jump (as the scalar solver does): fix every
    # agent's segment, solve the restricted root exactly, move agents whose best response lies
    # in another segment; a joint move is kept only if the weighted potential increases,
    # otherwise only the agent with the largest weighted gain moves (which increases it).
    seg_of = model.segments(pending)
    lo_p, hi_p = model.pieces.lo, model.pieces.hi
    up = model.upper[None, :]
    a = actions[pending]
    piece = _piece_index(a, lo_p)
    seg = np.take_along_axis(seg_of, piece[:, :, None], axis=2)[:, :, 0]
    for _ in range(max_moves):
        if pending.size == 0:
            break
        sol = _segment_root(model, pending, segment_bounds(seg_of, seg, lo_p, hi_p, up))
        g = _gains(game, sol, rates[pending], model.upper)
        bad = _too_large(g, game, sol, rates[pending], tol)
        actions[pending[~bad]] = sol[~bad]
        if not bad.any():
            pending = pending[:0]
            break
        keep = np.flatnonzero(bad)
        pending, seg_of, seg, sol, g = pending[keep], seg_of[keep], seg[keep], sol[keep], g[keep]
        target = _best_segments(game, model, sol, rates[pending], seg_of)
        movers = g > tol * np.maximum(
            1.0,
            np.abs(game.society.apply_weights(batch_payoffs(game, sol, rates[pending]))).max(
                axis=1, keepdims=True
            ),
        )
        joint = np.where(movers, target, seg)
        trial = _segment_root(model, pending, segment_bounds(seg_of, joint, lo_p, hi_p, up))
        ok = model.potential_change(pending, sol, trial) > 0
        single = np.argmax(np.where(movers, g * model.weight[None, :], -1.0), axis=1)
        one = seg.copy()
        rows = np.arange(pending.size)
        one[rows, single] = target[rows, single]
        seg = np.where(ok[:, None], joint, one)
    actions[pending] = np.nan
    return actions


def _segment_root(model: _GlobalBatch, rows: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Exact aggregate roots of the policies ``rows`` with every agent held to its segment ``bounds``."""
    seg_lo, seg_hi = bounds
    sol, _ = aggregate_roots(
        model.restricted(rows, seg_lo, seg_hi),
        rows.size,
        model.sigma.size,
        stop_width=1e-11,
        jumps=model.jumps(rows, seg_lo, seg_hi),
        mass=model.mass,
    )
    return sol


def _piece_index(x: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(lo, x, side="right") - 1, 0, lo.size - 1)


def _best_segments(
    game: CommonsGame, model: _GlobalBatch, actions: np.ndarray, rates: np.ndarray, seg_of: np.ndarray
) -> np.ndarray:
    """Segment of every agent's exact best response to the others' actions."""
    alpha = game.kernel.intercepts(actions)
    _, _, piece = game.kernel.replies(alpha, game.kernel.pieces(rates), model.upper)
    return np.take_along_axis(seg_of, piece[:, :, None], axis=2)[:, :, 0]


def _gains(game: CommonsGame, actions: np.ndarray, rates: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Exact deviation gains (m, n) of profiles under per-row rates."""
    return game.kernel.gains(actions, rates, np.maximum(game.reply_upper_bounds, upper))


def _too_large(
    gains: np.ndarray, game: CommonsGame, actions: np.ndarray, rates: np.ndarray, tol: float
) -> np.ndarray:
    utilities = game.society.apply_weights(batch_payoffs(game, actions, rates))
    scale = np.maximum(1.0, np.abs(utilities).max(axis=1))
    return gains.max(axis=1) / scale > tol


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
    m, n = r.shape[0], game.n
    if not game.uses_global_formulas:
        raise InvalidParameterError("game", "local commons", "equilibrium windows need the global commons")
    model = _GlobalBatch(game, r)
    rows = np.arange(m)
    concave = model.segments(rows)[..., -1].max(axis=1) == 0 if m else np.zeros(0, dtype=bool)
    gaps: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    if model.decoupled:
        low, high, gain_low, gain_high = model.decoupled_replies(rows)
        exact_low = exact_high = np.ones(m, dtype=bool)
        gaps = (gain_low.max(axis=1, initial=0.0), gain_high.max(axis=1, initial=0.0))
    else:
        jumps = model.jumps(rows)
        low, exact_low = aggregate_roots(model.smallest, m, n, stop_width=1e-12, jumps=jumps, mass=model.mass)
        high, exact_high = aggregate_roots(
            model.largest, m, n, stop_width=1e-12, jumps=jumps, mass=model.mass
        )
    scale = 1e-9 * np.maximum(1.0, np.abs(high).max(axis=1, initial=0.0))
    same = np.abs(high - low).max(axis=1, initial=0.0) <= scale
    unique = concave | (exact_low & exact_high & same)
    smallest = _evaluated(game, r, low, tol, gaps[0])
    largest = smallest if np.array_equal(low, high) else _evaluated(game, r, high, tol, gaps[1])
    return EquilibriumWindows(game.kernel.total(low), game.kernel.total(high), unique, smallest, largest)


def _evaluated(
    game: CommonsGame, rates: np.ndarray, actions: np.ndarray, tol: float, gaps: np.ndarray | None = None
) -> PolicyEvaluations:
    """Profiles per row with their exact Nash gaps (given, or computed) and whether they are
    equilibria to ``tol``."""
    payoffs = batch_payoffs(game, actions, rates)
    utilities = game.society.apply_weights(payoffs)
    if gaps is None:
        gaps = _gains(game, actions, rates, reply_bound(game, _rate_cap(rates))).max(axis=1, initial=0.0)
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
        decoupled = _decoupled(game)
        # Decoupled blocks of ~1e5 agent-policy pairs stay in cache (measured 1.5x at n = 3000).
        size = chunk or max(1, int((1e5 if decoupled else 2e6 / max(game.tax.n_brackets, 1)) // max(n, 1)))
        known = np.zeros(m) if decoupled else None
        for start in range(0, m, size):
            block = slice(start, min(m, start + size))
            if known is None:
                actions[block] = _solve_global_batch(game, r[block], tol)
            else:
                low, _, gain, _ = _GlobalBatch(game, r[block]).decoupled_replies(
                    np.arange(block.stop - start)
                )
                actions[block], known[block] = low, gain.max(axis=1, initial=0.0)
        method = "batched aggregate root (largest consistent replies)"
        if known is not None:
            method = "exact best replies (no damage: each agent's reply is independent of the others)"
    else:
        fallback[:] = True
        method = "solve_equilibrium per policy (local commons)"
    unsolved = np.isnan(actions).any(axis=1)
    actions[unsolved] = 0.0
    payoffs = batch_payoffs(game, actions, r)
    utilities = game.society.apply_weights(payoffs)
    if known is None:
        gaps = _gains(game, actions, r, reply_bound(game, _rate_cap(r))).max(axis=1)
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
