r"""The principal's global optimum over a box of rates by a branch and bound on the game's structure.

The second best with optimistic selection is :math:`\max_{\phi \in \Phi} \max_{a \in E(\phi)}
M_p(u(a, \phi))`, with :math:`E(\phi)` every pure equilibrium at the rates :math:`\phi`. This
module bounds it for the global commons without a general-purpose solver:

1. **Regimes** (:mod:`sedtheory.principal.regime_forms`): on a box of rates, the regimes that can
   hold an equilibrium are listed exactly (cells of the aggregate, linear conditions, a
   second-order test of "another harvest is strictly better"). Inside a regime the equilibrium is
   affine in the rates and every utility an exact quadratic :math:`v_i(d) = c_i + g_i \cdot d +
   \tfrac12 d^\top H_i d` in the offset ``d`` from the box's centre.
2. **Bounds.** For each regime, :math:`M_p(v(d))` is bounded over the box intersected with the
   regime's linear conditions (a linear program in ``d``), plus a second-order remainder
   :math:`\tfrac12 \sum_{jk} |H_{jk}| h_j h_k` (``h`` the half-widths):

   * :math:`p \le 1`: :math:`M_p` is concave and positively homogeneous, so
     :math:`M_p(v) \le \nabla M_p(\bar v) \cdot v` for any positive :math:`\bar v` (here the
     values at the centre), a linear function of the quadratics;
   * :math:`p = -\infty`: :math:`\max t` subject to :math:`t \le v_i(d)` for every agent (the
     linear program holds the minimum exactly, so ties between agents cost nothing);
   * :math:`1 < p < \infty`: :math:`\sum_i w_i v_i^p` by its Taylor expansion, the remainder from
     interval bounds of its Hessian; :math:`p = +\infty`: each agent's quadratic on its own.

   The bound of a box is the largest over its regimes (``-inf`` when none can hold an
   equilibrium). Because the regime's value is exact and only its curvature is bounded, the error
   is second order in the box size; across the boundary of a regime (a kink of the welfare, where
   optima of the second best often sit) the linear conditions cut the bound off.
   A box with too many regimes (every box past :data:`REGIME_AGENTS` agents) is bounded agent by
   agent (:mod:`sedtheory.principal.agentwise`); the solver's equilibria at the most promising
   such boxes' centres are checked.
3. **Branching** best-first on the largest bound, splitting the widest side. Each box's regimes
   at its centre and at the linear program's maximiser are checked exactly (the kernel's Nash gap)
   and, when they are equilibria, improve the incumbent. The search ends when the largest open
   bound is within the tolerance of the incumbent (status ``"optimal"``: the partition is
   exhaustive, DESIGN section 6) or at the time limit (the largest open bound is still a valid
   bound).

References
----------
.. [1] R. Horst and H. Tuy, *Global Optimization: Deterministic Approaches*, Springer, 1996
   (branch and bound with convergent bounding operations).
.. [2] C. S. Adjiman, S. Dallwig, C. A. Floudas, A. Neumaier, "A global optimization method,
   alphaBB, for general twice-differentiable constrained NLPs", *Computers & Chemical
   Engineering* 22 (1998) 1137-1158 (second-order remainder bounds).
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sps
from scipy.optimize import linprog

from sedtheory.equilibrium.batch import policy_equilibria
from sedtheory.objective import Objective
from sedtheory.principal.agentwise import MAX_CELLS, agentwise_bound, componentwise
from sedtheory.principal.global_bound import SecondBestBound
from sedtheory.principal.regime_forms import (
    BoxRegimes,
    RegimeModel,
    aggregate_cells,
    box_regimes,
    curvature,
    quad_max,
)

__all__ = ["rate_box_bound", "regime_bound"]

#: Boxes evaluated at most (a safety net beside the time limit).
MAX_BOXES = 400_000
#: The method's name in certificates.
METHOD = "branch and bound over the rate box on the regimes of the aggregate (exact quadratic regimes)"
#: Added to the method's name when boxes were bounded agent by agent.
AGENTWISE = "; boxes past the regime listing bounded agent by agent (first order in the box)"
#: Rounds of tangent planes (Kelley's cutting planes) for the concave part of a regime's model.
CUT_ROUNDS = 3
#: Largest number of linear-program blocks for one box (wider boxes are split first).
LP_BLOCKS = 256
#: Past this many agents the regimes are not listed (their number explodes): every box is bounded
#: agent by agent (:mod:`sedtheory.principal.agentwise`).
REGIME_AGENTS = 60
#: Open boxes split together (their linear programs are solved as one).
BATCH = 4


def _block_bounds(
    f: np.ndarray, a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Upper bounds of ``max f_k . x`` subject to ``A_k x <= b_k`` and ``lo_k <= x <= hi_k`` for
    ``K`` independent blocks (``f`` (K, V), ``A`` (K, C, V), ``b`` (K, C)), all from one linear
    program.

    The blocks are solved together (they are separable) with elastic slacks, so the program is
    always feasible; each bound is then built from the solver's duals :math:`y \ge 0` by weak
    duality, :math:`f \cdot x \le y \cdot b + \sum_v \max_{x_v \in [lo_v, hi_v]} (f - A^\top y)_v
    x_v` for every feasible ``x``, which is valid whatever the solver's accuracy (an empty block
    gets a very negative bound, ``-inf`` when a constraint without variables fails). Also returns
    the solver's primal points ``(K, V)`` (the box's middle where it has none).
    """
    free = np.maximum(f * lo, f * hi).sum(axis=1)  # y = 0
    mid = 0.5 * (lo + hi)
    reach = np.maximum(a * lo[:, None, :], a * hi[:, None, :]).sum(axis=2)
    zero = reach <= b  # rows that hold on the whole box (rows without variables among them)
    dead = np.any(~np.any(a != 0, axis=2) & (b < 0), axis=1)
    kk, cc = np.nonzero(~zero)
    if kk.size == 0:
        return np.where(dead, -math.inf, free), np.where(f > 0, hi, lo)
    n_blk, _, n_var = a.shape
    m = kk.size
    cols = (kk[:, None] * n_var + np.arange(n_var)).ravel()
    rows = np.repeat(np.arange(m), n_var)
    mat = sps.csr_matrix(
        (np.concatenate([a[kk, cc].ravel(), -np.ones(m)]),
         (np.concatenate([rows, np.arange(m)]), np.concatenate([cols, n_blk * n_var + np.arange(m)]))),
        shape=(m, n_blk * n_var + m),
    )  # fmt: skip
    penalty = 1e3 * (1.0 + float(np.abs(f).max()) * float(np.max(hi - lo)))
    bounds = np.concatenate([np.stack([lo.ravel(), hi.ravel()], 1), np.tile([0.0, np.inf], (m, 1))])
    res = linprog(
        np.concatenate([-f.ravel(), np.full(m, penalty)]),
        A_ub=mat,
        b_ub=b[kk, cc],
        bounds=bounds,
        method="highs",
    )
    if res.status != 0 or res.ineqlin is None:  # no duals: the box alone (still valid)
        return np.where(dead, -math.inf, free), mid
    y = np.zeros(b.shape)
    y[kk, cc] = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
    red = f - np.einsum("kc,kcv->kv", y, a)
    dual = np.einsum("kc,kc->k", y, np.where(zero, 0.0, b)) + np.maximum(red * lo, red * hi).sum(axis=1)
    return np.where(dead, -math.inf, np.minimum(free, dual)), np.asarray(res.x[: n_blk * n_var]).reshape(
        n_blk, n_var
    )


def _concave_part(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``H = N + P`` with ``N`` negative and ``P`` positive semidefinite (eigenvalues split)."""
    lam, vec = np.linalg.eigh(h)
    neg = np.einsum("...ij,...j,...kj->...ik", vec, np.minimum(lam, 0.0), vec)
    return neg, h - neg


def _epigraph_bounds(request: tuple[np.ndarray, ...], rounds: int = CUT_ROUNDS) -> np.ndarray:
    r"""Upper bounds of :math:`\max_d \min_m [e_m + q_m \cdot d + \tfrac12 d^\top N_m d]` over a box and
    linear conditions, per block, for concave models (``N_m`` negative semidefinite):
    ``request = (e (K, M), q (K, M, B), N (K, M, B, B), rows (K, C, B), limits (K, C), lo, hi)``.

    A concave function lies below each of its tangent planes, so ``max t`` subject to
    ``t <= e_m + (q_m + N_m d_k) . d - d_k N_m d_k / 2`` for tangent points ``d_k`` is a valid
    bound for every choice of points (a linear program, :func:`_block_bounds`); the points are the
    box's middle and then each round's maximiser (Kelley's cutting planes), and the smallest
    bound of the rounds is kept.
    """
    e, q, neg, rows, limits, lo, hi = request
    n_blk, n_mod, n_b = q.shape
    half = 0.5 * (hi - lo)
    reach = np.einsum("kmb,kb->km", np.abs(q), half)
    t_hi = (e + reach).min(axis=1)
    t_lo = (e - reach - 0.5 * np.einsum("kmij,ki,kj->km", np.abs(neg), half, half)).min(axis=1) - 1.0
    f = np.zeros((n_blk, n_b + 1))
    f[:, -1] = 1.0
    cond = np.concatenate([rows, np.zeros(rows.shape[:2] + (1,))], axis=2)
    box_lo, box_hi = np.concatenate([lo, t_lo[:, None]], 1), np.concatenate([hi, t_hi[:, None]], 1)
    points = [0.5 * (lo + hi)]
    best = t_hi.copy()
    for _ in range(rounds):
        cut_rows, cut_rhs = [], []
        for d in points:
            slope = q + np.einsum("kmij,kj->kmi", neg, d)
            cut_rows.append(np.concatenate([-slope, np.ones((n_blk, n_mod, 1))], axis=2))
            cut_rhs.append(e - 0.5 * np.einsum("ki,kmij,kj->km", d, neg, d))
        a = np.concatenate([*cut_rows, cond], axis=1)
        b = np.concatenate([*cut_rhs, limits], axis=1)
        bound, x = _block_bounds(f, a, b, box_lo, box_hi)
        best = np.minimum(best, bound)
        points.append(np.clip(x[:, :n_b], lo, hi))
    return best


def regime_bound(
    v: tuple[np.ndarray, np.ndarray, np.ndarray],
    weights: np.ndarray,
    p: float,
    half: np.ndarray,
    rows: np.ndarray | None = None,
    limits: np.ndarray | None = None,
) -> float:
    r"""Upper bound of :math:`M_p(v(d))` over ``|d| <= half`` (and ``rows . d <= limits``) for one
    regime's exact quadratic values ``v = (c (n,), g (n, B), H (n, B, B))``.

    Examples
    --------
    Two agents with values :math:`1 + d` and :math:`1 - d` on :math:`|d| \le 1`: the minimum is
    at most 1 (at ``d = 0``), the mean is exactly 1, the maximum at most 2.

    >>> import numpy as np
    >>> v = (np.ones(2), np.array([[1.0], [-1.0]]), np.zeros((2, 1, 1)))
    >>> w, h = np.full(2, 0.5), np.ones(1)
    >>> [round(regime_bound(v, w, p, h), 9) for p in (-np.inf, 1.0, np.inf)]
    [1.0, 1.0, 2.0]
    """
    if rows is None or limits is None:
        rows, limits = np.zeros((1, half.size)), np.ones(1)
    vv = tuple(np.asarray(x, float)[None] for x in v)
    return float(_regime_bounds(vv, weights, p, half, rows[None], limits[None], -math.inf)[0])


@dataclass(frozen=True)
class _Plan:
    """The bounds of one box's regimes on the whole box (``cheap``), the linear programs that
    sharpen those above the threshold (``request``: blocks for :func:`_block_bounds`), and how
    the programs' bounds become regime bounds (``finish``)."""

    cheap: np.ndarray
    request: tuple[np.ndarray, ...] | None
    finish: Callable[[np.ndarray], np.ndarray]


def _regime_bounds(v: tuple[np.ndarray, ...], weights: np.ndarray, p: float, half: np.ndarray,
                   rows: np.ndarray, limits: np.ndarray, threshold: float) -> np.ndarray:  # fmt: skip
    """Bounds of every regime (leading axis) of one box (:func:`_plan`, its programs solved)."""
    plan = _plan(v, weights, p, half, rows, limits, threshold)
    return plan.finish(_epigraph_bounds(plan.request)) if plan.request is not None else plan.cheap


def _boxed(k: int, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.tile(-half, (k, 1)), np.tile(half, (k, 1))


def _limited(sel: np.ndarray) -> np.ndarray:
    """No programs for a box with more than :data:`LP_BLOCKS` of them (it is split first)."""
    return sel if sel.size <= LP_BLOCKS else sel[:0]


def _plan(v: tuple[np.ndarray, ...], weights: np.ndarray, p: float, half: np.ndarray,
          rows: np.ndarray, limits: np.ndarray, threshold: float) -> _Plan:  # fmt: skip
    """Bounds of a box's regimes on the whole box, and for the regimes whose bound exceeds
    ``threshold`` the epigraph programs over their linear conditions (:func:`_epigraph_bounds`;
    one block per regime, per regime and agent for ``p = +inf``; one model per agent for ``-inf``).
    Each quadratic is split into its concave part (cut by tangent planes) and a convex part
    bounded by :func:`curvature`."""
    c, g, h = v
    act = weights > 0
    top = quad_max(c, g, h, half)
    if math.isinf(p):
        cheap = componentwise(top, weights, p)
        neg, pos = _concave_part(h)
        e = c + curvature(pos, half)
        if p > 0:
            r_i, a_i = np.unravel_index(_limited(np.flatnonzero((top > threshold) & act)), top.shape)

            def finish_max(bound: np.ndarray) -> np.ndarray:
                val = np.where(act, top, -math.inf)
                val[r_i, a_i] = np.minimum(top[r_i, a_i], bound)
                return np.asarray(val.max(axis=1))

            blocks = (e[r_i, a_i, None], g[r_i, a_i, None], neg[r_i, a_i, None], rows[r_i], limits[r_i])
            return _Plan(cheap, (*blocks, *_boxed(r_i.size, half)) if r_i.size else None, finish_max)
        sel = _limited(np.flatnonzero(cheap > threshold))

        def finish_min(bound: np.ndarray) -> np.ndarray:
            out = cheap.copy()
            out[sel] = np.minimum(cheap[sel], bound)
            return out

        blocks = (e[sel][:, act], g[sel][:, act], neg[sel][:, act], rows[sel], limits[sel])
        return _Plan(cheap, (*blocks, *_boxed(sel.size, half)) if sel.size else None, finish_min)
    const, q, hess, crude = _forms(v, weights, p, half)
    cheap = np.minimum(crude, np.where(np.isfinite(const), _back(quad_max(const, q, hess, half), p), np.inf))
    sel = _limited(np.flatnonzero((cheap > threshold) & np.isfinite(const)))
    neg, pos = _concave_part(hess[sel])

    def finish_mean(bound: np.ndarray) -> np.ndarray:
        out = cheap.copy()
        out[sel] = np.minimum(cheap[sel], _back(bound, p))
        return out

    e = const[sel] + curvature(pos, half)
    blocks = (e[:, None], q[sel][:, None], neg[:, None], rows[sel], limits[sel])
    return _Plan(cheap, (*blocks, *_boxed(sel.size, half)) if sel.size else None, finish_mean)


def _forms(
    v: tuple[np.ndarray, ...], weights: np.ndarray, p: float, half: np.ndarray
) -> tuple[np.ndarray, ...]:
    r"""Per regime (leading axis) a bound ``back(const + curv + max q . d)`` for finite ``p``:
    the supergradient of :math:`M_p` at the centre values for ``p <= 1`` (``back`` the identity),
    Taylor's theorem for :math:`\sum_i w_i v_i^p` for ``p > 1`` (``back = (.)^(1/p)``); and the
    componentwise bound ``crude``. Where the linear form does not apply ``const`` is ``inf``."""
    c, g, h = v
    top = quad_max(c, g, h, half)
    crude = componentwise(top, weights, p)
    act = weights > 0
    w = np.where(act, weights / weights[act].sum(), 0.0)
    if p <= 1:
        ok = np.all(np.where(act, c > 0, True), axis=1)
        cp = np.where(act & ok[:, None], c, 1.0)
        if p == 0:
            m = np.exp(np.log(cp) @ w)
            lam = w * m[:, None] / cp
        else:
            m = (cp**p @ w) ** (1.0 / p)
            lam = w * (cp / m[:, None]) ** (p - 1.0)
        const = np.where(ok, np.einsum("rn,rn->r", lam, c), math.inf)
        q = np.einsum("rn,rnb->rb", lam, g)
        return const, q, np.einsum("rn,rnjk->rjk", lam, h), crude
    low = -quad_max(-c, -g, -h, half)
    ok = np.all(np.where(act, low > 0, True), axis=1)
    lo_ = np.where(ok[:, None], np.maximum(low, 1e-300), 1.0)
    # psi(v) = v^p: psi(c + e) <= psi(c) + psi'(c) e + psi''_max e^2 / 2 with e = g.d + dHd/2 exact,
    # e^2 <= d g g' d + |g|h |dHd| + |dHd|^2 / 4 and |dHd| <= sum |H| h h
    c_ = np.where(ok[:, None], np.maximum(c, 0.0), 1.0)
    psi1 = p * c_ ** (p - 1.0)
    psi2 = p * (p - 1.0) * (np.maximum(top, 0.0) ** (p - 2.0) if p >= 2 else lo_ ** (p - 2.0))
    dhd = np.einsum("rnjk,j,k->rn", np.abs(h), half, half)
    third = 0.5 * psi2 * ((np.abs(g) @ half) * dhd + 0.25 * dhd * dhd)
    quad = np.einsum("n,rn,rnjk->rjk", w, psi1, h) + np.einsum("n,rn,rnj,rnk->rjk", w, psi2, g, g)
    const = np.where(ok, (c_**p + third) @ w, math.inf)
    q = np.einsum("rn,rnb->rb", w * psi1, g)
    return const, q, quad, crude


def _back(total: np.ndarray | float, p: float) -> np.ndarray | float:
    return total if p <= 1 else np.maximum(total, 0.0) ** (1.0 / p)


class _Search:
    """The state of one branch and bound: the model, the objective, the incumbent."""

    def __init__(self, game: Any, objective: Objective, box: np.ndarray, tol: float) -> None:
        self.game = game
        self.model = RegimeModel.of(game, box)
        self.obj = objective.for_game(game)
        n = game.n
        self.weights = (
            np.full(n, 1.0 / n) if self.obj.weights is None else np.asarray(self.obj.weights, float)
        )
        self.tol = tol
        self.lb = -math.inf
        self.x: np.ndarray | None = None
        self.actions: np.ndarray | None = None
        self.upper = np.minimum(self.model.cap, self.model.amax)
        self.checked = 0
        self.agentwise = 0

    def threshold(self) -> float:
        """Bounds at or below this close a box: the incumbent plus the tolerance."""
        return self.lb + self.tol * max(1.0, abs(self.lb)) if math.isfinite(self.lb) else -math.inf

    def values(self, reg: BoxRegimes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return reg.utilities if self.obj.of == "utility" else reg.payoffs

    def offer(self, reg: BoxRegimes, centre: np.ndarray, offsets: np.ndarray) -> None:
        """Check the regimes' profiles at ``centre + offsets`` (R, K, B) exactly; keep the best
        equilibrium as the incumbent."""
        rates = (centre + offsets).reshape(-1, centre.size)
        a = (reg.actions[0][:, None] + np.einsum("rnb,rkb->rkn", reg.actions[1], offsets)).reshape(
            rates.shape[0], -1
        )
        if not np.all(np.isfinite(a)) or np.any(a < -1e-12) or np.any(a > self.upper + 1e-9):
            ok = (
                np.all(np.isfinite(a), axis=1)
                & np.all(a >= -1e-12, axis=1)
                & np.all(a <= self.upper + 1e-9, axis=1)
            )
            a, rates = a[ok], rates[ok]
        if a.shape[0] == 0:
            return
        a = np.clip(a, 0.0, self.upper)
        kernel = self.game.kernel
        gains = kernel.gains(a, rates, self.upper)
        u = kernel.utilities(a, rates)
        eq = np.all(gains <= 1e-9 * np.maximum(1.0, np.abs(u)), axis=1)
        self.checked += a.shape[0]
        if not eq.any():
            return
        vals = self.obj.values(u[eq], kernel.payoffs(a[eq], rates[eq]))
        self._keep(self.obj.rows(vals), rates[eq], a[eq])

    def offer_centres(self, rates: np.ndarray) -> None:
        """The solver's certified equilibria at box centres (one batch) as incumbents."""
        batch = policy_equilibria(self.game, rates, tol=1e-9, raise_on_failure=False)
        self.checked += rates.shape[0]
        self._keep(batch.welfare(self.obj), rates, batch.actions)

    def _keep(self, welfare: np.ndarray, rates: np.ndarray, actions: np.ndarray) -> None:
        """The best verified row becomes the incumbent when it beats it."""
        j = int(np.argmax(welfare))
        if welfare[j] > self.lb:
            self.lb, self.x, self.actions = float(welfare[j]), rates[j].copy(), actions[j].copy()

    def bounds(
        self, boxes: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]
    ) -> list[tuple[float, int, np.ndarray]]:
        """Upper bound over each box ``(centre, half, the parent's cells of the aggregate)``, the
        side to split it along (the one the leading regime's bound depends on most; the widest
        side when the bound depends on none: a flat direction of the objective is never split)
        and its own cells. Boxes with too many regimes are bounded agent by agent. The boxes'
        linear programs are solved as one."""
        p = self.obj.p
        plans: list[Any] = []
        many = self.model.n > REGIME_AGENTS
        centres: list[tuple[float, np.ndarray]] = []
        for centre, half, parent in boxes:
            cells = (
                aggregate_cells(self.model, centre, half, False, MAX_CELLS, parent)
                if many
                else aggregate_cells(self.model, centre, half)
            )
            reg = None if many else box_regimes(self.model, centre, half, cells=cells)
            if reg is None:  # too many regimes: the agents one by one (module agentwise)
                box = agentwise_bound(self.model, self.weights, p, self.obj.of, centre, half, cells)
                self.agentwise += 1
                plans.append((box.bound, box.side, cells[0]))
                centres.append((box.bound, centre))
                continue
            if reg.kinds.shape[0] == 0:
                plans.append((-math.inf, int(np.argmax(half)), cells[0]))
                continue
            v = self.values(reg)
            self.offer(reg, centre, self._candidates(v, half))
            threshold = self.threshold()
            plans.append((v, _plan(v, self.weights, p, half, reg.rows, reg.limits, threshold), cells[0]))
        if centres:  # the two most promising boxes of the batch
            centres.sort(key=lambda item: -item[0])
            self.offer_centres(np.array([c for _, c in centres[:2]]))
        asks = [x[1].request for x in plans if isinstance(x[1], _Plan) and x[1].request is not None]
        lin = (
            _epigraph_bounds(tuple(np.concatenate(parts) for parts in zip(*asks, strict=True)))
            if asks
            else np.zeros(0)
        )
        out, at = [], 0
        for (_, half, _), x in zip(boxes, plans, strict=True):
            if not isinstance(x[1], _Plan):
                out.append(x)
                continue
            v, plan, cells = x
            bounds = plan.cheap
            if plan.request is not None:
                size = plan.request[0].shape[0]
                bounds, at = plan.finish(lin[at : at + size]), at + size
            lead = int(np.argmax(bounds))
            side = self._side(tuple(y[lead : lead + 1] for y in v), half, bounds.size)
            out.append((float(bounds[lead]), side, cells))
        return out

    def _candidates(self, v: tuple[np.ndarray, ...], half: np.ndarray) -> np.ndarray:
        """Offsets worth checking in each regime (R, 2, B): the centre, and the maximiser of the
        separable part of the objective's local quadratic model (finite p; the centre again for
        +-inf)."""
        r = v[0].shape[0]
        out = np.zeros((r, 2, half.size))
        if math.isinf(self.obj.p):
            return out
        const, q, hess, _ = _forms(v, self.weights, self.obj.p, half)
        diag = np.diagonal(hess, axis1=-2, axis2=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = np.where(diag < 0, -q / np.where(diag < 0, diag, -1.0), np.sign(q) * half)
        out[:, 1] = np.where(np.isfinite(const)[:, None], np.clip(vertex, -half, half), 0.0)
        return out

    def _side(self, v: tuple[np.ndarray, ...], half: np.ndarray, regimes: int) -> int:
        """How much each side's half-width moves a regime's bound: the slope and curvature of the
        objective's local model along that side (of every value for +-inf)."""
        act = self.weights > 0
        if math.isinf(self.obj.p):
            slope = np.abs(v[1][0][act]).max(axis=0) + np.abs(v[2][0][act]).max(axis=0) @ half
        else:  # the objective's own linear form and curvature: a flat direction scores 0
            _, q, hess, _ = _forms(v, self.weights, self.obj.p, half)
            slope = np.abs(q[0]) + np.abs(hess[0]) @ half
        score = half * slope
        if regimes > 1:  # regimes still to separate: keep every side in play
            score = score + 1e-3 * half * max(float(score.max()), 1e-12)
        return int(np.argmax(score)) if score.max() > 0 else int(np.argmax(half))


def rate_box_bound(
    game: Any,
    objective: Objective,
    box: np.ndarray,
    *,
    incumbent: tuple[np.ndarray, np.ndarray, float] | None = None,
    time_limit: float = 60.0,
    tol: float = 1e-6,
    stop: Callable[[], bool] | None = None,
) -> SecondBestBound:
    r"""A global upper bound on :math:`M_p` over every equilibrium of every rate vector in ``box``
    (global commons), by branch and bound over the box (see the module's notes).

    Parameters
    ----------
    game : CommonsGame
        Global commons with finite effort costs (at most one agent without); its thresholds are
        kept, its rates ignored.
    objective : Objective
    box : numpy.ndarray
        ``(2, B)``: low and high rates.
    incumbent : (rates, actions, welfare), optional
        A verified design; the search proves or improves on it.
    time_limit : float
        Seconds; at the limit the largest open bound is returned (status ``"timelimit"``).
    tol : float
        Relative gap at which the search stops with status ``"optimal"``.
    stop : callable, optional
        Polled between batches of boxes; when it returns True the search ends with status
        ``"stopped"`` and the largest open bound (still valid), e.g. when a search beside it ends.

    Returns
    -------
    SecondBestBound
        ``upper`` (valid for the optimistic selection, hence for every selection), the best
        equilibrium found (``primal``, ``x``, ``actions``; verified with the kernel's exact Nash
        gap) and the number of boxes (``nodes``).

    Raises
    ------
    CapabilityError
        For the local commons, or more than one agent without effort cost.

    Examples
    --------
    The two-agent game of :func:`~sedtheory.principal.second_best_bound`: the equilibrium is
    :math:`a = 5(1 - \phi/2)` and welfare :math:`10 + a - 0.15a^2` peaks at :math:`\phi = 2/3`.

    >>> import numpy as np
    >>> from sedtheory import CommonsGame, Objective, PiecewiseLinearTax, Society
    >>> game = CommonsGame(Society([1.0, 1.0], [10.0, 10.0]), PiecewiseLinearTax([0.0], [0.0]),
    ...                    damage=0.1, endowment=10.0, max_harvest=20.0)
    >>> res = rate_box_bound(game, Objective(1.0), np.array([[0.0], [1.0]]))
    >>> res.status, round(res.primal, 5), round(res.upper, 4), round(float(res.x[0]), 2)
    ('optimal', 11.66667, 11.6667, 0.67)
    """
    t0 = time.perf_counter()
    lo, hi = (np.asarray(x, dtype=float) for x in np.asarray(box, dtype=float))
    search = _Search(game, objective, np.stack([lo, hi]), tol)
    if incumbent is not None and math.isfinite(float(incumbent[2])):
        search.lb, search.x, search.actions = (
            float(incumbent[2]),
            np.asarray(incumbent[0], float),
            np.asarray(incumbent[1], float),
        )
    start = search.lb
    centre, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    heap: list[tuple[float, int, np.ndarray, np.ndarray, int, Any]] = [
        (-math.inf, 0, centre, half, int(np.argmax(half)), None)
    ]
    count, status, empty, pruned = 1, "optimal", 0, -math.inf
    while heap:
        top = -heap[0][0]
        if top <= search.threshold():
            break
        stopped = stop is not None and stop()
        if time.perf_counter() - t0 > time_limit or count > MAX_BOXES or stopped:
            status = "stopped" if stopped else "timelimit" if count <= MAX_BOXES else "nodelimit"
            break
        children: list[tuple[np.ndarray, np.ndarray, Any, float]] = []
        while heap and len(children) < 2 * BATCH and -heap[0][0] > search.threshold():
            neg, _, c, h, j, cells = heapq.heappop(heap)
            for sign in (-1.0, 1.0):
                hc = h.copy()
                hc[j] *= 0.5
                cc = c.copy()
                cc[j] += sign * hc[j]
                children.append((cc, hc, cells, -neg))
        for (cc, hc, _, parent), (ub, side, cells) in zip(
            children, search.bounds([x[:3] for x in children]), strict=True
        ):
            ub = min(ub, parent)
            count += 1
            empty += ub == -math.inf
            if ub > search.threshold():
                heapq.heappush(heap, (-ub, count, cc, hc, side, cells))
            else:  # closed: every value in it is at most ub
                pruned = max(pruned, ub)
    upper = max(search.lb, pruned, max((-e[0] for e in heap), default=-math.inf))
    return SecondBestBound(
        upper=float(upper),
        primal=float(search.lb),
        x=search.x,
        actions=search.actions,
        status=status,
        seconds=time.perf_counter() - t0,
        nodes=count,
        incumbent_accepted=incumbent is not None,
        method=METHOD if not search.agentwise else METHOD + AGENTWISE,
        details={
            "profiles checked": search.checked,
            "boxes without equilibria": int(empty),
            "boxes bounded agent by agent": search.agentwise,
            "start": start,
        },
    )
