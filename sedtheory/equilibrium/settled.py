r"""Roots of the aggregate equation that stop evaluating the agents a bracket has settled.

:func:`settled_roots` solves :math:`\sum_i m_i x_i(A) = A` for every row (policy) like
:func:`~sedtheory.equilibrium.roots.aggregate_roots`, for replies that are non-increasing in the
aggregate, but it carries a bracket's *settled* agents as one affine function per row and
evaluates only the others. In a society of :math:`10^5` agents a bracket of relative width
:math:`10^{-3}` leaves a few hundred unsettled, so the iterations after the first few cost almost
nothing and every root is solved to the last float: the profile does not depend on the path the
iterations took (on a jump, the bracket collapses onto the jump itself).

Notes
-----
Let :math:`x_i` be non-increasing and, on each piece :math:`b` of agent :math:`i`'s tax, affine
where it is interior (:math:`x_i(A) = (h_{ib} - c_i A)/\mu_i`) and constant where it is clipped.
If at both ends of a bracket :math:`[l, h]` either :math:`x_i(l) = x_i(h)`, or :math:`x_i` is
interior to the same piece at both, then for every :math:`A \in [l, h]`

.. math:: x_i(h) \le x_i(A) \le x_i(l),

so :math:`x_i(A)` lies in that piece's interior (or equals the common value) and, being the
piece's unique consistent point there, is :math:`x_i(l) + x_i'(l)(A - l)`. The agent is
*settled*: its reply is affine on every later (narrower) bracket and is never evaluated again.
The reply callback returns each agent's regime (its piece) beside its value and slope.

Steps are Newton's (exact where the unsettled replies are linear); where Newton leaves the
bracket or the residual does not halve, an Illinois false-position step [1]_ (which sees the
jumps through the bracket's secant), or bisection.

References
----------
.. [1] M. Dowell, P. Jarratt, "A modified regula falsi method for computing the root of an
   equation", *BIT* 11 (1971) 168-174.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sedtheory.equilibrium.roots import mix_ends, newton_step, totals

__all__ = ["SETTLE_FROM", "Part", "Replies", "settled_roots"]

#: Agents from which each row is solved on its own with its settled agents left out (below, the
#: rows are solved together and every agent is evaluated: there the per-row work is small).
SETTLE_FROM = 2_000

#: Replies, slopes in the aggregate and regimes, each ``(len(rows), len(agents))``.
Replies = tuple[np.ndarray, np.ndarray, np.ndarray]

#: ``part(rows, aggregates, agents)`` -> the :data:`Replies` of the agents ``agents`` (every
#: agent with None) at one aggregate per row.
Part = Callable[[np.ndarray, np.ndarray, np.ndarray | None], Replies]


class _End:
    """One end (``lo`` or ``hi``) of every row's bracket: where it is, ``g`` there, whether it was
    evaluated, and the unsettled agents' replies, slopes and regimes there."""

    def __init__(self, m: int, n: int, at: float) -> None:
        self.at, self.g, self.have = np.full(m, at), np.zeros(m), np.zeros(m, dtype=bool)
        self.x, self.d = np.zeros((m, n)), np.zeros((m, n))
        self.r = np.zeros((m, n), dtype=np.int64)

    def move(self, rows: np.ndarray, agg: np.ndarray, vals: Replies, g: np.ndarray) -> None:
        self.at[rows], self.g[rows], self.have[rows] = agg, g, True
        self.x[rows], self.d[rows], self.r[rows] = vals

    def keep(self, cols: np.ndarray) -> None:
        self.x, self.d, self.r = self.x[:, cols], self.d[:, cols], self.r[:, cols]


class _Bracket:
    """Per-row brackets, the unsettled agents' replies at their ends and the settled agents' affine
    sums (the unsettled agents are one union over the rows still running)."""

    def __init__(self, part: Part, m: int, n: int, mass: np.ndarray | None) -> None:
        self.part, self.n = part, n
        mass = None if mass is None else np.asarray(mass, dtype=float)
        self.w = np.ones(n) if mass is None else mass
        #: ``sum_j m_j x_j`` per row (a plain sum without masses)
        self.total = totals(mass)
        self.agents = np.arange(n)  # unsettled (the columns of the ends' arrays)
        self.low, self.high = _End(m, n, 0.0), _End(m, n, np.inf)
        self.kept = np.zeros(m, dtype=np.int64)  # Illinois: +k hi moved k times in a row, -k lo
        self.b, self.s = np.zeros((m, n)), np.zeros((m, n))  # settled: x_j(A) = b_j + s_j A
        self.c0, self.c1 = np.zeros(m), np.zeros(m)  # sum_j m_j b_j and sum_j m_j s_j (settled)

    @property
    def lo(self) -> np.ndarray:
        return self.low.at

    @property
    def hi(self) -> np.ndarray:
        return self.high.at

    def evaluate(self, rows: np.ndarray, agg: np.ndarray) -> tuple[Replies, np.ndarray, np.ndarray]:
        """Unsettled replies, slopes and regimes at ``agg``, ``g(A)`` and ``g'(A) + 1``."""
        every = self.agents.size == self.n
        x, d, r = self.part(rows, agg, None if every else self.agents)
        if every:  # the plain totals: each row's sum does not depend on the others
            f, slope = self.total(x), self.total(d)
        else:
            w = self.w[self.agents]
            f, slope = x @ w + self.c0[rows] + self.c1[rows] * agg, d @ w + self.c1[rows]
        return (x, d, r), f - agg, slope

    def record(self, rows: np.ndarray, agg: np.ndarray, vals: Replies, g: np.ndarray) -> None:
        """Move each row's ``lo`` (``g > 0``) or ``hi`` (``g <= 0``) to ``agg``."""
        up = g > 0
        for end, mask in ((self.low, up), (self.high, ~up)):
            if mask.any():
                end.move(rows[mask], agg[mask], (vals[0][mask], vals[1][mask], vals[2][mask]), g[mask])
        self.kept[rows] = np.where(up, np.minimum(self.kept[rows], 0) - 1, np.maximum(self.kept[rows], 0) + 1)

    def settle(self, rows: np.ndarray) -> None:
        """Fold the agents settled in every row of ``rows`` (all bracketed) into the affine sums."""
        if rows.size == 0 or self.agents.size == 0 or not np.all(self.low.have[rows] & self.high.have[rows]):
            return
        x_lo, x_hi, d_lo = self.low.x[rows], self.high.x[rows], self.low.d[rows]
        same = self.low.r[rows] == self.high.r[rows]
        inside = same & (d_lo != 0) & (self.high.d[rows] != 0)
        leave = ((x_lo == x_hi) | inside).all(axis=0)
        if not leave.any():
            return
        cols = np.flatnonzero(leave)
        slope = np.where(inside[:, cols] & (x_lo[:, cols] != x_hi[:, cols]), d_lo[:, cols], 0.0)
        icpt = x_lo[:, cols] - slope * self.lo[rows, None]
        ids = self.agents[cols]
        self.b[np.ix_(rows, ids)], self.s[np.ix_(rows, ids)] = icpt, slope
        self.c0[rows] += icpt @ self.w[ids]
        self.c1[rows] += slope @ self.w[ids]
        keep = np.flatnonzero(~leave)
        self.agents = self.agents[keep]
        self.low.keep(keep)
        self.high.keep(keep)

    def profile(self, rows: np.ndarray, agg: np.ndarray, unsettled: np.ndarray) -> np.ndarray:
        """Whole profiles ``(len(rows), n)``: the settled agents' affine replies at ``agg`` and the
        unsettled agents' ``unsettled``."""
        full = self.b[rows] + self.s[rows] * agg[:, None]
        full[:, self.agents] = unsettled
        return full

    def collapsed(self, rows: np.ndarray) -> np.ndarray:
        """Profiles of rows whose bracket collapsed onto a jump: the replies at its two ends mixed so
        that they sum to its midpoint."""
        lo, hi = self.lo[rows], self.hi[rows]
        x_lo = self.profile(rows, lo, self.low.x[rows])
        x_hi = self.profile(rows, hi, self.high.x[rows])
        return mix_ends(x_lo, x_hi, 0.5 * (lo + hi), self.total)

    def step(
        self, rows: np.ndarray, agg: np.ndarray, g: np.ndarray, slope: np.ndarray, last: np.ndarray
    ) -> np.ndarray:
        """Newton where it stays in the bracket and halves the residual, else Illinois false
        position, else bisection."""
        lo, hi = self.lo[rows], self.hi[rows]
        newton = newton_step(agg, g, slope)
        kept = self.kept[rows]
        g_lo, g_hi = self.low.g[rows], self.high.g[rows]
        wl = np.where(kept > 1, g_lo * 0.5 ** np.maximum(kept - 1, 0), g_lo)
        wh = np.where(kept < -1, g_hi * 0.5 ** np.maximum(-kept - 1, 0), g_hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = np.where(wl - wh > 0, lo + wl * (hi - lo) / (wl - wh), np.nan)
        mid = 0.5 * (lo + hi)
        secant = np.where((lo < secant) & (secant < hi), secant, mid)
        good = (lo < newton) & (newton < hi) & (np.abs(g) <= 0.5 * last)
        return np.where(good, newton, secant)


def settled_roots(
    part: Part,
    m: int,
    n: int,
    stop_width: float = 1e-12,
    mass: np.ndarray | None = None,
    hint: np.ndarray | None = None,
    max_iter: int = 400,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``sum_i m_i x_i(A) = A`` for every row (``part``'s replies non-increasing in A);
    returns ``(profiles (m, n), exact (m,))``.

    ``hint`` ``(m, 2)``: a guess ``[low, high]`` of each row's root (both ends are checked and
    widened until they bracket it); without it the bracket starts at ``[0, f(0)]``. The result
    does not depend on the hint beyond rounding. ``exact`` marks rows whose residual is at
    rounding level; the others' brackets collapsed (to ``stop_width`` relative) onto a jump of the
    replies, and their profile mixes the replies at the two ends so that it sums to ``A``.

    From :data:`SETTLE_FROM` agents each row is solved on its own with its settled agents left
    out; below, all rows at once with every agent evaluated. Either way a row's result does not
    depend on the other rows of the batch, to the last bit.
    """
    if n < SETTLE_FROM or m == 0:
        return _solve(part, m, n, stop_width, mass, hint, max_iter, settle=False)
    profiles, exact = np.zeros((m, n)), np.zeros(m, dtype=bool)
    for row in range(m):
        guess = None if hint is None else hint[row : row + 1]
        p, e = _solve(_one_row(part, row), 1, n, stop_width, mass, guess, max_iter, settle=True)
        profiles[row], exact[row] = p[0], e[0]
    return profiles, exact


def _one_row(part: Part, row: int) -> Part:
    """``part`` of the one row ``row`` (called with ``rows = [0]``)."""

    def one(rows: np.ndarray, agg: np.ndarray, agents: np.ndarray | None) -> Replies:
        return part(np.full(rows.size, row), agg, agents)

    return one


def _solve(
    part: Part,
    m: int,
    n: int,
    stop_width: float,
    mass: np.ndarray | None,
    hint: np.ndarray | None,
    max_iter: int,
    settle: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`settled_roots` of the rows together (settled agents left out only with ``settle``)."""
    br = _Bracket(part, m, n, mass)
    result, exact, done = np.zeros((m, n)), np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    agg = _start(br, m, hint, result, exact, done)
    last = np.full(m, np.inf)
    for _ in range(max_iter):
        rows = np.flatnonzero(~done)
        if rows.size == 0:
            break
        if settle:
            br.settle(rows)
        a = agg[rows]
        vals, g, slope = br.evaluate(rows, a)
        root = np.abs(g) <= 1e-13 * np.maximum(1.0, a)
        if root.any():
            result[rows[root]] = br.profile(rows[root], a[root], vals[0][root])
            exact[rows[root]] = done[rows[root]] = True
        live = ~root
        br.record(rows[live], a[live], (vals[0][live], vals[1][live], vals[2][live]), g[live])
        rows, a, g, slope = rows[live], a[live], g[live], slope[live]
        closed = br.hi[rows] - br.lo[rows] <= stop_width * np.maximum(1.0, br.hi[rows])
        if closed.any():
            result[rows[closed]] = br.collapsed(rows[closed])
            done[rows[closed]] = True
        rows, a, g, slope = rows[~closed], a[~closed], g[~closed], slope[~closed]
        agg[rows] = br.step(rows, a, g, slope, last[rows])
        last[rows] = np.abs(g)
    rest = np.flatnonzero(~done)
    if rest.size:
        low = br.profile(rest, br.lo[rest], br.low.x[rest])
        result[rest] = 0.5 * (low + br.profile(rest, br.hi[rest], br.high.x[rest]))
    return result, exact


def _start(
    br: _Bracket, m: int, hint: np.ndarray | None, result: np.ndarray, exact: np.ndarray, done: np.ndarray
) -> np.ndarray:
    """Bracket every row (``[0, f(0)]``, or the hint widened until it brackets the root) and return
    the first iterate; rows with ``f(0) <= 0`` end at ``A = 0``."""
    rows = np.arange(m)
    if hint is None:
        zero = np.zeros(m)
        vals, g, slope = br.evaluate(rows, zero)
        none = g <= 0
        result[none], exact[none], done[none] = vals[0][none], True, True
        br.record(rows, zero, vals, np.where(none, 0.0, np.maximum(g, np.finfo(float).tiny)))
        rest = rows[~none]
        top = g[~none]  # f(0): the root lies in [0, f(0)]
        if rest.size:
            vals_top, g_top, _ = br.evaluate(rest, top)
            br.record(rest, top, vals_top, np.minimum(g_top, 0.0))
        return np.minimum(br.hi, newton_step(0.0, g, slope))
    lo_h, hi_h = np.maximum(hint[:, 0], 0.0), np.maximum(hint[:, 1], 0.0)
    width = np.maximum(hi_h - lo_h, 1e-6 * np.maximum(1.0, hi_h))
    a, need = lo_h, rows
    while need.size:
        vals, g, _ = br.evaluate(need, a)
        br.record(need, a, vals, np.where(a == 0, np.maximum(g, np.finfo(float).tiny), g))
        need = np.flatnonzero(~(br.low.have & br.high.have))
        # the side still missing lies one width beyond (0 always has g >= 0); each miss widens 4x
        a = np.where(br.low.have[need], br.lo[need] + width[need], np.maximum(br.hi[need] - width[need], 0.0))
        width[need] *= 4.0
    with np.errstate(divide="ignore", invalid="ignore"):  # false position in the bracket
        first = br.lo + br.low.g * (br.hi - br.lo) / (br.low.g - br.high.g)
    return np.where((br.lo < first) & (first < br.hi), first, 0.5 * (br.lo + br.hi))
