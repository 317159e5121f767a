r"""Closed forms of the symmetric global-commons game (all agents alike, complete graph).

Examples
--------
>>> from sedtheory.symbolic.symmetric import symmetric_closed_forms
>>> forms = symmetric_closed_forms()
>>> forms.first_best
theta/(kappa*n*theta + 1)
>>> forms.pigouvian_rate
kappa*n*theta/(kappa*n*theta + 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import sympy as sp

from sedtheory.errors import InvalidParameterError

__all__ = ["SymmetricClosedForms", "Sensitivity", "symmetric_closed_forms"]

#: Derivatives larger than this (sympy ``count_ops``) get a sampled sign, not a proof attempt.
_PROOF_OPS = 80


@dataclass(frozen=True)
class Sensitivity:
    """A comparative-statics entry: ``d quantity / d parameter`` and its sign.

    ``sign`` is ``"+"``, ``"-"``, ``"0"`` or ``"depends"``; ``method`` says how it was
    established: ``"proof"`` (sympy decides the sign of the factored derivative under the
    domain assumptions) or ``"sampled"`` (the sign of the derivative at random points of the
    domain, when sympy cannot decide; ``"depends"`` means both signs were seen).
    """

    quantity: str
    parameter: str
    derivative: sp.Expr
    sign: str
    method: str


@dataclass(frozen=True)
class SymmetricClosedForms:
    r"""Equilibrium, first best and Pigouvian rate of the symmetric game, as functions of ``n``.

    Attributes
    ----------
    symbols : dict
        ``n, sigma, theta, kappa, omega, phi`` (the marginal rate of the bracket the
        equilibrium lies in).
    weight_sum : sympy.Expr
        :math:`s = \sigma + (1-\sigma)(n-1)` ("sum") or ``1`` ("mean").
    equilibrium : sympy.Expr
        Per-agent harvest :math:`a^* = (\sigma(1-\phi) + s\phi/n)/(\sigma/\theta + s\kappa)`.
    first_best : sympy.Expr
        Maximiser of the sum of own payoffs, :math:`a^{fb} = \theta/(1 + n\theta\kappa)`.
    pigouvian_rate : sympy.Expr
        :math:`\phi^* = \kappa A^{fb} = n\theta\kappa/(1 + n\theta\kappa)`.
    payoff_equilibrium, payoff_first_best : sympy.Expr
        Per-capita own payoff :math:`\omega + a - a^2/(2\theta) - \kappa n a^2/2` (taxes are
        returned in full in a symmetric profile).
    limits : dict
        ``n -> oo`` limit of each quantity above.
    sensitivities : tuple of Sensitivity
        Comparative statics of harvest, own payoff and welfare (the common utility
        :math:`u = s\,r`, which every p-mean of a symmetric profile equals) with respect to
        sigma, kappa and phi. Only the marginal rate of the equilibrium's own bracket enters:
        the other rates and the thresholds have zero effect (taxes are returned in full).
    """

    symbols: dict[str, sp.Symbol]
    weight_sum: sp.Expr
    equilibrium: sp.Expr
    first_best: sp.Expr
    pigouvian_rate: sp.Expr
    payoff_equilibrium: sp.Expr
    payoff_first_best: sp.Expr
    limits: dict[str, sp.Expr]
    sensitivities: tuple[Sensitivity, ...] = field(repr=False)

    def sensitivity(self, quantity: str, parameter: str) -> Sensitivity:
        """The entry for ``quantity`` ("harvest", "payoff" or "welfare") and ``parameter``."""
        for s in self.sensitivities:
            if s.quantity == quantity and s.parameter == parameter:
                return s
        raise InvalidParameterError("parameter", (quantity, parameter), "see .sensitivities for the list")

    def evaluate(self, expr: sp.Expr, **values: float) -> float:
        """Numeric value of one of the expressions at the given symbol values."""
        subs = {self.symbols[k]: v for k, v in values.items()}
        return float(expr.subs(subs))


def symmetric_closed_forms(
    weighting: Literal["sum", "mean"] = "sum", seed: int = 0, samples: int = 2000
) -> SymmetricClosedForms:
    """Closed forms of the symmetric global-commons game on the complete graph.

    Parameters
    ----------
    weighting : {"sum", "mean"}
        The neighbour weighting (``"sum"`` or ``"mean"``, see :class:`~sedtheory.Society`).
    seed, samples : int
        For the sampled sign checks of comparative statics sympy cannot prove.

    Notes
    -----
    In a symmetric profile every agent's first-order condition inside a bracket with rate
    :math:`\\phi` is :math:`\\sigma(1-\\phi-a/\\theta) + s\\phi/n - s\\kappa a = 0`.
    With :math:`\\phi^* = \\kappa A^{fb}` the revenue and damage terms cancel at
    :math:`A = A^{fb}` and the condition becomes :math:`a = \\theta(1-\\kappa A^{fb})`, the first
    best's own condition, for every :math:`\\sigma > 0` and every :math:`s` (so on every graph).
    """
    if weighting not in ("sum", "mean"):
        raise InvalidParameterError("weighting", weighting, 'use "sum" or "mean"')
    n = sp.Symbol("n", positive=True)
    sigma = sp.Symbol("sigma", positive=True)
    theta, kappa, omega = sp.symbols("theta kappa omega", positive=True)
    phi = sp.Symbol("phi", nonnegative=True)
    s = sigma + (1 - sigma) * (n - 1) if weighting == "sum" else sp.Integer(1)
    a_eq = sp.factor((sigma * (1 - phi) + s * phi / n) / (sigma / theta + s * kappa))
    a_fb = theta / (1 + n * theta * kappa)
    phi_star = sp.factor(kappa * n * a_fb)

    def payoff(a: sp.Expr) -> sp.Expr:
        return omega + a - a**2 / (2 * theta) - kappa * n * a**2 / 2

    r_eq = payoff(a_eq)
    r_fb = sp.factor(sp.simplify(payoff(a_fb)))
    limits = {
        "equilibrium": sp.limit(a_eq, n, sp.oo),
        "first_best": sp.limit(a_fb, n, sp.oo),
        "pigouvian_rate": sp.limit(phi_star, n, sp.oo),
        "aggregate_ratio": sp.limit(sp.simplify(a_eq / a_fb) / n, n, sp.oo),
    }
    symbols = {"n": n, "sigma": sigma, "theta": theta, "kappa": kappa, "omega": omega, "phi": phi}
    rng = np.random.default_rng(seed)
    sens = []
    for qname, q in (("harvest", a_eq), ("payoff", r_eq), ("welfare", s * r_eq)):
        for pname in ("sigma", "kappa", "phi"):
            d = sp.diff(q, symbols[pname])
            if sp.count_ops(d) <= _PROOF_OPS:
                d = sp.factor(d)
            sign, method = _sign(d, symbols, rng, samples)
            sens.append(Sensitivity(qname, pname, d, sign, method))
    return SymmetricClosedForms(
        symbols=symbols,
        weight_sum=s,
        equilibrium=a_eq,
        first_best=a_fb,
        pigouvian_rate=phi_star,
        payoff_equilibrium=r_eq,
        payoff_first_best=r_fb,
        limits=limits,
        sensitivities=tuple(sens),
    )


def _sign(
    expr: sp.Expr, symbols: dict[str, sp.Symbol], rng: np.random.Generator, samples: int
) -> tuple[str, str]:
    if expr == 0:
        return "0", "proof"
    if sp.count_ops(expr) > _PROOF_OPS:
        return _sampled_sign(expr, symbols, rng, samples)
    # Domain: sigma, phi in (0, 1) as 1/(1+x) with x > 0; n = 2 + m with m > 0; others > 0.
    x1, x2, m = sp.symbols("_x1 _x2 _m", positive=True)
    mapped = sp.factor(
        expr.subs({symbols["sigma"]: 1 / (1 + x1), symbols["phi"]: 1 / (1 + x2), symbols["n"]: 2 + m})
    )
    if mapped.is_positive:
        return "+", "proof"
    if mapped.is_negative:
        return "-", "proof"
    return _sampled_sign(expr, symbols, rng, samples)


def _sampled_sign(
    expr: sp.Expr, symbols: dict[str, sp.Symbol], rng: np.random.Generator, samples: int
) -> tuple[str, str]:
    f = sp.lambdify([symbols[k] for k in ("n", "sigma", "theta", "kappa", "omega", "phi")], expr, "numpy")
    pts = (
        rng.integers(2, 1000, samples).astype(float),
        rng.uniform(1e-3, 1 - 1e-3, samples),
        np.exp(rng.uniform(np.log(0.1), np.log(100), samples)),
        np.exp(rng.uniform(np.log(1e-4), np.log(10), samples)),
        rng.uniform(0, 100, samples),
        rng.uniform(0, 1 - 1e-3, samples),
    )
    vals = np.broadcast_to(np.asarray(f(*pts), dtype=float), (samples,))
    if np.all(vals > 0):
        return "+", "sampled"
    if np.all(vals < 0):
        return "-", "sampled"
    if np.all(vals == 0):
        return "0", "sampled"
    return "depends", "sampled"
