r"""The first best for p > 1, where :math:`M_p` is convex and maximising it is not a convex program.

*Lump-sum transfers* (:func:`lump_sum`, exact). For fixed actions the reachable utilities with
:math:`u \ge 0` form the simplex :math:`\{u \ge 0 : c^\top u = S(a)\}`, :math:`c = W^{-\top} m`,
:math:`S(a)` the total surplus (transfers cancel). If :math:`c > 0` the convex :math:`M_p` is
maximal at a vertex (everything to one agent), so the planner maximises the concave :math:`S(a)`
(a convex program) and hands the surplus to the best vertex; some :math:`c_i \le 0` means unbounded.

*Tax-feasible transfers* (:func:`tax_feasible`, a bound). Each :math:`U_i = \max u_i` is a convex
program; :math:`M_p(U)` bounds the first best from above (monotonicity) and the best of the ``n``
maximisers is a feasible plan; the two coincide for ``p = +inf``.
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
from sedtheory.principal.convex import as_array, cp, solve
from sedtheory.principal.first_best import (
    FirstBest,
    balance_transfers,
    plan_values,
    planner_program,
    unbounded_result,
    utility_scale,
)
from sedtheory.welfare import pmean

__all__ = ["lump_sum", "tax_feasible"]


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
    problem = cp.Problem(cp.Maximize(weight @ values / unit), cons + [values >= 0])
    upper = np.zeros(game.n)
    best: tuple[float, np.ndarray | None, np.ndarray | None, str] = (-math.inf, None, None, "")
    for i in range(game.n):
        weight.value = np.eye(1, game.n, i)[0]
        solver = solve(problem, f"max u_{i} (first best, p={pf})")
        upper[i] = float(problem.value) * unit
        pay, util = plan_values(game, as_array(a), as_array(t))
        vals = np.maximum(pick(welfare_of, util, pay), 0.0)
        w = pmean(vals, pf, game.welfare_weights)
        if w > best[0]:
            best = (w, as_array(a), as_array(t), solver)
    w, a_best, t_best, solver = best
    assert a_best is not None and t_best is not None
    pay, util = plan_values(game, a_best, t_best)
    bound = max(pmean(np.maximum(upper, 0.0), pf, game.welfare_weights), w)
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
