"""Shared pieces of the statements: the p grid, a relative comparison, random societies and games."""

from __future__ import annotations

import math

import numpy as np

from sedtheory.families import make_graph
from sedtheory.games import CommonsGame
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.theory.registry import Instance

__all__ = ["P_GRID", "close", "gen_game", "random_society", "random_tax"]


P_GRID = (-math.inf, -50.0, -5.0, -2.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 2.0, 5.0, 50.0, math.inf)


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    """``|a - b| <= tol * max(1, |a|, |b|)``."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def random_society(rng: np.random.Generator, n: int, graph: str | None = None) -> Society:
    sigma = rng.uniform(0, 1, n)
    sigma[rng.random(n) < 0.1] = 0.0
    theta = rng.uniform(5.0, 50.0, n)
    family = graph or str(rng.choice(["complete", "ring", "star", "er"]))
    if family == "er":  # draw the seed only for random graphs, as the generators always did
        g, _ = make_graph("er", n, seed=int(rng.integers(1 << 30)), edge_probability=0.5)
    else:
        g, _ = make_graph(family, n)
    weighting = "sum" if rng.random() < 0.5 else "mean"
    return Society(sigma, theta, graph=g, neighbor_weighting=weighting)  # type: ignore[arg-type]


def random_tax(rng: np.random.Generator, progressive: bool | None = None) -> PiecewiseLinearTax:
    b = int(rng.integers(1, 4))
    thresholds = np.concatenate([[0.0], np.sort(rng.uniform(2.0, 30.0, b - 1))])
    if np.any(np.diff(thresholds) <= 1e-6):
        thresholds = np.arange(b) * 8.0
    rates = rng.uniform(0, 1, b)
    if progressive or (progressive is None and rng.random() < 0.5):
        rates = np.sort(rates)
    return PiecewiseLinearTax(thresholds, rates)


def gen_game(rng: np.random.Generator, commons: str | None = None) -> Instance:
    n = int(rng.integers(2, 8))
    soc = random_society(rng, n)
    c = commons or ("global" if rng.random() < 0.6 else "local")
    game = CommonsGame(soc, random_tax(rng), float(rng.uniform(0.001, 0.15)), 50.0, 60.0, c)  # type: ignore[arg-type]
    return {
        "game": game,
        "actions": rng.uniform(0, 60.0, n),
        "agent": int(rng.integers(n)),
        "x": float(rng.uniform(0, 60)),
    }
