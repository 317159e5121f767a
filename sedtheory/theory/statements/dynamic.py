"""Statements on the dynamic commons (DESIGN.md section 9): the dynamic tragedy of the commons."""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.equilibrium import solve_equilibrium
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.theory.registry import Instance, statement

__all__: list[str] = []

#: Stocks closer than this (relative to the capacity) count as equal: the grid's interpolation
#: error on the path is of this order at the grids used here.
_STOCK_TOL = 2e-3


def _selfish_game(n: int, theta: float, stock: float, horizon: int, discount: float) -> DynamicCommonsGame:
    return DynamicCommonsGame(
        Society([1.0] * n, theta),
        PiecewiseLinearTax([0.0], [0.0]),
        horizon=horizon,
        discount=discount,
        initial_stock=stock,
        grid=41,
        max_harvest=40.0,
    )


def _gen_tragedy(rng: np.random.Generator) -> Instance:
    return {
        "n": int(rng.integers(1, 4)),
        "theta": float(rng.uniform(5.0, 25.0)),
        "stock": float(rng.uniform(30.0, 100.0)),
        "horizon": int(rng.integers(2, 4)),
        "discount": float(rng.uniform(0.8, 1.0)),
    }


def _mpe_stocks(inst: Instance, n: int) -> np.ndarray:
    game = _selfish_game(n, inst["theta"], inst["stock"], inst["horizon"], inst["discount"])
    return game.path(solve_equilibrium(game, raise_on_failure=False).actions).stocks


def _tragedy(inst: Instance, sign: float = 1.0) -> list[dict[str, Any]]:
    few, many = _mpe_stocks(inst, inst["n"]), _mpe_stocks(inst, inst["n"] + 1)
    excess = sign * (many - few)  # the claim: with one more agent the stock is never higher
    bad = np.nonzero(excess > _STOCK_TOL * 100.0)[0]
    return [{"step": int(t), "stock_n": float(few[t]), "stock_n_plus_1": float(many[t])} for t in bad]


@statement(
    "dynamic_tragedy_more_agents_deplete_faster",
    text=(
        "With selfish agents (sigma = 1, W = I) of equal productivity, no tax and logistic "
        "regrowth, the Markov perfect equilibrium stock path with n + 1 agents lies nowhere above "
        "the path with n agents (to the grid's interpolation error, 0.2% of K)."
    ),
    hypotheses=("selfish agents", "equal productivities", "zero tax", "logistic regrowth", "finite horizon"),
    citation="D. Levhari, L. J. Mirman, The great fish war, Bell J. Econ. 11 (1980): more players, "
    "faster depletion",
    generate=_gen_tragedy,
    holds_on=lambda inst: True,
    planted=lambda: {"n": 1, "theta": 20.0, "stock": 60.0, "horizon": 3, "discount": 0.95},
    planted_check=lambda inst: _tragedy(inst, sign=-1.0),
    how="Both MPE paths on a 41-point grid from the same S_0; the planted check is the false "
    "converse (more agents never deplete faster).",
    instances=4,
)
def _more_agents(inst: Instance) -> list[dict[str, Any]]:
    return _tragedy(inst)


def _gen_planner(rng: np.random.Generator) -> Instance:
    return {**_gen_tragedy(rng), "n": int(rng.integers(2, 4))}


def _stock_paths(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    from sedtheory.principal.dynamic_plan import dynamic_first_best

    game = _selfish_game(inst["n"], inst["theta"], inst["stock"], inst["horizon"], inst["discount"])
    mpe = game.path(solve_equilibrium(game, raise_on_failure=False).actions).stocks
    return dynamic_first_best(game, 1.0).stocks, mpe


def _planner_keeps(inst: Instance, sign: float = 1.0) -> list[dict[str, Any]]:
    planner, mpe = _stock_paths(inst)
    bad = np.nonzero(sign * (mpe - planner) > _STOCK_TOL * 100.0)[0]
    return [{"step": int(t), "planner_stock": float(planner[t]), "mpe_stock": float(mpe[t])} for t in bad]


@statement(
    "dynamic_first_best_keeps_at_least_the_mpe_stock",
    text=(
        "For p = 1, the planner's first best (tax-feasible transfers) never has a lower stock than "
        "the laissez-faire Markov perfect equilibrium, at any step and so not at the end."
    ),
    hypotheses=("selfish agents", "zero tax in the MPE", "logistic regrowth", "p = 1"),
    citation="the dynamic tragedy of the commons (SED seed: agents eat the orchard)",
    generate=_gen_planner,
    holds_on=lambda inst: True,
    planted=lambda: {"n": 3, "theta": 12.0, "stock": 80.0, "horizon": 3, "discount": 0.95},
    planted_check=lambda inst: _planner_keeps(inst, sign=-1.0),
    how="The relaxed convex planner program replayed in the true dynamics vs the MPE path on a "
    "41-point grid; the planted check is the false converse (the MPE keeps at least the planner's "
    "stock).",
    instances=4,
)
def _planner(inst: Instance) -> list[dict[str, Any]]:
    return _planner_keeps(inst)
