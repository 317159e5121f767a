"""Shared strategies and an independent reference implementation of the model."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory import families

# Property tests check laws, not speed (performance lives in benchmarks/): no per-example
# deadline, which flakes on a loaded 2-core machine.
settings.register_profile("sedtheory", deadline=None)
settings.load_profile("sedtheory")

GRAPH_FAMILIES = ("complete", "ring", "star", "erdos-renyi", "directed", "path", "empty")


def make_graph(family: str, n: int, seed: int) -> nx.Graph | None:
    """The test families, built by the package's one graph factory (sedtheory.families)."""
    if family == "directed":
        return families.make_graph("erdos_renyi", n, seed=seed, edge_probability=0.4, directed=True)[0]
    options = {"edge_probability": 0.4} if family == "erdos-renyi" else {}
    return families.make_graph(family, n, seed=seed, **options)[0]


def random_game(
    rng: np.random.Generator,
    commons: str = "global",
    family: str | None = None,
    n: int | None = None,
    progressive: bool | None = None,
    finite_theta: bool = True,
) -> sed.CommonsGame:
    n = int(rng.integers(2, 9)) if n is None else n
    family = GRAPH_FAMILIES[int(rng.integers(len(GRAPH_FAMILIES)))] if family is None else family
    sigma = rng.uniform(0, 1, n)
    sigma[rng.uniform(size=n) < 0.15] = 0.0
    sigma[rng.uniform(size=n) < 0.15] = 1.0
    theta = rng.uniform(5, 50, n)
    if not finite_theta:
        theta[:] = np.inf
    weighting = "sum" if rng.uniform() < 0.5 else "mean"
    soc = sed.Society(
        sigma, theta, graph=make_graph(family, n, int(rng.integers(1 << 30))), neighbor_weighting=weighting
    )
    b = int(rng.integers(1, 5))
    thresholds = np.concatenate([[0.0], np.sort(rng.uniform(1, 30, b - 1))])
    if np.any(np.diff(thresholds) <= 0):
        thresholds = np.arange(b) * 7.0
    rates = rng.uniform(0, 1, b)
    if progressive is None:
        progressive = bool(rng.uniform() < 0.5)
    if progressive:
        rates = np.sort(rates)
    return sed.CommonsGame(
        soc,
        sed.PiecewiseLinearTax(thresholds, rates),
        damage=float(rng.uniform(0.0, 0.2)),
        endowment=10.0,
        max_harvest=float(rng.choice([30.0, 60.0])),
        commons=commons,
    )


def reference_payoffs(game: sed.CommonsGame, a: np.ndarray) -> np.ndarray:
    """DESIGN.md section 3 written out with loops over agents (independent of the package)."""
    n = game.n
    soc = game.society
    tau = list(game.tax.thresholds) + [np.inf]
    phi = game.tax.rates

    def tax(y: float) -> float:
        return sum(phi[b] * min(max(y - tau[b], 0.0), tau[b + 1] - tau[b]) for b in range(len(phi)))

    revenue = sum(tax(y) for y in a)
    graph = soc.graph if soc.graph is not None else nx.complete_graph(n)
    und = graph.to_undirected() if graph.is_directed() else graph
    out = np.zeros(n)
    for j in range(n):
        if game.commons == "global" or soc.graph is None:
            dmg = game.damage * sum(a) ** 2 / (2 * n)
        else:
            closed = [j, *und.neighbors(j)]
            dmg = game.damage * sum(a[k] for k in closed) ** 2 / (2 * len(closed))
        cost = 0.0 if np.isinf(soc.productivity[j]) else a[j] ** 2 / (2 * soc.productivity[j])
        out[j] = game.endowment + a[j] - tax(a[j]) + revenue / n - cost - dmg
    return out


def reference_utilities(game: sed.CommonsGame, a: np.ndarray) -> np.ndarray:
    n = game.n
    soc = game.society
    r = reference_payoffs(game, a)
    graph = soc.graph if soc.graph is not None else nx.complete_graph(n)
    out = np.zeros(n)
    for i in range(n):
        nbrs = list(graph.successors(i)) if graph.is_directed() else list(graph.neighbors(i))
        nu = 1.0 if soc.neighbor_weighting == "sum" else (1.0 / len(nbrs) if nbrs else 0.0)
        sig = soc.selfishness[i]
        out[i] = sig * r[i] + (1 - sig) * nu * sum(r[j] for j in nbrs)
    return out


seeds = st.integers(min_value=0, max_value=2**32 - 1)
