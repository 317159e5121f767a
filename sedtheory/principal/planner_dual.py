r"""The tax-feasible first best of the global commons, certified by its Lagrangian dual.

:func:`~sedtheory.principal.first_best` with ``transfers="tax-feasible"`` and ``p <= 1`` is a convex
program; as a cone program it took Clarabel 16-62 s at :math:`10^5` agents and stopped up to
:math:`1.7 \cdot 10^{-4}` (relative) below the optimum while reporting "optimal". Here the same
problem is solved through its structure in a second or two, and every answer carries a bound
that holds whatever the iterates' accuracy.

Notes
-----
*Weighted planner.* :func:`~sedtheory.principal.weighted_planner.weighted_plan` solves
:math:`h(\nu) = \max \sum_j \nu_j r_j` over tax-feasible plans exactly, with a bound valid at any
multipliers (weak duality) and a feasible plan.

*p-means.* :math:`M_p` (:math:`p \le 1`) is concave and homogeneous of degree one, so at any
reference :math:`v > 0` its gradient :math:`\mu_i = s_i (v_i / M_p(v))^{p-1}` satisfies
:math:`M_p(x) \le \mu^\top x` for every admissible :math:`x`; for :math:`p = -\infty` every
:math:`\mu` in the simplex does. With :math:`u = W r` the first best is therefore at most
:math:`h(W^\top \mu)`, for any reference: a valid upper bound on every bracket tax with rates in
[0, 1] (:func:`plan_bound`).

*The optimum.* :func:`dual_first_best` runs the Frank-Wolfe method on the plans: from the
plan :math:`(a, t) = 0`, take the weighted planner's plan at the current gradient and move to
the best point on the segment (a golden-section search; utilities are concave in the plan and
:math:`M_p` is concave and non-decreasing, so the objective is concave along it). The
Frank-Wolfe gap is exactly :math:`h(W^\top \mu) - M_p(u)`, so each round gives the bound
and a feasible value; it stops when they meet to :data:`DUAL_TOL` (relative). For
:math:`p = -\infty` the search follows :math:`M_q` with :math:`q = -8, -64, \dots` (its gradient,
normalised, lies in the simplex) while the reported value is the minimum itself; where several
agents are nearly lowest it zigzags, and column generation takes over: a linear program mixes the
plans met so far for the best minimum over the lowest agents, and its dual prices (a point of the
simplex) weight the next weighted planner. On the benchmark's seven-bracket societies (complete
graph) it closed to rounding within 1-5 rounds at every p tried.

*Separable values* (:func:`separable`: ``W`` diagonal, e.g. selfish agents, or
``welfare_of="payoff"``). There Frank-Wolfe zigzags: the optimum gives interior transfers to
every agent whose marginal value meets the budget price, a face of the weighted planner's
solutions that no single one of its plans reaches. Instead, each round takes the weighted
planner's harvests at the current gradient and water-fills the transfers for them: the best
transfers for fixed harvests equalise :math:`s_j \sigma_j \psi'(v_j) / m_j` across the agents off
their bounds (for the minimum, the values themselves), one monotone equation in one price. On
every separable game tried, including the US tax units of :func:`~sedtheory.scenarios.us_incomes`
(selfish, with masses), it closed to rounding in one round.

On sparse graphs Frank-Wolfe (with pairwise steps [2]_) also closes slowly. The bound stays
valid, and :func:`~sedtheory.principal.first_best` then falls back to the cone program.

References
----------
.. [1] M. Frank and P. Wolfe, "An algorithm for quadratic programming", *Naval Research
   Logistics Quarterly* 3 (1956); M. Jaggi, "Revisiting Frank-Wolfe: projection-free sparse
   convex optimization", ICML 2013 (the duality gap as a certificate).
.. [2] S. Lacoste-Julien and M. Jaggi, "On the global linear convergence of Frank-Wolfe
   optimization variants", NeurIPS 2015 (pairwise steps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from sedtheory.errors import DomainError, InvalidParameterError, SolverError
from sedtheory.principal.weighted_planner import (
    WeightedPlan,
    applies,
    golden_section,
    monotone_root,
    require_global,
    weighted_plan,
)
from sedtheory.welfare import check_p, pmean, pmean_rows

__all__ = [
    "DUAL_TOL",
    "DualPlan",
    "MAX_ROUNDS",
    "WeightedPlan",
    "applies",
    "dual_first_best",
    "plan_bound",
    "prices_bound",
    "separable",
    "weighted_plan",
]

#: Relative gap between the dual bound and the plan's value at which the first best is "optimal".
DUAL_TOL = 1e-9

#: Frank-Wolfe rounds at most (each one weighted planner's problem and one line search).
MAX_ROUNDS = 200

#: The surrogate exponents for p = -inf, in order (each followed while it makes progress).
_MIN_SURROGATES = (-8.0, -64.0, -512.0, -4096.0)

#: Frank-Wolfe rounds per surrogate of the minimum at most (it zigzags between plans where
#: several agents are nearly lowest; the column generation then takes over).
_SURROGATE_ROUNDS = 6

#: Agents in the max-min master problem at most per round (the lowest; all when fewer).
_LP_ROWS = 2000

#: Plans kept as columns of the max-min master problem (the most recent).
_MAX_COLUMNS = 60


@dataclass(frozen=True)
class DualPlan:
    """The first best found by :func:`dual_first_best`.

    ``welfare`` is ``M_p`` of the plan's values (a lower bound on the first best) and
    ``upper_bound`` the least dual bound met (an upper bound on it and on every bracket tax);
    ``status`` is ``"optimal"`` when they meet to :data:`DUAL_TOL` relative, else ``"bounded"``.
    """

    p: float
    actions: np.ndarray
    transfers: np.ndarray
    payoffs: np.ndarray
    utilities: np.ndarray
    welfare: float
    upper_bound: float
    rounds: int
    status: str


def _shares(game: Any) -> np.ndarray:
    w = getattr(game, "welfare_weights", None)
    return np.full(game.n, 1.0 / game.n) if w is None else np.asarray(w, dtype=float)


def _values(game: Any, a: np.ndarray, t: np.ndarray, welfare_of: str) -> tuple[np.ndarray, np.ndarray]:
    """``(values, payoffs)`` of a plan: utilities ``W r`` (or the payoffs themselves)."""
    r = game.kernel.plan_payoffs(a, t)
    return (game.society.apply_weights(r) if welfare_of == "utility" else r), r


def _prices(game: Any, mu: np.ndarray, welfare_of: str) -> np.ndarray:
    """``nu = W^T mu`` (or ``mu`` for payoffs): what a unit of each agent's payoff is worth."""
    nu = game.society.apply_weights_transposed(mu) if welfare_of == "utility" else mu
    return np.maximum(nu, 0.0)  # W >= 0: only rounding can make an entry negative


def _gradient(values: np.ndarray, q: float, shares: np.ndarray) -> np.ndarray | None:
    r""":math:`\mu_i = s_i (v_i / M_q(v))^{q-1}` (the supergradient with :math:`\mu^\top v = M_q(v)`),
    or ``None`` where ``M_q`` is not differentiable at ``v`` (a value at 0 with ``q < 1``)."""
    if q == 1.0:
        return shares.copy()
    active = shares > 0
    if np.any(values[active] <= 0.0):
        return None
    m = pmean(values, q, shares)
    with np.errstate(over="ignore", divide="ignore"):
        logs = np.log(np.where(active, values, 1.0)) - math.log(m)
        mu = np.where(active, shares * np.exp((q - 1.0) * logs), 0.0)
    return mu if np.all(np.isfinite(mu)) else None


def plan_bound(game: Any, p: float, reference: np.ndarray, welfare_of: str = "utility") -> float:
    r"""An upper bound on the tax-feasible first best (and on every bracket tax) from any reference.

    ``reference`` is a vector of values (utilities, or payoffs with ``welfare_of="payoff"``), e.g.
    a plan's or an equilibrium's. The bound is :math:`h(W^\top \mu)` with :math:`\mu` the
    gradient of :math:`M_p` at the reference (normalised to the simplex for ``p = -inf``); it is
    valid for every reference and tight at the first best's own values (module Notes).
    ``inf`` when the reference is outside ``M_p``'s differentiable domain.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> from sedtheory.principal import first_best
    >>> game = scenarios.apple_picking()
    >>> reference = game.utilities(solve_equilibrium(game).actions)  # laissez-faire utilities
    >>> bound = plan_bound(game, 0.0, reference)
    >>> bool(bound >= first_best(game, 0.0, transfers="tax-feasible").welfare - 1e-9)
    True
    """
    require_global(game)
    pf = check_p(p)
    if pf > 1.0:
        raise InvalidParameterError("p", p, "the dual bound needs p <= 1 (M_p concave)")
    shares = _shares(game)
    q = _MIN_SURROGATES[-1] if pf == -math.inf else pf
    mu = _gradient(np.asarray(reference, dtype=float), q, shares)
    if mu is None:
        return math.inf
    if pf == -math.inf:
        mu = mu / mu.sum()
    return weighted_plan(game, _prices(game, mu, welfare_of)).bound


def prices_bound(game: Any, prices: np.ndarray, welfare_of: str = "utility") -> float:
    r"""The bound :math:`h(W^\top \mu)` for agent weights ``prices`` in the simplex: an upper bound on
    the tax-feasible first best for ``p = -inf`` (:math:`\min_i x_i \le \mu^\top x`), e.g. from the
    duals of a max-min program's constraints."""
    require_global(game)
    mu = np.asarray(prices, dtype=float)
    if mu.shape != (game.n,) or np.any(mu < 0) or not math.isclose(float(mu.sum()), 1.0, rel_tol=1e-9):
        raise InvalidParameterError("prices", prices, f"give {game.n} non-negative weights summing to 1")
    return weighted_plan(game, _prices(game, mu, welfare_of)).bound


def _line_search(
    game: Any,
    start: tuple[np.ndarray, np.ndarray],
    end: tuple[np.ndarray, np.ndarray],
    q: float,
    shares: np.ndarray,
    welfare_of: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best plan on the segment from ``start`` to ``end`` for ``M_q``: ``(a, t, values)``."""
    da, dt = end[0] - start[0], end[1] - start[1]

    def along(g: float) -> float:
        return _objective(_values(game, start[0] + g * da, start[1] + g * dt, welfare_of)[0], q, shares)

    step = golden_section(along)
    a, t = start[0] + step * da, start[1] + step * dt
    return a, t, _values(game, a, t, welfare_of)[0]


def _objective(values: np.ndarray, q: float, shares: np.ndarray) -> float:
    """``M_q(values)``, ``-inf`` outside its domain."""
    return float(pmean_rows(values[None, :], q, shares)[0])


def dual_first_best(
    game: Any,
    p: float,
    welfare_of: str = "utility",
    tol: float = DUAL_TOL,
    max_rounds: int = MAX_ROUNDS,
) -> DualPlan:
    r"""The tax-feasible first best for :math:`M_p`, ``p <= 1``, by Frank-Wolfe with dual bounds.

    Parameters
    ----------
    game : CommonsGame
        With the global damage (its tax is ignored).
    p : float
        In ``[-inf, 1]``.
    welfare_of : {"utility", "payoff"}
    tol : float
        Relative gap between the bound and the plan's value at which to stop.
    max_rounds : int

    Returns
    -------
    DualPlan
        Status ``"optimal"`` when the gap closed to ``tol``, else ``"bounded"`` (the bound is valid
        either way).

    Raises
    ------
    DomainError
        ``p <= 0`` (or ``p < 1``) and the plan ``a = t = 0`` does not give every agent a positive
        value (the method starts there): raise the endowment, or use the convex program.

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> game = scenarios.apple_picking()
    >>> plan = dual_first_best(game, 1.0)
    >>> plan.status, bool(plan.upper_bound - plan.welfare <= 1e-9 * plan.upper_bound)
    ('optimal', True)
    >>> geo = dual_first_best(game, 0.0)  # equal payoffs at the optimum: Frank-Wolfe zigzags
    >>> geo.status, bool(geo.welfare <= geo.upper_bound)
    ('bounded', True)
    """
    require_global(game)
    pf = check_p(p)
    if pf > 1.0:
        raise InvalidParameterError("p", p, "the dual method needs p <= 1 (M_p concave)")
    if welfare_of not in ("utility", "payoff"):
        raise InvalidParameterError("welfare_of", welfare_of, "use 'utility' or 'payoff'")
    if not (math.isfinite(tol) and tol > 0) or int(max_rounds) != max_rounds or max_rounds < 1:
        raise InvalidParameterError("tol, max_rounds", (tol, max_rounds), "give tol > 0 and max_rounds >= 1")
    state = _Progress(game, pf, welfare_of, tol)
    a, t = np.zeros(game.n), np.zeros(game.n)
    vals, _ = _values(game, a, t, welfare_of)
    if _gradient(vals, _MIN_SURROGATES[0] if pf == -math.inf else pf, state.shares) is None:
        raise DomainError(
            "endowment", game.kernel.omega,
            f"the dual first best starts from the plan without harvests or transfers, whose {welfare_of} "
            f"must be positive for p={pf}; raise omega or use method='convex'",
        )  # fmt: skip
    state.offer(vals, a, t)
    if separable(game, welfare_of):
        return state.result(_alternate(state, vals, max_rounds))
    if pf == -math.inf:
        rounds = _frank_wolfe(state, (a, t, vals), _MIN_SURROGATES, max_rounds)
        if not state.closed():
            rounds += _columns(state, max_rounds - rounds)
    else:
        rounds = _pairwise(state, (a, t, vals), pf, max_rounds)
    return state.result(rounds)


class _Progress:
    """The best plan and the least bound met so far, and the weighted planners' plans (columns)."""

    def __init__(self, game: Any, p: float, welfare_of: str, tol: float) -> None:
        self.game, self.p, self.welfare_of, self.tol = game, p, welfare_of, tol
        self.shares = _shares(game)
        self.best: tuple[float, np.ndarray, np.ndarray] = (-math.inf, np.zeros(game.n), np.zeros(game.n))
        self.upper = math.inf
        self.columns: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def offer(self, values: np.ndarray, a: np.ndarray, t: np.ndarray) -> None:
        w = _objective(values, self.p, self.shares)
        if w > self.best[0]:
            self.best = (w, a, t)

    def oracle(self, mu: np.ndarray) -> WeightedPlan:
        """The weighted planner at agent weights ``mu``: its bound and plan recorded."""
        plan = weighted_plan(self.game, _prices(self.game, mu, self.welfare_of))
        self.upper = min(self.upper, plan.bound)
        own, _ = _values(self.game, plan.actions, plan.transfers, self.welfare_of)
        self.offer(own, plan.actions, plan.transfers)
        self.columns.append((plan.actions, plan.transfers, own))
        return plan

    def oracle_at(self, values: np.ndarray, q: float) -> tuple[WeightedPlan, np.ndarray] | None:
        """The weighted planner at the gradient of ``M_q`` at ``values`` (normalised to the simplex
        for ``p = -inf``): its plan and the agent weights used, or ``None`` off ``M_q``'s domain."""
        mu = _gradient(values, q, self.shares)
        if mu is None:
            return None
        if self.p == -math.inf:
            mu = mu / mu.sum()
        return self.oracle(mu), mu

    def closed(self) -> bool:
        if not (math.isfinite(self.upper) and math.isfinite(self.best[0])):
            return False
        return self.upper - self.best[0] <= self.tol * max(1.0, abs(self.upper))

    def result(self, rounds: int) -> DualPlan:
        w, a, t = self.best
        r = self.game.kernel.plan_payoffs(a, t)
        status = "optimal" if self.closed() else "bounded"
        return DualPlan(
            self.p, a, t, r, self.game.society.apply_weights(r), w, max(self.upper, w), rounds, status
        )


def _frank_wolfe(
    state: _Progress,
    start: tuple[np.ndarray, np.ndarray, np.ndarray],
    surrogates: tuple[float, ...],
    rounds: int,
) -> int:
    """Frank-Wolfe rounds on ``M_q`` for each ``q`` of ``surrogates`` in turn (the next once a round
    no longer improves the current one, or, for the minimum's surrogates, after
    :data:`_SURROGATE_ROUNDS`); returns the rounds used. For ``p = -inf`` the gradient is
    normalised to the simplex, so each bound is valid for the minimum."""
    a, t, vals = start
    queue = list(surrogates)
    q = queue.pop(0)
    used = spent = 0
    while used < rounds and not state.closed():
        used += 1
        found = state.oracle_at(vals, q)
        if found is None:
            break
        plan = found[0]
        if state.closed():
            break
        before = _objective(vals, q, state.shares)
        a, t, vals = _line_search(
            state.game, (a, t), (plan.actions, plan.transfers), q, state.shares, state.welfare_of
        )
        state.offer(vals, a, t)
        spent += 1
        stalled = _objective(vals, q, state.shares) <= before * (1.0 + 1e-12)
        if stalled or (len(surrogates) > 1 and spent >= _SURROGATE_ROUNDS):
            spent = 0
            if not queue:
                break  # the last surrogate is solved: the minimum's own method takes over
            q = queue.pop(0)
    state.columns.append((a, t, vals))
    return used


def _pairwise(
    state: _Progress, start: tuple[np.ndarray, np.ndarray, np.ndarray], q: float, rounds: int
) -> int:
    """Pairwise Frank-Wolfe rounds on ``M_q`` (finite ``q``); returns the rounds used.

    The plan is kept as a mixture of the weighted planners' plans (``start`` first). Each round
    moves weight from the active plan that the gradient rates lowest to the new weighted planner's
    plan, with a golden-section step up to that plan's whole weight. Plain Frank-Wolfe zigzags
    where the optimum mixes bang-bang plans (interior transfers: selfish agents, sparse graphs);
    moving weight between plans lets it drop the bad ones [2]_."""
    active, weight = [start], [1.0]
    a, t, vals = start
    used = 0
    while used < rounds and not state.closed():
        used += 1
        found = state.oracle_at(vals, q)
        if found is None:
            break
        mu = found[1]
        if state.closed():
            break
        y = state.columns.pop()
        away = int(np.argmin([float(mu @ col[2]) for col in active]))
        da, dt = y[0] - active[away][0], y[1] - active[away][1]
        step = _best_step(state, (a, t), (da, dt), q, weight[away])
        if step <= 0.0:  # no pairwise gain: the plain Frank-Wolfe step (towards y from the mixture)
            da, dt = y[0] - a, y[1] - t
            step = _best_step(state, (a, t), (da, dt), q, 1.0)
            weight = [w * (1.0 - step) for w in weight]
        else:
            weight[away] -= step
        a, t = a + step * da, t + step * dt
        vals = _values(state.game, a, t, state.welfare_of)[0]
        state.offer(vals, a, t)
        active.append(y)
        weight.append(step)
        keep = [k for k, w in enumerate(weight) if w > 1e-15][-_MAX_COLUMNS:]
        active, weight = [active[k] for k in keep], [weight[k] for k in keep]
    return used


def _best_step(
    state: _Progress,
    start: tuple[np.ndarray, np.ndarray],
    move: tuple[np.ndarray, np.ndarray],
    q: float,
    most: float,
) -> float:
    """The step in ``[0, most]`` along ``move`` from ``start`` that maximises ``M_q`` (0 if none helps)."""
    if most <= 0.0:
        return 0.0

    def along(g: float) -> float:
        a, t = start[0] + g * move[0], start[1] + g * move[1]
        return _objective(_values(state.game, a, t, state.welfare_of)[0], q, state.shares)

    step = golden_section(along, 0.0, most)
    return step if along(step) > along(0.0) else 0.0


def separable(game: Any, welfare_of: str = "utility") -> bool:
    """Whether each agent's value depends on its own payoff only (``W`` diagonal, or payoffs)."""
    soc = game.society
    return welfare_of == "payoff" or bool(np.array_equal(soc.weight_sums, soc.selfishness))


def _alternate(state: _Progress, vals: np.ndarray, rounds: int) -> int:
    r"""Separable values (``v_j = sigma_j r_j``): the weighted planner's harvests at the current
    gradient, then the best transfers for those harvests by water-filling (exact), in turn.

    Frank-Wolfe zigzags here: the optimum gives interior transfers to every agent whose marginal
    value meets the budget price, a face of the weighted planner's solutions that no single plan
    of it reaches. For fixed harvests the best transfers maximise
    :math:`\sum_j s_j \psi(\sigma_j (r^0_j + t_j))` under the budget and the bounds, which
    equalises :math:`s_j \sigma_j \psi'(v_j) / m_j` (or, for the minimum, the values) across the
    interior: one monotone equation in one price."""
    used = 0
    q = _MIN_SURROGATES[-1] if state.p == -math.inf else state.p
    while used < rounds and not state.closed():
        used += 1
        found = state.oracle_at(vals, q)
        if found is None:
            break
        plan = found[0]
        state.columns.clear()
        a = plan.actions
        t = plan.transfers if state.p == 1.0 else _water(state, a)  # p = 1: the plan is optimal
        vals = _values(state.game, a, t, state.welfare_of)[0]
        state.offer(vals, a, t)
    return used


def _water(state: _Progress, a: np.ndarray) -> np.ndarray:
    """The best transfers for harvests ``a`` with separable values (see :func:`_alternate`)."""
    game = state.game
    k = game.kernel
    mass = game.society.masses
    base = k.plan_payoffs(a, np.zeros(game.n))  # r^0: the payoffs without transfers
    sigma = np.ones(game.n) if state.welfare_of == "payoff" else np.asarray(game.society.selfishness)
    lo, hi = -a, np.full(game.n, float(mass @ a) / k.population)
    live = (state.shares > 0) & (sigma > 0)
    scale = np.where(live, sigma, 1.0)
    ratio = mass / np.where(live, state.shares * sigma, 1.0)

    def transfers(level: float) -> np.ndarray:
        """Every live agent's value at ``level`` (the minimum) or at marginal value ``e^-level``
        per unit of budget (p-means), within the bounds; the others give all they harvest."""
        with np.errstate(over="ignore", divide="ignore"):
            if state.p == -math.inf:
                want = level / scale
            else:
                want = (ratio * math.exp(-level)) ** (1.0 / (state.p - 1.0)) / scale
        return np.clip(np.where(live, want - base, lo), lo, hi)

    if state.p == -math.inf:
        ends = (
            float(np.min((sigma * (base + lo))[live])) - 1.0,
            float(np.max((sigma * (base + hi))[live])) + 1.0,
        )
    else:
        ends = (-700.0, 700.0)
    level = monotone_root(lambda x: float(mass @ transfers(x)), *ends)
    return _balance(transfers(level), mass, lo, hi)


def _balance(t: np.ndarray, mass: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``t`` with the budget's rounding residual taken from the agents' room to their bounds."""
    for _ in range(3):
        rest = float(mass @ t)
        room = t - lo if rest > 0 else hi - t
        total = float(mass @ room)
        if rest == 0.0 or total <= 0.0:
            break
        t = t - math.copysign(1.0, rest) * room * min(1.0, abs(rest) / total)
    return t


def _columns(state: _Progress, rounds: int) -> int:
    r"""Column generation for the minimum: the best mixture of the plans met so far
    (:math:`\max s` s.t. :math:`\sum_l \theta_l u^{(l)} \ge s`, a linear program over the lowest
    agents), whose dual prices on the agents weight the next weighted planner. Mixing plans mixes
    actions and transfers (a feasible plan whose utilities are at least the mixture's, by
    concavity); every dual price vector lies in the simplex, so every bound is valid."""
    shares, game = state.shares, state.game
    support = np.flatnonzero(shares > 0)
    rows = support if support.size <= _LP_ROWS else np.zeros(0, dtype=int)
    binding = np.zeros(0, dtype=int)
    _, a, t = state.best
    used = 0
    while used < rounds and not state.closed():
        used += 1
        vals, _ = _values(game, a, t, state.welfare_of)
        if support.size > _LP_ROWS:  # the lowest agents now, and those the last master priced
            low = support[np.argpartition(vals[support], _LP_ROWS - 1)[:_LP_ROWS]]
            rows = np.union1d(binding, low)
        state.columns = state.columns[-_MAX_COLUMNS:]
        theta, mu_rows = _master(np.stack([c[2][rows] for c in state.columns]))
        a = np.tensordot(theta, np.stack([c[0] for c in state.columns]), axes=1)
        t = np.tensordot(theta, np.stack([c[1] for c in state.columns]), axes=1)
        state.offer(_values(game, a, t, state.welfare_of)[0], a, t)
        mu = np.zeros(game.n)
        mu[rows] = mu_rows
        binding = rows[mu_rows > 0]
        if mu.sum() <= 0.0 or state.closed():
            break
        state.oracle(mu / mu.sum())
    return used


def _master(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``max s`` s.t. ``values.T @ theta >= s``, ``theta`` in the simplex: ``(theta, prices)``, the
    prices (the dual on the rows) in the simplex."""
    k, rows = values.shape
    cost = np.zeros(k + 1)
    cost[-1] = -1.0
    a_ub = np.hstack([-values.T, np.ones((rows, 1))])
    a_eq = np.append(np.ones(k), 0.0)[None, :]
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(rows), A_eq=a_eq, b_eq=[1.0],
                  bounds=[(0.0, None)] * k + [(None, None)], method="highs")  # fmt: skip
    if res.status != 0:
        raise SolverError("the max-min master problem failed", status=str(res.message))
    theta = np.clip(res.x[:k], 0.0, None)
    return theta / theta.sum(), np.clip(-res.ineqlin.marginals, 0.0, None)
