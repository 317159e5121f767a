r"""Roots of the aggregate equation :math:`\sum_i x_i(A) = A`, for one profile or a batch of policies.

Every agent's backward reply :math:`x_i(A)` is non-increasing in the aggregate (strategic
substitutes), so :math:`g(A) = \sum_i x_i(A) - A` is decreasing with :math:`g(0) \ge 0` and its
root lies in :math:`[0, \sum_i x_i(0)]`. Both solvers keep that bracket and take Newton steps
(:func:`newton_step`, exact on every linear piece of the replies), falling back to a bracketing
step when Newton leaves the bracket or stops halving the residual: Illinois false position for one
profile (:func:`aggregate_root`, n up to millions), bisection for batches (:func:`aggregate_roots`,
vectorised over policies). Where the root sits on a jump of the replies (agents indifferent
between two harvests) the replies at the two ends of the collapsed bracket are mixed so that they
sum to :math:`A`.

References
----------
.. [1] M. Dowell, P. Jarratt, "A modified regula falsi method for computing the root of an
   equation", *BIT* 11 (1971) 168-174 (the Illinois method).
.. [2] M. K. Jensen, "Aggregative games and best-reply potentials", *Economic Theory* 43 (2010).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "AggregateSolution",
    "aggregate_root",
    "aggregate_roots",
    "bracket_jumps",
    "mix_ends",
    "newton_step",
    "totals",
]

_EPS = float(np.finfo(float).eps)


def newton_step(agg: Any, g: Any, slope: Any) -> Any:
    """The Newton step for ``g(A) = f(A) - A`` with ``f'(A) = slope``: ``A - g / (slope - 1)``."""
    return agg - g / (slope - 1.0)


class AggregateSolution:
    """Root of the aggregate equation for fixed segments."""

    def __init__(self, agg: float, actions: np.ndarray, iterations: int) -> None:
        self.aggregate = agg
        self.actions = actions
        self.iterations = iterations


def aggregate_root(
    model: Any,
    start: float | None = None,
    max_iter: int = 400,
    stop_width: float = 4 * _EPS,
) -> AggregateSolution:
    """Solve ``sum_i x_min_i(A) <= A <= sum_i x_max_i(A)`` and combine the two selections.

    The bracket ``[lo, hi]`` keeps ``sum x_max(lo) >= lo`` and ``sum x_min(hi) <= hi``.
    Newton steps are exact on each linear piece; a bisection step is taken whenever a
    Newton step leaves the bracket or the bracket stops halving. When the root sits on a
    jump (several agents indifferent at one aggregate) the bracket collapses to adjacent
    floats and the replies at its two ends are mixed so that they sum to ``A``.
    """
    total = totals(getattr(model, "mass", None))

    def tot(x: np.ndarray) -> float:
        return float(total(x))

    lo = 0.0
    _, x_lo, dx_lo = model.replies(lo)
    model.commit("lo")
    # The root A* = f(A*) <= f(0) because every reply is non-increasing in A.
    f_zero = tot(x_lo)
    hi = min(model.total_upper, f_zero)
    x_hi = model.replies(hi)[0]
    model.commit("hi")
    g_lo, g_hi = f_zero - lo, tot(x_hi) - hi  # >= 0 and <= 0
    if start is not None and 0 <= start <= hi:
        agg = float(start)
    else:
        # First Newton step from A = 0; the replies' slopes there are exact on its first piece.
        agg = min(hi, newton_step(0.0, f_zero, tot(dx_lo)))
    last_g = np.inf
    kept = 0  # +k: lo kept k times in a row, -k: hi kept k times (Illinois weighting)
    it = 0
    for it in range(1, max_iter + 1):
        x_min, x_max, dx = model.replies(agg)
        slope = tot(dx)
        f_min, f_max = tot(x_min), tot(x_max)
        tol = 1e-14 * max(1.0, agg)
        if f_min - agg > tol:
            lo, x_lo, g = agg, x_max, f_min - agg
            g_lo = g
            model.commit("lo")
            kept = min(kept, 0) - 1
        elif f_max - agg < -tol:
            hi, x_hi, g = agg, x_min, f_max - agg
            g_hi = g
            model.commit("hi")
            kept = max(kept, 0) + 1
        else:
            if f_max > f_min:
                lam = min(1.0, max(0.0, (agg - f_min) / (f_max - f_min)))
                mixed = np.minimum((1.0 - lam) * x_min + lam * x_max, x_max)
                return AggregateSolution(agg, mixed, it)
            return AggregateSolution(agg, x_min, it)
        if hi - lo <= stop_width * max(1.0, hi):
            break
        step = newton_step(agg, g, slope)
        # Newton is exact on a linear piece. When it leaves the bracket or the residual did not
        # at least halve (kinks or many small jumps in between, where the local slope misses
        # the jumps), take an Illinois false-position step, which uses the bracket's secant
        # slope; bisect if that is degenerate.
        if not lo < step < hi or abs(g) > 0.9 * last_g:
            wl = g_lo * (0.5 ** max(kept - 1, 0)) if kept > 1 else g_lo
            wh = g_hi * (0.5 ** max(-kept - 1, 0)) if kept < -1 else g_hi
            step = lo + wl * (hi - lo) / (wl - wh) if wl - wh > 0 else 0.5 * (lo + hi)
            if not lo < step < hi:
                step = 0.5 * (lo + hi)
        last_g = abs(g)
        agg = step
    f_lo, f_hi = tot(x_lo), tot(x_hi)
    agg = 0.5 * (lo + hi)
    lam = min(1.0, max(0.0, (agg - f_hi) / (f_lo - f_hi))) if f_lo > f_hi else 0.0
    mixed = (1.0 - lam) * x_hi + lam * x_lo
    return AggregateSolution(agg, np.clip(mixed, np.minimum(x_lo, x_hi), np.maximum(x_lo, x_hi)), it)


def aggregate_roots(
    replies: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    m: int,
    n: int,
    stop_width: float,
    max_iter: int = 300,
    jumps: Callable[[np.ndarray], np.ndarray] | None = None,
    mass: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``sum_i m_i x_i(A) = A`` (``mass`` ``m``, default all 1) for every row (``x``
    non-increasing in A); returns (profiles, exact).

    ``jumps(rows)``, if given, lists known aggregates where the replies jump; the bracket is
    first narrowed to the jump-free interval (or the single jump) that holds the root.

    ``exact`` marks rows whose root was found with residual at rounding level; other rows
    ended on a jump (bracket narrower than ``stop_width`` relative) and their profile mixes
    the replies at the two ends of the bracket so that it sums to ``A``.
    """
    tot = totals(mass)
    rows = np.arange(m)
    lo = np.zeros(m)
    x_lo, d0 = replies(rows, lo)
    f0 = tot(x_lo)
    hi = f0.copy()
    x_hi, _ = replies(rows, hi)
    agg = np.minimum(hi, newton_step(0.0, f0, tot(d0)))
    if jumps is not None:
        bracket_jumps(replies, jumps(rows), lo, hi, x_lo, x_hi, mass)
        agg = np.where((lo < agg) & (agg < hi), agg, 0.5 * (lo + hi))
    done = f0 <= 0
    exact = done.copy()
    result = np.where(done[:, None], x_lo, 0.0)
    last = np.full(m, np.inf)
    for _ in range(max_iter):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        a = agg[active]
        xs, ds = replies(active, a)
        g = tot(xs) - a
        root = np.abs(g) <= 1e-13 * np.maximum(1.0, a)
        up = (g > 0) & ~root
        down = (g < 0) & ~root
        lo[active] = np.where(up, a, lo[active])
        hi[active] = np.where(down, a, hi[active])
        x_lo[active] = np.where(up[:, None], xs, x_lo[active])
        x_hi[active] = np.where(down[:, None], xs, x_hi[active])
        lo_a, hi_a = lo[active], hi[active]
        collapsed = ~root & (hi_a - lo_a <= stop_width * np.maximum(1.0, hi_a))
        finished = root | collapsed
        if collapsed.any():
            mixed = mix_ends(x_lo[active], x_hi[active], 0.5 * (lo_a + hi_a), tot)
            xs = np.where(collapsed[:, None], mixed, xs)
        result[active[finished]] = xs[finished]
        exact[active[root]] = True
        done[active[finished]] = True
        step = newton_step(a, g, tot(ds))
        bad = ~((lo_a < step) & (step < hi_a)) | (np.abs(g) > 0.9 * last[active])
        step = np.where(bad, 0.5 * (lo_a + hi_a), step)
        last[active] = np.abs(g)
        agg[active] = step
    rest = ~done
    if rest.any():
        result[rest] = 0.5 * (x_lo[rest] + x_hi[rest])
    return result, exact


def bracket_jumps(
    replies: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    points: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    x_lo: np.ndarray,
    x_hi: np.ndarray,
    mass: np.ndarray | None = None,
) -> None:
    """Narrow every row's bracket in place to the jump-free interval (or the single jump) that
    holds the root, by bisection over the row's sorted jumps inside ``(lo, hi)``.

    ``g(A) = sum_i x_i(A) - A`` is decreasing, so one evaluation just after a jump says on which
    side of it the root lies, and ``log2(J)`` steps (two evaluations per row each, vectorised over
    rows) replace evaluating all ``J`` jumps (``J ~ n`` made that quadratic in n: minutes at
    n = 1e5). The two points of a step sit ``1e-13`` (relative) either side of the jump, so that
    rounding in the jump's location cannot put both on one side.
    """
    with np.errstate(invalid="ignore"):
        inside = (points > lo[:, None]) & (points < hi[:, None])
    left = np.zeros(lo.size, dtype=np.int64)
    right = inside.sum(axis=1)
    if not right.any():
        return
    cand = np.sort(np.where(inside, points, np.inf), axis=1)
    rows = np.flatnonzero(right > left)
    while rows.size:
        mid = (left[rows] + right[rows]) // 2
        at = cand[rows, mid]
        delta = 1e-13 * np.maximum(1.0, np.abs(at))
        owner = np.concatenate([rows, rows])
        where = np.clip(np.concatenate([at - delta, at + delta]), lo[owner], hi[owner])
        xs, _ = replies(owner, where)
        g = totals(mass)(xs) - where
        _narrow(owner, where, xs, g, lo, hi, x_lo, x_hi)
        k = rows.size
        above = g[k:] >= 0  # the root lies after this jump
        below = g[:k] < 0  # ... before it
        left[rows] = np.where(above, mid + 1, np.where(below, left[rows], right[rows]))
        right[rows] = np.where(below & ~above, mid, right[rows])
        rows = rows[left[rows] < right[rows]]


def totals(mass: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
    """Totals ``sum_i m_i x_i`` over the last axis of ``(n,)`` or ``(rows, n)`` arrays (plain sums
    without masses)."""
    if mass is None:
        return lambda x: x.sum(axis=-1)
    return lambda x: x @ mass


def mix_ends(
    x_lo: np.ndarray, x_hi: np.ndarray, agg: np.ndarray, tot: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Profiles ``(rows, n)`` mixing the replies at the two ends of collapsed brackets (``x_lo``
    at the lower end, ``x_hi`` at the upper) so that their totals ``tot`` are ``agg``: where a root
    sits on a jump, the jumping agents share the difference."""
    f_lo, f_hi = tot(x_lo), tot(x_hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.clip(np.where(f_lo > f_hi, (agg - f_hi) / (f_lo - f_hi), 0.0), 0.0, 1.0)
    return np.asarray(x_hi + lam[:, None] * (x_lo - x_hi))


def _narrow(
    owner: np.ndarray,
    where: np.ndarray,
    xs: np.ndarray,
    g: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    x_lo: np.ndarray,
    x_hi: np.ndarray,
) -> None:
    """Move each row's ``lo`` (``g >= 0``) and ``hi`` (``g < 0``) to its best evaluated point."""
    for side, bound, x_bound, better in ((g >= 0, lo, x_lo, np.greater), (g < 0, hi, x_hi, np.less)):
        own, val, x = owner[side], where[side], xs[side]
        if own.size == 0:
            continue
        order = np.lexsort((val if better is np.greater else -val, own))
        last = np.r_[own[order][1:] != own[order][:-1], True]
        pick = order[last]
        move = better(val[pick], bound[own[pick]])
        bound[own[pick][move]] = val[pick][move]
        x_bound[own[pick][move]] = x[pick][move]
