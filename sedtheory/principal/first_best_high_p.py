r"""The first best for p > 1, where :math:`M_p` is convex and maximising it is not a convex program.

*Lump-sum transfers* (:func:`lump_sum`, exact). For fixed actions the reachable utilities with
:math:`u \ge 0` form the simplex :math:`\{u \ge 0 : c^\top u = S(a)\}`, :math:`c = W^{-\top} m`,
:math:`S(a)` the total surplus (transfers cancel). If :math:`c > 0` the convex :math:`M_p` is
maximal at a vertex (everything to one agent), so the planner maximises the concave :math:`S(a)`
(a convex program) and hands the surplus to the best vertex; some :math:`c_i \le 0` means unbounded.

*Tax-feasible transfers* (:func:`tax_feasible`, a bound). Each :math:`U_i = \max u_i` is a convex
program; :math:`M_p(U)` bounds the first best from above (monotonicity) and the best of the ``n``
maximisers is a feasible plan; the two coincide for ``p = +inf``.

*Tax-feasible transfers, global damage* (:func:`tax_feasible_dual`). The same bound without a
solver: every :math:`U_i` at once from the planner's Lagrangian
(:func:`~sedtheory.principal.weighted_planner.agent_maxima`, exact on sparse graphs), the largest
ones solved exactly (:func:`~sedtheory.principal.weighted_planner.weighted_plan`), and for finite p
also Hölder's :math:`M_p(u)^p = \sum_i w_i u_i^p \le M_\infty(u)^{p-1} M_1(u)`, so
:math:`M_p \le (\max_i U_i)^{(p-1)/p} \bar M_1^{1/p}` with :math:`\bar M_1` the utilitarian first
best's proven bound.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from sedtheory.errors import DomainError, InvalidParameterError, SolverError
from sedtheory.games import CommonsGame
from sedtheory.objective import pick
from sedtheory.principal import planner_dual
from sedtheory.principal.convex import as_array, cp, solve
from sedtheory.principal.first_best import (
    DUAL_FROM,
    HIGH_P_PROGRAMS,
    FirstBest,
    balance_transfers,
    first_best,
    plan_values,
    planner_program,
    rows_dual,
    unbounded_result,
    utility_scale,
)
from sedtheory.principal.weighted_planner import WeightedPlan, agent_maxima, weight_rows, weighted_plan
from sedtheory.welfare import pmean

__all__ = ["EXACT_ROWS", "lump_sum", "solver_free", "tax_feasible", "tax_feasible_dual"]

#: Agents whose largest utility :func:`tax_feasible_dual` solves exactly, at most (largest first;
#: every agent of a society this small for finite p, where M_p(U) uses them all).
EXACT_ROWS = 16


def _surplus(game: CommonsGame) -> tuple[np.ndarray, float, str]:
    """``max_a sum_j r_j(a, 0)``: the utilitarian surplus (transfers cancel)."""
    a, _, r, _, cons = planner_program(game, "lump-sum")
    unit, shares = utility_scale(game), game.society.masses / game.kernel.population
    problem = cp.Problem(cp.Maximize(shares @ r / unit), cons)  # O(1): the mean surplus in units
    solver = solve(problem, "total surplus")
    surplus = float(problem.value) * unit * game.kernel.population
    return np.clip(as_array(a), 0.0, game.max_harvest), surplus, solver


def lump_sum(game: CommonsGame, pf: float, welfare_of: str) -> FirstBest:
    n = game.n
    method = "surplus maximisation + vertex of the utility simplex"
    mass = game.society.masses
    if welfare_of == "payoff":
        c = mass.copy()
    else:
        if game.society.is_complete and n > 4000:
            raise InvalidParameterError("game", n, "the exact p > 1 method factorises W; n <= 4000")
        w = sps.csc_matrix(game.society.weights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a singular W is detected below, not warned about
            try:
                c = np.asarray(spla.spsolve(w.T.tocsc(), mass), dtype=float).ravel()
            except RuntimeError:
                c = np.full(n, np.nan)
        if not np.all(np.isfinite(c)) or not np.allclose(w.T @ c, mass, atol=1e-8 * float(mass.max())):
            raise SolverError(
                "W is singular: the exact p > 1 first best needs an invertible W; "
                "use transfers='tax-feasible'",
                status="singular",
            )
    if np.any(c <= 1e-12):
        return unbounded_result(
            pf, "lump-sum", method, "c = W^-T m has a non-positive entry: the simplex is unbounded"
        )
    a, surplus, solver = _surplus(game)
    if surplus <= 0:
        raise DomainError("endowment", game.endowment, "the total surplus is not positive; raise omega")
    shares = mass / mass.sum()
    # M_p at the vertex giving everything to i is shares_i^(1/p) S / c_i: take the largest.
    reach = (shares ** (1.0 / pf) if math.isfinite(pf) else np.ones(n)) / c
    star = int(np.argmax(reach))
    target = np.zeros(n)
    target[star] = surplus / c[star]
    r0, _ = plan_values(game, a, np.zeros(n))
    if welfare_of == "utility":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r_target = np.asarray(spla.spsolve(sps.csc_matrix(game.society.weights), target)).ravel()
    else:
        r_target = target
    t = r_target - r0
    pay, util = plan_values(game, a, t)
    vals = pick(welfare_of, util, pay)
    vals = np.maximum(vals, 0.0)  # rounding: the exact plan has zeros here
    w = pmean(vals, pf, game.welfare_weights)
    bound = float(reach[star]) * surplus
    return FirstBest(
        pf,
        a,
        t,
        pay,
        util,
        w,
        max(w, bound),
        "lump-sum",
        method,
        "optimal",
        solver,
        "for fixed a the utilities form the simplex {u >= 0, c.u = S(a)}, c = W^-T m > 0; the convex "
        "M_p is maximal at one of its vertices (the best one is taken), and S is maximised by a convex "
        "program",
        {"surplus": surplus, "recipient": star, "c": c},
    )


def tax_feasible(game: CommonsGame, pf: float, welfare_of: str) -> FirstBest:
    a, t, r, u, cons = planner_program(game, "tax-feasible")
    values = pick(welfare_of, u, r)
    weight = cp.Parameter(game.n, nonneg=True)
    unit = utility_scale(game)
    domain = [values >= 0] if math.isfinite(pf) else []  # M_inf takes any real values (DESIGN 5)
    problem = cp.Problem(cp.Maximize(weight @ values / unit), cons + domain)
    upper = np.zeros(game.n)
    best: tuple[float, np.ndarray | None, np.ndarray | None, str] = (-math.inf, None, None, "")
    for i in range(game.n):
        weight.value = np.eye(1, game.n, i)[0]
        solver = solve(problem, f"max u_{i} (first best, p={pf})")
        upper[i] = float(problem.value) * unit
        pay, util = plan_values(game, as_array(a), as_array(t))
        vals = pick(welfare_of, util, pay)
        w = pmean(np.maximum(vals, 0.0) if math.isfinite(pf) else vals, pf, game.welfare_weights)
        if w > best[0]:
            best = (w, as_array(a), as_array(t), solver)
    w, a_best, t_best, solver = best
    assert a_best is not None and t_best is not None
    pay, util = plan_values(game, a_best, t_best)
    bound = max(pmean(np.maximum(upper, 0.0) if math.isfinite(pf) else upper, pf, game.welfare_weights), w)
    exact = pf == math.inf or bound - w <= 1e-9 * max(1.0, abs(bound))
    return FirstBest(
        pf,
        np.clip(a_best, 0.0, game.max_harvest),
        balance_transfers(game, t_best),
        pay,
        util,
        w,
        bound,
        "tax-feasible",
        "per-agent maxima (n convex programs)",
        "optimal" if exact else "bounded",
        solver,
        "M_p <= M_p(U) with U_i = max u_i (monotone); the best maximiser is a feasible plan; "
        "equal for p = +inf",
        {"agent_maxima": upper},
    )


def _exact_rows(
    game: CommonsGame, welfare_of: str, upper: np.ndarray, every: bool
) -> tuple[np.ndarray, list[tuple[int, WeightedPlan]]]:
    """The largest bounds replaced by the exact maxima, in decreasing order, up to
    :data:`EXACT_ROWS` of them (``every``), or until the next bound is below the largest exact one
    (then ``max`` of the result is the exact largest maximum)."""
    rows, refined = weight_rows(game, welfare_of), upper.copy()
    plans: list[tuple[int, WeightedPlan]] = []
    for i in np.argsort(-upper)[:EXACT_ROWS]:
        if not every and plans and upper[i] <= max(refined[j] for j, _ in plans):
            break
        plan = weighted_plan(game, rows.getrow(int(i)).toarray().ravel())
        refined[i] = min(upper[i], plan.bound)
        plans.append((int(i), plan))
    return refined, plans


def tax_feasible_dual(game: CommonsGame, pf: float, welfare_of: str) -> FirstBest:
    """The tax-feasible first best for ``p > 1`` and the global damage without a solver (module
    Notes): a proven bound, and the best of the exact per-agent plans (and, for finite p, the
    utilitarian first best's plan)."""
    refined, plans = _exact_rows(
        game, welfare_of, agent_maxima(game, welfare_of), math.isfinite(pf) and game.n <= EXACT_ROWS
    )
    candidates = [(plan.actions, plan.transfers) for _, plan in plans]
    top = float(refined.max())
    bound, solver = top, "none (closed-form dual)"
    if math.isfinite(pf):
        shares = game.welfare_weights
        bound = pmean(np.maximum(refined, 0.0), pf, shares)
        mean = first_best(game, 1.0, transfers="tax-feasible", welfare_of=welfare_of)  # type: ignore[arg-type]
        if mean.actions is not None and mean.transfers is not None:
            candidates.append((mean.actions, mean.transfers))
            solver = mean.solver
        if top >= 0.0 and mean.upper_bound >= 0.0:  # Hölder: M_p^p <= M_inf^(p-1) M_1
            bound = min(bound, top ** ((pf - 1.0) / pf) * mean.upper_bound ** (1.0 / pf))
    best = _best_plan(game, pf, welfare_of, candidates)
    if best is None:
        raise DomainError(
            "endowment", game.endowment, f"no plan found keeps every value >= 0 (p = {pf:g}); raise omega"
        )
    w, a, t = best
    bound = max(bound, w)
    pay, util = plan_values(game, a, t)
    exact = bound - w <= 1e-9 * max(1.0, abs(bound))
    return FirstBest(
        pf, a, t, pay, util, w, bound, "tax-feasible",
        "per-agent maxima by the planner's Lagrangian (all agents at once, the largest exactly)"
        + ("" if pf == math.inf else " + Hölder with the utilitarian first best"),
        "optimal" if exact else "bounded", solver,
        "u_i <= U_i (the weighted planner's dual bound for row i of W), M_p monotone; "
        "M_p <= M_inf^((p-1)/p) M_1^(1/p); the plans are feasible",
        {"agent_maxima": refined, "exact_rows": [i for i, _ in plans]},
    )  # fmt: skip


def _repaired(game: CommonsGame, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Transfers made exactly tax-feasible for the harvests ``a`` (a solver's plan is off by its
    tolerance): clipped to ``[-a_j, A/N]``, then the imbalance taken from the slack of every agent
    in proportion to it."""
    k = game.kernel
    top = float(k.total(a)) / k.population
    t = np.clip(t, -a, top)
    excess = float(k.total(t))
    slack = t + a if excess > 0.0 else top - t
    room = float(k.total(slack))
    return t - excess * slack / room if room > 0.0 else t


def _scored(game: CommonsGame, welfare_of: str, a: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    a = np.clip(np.asarray(a, dtype=float), 0.0, game.max_harvest)
    t = _repaired(game, a, np.asarray(t, dtype=float))
    pay, util = plan_values(game, a, t)
    return pick(welfare_of, util, pay), a, t


def _mixed(game: CommonsGame, welfare_of: str, plan: tuple, safe: tuple) -> tuple[np.ndarray, ...]:
    """The plan moved toward ``safe`` (every value positive) just far enough that its values are
    non-negative: the values are concave in the plan, so they are at least the mix of the two."""
    v1, v2 = plan[0], safe[0]
    low = v1 < 0.0
    theta = float(np.min(v2[low] / (v2[low] - v1[low]))) * (1.0 - 1e-9)
    return _scored(
        game, welfare_of, *(theta * x + (1.0 - theta) * y for x, y in zip(plan[1:], safe[1:], strict=True))
    )


def _best_plan(
    game: CommonsGame, pf: float, welfare_of: str, candidates: list
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The candidate plan with the largest ``M_p`` (values inside its domain), or None. For finite
    p, candidates with a negative value are mixed with the max-min plan (values positive if any
    plan's are) into the domain."""
    scored = [_scored(game, welfare_of, a, t) for a, t in candidates]
    if math.isfinite(pf) and any(float(v.min()) < 0.0 for v, *_ in scored):
        maximin = first_best(game, -math.inf, transfers="tax-feasible", welfare_of=welfare_of)  # type: ignore[arg-type]
        if maximin.actions is not None and maximin.transfers is not None:
            safe = _scored(game, welfare_of, maximin.actions, maximin.transfers)
            if float(safe[0].min()) >= 0.0:
                scored += [safe] + [
                    _mixed(game, welfare_of, x, safe) for x in scored if float(x[0].min()) < 0.0
                ]
    best = None
    for vals, a, t in scored:
        if math.isfinite(pf):
            if float(vals.min()) < -1e-9 * max(1.0, float(np.abs(vals).max())):
                continue
            vals = np.maximum(vals, 0.0)  # rounding only: zeros of an exact plan
        w = pmean(vals, pf, game.welfare_weights)
        if best is None or w > best[0]:
            best = (w, a, t)
    return best


def solver_free(game: CommonsGame, p: float, welfare_of: str) -> bool:
    """Whether the tax-feasible first best goes without a cone program under ``method="auto"``:
    the dual for ``p <= 1`` (complete graph from :data:`DUAL_FROM` agents, or separable values)
    or the per-agent Lagrangian for ``p > 1`` (with, for finite p, the utilitarian one)."""
    if not planner_dual.applies(game):
        return False
    if p > 1:  # finite p also takes the utilitarian first best (Hölder)
        if p == math.inf:
            return rows_dual(game, welfare_of)
        return game.n > HIGH_P_PROGRAMS and rows_dual(game, welfare_of) and solver_free(game, 1.0, welfare_of)
    complete = game.n >= DUAL_FROM and game.society.is_complete
    return complete or planner_dual.separable(game, welfare_of)
