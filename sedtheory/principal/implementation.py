r"""Implementing a target outcome: the rates that make it an equilibrium, and the best of them.

For a fixed target profile ``a`` every agent's own-action problem is

.. math:: f_i(x; \phi) = \alpha_i x - \tfrac12\beta_i x^2 - k_i T_\phi(x), \qquad x \in [0, U_i],

with :math:`\alpha_i` fixed by the others' target actions and :math:`T_\phi(x) =
\sum_b \phi_b \ell_b(x)` linear in the rates. ``a`` is an equilibrium under :math:`\phi` iff
for every agent and every tax piece ``b = [l_b, h_b]``

.. math:: \max_{x \in [l_b, h_b]} f_i(x; \phi) \le f_i(a_i; \phi).

On a piece, :math:`f_i(x;\phi) = -k_i T_\phi(l_b) + k_i\phi_b l_b + v x - \beta_i x^2/2`
with :math:`v = \alpha_i - k_i\phi_b` affine in :math:`\phi`, and
:math:`g(v) = \max_{x\in[l,h]} (v x - \beta x^2/2)` is convex: it is the conjugate of
:math:`\beta x^2/2 + I_{[l,h]}`, i.e. the infimal convolution
:math:`g(v) = \min_z \{ z^2/(2\beta) + \max(l(v-z), h(v-z)) \}`. The right-hand side is
affine in :math:`\phi`. So the implementing set is convex (closed, an intersection of
convex sublevel sets; a polyhedron where no piece has an interior maximiser) and the
target's utilities :math:`u(a;\phi) = u_0 + G\phi` are affine in :math:`\phi`: the best
implementation of a target is a convex program for every :math:`p \le 1`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from sedtheory.certificate import Certificate
from sedtheory.equilibrium.batch import batch_payoffs, reply_bound
from sedtheory.errors import DomainError, InfeasibleTargetError, InvalidParameterError, SolverError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.principal.convex import as_array, concave_objective, cp, solve
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import check_p, check_welfare_of, pmean

__all__ = [
    "ImplementationSolver",
    "ImplementingRates",
    "regime",
    "Implementation",
    "implementing_rates",
    "best_implementation",
    "check_bounds",
    "target_utilities",
]

# Slack of the global best-response constraints, relative to the squared scale of the
# own-action problem. A tiny positive slack keeps exactly-implementable targets feasible; if
# the solver's answer then has a Nash gap above tolerance (a binding comparison between two
# pieces, met only to the solver's accuracy), the program is re-solved tightened.
_MARGINS = (1e-12, -1e-9, -1e-7)


def check_bounds(
    game: CommonsGame, bounds: tuple[float, float] | npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Per-bracket lower and upper rate bounds, inside ``[0, 1]`` (typed error otherwise)."""
    b = game.tax.n_brackets
    arr = np.asarray(bounds, dtype=float)
    if arr.shape == (2,):
        lo, hi = np.full(b, arr[0]), np.full(b, arr[1])
    elif arr.shape == (2, b):
        lo, hi = arr[0].copy(), arr[1].copy()
    else:
        raise InvalidParameterError(
            "bounds", bounds, f"give (low, high) or a (2, {b}) array of per-bracket bounds"
        )
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise InvalidParameterError("bounds", bounds, "bounds must be finite numbers in [0, 1]")
    if np.any(lo < 0) or np.any(hi > 1):
        raise InvalidParameterError(
            "bounds",
            bounds,
            "the principal's rates live in [0, 1]; give bounds inside it",
        )
    if np.any(lo > hi):
        raise InvalidParameterError("bounds", bounds, "each lower bound must be <= its upper bound")
    return lo, hi


def _shares(game: CommonsGame, actions: np.ndarray) -> np.ndarray:
    """``ell[i, b]``: the part of agent i's income taxed in bracket b (``T = ell @ phi``)."""
    return game.kernel.rate_shares(actions)


def target_utilities(
    game: CommonsGame, target: np.ndarray, welfare_of: str = "utility"
) -> tuple[np.ndarray, np.ndarray]:
    """``(u0, G)`` with ``values(a; phi) = u0 + G @ phi`` at the fixed profile ``target``."""
    n = game.n
    zero = np.zeros((1, game.tax.n_brackets))
    r0 = batch_payoffs(game, target[None, :], zero)[0]
    ell = _shares(game, target)
    dr = -ell + ell.mean(axis=0, keepdims=True)  # own tax and the equal lump sum
    if welfare_of == "payoff":
        return r0, dr
    u0 = game.society.apply_weights(r0)
    g = game.society.apply_weights(dr.T).T if n else dr
    return u0, g


def _reply_upper(game: CommonsGame) -> np.ndarray:
    """Best responses under any rates in [0, 1] stay below this (slope of f_i <= sigma + |k|)."""
    return reply_bound(game, 1.0)


def regime(game: CommonsGame, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each agent's position at the target: ``(kind, piece)``.

    ``kind`` is 0 at zero, 1 inside piece ``piece``, 2 on the threshold starting ``piece``
    (a kink), 3 at ``max_harvest``; indifferent agents (``s_i = 0``) get -1.
    """
    tau = game.tax.thresholds
    tol = 1e-12 * max(1.0, float(np.max(np.abs(target)))) if target.size else 1e-12
    piece = np.clip(np.searchsorted(tau, target, side="right") - 1, 0, tau.size - 1)
    near = np.abs(target[:, None] - tau[None, :]) <= tol
    on = near.any(axis=1)
    which = np.argmax(near, axis=1)
    kind = np.ones(game.n, dtype=np.int64)
    kind[on] = 2
    piece = np.where(on, which, piece)
    kind[target <= tol] = 0
    piece[target <= tol] = 0
    if math.isfinite(game.max_harvest):
        top = target >= game.max_harvest - tol
        kind[top] = 3
        piece[top] = int(np.clip(np.searchsorted(tau, game.max_harvest, side="left") - 1, 0, tau.size - 1))
    kind[game.society.weight_sums == 0] = -1
    return kind, piece


class _Program:
    """The implementing constraints of targets of one regime, with the target as parameters (DPP).

    Local optimality of the target is imposed by its first-order conditions, which are linear
    in the rates (an interior agent pins its bracket's rate exactly, a bunching agent gets two
    one-sided conditions); global optimality over every other piece by the convex
    inequalities of the module docstring. Writing the own pieces as first-order conditions
    avoids the square-root sensitivity of value comparisons near a maximiser.
    """

    def __init__(
        self, game: CommonsGame, lower: np.ndarray, upper: np.ndarray, kind: np.ndarray, piece: np.ndarray
    ) -> None:
        n, bk = game.n, game.tax.n_brackets
        self.game = game
        self.signature = (kind.tobytes(), piece.tobytes())
        self.phi = cp.Variable(bk, name="phi")
        self.alpha = cp.Parameter(n, name="alpha")
        self.beta_a = cp.Parameter(n, name="beta_a")  # beta_i a_i
        self.own = cp.Parameter(n, name="own_value")  # alpha a - beta a^2 / 2
        self.ell = cp.Parameter((n, bk), name="ell")
        self.slack = cp.Parameter(name="slack")
        self.value_scale = 1.0
        self.eps = cp.Parameter(n, nonneg=True, name="eps")  # one-sided conditions
        self.eps_inner = cp.Parameter(nonneg=True, name="eps_inner")  # interior agents pin a rate
        tau = game.tax.thresholds
        widths = np.diff(tau)
        k = game.own_tax_weight
        beta = game.own_curvature
        ub = _reply_upper(game)
        cons: list[cp.Constraint] = [self.phi >= lower, self.phi <= upper]
        slope = self.alpha - self.beta_a  # f_i'(a_i) before the tax term
        # First-order conditions (linear in phi).
        for b in range(bk):
            inner = np.flatnonzero((kind == 1) & (piece == b))
            if inner.size:
                d = slope[inner] - k[inner] * self.phi[b]
                cons += [d <= self.eps_inner, d >= -self.eps_inner]
            at_zero = np.flatnonzero((kind == 0) & (piece == b))
            if at_zero.size:
                cons.append(slope[at_zero] - k[at_zero] * self.phi[0] <= self.eps[at_zero])
            top = np.flatnonzero((kind == 3) & (piece == b))
            if top.size:
                cons.append(slope[top] - k[top] * self.phi[b] >= -self.eps[top])
            kink = np.flatnonzero((kind == 2) & (piece == b) & (b > 0))
            if kink.size:
                cons.append(slope[kink] - k[kink] * self.phi[b - 1] >= -self.eps[kink])
                cons.append(slope[kink] - k[kink] * self.phi[b] <= self.eps[kink])
        # Global optimality against every other piece (convex in phi).
        rhs_all = self.own - cp.multiply(k, self.ell @ self.phi)
        for b in range(bk):
            lo_b = tau[b]
            hi_b = tau[b + 1] if b + 1 < bk else math.inf
            own_piece = ((kind == 1) & (piece == b)) | ((kind == 0) & (b == 0)) | ((kind == 3) & (piece == b))
            own_piece |= (kind == 2) & ((piece == b) | (piece == b + 1))
            exists = (lo_b < ub) | (b == 0)
            check = (kind >= 0) & exists & ~own_piece
            l_i = np.minimum(lo_b, ub)
            h_i = np.minimum(hi_b, ub)
            v = self.alpha - cp.multiply(k, self.phi[b])
            shift = cp.multiply(k * lo_b, self.phi[b])
            if b > 0:
                shift = shift - cp.multiply(k, widths[:b] @ self.phi[:b])
            for mask, quadratic in ((check & (beta > 0), True), (check & ~(beta > 0), False)):
                idx = np.flatnonzero(mask)
                if idx.size == 0:
                    continue
                vi = v[idx]
                if quadratic:
                    z = cp.Variable(idx.size)
                    g = cp.square(cp.multiply(np.sqrt(0.5 / beta[idx]), z)) + cp.maximum(
                        cp.multiply(l_i[idx], vi - z), cp.multiply(h_i[idx], vi - z)
                    )
                else:
                    g = cp.maximum(cp.multiply(l_i[idx], vi), cp.multiply(h_i[idx], vi))
                cons.append(g + shift[idx] <= rhs_all[idx] + self.slack)
        self.constraints = cons

    def set_target(self, target: np.ndarray) -> None:
        game = self.game
        alpha = game.reply_intercepts(target)
        self.alpha.value = alpha
        self.beta_a.value = game.own_curvature * target
        self.own.value = alpha * target - 0.5 * game.own_curvature * target * target
        self.ell.value = _shares(game, target)
        scale = max(1.0, float(np.max(np.abs(alpha))), float(np.max(np.abs(target)))) if target.size else 1.0
        self.value_scale = scale * scale
        self.slack.value = _MARGINS[0] * self.value_scale
        # A slope residual r costs at most r^2 / (2 beta_i) in utility: the first-order conditions
        # hold to what a deviation gain of 1e-12 scale^2 allows (the target's own accuracy).
        allowed = 1e-12 * scale * scale
        self.eps.value = 1e-12 * scale + np.sqrt(2.0 * game.own_curvature * allowed)
        self.eps_inner.value = 1e-11 * scale


def _program(game: CommonsGame, lower: np.ndarray, upper: np.ndarray, target: np.ndarray) -> _Program:
    kind, piece = regime(game, target)
    prog = _Program(game, lower, upper, kind, piece)
    prog.set_target(target)
    return prog


@dataclass(frozen=True)
class ImplementingRates:
    """The convex set of rates (within ``bounds``) under which ``target`` is an equilibrium.

    Attributes
    ----------
    target : numpy.ndarray
    feasible : bool
    rates : numpy.ndarray or None
        The feasible rates closest (Euclidean) to the game's own rates.
    lower, upper : numpy.ndarray or None
        Per-bracket range of the set (each end a convex program).
    bounds : numpy.ndarray
        The box ``(2, B)`` the rates were restricted to.
    status, solver : str
    """

    target: np.ndarray
    feasible: bool
    rates: np.ndarray | None
    lower: np.ndarray | None
    upper: np.ndarray | None
    bounds: np.ndarray
    status: str
    solver: str
    game: CommonsGame = field(repr=False, compare=False)

    def contains(self, rates: npt.ArrayLike, tol: float = 1e-9) -> bool:
        """Exact test: is ``target`` an equilibrium under ``rates`` (relative Nash gap <= tol)?"""
        r = np.asarray(rates, dtype=float)
        if np.any(r < self.bounds[0] - 1e-12) or np.any(r > self.bounds[1] + 1e-12):
            return False
        g = self.game.with_tax(self.game.tax.with_rates(r))
        u = g.utilities(self.target)
        return g.nash_gap(self.target) <= tol * max(1.0, float(np.abs(u).max()))

    def constraints(self, phi: cp.Variable) -> list[cp.Constraint]:
        """The set's constraints on a cvxpy variable ``phi`` of shape (B,), for your own programs."""
        prog = _program(self.game, self.bounds[0], self.bounds[1], self.target)
        return [*prog.constraints, prog.phi == phi]


def _target(game: CommonsGame, target_actions: npt.ArrayLike) -> np.ndarray:
    a = game.check_actions(target_actions, batch=False)
    return np.array(a, dtype=float)


def implementing_rates(
    game: CommonsGame, target_actions: npt.ArrayLike, bounds: tuple[float, float] | npt.ArrayLike = (0.0, 1.0)
) -> ImplementingRates:
    r"""The rates in ``bounds`` under which ``target_actions`` is a pure equilibrium.

    Parameters
    ----------
    game : CommonsGame
        Supplies everything but the rates (its thresholds are kept).
    target_actions : array_like, shape (n,)
    bounds : (low, high) or array (2, B)
        Box for the rates, inside [0, 1].

    Returns
    -------
    ImplementingRates
        ``feasible`` and, if so, the nearest feasible rates to ``game.tax.rates`` and the
        per-bracket range; ``contains(rates)`` tests a rate vector exactly.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> game = scenarios.apple_picking(rates=(0.1, 0.3, 0.5))
    >>> eq = solve_equilibrium(game)
    >>> imp = implementing_rates(game, eq.actions)
    >>> imp.feasible, imp.contains([0.1, 0.3, 0.5])
    (True, True)
    """
    require_commons(game, what="implementing_rates")
    lo, hi = check_bounds(game, bounds)
    a = _target(game, target_actions)
    prog = _program(game, lo, hi, a)
    box = np.vstack([lo, hi])
    near = cp.Problem(
        cp.Minimize(cp.sum_squares(prog.phi - np.clip(game.tax.rates, lo, hi))), prog.constraints
    )
    try:
        solver = solve(near, "implementing rates")
    except SolverError as exc:
        if exc.status == cp.INFEASIBLE:
            return ImplementingRates(a, False, None, None, None, box, "infeasible", "", game)
        raise
    rates = np.clip(as_array(prog.phi), lo, hi)
    lower, upper = np.zeros_like(lo), np.zeros_like(hi)
    for b in range(lo.size):
        for sense, out in ((cp.Minimize, lower), (cp.Maximize, upper)):
            prob = cp.Problem(sense(prog.phi[b]), prog.constraints)
            solve(prob, f"range of rate {b}")
            out[b] = float(np.clip(prob.value, lo[b], hi[b]))
    return ImplementingRates(a, True, rates, lower, upper, box, "optimal", solver, game)


@dataclass(frozen=True)
class Implementation:
    """The best rates implementing a fixed target outcome for one p.

    Attributes
    ----------
    rates : numpy.ndarray
    tax : PiecewiseLinearTax
    target : numpy.ndarray
    utilities, payoffs : numpy.ndarray
    welfare : float
        ``M_p`` at the target under ``rates`` (exact numpy evaluation).
    upper_bound : float
        Proven bound on the best implementation (equal to ``welfare`` up to the solver's
        tolerance when ``status == "optimal"``).
    nash_gap : float
        Exact Nash gap of the target under ``rates``.
    method, status, solver : str
    """

    rates: np.ndarray
    tax: PiecewiseLinearTax
    target: np.ndarray
    utilities: np.ndarray
    payoffs: np.ndarray
    welfare: float
    upper_bound: float
    nash_gap: float
    method: str
    status: str
    solver: str

    @property
    def certificate(self) -> Certificate:
        """The best implementation as a :class:`~sedtheory.Certificate`."""
        status = self.status if self.status in ("optimal", "infeasible", "failed") else "best-found"
        gap = float(self.upper_bound - self.welfare)
        argument = f"target outcome implemented with exact Nash gap {self.nash_gap:.2e}"
        return Certificate(
            self.welfare, self.upper_bound, f"{self.method} ({self.solver})", status, gap, argument
        )


class ImplementationSolver:
    """Re-solvable best-implementation programs for one game, p and bounds (cvxpy DPP).

    One parameterised program is built per regime of the target (which agents sit inside
    which bracket, at a threshold, at zero or at the cap) and cached: targets of the same
    regime re-solve by changing parameter values only, which is what outer searches over
    nearby targets need. DPP compilation memory grows about as n^2, so keep it for small n.
    """

    def __init__(
        self,
        game: CommonsGame,
        p: float,
        bounds: tuple[float, float] | npt.ArrayLike = (0.0, 1.0),
        welfare_of: Literal["utility", "payoff"] = "utility",
    ) -> None:
        self.p = check_p(p)
        check_welfare_of(welfare_of)
        self.game, self.welfare_of = game, welfare_of
        self.lower, self.upper = check_bounds(game, bounds)
        self._cache: dict[
            tuple[bytes, bytes], tuple[_Program, cp.Problem, cp.Parameter, cp.Parameter, cp.Parameter]
        ] = {}

    def _problem(
        self, target: np.ndarray
    ) -> tuple[_Program, cp.Problem, cp.Parameter, cp.Parameter, cp.Parameter]:
        kind, piece = regime(self.game, target)
        key = (kind.tobytes(), piece.tobytes())
        if key not in self._cache:
            n, bk = self.game.n, self.game.tax.n_brackets
            prog = _Program(self.game, self.lower, self.upper, kind, piece)
            u0 = cp.Parameter(n, name="u0")
            g = cp.Parameter((n, bk), name="G")
            weight = cp.Parameter(n, nonneg=True, name="weight")
            values = u0 + g @ prog.phi  # the parameters hold u0 and G scaled to O(1)
            if self.p <= 1:
                problem = cp.Problem(concave_objective(values, self.p), prog.constraints)
            else:
                problem = cp.Problem(cp.Maximize(weight @ values), prog.constraints)
            self._cache[key] = (prog, problem, u0, g, weight)
        return self._cache[key]

    def __call__(self, target_actions: npt.ArrayLike) -> Implementation:
        game = self.game
        a = _target(game, target_actions)
        prog, problem, u0p, gp, weight = self._problem(a)
        prog.set_target(a)
        u0, g = target_utilities(game, a, self.welfare_of)
        scale = 1.0 / max(1.0, float(np.abs(u0).max()))
        u0p.value, gp.value = u0 * scale, g * scale
        result: Implementation | None = None
        for margin in _MARGINS:
            prog.slack.value = margin * prog.value_scale
            try:
                if self.p <= 1:
                    solver = solve(problem, f"best implementation (p={self.p})")
                    rates = np.clip(as_array(prog.phi), self.lower, self.upper)
                    result = self._result(a, rates, u0, g, None, solver, "convex program (cvxpy)")
                else:
                    result = self._convex_objective(a, u0, g, prog, problem, weight, scale)
            except SolverError as exc:
                if exc.status != cp.INFEASIBLE:
                    raise
                if result is not None:  # tightening made it infeasible: keep the last answer
                    break
                raise InfeasibleTargetError(
                    "target_actions",
                    a,
                    "no rates within the bounds make this profile an equilibrium (some agent's best "
                    "response differs for every admissible rate vector); use implementing_rates to "
                    "inspect, or choose a target from an equilibrium",
                ) from exc
            if result.nash_gap <= 1e-9 * max(1.0, float(np.abs(result.utilities).max())):
                break
        assert result is not None
        return result

    def _convex_objective(
        self,
        a: np.ndarray,
        u0: np.ndarray,
        g: np.ndarray,
        prog: _Program,
        problem: cp.Problem,
        weight: cp.Parameter,
        scale: float,
    ) -> Implementation:
        """p > 1: per-agent maxima give the bound M_p(U); the best maximiser is the answer."""
        n = self.game.n
        best_w, best_rates, solver = -math.inf, None, ""
        maxima = np.zeros(n)
        for i in range(n):
            weight.value = np.eye(1, n, i)[0]
            solver = solve(problem, f"max u_{i} over the implementing rates")
            rates = np.clip(as_array(prog.phi), self.lower, self.upper)
            vals = u0 + g @ rates
            maxima[i] = float(problem.value) / scale
            if np.any(vals < 0):
                continue  # outside the domain of M_p for p > 1
            w = pmean(vals, self.p, self.game.welfare_weights)
            if w > best_w:
                best_w, best_rates = w, rates
        if best_rates is None:
            pmean(
                u0 + g @ np.clip(as_array(prog.phi), self.lower, self.upper),
                self.p,
                self.game.welfare_weights,
            )  # names the agents
            raise DomainError("target_actions", a, "utilities are negative at every maximiser; raise omega")
        bound = pmean(np.maximum(maxima, 0.0), self.p, self.game.welfare_weights)
        return self._result(a, best_rates, u0, g, bound, solver, "per-agent maxima (convex programs)")

    def _result(
        self,
        a: np.ndarray,
        rates: np.ndarray,
        u0: np.ndarray,
        g: np.ndarray,
        bound: float | None,
        solver: str,
        method: str,
    ) -> Implementation:
        game = self.game.with_tax(self.game.tax.with_rates(rates))
        vals = u0 + g @ rates
        welfare = pmean(vals, self.p, self.game.welfare_weights)
        gap = game.nash_gap(a)
        upper = welfare if bound is None else max(bound, welfare)
        exact = bound is None or upper - welfare <= 1e-9 * max(1.0, abs(upper))
        return Implementation(
            rates,
            game.tax,
            a,
            game.utilities(a),
            game.payoffs(a),
            welfare,
            upper,
            gap,
            method,
            "optimal" if exact else "bounded",
            solver,
        )


def best_implementation(
    game: CommonsGame,
    target: npt.ArrayLike,
    p: float,
    bounds: tuple[float, float] | npt.ArrayLike = (0.0, 1.0),
    welfare_of: Literal["utility", "payoff"] = "utility",
) -> Implementation:
    r"""The rates in ``bounds`` that implement ``target`` as an equilibrium with the highest ``M_p``.

    Parameters
    ----------
    game : CommonsGame
    target : array_like, shape (n,)
        The outcome to implement.
    p : float
    bounds : (low, high) or array (2, B)
        Inside [0, 1].
    welfare_of : {"utility", "payoff"}

    Returns
    -------
    Implementation

    Raises
    ------
    InfeasibleTargetError
        When no admissible rates make ``target`` an equilibrium.

    Notes
    -----
    Utilities at a fixed outcome are affine in the rates, :math:`u = u_0 + G\phi` (own tax
    and the equal lump sum), and the implementing set is convex (module docstring). For
    ``p <= 1`` maximising the concave :math:`M_p` over it is one convex program. For
    ``p > 1`` :math:`M_p` is convex: each :math:`U_i = \max u_i` is a convex program, the
    best of their maximisers is returned and :math:`M_p(U)` is reported as ``upper_bound``
    (equal for ``p = +inf``).

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> game = scenarios.apple_picking(rates=(0.1, 0.3, 0.5))
    >>> target = solve_equilibrium(game).actions
    >>> best = best_implementation(game, target, p=0)
    >>> bool(best.welfare >= pmean(game.utilities(target), 0) - 1e-7), bool(best.nash_gap < 1e-6)
    (True, True)
    """
    require_commons(game, what="best_implementation")
    return ImplementationSolver(game, p, bounds, welfare_of)(target)
