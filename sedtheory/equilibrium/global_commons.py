r"""Exact equilibria of the global-commons game by a 1-D search on the aggregate.

The game is aggregative with strategic substitutes and has a weighted potential
(Monderer and Shapley 1996; Jensen 2010). The solver works on *segments*: maximal runs of tax
brackets joined by concave kinks, on which each agent's utility is concave in its own action.

1. For an aggregate ``A`` every agent has a *backward reply*: the actions ``x`` that are a
   best response to ``A - x``. Restricted to a segment it solves the first-order condition
   :math:`\sigma_i - c_i A - (\sigma_i/\theta_i) x - k_i\phi_b \in` (normal cone), whose
   solution is a clipped sum over the segment's brackets, non-increasing and piecewise
   linear in ``A``. The aggregate equation :math:`\sum_i x_i(A) = A` is strictly
   decreasing, so it has one root, found by safeguarded Newton steps (exact on each
   linear piece) with bisection.
2. Agents whose utility is not concave (a convex kink) start in the segment of their
   *largest* backward reply (a Tarski fixed point of ``x -> BR_i(A - x)``) at the root
   of the aggregate equation.
3. With every agent's segment fixed, the restricted game is a concave potential game and
   the root of step 1 is its exact equilibrium. If some agent's global best response lies
   in another segment, the agents move there; a move is accepted only if the potential
   increases (otherwise only the agent with the largest weighted gain moves, which
   increases it by construction). There are finitely many segment assignments and the
   potential strictly increases, so the loop ends at a profile where every agent's exact
   global best response is its own action: a pure Nash equilibrium.
"""

from __future__ import annotations

import numpy as np

from sedtheory.equilibrium.roots import AggregateSolution, aggregate_root
from sedtheory.equilibrium.segments import potential_change, potential_weights, segment_bounds, segment_ids
from sedtheory.equilibrium.solvers import SolverOutput
from sedtheory.games import CommonsGame
from sedtheory.games.commons.replies import best_replies, deviation_gain

__all__ = [
    "AggregateSolution",
    "improvement_path",
    "reply_caps",
    "restricted_equilibrium",
    "segment_replies",
    "segment_structure",
    "solve_global",
]


class _Restricted:
    """Backward replies of a set of agents, each restricted to ``[L_i, U_i]`` (one concave segment)."""

    def __init__(
        self, game: CommonsGame, lower: np.ndarray, upper: np.ndarray, idx: np.ndarray | None = None
    ):
        sel = slice(None) if idx is None else idx
        lo, hi, rate, _ = game.tax_pieces
        soc = game.society
        self.sigma = soc.selfishness[sel]
        self.m = (soc.selfishness / soc.productivity)[sel]
        self.c = game.own_damage_curvature[sel]
        self.lower = lower
        self.upper = upper
        k = game.own_tax_weight[sel]
        # One contiguous 1-D array per piece (P is small): no (n, P) temporaries per call.
        # Pieces of zero width for every agent (outside all their segments) contribute nothing.
        clipped = [
            (np.clip(a, lower, upper), np.clip(b, lower, upper), r)
            for a, b, r in zip(lo, hi, rate, strict=True)
        ]
        kept = [piece for piece in clipped if np.any(piece[1] > piece[0])] or clipped[:1]
        self.lo = [low for low, _, _ in kept]
        self.hi = [high for _, high, _ in kept]
        self.width = [high - low for low, high, _ in kept]
        self.kphi = [k * r for _, _, r in kept]
        pos = self.m > 0
        self.pos = pos
        self.all_pos = bool(pos.all())
        self.inv_m = np.divide(1.0, self.m, out=np.zeros_like(self.m), where=pos)
        self.c_inv_m = self.c * self.inv_m
        self.any_flat = bool(np.any(~pos & (sum(self.width) > 0)))
        mass = game.kernel.mass
        #: Population masses of these agents (None: all 1): the aggregate is sum_i m_i x_i.
        self.mass = None if mass is None else mass[sel]
        self.total_upper = float(upper.sum() if self.mass is None else upper @ self.mass)
        self._work: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def commit(self, side: str) -> None:
        """Bracket bookkeeping hook of :func:`_root` (nothing to keep here)."""

    def replies(self, agg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Smallest and largest backward replies at ``A = agg`` and their slopes ``dx_i/dA``."""
        size = self.sigma.size
        if self._work is None:
            # Scratch arrays reused across calls: at n = 1e6 fresh temporaries cost more in page
            # faults than the arithmetic. Only the returned arrays are allocated per call.
            self._work = (np.empty(size), np.empty(size), np.empty(size, bool), np.empty(size, bool))
        h, stat, inside, below = self._work
        np.multiply(self.c, -agg, out=h)
        h += self.sigma
        total = self.lower.copy()
        slope = np.zeros(size)
        extra_min = np.zeros(size) if self.any_flat else None
        extra_max = np.zeros(size) if self.any_flat else None
        for kphi, lo, hi, width in zip(self.kphi, self.lo, self.hi, self.width, strict=True):
            np.subtract(h, kphi, out=stat)
            if extra_min is not None and extra_max is not None:
                flat = ~self.pos
                extra_max += np.where(flat & (stat >= 0), width, 0.0)
                extra_min += np.where(flat & (stat > 0), width, 0.0)
            stat *= self.inv_m
            np.greater(stat, lo, out=inside)
            np.less(stat, hi, out=below)
            inside &= below
            np.maximum(stat, lo, out=stat)
            np.minimum(stat, hi, out=stat)
            stat -= lo
            if not self.all_pos:
                stat *= self.pos
                inside &= self.pos
            total += stat
            np.multiply(inside, self.c_inv_m, out=stat)
            slope -= stat
        # The telescoping sum of piece widths can exceed U_i by an ulp: keep x in [L_i, U_i].
        if extra_min is None or extra_max is None:
            x_min = np.minimum(total, self.upper, out=total)
            return x_min, x_min, slope
        x_max = np.minimum(total + extra_max, self.upper)
        return np.minimum(total + extra_min, self.upper), x_max, slope


def _segments(game: CommonsGame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment id of every (agent, piece), each agent's number of segments, non-concave agents."""
    seg_of_piece = segment_ids(game.own_tax_weight, game.tax_pieces[2])
    return seg_of_piece, seg_of_piece[:, -1] + 1, seg_of_piece[:, -1] > 0


def _segment_bounds(
    game: CommonsGame, seg_of_piece: np.ndarray, seg: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``[L_i, U_i]``: the span of segment ``seg_i`` of every agent, capped at ``upper_i``."""
    lo, hi, _, _ = game.tax_pieces
    return segment_bounds(seg_of_piece, seg, lo, hi, upper)


def segment_structure(game: CommonsGame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment id of every (agent, piece) ``(n, P)``, each agent's number of segments, and which
    agents are not concave in their own action (more than one segment)."""
    return _segments(game)


def reply_caps(game: CommonsGame) -> np.ndarray:
    """Each agent's largest relevant action (0 for agents that care about nobody, ``s_i = 0``)."""
    return np.where(game.society.weight_sums == 0, 0.0, game.reply_upper_bounds)


def segment_replies(
    game: CommonsGame, seg_of_piece: np.ndarray, seg: np.ndarray, upper: np.ndarray, idx: np.ndarray
) -> _Restricted:
    """Backward replies of the agents ``idx``, agent ``idx[m]`` restricted to its segment
    ``seg[m]``: ``.replies(A)`` gives their smallest and largest replies and slopes at the
    aggregate ``A`` (a scalar, or one aggregate per agent)."""
    lower_b, upper_b = _segment_bounds(game, seg_of_piece[idx], seg, upper[idx])
    return _Restricted(game, lower_b, upper_b, idx)


def restricted_equilibrium(
    game: CommonsGame, seg_of_piece: np.ndarray, seg: np.ndarray, upper: np.ndarray
) -> AggregateSolution:
    """The equilibrium of the game with every agent i restricted to its segment ``seg[i]`` (a
    concave potential game: the root of its aggregate equation is unique and exact)."""
    lower_b, upper_b = _segment_bounds(game, seg_of_piece, seg, upper)
    return aggregate_root(_Restricted(game, lower_b, upper_b))


def solve_global(game: CommonsGame, tol: float = 1e-10, max_switches: int = 10_000) -> SolverOutput:
    """Exact pure equilibrium of a global-commons game (see the module docstring)."""
    n = game.n
    seg_of_piece, n_segs, nonconcave = _segments(game)
    upper = reply_caps(game)
    details: dict[str, object] = {"nonconcave_agents": int(nonconcave.sum()), "segment_moves": 0}
    if not nonconcave.any():
        model = _Restricted(game, np.zeros(n), upper)
        sol = aggregate_root(model)
        return SolverOutput(sol.actions, sol.iterations, "aggregate-root", _ROOT_ARGUMENT, details)

    seg, sol = _initial_segments(game, seg_of_piece, n_segs, nonconcave, upper)
    weight = potential_weights(game.society.weight_sums, game.kernel.mass)
    rows = np.arange(n)

    def restricted(seg: np.ndarray) -> AggregateSolution:
        return restricted_equilibrium(game, seg_of_piece, seg, upper)

    iterations = sol.iterations
    verified: tuple[float, np.ndarray] | None = None
    # Without masses the potential rises at every move, so no assignment repeats. With masses a
    # move of all of an agent's members may lower it (the potential is that of the members' first-
    # order conditions), and the search can cycle: a repeated assignment ends it uncertified.
    seen: set[bytes] = set()
    for _ in range(max_switches):
        key = seg.tobytes()
        if key in seen:
            details["cycle"] = True
            break
        seen.add(key)
        a = sol.actions
        gains = game.deviation_gains(a)
        utilities = game.utilities(a)
        scale = max(1.0, float(np.max(np.abs(utilities))))
        movers = gains > tol * scale
        if not movers.any():
            # Hand the exact gap and utilities to the certificate instead of recomputing them.
            verified = (float(gains.max()), utilities)
            break
        alpha = game.reply_intercepts(a)
        _, piece = best_replies(alpha, game.own_curvature, game.own_tax_weight, *game.tax_pieces, upper)
        target = seg_of_piece[rows, piece]
        # Move the violators jointly if that raises the potential; otherwise back off to the
        # half with the largest weighted gains, and so on down to the single best agent,
        # whose move raises the potential by (n / s_i) * gain_i > 0.
        order = np.argsort(-np.where(movers, gains * weight, -1.0))
        count = int(movers.sum())
        while True:
            chosen = order[:count]
            joint = seg.copy()
            joint[chosen] = target[chosen]
            trial = restricted(joint)
            iterations += trial.iterations
            if count == 1 or potential_change(game.kernel, a, trial.actions, game.tax.rates) > 0:
                break
            count = max(1, count // 2)
        seg, sol = joint, trial
        details["segment_moves"] = int(details["segment_moves"]) + count  # type: ignore[call-overload]
    actions = sol.actions
    if verified is None and game.kernel.mass is None:  # the search cycled: an improvement path
        found = improvement_path(game, actions, weight, upper, tol)
        details["improvement_steps"] = found[2]
        if found[1] is not None:
            actions, verified = found[0], found[1]
    return SolverOutput(
        actions,
        iterations,
        "aggregate-root+segment-search",
        _ROOT_ARGUMENT + " and potential-increasing segment moves",
        details,
        verified_gap=None if verified is None else verified[0],
        verified_utilities=None if verified is None else verified[1],
    )


_ROOT_ARGUMENT = "root of the aggregate equation for concave segments"


class _Largest:
    """Concave agents' backward replies plus the largest consistent reply of the others.

    For a non-concave agent the consistent actions at aggregate ``A`` are the fixed points
    of the non-decreasing map ``x -> BR_i(A - x)`` (strategic substitutes), one candidate per
    segment; the largest is the Tarski fixed point, non-increasing in ``A``.
    """

    def __init__(
        self,
        game: CommonsGame,
        seg_of_piece: np.ndarray,
        n_segs: np.ndarray,
        nonconcave: np.ndarray,
        upper: np.ndarray,
    ) -> None:
        self.game = game
        self.idx = idx = np.flatnonzero(nonconcave)
        self.n_segs = n_segs[idx]
        self.upper_nc = upper[idx]
        self.sigma = game.society.selfishness[idx]
        self.c = game.own_damage_curvature[idx]
        self.k = game.own_tax_weight[idx]
        self.beta = game.own_curvature[idx]
        self.models = []
        for j in range(int(self.n_segs.max())):
            seg_j = np.minimum(np.full(idx.size, j), self.n_segs - 1)
            lb, ub = _segment_bounds(game, seg_of_piece[idx], seg_j, upper[idx])
            self.models.append(_Restricted(game, lb, ub, idx))
        self.base = _Restricted(game, np.zeros(game.n), np.where(nonconcave, 0.0, upper))
        self.mass = game.kernel.mass
        self.total_upper = float(game.kernel.total(upper))
        self.last_seg = np.zeros(idx.size, dtype=np.int64)
        # Segments of the largest replies at the ends of the root's bracket. The segment of
        # the largest reply is non-increasing in A, so where both ends agree it is constant
        # on the whole bracket and the agent's validity checks can be skipped.
        self.seg_lo: np.ndarray | None = None
        self.seg_hi: np.ndarray | None = None

    def commit(self, side: str) -> None:
        """The last evaluated aggregate became the bracket's ``side`` ("lo" or "hi") end."""
        if side == "lo":
            self.seg_lo = self.last_seg.copy()
        else:
            self.seg_hi = self.last_seg.copy()

    def _largest_valid(
        self, agg: float, outs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], sub: np.ndarray
    ) -> np.ndarray:
        """Segment of the largest consistent reply of the agents ``sub`` (fallback: least gain)."""
        game = self.game
        sigma, c, k, beta, upper = (
            self.sigma[sub],
            self.c[sub],
            self.k[sub],
            self.beta[sub],
            self.upper_nc[sub],
        )
        n_segs = self.n_segs[sub]
        best = np.full(sub.size, -np.inf)
        best_seg = np.zeros(sub.size, dtype=np.int64)
        fb_gain = np.full(sub.size, np.inf)
        fb_seg = np.zeros(sub.size, dtype=np.int64)
        for j, (_, x_all, _) in enumerate(outs):
            xj = x_all[sub]
            alpha = sigma - c * (agg - xj)
            xb, _ = best_replies(alpha, beta, k, *game.tax_pieces, upper)
            gain = deviation_gain(alpha, beta, k, xj, xb, np.asarray(game.tax(xj)), np.asarray(game.tax(xb)))
            scale = 1e-12 * max(1.0, float(np.max(np.abs(alpha), initial=0.0))) * max(1.0, float(np.max(xj)))
            exists = j < n_segs
            take = exists & (gain <= scale) & (xj > best)
            best = np.where(take, xj, best)
            best_seg = np.where(take, j, best_seg)
            better = exists & (gain < fb_gain)
            fb_gain = np.where(better, gain, fb_gain)
            fb_seg = np.where(better, j, fb_seg)
        return np.where(np.isinf(best), fb_seg, best_seg)

    def replies(self, agg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x_min, x_max, dx = self.base.replies(agg)
        outs = [model.replies(agg) for model in self.models]
        m = self.idx.size
        if self.seg_lo is not None and self.seg_hi is not None:
            seg = self.seg_lo.copy()
            active = np.flatnonzero(self.seg_lo != self.seg_hi)
        else:
            seg = np.zeros(m, dtype=np.int64)
            active = np.arange(m)
        if active.size:
            seg[active] = self._largest_valid(agg, outs, active)
        self.last_seg = seg
        picked = []
        for q in range(3):
            value = outs[0][q]
            for j in range(1, len(outs)):
                value = np.where(seg == j, outs[j][q], value)
            picked.append(value)
        if x_max is x_min:  # the base model's arrays are fresh; split the shared one only
            x_max = x_min.copy()
        x_min[self.idx], x_max[self.idx], dx[self.idx] = picked[0], picked[1], picked[2]
        return x_min, x_max, dx


def _initial_segments(
    game: CommonsGame,
    seg_of_piece: np.ndarray,
    n_segs: np.ndarray,
    nonconcave: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, AggregateSolution]:
    """Segments of the largest backward replies at the root of the aggregate equation.

    The root's profile is returned too: where the root is not on a jump it is already the
    equilibrium of the restricted game of those segments.
    """
    model = _Largest(game, seg_of_piece, n_segs, nonconcave, upper)
    # A root on a jump of the largest replies is only located to 1e-12: the segment search
    # that follows ends on an exact root of a restricted (continuous) aggregate equation.
    sol = aggregate_root(model, stop_width=1e-12)
    model.replies(sol.aggregate)
    seg = np.zeros(game.n, dtype=np.int64)
    seg[model.idx] = model.last_seg
    return seg, sol


def improvement_path(
    game: CommonsGame,
    a: np.ndarray,
    weight: np.ndarray,
    upper: np.ndarray,
    tol: float,
    max_steps: int = 5_000,
) -> tuple[np.ndarray, tuple[float, np.ndarray] | None, int]:
    r"""Exact best replies one agent at a time, the largest weighted gain first, from ``a``.

    Each step raises the weighted potential by :math:`(N/s_i)\,\mathrm{gain}_i > 0` (DESIGN
    section 3), so no profile repeats and the path ends at an equilibrium to ``tol`` (relative to
    the largest utility) when the potential is bounded - the fallback where the segment search
    cycles, e.g. identical agents without effort cost (:math:`\theta_i = \infty`), whose
    restricted root shares a jump between them. Returns the profile, ``(gap, utilities)`` when
    it is certified (else None) and the steps taken. Not for games with masses: moving all of an
    agent's members at once need not raise the potential, and such paths cycle (measured: a
    4-agent game ran into the step cap)."""
    a = np.array(a, dtype=float)
    for step in range(max_steps):
        gains = game.deviation_gains(a)
        utilities = game.utilities(a)
        if gains.max() <= tol * max(1.0, float(np.max(np.abs(utilities)))):
            return a, (float(gains.max()), utilities), step
        i = int(np.argmax(gains * weight))
        x, _ = best_replies(
            game.reply_intercepts(a), game.own_curvature, game.own_tax_weight, *game.tax_pieces, upper
        )
        a[i] = x[i]
    return a, None, max_steps
