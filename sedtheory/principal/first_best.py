r"""The first best: the planner chooses actions and budget-balanced transfers directly.

The planner picks :math:`a \in [0, a_{\max}]^n` and transfers
:math:`t` with :math:`\sum_j t_j = 0`; payoffs are
:math:`r_j = \omega + a_j + t_j - C_j(a_j) - \mathrm{damage}_j(a)` and utilities
:math:`u = W r`. Its welfare bounds every tax policy's from above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import scipy.sparse as sps
from scipy.optimize import linprog

from sedtheory.certificate import Certificate
from sedtheory.errors import CapabilityError, DomainError, InvalidParameterError, SedtheoryError, SolverError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.games.commons.formulas import payoff
from sedtheory.objective import pick
from sedtheory.principal import planner_dual
from sedtheory.principal.convex import as_array, concave_objective, cp, solve
from sedtheory.society import DENSE_COMPLETE_LIMIT, Society
from sedtheory.welfare import check_p, objective_args, pmean

__all__ = [
    "CONVEX_CLOSE",
    "balance_transfers",
    "DUAL_FROM",
    "DUAL_ROUNDS",
    "HIGH_P_PROGRAMS",
    "FirstBest",
    "first_best",
    "plan_values",
    "planner_program",
    "rows_dual",
    "TRANSFER_MODELS",
    "unbounded_result",
    "upper_bound",
    "utility_scale",
]

#: Up to this many agents the tax-feasible first best for finite p > 1 under ``method="auto"`` solves
#: n cone programs (fast there; each keeps the values in the p-mean's domain: a tighter bound).
HIGH_P_PROGRAMS = 50
#: Relative gap within which a convex program's first best counts as "optimal" once its plan is
#: certified by the dual bound. The bound at a plan is first order in the plan's error: where the
#: optimum equalises payoffs exactly, Clarabel's plans certified to about 1e-6 (seven agents,
#: p = -1 and 0); at 10^4 agents, p = -2, its plan was 1.7e-4 below the optimum ("bounded" here).
CONVEX_CLOSE = 1e-5

#: Agents from which ``method="auto"`` tries the dual first on the complete graph (with separable
#: values, every agent's own payoff only, it goes first at any size: it closes in a round there).
#: Below, the convex program is fast. On sparse graphs Frank-Wolfe zigzags and ``"auto"`` keeps
#: the cone program: n = 1000 Watts-Strogatz, p = 0, 200 rounds and 5 s to a gap of 2e-7 (2.4 s
#: for the cone program); a 10^5 ring, p = -inf, 30 rounds and 100 s to a gap of 1.5e-4.
DUAL_FROM = 5000

#: Rounds the dual gets under ``method="auto"`` before the convex program takes over (the
#: complete-graph societies of the benchmark closed in 1-5; a round is 0.01-0.5 s at 10^5 agents).
DUAL_ROUNDS = 30

TRANSFER_MODELS = {
    "lump-sum": "any budget-balanced lump-sum transfers, sum_j t_j = 0",
    "tax-feasible": "sum_j t_j = 0 and -a_j <= t_j <= mean(a): the transfers a bracket tax with "
    "rates in [0, 1] and equal redistribution can make (0 <= T(y) <= y), so the bound stays valid "
    "for every such tax and is finite",
}


@dataclass(frozen=True)
class FirstBest:
    """Solution of the planner's problem for one p.

    Attributes
    ----------
    p : float
    actions, transfers, payoffs, utilities : numpy.ndarray or None
        The planner's plan (``None`` when the problem is unbounded).
    welfare : float
        ``M_p`` of the plan's utilities (``+inf`` when unbounded).
    upper_bound : float
        An upper bound on the planner's optimum. With tax-feasible transfers, ``p <= 1`` and the
        global damage it is a proven dual bound (:mod:`sedtheory.principal.planner_dual`), within
        :data:`~sedtheory.principal.planner_dual.DUAL_TOL` (``method="dual"``) or
        :data:`CONVEX_CLOSE` (the cone program, or the dual under ``"auto"``) of ``welfare`` when
        ``status == "optimal"``.
        Otherwise it is the solver's optimal value, so it equals ``welfare`` there.
    transfers_model : str
        A key of :data:`TRANSFER_MODELS`.
    method, status, solver, reason : str
        How it was solved, ``"optimal"`` / ``"unbounded"`` / ``"bounded"`` (an upper bound
        with a remaining gap), the cvxpy solver used, and why the method is exact.
    """

    p: float
    actions: np.ndarray | None
    transfers: np.ndarray | None
    payoffs: np.ndarray | None
    utilities: np.ndarray | None
    welfare: float
    upper_bound: float
    transfers_model: str
    method: str
    status: str
    solver: str
    reason: str
    details: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def gap(self) -> float:
        """``upper_bound - welfare`` (0 when solved exactly)."""
        return float(self.upper_bound - self.welfare)

    @property
    def certificate(self) -> Certificate:
        """The planner's optimum as a :class:`~sedtheory.Certificate` (``"bounded"`` is
        ``"best-found"``: a proven bound with a remaining gap)."""
        status = {"optimal": "optimal", "unbounded": "unbounded"}.get(self.status, "best-found")
        gap = math.inf if status == "unbounded" else self.gap
        return Certificate(
            self.welfare, self.upper_bound, f"{self.method} ({self.solver})", status, gap, self.reason
        )


def planner_program(
    game: CommonsGame, transfers: str = "lump-sum"
) -> tuple[cp.Expression, cp.Expression, cp.Expression, cp.Expression, list[cp.Constraint]]:
    """The planner's variables and expressions: ``(a, t, r, u, constraints)``.

    ``r`` is concave in ``(a, t)`` (convex effort cost and damage) and ``u = W r`` with
    ``W >= 0``, so every concave non-decreasing function of ``u`` gives a convex program.

    The program is written in units of :func:`utility_scale` ``U``: the variables are
    ``a / U`` and ``t / U`` and every cone sees O(1) data, so the solver's tolerances mean the
    same at any scale (with incomes in dollars, unscaled programs stopped "optimal" 29 % below
    the optimum). The returned ``a, t, r, u`` are in the game's units (``U`` times the scaled
    expressions); objectives should divide by ``U`` again (``concave_objective(..., scale=U)``).
    """
    if transfers not in TRANSFER_MODELS:
        raise InvalidParameterError("transfers", transfers, f"use one of {sorted(TRANSFER_MODELS)}")
    n = game.n
    soc = game.society
    unit = utility_scale(game)
    a = cp.Variable(n, name="a_scaled")
    t = cp.Variable(n, name="t_scaled")
    mass = game.kernel.mass
    # Budget balance over members (sum_j m_j t_j = 0) and mass-weighted means, written with the
    # shares m_j / N so that the solver sees O(1) coefficients.
    shares = None if mass is None else mass / mass.sum()
    mean_of = (lambda x: cp.sum(x) / n) if shares is None else (lambda x: shares @ x)
    cons: list[cp.Constraint] = [a >= 0, mean_of(t) == 0]
    if math.isfinite(game.max_harvest):
        cons.append(a <= game.max_harvest / unit)
    kernel = game.kernel  # the coefficients of the numeric model, so both evaluate one formula
    cost: cp.Expression | float = 0.0
    if np.any(kernel.cost_weights > 0):
        cost = cp.square(cp.multiply(np.sqrt(kernel.cost_weights * unit), a))  # C(a) / U
    damage: Any
    if game.uses_global_formulas and game.damage == 0:
        damage = np.zeros(n)
    elif game.uses_global_formulas:
        # One epigraph scalar for D(A)/(N U): broadcasting the square into n rows makes the cone
        # program dense (n^2 entries) and ill-conditioned at n = 1000. The aggregate is carried
        # as the mean action per member (O(1) coefficients however large the population).
        share = cp.Variable(name="damage_share")
        mean = cp.Variable(name="mean_action")
        big_n = game.kernel.population
        scale = math.sqrt(kernel.damage_weights[0] * unit) * big_n  # kappa A^2/(2N U) = (scale mean)^2
        cons += [mean == mean_of(a), share >= cp.square(scale * mean)]
        damage = share * np.ones(n)
    else:
        _, q, _ = game.local_operators()
        damage = cp.square(cp.multiply(np.sqrt(kernel.damage_weights * unit), q @ a))
    r = payoff(game.endowment / unit, a, t, cost, damage)
    # u = W r with W >= 0 is concave in (a, t), but a product with signed coefficients is not
    # DCP; a hypograph variable y <= r keeps it affine (u is non-decreasing in every y_j, so the
    # optimum has y = r wherever it matters; reported values are recomputed from (a, t)).
    if soc.is_complete:
        y = cp.Variable(n, name="r_hypo")
        cons.append(y <= r)
        u, coupling = _complete_weights(soc, y)
        cons += coupling
    else:
        u = soc.weights @ r  # a non-negative matrix times a concave vector: DCP concave
    if transfers == "tax-feasible":
        mean_a = cp.Variable(name="mean_harvest")  # one scalar: no dense n x n constraint block
        cons += [t >= -a, mean_a == mean_of(a), t <= mean_a]
    return unit * a, unit * t, unit * r, unit * u, cons


def utility_scale(game: CommonsGame) -> float:
    r"""The unit of the planner's programs: :math:`|\omega| + 1` plus half the members' mean
    largest reply (the order of the payoffs a plan can reach)."""
    reach = np.minimum(game.reply_upper_bounds, 1e300)
    mean_reach = float(game.kernel.total(reach)) / game.kernel.population
    return abs(game.endowment) + 1.0 + 0.5 * mean_reach


def _complete_weights(soc: Society, r: cp.Expression) -> tuple[cp.Expression, list[cp.Constraint]]:
    """``W r`` on the complete graph without materialising ``W``: ``sigma r + w (sum r - r)``,
    and its constraints. The sum is one scalar variable: ``w * sum(r)`` written directly has the
    coefficient block ``w 1'`` (n^2 entries; at n = 10^4 cvxpy spent minutes building it)."""
    sigma = soc.selfishness
    w = (soc.weight_sums - sigma) / max(soc.n - 1, 1)
    if not np.any(w):  # every sigma_i = 1: no coupling at all
        return cp.multiply(sigma, r), []
    total = cp.Variable(name="total_payoff")
    return cp.multiply(sigma - w, r) + w * total, [total == cp.sum(r)]


def plan_values(game: CommonsGame, a: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact payoffs and utilities of a plan ``(a, t)`` (numpy, from the kernel; the solver's
    actions are clipped to the box and its transfers re-balanced to sum to zero over members)."""
    a = np.clip(a, 0.0, game.max_harvest)
    r = game.kernel.plan_payoffs(a, balance_transfers(game, t))
    return r, game.society.apply_weights(r)


def balance_transfers(game: CommonsGame, t: np.ndarray) -> np.ndarray:
    """Transfers shifted to sum to zero over members (``sum_j m_j t_j = 0``): a solver's plan made
    exactly budget-balanced."""
    return t - float(game.kernel.total(t)) / game.kernel.population


def first_best(
    game: CommonsGame,
    p: float,
    transfers: Literal["lump-sum", "tax-feasible"] = "lump-sum",
    welfare_of: Literal["utility", "payoff"] = "utility",
    method: Literal["auto", "dual", "convex"] = "auto",
) -> FirstBest:
    r"""The planner's optimum for :math:`M_p`: an upper bound on every tax policy.

    Parameters
    ----------
    game : CommonsGame
        Its tax is ignored (the planner uses transfers).
    p : float
        In ``[-inf, +inf]``.
    transfers : {"lump-sum", "tax-feasible"}
        ``"lump-sum"`` is the textbook planner (any transfers summing to zero). With unequal
        column sums of ``W`` it is unbounded for ``p = 1`` (transfers to the agents others care
        about most raise the mean utility without limit): the result then has status
        ``"unbounded"``. ``"tax-feasible"`` adds :math:`-a_j \le t_j \le \bar a`, which every
        bracket tax with rates in [0, 1] and equal redistribution satisfies, so it is still an
        upper bound on every such tax and is finite; :func:`optimal_tax` uses the tighter of
        the two.
    welfare_of : {"utility", "payoff"}
        Evaluate ``M_p`` of utilities ``W r`` (default) or of own payoffs ``r``.
    method : {"auto", "dual", "convex"}
        How the tax-feasible first best is solved (for ``p > 1`` see Notes). ``"dual"``: Frank-Wolfe with
        the exact Lagrangian dual bound of :mod:`sedtheory.principal.planner_dual` (global
        damage only; certified to :data:`~sedtheory.principal.planner_dual.DUAL_TOL`, about a
        second at :math:`10^5` agents). ``"convex"``: the cone program (cvxpy); with the global
        damage its ``upper_bound`` is then the dual bound at the program's plan, so it holds
        whatever the solver's accuracy. ``"auto"`` (default): the dual where it applies, the
        convex program where it does not (the local commons, or a start the dual cannot take)
        or where the dual does not close. Other cases ignore ``method``.

    Returns
    -------
    FirstBest

    Notes
    -----
    *p <= 1.* :math:`M_p` is concave and non-decreasing, ``u`` is concave in ``(a, t)``,
    so the composition is concave: one convex program (objective per p range in
    :mod:`sedtheory.principal.convex`), exact up to the solver's tolerance. With tax-feasible
    transfers and the global damage, the cone program's plan is certified by the Lagrangian dual
    bound at its own prices, and from :data:`DUAL_FROM` agents the default is the dual method
    itself (:func:`~sedtheory.principal.planner_dual.dual_first_best`). The cone program stopped
    up to 1.7e-4 (relative, p = -2, 10^4 agents) below the optimum while reporting "optimal", and
    took 16-57 s at 10^5 agents.

    *p > 1, lump-sum transfers.* For fixed ``a`` the reachable utilities with
    :math:`u \ge 0` (the domain of :math:`M_p`) are :math:`\{u \ge 0 : c^\top u = S(a)\}`
    with :math:`c = W^{-\top}\mathbf 1` and :math:`S(a) = \sum_j r_j(a, 0)` the total surplus
    (transfers cancel). If :math:`c > 0` this is a simplex whose vertices give everything to
    one agent; :math:`M_p` is convex, so its maximum is at a vertex:
    :math:`n^{-1/p} S(a) / \min_i c_i`. The planner therefore maximises the concave
    :math:`S(a)` (a convex program) and hands the surplus to :math:`\arg\min_i c_i`: exact. If
    some :math:`c_i \le 0` the problem is unbounded.

    *p > 1, tax-feasible transfers.* Each :math:`U_i = \max u_i` bounds agent i, so
    :math:`M_p(U)` is an upper bound (monotonicity) and the best of the maximisers a lower bound;
    for ``p = +inf`` they coincide (exact), otherwise the status is ``"bounded"`` with the gap in
    ``upper_bound - welfare``. With the global damage (``method="auto"`` or ``"dual"``) every
    :math:`U_i` comes at once from the planner's Lagrangian
    (:func:`~sedtheory.principal.weighted_planner.agent_maxima`; milliseconds at n = 1000, exact on
    sparse graphs), the largest are solved exactly, and Hölder's
    :math:`M_p \le M_\infty^{(p-1)/p} M_1^{1/p}` with the utilitarian first best tightens the bound
    near p = 1 (:func:`~sedtheory.principal.first_best_high_p.tax_feasible_dual`). Otherwise
    (``"convex"``, the local commons, and up to :data:`HIGH_P_PROGRAMS` agents under ``"auto"``)
    each :math:`U_i` is a convex program that also keeps every
    value in the p-mean's domain (:math:`\ge 0` for finite p), n programs in all.

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> game = scenarios.apple_picking()
    >>> fb = first_best(game, 0, transfers="tax-feasible")
    >>> fb.status, abs(float(fb.transfers.sum())) < 1e-6
    ('optimal', True)
    >>> first_best(game, 1).status  # unequal column sums of W: lump sums are unbounded
    'unbounded'
    """
    require_commons(game, what="first_best")
    pf, welfare_of = objective_args(p, welfare_of)
    if transfers not in TRANSFER_MODELS:
        raise InvalidParameterError("transfers", transfers, f"use one of {sorted(TRANSFER_MODELS)}")
    if method not in ("auto", "dual", "convex"):
        raise InvalidParameterError("method", method, "use 'auto', 'dual' or 'convex'")
    dual = None
    if pf <= 1.0 and transfers == "tax-feasible" and method != "convex" and planner_dual.applies(game):
        complete = game.n >= DUAL_FROM and game.society.is_complete
        if method == "dual" or complete or planner_dual.separable(game, welfare_of):
            try:
                dual = _dual(
                    game, pf, welfare_of, planner_dual.MAX_ROUNDS if method == "dual" else DUAL_ROUNDS
                )
            except DomainError:
                if method == "dual":
                    raise
            if dual is not None and (dual.status == "optimal" or method == "dual"):
                return dual
            if dual is not None and dual.gap <= CONVEX_CLOSE * max(1.0, abs(dual.upper_bound)):
                return replace(dual, status="optimal")  # as close as the cone program is held to
    elif method == "dual" and not (pf > 1.0 and transfers == "tax-feasible" and planner_dual.applies(game)):
        raise CapabilityError("method", method, "the dual needs tax-feasible transfers and the global damage")
    if pf <= 1.0:
        return _certified(game, _concave(game, pf, transfers, welfare_of), transfers, welfare_of, dual)
    from sedtheory.principal import first_best_high_p  # it builds on this module's program

    if transfers == "lump-sum":
        return first_best_high_p.lump_sum(game, pf, welfare_of)
    many = game.n > HIGH_P_PROGRAMS or pf == math.inf  # p = inf: exact in closed form
    if method == "dual" or (method == "auto" and many and rows_dual(game, welfare_of)):
        return first_best_high_p.tax_feasible_dual(game, pf, welfare_of)
    return first_best_high_p.tax_feasible(game, pf, welfare_of)


def rows_dual(game: CommonsGame, welfare_of: str) -> bool:
    """Whether the p > 1 tax-feasible first best can bound every agent by the planner's dual: the
    global damage and ``W`` held as a sparse matrix (not a complete graph past its dense limit)."""
    if not planner_dual.applies(game):
        return False
    large = game.society.is_complete and game.n > DENSE_COMPLETE_LIMIT
    return not large or planner_dual.separable(game, welfare_of)


def _dual(game: CommonsGame, pf: float, welfare_of: str, rounds: int) -> FirstBest:
    plan = planner_dual.dual_first_best(game, pf, welfare_of, max_rounds=rounds)
    return FirstBest(
        pf, plan.actions, plan.transfers, plan.payoffs, plan.utilities, plan.welfare, plan.upper_bound,
        "tax-feasible", f"Frank-Wolfe with exact Lagrangian dual bounds ({plan.rounds} rounds)", plan.status,
        "sedtheory (planner_dual)",
        "weak duality: the dual of the weighted planner's problem at the p-mean's gradient bounds the first "
        "best for every set of multipliers; the plan is feasible, so its value is a lower bound",
        {"rounds": plan.rounds},
    )  # fmt: skip


def _certified(
    game: CommonsGame, fb: FirstBest, transfers: str, welfare_of: str, dual: FirstBest | None = None
) -> FirstBest:
    """A convex program's tax-feasible first best (global damage) with a proven ``upper_bound``: the
    dual bound at the program's own prices (the gradient of ``M_p`` at its plan; for ``p = -inf``
    the duals of ``values >= s``), whatever the solver's accuracy, and the tighter of it and an
    unfinished dual run's bound and plan. ``"optimal"`` when within :data:`CONVEX_CLOSE`."""
    ref = fb.utilities if welfare_of == "utility" else fb.payoffs
    if transfers != "tax-feasible" or ref is None or fb.status != "optimal" or not planner_dual.applies(game):
        return fb
    prices = fb.details.get("min_prices")
    if fb.p == -math.inf and isinstance(prices, np.ndarray):
        bound = planner_dual.prices_bound(game, prices / prices.sum(), welfare_of)
    else:
        bound = planner_dual.plan_bound(game, fb.p, ref, welfare_of)
    if dual is not None and dual.welfare > fb.welfare:
        fb = replace(fb, actions=dual.actions, transfers=dual.transfers, payoffs=dual.payoffs,
                     utilities=dual.utilities, welfare=dual.welfare)  # fmt: skip
    bound = max(min(bound, math.inf if dual is None else dual.upper_bound), fb.welfare)
    closed = bound - fb.welfare <= CONVEX_CLOSE * max(1.0, abs(bound))
    status = "optimal" if closed else "bounded"
    return replace(fb, upper_bound=bound, status=status, details={**fb.details, "dual_bound": bound})


def _values(u: cp.Expression, r: cp.Expression, welfare_of: str) -> cp.Expression:
    return pick(welfare_of, u, r)


def unbounded_result(pf: float, transfers: str, method: str, reason: str) -> FirstBest:
    """The :class:`FirstBest` of an unbounded planner's problem (welfare and bound ``+inf``, no plan)."""
    return FirstBest(
        pf, None, None, None, None, math.inf, math.inf, transfers, method, "unbounded", "", reason
    )


def _column_sums(game: CommonsGame, welfare_of: str) -> np.ndarray:
    """``W^T m``: how much a unit of payoff of agent j adds to the members' total utility."""
    soc = game.society
    m = soc.masses
    if welfare_of == "payoff":
        return m.copy()
    if soc.is_complete:
        sigma = soc.selfishness
        w = (soc.weight_sums - sigma) / max(soc.n - 1, 1)
        return m * (sigma - w) + float(m @ w)
    return np.asarray(soc.weights.T @ m).ravel()


#: Below this |p| the p-mean surrogate sum (u/c)^p is flat to the solver's tolerance (it is
#: 1 + p sum log(u/c) + ...): a plan 6 % from the optimum passed as optimal at p = 1e-6.
_SMALL_P = 1e-2


def _near_zero(game: CommonsGame, pf: float, transfers: str, welfare_of: str) -> FirstBest:
    """First best for ``0 < |p| < _SMALL_P`` by continuity: ``M_p`` is non-decreasing in p, so the
    well-conditioned programs at p = 0 (for p < 0) or p = _SMALL_P (for p > 0) bound it above, and
    the p = 0 plan evaluated at p is a feasible value below."""
    base = _concave(game, 0.0, transfers, welfare_of)
    if base.status != "optimal" or base.payoffs is None or base.utilities is None:
        return base
    above = base if pf < 0 else _concave(game, _SMALL_P, transfers, welfare_of)
    if above.status != "optimal":
        return above
    lower = pmean(pick(welfare_of, base.utilities, base.payoffs), pf, game.welfare_weights)
    upper = max(float(above.upper_bound), lower)
    status = "optimal" if upper - lower <= 1e-6 * max(1.0, abs(upper)) else "bounded"
    ref = "0" if pf < 0 else f"{_SMALL_P:g}"
    return replace(
        base,
        p=pf,
        welfare=lower,
        upper_bound=upper,
        status=status,
        method=base.method + f" at p = 0 and {ref} (continuity in p)",
        reason=(
            f"|p| < {_SMALL_P:g}: M_p is non-decreasing in p, so M_p <= M_{ref} and the convex program at "
            f"p = {ref} bounds it; the p = 0 plan evaluated at p = {pf:g} gives the value (the direct "
            "program's objective is flat to the solver's tolerance here)"
        ),
    )


def _concave(game: CommonsGame, pf: float, transfers: str, welfare_of: str) -> FirstBest:
    if 0.0 < abs(pf) < _SMALL_P:
        return _near_zero(game, pf, transfers, welfare_of)
    method = f"convex program (cvxpy), {'mean' if pf == 1 else 'concave p-mean surrogate'}"
    if pf == 1.0 and transfers == "lump-sum":
        col = _column_sums(game, welfare_of) / game.society.masses  # per unit of transfer budget
        if np.ptp(col) > 1e-12 * max(1.0, float(np.abs(col).max())):
            return unbounded_result(
                pf,
                transfers,
                "column sums of W",
                f"mean utility = (1/n) sum_j colsum_j r_j with column sums from {col.min():.4g} to "
                f"{col.max():.4g}: moving lump sums towards the largest column sum raises it without limit",
            )
    if transfers == "lump-sum":
        direction = _recession(game, welfare_of, strict=pf <= 0)
        if direction is not None:
            return unbounded_result(
                pf,
                transfers,
                "recession direction (linear program)",
                "budget-balanced transfers t with W t >= 0 "
                + ("> 0 for every agent" if pf <= 0 else "and sum(W t) > 0")
                + " exist, so scaling them up raises M_p without limit",
            )
    a, t, r, u, cons = planner_program(game, transfers)
    values = _values(u, r, welfare_of)
    floor, keep = None, np.arange(game.n)
    if pf == -math.inf:  # max s s.t. values >= s: the constraint's duals are the agents' prices
        if game.welfare_weights is not None:
            keep = np.flatnonzero(game.welfare_weights > 0)
        level = cp.Variable(name="min_value")
        floor = values[keep] / utility_scale(game) >= level
        problem = cp.Problem(cp.Maximize(level), [*cons, floor])
    else:
        problem = cp.Problem(concave_objective(values, pf, utility_scale(game), game.welfare_weights), cons)
    try:
        solver = solve(problem, f"first best (p={pf})")
    except SolverError as exc:
        if exc.status == cp.UNBOUNDED:
            return unbounded_result(
                pf, transfers, method, "the solver reports the planner's problem unbounded"
            )
        if exc.status == cp.INFEASIBLE and pf <= 0:
            raise DomainError(
                "endowment",
                game.endowment,
                f"no plan gives every agent a positive {welfare_of}, which p={pf} needs; raise omega",
            ) from exc
        raise
    pay, util = plan_values(game, as_array(a), as_array(t))
    vals = pick(welfare_of, util, pay)
    w = pmean(vals, pf, game.welfare_weights)
    return FirstBest(
        pf,
        np.clip(as_array(a), 0.0, game.max_harvest),
        balance_transfers(game, as_array(t)),
        pay,
        util,
        w,
        w,
        transfers,
        method,
        "optimal",
        solver,
        "M_p is concave and non-decreasing for p <= 1 and u = W r is concave in (a, t): a convex program",
        {
            "objective": float(problem.value),
            "min_prices": None if floor is None else _prices(game, keep, floor),
        },
    )


def _prices(game: CommonsGame, keep: np.ndarray, floor: cp.Constraint) -> np.ndarray | None:
    """The duals of ``values >= s`` (one per agent; 0 off ``keep``), or ``None`` if unavailable."""
    dual = floor.dual_value
    if dual is None:
        return None
    prices = np.zeros(game.n)
    prices[keep] = np.clip(np.asarray(dual, dtype=float).reshape(-1), 0.0, None)
    return prices if prices.sum() > 0 else None


def _recession(game: CommonsGame, welfare_of: str, strict: bool) -> np.ndarray | None:
    """Budget-balanced transfers that raise utilities without limit, if any.

    Solves ``max s`` s.t. ``sum t = 0``, ``|t| <= 1`` and ``W t >= s`` (``strict``: every
    agent gains, what p <= 0 needs) or ``W t >= 0``, ``s = sum(W t)`` (some agent gains,
    enough for 0 < p <= 1). A positive optimum is a direction of unboundedness.
    """
    n = game.n
    if welfare_of == "payoff":
        return None  # sum r = const along transfers: no direction raises every payoff
    w = sps.csr_matrix(game.society.weights)
    diag = w.diagonal()
    if w.nnz == np.count_nonzero(diag) and np.all(diag > 0):
        # W diagonal and positive (e.g. every sigma_i = 1): W t >= 0 forces t >= 0, and the budget
        # sum_j m_j t_j = 0 then forces t = 0 - no direction, without the linear program.
        return None
    # variables (t, s): maximise s
    c = np.zeros(n + 1)
    c[-1] = -1.0
    eq = sps.hstack([sps.csr_matrix(game.society.masses[None, :]), sps.csr_matrix((1, 1))])
    if strict:
        ub = sps.hstack([-w, sps.csr_matrix(np.ones((n, 1)))])  # s - (W t)_i <= 0
        a_ub, b_ub = ub, np.zeros(n)
        a_eq, b_eq = eq, np.zeros(1)
    else:
        ub = sps.hstack([-w, sps.csr_matrix((n, 1))])  # -(W t) <= 0
        col = _column_sums(game, welfare_of)
        link = sps.hstack([sps.csr_matrix(-col[None, :]), sps.csr_matrix(np.ones((1, 1)))])  # s = 1'W t
        a_ub, b_ub = ub, np.zeros(n)
        a_eq, b_eq = sps.vstack([eq, link]), np.zeros(2)
    bounds = [(-1.0, 1.0)] * n + [(None, 1.0)]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        raise SolverError("recession check of the planner's problem failed", status=str(res.message))
    if -res.fun > 1e-9:
        return np.asarray(res.x[:n])
    return None


def upper_bound(game: CommonsGame, p: float, welfare_of: str = "utility") -> tuple[float, str]:
    """The tightest available proven upper bound on every tax policy's ``M_p`` and its source."""
    require_commons(game, what="upper_bound")
    pf = check_p(p)
    bounds: list[tuple[float, str]] = []
    if pf <= 1 or game.n <= 50 or (pf == math.inf and game.n <= 200) or rows_dual(game, welfare_of):
        fb = first_best(game, pf, transfers="tax-feasible", welfare_of=welfare_of)  # type: ignore[arg-type]
        bounds.append((fb.upper_bound, f"first best with tax-feasible transfers ({fb.status}, {fb.method})"))
        if fb.status == "optimal":  # the lump-sum first best relaxes it: never a tighter bound
            return bounds[0]
    try:
        fb_ls = first_best(game, pf, transfers="lump-sum", welfare_of=welfare_of)  # type: ignore[arg-type]
        bounds.append((fb_ls.upper_bound, f"first best with lump-sum transfers ({fb_ls.status})"))
    except SedtheoryError as exc:  # singular W for the exact p > 1 method: the other bound stands
        bounds.append((math.inf, f"lump-sum first best unavailable: {exc}"))
    return min(bounds, key=lambda b: b[0])
