r"""The commons model's formulas, written once for any arithmetic: numpy, sympy or cvxpy.

Each function only adds, subtracts, multiplies and divides its arguments, so the numeric kernel
(:class:`~sedtheory.games.commons.CommonsKernel`, numpy arrays), the symbolic model
(:mod:`sedtheory.symbolic.model`, sympy expressions) and the planner's convex programs
(:mod:`sedtheory.principal.first_best`, cvxpy expressions) evaluate the same expressions.
Squares that a convex program must see as such (effort cost, damage) are passed in already
formed, so each backend builds them its own way (``x**2``, ``cp.square``).

Examples
--------
>>> own_tax_weight(1.0, 1.0, 4)
0.75
>>> payoff(10.0, 2.0, -0.5, 0.25, 1.0)
10.25
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "effort_cost",
    "global_damage_curvature",
    "own_curvature",
    "own_objective",
    "own_tax_weight",
    "payoff",
    "tax_transfer",
]


def own_tax_weight(sigma: Any, s: Any, n: Any) -> Any:
    r""":math:`k_i = \sigma_i - s_i/n`: the weight of :math:`-T(a_i)` in :math:`u_i` (own tax
    minus the own share of the equal lump sum)."""
    return sigma - s / n


def global_damage_curvature(s: Any, kappa: Any, n: Any) -> Any:
    r""":math:`c_i = s_i\kappa/n`: the curvature of agent i's global-commons damage in its own action."""
    return s * kappa / n


def own_curvature(sigma_over_theta: Any, c: Any) -> Any:
    r""":math:`\beta_i = \sigma_i/\theta_i + c_i`."""
    return sigma_over_theta + c


def own_objective(x: Any, alpha: Any, k: Any, tax: Any, beta: Any) -> Any:
    r""":math:`f_i(x) = \alpha_i x - k_i T(x) - \beta_i x^2 / 2` (``tax`` is :math:`T(x)`)."""
    return alpha * x - k * tax - beta * x * x / 2


def effort_cost(a: Any, half_over_theta: Any) -> Any:
    r""":math:`C_i(a) = a^2/(2\theta_i)` given :math:`1/(2\theta_i)` (0 without effort cost)."""
    return half_over_theta * a * a


def tax_transfer(tax: Any, lump: Any) -> Any:
    r"""What the bracket tax moves to an agent: :math:`-T(y_j) + R/n`."""
    return lump - tax


def payoff(omega: Any, income: Any, transfer: Any, cost: Any, damage: Any) -> Any:
    r"""Own payoff :math:`r_j = \omega + y_j + t_j - C_j(y_j) - \mathrm{damage}_j`.

    Under the bracket tax :math:`t_j = -T(y_j) + R/n` (:func:`tax_transfer`); the planner's first
    best chooses budget-balanced :math:`t` directly.
    """
    return omega + income + transfer - cost - damage
