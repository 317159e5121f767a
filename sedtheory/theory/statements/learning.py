"""Statements on learning: no regret reaches a CCE; the first best bounds every policy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sedtheory.scenarios import apple_picking
from sedtheory.theory.registry import Instance, statement
from sedtheory.theory.statements.common import gen_game

__all__: list[str] = []


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
    inst = gen_game(rng, "global")
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
    citation="Mas-Colell, Whinston and Green, Microeconomic Theory (1995), ch. 22: a relaxation bounds",
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
