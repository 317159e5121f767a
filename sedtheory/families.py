r"""Families of social graphs and selfishness profiles, and games built from them.

Graph families (:data:`GRAPH_FAMILIES`; each returns a graph and a two-community split used
by the assortative selfishness profile):

* ``complete`` (the implicit complete graph), ``ring`` (cycle), ``star``, ``path``, ``empty``;
* ``erdos_renyi``: :math:`G(n, p)` with mean degree ``degree`` (default 4), or edge probability
  ``edge_probability``; ``directed=True`` draws a directed :math:`G(n, p)`;
* ``watts_strogatz``: ring lattice of ``degree`` neighbours, rewiring probability 0.1;
* ``barabasi_albert``: preferential attachment, ``degree // 2`` edges per new node;
* ``sbm``: two-community stochastic block model, mean degree ``degree``, 90 % of each
  node's expected edges inside its community.

This is the package's one graph factory: scenario files, the theory registry's generators and
the tests build named graphs here. Families take ``n >= 1`` agents (the lattice, preferential
attachment and block model need ``n >= 2``).

For families without planted communities the split is the first half of the nodes versus the
rest (for the ring and the lattice: two arcs), or the Kernighan-Lin bisection of the graph for
random graphs.

Selfishness profiles (:data:`SELFISHNESS_PROFILES`, values in [0, 1]):

* ``uniform``: :math:`\sigma_i \sim U[0, 1]`;
* ``bimodal``: half the agents near 0.1, half near 0.9 (normal, sd 0.05, clipped);
* ``assortative``: community 0 near 0.2 and community 1 near 0.8 (normal, sd 0.1, clipped),
  so that similar agents are neighbours.

Examples
--------
>>> from sedtheory.families import make_game
>>> game = make_game(20, "sbm", "assortative", seed=1)
>>> game.n, bool(game.society.selfishness.min() >= 0)
(20, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame
from sedtheory.registry import Registry
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.validate import count

__all__ = ["GRAPH_FAMILIES", "SELFISHNESS_PROFILES", "GraphFamily", "make_graph", "make_society", "make_game"]


@dataclass(frozen=True)
class GraphFamily:
    """A graph family: ``build(n, degree, seed, **options) -> (graph or None, community of each node)``.

    ``min_n`` is the smallest number of nodes it is defined for; ``options`` the keyword
    options ``build`` accepts beyond ``(n, degree, seed)``.
    """

    name: str
    build: Callable[..., tuple[nx.Graph | None, np.ndarray]]
    description: str
    min_n: int = 1
    options: tuple[str, ...] = ()


def _halves(n: int) -> np.ndarray:
    return (np.arange(n) >= n // 2).astype(np.int64)


def _bisect(g: nx.Graph, seed: int) -> np.ndarray:
    if g.number_of_edges() == 0:
        return _halves(g.number_of_nodes())
    a, _ = nx.algorithms.community.kernighan_lin_bisection(g, seed=seed)
    out = np.ones(g.number_of_nodes(), dtype=np.int64)
    out[list(a)] = 0
    return out


def _complete(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    return None, _halves(n)


def _ring(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    return (nx.cycle_graph(n) if n > 2 else nx.path_graph(n)), _halves(n)


def _star(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    return nx.star_graph(n - 1), _halves(n)


def _path(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    return nx.path_graph(n), _halves(n)


def _empty(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    return nx.empty_graph(n), _halves(n)


def _erdos_renyi(
    n: int, degree: int, seed: int, edge_probability: float | None = None, directed: bool = False
) -> tuple[nx.Graph | None, np.ndarray]:
    prob = min(1.0, degree / max(n - 1, 1)) if edge_probability is None else float(edge_probability)
    if not 0.0 <= prob <= 1.0:
        raise InvalidParameterError("edge_probability", edge_probability, "use a probability in [0, 1]")
    g = nx.gnp_random_graph(n, prob, seed=seed, directed=bool(directed))
    return g, (_halves(n) if directed else _bisect(g, seed))


def _watts_strogatz(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    k = max(2, min(degree, n - 1))
    return nx.watts_strogatz_graph(n, k, 0.1, seed=seed), _halves(n)


def _barabasi_albert(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    m = max(1, min(degree // 2, n - 1))
    g = nx.barabasi_albert_graph(n, m, seed=seed)
    return g, _bisect(g, seed)


def _sbm(n: int, degree: int, seed: int) -> tuple[nx.Graph | None, np.ndarray]:
    sizes = [n // 2, n - n // 2]
    inside = min(1.0, 0.9 * degree / max(sizes[0] - 1, 1))
    across = min(1.0, 0.1 * degree / max(sizes[1], 1))
    g = nx.stochastic_block_model(sizes, [[inside, across], [across, inside]], seed=seed)
    g = nx.convert_node_labels_to_integers(g)
    return nx.Graph(g), _halves(n)


#: The graph families by name (a :class:`~sedtheory.registry.Registry`; ``"er"``,
#: ``"erdos-renyi"`` and the hyphenated names are aliases).
GRAPH_FAMILIES: Registry[GraphFamily] = Registry(
    "graph", build=lambda name, build, **meta: GraphFamily(name, build, **meta), kind="graph families"
)
GRAPH_FAMILIES.add("complete", _complete, description="every pair connected (implicit)")
GRAPH_FAMILIES.add("ring", _ring, aliases=("cycle",), description="cycle")
GRAPH_FAMILIES.add("star", _star, description="one hub")
GRAPH_FAMILIES.add("path", _path, description="a line of agents")
GRAPH_FAMILIES.add("empty", _empty, aliases=("none",), description="no edges (everyone alone)")
GRAPH_FAMILIES.add(
    "erdos_renyi",
    _erdos_renyi,
    aliases=("erdos-renyi", "er", "gnp"),
    description="G(n, p), mean degree `degree` or `edge_probability`",
    options=("edge_probability", "directed"),
)
GRAPH_FAMILIES.add(
    "watts_strogatz",
    _watts_strogatz,
    aliases=("watts-strogatz",),
    min_n=2,
    description="small world, `degree` neighbours, rewiring 0.1",
)
GRAPH_FAMILIES.add(
    "barabasi_albert",
    _barabasi_albert,
    aliases=("barabasi-albert",),
    min_n=2,
    description="preferential attachment, degree/2 edges per node",
)
GRAPH_FAMILIES.add("sbm", _sbm, min_n=2, description="two communities, 90 % of edges inside")


def _uniform(n: int, communities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.0, 1.0, n)


def _bimodal(n: int, communities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    high = rng.permutation(n) < n // 2
    return np.clip(np.where(high, 0.9, 0.1) + 0.05 * rng.standard_normal(n), 0.0, 1.0)


def _assortative(n: int, communities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.where(communities == 1, 0.8, 0.2) + 0.1 * rng.standard_normal(n), 0.0, 1.0)


#: Selfishness profiles by name: ``profile(n, communities, rng) -> sigma``.
SELFISHNESS_PROFILES: dict[str, Callable[[int, np.ndarray, np.random.Generator], np.ndarray]] = {
    "uniform": _uniform,
    "bimodal": _bimodal,
    "assortative": _assortative,
}


def _check_n(n: Any) -> int:
    return count("n", n, 2, "use an integer number of agents >= 2")


def make_graph(
    family: str, n: int, degree: int = 4, seed: int = 0, **options: Any
) -> tuple[nx.Graph | None, np.ndarray]:
    """A graph of ``family`` on ``n`` nodes and its two-community split.

    ``options`` are the family's own (``edge_probability``, ``directed`` for ``erdos_renyi``).

    >>> g, split = make_graph("ring", 4)
    >>> sorted(g.edges()), split.tolist()
    ([(0, 1), (0, 3), (1, 2), (2, 3)], [0, 0, 1, 1])
    """
    spec = GRAPH_FAMILIES.get(family)
    degree = count("degree", degree, 1, "use a positive integer mean degree")
    size = count(
        "n", n, spec.min_n, f"the {spec.name} family needs an integer number of agents >= {spec.min_n}"
    )
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise InvalidParameterError(
            unknown[0], options[unknown[0]], f"{spec.name!r} accepts {list(spec.options)}"
        )
    return spec.build(size, degree, int(seed), **options)


def make_society(
    n: int,
    graph: str = "ring",
    selfishness: str | npt.ArrayLike = "uniform",
    seed: int = 0,
    productivity: float | npt.ArrayLike = 40.0,
    degree: int = 4,
    neighbor_weighting: Literal["sum", "mean"] = "sum",
) -> Society:
    """A society of ``n`` agents on a ``graph`` family with a ``selfishness`` profile (or values)."""
    _check_n(n)
    g, communities = make_graph(graph, n, degree, seed)
    if isinstance(selfishness, str):
        if selfishness not in SELFISHNESS_PROFILES:
            raise InvalidParameterError(
                "selfishness", selfishness, f"use one of {sorted(SELFISHNESS_PROFILES)} or an array"
            )
        sigma = SELFISHNESS_PROFILES[selfishness](int(n), communities, np.random.default_rng(seed))
    else:
        sigma = np.asarray(selfishness, dtype=float)
    return Society(sigma, productivity, graph=g, neighbor_weighting=neighbor_weighting)


def make_game(
    n: int,
    graph: str = "ring",
    selfishness: str | npt.ArrayLike = "uniform",
    seed: int = 0,
    rates: npt.ArrayLike = (0.0, 0.0, 0.0),
    thresholds: npt.ArrayLike = (0.0, 10.0, 20.0),
    commons: Literal["global", "local"] = "global",
    damage: float | None = None,
    degree: int = 4,
    **society_options: Any,
) -> CommonsGame:
    """A commons game with the seed scenario's parameters on a graph family.

    Productivity 40, endowment 50, harvest cap 40, brackets at 0 / 10 / 20 as in
    :func:`sedtheory.scenarios.apple_picking`; the damage defaults to ``0.14 / n`` (0.02 at
    n = 7), which keeps the laissez-faire tragedy of the seed scenario at every size.
    """
    soc = make_society(n, graph, selfishness, seed, degree=degree, **society_options)
    kappa = 0.14 / soc.n if damage is None else damage
    tax = PiecewiseLinearTax(np.asarray(thresholds, dtype=float), np.asarray(rates, dtype=float))
    return CommonsGame(soc, tax, damage=kappa, endowment=50.0, max_harvest=40.0, commons=commons)
