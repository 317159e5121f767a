r"""Closed-form equilibria of the commons game in the model's symbols.

In a fixed regime (each agent strictly inside a bracket, at a threshold, at 0 or at the cap)
the equilibrium conditions of the interior agents are linear in the actions, so the
equilibrium is a rational function of the parameters, valid on the set described by the
regime's conditions (inequalities on the symbols).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from sedtheory.equilibrium import solve_equilibrium
from sedtheory.errors import InvalidParameterError, SedtheoryError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.symbolic.model import SymbolicModel
from sedtheory.symbolic.regime import Position, parse_regime, regime_of

__all__ = ["SymbolicEquilibrium", "NoClosedFormError", "symbolic_equilibrium"]


class NoClosedFormError(SedtheoryError, ValueError):
    """The regime is inconsistent, or the game has no closed form of this kind."""


@dataclass(frozen=True, eq=False)
class SymbolicEquilibrium:
    """An equilibrium as sympy expressions, valid where ``conditions`` hold.

    Attributes
    ----------
    actions : tuple of sympy.Expr
        One expression per agent.
    aggregate : sympy.Expr
    utilities, payoffs : tuple of sympy.Expr
    conditions : tuple of sympy relationals
        The regime holds (and the formulas are the equilibrium) iff all of these hold. For
        agents whose utility is not concave they include global-optimality conditions
        (no other bracket gives a better reply).
    regime : tuple of Position
    symbols : dict
        Name -> sympy Symbol for every symbol left in the expressions.
    values : dict
        Symbol -> the game's numeric value.
    """

    actions: tuple[sp.Expr, ...]
    aggregate: sp.Expr
    utilities: tuple[sp.Expr, ...]
    payoffs: tuple[sp.Expr, ...]
    conditions: tuple[Any, ...]
    regime: tuple[Position, ...]
    symbols: dict[str, sp.Symbol]
    values: dict[sp.Symbol, float] = field(repr=False)
    model: SymbolicModel = field(repr=False)
    _compiled: dict[str, Callable[..., Any]] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ evaluation
    def _point(self, overrides: dict[str, float]) -> list[float]:
        unknown = set(overrides) - set(self.symbols)
        if unknown:
            raise InvalidParameterError(
                "overrides", sorted(unknown), f"unknown symbols; available: {sorted(self.symbols)}"
            )
        values = {name: self.values[sym] for name, sym in self.symbols.items()}
        values.update({k: float(v) for k, v in overrides.items()})
        return [values[name] for name in self.symbols]

    def _fn(self, key: str, exprs: Sequence[sp.Expr]) -> Callable[..., Any]:
        if key not in self._compiled:
            self._compiled[key] = sp.lambdify(list(self.symbols.values()), list(exprs), modules="numpy")
        return self._compiled[key]

    def evaluate(self, **overrides: float) -> np.ndarray:
        """Actions at the game's parameters, or with some symbols overridden by name.

        Examples
        --------
        >>> from sedtheory import scenarios
        >>> sym = symbolic_equilibrium(scenarios.apple_picking())
        >>> sym.evaluate().round(4).tolist()
        [0.0, 0.0, 0.0, 10.2786, 20.1858, 26.13, 30.0929]
        """
        return np.array(self._fn("actions", self.actions)(*self._point(overrides)), dtype=float)

    def evaluate_expression(self, expr: sp.Expr, **overrides: float) -> float:
        """Numeric value of any expression in this equilibrium's symbols (e.g. ``welfare(p)``)."""
        fn = sp.lambdify(list(self.symbols.values()), expr, modules="numpy")
        return float(fn(*self._point(overrides)))

    def evaluate_utilities(self, **overrides: float) -> np.ndarray:
        """Utilities at the game's parameters (or overridden ones)."""
        return np.array(self._fn("utilities", self.utilities)(*self._point(overrides)), dtype=float)

    def failing_conditions(self, tol: float = 1e-9, **overrides: float) -> list[Any]:
        """The conditions violated at these parameter values by more than rounding.

        A condition ``lhs <op> rhs`` counts as satisfied when it holds up to
        ``tol * max(1, |lhs|, |rhs|)`` (regimes read off a numeric equilibrium sit exactly on
        some boundaries, e.g. a bunching agent whose marginal utility is 0 on one side).
        """
        if not self.conditions:
            return []
        point = self._point(overrides)
        lhs = np.asarray(self._fn("lhs", [c.lhs for c in self.conditions])(*point), dtype=float)
        rhs = np.asarray(self._fn("rhs", [c.rhs for c in self.conditions])(*point), dtype=float)
        slack = tol * np.maximum(1.0, np.maximum(np.abs(lhs), np.abs(rhs)))
        bad = []
        for cond, left, right, eps in zip(self.conditions, lhs, rhs, slack, strict=True):
            ok = left <= right + eps if cond.rel_op in ("<", "<=") else left >= right - eps
            if not ok:
                bad.append(cond)
        return bad

    def holds(self, tol: float = 1e-9, **overrides: float) -> bool:
        """Do all the regime's conditions hold (up to rounding) at these parameter values?"""
        return not self.failing_conditions(tol, **overrides)

    def welfare(self, p: float) -> sp.Expr:
        """``M_p`` of the utilities as an expression (``p`` in ``[-inf, inf]``)."""
        u = self.utilities
        n = len(u)
        if math.isnan(p):
            raise InvalidParameterError("p", p, "p must not be NaN")
        if p == math.inf:
            return sp.Max(*u)
        if p == -math.inf:
            return sp.Min(*u)
        if p == 0:
            return sp.Mul(*u) ** sp.Rational(1, n)
        pr = sp.nsimplify(p)
        return (sp.Add(*[x**pr for x in u]) / n) ** (1 / pr)

    def latex(self) -> str:
        """LaTeX of the actions (one ``a_i = ...`` line each) for notebooks."""
        lines = [f"a_{{{i}}} &= {sp.latex(expr)}" for i, expr in enumerate(self.actions)]
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"


def symbolic_equilibrium(
    game: CommonsGame,
    regime: Sequence[Position | str | tuple] | None = None,
    numeric: Iterable[str] = (),
    strict: bool = True,
) -> SymbolicEquilibrium:
    r"""The equilibrium of ``game`` in closed form, in the model's symbols.

    Parameters
    ----------
    game : CommonsGame
    regime : sequence, optional
        One :class:`Position` per agent. ``None`` reads it off the certified numeric
        equilibrium of the same game.
    numeric : iterable of str
        Parameter groups or symbol names to insert as numbers (see
        :class:`~sedtheory.symbolic.model.SymbolicModel`).
    strict : bool
        If True (default) a regime whose conditions fail at the game's own parameters is an
        error (it is inconsistent with this game); with False the formulas are returned anyway
        (valid wherever ``holds`` is true).

    Returns
    -------
    SymbolicEquilibrium

    Raises
    ------
    NoClosedFormError
        The regime's linear conditions have no solution (inconsistent regime), leave actions
        undetermined (only the aggregate is pinned down, e.g. without effort costs), or put an
        agent at a threshold that is a convex kink of its utility (never a best reply).

    Notes
    -----
    Interior agent i in bracket b satisfies the first-order condition

    .. math:: \sigma_i(1 - \phi_b) - \frac{\sigma_i}{\theta_i} a_i + \frac{s_i \phi_b}{n}
              - D_i(a) = 0,

    with :math:`D_i = s_i\kappa A/n` (global commons) or
    :math:`D_i = \kappa\sum_j W_{ij} S_j/|N[j]|` (local commons); the other agents are fixed
    at 0, a threshold or the cap. The global commons is solved through the aggregate
    (one linear equation in :math:`A`), the local commons as a sparse linear system.
    The conditions are: interior agents strictly inside their bracket; at 0 the right
    derivative is :math:`\le 0`; at the cap the left derivative :math:`\ge 0`; at a
    threshold the right derivative :math:`\le 0 \le` the left one. For an agent whose
    utility is concave these local conditions are sufficient, and the concavity itself
    (:math:`k_i(\phi_b - \phi_{b-1}) \ge 0` at every threshold) is added to the conditions.
    For agents whose utility has a convex kink the conditions also compare the current value
    with the best reply on every other bracket (sympy ``Min`` / ``Max`` of the clipped
    stationary points). So wherever all conditions hold, the formulas are an equilibrium.

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> sym = symbolic_equilibrium(scenarios.apple_picking(), numeric=["theta", "tau", "a_max", "phi"])
    >>> sorted(sym.symbols)[:3], len(sym.symbols)
    (['kappa', 'n', 'omega'], 10)
    >>> round(float(sym.actions[6].subs(sym.values)), 6)
    30.092879
    """
    require_commons(game, what="symbolic_equilibrium")
    if regime is None:
        regime_t = regime_of(game, solve_equilibrium(game).actions)
    else:
        regime_t = parse_regime(game, regime)
    model = SymbolicModel(game, numeric)
    concave = game.is_concave
    rates = game.tax.rates
    for i, pos in enumerate(regime_t):
        if pos.kind == "threshold":
            jump = float(game.own_tax_weight[i] * (rates[pos.bracket] - rates[pos.bracket - 1]))
            if jump < 0:
                raise NoClosedFormError(
                    f"agent {i} is placed at threshold tau_{pos.bracket}, a convex kink of its utility "
                    "(k_i (phi_b - phi_(b-1)) < 0): a convex kink is never a best reply"
                )
    a = _solve(model, regime_t)
    brackets = [_tax_bracket(model, p) for p in regime_t]
    payoffs = model.payoffs(a, brackets)
    utilities = model.utilities(payoffs)
    conditions: list[Any] = []
    for i, pos in enumerate(regime_t):
        conditions.extend(_conditions(model, a, i, pos))
        if concave[i]:
            # The local conditions suffice only while u_i stays concave: keep that as a condition.
            conditions.extend(_concavity_conditions(model, i))
        else:
            conditions.extend(_global_conditions(model, a, i, brackets[i]))
    conditions = [c for c in conditions if c is not sp.true]
    if any(c is sp.false for c in conditions):
        raise NoClosedFormError("the regime's conditions are contradictory for every parameter value")
    result = SymbolicEquilibrium(
        actions=tuple(a),
        aggregate=sp.Add(*a),
        utilities=tuple(utilities),
        payoffs=tuple(payoffs),
        conditions=tuple(conditions),
        regime=regime_t,
        symbols=dict(model.symbols),
        values=dict(model.values),
        model=model,
    )
    failing = result.failing_conditions() if strict else []
    if failing:
        raise NoClosedFormError(
            f"the regime {[str(p) for p in regime_t]} is inconsistent with this game's parameters: "
            f"{len(failing)} of its conditions fail there, e.g. {sp.sstr(failing[0])[:200]} "
            "(pass strict=False to get the formulas anyway)"
        )
    return result


def _tax_bracket(model: SymbolicModel, pos: Position) -> int:
    if pos.kind in ("interior", "threshold"):
        return pos.bracket
    return 0 if pos.kind == "zero" else model.cap_bracket()


def _fixed_value(model: SymbolicModel, pos: Position) -> sp.Expr:
    if pos.kind == "zero":
        return sp.Integer(0)
    if pos.kind == "cap":
        return model.a_max
    return model.tau[pos.bracket]


def _solve(model: SymbolicModel, regime: tuple[Position, ...]) -> list[sp.Expr]:
    n = model.game.n
    unknown = {i: sp.Symbol(f"_a{i}") for i, p in enumerate(regime) if p.kind == "interior"}
    a: list[sp.Expr] = [unknown[i] if i in unknown else _fixed_value(model, p) for i, p in enumerate(regime)]
    if not unknown:
        return a
    positive_m = all(float(sp.sympify(model.m[i]).subs(model.values)) > 0 for i in unknown)
    if not model.local and positive_m:
        # Global commons: a_i is linear in A; one linear equation for A.
        agg = sp.Symbol("_A")
        replies = {}
        for i in unknown:
            phi = model.phi[regime[i].bracket]
            head = (
                model.sigma[i] * (1 - phi)
                + model.s[i] * phi / model.n
                - model.s[i] * model.kappa * agg / model.n
            )
            replies[i] = head / model.m[i]
        fixed = sp.Add(*[a[i] for i in range(n) if i not in unknown])
        equation = sp.Eq(agg, fixed + sp.Add(*replies.values()))
        solution = sp.solve(equation, agg, dict=True)
        if len(solution) != 1:
            raise NoClosedFormError("the aggregate equation of this regime has no unique solution")
        a_star = sp.factor(sp.together(solution[0][agg]))
        return [
            sp.factor(sp.together(replies[i].subs(agg, a_star))) if i in unknown else a[i] for i in range(n)
        ]
    equations = [model.marginal(i, a, model.phi[regime[i].bracket]) for i in unknown]
    unknowns = list(unknown.values())
    matrix, rhs = sp.linear_eq_to_matrix(equations, unknowns)
    at_values = np.array(matrix.subs(model.values).evalf(), dtype=float)
    if matrix.det() == 0 or np.linalg.matrix_rank(at_values) < len(unknowns):
        raise NoClosedFormError(
            "the first-order conditions of this regime do not pin down every action "
            "(e.g. no effort cost: only the aggregate is determined); there is no closed form of this kind"
        )
    sol = matrix.LUsolve(rhs)
    values = {u: sp.factor(sp.together(v)) for u, v in zip(unknowns, sol, strict=True)}
    return [values[x] if x in values else x for x in a]  # type: ignore[index]


def _conditions(model: SymbolicModel, a: list[sp.Expr], i: int, pos: Position) -> list[Any]:
    phi = model.phi
    if pos.kind == "interior":
        b = pos.bracket
        out = [sp.Gt(a[i], model.tau[b])]
        upper = model.bracket_upper(b)
        if upper is not sp.oo:
            out.append(sp.Lt(a[i], upper))
        if model.a_max is not sp.oo:
            out.append(sp.Lt(a[i], model.a_max))
        return out
    if pos.kind == "zero":
        return [sp.Le(model.marginal(i, a, phi[0]), 0)]
    if pos.kind == "cap":
        return [sp.Ge(model.marginal(i, a, phi[model.cap_bracket()]), 0)]
    b = pos.bracket
    return [sp.Le(model.marginal(i, a, phi[b]), 0), sp.Ge(model.marginal(i, a, phi[b - 1]), 0)]


def _concavity_conditions(model: SymbolicModel, i: int) -> list[Any]:
    """``k_i (phi_b - phi_{b-1}) >= 0`` at every threshold below the cap."""
    out = []
    for b in range(1, model.nb):
        if model.game.tax.thresholds[b] >= model.game.max_harvest:
            break
        out.append(sp.Ge(model.k[i] * (model.phi[b] - model.phi[b - 1]), 0))
    return out


def _global_conditions(model: SymbolicModel, a: list[sp.Expr], i: int, own_bracket: int) -> list[Any]:
    """No bracket offers agent i a better reply than its current action (non-concave agents)."""
    alpha, beta, k = model.own_problem(i, a)
    if float(beta.subs(model.values)) <= 0:  # type: ignore[union-attr]
        raise NoClosedFormError(
            f"agent {i} has no effort cost and no damage on its own action: its reply is not unique"
        )

    def value(x: sp.Expr, b: int) -> sp.Expr:
        return alpha * x - k * model.tax_on(b, x) - beta * x**2 / 2

    current = value(a[i], own_bracket)
    out = []
    for b in range(model.nb):
        lo = model.tau[b]
        if model.a_max is not sp.oo and model.game.tax.thresholds[b] >= model.game.max_harvest:
            break
        hi = model.bracket_upper(b)
        if model.a_max is not sp.oo and (
            hi is sp.oo or model.game.tax.thresholds[b + 1] > model.game.max_harvest
        ):
            hi = model.a_max
        stat = (alpha - k * model.phi[b]) / beta
        y = sp.Max(lo, stat) if hi is sp.oo else sp.Max(lo, sp.Min(hi, stat))
        if b == own_bracket:
            continue
        out.append(sp.Ge(current - value(y, b), 0))
    return out
