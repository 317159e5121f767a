r"""Exact equilibria of the global-commons game by a 1-D search on the aggregate.

The game is aggregative with strategic substitutes and has a weighted potential
(DESIGN.md section 3). The solver works on *segments*: maximal runs of tax brackets
joined by concave kinks, on which each agent's utility is concave in its own action.

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

from sedtheory._replies import best_replies
from sedtheory.game import CommonsGame

__all__ = ["AggregateSolution", "solve_global"]

_EPS = np.finfo(float).eps


class _Restricted:
    """Backward replies of every agent restricted to ``[L_i, U_i]`` (one concave segment)."""

    def __init__(self, game: CommonsGame, lower: np.ndarray, upper: np.ndarray) -> None:
        lo, hi, rate, _ = game._pieces
        soc = game.society
        self.sigma = soc.selfishness
        self.m = soc.selfishness / soc.productivity
        self.c = game.own_damage_curvature
        self.lower = lower
        self.upper = upper
        self.kphi = game.own_tax_weight[:, None] * rate[None, :]
        self.lo = np.clip(lo[None, :], lower[:, None], upper[:, None])
        self.hi = np.clip(hi[None, :], lower[:, None], upper[:, None])
        self.width = self.hi - self.lo
        pos = self.m > 0
        self.pos = pos[:, None]
        self.inv_m = np.divide(1.0, self.m, out=np.zeros_like(self.m), where=pos)[:, None]
        self.any_flat = bool(np.any(~pos & (self.width.sum(axis=1) > 0)))
        self.total_upper = float(upper.sum())

    def replies(self, agg: float, need_bounds: bool = True) -> tuple[np.ndarray, np.ndarray, float]:
        """Smallest and largest backward replies at ``A = agg`` and ``d(sum x)/dA``."""
        h = (self.sigma - self.c * agg)[:, None]
        gap = h - self.kphi
        stat = gap * self.inv_m
        inside = self.pos & (stat > self.lo) & (stat < self.hi)
        t = np.where(self.pos, np.minimum(np.maximum(stat, self.lo), self.hi) - self.lo, 0.0)
        slope = -float(np.sum(np.where(inside, (self.c[:, None] * self.inv_m), 0.0)))
        # The telescoping sum of piece widths can exceed U_i by an ulp: keep x in [L_i, U_i].
        x_min = np.minimum(self.lower + t.sum(axis=1), self.upper)
        if not self.any_flat:
            return x_min, x_min, slope
        flat = ~self.pos
        x_max = np.minimum(x_min + np.sum(np.where(flat & (gap >= 0), self.width, 0.0), axis=1), self.upper)
        x_min = np.minimum(x_min + np.sum(np.where(flat & (gap > 0), self.width, 0.0), axis=1), self.upper)
        return x_min, x_max, slope


class AggregateSolution:
    """Root of the aggregate equation for fixed segments."""

    def __init__(self, agg: float, actions: np.ndarray, iterations: int) -> None:
        self.aggregate = agg
        self.actions = actions
        self.iterations = iterations


def _root(model: _Restricted, start: float | None = None, max_iter: int = 400) -> AggregateSolution:
    """Solve ``sum_i x_min_i(A) <= A <= sum_i x_max_i(A)`` and combine the two selections.

    The bracket ``[lo, hi]`` keeps ``sum x_max(lo) >= lo`` and ``sum x_min(hi) <= hi``.
    Newton steps are exact on each linear piece; a bisection step is taken whenever a
    Newton step leaves the bracket or the bracket stops halving. When the root sits on a
    jump (several agents indifferent at one aggregate) the bracket collapses to adjacent
    floats and the replies at its two ends are mixed so that they sum to ``A``.
    """
    lo, hi = 0.0, model.total_upper
    x_lo = model.replies(lo)[1]
    x_hi = model.replies(hi)[0]
    agg = 0.5 * (lo + hi) if start is None or not 0 <= start <= hi else float(start)
    sizes = [np.inf, np.inf]
    it = 0
    for it in range(1, max_iter + 1):
        x_min, x_max, slope = model.replies(agg)
        f_min, f_max = float(x_min.sum()), float(x_max.sum())
        tol = 1e-14 * max(1.0, agg)
        if f_min - agg > tol:
            lo, x_lo, g = agg, x_max, f_min - agg
        elif f_max - agg < -tol:
            hi, x_hi, g = agg, x_min, f_max - agg
        else:
            if f_max > f_min:
                lam = min(1.0, max(0.0, (agg - f_min) / (f_max - f_min)))
                mixed = np.minimum((1.0 - lam) * x_min + lam * x_max, x_max)
                return AggregateSolution(agg, mixed, it)
            return AggregateSolution(agg, x_min, it)
        size = hi - lo
        if size <= 4 * _EPS * max(1.0, hi):
            break
        step = agg - g / (slope - 1.0)
        if not lo < step < hi or size > 0.5 * sizes[-2]:
            step = 0.5 * (lo + hi)
        sizes.append(size)
        agg = step
    f_lo, f_hi = float(x_lo.sum()), float(x_hi.sum())
    agg = 0.5 * (lo + hi)
    lam = min(1.0, max(0.0, (agg - f_hi) / (f_lo - f_hi))) if f_lo > f_hi else 0.0
    mixed = (1.0 - lam) * x_hi + lam * x_lo
    return AggregateSolution(agg, np.clip(mixed, np.minimum(x_lo, x_hi), np.maximum(x_lo, x_hi)), it)


def _segments(game: CommonsGame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment id of every (agent, piece), and each agent's number of segments."""
    rate = game._pieces[2]
    convex = game.own_tax_weight[:, None] * np.diff(rate)[None, :] < 0
    seg_of_piece = np.concatenate([np.zeros((game.n, 1), dtype=np.int64), np.cumsum(convex, axis=1)], axis=1)
    return seg_of_piece, seg_of_piece[:, -1] + 1, convex.any(axis=1)


def _segment_bounds(
    game: CommonsGame, seg_of_piece: np.ndarray, seg: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``[L_i, U_i]``: the span of segment ``seg_i`` of every agent, capped at ``upper_i``."""
    lo, hi, _, _ = game._pieces
    member = seg_of_piece == seg[:, None]
    first = np.argmax(member, axis=1)
    last = member.shape[1] - 1 - np.argmax(member[:, ::-1], axis=1)
    upper_b = np.minimum(hi[last], upper)
    return np.minimum(lo[first], upper_b), upper_b


def _potential_change(game: CommonsGame, a: np.ndarray, b: np.ndarray) -> float:
    """``Phi(b) - Phi(a)`` in factored form (no cancellation between large totals)."""
    soc = game.society
    s = soc.weight_sums
    scale = np.divide(game.n, s, out=np.zeros(game.n), where=s > 0)
    d = b - a
    own = d * soc.selfishness * (1.0 - 0.5 * (a + b) / soc.productivity) - game.own_tax_weight * (
        np.asarray(game.tax(b)) - np.asarray(game.tax(a))
    )
    da, sa = float(d.sum()), float(a.sum() + b.sum())
    return float(np.dot(scale, own)) - 0.5 * game.damage * da * sa


def solve_global(
    game: CommonsGame, tol: float = 1e-10, max_switches: int = 10_000
) -> tuple[np.ndarray, int, str, dict[str, object]]:
    """Exact pure equilibrium of a global-commons game (see the module docstring).

    Returns
    -------
    actions, iterations, method, details
    """
    n = game.n
    seg_of_piece, n_segs, nonconcave = _segments(game)
    indifferent = game.society.weight_sums == 0
    upper = np.where(indifferent, 0.0, game.reply_upper_bounds)
    details: dict[str, object] = {"nonconcave_agents": int(nonconcave.sum()), "segment_moves": 0}
    if not nonconcave.any():
        model = _Restricted(game, np.zeros(n), upper)
        sol = _root(model)
        return sol.actions, sol.iterations, "aggregate-root", details

    seg = _initial_segments(game, seg_of_piece, n_segs, nonconcave, upper)
    weight = np.divide(n, game.society.weight_sums, out=np.zeros(n), where=~indifferent)
    rows = np.arange(n)

    def restricted(seg: np.ndarray) -> AggregateSolution:
        lower_b, upper_b = _segment_bounds(game, seg_of_piece, seg, upper)
        return _root(_Restricted(game, lower_b, upper_b))

    sol = restricted(seg)
    iterations = sol.iterations
    for _ in range(max_switches):
        a = sol.actions
        gains = game.deviation_gains(a)
        scale = max(1.0, float(np.max(np.abs(game.utilities(a)))))
        movers = gains > tol * scale
        if not movers.any():
            break
        alpha = game.reply_intercepts(a)
        _, piece = best_replies(alpha, game.own_curvature, game.own_tax_weight, *game._pieces, upper)
        target = seg_of_piece[rows, piece]
        joint = np.where(movers, target, seg)
        trial = restricted(joint)
        iterations += trial.iterations
        if _potential_change(game, a, trial.actions) > 0:
            seg, sol = joint, trial
            details["segment_moves"] = int(details["segment_moves"]) + int(movers.sum())  # type: ignore[call-overload]
        else:
            # The joint move did not raise the potential: move only the agent with the
            # largest weighted gain, which raises it by (n / s_i) * gain_i > 0.
            i = int(np.argmax(np.where(movers, gains * weight, -1.0)))
            seg = seg.copy()
            seg[i] = target[i]
            sol = restricted(seg)
            iterations += sol.iterations
            details["segment_moves"] = int(details["segment_moves"]) + 1  # type: ignore[call-overload]
    return sol.actions, iterations, "aggregate-root+segment-search", details


def _initial_segments(
    game: CommonsGame,
    seg_of_piece: np.ndarray,
    n_segs: np.ndarray,
    nonconcave: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """Segments of the largest backward replies at the root of the aggregate equation."""
    n = game.n
    idx = np.flatnonzero(nonconcave)
    max_seg = int(n_segs.max())
    # Restricted models of every non-concave agent in each of its segments.
    models = []
    for j in range(max_seg):
        seg_j = np.minimum(np.full(idx.size, j), n_segs[idx] - 1)
        lb, ub = _segment_bounds(game, seg_of_piece[idx], seg_j, upper[idx])
        models.append(_Restricted(_SubGame(game, idx), lb, ub))  # type: ignore[arg-type]
    conc = ~nonconcave
    base_model = _Restricted(game, np.zeros(n), np.where(conc, upper, 0.0))
    sub = _SubGame(game, idx)

    def largest(agg: float) -> tuple[float, np.ndarray, float]:
        x_min, x_max, slope = base_model.replies(agg)
        best = np.full(idx.size, -np.inf)
        best_seg = np.zeros(idx.size, dtype=np.int64)
        fallback_gain = np.full(idx.size, np.inf)
        fallback = np.zeros(idx.size)
        fallback_seg = np.zeros(idx.size, dtype=np.int64)
        for j, model in enumerate(models):
            _, xj, _ = model.replies(agg)
            alpha = sub.sigma - sub.c * (agg - xj)
            xb, _ = best_replies(alpha, sub.beta, sub.k, *game._pieces, upper[idx])
            gain = (xb - xj) * (alpha - 0.5 * sub.beta * (xb + xj)) - sub.k * (
                np.asarray(game.tax(xb)) - np.asarray(game.tax(xj))
            )
            scale = 1e-12 * max(1.0, float(np.max(np.abs(alpha))) * max(1.0, float(np.max(xj))))
            valid = (gain <= scale) & (j < n_segs[idx])
            take = valid & (xj > best)
            best = np.where(take, xj, best)
            best_seg = np.where(take, j, best_seg)
            better = (j < n_segs[idx]) & (gain < fallback_gain)
            fallback_gain = np.where(better, gain, fallback_gain)
            fallback = np.where(better, xj, fallback)
            fallback_seg = np.where(better, j, fallback_seg)
        none = np.isinf(best)
        best = np.where(none, fallback, best)
        best_seg = np.where(none, fallback_seg, best_seg)
        return float(x_max.sum() + best.sum()), best_seg, slope

    lo, hi = 0.0, float(upper.sum())
    seg_nc = np.zeros(idx.size, dtype=np.int64)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        total, seg_nc, _ = largest(mid)
        if total >= mid:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-9 * max(1.0, hi):
            break
    seg = np.zeros(n, dtype=np.int64)
    seg[idx] = seg_nc
    return seg


class _SubGame:
    """The parameters of a subset of agents, shaped like a game for `_Restricted`."""

    def __init__(self, game: CommonsGame, idx: np.ndarray) -> None:
        soc = game.society
        self.sigma = soc.selfishness[idx]
        self.c = game.own_damage_curvature[idx]
        self.k = game.own_tax_weight[idx]
        self.beta = game.own_curvature[idx]
        self._pieces = game._pieces
        self.society = _SubSociety(soc.selfishness[idx], soc.productivity[idx])
        self.own_damage_curvature = self.c
        self.own_tax_weight = self.k
        self.n = idx.size


class _SubSociety:
    def __init__(self, sigma: np.ndarray, theta: np.ndarray) -> None:
        self.selfishness = sigma
        self.productivity = theta
