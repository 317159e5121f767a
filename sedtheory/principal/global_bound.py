r"""A global upper bound on the second best: the single-level reformulation solved by SCIP.

The principal's second best over bracket rates in a box :math:`\Phi` is

.. math:: \max_{\phi \in \Phi,\ a} M_p(u(a, \phi)) \quad \text{s.t. } a \text{ is a pure
          equilibrium of the game induced by } \phi,

which, with the maximum taken over *all* equilibria, is the optimistic selection of DESIGN
section 6 (and an upper bound for every other selection). In the commons game agent i's
utility in its own action is, up to terms it does not control,
:math:`f_i(x) = \alpha_i x - k_i T_\phi(x) - \tfrac12 \beta_i x^2` with the intercept
:math:`\alpha_i = \alpha^0_i + \sum_j J_{ij} a_j` affine in the others' actions (the game's kernel).
So "a is an equilibrium" is written exactly, agent by agent, with

* a **state** per agent (binaries): stationary inside piece c (:math:`f'_c(a_i) = 0`), or at a
  break point v (0, a threshold, its cap) with the one-sided derivatives pointing inwards. These
  are linear in :math:`(a, \phi)` (big-M with bounds from interval arithmetic); they pin each
  action onto its piece's maximiser, so solver tolerances cannot let actions drift;
* a **global comparison** with every piece c: :math:`f_i(a_i) \ge \max_{y \in [l_c, h_c]} f_i(y)`.
  The maximum of a concave quadratic on an interval is written by its dual,
  :math:`\min_{\lambda, \mu \ge 0} \pi_c + (\gamma_c + \lambda - \mu)^2 / (2\beta_i) - \lambda l_c
  + \mu h_c` with :math:`\gamma_c = \alpha_i - k_i \phi_c`, so "for all y" becomes "there exist
  :math:`\lambda, \mu`" (endpoint comparisons when :math:`\beta_i = 0`);
* the tax :math:`T_\phi(a_j) = \sum_b \phi_b \ell_{jb}` with bracket shares :math:`\ell_{jb}` linear
  in the state (bilinear terms :math:`\phi_b \ell_{jb}`, branched on by SCIP).

Utilities are :math:`u = W r` with :math:`r_j = \omega + a_j - T_j + R/n - a_j^2/(2\theta_j) -
\kappa S_j^2/(2|N[j]|)` (the kernel's coefficients), and :math:`M_p` enters through a monotone
transform (mean, minimum, maximum with binaries, :math:`\sum w v^p`, :math:`\sum w \log v`), with
values scaled by the incumbent so that :math:`p < 0` epigraphs are well conditioned. SCIP solves
the nonconvex mixed-integer program to global optimality by spatial branch and bound; its dual
bound, mapped back to :math:`M_p`, is the certificate. The search's design is handed to SCIP as
a starting solution (rates and actions; SCIP completes the rest).

References
----------
.. [1] K. Bestuzheva et al., "Global optimization of mixed-integer nonlinear programs with SCIP 8",
   *Journal of Global Optimization* 91 (2025) 287-310.
.. [2] S. Dempe, *Foundations of Bilevel Programming*, Kluwer, 2002 (single-level reformulations).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.equilibrium.regimes import intercept_map
from sedtheory.errors import CapabilityError, InvalidParameterError, SolverError
from sedtheory.games.commons import formulas as F
from sedtheory.objective import Objective

__all__ = ["SecondBestBound", "second_best_bound"]


@dataclass(frozen=True)
class SecondBestBound:
    """What the global solver proved about the second best over a box of rates.

    Attributes
    ----------
    upper : float
        A proven upper bound on :math:`M_p` at every equilibrium of every rate vector in the box
        (``inf`` when the solver proved nothing).
    primal : float
        The best :math:`M_p` the solver found (``-inf`` if none); its rates are ``x``.
    x, actions : numpy.ndarray or None
        The solver's best rates and equilibrium (to be re-verified exactly before use).
    status : str
        SCIP's status (``"optimal"``, ``"timelimit"``, ...).
    seconds : float
    nodes : int
        Branch-and-bound nodes.
    incumbent_accepted : bool
        Whether the starting design was accepted as a feasible solution.
    method : str
        The solver and formulation, for certificates.
    details : dict
        Sizes of the program (variables, binaries, constraints) and the transform used.
    """

    upper: float
    primal: float
    x: np.ndarray | None
    actions: np.ndarray | None
    status: str
    seconds: float
    nodes: int
    incumbent_accepted: bool
    method: str
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class _Coefficients:
    """The commons game's numbers the program needs (all from its kernel)."""

    n: int
    tau: np.ndarray  # thresholds (B,)
    width: np.ndarray  # widths of the bounded brackets (B - 1,)
    shares: Callable[[np.ndarray], np.ndarray]  # the kernel's rate_shares: T(x) = shares(x) @ rates
    lo: np.ndarray  # rate box (B,)
    hi: np.ndarray
    k: np.ndarray
    beta: np.ndarray
    alpha0: np.ndarray
    jac: np.ndarray  # d alpha_i / d a_j (n, n), zero diagonal
    cap: np.ndarray  # every best reply lies in [0, cap_i]
    omega: float
    cost: np.ndarray  # 1/(2 theta_j)
    dmg: np.ndarray  # kappa / (2 |N[j]|)
    agg: np.ndarray  # S = agg @ a (global: a row of ones per agent)
    weights: Any  # W (sparse)


def _coefficients(game: Any, box: np.ndarray) -> _Coefficients:
    kernel = getattr(game, "kernel", None)
    if kernel is None or not hasattr(kernel, "intercepts"):
        raise CapabilityError(
            "certify",
            True,
            f"a global certificate exists for the commons game, not for {type(game).__name__}",
        )
    lo, hi = np.asarray(box[0], float), np.asarray(box[1], float)
    amax = float(game.max_harvest)
    cap = kernel.reply_bound(float(np.max(np.abs(hi))), fallback=np.full(game.n, amax))
    cap = np.where(game.society.weight_sums == 0, 0.0, cap)  # agents who care about nobody: 0
    if not np.all(np.isfinite(cap)):
        bad = np.flatnonzero(~np.isfinite(cap))[:10].tolist()
        raise InvalidParameterError(
            "max_harvest", amax, f"agents {bad} have unbounded replies; give a finite max_harvest to certify"
        )
    tau = np.asarray(kernel.thresholds, float)
    alpha0, jac = intercept_map(game)
    if kernel.local is None:
        agg = np.ones((game.n, game.n))
    else:
        agg = kernel.local[1].toarray()
    return _Coefficients(
        game.n,
        tau,
        np.diff(tau),
        kernel.rate_shares,
        lo,
        hi,
        np.asarray(kernel.k),
        np.asarray(kernel.beta),
        alpha0,
        jac,
        cap,
        float(kernel.omega),
        np.asarray(kernel.cost_weights),
        np.asarray(kernel.damage_weights),
        agg,
        game.society.weights,
    )


def _pieces(co: _Coefficients, i: int) -> tuple[list[tuple[int, float, float]], list[float]]:
    """Agent i's pieces ``(bracket, low, high)`` on ``[0, cap_i]`` and its break points."""
    cap = float(co.cap[i])
    pieces = []
    for b, t in enumerate(co.tau):
        if t < cap:
            top = cap if b + 1 == co.tau.size else min(float(co.tau[b + 1]), cap)
            pieces.append((b, float(t), top))
    points = sorted({0.0, cap, *[float(t) for t in co.tau if 0.0 < t < cap]})
    return pieces, points


class _Program:
    """The SCIP model and its variables (rates, actions, taxes, aggregates, values)."""

    def __init__(self, co: _Coefficients, budget_cut: bool) -> None:
        from pyscipopt import Model

        self.co = co
        self.budget_cut = budget_cut
        self.m = Model("sedtheory second best")
        self.m.hideOutput()
        m, n = self.m, co.n
        self.phi = [m.addVar(f"phi{b}", lb=float(co.lo[b]), ub=float(co.hi[b])) for b in range(co.tau.size)]
        self.a = [m.addVar(f"a{i}", lb=0.0, ub=float(co.cap[i])) for i in range(n)]
        self.binaries = 0
        a_hi = co.cap
        self.alpha_lo = co.alpha0 + np.minimum(co.jac, 0.0) @ a_hi
        self.alpha_hi = co.alpha0 + np.maximum(co.jac, 0.0) @ a_hi
        # One variable per intercept: each agent's own-action problem then has one bilinear term
        # alpha_i a_i (not a row of J a_j a_i products), which keeps SCIP's relaxation tight.
        self.alpha_var = []
        for i in range(n):
            al = m.addVar(f"alpha{i}", lb=float(self.alpha_lo[i]), ub=float(self.alpha_hi[i]))
            row = co.jac[i]
            m.addCons(al == float(co.alpha0[i]) + sum(float(row[j]) * self.a[j] for j in np.flatnonzero(row)))
            self.alpha_var.append(al)
        self.tax = [self._agent(i) for i in range(n)]

    def alpha(self, i: int) -> Any:
        return self.alpha_var[i]

    def _slope_bound(self, i: int, b: int, at_lo: float, at_hi: float) -> float:
        """max |f'_b(x)| over the box for x in [at_lo, at_hi] (big-M)."""
        co = self.co
        k, beta = float(co.k[i]), float(co.beta[i])
        ends = [
            al - k * ph - beta * x
            for al in (self.alpha_lo[i], self.alpha_hi[i])
            for ph in (co.lo[b], co.hi[b])
            for x in (at_lo, at_hi)
        ]
        return float(max(abs(e) for e in ends)) + 1.0

    def _agent(self, i: int) -> Any:
        """Agent i's state, its bracket shares, the equilibrium constraints; returns T_i."""
        co, m = self.co, self.m
        pieces, points = _pieces(co, i)
        if co.cap[i] == 0.0:
            return 0.0
        zin = [m.addVar(f"in{i}_{b}", vtype="B") for b, _, _ in pieces]
        zpt = [m.addVar(f"at{i}_{j}", vtype="B") for j, _ in enumerate(points)]
        self.binaries += len(zin) + len(zpt)
        m.addCons(sum(zin) + sum(zpt) == 1)
        xs = []
        for z, (b, low, high) in zip(zin, pieces, strict=True):
            x = m.addVar(f"x{i}_{b}", lb=0.0, ub=high)
            m.addCons(x >= low * z)
            m.addCons(x <= high * z)
            xs.append(x)
        m.addCons(self.a[i] == sum(xs) + sum(v * z for v, z in zip(points, zpt, strict=True)))
        shares = []
        for b in range(co.tau.size):
            ell: Any = sum(float(co.shares(np.asarray(v))[b]) * z for v, z in zip(points, zpt, strict=True))
            for z, x, (c, low, _) in zip(zin, xs, pieces, strict=True):
                if c > b:
                    ell = ell + float(co.width[b]) * z
                elif c == b:
                    ell = ell + x - low * z
            shares.append(ell)
        tax = m.addVar(f"T{i}", lb=0.0, ub=float(co.shares(co.cap[i]) @ co.hi))
        m.addCons(tax == sum(p * e for p, e in zip(self.phi, shares, strict=True)))
        self._stationarity(i, pieces, points, zin, zpt, xs)
        self._global(i, pieces, tax)
        return tax

    def _derivative(self, i: int, b: int, x: Any) -> Any:
        return self.alpha(i) - float(self.co.k[i]) * self.phi[b] - float(self.co.beta[i]) * x

    def _stationarity(self, i: int, pieces: list, points: list, zin: list, zpt: list, xs: list) -> None:
        """The state's first-order conditions (linear, big-M)."""
        m = self.m
        for z, (b, low, high) in zip(zin, pieces, strict=True):
            big = self._slope_bound(i, b, low, high)
            d = self._derivative(i, b, self.a[i])
            m.addCons(d <= big * (1 - z))
            m.addCons(d >= -big * (1 - z))
        for z, v in zip(zpt, points, strict=True):
            for b, low, high in pieces:
                if high == v and low < v:  # the piece ending at v: left slope >= 0
                    m.addCons(self._derivative(i, b, v) >= -self._slope_bound(i, b, v, v) * (1 - z))
                if low == v and high > v:  # the piece starting at v: right slope <= 0
                    m.addCons(self._derivative(i, b, v) <= self._slope_bound(i, b, v, v) * (1 - z))

    def _global(self, i: int, pieces: list, tax: Any) -> None:
        """f_i(a_i) >= max of f_i over every piece (dual form; endpoints when beta_i = 0)."""
        co, m = self.co, self.m
        k, beta = float(co.k[i]), float(co.beta[i])
        alpha = self.alpha(i)
        own = F.own_objective(self.a[i], alpha, k, tax, beta)
        for b, low, high in pieces:
            t_low = sum(float(co.shares(np.asarray(low))[c]) * self.phi[c] for c in range(b))  # T(l_b)
            base = -k * (t_low - self.phi[b] * low)  # f on piece b: base + gamma y - beta y^2 / 2
            gamma = alpha - k * self.phi[b]
            if beta <= 0.0:
                for y in (low, high):
                    m.addCons(own >= base + gamma * y)
                continue
            g_lo = float(self.alpha_lo[i] - max(k * co.lo[b], k * co.hi[b]))
            g_hi = float(self.alpha_hi[i] - min(k * co.lo[b], k * co.hi[b]))
            lam = m.addVar(f"lam{i}_{b}", lb=0.0, ub=max(0.0, beta * low - g_lo))
            mu = m.addVar(f"mu{i}_{b}", lb=0.0, ub=max(0.0, g_hi - beta * high))
            shifted = gamma + lam - mu
            m.addCons(own >= base + shifted * shifted / (2.0 * beta) - lam * low + mu * high)

    def values(self, of: str) -> tuple[list[Any], np.ndarray]:
        """The objective's values (utilities or own payoffs) as linear expressions of hypograph
        variables ``r_j <= payoff_j`` (exact at the optimum: every value is non-decreasing in every
        ``r_j``), and an upper bound on each value."""
        co, m, n = self.co, self.m, self.co.n
        rows = {tuple(r) for r in co.agg.astype(float).tolist()}
        total: dict[tuple[float, ...], Any] = {}
        for row in rows:
            s_hi = float(np.dot(row, co.cap))
            s = m.addVar(f"S{len(total)}", lb=0.0, ub=s_hi)
            m.addCons(s == sum(float(c) * self.a[j] for j, c in enumerate(row) if c))
            total[row] = s
        t_hi = co.shares(co.cap) @ co.hi
        lump = sum(self.tax) / n
        r_hi = co.omega + co.cap + t_hi.sum() / n
        s_max = co.agg.astype(float) @ co.cap
        r_lo = co.omega - t_hi - co.cost * co.cap**2 - co.dmg * s_max**2  # every payoff is above
        r: list[Any] = []
        free: list[Any] = []
        for j in range(n):
            s = total[tuple(co.agg[j].astype(float).tolist())]
            rj = m.addVar(f"r{j}", lb=float(r_lo[j]), ub=float(r_hi[j]))
            cost = F.effort_cost(self.a[j], float(co.cost[j])) if co.cost[j] > 0 else 0.0
            payoff = F.payoff(
                co.omega, self.a[j], F.tax_transfer(self.tax[j], lump), cost, float(co.dmg[j]) * s * s
            )
            m.addCons(rj <= payoff)
            r.append(rj)
            free.append(F.payoff(co.omega, self.a[j], 0.0, cost, float(co.dmg[j]) * s * s))
        # Redistribution is budget balanced: the payoffs' sum is free of the tax. Implied by the
        # rows above, but without bilinear terms: it tightens SCIP's relaxation for mean-like
        # objectives (p > 0; measured on the seed: p = 1 gap 2.5e-3 -> 5.5e-4 after 60 s) and
        # slows the minimum (p = -inf: 22 s -> over 60 s), so it is added for p > 0 only.
        if self.budget_cut:
            m.addCons(sum(r) <= sum(free))
        if of == "payoff":
            return r, r_hi
        w = co.weights.tocsr()
        u = [
            sum(float(w.data[q]) * r[int(w.indices[q])] for q in range(w.indptr[i], w.indptr[i + 1]))
            for i in range(n)
        ]
        return u, np.asarray(w @ r_hi, dtype=float).reshape(-1)


@dataclass(frozen=True)
class _Transform:
    """How SCIP's objective maps back to M_p: ``mp(z)``, and whether SCIP minimises."""

    p: float
    scale: float
    minimise: bool
    note: str

    def mp(self, z: float) -> float:
        p, c = self.p, self.scale
        if not math.isfinite(z):
            return math.inf if (z > 0) != self.minimise else (0.0 if p < 0 else -math.inf)
        if p == 1 or math.isinf(p):
            return z * c
        if p == 0:
            return c * math.exp(z)
        if z <= 0:
            return math.inf if p < 0 else 0.0
        return c * z ** (1.0 / p)


def _positive_floor(p: float, w: np.ndarray, incumbent: float, v_hi: np.ndarray) -> float:
    """A value below which no agent's value can be at an optimum better than ``incumbent`` (p <= 0):
    ``M_p(v) <= w_i^{1/p} v_i`` for p < 0 and ``M_0(v) <= v_i^{w_i} max(v)^{1 - w_i}``."""
    wmin = float(w[w > 0].min())
    if p < 0:
        return 0.5 * incumbent * wmin ** (-1.0 / p)
    top = max(float(v_hi.max()), incumbent)
    return float(0.5 * (incumbent / top ** (1.0 - wmin)) ** (1.0 / wmin))


def _objective(
    prog: _Program, values: list, v_hi: np.ndarray, objective: Objective, incumbent: float
) -> _Transform:
    """Put M_p (through a monotone transform) on the program; values scaled by ``scale``."""
    m, p, n = prog.m, objective.p, prog.co.n
    w = np.full(n, 1.0 / n) if objective.weights is None else np.asarray(objective.weights, float)
    live = [i for i in range(n) if w[i] > 0]
    scale = max(1.0, abs(incumbent)) if math.isfinite(incumbent) else max(1.0, float(np.abs(v_hi).max()))
    if p == 0:
        scale /= math.e  # sum w log(v / c) near 1, where a relative gap means what it says
    t = m.addVar("objective", lb=-math.inf, ub=math.inf)
    if math.isinf(p) or p == 1:
        if p == -math.inf:
            for i in live:
                m.addCons(t * scale <= values[i])
        elif p == math.inf:
            pick = [m.addVar(f"best{i}", vtype="B") for i in live]
            m.addCons(sum(pick) == 1)
            m.addCons(t * scale <= sum(z * values[i] for z, i in zip(pick, live, strict=True)))
        else:
            m.addCons(t * scale <= sum(float(w[i]) * values[i] for i in live))
        m.setObjective(t, "maximize")
        return _Transform(p, scale, False, "M_p directly")
    floor = 0.0 if p > 0 else _positive_floor(p, w, incumbent, v_hi) / scale
    terms = []
    for i in live:
        v = m.addVar(f"v{i}", lb=floor, ub=max(float(v_hi[i]) / scale, floor))
        m.addCons(v * scale <= values[i])
        e = m.addVar(f"e{i}", lb=-math.inf, ub=math.inf)
        if p == 0:
            from pyscipopt import log

            m.addCons(e <= log(v))
        elif p > 0:
            m.addCons(e <= v**p)
        else:
            m.addCons(e >= v**p)
        terms.append(float(w[i]) * e)
    m.addCons(t == sum(terms)) if p < 0 else m.addCons(t <= sum(terms))
    m.setObjective(t, "minimize" if p < 0 else "maximize")
    note = {True: "sum w log(v/c)", False: f"sum w (v/c)^p, values >= {floor * scale:.3g}"}[p == 0]
    return _Transform(p, scale, p < 0, note)


#: SCIP's settings: one thread, a fixed seed, the relative gap it stops at (on its own objective).
_SCIP_PARAMETERS = {"parallel/maxnthreads": 1, "randomization/randomseedshift": 0}


def second_best_bound(
    game: Any,
    objective: Objective,
    box: np.ndarray,
    *,
    time_limit: float = 60.0,
    incumbent: tuple[np.ndarray, np.ndarray, float] | None = None,
    gap: float = 5e-7,
) -> SecondBestBound:
    r"""A global upper bound on :math:`M_p` over every equilibrium of every rate vector in ``box``.

    Parameters
    ----------
    game : CommonsGame
        Global or local commons (its thresholds are kept; its rates are ignored).
    objective : Objective
    box : numpy.ndarray
        ``(2, B)``: low and high rates.
    time_limit : float
        Seconds for SCIP; when it stops early, ``upper`` is its dual bound at that moment.
    incumbent : (rates, actions, welfare), optional
        A verified design: SCIP starts from it and scales the objective by its welfare.
    gap : float
        The relative gap on :math:`M_p` at which SCIP stops (its own limit on the transformed
        objective is ``gap * min(1, |p|)`` for ``p`` not in ``{0, 1, +-inf}``).

    Returns
    -------
    SecondBestBound

    Raises
    ------
    CapabilityError
        If the game is not a commons game.
    SolverError
        If SCIP ends without a bound (its status is in the message).

    Notes
    -----
    The program and why it is exact are in the module's docstring. The bound is valid for the
    optimistic selection (the best equilibrium at every rate vector), hence for every selection.

    Examples
    --------
    >>> import numpy as np
    >>> from sedtheory import CommonsGame, Objective, PiecewiseLinearTax, Society
    >>> game = CommonsGame(Society([1.0, 1.0], [10.0, 10.0]), PiecewiseLinearTax([0.0], [0.0]),
    ...                    damage=0.1, endowment=10.0, max_harvest=20.0)
    >>> bound = second_best_bound(game, Objective(1.0), np.array([[0.0], [1.0]]), time_limit=20)
    >>> round(bound.upper, 4), round(float(bound.x[0]), 3)
    (11.6667, 0.667)

    By hand: the equilibrium is :math:`a = 5 (1 - \phi/2)` and each payoff
    :math:`10 + a - 0.15 a^2` peaks at :math:`a = 10/3`, i.e. :math:`\phi = 2/3`, welfare
    :math:`35/3`.
    """
    t0 = time.perf_counter()
    co = _coefficients(game, np.asarray(box, dtype=float))
    prog = _Program(co, budget_cut=objective.p > 0)
    values, v_hi = prog.values(objective.of)
    inc_value = _reference(game, objective, box) if incumbent is None else float(incumbent[2])
    transform = _objective(prog, values, v_hi, objective, inc_value)
    m = prog.m
    for name, value in _SCIP_PARAMETERS.items():
        m.setParam(name, value)
    m.setParam("limits/time", float(time_limit))
    p = objective.p
    m.setParam("limits/gap", float(gap) * (1.0 if p in (0.0, 1.0) or math.isinf(p) else min(1.0, abs(p))))
    accepted = False
    if incumbent is not None:
        accepted = _start(prog, incumbent[0], incumbent[1])
    try:
        m.optimize()
    except Exception as exc:  # SCIP reports its failures as bare exceptions
        raise SolverError(f"SCIP failed on the second-best program: {exc}", "error") from exc
    status = str(m.getStatus())
    if status in ("infeasible", "unbounded", "inforunbd"):
        raise SolverError(f"SCIP found the second-best program {status}: a modelling error", status)
    upper = transform.mp(float(m.getDualbound()))
    x = actions = None
    primal = -math.inf
    if m.getNSols() > 0:
        sol = m.getBestSol()
        x = np.array([m.getSolVal(sol, v) for v in prog.phi])
        actions = np.array([m.getSolVal(sol, v) for v in prog.a])
        primal = transform.mp(float(m.getPrimalbound()))
    version = m.version()
    return SecondBestBound(
        upper=float(upper),
        primal=float(primal),
        x=x,
        actions=actions,
        status=status,
        seconds=time.perf_counter() - t0,
        nodes=int(m.getNNodes()),
        incumbent_accepted=accepted,
        method=f"SCIP {version} on the single-level reformulation (objective {transform.note})",
        details={"variables": m.getNVars(), "binaries": prog.binaries, "constraints": m.getNConss()},
    )


def _reference(game: Any, objective: Objective, box: np.ndarray) -> float:
    """The objective at the solver's equilibrium of the box's lowest rates: a verified value that
    scales the program and, for ``p <= 0``, justifies the positive floor on values."""
    from sedtheory.equilibrium import solve_equilibrium
    from sedtheory.taxes import PiecewiseLinearTax

    low = game.with_policy(PiecewiseLinearTax(game.tax.thresholds, np.asarray(box, float)[0]))
    eq = solve_equilibrium(low)
    value = float(objective.evaluate(objective.values(eq.utilities, eq.payoffs)))
    if objective.p <= 0 and not value > 0:
        raise InvalidParameterError(
            "incumbent", None, f"M_p at the lowest rates is {value:.4g}; pass a design with positive welfare"
        )
    return value


def _start(prog: _Program, rates: np.ndarray, actions: np.ndarray) -> bool:
    """Give SCIP the verified design as a partial solution (rates and actions; SCIP completes it)."""
    m = prog.m
    sol = m.createPartialSol()
    for var, value in zip(prog.phi, np.asarray(rates, float), strict=True):
        m.setSolVal(sol, var, float(value))
    for var, value, cap in zip(prog.a, np.asarray(actions, float), prog.co.cap, strict=True):
        m.setSolVal(sol, var, float(min(max(value, 0.0), cap)))
    return bool(m.addSol(sol))
