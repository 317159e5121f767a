r"""Policies the optimum is compared with: the seed's grid principal, laissez-faire, the
Pigouvian flat rate and the AI Economist's Saez-formula tax.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.stats import gaussian_kde

from sedtheory.equilibrium import Equilibrium, certify, solve_equilibrium
from sedtheory.equilibrium.batch import policy_equilibria
from sedtheory.errors import InvalidParameterError, SedtheoryError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.objective import Objective, pick
from sedtheory.principal.convex import as_array, cp, solve
from sedtheory.principal.first_best import planner_program, utility_scale
from sedtheory.principal.implementation import check_bounds
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import marginal_weights, objective_args, pmean

__all__ = [
    "PolicyOutcome",
    "surplus_aggregate",
    "grid_search_tax",
    "laissez_faire",
    "pigouvian_tax",
    "saez_tax",
    "evaluate_policy",
]


@dataclass(frozen=True)
class PolicyOutcome:
    """A tax policy, its certified equilibrium and its welfare for one p.

    Attributes
    ----------
    rates : numpy.ndarray
    tax : PiecewiseLinearTax
    equilibrium : Equilibrium
    welfare : float
    p : float
    method : str
    evaluations : int
        Policies whose equilibrium was computed to find this one.
    details : dict
    """

    rates: np.ndarray
    tax: PiecewiseLinearTax
    equilibrium: Equilibrium
    welfare: float
    p: float
    method: str
    evaluations: int
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def evaluate_policy(
    game: CommonsGame,
    rates: npt.ArrayLike,
    p: float,
    welfare_of: Literal["utility", "payoff"] = "utility",
    method: str = "given rates",
) -> PolicyOutcome:
    """The certified equilibrium of ``rates`` (for the game's thresholds) and its ``M_p``.

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> out = evaluate_policy(scenarios.apple_picking(), [0.0, 0.0, 0.0], p=1)
    >>> round(float(out.equilibrium.actions.sum()), 2)
    86.69
    """
    require_commons(game, what="evaluate_policy")
    pf, welfare_of = objective_args(p, welfare_of)
    r = np.asarray(rates, dtype=float)
    g = game.with_tax(game.tax.with_rates(r))
    eq = solve_equilibrium(g)
    values = pick(welfare_of, eq.utilities, eq.payoffs)
    return PolicyOutcome(r, g.tax, eq, pmean(values, pf, game.welfare_weights), pf, method, 1)


def laissez_faire(
    game: CommonsGame, p: float, welfare_of: Literal["utility", "payoff"] = "utility"
) -> PolicyOutcome:
    """No tax (``phi = 0``)."""
    return evaluate_policy(game, np.zeros(game.tax.n_brackets), p, welfare_of, "laissez-faire (all rates 0)")


def grid_search_tax(
    game: CommonsGame,
    p: float,
    step: float = 0.1,
    *,
    bounds: tuple[float, float] | npt.ArrayLike = (0.0, 1.0),
    welfare_of: Literal["utility", "payoff"] = "utility",
    engine: Literal["per-policy", "batched"] = "per-policy",
) -> PolicyOutcome:
    r"""The seed's principal: the best policy on the rate grid ``{0, step, ..., 1}^B``.

    With three brackets and ``step = 0.1`` this is the seed's 1331 policies. ``engine =
    "per-policy"`` (default) solves and certifies each policy's equilibrium on its own, as the
    seed's principal evaluates each policy by letting the agents play it; ``"batched"`` uses
    :func:`policy_equilibria` (the same equilibria, vectorised).

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> best = grid_search_tax(scenarios.apple_picking(), p=1, step=0.5, engine="batched")
    >>> best.evaluations
    27
    """
    require_commons(game, what="grid_search_tax")
    pf, welfare_of = objective_args(p, welfare_of)
    if not (isinstance(step, (int, float)) and 0 < step <= 1 and math.isfinite(step)):
        raise InvalidParameterError("step", step, "give a grid step in (0, 1]")
    lo, hi = check_bounds(game, bounds)
    axes = [np.round(np.arange(a, b + 1e-9, step), 12) for a, b in zip(lo, hi, strict=True)]
    grid = np.array(list(itertools.product(*axes)), dtype=float)
    t0 = time.perf_counter()
    if engine == "batched":
        batch = policy_equilibria(game, grid)
        w = batch.welfare(Objective(pf, welfare_of).for_game(game))  # type: ignore[arg-type]
        best = int(np.argmax(w))
        g = game.with_tax(game.tax.with_rates(grid[best]))
        eq = certify(g, batch.actions[best], method="batched aggregate root")
        welfare = float(w[best])
    elif engine == "per-policy":
        welfare, eq, best = -math.inf, None, 0
        for i, rates in enumerate(grid):
            g = game.with_tax(game.tax.with_rates(rates))
            e = solve_equilibrium(g)
            values = pick(welfare_of, e.utilities, e.payoffs)
            try:
                wi = pmean(values, pf, game.welfare_weights)
            except SedtheoryError:
                continue
            if wi > welfare:
                welfare, eq, best = wi, e, i
        if eq is None:
            raise InvalidParameterError(
                "game", None, f"no grid policy gives values in the domain of M_{pf:g}; raise omega"
            )
    else:
        raise InvalidParameterError("engine", engine, 'use "per-policy" or "batched"')
    assert eq is not None
    return PolicyOutcome(
        grid[best].copy(),
        eq.game.policy if eq.game is not None else game.tax.with_rates(grid[best]),
        eq,
        welfare,
        pf,
        f"grid search, step {step:g} ({grid.shape[0]} policies, {engine})",
        int(grid.shape[0]),
        {"seconds": time.perf_counter() - t0},
    )


def surplus_aggregate(game: CommonsGame) -> tuple[float, np.ndarray]:
    r"""The efficient aggregate: actions maximising total payoffs (transfers cancel).

    Global commons: the first-order conditions :math:`1 - a_j/\theta_j - \kappa A = 0` give
    :math:`a_j = \mathrm{clip}(\theta_j (1 - \kappa A), 0, a_{\max})`, and ``A`` is the root of
    a decreasing 1-D equation (bisection to rounding). Local commons: a convex program.
    """

    theta = game.society.productivity
    if game.uses_global_formulas and np.all(np.isfinite(theta)) and game.damage > 0:

        def actions(agg: float) -> np.ndarray:
            return np.clip(theta * (1.0 - game.damage * agg), 0.0, game.max_harvest)

        total = game.kernel.total
        lo, hi = 0.0, float(total(actions(0.0)))
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if total(actions(mid)) > mid:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 4 * np.finfo(float).eps * max(1.0, hi):
                break
        x = actions(0.5 * (lo + hi))
        return float(total(x)), x

    a, _, r, _, cons = planner_program(game, "lump-sum")
    problem = cp.Problem(
        cp.Maximize(game.society.masses @ r / (utility_scale(game) * game.kernel.population)), cons
    )
    solve(problem, "efficient harvest")
    x = np.clip(as_array(a), 0.0, game.max_harvest)
    return float(game.kernel.total(x)), x


def pigouvian_tax(
    game: CommonsGame, p: float = 1.0, welfare_of: Literal["utility", "payoff"] = "utility"
) -> PolicyOutcome:
    r"""The Pigouvian flat rate: the flat tax whose equilibrium harvest equals the efficient one.

    The efficient harvest maximises total payoffs :math:`\sum_j r_j` (transfers cancel; a
    convex program). The flat rate is found by a batched scan of 201 rates and bisection
    on the sign change of :math:`A^*(\phi) - A^{\mathrm{eff}}`. In the global commons with
    every :math:`\sigma_i > 0` the rate is :math:`\kappa A^{\mathrm{eff}}` and implements the
    first best agent by agent, whatever the heterogeneity (each first-order condition becomes
    :math:`\sigma_i(1 - a_i/\theta_i - \kappa A) = 0`; registered as the statement
    ``pigouvian_rate_implements_first_best`` in :mod:`sedtheory.theory`); in the symmetric case
    it is the rate of :func:`sedtheory.symmetric_closed_forms`. With agents of
    :math:`\sigma_i = 0` or the local commons only the aggregate is matched. If no rate in
    [0, 1] reaches it, the closest end is returned (``details``).

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> pig = pigouvian_tax(scenarios.apple_picking())
    >>> abs(pig.details["aggregate"] - pig.details["efficient_aggregate"]) < 1e-6
    True
    """
    require_commons(game, what="pigouvian_tax")
    pf, welfare_of = objective_args(p, welfare_of)
    target, _ = surplus_aggregate(game)
    bk = game.tax.n_brackets
    rates = np.linspace(0.0, 1.0, 201)
    batch = policy_equilibria(game, np.repeat(rates[:, None], bk, axis=1))
    excess = game.kernel.total(batch.actions) - target
    evaluations = rates.size
    sign = np.flatnonzero((excess[:-1] > 0) & (excess[1:] <= 0))
    if excess[0] <= 0:
        phi, note = 0.0, "laissez-faire already harvests no more than the efficient aggregate"
    elif sign.size == 0:
        phi, note = 1.0, "even a 100% flat rate leaves the harvest above the efficient aggregate"
    else:
        a, b = rates[sign[0]], rates[sign[0] + 1]
        for _ in range(60):
            mid = 0.5 * (a + b)
            ex = float(game.kernel.total(policy_equilibria(game, np.full((1, bk), mid)).actions)[0]) - target
            evaluations += 1
            if ex > 0:
                a = mid
            else:
                b = mid
            if b - a < 1e-13:
                break
        phi, note = b, "bisection on the equilibrium aggregate"
    out = evaluate_policy(game, np.full(bk, phi), pf, welfare_of, f"Pigouvian flat rate ({note})")
    details = {
        "efficient_aggregate": target,
        "aggregate": float(game.kernel.total(out.equilibrium.actions)),
        "note": note,
    }
    return PolicyOutcome(
        out.rates, out.tax, out.equilibrium, out.welfare, pf, out.method, evaluations + 1, details
    )


def saez_tax(
    game: CommonsGame,
    p: float,
    elasticity: float = 1.0,
    welfare_of: Literal["utility", "payoff"] = "utility",
    samples: int = 50,
) -> PolicyOutcome:
    r"""The AI Economist's Saez-formula tax, averaged into the game's brackets.

    At income ``z`` the rate is :math:`(1 - G(z)) / (1 - G(z) + A(z) e)` with :math:`G(z)`
    the average marginal welfare weight of the agents with income above ``z`` (weights
    :math:`\partial M_p / \partial u_i \propto u_i^{p-1}`, normalised to mean 1),
    :math:`A(z) = z f(z) / (1 - F(z))` from a Gaussian kernel density of the incomes, and
    ``e`` the elasticity of income with respect to the net-of-tax rate. Each bracket gets the
    mean rate over ``samples`` points of the bracket (within the observed incomes; the top
    bracket up to the largest income), clipped to [0, 1].

    The incomes are the equilibrium harvests under the game's own tax (pass a laissez-faire
    game for the first period). The default ``e = 1`` is the elasticity of an interior,
    selfish agent here: :math:`a = \theta(1 - \phi - \dots)`, so :math:`d\log a / d\log(1-\phi) = 1`
    up to the damage term.

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> out = saez_tax(scenarios.apple_picking(), p=0)
    >>> bool(((out.rates >= 0) & (out.rates <= 1)).all())
    True
    """
    require_commons(game, what="saez_tax")
    pf, welfare_of = objective_args(p, welfare_of)
    if not (math.isfinite(elasticity) and elasticity > 0):
        raise InvalidParameterError("elasticity", elasticity, "give a positive finite elasticity")
    eq = solve_equilibrium(game)
    z = eq.actions
    values = pick(welfare_of, eq.utilities, eq.payoffs)
    if pf not in (1.0, math.inf, -math.inf) and np.any(values <= 0):
        pmean(values, pf)  # raises the DomainError naming the agents
    mass = game.society.masses
    weights = marginal_weights(values, pf, mass)
    spread = float(np.ptp(z))
    kde = gaussian_kde(z, weights=mass) if spread > 0 and game.n > 1 else None
    tau = game.tax.thresholds
    rates = np.zeros(tau.size)
    top = float(z.max())
    for b in range(tau.size):
        lo_b = tau[b]
        hi_b = tau[b + 1] if b + 1 < tau.size else max(top, lo_b)
        grid = np.linspace(lo_b, min(hi_b, top) if hi_b > lo_b else lo_b, samples)
        vals = []
        for point in grid:
            above = z >= point
            if not above.any():
                continue
            g_z = float(weights[above] @ mass[above] / mass[above].sum())
            if kde is None:
                a_z = 0.0
            else:
                tail = float(kde.integrate_box_1d(point, np.inf))
                a_z = point * float(kde(point)[0]) / tail if tail > 1e-12 else 0.0
            if abs(1.0 - g_z) <= 1e-12:
                vals.append(0.0)  # the agents above z have average weight: no motive to tax
                continue
            denom = 1.0 - g_z + a_z * elasticity
            vals.append(1.0 if denom <= 0 else (1.0 - g_z) / denom)
        rates[b] = float(np.clip(np.mean(vals), 0.0, 1.0)) if vals else (rates[b - 1] if b > 0 else 0.0)
    out = evaluate_policy(game, rates, pf, welfare_of, f"Saez formula (elasticity {elasticity:g})")
    return PolicyOutcome(
        out.rates,
        out.tax,
        out.equilibrium,
        out.welfare,
        pf,
        out.method,
        2,
        {"incomes": z, "welfare_weights": weights},
    )
