"""Statements on findings about this model (conjectures)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sedtheory.games import CommonsGame
from sedtheory.scenarios import apple_picking
from sedtheory.theory.registry import Instance, statement

__all__: list[str] = []


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
