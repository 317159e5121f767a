"""Statements on the SED game: budget balance, the potential, equilibria, the tragedy, Pigou, bunching."""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np

from sedtheory.equilibrium import solve_equilibrium
from sedtheory.equilibrium.solve import damped_best_response
from sedtheory.games import CommonsGame
from sedtheory.games.commons.replies import best_replies
from sedtheory.scenarios import apple_picking
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.theory.registry import Instance, statement
from sedtheory.theory.statements.common import close, gen_game, random_society

__all__: list[str] = []


def _budget_false(inst: Instance) -> list[dict[str, Any]]:
    """False variant: taxes lower total payoff by the revenue (i.e. nothing is redistributed)."""
    game, a = inst["game"], inst["actions"]
    taxed = float(game.payoffs(a).sum())
    untaxed = float(game.with_tax(game.tax.with_rates(np.zeros(game.tax.n_brackets))).payoffs(a).sum())
    revenue = float(np.asarray(game.tax(a)).sum())
    return (
        [] if close(taxed, untaxed - revenue) else [{"taxed": taxed, "untaxed - revenue": untaxed - revenue}]
    )


@statement(
    "budget_balance",
    text=(
        "With equal redistribution the tax is budget-balanced: for every profile, the sum of payoffs "
        "sum_j r_j(a) does not depend on the rates (each agent pays T(a_j) and receives sum_k T(a_k)/n)."
    ),
    hypotheses=("equal redistribution of the revenue",),
    citation="Zhang et al., Social Environment Design, ICML 2024 (equal redistribution)",
    generate=gen_game,
    holds_on=lambda inst: True,
    planted=lambda: {"game": apple_picking((0.1, 0.3, 0.6)), "actions": np.full(7, 15.0)},
    planted_check=_budget_false,
    how="Sum of payoffs at a random profile under the tax and under zero rates (global and local commons).",
    instances=300,
)
def _budget_balance(inst: Instance) -> list[dict[str, Any]]:
    game, a = inst["game"], inst["actions"]
    taxed = float(game.payoffs(a).sum())
    untaxed = float(game.with_tax(game.tax.with_rates(np.zeros(game.tax.n_brackets))).payoffs(a).sum())
    return [] if close(taxed, untaxed, 1e-12) else [{"taxed": taxed, "untaxed": untaxed}]


def _potential_diffs(inst: Instance) -> tuple[float, float, float]:
    game, a, i, x = inst["game"], inst["actions"], inst["agent"], inst["x"]
    b = a.copy()
    b[i] = x
    du = float(game.utilities(b)[i] - game.utilities(a)[i])
    dphi = float(game.potential(b) - game.potential(a))
    return du, dphi, float(game.society.weight_sums[i] / game.n)


def _potential_unweighted(inst: Instance) -> list[dict[str, Any]]:
    """False variant: an exact (unweighted) potential, u_i(x, a_-i) - u_i(a) = Phi(x, a_-i) - Phi(a)."""
    du, dphi, _ = _potential_diffs(inst)
    return [] if close(du, dphi, 1e-9) else [{"du": du, "dPhi": dphi}]


@statement(
    "weighted_potential",
    text=(
        "The global-commons game is a weighted potential game: u_i(x, a_-i) - u_i(a) = (s_i/n) "
        "(Phi(x, a_-i) - Phi(a)) with Phi(a) = sum_{s_i > 0} (n/s_i)[sigma_i a_i - k_i T(a_i) - "
        "sigma_i a_i^2/(2 theta_i)] - kappa A^2/2, i.e. weights r_i = n/s_i."
    ),
    hypotheses=("global commons", "s_i > 0 for the deviating agent"),
    citation="Monderer and Shapley, Potential games, GEB (1996)",
    generate=lambda rng: gen_game(rng, "global"),
    holds_on=lambda inst: (
        inst["game"].uses_global_formulas and inst["game"].society.weight_sums[inst["agent"]] > 0
    ),
    planted=lambda: {
        "game": apple_picking((0.1, 0.3, 0.6)),
        "actions": np.full(7, 15.0),
        "agent": 3,
        "x": 30.0,
    },
    planted_check=_potential_unweighted,
    how="A random unilateral deviation at a random profile; both sides of the identity.",
    instances=300,
)
def _weighted_potential(inst: Instance) -> list[dict[str, Any]]:
    du, dphi, weight = _potential_diffs(inst)
    scale = max(1.0, abs(du), abs(weight * dphi)) * 1e-9
    return [] if abs(du - weight * dphi) <= scale else [{"du_i": du, "(s_i/n) dPhi": weight * dphi}]


def _fine_grid_gap(game: CommonsGame, a: np.ndarray, points: int = 401) -> float:
    """Independent lower bound on the Nash gap: deviations on a grid plus the thresholds."""
    grid = np.unique(np.concatenate([np.linspace(0, game.max_harvest, points), game.tax.thresholds]))
    grid = grid[grid <= game.max_harvest]
    base = game.utilities(a)
    worst = 0.0
    for i in range(game.n):
        prof = np.repeat(a[None, :], grid.size, axis=0)
        prof[:, i] = grid
        worst = max(worst, float(game.utilities(prof)[:, i].max() - base[i]))
    return worst


def _interior_variant(inst: Instance) -> list[dict[str, Any]]:
    """False variant: an equilibrium exists with every agent strictly inside a bracket (no bunching)."""
    game = inst["game"]
    eq = solve_equilibrium(game)
    edges = np.concatenate([game.tax.thresholds, [game.max_harvest]])
    on_edge = np.isclose(eq.actions[:, None], edges[None, :], rtol=0, atol=1e-9).any(axis=1)
    return [{"agents_on_a_threshold_or_bound": np.flatnonzero(on_edge).tolist()}] if on_edge.any() else []


@statement(
    "pure_equilibrium_exists",
    text=(
        "The global-commons game has a pure Nash equilibrium, also when utilities are not concave "
        "(a weighted potential game on a compact action set; aggregative with strategic substitutes)."
    ),
    hypotheses=("global commons", "finite harvest cap"),
    citation="Monderer and Shapley (1996); Jensen, Aggregative games and best-reply potentials, ET (2010)",
    generate=lambda rng: gen_game(rng, "global"),
    holds_on=lambda inst: inst["game"].uses_global_formulas,
    planted=lambda: {"game": apple_picking((0.1, 0.3, 0.6))},
    planted_check=_interior_variant,
    how=(
        "solve_equilibrium must return a certified profile (exact Nash gap <= 1e-9 relative), "
        "confirmed by an independent grid of 401 deviations per agent."
    ),
    instances=200,
)
def _existence(inst: Instance) -> list[dict[str, Any]]:
    game = inst["game"]
    eq = solve_equilibrium(game, raise_on_failure=False)
    scale = max(1.0, float(np.abs(eq.utilities).max()))
    grid = _fine_grid_gap(game, eq.actions)
    if not eq.converged or grid > 1e-8 * scale:
        return [{"converged": eq.converged, "nash_gap": eq.nash_gap, "grid_gap": grid}]
    return []


def _gen_concave_global(rng: np.random.Generator) -> Instance:
    inst = gen_game(rng, "global")
    game = inst["game"]
    sigma = rng.uniform(0.6, 1.0, game.n)  # sigma_i > s_i / n: k_i > 0, concave under progressive rates
    soc = game.society.with_types(selfishness=sigma)
    tax = game.tax.with_rates(np.sort(game.tax.rates))
    inst["game"] = CommonsGame(soc, tax, game.damage, game.endowment, game.max_harvest, "global")
    return inst


def _weighted_gradient(game: CommonsGame, a: np.ndarray) -> np.ndarray:
    alpha = game.reply_intercepts(a)
    rate = game.tax.marginal_rate(a)
    g = alpha - game.own_tax_weight * np.asarray(rate) - game.own_curvature * a
    return np.asarray(game.n / game.society.weight_sums * g)


def _multiple_equilibria_instance() -> Instance:
    from sedtheory.families import make_game
    from sedtheory.principal import optimal_tax

    # Found by the learning sweep (docs/learning.md): the star with bimodal types under its
    # p = -inf optimal rates. The principal's design certifies one equilibrium; the aggregate
    # solver and gradient play from zero find another, 13 apples away.
    game = make_game(12, "star", "bimodal", seed=0)
    design = optimal_tax(game, -math.inf)
    return {"game": game.with_tax(design.tax), "known": [design.equilibrium.actions]}


@statement(
    "uniqueness_dsc",
    text=(
        "If every u_i is strictly concave in a_i (progressive tax, sigma_i > 0, theta_i finite), the "
        "pseudo-gradient weighted by r_i = n/s_i is strictly monotone (diagonal strict concavity) and the "
        "pure equilibrium is unique."
    ),
    hypotheses=(
        "global commons",
        "progressive tax (k_i >= 0 makes T enter concavely)",
        "sigma_i > 0",
        "s_i > 0",
    ),
    citation="Rosen, Existence and uniqueness of equilibrium points for concave n-person games (1965)",
    generate=_gen_concave_global,
    holds_on=lambda inst: (
        inst["game"].uses_global_formulas
        and bool(inst["game"].is_concave.all())
        and bool(np.all(inst["game"].society.selfishness > 0))
        and bool(np.all(inst["game"].society.weight_sums > 0))
    ),
    planted=_multiple_equilibria_instance,
    how=(
        "DSC: sum_i r_i (b_i - a_i)(g_i(a) - g_i(b)) > 0 for 5 random pairs; uniqueness: the batched "
        "solver and damped best responses from the cap, from zero and from a random profile (run to a "
        "relative gap of 1e-12) end within 1e-2 of the aggregate solver's equilibrium."
    ),
    instances=120,
)
def _uniqueness(inst: Instance) -> list[dict[str, Any]]:
    game = inst["game"]
    rng = np.random.default_rng(0)
    out: list[dict[str, Any]] = []
    for _ in range(5):
        a, b = rng.uniform(0, game.max_harvest, (2, game.n))
        value = float((b - a) @ (_weighted_gradient(game, a) - _weighted_gradient(game, b)))
        if value <= 0:
            out.append({"dsc": value, "a": a.tolist(), "b": b.tolist()})
    from sedtheory.principal import policy_equilibria

    ref = solve_equilibrium(game).actions
    scale = max(1.0, float(np.abs(game.utilities(ref)).max()))
    found = [policy_equilibria(game, game.tax.rates[None, :]).actions[0], *inst.get("known", [])]
    starts = [np.full(game.n, game.max_harvest), rng.uniform(0, game.max_harvest, game.n), np.zeros(game.n)]
    for start in starts:
        a = damped_best_response(game, 1e-13, 2000, start).actions
        found.append(a)
    for a in found:
        # Two certified equilibria further apart than their gaps allow are distinct.
        if game.nash_gap(a) <= 1e-12 * scale and np.abs(a - ref).max() > 1e-2:
            out.append({"equilibria": [ref.tolist(), a.tolist()]})
    return out


def _gen_tragedy(rng: np.random.Generator) -> Instance:
    n = int(rng.integers(2, 9))
    soc = random_society(rng, n, graph=str(rng.choice(["complete", "ring"])))
    if rng.random() < 0.7:  # mostly inside the hypothesis (selfish enough)
        soc = soc.with_types(selfishness=np.maximum(soc.selfishness, rng.uniform(0.6, 1.0, n)))
    zero = PiecewiseLinearTax([0.0], [0.0])
    return {"game": CommonsGame(soc, zero, float(rng.uniform(0.002, 0.1)), 50.0, 500.0, "global")}


def _tragedy_hyp(inst: Instance) -> bool:
    g = inst["game"]
    s = g.society
    return (
        g.damage > 0
        and bool(np.all(s.selfishness > s.weight_sums / g.n))
        and bool(np.all(np.isfinite(s.productivity)))
    )


@statement(
    "tragedy_of_the_commons",
    text=(
        "Under laissez-faire the equilibrium aggregate harvest strictly exceeds the efficient one "
        "(maximising total payoff) when kappa > 0 and every agent weighs its own payoff more than its "
        "share of the damage, sigma_i > s_i/n."
    ),
    hypotheses=(
        "global commons",
        "kappa > 0",
        "sigma_i > s_i / n for all i",
        "theta_i finite",
        "cap not binding",
    ),
    citation="Hardin, The tragedy of the commons, Science (1968); Gordon (1954)",
    generate=_gen_tragedy,
    holds_on=_tragedy_hyp,
    planted=lambda: {
        "game": CommonsGame(
            Society(np.full(5, 0.02), 20.0), PiecewiseLinearTax([0.0], [0.0]), 0.05, 50.0, 500.0
        )
    },
    how="Laissez-faire aggregate (certified equilibrium) against the efficient aggregate (exact 1-D root).",
    instances=200,
)
def _tragedy(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.principal.baselines import surplus_aggregate

    game = inst["game"]
    lf = solve_equilibrium(game).aggregate
    eff, _ = surplus_aggregate(game)
    return [] if lf > eff * (1 + 1e-12) else [{"laissez_faire": lf, "efficient": eff}]


def _gen_pigou(rng: np.random.Generator) -> Instance:
    n = int(rng.integers(2, 11))
    soc = random_society(rng, n)
    if rng.random() < 0.8:
        soc = soc.with_types(selfishness=rng.uniform(0.02, 1.0, n))
    zero = PiecewiseLinearTax([0.0], [0.0])
    return {"game": CommonsGame(soc, zero, float(rng.uniform(0.002, 0.2)), 50.0, 500.0)}


@statement(
    "pigouvian_rate_implements_first_best",
    text=(
        "In the global commons with every sigma_i > 0, the flat rate phi* = kappa A^fb makes every agent "
        "play its efficient action theta_i (1 - kappa A^fb), whatever the heterogeneity of types, graph "
        "and weighting (each first-order condition becomes sigma_i (1 - a_i/theta_i - kappa A) = 0); "
        "symmetric case: phi* = kappa n theta / (1 + kappa n theta)."
    ),
    hypotheses=("global commons", "sigma_i > 0 for all i", "theta_i finite", "cap not binding", "phi* <= 1"),
    citation="Pigou, The Economics of Welfare (1920); sedtheory.symmetric_closed_forms",
    generate=_gen_pigou,
    holds_on=lambda inst: bool(
        inst["game"].uses_global_formulas
        and np.all(inst["game"].society.selfishness > 0)
        and np.all(np.isfinite(inst["game"].society.productivity))
    ),
    planted=lambda: {
        "game": CommonsGame(  # dropped hypothesis: the local commons (damage per neighbourhood)
            Society([0.3, 0.5, 0.8, 1.0, 0.6, 0.9], [10.0, 20.0, 30.0, 40.0, 25.0, 15.0], nx.cycle_graph(6)),
            PiecewiseLinearTax([0.0], [0.0]),
            0.01,
            50.0,
            500.0,
            "local",
        )
    },
    how="Equilibrium under the flat rate kappa A^fb against the efficient actions, agent by agent (1e-9).",
    instances=200,
)
def _pigouvian(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.principal.baselines import surplus_aggregate

    game = inst["game"]
    eff_agg, eff = surplus_aggregate(game)
    rate = game.damage * eff_agg
    eq = solve_equilibrium(game.with_tax(PiecewiseLinearTax([0.0], [rate])))
    dev = float(np.abs(eq.actions - eff).max())
    return [] if dev <= 1e-9 * max(1.0, float(eff.max())) else [{"rate": rate, "deviation": dev}]


def _gen_bunching(rng: np.random.Generator) -> Instance:
    beta, k = float(rng.uniform(0.005, 0.5)), float(rng.uniform(0.05, 1.5))
    tau = float(rng.uniform(2.0, 30.0))
    r1 = float(rng.uniform(0, 0.9))
    r2 = float(rng.uniform(r1 + 0.01, 1.0))
    lo, hi = k * r1 + beta * tau, k * r2 + beta * tau
    width = hi - lo
    alphas = rng.uniform(lo - width, hi + width, 20)
    return {"beta": beta, "k": k, "tau": tau, "rates": (r1, r2), "alphas": alphas}


def _bunch(inst: Instance, lo_hi: tuple[float, float]) -> list[dict[str, Any]]:
    beta, k, tau = inst["beta"], inst["k"], inst["tau"]
    r1, r2 = inst["rates"]
    alphas = inst["alphas"]
    n = alphas.size
    lo_p = np.array([0.0, tau])
    hi_p = np.array([tau, 1e6])
    rate = np.array([r1, r2])
    base = np.array([0.0, r1 * tau])
    x, _ = best_replies(alphas, np.full(n, beta), np.full(n, k), lo_p, hi_p, rate, base, np.full(n, 1e6))
    lo, hi = lo_hi
    out = []
    for a, xi in zip(alphas, x, strict=True):
        if min(abs(a - lo), abs(a - hi)) <= 1e-9 * max(1.0, abs(a)):
            continue  # on the boundary of the range: either side is fine numerically
        inside = lo <= a <= hi
        if inside != (abs(xi - tau) <= 1e-12 * max(1.0, tau)):
            out.append({"alpha": float(a), "reply": float(xi), "threshold": tau, "range": (lo, hi)})
    return out


@statement(
    "bunching_at_thresholds",
    text=(
        "An agent with own problem alpha x - k T(x) - beta x^2/2 (beta > 0, k > 0) facing a rate rise "
        "r1 < r2 at threshold tau bunches exactly at tau iff its type alpha lies in "
        "[k r1 + beta tau, k r2 + beta tau]: a positive measure of types bunches."
    ),
    hypotheses=("beta > 0", "k > 0 (the agent bears its tax)", "r1 < r2 (convex kink)"),
    citation="Saez, Do taxpayers bunch at kink points?, AEJ: Economic Policy (2010)",
    generate=_gen_bunching,
    holds_on=lambda inst: inst["beta"] > 0 and inst["k"] > 0 and inst["rates"][0] < inst["rates"][1],
    planted=lambda: {
        "beta": 0.1,
        "k": 1.0,
        "tau": 10.0,
        "rates": (0.2, 0.6),
        "alphas": np.array([1.5, 1.55]),
    },
    planted_check=lambda inst: _bunch(inst, (1.2, 1.4)),
    how="Exact best replies of 20 random types around the predicted range (boundaries excluded).",
    instances=300,
)
def _bunching(inst: Instance) -> list[dict[str, Any]]:
    r1, r2 = inst["rates"]
    return _bunch(
        inst, (inst["k"] * r1 + inst["beta"] * inst["tau"], inst["k"] * r2 + inst["beta"] * inst["tau"])
    )
