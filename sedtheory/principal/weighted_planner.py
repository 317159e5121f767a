r"""The weighted planner of the global commons, solved exactly through its Lagrangian dual.

The building block of :mod:`sedtheory.principal.planner_dual`: the tax-feasible first best for
a weighted sum of payoffs, with a bound valid at any multipliers and a feasible plan.

Notes
-----
*Weighted planner.* For weights :math:`\nu \ge 0` on the agents' payoffs,
:math:`h(\nu) = \max \sum_j \nu_j r_j` over plans :math:`0 \le a \le a_{\max}`,
:math:`\sum_j m_j t_j = 0`, :math:`-a_j \le t_j \le \bar a = A/N` (:math:`A = \sum_j m_j a_j`),
with :math:`r_j = \omega + a_j + t_j - c_j a_j^2 - d A^2` (:math:`c_j = 1/(2\theta_j)`,
:math:`d = \kappa/(2N)`). Price the budget with :math:`\lambda` and the aggregate with
:math:`\eta`: the transfers go to a bound (:math:`\bar a` where :math:`\nu_j > \lambda m_j`,
:math:`-a_j` where :math:`\nu_j < \lambda m_j`) and every harvest solves its own 1-D problem, so

.. math::
    \Phi(\lambda, \eta) = \omega V + \sum_j \max_{0 \le a \le a_{\max}}
    \big[(\max(\nu_j, \lambda m_j) - \eta m_j) a - \nu_j c_j a^2\big]
    + \max_{0 \le A \le N a_{\max}} \big[(\beta + \eta) A - V d A^2\big],

:math:`V = \sum_j \nu_j`, :math:`\beta = \sum_j (\nu_j - \lambda m_j)^+ / N`, in closed form.
By weak duality :math:`h(\nu) \le \Phi(\lambda, \eta)` for *every* :math:`(\lambda, \eta)`.
:math:`\Phi` is jointly convex; :func:`weighted_plan` minimises it exactly in :math:`\eta`
(a monotone piecewise-linear equation) and in :math:`\lambda` (a monotone equation whose jumps sit
at the ratios :math:`\nu_j / m_j`: a binary search over them, then a root between two), and
recovers a feasible plan: the harvests at :math:`\eta^*` and, for those harvests, the best
transfers (a fractional knapsack by :math:`\nu_j / m_j`). The plan's value is a lower bound on
:math:`h(\nu)`, :math:`\Phi` an upper one.

Agents without curvature (:math:`\nu_j c_j = 0`: nobody weighs their payoff, or no effort
cost) make the slope in :math:`\lambda` set-valued; the budget price is then found by a
golden-section search on the convex :math:`\min_\eta \Phi(\lambda, \eta)`, and their common
harvest by a golden-section search on the plan's value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sps

from sedtheory.errors import CapabilityError, InvalidParameterError

__all__ = [
    "WeightedPlan",
    "agent_maxima",
    "applies",
    "golden_section",
    "monotone_root",
    "require_global",
    "weight_rows",
    "weighted_plan",
]

#: Golden-section steps (the bracket shrinks to 0.618^75 ~ 2e-16 of its width).
GOLDEN_STEPS = 75
#: Bisection steps of :func:`agent_maxima` for every row's aggregate price (2^-64 of the bracket).
ROW_STEPS = 64
#: Relative margin added to :func:`agent_maxima`'s bounds for the rounding of their sums.
ROUNDING = 1e-13
#: Entries of ``W`` that :func:`agent_maxima` handles at once (memory: a few arrays of this size).
ROW_CHUNK = 1_000_000


@dataclass(frozen=True)
class WeightedPlan:
    r"""The weighted planner's problem :math:`h(\nu) = \max \sum_j \nu_j r_j` solved by its dual.

    Attributes
    ----------
    weights : numpy.ndarray
        :math:`\nu`, one per agent.
    bound : float
        :math:`\Phi(\lambda, \eta) \ge h(\nu)` (weak duality: valid for any prices).
    value : float
        :math:`\sum_j \nu_j r_j` of the plan below (a feasible plan, so at most :math:`h(\nu)`).
    actions, transfers : numpy.ndarray
        The plan: harvests in :math:`[0, a_{\max}]`, transfers with :math:`\sum_j m_j t_j = 0`
        and :math:`-a_j \le t_j \le \bar a`.
    budget_price, aggregate_price : float
        The multipliers :math:`\lambda` (budget) and :math:`\eta` (aggregate).
    """

    weights: np.ndarray
    bound: float
    value: float
    actions: np.ndarray
    transfers: np.ndarray
    budget_price: float
    aggregate_price: float

    @property
    def gap(self) -> float:
        """``bound - value``: how far the plan can be from the weighted optimum."""
        return float(self.bound - self.value)


@dataclass(frozen=True)
class _Planner:
    """The data of the weighted planner's problem (a global commons)."""

    mass: np.ndarray
    population: float
    cost: np.ndarray
    damage: float
    omega: float
    amax: float

    @classmethod
    def of(cls, game: Any) -> _Planner:
        k = game.kernel
        mass = np.asarray(game.society.masses, dtype=float)
        return cls(mass, float(k.population), np.asarray(k.cost_weights, dtype=float),
                   float(k.kappa) / (2.0 * float(k.population)), float(k.omega), float(k.amax))  # fmt: skip


def applies(game: Any) -> bool:
    """Whether the dual method applies: a commons game whose damage is the global one."""
    return bool(getattr(game, "uses_global_formulas", False)) and hasattr(game, "kernel")


def require_global(game: Any) -> None:
    if not applies(game):
        raise CapabilityError(
            "game", type(game).__name__, "the planner's dual needs a commons game with the global damage"
        )


def _flat(nu: np.ndarray, data: _Planner) -> np.ndarray:
    """Agents treated as without curvature: ``nu_j c_j = 0``, or (with a finite ``a_max``) below
    1e-13 of the largest, where ``1 / (2 nu_j c_j)`` would overflow."""
    curv = nu * data.cost
    if not math.isfinite(data.amax):
        return curv <= 0.0
    return curv <= 1e-13 * float(np.max(curv, initial=0.0))


class _Prices:
    """The Lagrangian at one budget price: harvests and the aggregate as functions of ``eta``."""

    def __init__(self, data: _Planner, nu: np.ndarray, lam: float) -> None:
        self.data, self.nu = data, nu
        self.top = np.maximum(nu, lam * data.mass)  # max(nu_j, lam m_j)
        self.beta = float(np.sum(np.maximum(nu - lam * data.mass, 0.0))) / data.population
        self.flat = _flat(nu, data)
        # a flat agent's term is bounded by its linear part (dropping -c a^2 only raises Phi)
        self.curv = np.where(self.flat, 0.0, nu * data.cost)
        self.half = np.where(self.flat, 0.0, 0.5 / np.where(self.flat, 1.0, self.curv))
        self.big = float(nu.sum()) * data.damage  # V d
        self.cap = data.population * data.amax

    def harvests(self, eta: float) -> np.ndarray:
        q = self.top - eta * self.data.mass
        a = np.clip(q * self.half, 0.0, self.data.amax)
        if np.any(self.flat):
            a = np.where(self.flat, np.where(q > 0.0, self.data.amax, 0.0), a)
        return a

    def aggregate(self, eta: float) -> float:
        z = self.beta + eta
        if self.big > 0.0:
            return min(max(z / (2.0 * self.big), 0.0), self.cap)
        return self.cap if z > 0.0 else 0.0

    def excess(self, eta: float) -> float:
        """``A(eta) - sum_j m_j a_j(eta)``: non-decreasing in ``eta``."""
        return self.aggregate(eta) - float(self.harvests(eta) @ self.data.mass)

    def value(self, eta: float) -> float:
        """``Phi(lam, eta)`` (``+inf`` where a harvest or the aggregate is unbounded)."""
        a = self.harvests(eta)
        if not np.all(np.isfinite(a)):
            return math.inf
        q = self.top - eta * self.data.mass
        z, agg = self.beta + eta, self.aggregate(eta)
        if not math.isfinite(agg):
            return math.inf
        tail = z * agg - self.big * agg * agg if agg > 0.0 else 0.0
        return float(self.data.omega * self.nu.sum() + np.sum(q * a - self.curv * a * a) + tail)

    def least(self) -> float:
        """``min_eta Phi(lam, eta)``."""
        return self.value(self.best_eta())

    def best_eta(self) -> float:
        """The ``eta`` minimising ``Phi(lam, .)``: the root of :meth:`excess`."""
        lo = -self.beta
        if math.isinf(self.data.amax) and np.any(self.flat):  # a free harvest must not be unbounded
            lo = max(lo, float(np.max(self.top[self.flat] / self.data.mass[self.flat])))
        if self.big <= 0.0 and math.isinf(self.cap):
            # no damage and no harvest cap: the aggregate's term (beta + eta) A is unbounded for
            # eta > -beta, and Phi falls in eta below it, so -beta is the minimiser
            return lo
        hi = max(lo, float(np.max(self.top / self.data.mass)))
        return monotone_root(self.excess, lo, hi)


def monotone_root(f: Any, lo: float, hi: float) -> float:
    """A sign change of the non-decreasing ``f`` on ``[lo, hi]`` (Illinois false position with a
    bisection whenever the bracket fails to halve; steps in ``f`` are allowed)."""
    flo, fhi = f(lo), f(hi)
    if flo >= 0.0:
        return lo
    if fhi <= 0.0:
        return hi
    side = 0
    for _ in range(200):
        width = hi - lo
        if width <= 4e-16 * max(1.0, abs(lo), abs(hi)):
            break
        x = (lo * fhi - hi * flo) / (fhi - flo)
        if not (lo < x < hi) or not math.isfinite(x):
            x = 0.5 * (lo + hi)
        fx = f(x)
        if fx == 0.0:
            return x
        if fx < 0.0:
            lo, flo = x, fx
            fhi = fhi * 0.5 if side == -1 else fhi
            side = -1
        else:
            hi, fhi = x, fx
            flo = flo * 0.5 if side == 1 else flo
            side = 1
        if hi - lo > 0.5 * width:  # false position crawled: bisect once
            mid = 0.5 * (lo + hi)
            fm = f(mid)
            if fm == 0.0:
                return mid
            if fm < 0.0:
                lo, flo = mid, fm
            else:
                hi, fhi = mid, fm
            side = 0
    return 0.5 * (lo + hi)


def _imbalance(data: _Planner, nu: np.ndarray, ratio: np.ndarray, lam: float, ties: int) -> float:
    """``dPhi*/dlam``: the payers' harvests minus the receivers' transfers at the best ``eta``
    (non-decreasing in ``lam``); agents with ``nu_j / m_j == lam`` pay when ``ties > 0``."""
    prices = _Prices(data, nu, lam)
    eta = prices.best_eta()
    a = prices.harvests(eta)
    pays = ratio <= lam if ties > 0 else ratio < lam
    return float(data.mass[pays] @ a[pays]) - prices.aggregate(eta) / data.population * float(
        data.mass[~pays].sum()
    )


def _budget_price(data: _Planner, nu: np.ndarray) -> float:
    """The ``lam`` minimising ``min_eta Phi``: a binary search over the kinks ``nu_j / m_j``, then
    the root between the two kinks around it (or the kink itself when the jump spans zero)."""
    ratio = nu / data.mass
    kinks = np.unique(ratio)
    if np.any(_flat(nu, data)):  # agents without curvature: the slope is set-valued there
        return golden_section(lambda lam: -_Prices(data, nu, lam).least(), float(kinks[0]), float(kinks[-1]))
    lo, hi = 0, kinks.size - 1  # find the first kink whose right side is >= 0
    if _imbalance(data, nu, ratio, float(kinks[hi]), +1) < 0.0:
        return float(kinks[hi])  # everyone pays and still a deficit: cannot happen with A >= 0
    while lo < hi:
        mid = (lo + hi) // 2
        if _imbalance(data, nu, ratio, float(kinks[mid]), +1) >= 0.0:
            hi = mid
        else:
            lo = mid + 1
    at = float(kinks[lo])
    if _imbalance(data, nu, ratio, at, -1) <= 0.0 or lo == 0:
        return at
    below = float(kinks[lo - 1])
    return monotone_root(lambda lam: _imbalance(data, nu, ratio, lam, 0), below, at)


def _knapsack(data: _Planner, nu: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The best budget-balanced transfers for fixed harvests: start everyone at ``-a_j`` and raise
    agents to ``abar`` in decreasing ``nu_j / m_j`` until the harvest collected is spent."""
    total = float(a @ data.mass)
    abar = total / data.population
    t = -a.copy()
    order = np.argsort(-(nu / data.mass), kind="stable")
    cost = np.cumsum(data.mass[order] * (abar + a[order]))
    k = int(np.searchsorted(cost, total, side="right"))
    t[order[:k]] = abar
    if k < order.size:
        j = order[k]
        spent = float(cost[k - 1]) if k > 0 else 0.0
        t[j] = min(-a[j] + (total - spent) / data.mass[j], abar)
    return t


def _fill(game: Any, data: _Planner, prices: _Prices, eta: float, a: np.ndarray) -> np.ndarray:
    """Harvests of the agents without curvature whose price is zero at ``eta`` (the dual leaves
    them anywhere in ``[0, a_max]``): the common level that is best for the plan, by a
    golden-section search (the plan's value with the best transfers is concave in the harvests)."""
    q = prices.top - eta * data.mass
    tied = prices.flat & (np.abs(q) <= 1e-9 * max(1.0, float(np.max(np.abs(prices.top)))))
    if not np.any(tied) or not math.isfinite(data.amax):
        return a

    def at(level: float) -> np.ndarray:
        out = a.copy()
        out[tied] = level
        return out

    def value(level: float) -> float:
        x = at(level)
        return float(prices.nu @ game.kernel.plan_payoffs(x, _knapsack(data, prices.nu, x)))

    return at(golden_section(value, 0.0, data.amax))


def weighted_plan(game: Any, weights: np.ndarray) -> WeightedPlan:
    r"""Solve :math:`h(\nu) = \max \sum_j \nu_j r_j` over tax-feasible plans (module Notes).

    Parameters
    ----------
    game : CommonsGame
        With the global damage (its tax is ignored).
    weights : numpy.ndarray
        :math:`\nu \ge 0`, finite, one per agent.

    Returns
    -------
    WeightedPlan
        ``bound`` is a valid upper bound on :math:`h(\nu)` and ``value`` the value of the
        returned feasible plan; they agree to rounding at the exact multipliers.

    Examples
    --------
    >>> import numpy as np
    >>> from sedtheory import scenarios
    >>> game = scenarios.apple_picking()
    >>> plan = weighted_plan(game, np.ones(game.n))
    >>> bool(plan.gap <= 1e-9 * abs(plan.bound))
    True
    """
    require_global(game)
    nu = np.asarray(weights, dtype=float)
    if nu.shape != (game.n,) or not np.all(np.isfinite(nu)) or np.any(nu < 0):
        raise InvalidParameterError("weights", weights, f"give {game.n} finite non-negative weights")
    data = _Planner.of(game)
    lam = _budget_price(data, nu)
    prices = _Prices(data, nu, lam)
    eta = prices.best_eta()
    bound = prices.value(eta)
    a = prices.harvests(eta)
    if not np.all(np.isfinite(a)):
        return WeightedPlan(nu, math.inf, -math.inf, np.zeros(game.n), np.zeros(game.n), lam, eta)
    a = _fill(game, data, prices, eta, a)
    t = _knapsack(data, nu, a)
    value = float(nu @ game.kernel.plan_payoffs(a, t))
    return WeightedPlan(nu, max(bound, value), value, a, t, lam, eta)


def golden_section(f: Any, lo: float = 0.0, hi: float = 1.0) -> float:
    """The maximiser on ``[lo, hi]`` of a concave ``f`` (``-inf`` allowed past the domain's end)."""
    inv = (math.sqrt(5.0) - 1.0) / 2.0
    ends = (lo, hi)
    x1, x2 = hi - inv * (hi - lo), lo + inv * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(GOLDEN_STEPS):
        if f1 >= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - inv * (hi - lo)
            f1 = f(x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + inv * (hi - lo)
            f2 = f(x2)
    best = max((f(ends[0]), ends[0]), (f(ends[1]), ends[1]), (f1, x1), (f2, x2))
    return best[1]


def agent_maxima(game: Any, welfare_of: str = "utility") -> np.ndarray:
    r"""Upper bounds :math:`U_i \ge \max u_i` over tax-feasible plans, for every agent at once.

    Parameters
    ----------
    game : CommonsGame
        With the global damage (its tax is ignored); ``W`` must be available as a sparse matrix
        (every graph, and the complete graph up to ``n = 4000``).
    welfare_of : {"utility", "payoff"}
        Bound :math:`u_i = \sum_j W_{ij} r_j` (row ``i`` of ``W`` as the weights) or :math:`r_i`.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` valid upper bounds (``inf`` where the dual is unbounded at every price tried).

    Notes
    -----
    :math:`\max u_i = h(W_{i\cdot})` is the weighted planner's problem (module Notes) with the
    weights of row i. Its Lagrangian :math:`\Phi(\lambda, \eta)` is a bound at every price, so
    every row is bounded at the budget price :math:`\lambda = 0` and its own aggregate price
    :math:`\eta_i` (a bisection on the monotone excess :math:`A(\eta) - \sum_j m_j a_j(\eta)`, all
    rows together, one pass over the non-zeros of ``W`` per step). Agents outside the row's
    support add :math:`-\eta (N - M_S) a_{\max}` for :math:`\eta < 0` and nothing otherwise.
    When the row's agents are few against the population (a sparse graph) the budget does not
    bind and :math:`\lambda = 0` is the exact price, so the bound is the maximum itself; on dense
    rows it can be loose, and :func:`weighted_plan` gives the exact value row by row.

    Examples
    --------
    >>> import numpy as np
    >>> from sedtheory import scenarios
    >>> game = scenarios.apple_picking()
    >>> bounds = agent_maxima(game)
    >>> exact = [weighted_plan(game, game.society.weights.toarray()[i]).value for i in range(game.n)]
    >>> bool(np.all(bounds >= np.array(exact) - 1e-9))
    True
    """
    require_global(game)
    rows = weight_rows(game, welfare_of)
    if rows.nnz and float(rows.data.min()) < 0.0:
        raise CapabilityError("game", "negative social weights", "the planner's dual needs W >= 0")
    data = _Planner.of(game)
    out = np.empty(game.n)
    step = max(1, int(ROW_CHUNK * game.n / max(1, rows.nnz)))
    for start in range(0, game.n, step):
        out[start : start + step] = _RowDuals(data, rows[start : start + step]).bounds()
    return out


def weight_rows(game: Any, welfare_of: str) -> sps.csr_matrix:
    """The weights each agent's value puts on the payoffs: ``W`` (``"utility"``) or the identity
    (``"payoff"``), CSR without stored zeros (raises for a complete graph too large to hold)."""
    if welfare_of not in ("utility", "payoff"):
        raise InvalidParameterError("welfare_of", welfare_of, "use 'utility' or 'payoff'")
    rows = sps.csr_matrix(
        sps.identity(game.n, format="csr") if welfare_of == "payoff" else game.society.weights
    )
    rows.eliminate_zeros()
    return rows


class _RowDuals:
    r""":math:`\min_\eta \Phi(0, \eta)` for a block of rows of weights (CSR, shape ``(K, n)``)."""

    def __init__(self, data: _Planner, block: sps.csr_matrix) -> None:
        self.data, k = data, block.shape[0]
        self.row = np.repeat(np.arange(k), np.diff(block.indptr))
        self.k, self.nu = k, np.asarray(block.data, dtype=float)
        self.m = data.mass[block.indices]
        curv = self.nu * data.cost[block.indices]
        top = np.zeros(k)
        np.maximum.at(top, self.row, curv)
        tiny = 1e-13 * top[self.row] if math.isfinite(data.amax) else 0.0
        self.flat = curv <= tiny  # as in _flat: the linear part only (Phi can only rise)
        self.curv = np.where(self.flat, 0.0, curv)
        self.half = np.where(self.flat, 0.0, 0.5 / np.where(self.flat, 1.0, self.curv))
        self.total = np.bincount(self.row, self.nu, minlength=k)
        self.free = np.maximum(data.population - np.bincount(self.row, self.m, minlength=k), 0.0)
        self.beta = self.total / data.population
        self.big = self.total * data.damage

    def _sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.row, values, minlength=self.k)

    def _harvests(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = self.nu - eta[self.row] * self.m
        a = np.clip(q * self.half, 0.0, self.data.amax)
        return q, np.where(self.flat, np.where(q > 0.0, self.data.amax, 0.0), a)

    def _aggregate(self, eta: np.ndarray) -> np.ndarray:
        z, cap = self.beta + eta, self.data.population * self.data.amax
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.clip(z / (2.0 * self.big), 0.0, cap)
        return np.where(self.big > 0.0, inner, np.where(z > 0.0, cap, 0.0))

    def _outside(self, eta: np.ndarray) -> np.ndarray:
        """Harvest of the agents outside each row's support (all of them, at the cap, if eta < 0)."""
        with np.errstate(invalid="ignore"):
            return np.where((eta < 0.0) & (self.free > 0.0), self.free * self.data.amax, 0.0)

    def _excess(self, eta: np.ndarray) -> np.ndarray:
        _, a = self._harvests(eta)
        return self._aggregate(eta) - self._sum(self.m * a) - self._outside(eta)

    def _value(self, eta: np.ndarray) -> np.ndarray:
        q, a = self._harvests(eta)
        agg, z = self._aggregate(eta), self.beta + eta
        with np.errstate(invalid="ignore"):
            tail = np.where(agg > 0.0, z * agg - self.big * agg * agg, 0.0)
            own = self._sum(np.where(a > 0.0, q * a - self.curv * a * a, 0.0))
            value = self.data.omega * self.total + own - eta * self._outside(eta) + tail
        return np.where(np.isfinite(value), value, math.inf)

    def bounds(self) -> np.ndarray:
        ratio = np.zeros(self.k)
        np.maximum.at(ratio, self.row, self.nu / self.m)
        lo = np.minimum(-self.beta, 0.0)
        if math.isinf(self.data.amax):  # free harvests must stay bounded: eta >= 0 (and the flat ones)
            flat = np.zeros(self.k)
            np.maximum.at(flat, self.row[self.flat], (self.nu / self.m)[self.flat])
            lo = np.maximum(np.where(self.free > 0.0, 0.0, lo), flat)
        hi = np.maximum(ratio, lo)
        for _ in range(ROW_STEPS):
            mid = 0.5 * (lo + hi)
            up = self._excess(mid) >= 0.0
            hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
        best = np.minimum(self._value(lo), self._value(hi))
        return best + ROUNDING * np.abs(best)  # the sums' rounding (a bound must not dip below)
