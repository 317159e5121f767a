r"""The global commons under many rate vectors at once: backward replies and the segment search.

:class:`GlobalBatchModel` holds one game's coefficients and the tax pieces of every row of rates
and evaluates, vectorised over ``(rows, agents, pieces)``, what the batched solvers of
:mod:`sedtheory.equilibrium.batch` need: each agent's largest and smallest *consistent* backward
replies to an aggregate (the fixed points of :math:`x \mapsto BR_i(A - x)`, checked with the
kernel's exact best replies), the replies restricted to one concave segment of pieces, and the
aggregates where a linear agent's reply jumps. :func:`segment_search` finishes rows whose profile
is not yet an equilibrium: every agent is held to a segment, the restricted aggregate equation is
solved exactly, and agents whose exact best reply lies in another segment move (jointly where the
weighted potential increases, otherwise the one with the largest weighted gain), until the exact
Nash gap certifies the row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from sedtheory.equilibrium.roots import aggregate_roots
from sedtheory.equilibrium.segments import potential_change, potential_weights, segment_bounds, segment_ids
from sedtheory.equilibrium.settled import SETTLE_FROM, Part, Replies, settled_roots
from sedtheory.games import CommonsGame
from sedtheory.games.commons.kernel import RatePieces

__all__ = [
    "GlobalBatchModel",
    "batch_payoffs",
    "exact_gains",
    "gap_too_large",
    "is_decoupled",
    "rate_cap",
    "reply_bound",
    "segment_search",
]


def batch_payoffs(game: CommonsGame, actions: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Own payoffs ``r_j`` of profiles ``actions`` (m, n) under per-row rates (m, B) (the kernel's)."""
    return game.kernel.payoffs(actions, rates)


def reply_bound(game: CommonsGame, cap: float = 1.0) -> np.ndarray:
    """Per-agent bound on best responses under any rates with ``|rate| <= cap``.

    The slope of ``f_i`` is at most ``sigma_i + |k_i| cap`` (its intercept ``alpha_i <= sigma_i``);
    agents without curvature keep the game's own bound.
    """
    return game.kernel.reply_bound(cap, fallback=game.reply_upper_bounds)


def rate_cap(rates: np.ndarray) -> float:
    """At least 1, so that a row's equilibrium does not depend on the other rows of the batch."""
    return max(1.0, float(np.max(np.abs(rates)))) if rates.size else 1.0


def is_decoupled(game: CommonsGame) -> bool:
    """No agent's reply depends on the others (no damage curvature) and every own problem is
    strictly concave on each piece: each agent's exact best replies solve the whole game."""
    return not np.any(game.own_damage_curvature) and bool(np.all(game.own_curvature > 0))


#: Agents from which :meth:`GlobalBatchModel.root_hint` guesses the aggregate roots from a sample
#: (the settled-agent solver's size; per policy, measured against no guess: 0.019 s against
#: 0.028 s at 2,000 agents, 0.049 s against 0.113 s at 10^4).
HINT_FROM = 2_000

#: Agents in that sample at most (a tenth of the society below 20,000 agents).
HINT_SAMPLE = 2_000

#: Relative half-width of the bracket a segment search's root starts from (around the aggregate
#: of the profile whose segments it holds).
SEGMENT_HINT_WIDTH = 1e-4

#: Relative half-width of the guessed bracket (the sample's root was within 0.3 % of the whole
#: society's at 10^5 agents).
HINT_WIDTH = 0.01


class GlobalBatchModel:
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
        self.upper = np.where(indifferent, 0.0, reply_bound(game, rate_cap(rates)))
        self.weight = potential_weights(soc.weight_sums, game.kernel.mass)
        #: Population masses (None: all 1), the weights of the aggregate equation.
        self.mass = game.kernel.mass
        #: No agent's reply depends on the others (no damage curvature) and every own problem is
        #: strictly concave on each piece: each agent's best replies solve the whole game.
        self.decoupled = is_decoupled(game)
        curved = self.m > 0
        self._curved = bool(np.all(curved))
        self._inside_slope = -(self.c / np.where(curved, self.m, 1.0))

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
        g = self.k[None, :, None] * pc.rate[:, None, :]
        np.subtract(h, g, out=g)  # in place: the (rows, n, P) arrays are the solve's cost
        m = self.m[None, :, None]
        if self._curved:  # every agent has effort curvature (the same values as below)
            stat = np.divide(g, m, out=g)
            inside = stat > lo
            inside &= stat < hi
            slope = np.where(inside, self._inside_slope[None, :, None], 0.0)
        else:
            pos = m > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                stat = np.where(pos, g / np.where(pos, m, 1.0), np.where(g >= 0, np.inf, -np.inf))
            inside = pos & (stat > lo) & (stat < hi)
            slope = np.where(inside, -(self.c[None, :, None] / np.where(pos, m, 1.0)), 0.0)
        x = np.maximum(stat, lo)
        np.minimum(x, hi, out=x)
        return x, slope

    def largest(self, rows: np.ndarray, agg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Largest consistent reply of every agent (the Tarski fixed point) and its slope."""
        return self._consistent(rows, agg, largest=True)[:2]

    def smallest(self, rows: np.ndarray, agg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest consistent reply of every agent (also non-increasing in the aggregate)."""
        return self._consistent(rows, agg, largest=False)[:2]

    def restrict(self, agents: np.ndarray) -> GlobalBatchModel:
        """The same policies with only the agents ``agents`` (an index array): their replies to an
        aggregate are the same as in the whole model (:meth:`CommonsKernel.restrict`)."""
        sub = copy.copy(self)
        sub.kernel = self.kernel.restrict(agents)
        for name in ("sigma", "m", "c", "k", "beta", "upper", "weight", "_inside_slope"):
            setattr(sub, name, getattr(self, name)[agents])
        sub.mass = None if self.mass is None else self.mass[agents]
        return sub

    def consistent_part(
        self, rows: np.ndarray, agg: np.ndarray, agents: np.ndarray | None, largest: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Largest (or smallest) consistent replies ``(len(rows), len(agents))`` of the agents
        ``agents`` (all with None), their slopes in the aggregate and their pieces (the regime
        :func:`~sedtheory.equilibrium.settled.settled_roots` compares)."""
        model = self if agents is None else self.restrict(agents)
        return model._consistent(rows, agg, largest)

    def _consistent(
        self, rows: np.ndarray, agg: np.ndarray, largest: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pc = self.pieces.subset(rows)
        up = self.upper[None, :, None]
        lo = np.minimum(pc.lo[None, None, :], up)
        hi = np.minimum(pc.hi[None, None, :], up)
        x, slope = self._stationary(pc, agg, lo, hi)
        exists = (pc.lo[None, None, :] < up) | (np.arange(pc.lo.size)[None, None, :] == 0)
        alpha = np.subtract(agg[:, None, None], x)  # sigma - c (A - x), in place
        alpha *= self.c[None, :, None]
        np.subtract(self.sigma[None, :, None], alpha, out=alpha)
        t_x = np.subtract(x, pc.lo[None, None, :])  # T(x) on its piece
        t_x *= pc.rate[:, None, :]
        t_x += pc.base[:, None, :]
        own = self.kernel.own(x, alpha, t_x)
        scale = np.abs(alpha)  # 1e-12 max(1, |alpha|) max(1, x)
        np.maximum(scale, 1.0, out=scale)
        scale *= 1e-12
        scale *= np.maximum(1.0, x)
        best = self.kernel.consistent_best(x, lo, hi, alpha, scale, exists, pc, self.upper)
        best -= own
        valid = best <= scale
        valid &= exists
        pick = (
            np.argmax(np.where(valid, x, -np.inf), axis=2)
            if largest
            else np.argmin(np.where(valid, x, np.inf), axis=2)
        )
        pick = np.where(valid.any(axis=2), pick, 0)  # numerical corner: the first piece
        xs = np.take_along_axis(x, pick[:, :, None], axis=2)[:, :, 0]
        ds = np.take_along_axis(slope, pick[:, :, None], axis=2)[:, :, 0]
        return xs, ds, pick

    def root_hint(self, rows: np.ndarray, largest: bool = True) -> np.ndarray | None:
        """A guess ``[low, high]`` ``(len(rows), 2)`` of each row's aggregate root from a sample of
        :data:`HINT_SAMPLE` (at most a tenth of the society) evenly spaced agents, their masses
        scaled to the population, widened by :data:`HINT_WIDTH` either side; None below
        :data:`HINT_FROM` agents.

        The sample's root costs a fraction of one evaluation of every agent; the whole root
        then starts from a bracket about 2 % wide instead of ``[0, f(0)]`` (the settled-agent
        solver, :func:`~sedtheory.equilibrium.settled.settled_roots`, checks and widens it; its
        result does not depend on the guess beyond rounding).
        """
        n = self.sigma.size
        if n < HINT_FROM:
            return None
        sample = np.linspace(0, n - 1, min(HINT_SAMPLE, n // 10)).astype(np.int64)
        sub = self.restrict(sample)
        mass = np.ones(n) if self.mass is None else self.mass
        w = mass[sample] * (mass.sum() / mass[sample].sum())

        def part(r: np.ndarray, agg: np.ndarray, agents: np.ndarray | None) -> Replies:
            return sub.consistent_part(rows[r], agg, agents, largest)

        profiles, _ = settled_roots(part, rows.size, sample.size, stop_width=1e-6, mass=w)
        guess = profiles @ w
        return np.stack([guess * (1.0 - HINT_WIDTH), guess * (1.0 + HINT_WIDTH)], axis=1)

    def segments(self, rows: np.ndarray) -> np.ndarray:
        """Segment id of every (row, agent, piece): runs of pieces joined by concave kinks."""
        return segment_ids(self.k, self.pieces.rate[rows])

    def restricted(self, rows: np.ndarray, seg_lo: np.ndarray, seg_hi: np.ndarray) -> Part:
        """Backward replies of agents restricted to ``[seg_lo, seg_hi]`` (one concave segment each),
        their slopes and their regimes (every piece's status: at its bottom, inside or at its top,
        as base-3 digits), for the agents ``agents`` (all with None) - a
        :data:`~sedtheory.equilibrium.settled.Part`."""
        pc_all = self.pieces.subset(rows)
        digits = 3 ** np.arange(pc_all.lo.size, dtype=np.int64)

        def replies(
            sub: np.ndarray, agg: np.ndarray, agents: np.ndarray | None = None
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            pc = pc_all.subset(sub)
            model, cols = (self, slice(None)) if agents is None else (self.restrict(agents), agents)
            low, high = seg_lo[sub][:, cols, None], seg_hi[sub][:, cols, None]
            lo = np.clip(pc.lo[None, None, :], low, high)
            hi = np.clip(pc.hi[None, None, :], low, high)
            x, slope = model._stationary(pc, agg, lo, hi)
            # The telescoping sum of piece widths can pass the segment's end by an ulp.
            total = np.minimum(low[:, :, 0] + (x - lo).sum(axis=2), high[:, :, 0])
            status = (x > lo).astype(np.int64) + ((x >= hi) & (hi > lo))
            return total, slope.sum(axis=2), status @ digits

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


def segment_root(
    model: GlobalBatchModel,
    rows: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    near: np.ndarray | None = None,
) -> np.ndarray:
    """Exact aggregate roots of the policies ``rows`` with every agent held to its segment ``bounds``.

    ``near`` (one aggregate per row, e.g. the profile the segments came from): from
    :data:`HINT_FROM` agents the root is first bracketed within :data:`SEGMENT_HINT_WIDTH` of it
    (the restricted root is unique, so the guess changes only the work).
    """
    seg_lo, seg_hi = bounds
    n = model.sigma.size
    replies = model.restricted(rows, seg_lo, seg_hi)
    if n < SETTLE_FROM:  # the bracketing solver with the flat agents' jumps listed
        sol, _ = aggregate_roots(
            lambda sub, agg: replies(sub, agg, None)[:2],
            rows.size,
            n,
            stop_width=1e-11,
            jumps=model.jumps(rows, seg_lo, seg_hi),
            mass=model.mass,
        )
        return sol
    hint = None
    if near is not None and n >= HINT_FROM:
        half = SEGMENT_HINT_WIDTH * np.maximum(1.0, np.abs(near))
        hint = np.stack([near - half, near + half], axis=1)
    sol, _ = settled_roots(replies, rows.size, n, 1e-12, model.mass, hint)
    return sol


def _piece_index(x: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(lo, x, side="right") - 1, 0, lo.size - 1)


def _best_segments(
    game: CommonsGame, model: GlobalBatchModel, actions: np.ndarray, rates: np.ndarray, seg_of: np.ndarray
) -> np.ndarray:
    """Segment of every agent's exact best response to the others' actions."""
    alpha = game.kernel.intercepts(actions)
    _, _, piece = game.kernel.replies(alpha, game.kernel.pieces(rates), model.upper)
    return np.take_along_axis(seg_of, piece[:, :, None], axis=2)[:, :, 0]


def exact_gains(game: CommonsGame, actions: np.ndarray, rates: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Exact deviation gains (m, n) of profiles under per-row rates."""
    return game.kernel.gains(actions, rates, np.maximum(game.reply_upper_bounds, upper))


def gap_too_large(
    gains: np.ndarray, game: CommonsGame, actions: np.ndarray, rates: np.ndarray, tol: float
) -> np.ndarray:
    utilities = game.society.apply_weights(batch_payoffs(game, actions, rates))
    scale = np.maximum(1.0, np.abs(utilities).max(axis=1))
    return gains.max(axis=1) / scale > tol


def segment_search(
    model: GlobalBatchModel,
    rates: np.ndarray,
    actions: np.ndarray,
    pending: np.ndarray,
    tol: float,
    max_moves: int,
) -> np.ndarray:
    """Finish the rows ``pending`` of ``actions`` (m, n; changed in place and returned) by the
    segment search, starting from the segments their profiles lie in.

    Each move fixes every agent's segment (a run of pieces joined by concave kinks), solves the
    restricted aggregate equation exactly and checks the exact Nash gap; where it is above
    ``tol`` (relative) the agents whose best reply lies in another segment move there together
    if the weighted potential increases, otherwise only the one with the largest weighted gain
    (which increases it). Rows not certified after ``max_moves`` moves come back as NaN.
    """
    game = model.game
    seg_of = model.segments(pending)
    lo_p, hi_p = model.pieces.lo, model.pieces.hi
    up = model.upper[None, :]
    piece = _piece_index(actions[pending], lo_p)
    seg = np.take_along_axis(seg_of, piece[:, :, None], axis=2)[:, :, 0]
    near = model.kernel.total(actions[pending])  # where each row's next root is sought
    for _ in range(max_moves):
        if pending.size == 0:
            break
        sol = segment_root(model, pending, segment_bounds(seg_of, seg, lo_p, hi_p, up), near)
        g = exact_gains(game, sol, rates[pending], model.upper)
        bad = gap_too_large(g, game, sol, rates[pending], tol)
        actions[pending[~bad]] = sol[~bad]
        if not bad.any():
            pending = pending[:0]
            break
        keep = np.flatnonzero(bad)
        pending, seg_of, seg, sol, g = pending[keep], seg_of[keep], seg[keep], sol[keep], g[keep]
        target = _best_segments(game, model, sol, rates[pending], seg_of)
        utilities = game.society.apply_weights(batch_payoffs(game, sol, rates[pending]))
        movers = g > tol * np.maximum(1.0, np.abs(utilities).max(axis=1, keepdims=True))
        joint = np.where(movers, target, seg)
        near = model.kernel.total(sol)
        trial = segment_root(model, pending, segment_bounds(seg_of, joint, lo_p, hi_p, up), near)
        ok = model.potential_change(pending, sol, trial) > 0
        near = np.where(ok, model.kernel.total(trial), near)
        single = np.argmax(np.where(movers, g * model.weight[None, :], -1.0), axis=1)
        one = seg.copy()
        rows = np.arange(pending.size)
        one[rows, single] = target[rows, single]
        seg = np.where(ok[:, None], joint, one)
    actions[pending] = np.nan
    return actions
