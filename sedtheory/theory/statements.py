r"""The registered statements: p-means, taxes, the SED game, voting, learning, and findings.

Each function below is the check of one statement; the decorator registers it with its text,
hypotheses, citation, instance generator and planted violation. Tolerances are relative
(``1e-9`` unless said otherwise) and every counterexample records the numbers that violate
the statement.
"""

from __future__ import annotations

import itertools
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
from sedtheory.welfare import pmean

__all__: list[str] = []

P_GRID = (-math.inf, -50.0, -5.0, -2.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 2.0, 5.0, 50.0, math.inf)


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# ------------------------------------------------------------------ p-means
def _values(rng: np.random.Generator, positive: bool = True) -> Instance:
    n = int(rng.integers(1, 9))
    v = np.exp(rng.normal(0.0, 1.5, n))
    if rng.random() < 0.2:
        v[:] = v[0]
    w = None if rng.random() < 0.5 else rng.dirichlet(np.ones(n))
    return {"values": v, "weights": w}


def _gen_pm_pair(rng: np.random.Generator) -> Instance:
    inst = _values(rng)
    inst["ps"] = sorted(rng.choice(P_GRID, size=4, replace=False).tolist())
    return inst


def _pm_reversed(inst: Instance) -> list[dict[str, Any]]:
    """False variant: M_p >= M_q for p < q."""
    m = [pmean(inst["values"], p, inst["weights"]) for p in inst["ps"]]
    return [
        {"p": p, "q": q, "M_p": a, "M_q": b}
        for (p, a), (q, b) in itertools.combinations(zip(inst["ps"], m, strict=True), 2)
        if a < b * (1 - 1e-12)
    ]


@statement(
    "power_mean_inequality",
    text="For v > 0 and weights w (sum 1), p < q implies M_p(v) <= M_q(v), with equality iff v is constant.",
    hypotheses=("v_i > 0", "w_i >= 0, sum w_i = 1"),
    citation="Hardy, Littlewood and Polya, Inequalities (1934), Thm 16",
    generate=_gen_pm_pair,
    holds_on=lambda inst: bool(np.all(inst["values"] > 0)),
    planted=lambda: {"values": np.array([1.0, 4.0]), "weights": None, "ps": [-1.0, 1.0]},
    planted_check=_pm_reversed,
    how="M_p at 4 random p in [-inf, inf] (0 and +-1e-3 included); every ordered pair compared.",
    instances=400,
)
def _power_mean_inequality(inst: Instance) -> list[dict[str, Any]]:
    v, w, ps = inst["values"], inst["weights"], inst["ps"]
    m = [pmean(v, p, w) for p in ps]
    constant = bool(np.all(v == v[0]))
    out = []
    for (p, a), (q, b) in itertools.combinations(zip(ps, m, strict=True), 2):
        if a > b * (1 + 1e-12):
            out.append({"p": p, "q": q, "M_p": a, "M_q": b, "values": v.tolist()})
        if constant and not _close(a, b, 1e-12):
            out.append({"p": p, "q": q, "M_p": a, "M_q": b, "equality_expected": True})
    return out


def _limits_false(inst: Instance) -> list[dict[str, Any]]:
    """False variant: M_50(v) equals max(v)."""
    v = inst["values"]
    m = pmean(v, 50.0)
    return [] if _close(m, float(v.max()), 1e-12) else [{"M_50": m, "max": float(v.max())}]


@statement(
    "power_mean_limits",
    text=(
        "M_p(v) -> max v as p -> +inf, -> min v as p -> -inf and -> the geometric mean as p -> 0; "
        "quantitatively w_k^(1/p) max v <= M_p <= max v for p > 0 (k the argmax), "
        "min v <= M_p <= w_k^(1/p) min v for p < 0, and |log M_p - sum w log v| <= |p| (range log v)^2."
    ),
    hypotheses=("v_i > 0", "w_i > 0, sum w_i = 1"),
    citation="Hardy, Littlewood and Polya (1934), Thms 3-4",
    generate=_values,
    holds_on=lambda inst: bool(np.all(inst["values"] > 0)),
    planted=lambda: {"values": np.array([1.0, 2.0, 3.0]), "weights": None},
    planted_check=_limits_false,
    how="The sandwich bounds at p = +-20, +-100, +-1000 and the logarithmic bound at p = +-1e-6.",
    instances=400,
)
def _power_mean_limits(inst: Instance) -> list[dict[str, Any]]:
    v = inst["values"]
    n = v.size
    w = np.full(n, 1.0 / n) if inst["weights"] is None else np.maximum(inst["weights"], 1e-300)
    w = w / w.sum()
    out = []
    hi, lo = float(v.max()), float(v.min())
    w_hi, w_lo = float(w[int(np.argmax(v))]), float(w[int(np.argmin(v))])
    tol = 1e-12
    for p in (20.0, 100.0, 1000.0):
        m = pmean(v, p, w)
        if not (w_hi ** (1 / p) * hi * (1 - tol) <= m <= hi * (1 + tol)):
            out.append({"p": p, "M_p": m, "bounds": (w_hi ** (1 / p) * hi, hi)})
        m = pmean(v, -p, w)
        if not (lo * (1 - tol) <= m <= w_lo ** (-1 / p) * lo * (1 + tol)):
            out.append({"p": -p, "M_p": m, "bounds": (lo, w_lo ** (-1 / p) * lo)})
    if pmean(v, math.inf, w) != hi or pmean(v, -math.inf, w) != lo:
        out.append({"limits": (pmean(v, -math.inf, w), pmean(v, math.inf, w)), "min_max": (lo, hi)})
    logs = np.log(v)
    geo = float(w @ logs)
    spread = float(logs.max() - logs.min())
    for p in (1e-6, -1e-6):
        gap = abs(math.log(pmean(v, p, w)) - geo)
        if gap > abs(p) * spread**2 + 1e-12:
            out.append({"p": p, "log_gap": gap, "bound": abs(p) * spread**2})
    return out


def _gen_concave_pm(rng: np.random.Generator) -> Instance:
    inst = _values(rng)
    n = inst["values"].size
    inst["other"] = np.exp(rng.normal(0.0, 1.5, n))
    inst["p"] = float(rng.choice([-math.inf, -10.0, -2.0, -1.0, -0.3, 0.0, 0.3, 0.7, 1.0]))
    inst["lam"] = float(rng.uniform(0.05, 0.95))
    return inst


@statement(
    "pmean_concave",
    text="For p <= 1, M_p is concave on the positive orthant: M_p(l u + (1-l) v) >= l M_p(u) + (1-l) M_p(v).",
    hypotheses=("p <= 1", "u, v > 0"),
    citation="Bullen, Handbook of Means and Their Inequalities (2003), Ch. III",
    generate=_gen_concave_pm,
    holds_on=lambda inst: inst["p"] <= 1,
    planted=lambda: {
        "values": np.array([1.0, 1e-3]),
        "other": np.array([1e-3, 1.0]),
        "weights": None,
        "p": 2.0,
        "lam": 0.5,
    },
    how="Jensen's inequality for random pairs and mixing weights.",
    instances=400,
)
def _pmean_concave(inst: Instance) -> list[dict[str, Any]]:
    u, v, lam, p, w = inst["values"], inst["other"], inst["lam"], inst["p"], inst["weights"]
    mid = pmean(lam * u + (1 - lam) * v, p, w)
    chord = lam * pmean(u, p, w) + (1 - lam) * pmean(v, p, w)
    return [] if mid >= chord * (1 - 1e-12) else [{"p": p, "M(mix)": mid, "mix of M": chord}]


def _gen_transfer(rng: np.random.Generator) -> Instance:
    n = int(rng.integers(2, 9))
    v = np.exp(rng.normal(0.0, 1.0, n))
    i, j = int(np.argmin(v)), int(np.argmax(v))
    if v[i] == v[j]:
        v[j] *= 2.0
    delta = float(rng.uniform(0.1, 1.0)) * (v[j] - v[i]) / 2.0
    return {
        "values": v,
        "from": j,
        "to": i,
        "delta": delta,
        "p": float(rng.choice([-20.0, -3.0, -1.0, 0.0, 0.5, 0.9])),
    }


@statement(
    "pigou_dalton",
    text=(
        "For p < 1 (finite), a transfer delta in (0, (v_j - v_i)/2] from a richer agent j to a poorer "
        "agent i strictly increases M_p."
    ),
    hypotheses=("p < 1, finite", "v > 0", "v_i < v_j"),
    citation="Pigou (1912); Dalton (1920); Atkinson (1970)",
    generate=_gen_transfer,
    holds_on=lambda inst: inst["p"] < 1 and math.isfinite(inst["p"]),
    planted=lambda: {"values": np.array([1.0, 3.0]), "from": 1, "to": 0, "delta": 0.5, "p": 1.0},
    how="A random rank-preserving transfer between the poorest and the richest agent.",
    instances=400,
)
def _pigou_dalton(inst: Instance) -> list[dict[str, Any]]:
    v = inst["values"].copy()
    before = pmean(v, inst["p"])
    v[inst["from"]] -= inst["delta"]
    v[inst["to"]] += inst["delta"]
    after = pmean(v, inst["p"])
    return [] if after > before else [{"p": inst["p"], "before": before, "after": after}]


def _gen_atkinson(rng: np.random.Generator) -> Instance:
    inst = _values(rng)
    inst["p"], inst["q"] = sorted(
        rng.choice([-math.inf, -5.0, -1.0, 0.0, 0.5, 0.9], size=2, replace=False).tolist()
    )
    return inst


@statement(
    "atkinson_index",
    text=(
        "The Atkinson index A_p = 1 - M_p(v)/M_1(v) satisfies 0 <= A_p < 1 for p < 1, A_p = 0 iff v is "
        "constant, and A_p >= A_q for p < q < 1 (more inequality aversion, larger index)."
    ),
    hypotheses=("p, q < 1", "v > 0"),
    citation="Atkinson, On the measurement of inequality, JET (1970)",
    generate=_gen_atkinson,
    holds_on=lambda inst: inst["q"] < 1 and bool(np.all(inst["values"] > 0)),
    planted=lambda: {"values": np.array([1.0, 3.0]), "weights": None, "p": 1.5, "q": 2.0},
    how="A_p and A_q on random positive vectors (some constant).",
    instances=400,
)
def _atkinson(inst: Instance) -> list[dict[str, Any]]:
    v, w = inst["values"], inst["weights"]
    mean = pmean(v, 1.0, w)
    a_p = 1 - pmean(v, inst["p"], w) / mean
    a_q = 1 - pmean(v, inst["q"], w) / mean
    out = []
    constant = bool(np.all(v == v[0]))
    for p, a in ((inst["p"], a_p), (inst["q"], a_q)):
        if not (-1e-12 <= a < 1) or (constant and abs(a) > 1e-12) or (not constant and a <= 0):
            out.append({"p": p, "A_p": a, "constant": constant})
    if a_p < a_q - 1e-12:
        out.append({"p": inst["p"], "q": inst["q"], "A_p": a_p, "A_q": a_q})
    return out


# ------------------------------------------------------------------ taxes
def _gen_tax(rng: np.random.Generator) -> Instance:
    b = int(rng.integers(1, 6))
    thresholds = np.concatenate([[0.0], np.sort(rng.uniform(1.0, 40.0, b - 1))])
    if np.any(np.diff(thresholds) <= 1e-6):
        thresholds = np.arange(b) * 5.0
    kind = rng.integers(3)
    rates = rng.uniform(0, 1, b)
    if kind == 0:
        rates = np.sort(rates)
    elif kind == 1:
        rates = np.sort(rates)[::-1]
    if b > 1 and rng.random() < 0.3:
        rates[1] = rates[0]
    return {"tax": PiecewiseLinearTax(thresholds, rates)}


def _is_convex(tax: PiecewiseLinearTax) -> bool:
    """Midpoint convexity at every interior threshold (the only places a kink can bend)."""
    for tau in tax.thresholds[1:]:
        h = 0.25 * min(np.diff(np.append(tax.thresholds, tax.thresholds[-1] + 10.0)))
        left, mid, right = (float(tax(x)) for x in (tau - h, tau, tau + h))
        if mid > 0.5 * (left + right) + 1e-12:
            return False
    return True


def _regressive_variant(inst: Instance) -> list[dict[str, Any]]:
    """False variant: T is convex iff its rates are non-increasing."""
    tax = inst["tax"]
    regressive = bool(np.all(np.diff(tax.rates) <= 0))
    return [] if regressive == _is_convex(tax) else [{"rates": tax.rates.tolist(), "convex": _is_convex(tax)}]


@statement(
    "tax_convex_iff_progressive",
    text="A piecewise-linear bracket tax T with T(0) = 0 is convex iff its marginal rates never fall.",
    hypotheses=("thresholds increasing from 0", "rates finite"),
    citation="standard (a piecewise-linear function is convex iff its slopes increase)",
    generate=_gen_tax,
    holds_on=lambda inst: True,
    planted=lambda: {"tax": PiecewiseLinearTax([0.0, 10.0], [0.1, 0.5])},
    planted_check=_regressive_variant,
    how="Numeric midpoint convexity at each threshold against PiecewiseLinearTax.is_progressive.",
    instances=400,
)
def _tax_convex(inst: Instance) -> list[dict[str, Any]]:
    tax = inst["tax"]
    convex = _is_convex(tax)
    return [] if convex == tax.is_progressive else [{"rates": tax.rates.tolist(), "convex": convex}]


# ------------------------------------------------------------------ the SED game
def _random_society(rng: np.random.Generator, n: int, graph: str | None = None) -> Society:
    sigma = rng.uniform(0, 1, n)
    sigma[rng.random(n) < 0.1] = 0.0
    theta = rng.uniform(5.0, 50.0, n)
    family = graph or str(rng.choice(["complete", "ring", "star", "er"]))
    g: nx.Graph | None
    if family == "complete":
        g = None
    elif family == "ring":
        g = nx.cycle_graph(n) if n > 2 else nx.path_graph(n)
    elif family == "star":
        g = nx.star_graph(n - 1)
    else:
        g = nx.gnp_random_graph(n, 0.5, seed=int(rng.integers(1 << 30)))
    weighting = "sum" if rng.random() < 0.5 else "mean"
    return Society(sigma, theta, graph=g, neighbor_weighting=weighting)  # type: ignore[arg-type]


def _random_tax(rng: np.random.Generator, progressive: bool | None = None) -> PiecewiseLinearTax:
    b = int(rng.integers(1, 4))
    thresholds = np.concatenate([[0.0], np.sort(rng.uniform(2.0, 30.0, b - 1))])
    if np.any(np.diff(thresholds) <= 1e-6):
        thresholds = np.arange(b) * 8.0
    rates = rng.uniform(0, 1, b)
    if progressive or (progressive is None and rng.random() < 0.5):
        rates = np.sort(rates)
    return PiecewiseLinearTax(thresholds, rates)


def _gen_game(rng: np.random.Generator, commons: str | None = None) -> Instance:
    n = int(rng.integers(2, 8))
    soc = _random_society(rng, n)
    c = commons or ("global" if rng.random() < 0.6 else "local")
    game = CommonsGame(soc, _random_tax(rng), float(rng.uniform(0.001, 0.15)), 50.0, 60.0, c)  # type: ignore[arg-type]
    return {
        "game": game,
        "actions": rng.uniform(0, 60.0, n),
        "agent": int(rng.integers(n)),
        "x": float(rng.uniform(0, 60)),
    }


def _budget_false(inst: Instance) -> list[dict[str, Any]]:
    """False variant: taxes lower total payoff by the revenue (i.e. nothing is redistributed)."""
    game, a = inst["game"], inst["actions"]
    taxed = float(game.payoffs(a).sum())
    untaxed = float(game.with_tax(game.tax.with_rates(np.zeros(game.tax.n_brackets))).payoffs(a).sum())
    revenue = float(np.asarray(game.tax(a)).sum())
    return (
        [] if _close(taxed, untaxed - revenue) else [{"taxed": taxed, "untaxed - revenue": untaxed - revenue}]
    )


@statement(
    "budget_balance",
    text=(
        "With equal redistribution the tax is budget-balanced: for every profile, the sum of payoffs "
        "sum_j r_j(a) does not depend on the rates (each agent pays T(a_j) and receives sum_k T(a_k)/n)."
    ),
    hypotheses=("equal redistribution (DESIGN.md section 2)",),
    citation="DESIGN.md section 2",
    generate=_gen_game,
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
    return [] if _close(taxed, untaxed, 1e-12) else [{"taxed": taxed, "untaxed": untaxed}]


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
    return [] if _close(du, dphi, 1e-9) else [{"du": du, "dPhi": dphi}]


@statement(
    "weighted_potential",
    text=(
        "The global-commons game is a weighted potential game: u_i(x, a_-i) - u_i(a) = (s_i/n) "
        "(Phi(x, a_-i) - Phi(a)) with Phi(a) = sum_{s_i > 0} (n/s_i)[sigma_i a_i - k_i T(a_i) - "
        "sigma_i a_i^2/(2 theta_i)] - kappa A^2/2, i.e. weights r_i = n/s_i."
    ),
    hypotheses=("global commons", "s_i > 0 for the deviating agent"),
    citation="Monderer and Shapley, Potential games, GEB (1996); DESIGN.md section 3",
    generate=lambda rng: _gen_game(rng, "global"),
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
    generate=lambda rng: _gen_game(rng, "global"),
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
    inst = _gen_game(rng, "global")
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
    soc = _random_society(rng, n, graph=str(rng.choice(["complete", "ring"])))
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
    from sedtheory.principal.baselines import _surplus_aggregate

    game = inst["game"]
    lf = solve_equilibrium(game).aggregate
    eff, _ = _surplus_aggregate(game)
    return [] if lf > eff * (1 + 1e-12) else [{"laissez_faire": lf, "efficient": eff}]


def _gen_pigou(rng: np.random.Generator) -> Instance:
    n = int(rng.integers(2, 11))
    soc = _random_society(rng, n)
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
    from sedtheory.principal.baselines import _surplus_aggregate

    game = inst["game"]
    eff_agg, eff = _surplus_aggregate(game)
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


# ------------------------------------------------------------------ voting
def _gen_sp_profile(rng: np.random.Generator) -> Instance:
    from sedtheory.voting import random_profiles

    k = int(rng.integers(2, 7))
    n = int(rng.integers(1, 12))
    model = "single_peaked" if rng.random() < 0.8 else "impartial_culture"
    return {"profile": random_profiles(n, list(range(k)), 1, model=model, seed=int(rng.integers(1 << 30)))[0]}


def _cyclic_profile() -> Any:
    from sedtheory.voting import as_profile

    return as_profile([[0, 1, 2], [1, 2, 0], [2, 0, 1]])


def _median_hyp(inst: Instance) -> bool:
    from sedtheory.voting import is_single_peaked

    return inst["profile"].n_voters % 2 == 1 and is_single_peaked(inst["profile"])


@statement(
    "median_voter_theorem",
    text=(
        "If an odd number of voters have preferences single-peaked on an axis, the median of their peaks "
        "is the Condorcet winner (and the median rule is strategy-proof)."
    ),
    hypotheses=("single-peaked on the axis", "odd number of voters"),
    citation="Black (1948); Moulin, On strategy-proofness and single peakedness, Public Choice (1980)",
    generate=_gen_sp_profile,
    holds_on=_median_hyp,
    planted=lambda: {"profile": _cyclic_profile()},
    how="Condorcet winner by pairwise majorities against the median peak; single-voter manipulation search.",
    instances=300,
)
def _median_voter(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.voting import condorcet_winner, find_manipulation

    prof = inst["profile"]
    peaks = sorted(prof.candidates[c] for c in prof.tops)
    median = peaks[len(peaks) // 2]
    cw = condorcet_winner(prof)
    out = (
        [] if cw == median else [{"median_peak": median, "condorcet_winner": cw, "rankings": prof.rankings()}]
    )
    witness = find_manipulation(prof, "median")
    if witness is not None:
        out.append({"manipulation": witness})
    return out


def _gen_gs(rule: str) -> Any:
    def gen(rng: np.random.Generator) -> Instance:
        return {
            "rule": rule,
            "candidates": 3,
            "voters": int(rng.integers(3, 7)),
            "seed": int(rng.integers(1 << 30)),
        }

    return gen


def _gs_check(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.voting import find_manipulation, random_profiles

    for prof in random_profiles(inst["voters"], list(range(inst["candidates"])), 300, seed=inst["seed"]):
        if find_manipulation(prof, inst["rule"]) is not None:
            return []
    return [
        {
            "rule": inst["rule"],
            "no_witness_in": 300,
            "voters": inst["voters"],
            "candidates": inst["candidates"],
        }
    ]


def _two_candidates(rule: str) -> Any:
    def planted() -> Instance:  # dropped hypothesis: with 2 candidates these rules are strategy-proof
        return {"rule": rule, "candidates": 2, "voters": 3, "seed": 0}

    return planted


for _rule, _cite in (("plurality", "plurality"), ("borda", "Borda")):
    statement(
        f"gibbard_satterthwaite_{_rule}",
        text=(
            f"With 3 or more candidates {_cite} (onto, non-dictatorial) is manipulable: some profile admits "
            "a voter whose misreport elects a candidate it strictly prefers."
        ),
        hypotheses=("at least 3 candidates", "the rule is onto and not dictatorial"),
        citation="Gibbard, Econometrica (1973); Satterthwaite, JET (1975)",
        generate=_gen_gs(_rule),
        holds_on=lambda inst: inst["candidates"] >= 3,
        planted=_two_candidates(_rule),
        how="Up to 300 random profiles searched exhaustively for a single-voter manipulation (verified).",
        instances=40,
    )(_gs_check)


# ------------------------------------------------------------------ learning
def _gen_hedge(rng: np.random.Generator) -> Instance:
    from sedtheory.families import make_game

    n = int(rng.integers(2, 7))
    graph = str(rng.choice(["ring", "star", "complete"]))
    rates = tuple(np.sort(rng.uniform(0, 1, 3)).tolist())
    return {
        "game": make_game(n, graph, "uniform", seed=int(rng.integers(1000)), rates=rates),
        "rounds": int(rng.integers(200, 800)),
        "seed": int(rng.integers(1 << 30)),
        "learner": "hedge",
    }


@statement(
    "no_regret_reaches_cce",
    text=(
        "If every agent plays a no-regret algorithm (Hedge on a grid of G actions), the empirical "
        "distribution of play after T rounds is an eps-coarse correlated equilibrium over the grid with "
        "eps = max_i regret_i / T <= R_i sqrt(ln G / (2T)) (plus the sampling deviation), and over the "
        "continuous action space up to the grid's discretisation error."
    ),
    hypotheses=("every agent runs Hedge with rate sqrt(8 ln G / T) / R_i",),
    citation="Hart and Mas-Colell, Econometrica (2000); Cesa-Bianchi and Lugosi (2006), Thm 2.2",
    generate=_gen_hedge,
    holds_on=lambda inst: inst["learner"] == "hedge",
    planted=lambda: {"game": apple_picking((0.1, 0.3, 0.6)), "rounds": 20000, "seed": 0, "learner": "zeros"},
    how=(
        "Exact CCE gap of the play (continuous deviations, one best reply to the mean intercept) against "
        "discretisation error + the regret bound + an Azuma term (delta = 1e-6)."
    ),
    instances=30,
)
def _no_regret(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.learning import StageModel, cce_gaps, learn

    game, rounds = inst["game"], inst["rounds"]
    model = StageModel(game)
    if inst["learner"] == "hedge":
        res = learn(game, "hedge", rounds, seed=inst["seed"])
        played, rng_range, grid = res.history.actions, res.details["range"], res.details["grid"]
    else:  # a learner without the no-regret property: everybody plays 0
        from sedtheory.learning.agents import make_learner

        details = make_learner("hedge", game, rounds, np.random.default_rng(0)).details()
        played, rng_range, grid = np.zeros((rounds, game.n)), details["range"], details["grid"]
    gaps = cce_gaps(model, played)
    alpha_bar = model.intercepts(played).mean(axis=0)
    on_grid = model.own(np.broadcast_to(grid[:, None], (grid.size, game.n)), alpha_bar).max(axis=0)
    disc = model.own(model.best_replies(alpha_bar), alpha_bar) - on_grid
    bound = rng_range * (
        math.sqrt(math.log(grid.size) / (2 * rounds)) + math.sqrt(2 * math.log(game.n / 1e-6) / rounds)
    )
    bad = gaps > disc + bound + 1e-9
    return [
        {"agent": int(i), "cce_gap": float(gaps[i]), "bound": float(disc[i] + bound[i])}
        for i in np.flatnonzero(bad)
    ]


def _gen_bound(rng: np.random.Generator) -> Instance:
    inst = _gen_game(rng, "global")
    inst["p"] = float(rng.choice([-math.inf, -1.0, 0.0, 1.0]))
    inst["rates"] = rng.uniform(0, 1, (40, inst["game"].tax.n_brackets))
    return inst


def _lf_optimal(inst: Instance) -> list[dict[str, Any]]:
    """False variant: laissez-faire is the best tax policy."""
    from sedtheory.principal import policy_equilibria

    game, p = inst["game"], inst["p"]
    batch = policy_equilibria(game, np.vstack([np.zeros(game.tax.n_brackets), inst["rates"]]))
    w = batch.welfare(p)
    return (
        [] if w[0] >= w[1:].max() - 1e-12 else [{"laissez_faire": float(w[0]), "better": float(w[1:].max())}]
    )


@statement(
    "first_best_bounds_every_policy",
    text=(
        "For p <= 1 the first best (the planner choosing actions and tax-feasible transfers) bounds "
        "the welfare M_p of the equilibrium of every bracket tax with rates in [0, 1]."
    ),
    hypotheses=("global commons", "p <= 1", "utilities positive where p <= 0"),
    citation="DESIGN.md section 6 (the first best is a relaxation of the second best)",
    generate=_gen_bound,
    holds_on=lambda inst: inst["p"] <= 1 and inst["game"].uses_global_formulas,
    planted=lambda: {"game": apple_picking(), "p": 1.0, "rates": np.array([[0.85, 0.7, 0.3]])},
    planted_check=_lf_optimal,
    how="40 random rate vectors solved at once (certified equilibria) against the first-best upper bound.",
    instances=60,
)
def _first_best_bound(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.principal import first_best, policy_equilibria

    game, p = inst["game"], inst["p"]
    batch = policy_equilibria(game, inst["rates"])
    w = batch.welfare(p)
    if not np.any(np.isfinite(w)):
        return []
    fb = first_best(game, p, transfers="tax-feasible")
    top = float(np.nanmax(np.where(np.isfinite(w), w, -np.inf)))
    return (
        []
        if top <= fb.upper_bound * (1 + 1e-7) + 1e-9
        else [{"policy_welfare": top, "first_best": fb.upper_bound}]
    )


# ------------------------------------------------------------------ findings about this model
def _star_bimodal() -> CommonsGame:
    from sedtheory.families import make_game

    return make_game(12, "star", "bimodal", seed=0)


def _gen_small_scenario(rng: np.random.Generator) -> Instance:
    from sedtheory.families import make_game

    n = int(rng.integers(3, 6))
    graph = str(rng.choice(["ring", "complete", "star"]))
    return {"game": make_game(n, graph, "uniform", seed=int(rng.integers(1000)))}


@statement(
    "preferences_over_p_single_peaked",
    text=(
        "Conjecture: every agent's sincere preference over p in {-inf, 0, 1} (its utility at the "
        "principal's optimum for each p) is single-peaked along the p axis."
    ),
    hypotheses=("global commons", "utilities positive (all p-means defined)"),
    citation="question from SED (Zhang et al., ICML 2024): is voting over p a single-peaked domain?",
    generate=_gen_small_scenario,
    holds_on=lambda inst: True,
    planted=lambda: {"game": apple_picking()},
    how="preferences_over_p on small random games; counterexamples name the agents and their rankings.",
    kind="conjecture",
    instances=6,
)
def _sp_over_p(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.voting import preferences_over_p

    prefs = preferences_over_p(inst["game"], (-math.inf, 0.0, 1.0), starts=2)
    return [
        {"agent": i, "ranking": prefs.rankings[i], "utilities": prefs.utilities[i].tolist()}
        for i in prefs.violators
    ]


@statement(
    "learning_reaches_the_designed_equilibrium",
    text=(
        "Conjecture: under the principal's optimal rates for p, gradient play from zero actions "
        "converges to the equilibrium the principal's design assumes."
    ),
    hypotheses=("global commons",),
    citation="question from SED: do learning agents realise the designed outcome?",
    generate=_gen_small_scenario,
    holds_on=lambda inst: True,
    planted=lambda: {"game": _star_bimodal(), "p": -math.inf},
    how="compare(game, p, 'gradient', 2000 rounds): distance to the design's equilibrium <= 1e-3 a_max.",
    kind="conjecture",
    instances=6,
)
def _learning_designed(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.learning import compare

    p = inst.get("p", 0.0)
    c = compare(inst["game"], p, "gradient", rounds=2000, seed=0)
    if c.distance <= 1e-3 * inst["game"].max_harvest:
        return []
    return [
        {"p": p, "distance": c.distance, "learned_nash_gap": c.nash_gap, "welfare_ratio": c.ratio_second_best}
    ]
