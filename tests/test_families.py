"""Graph families and selfishness profiles."""

from __future__ import annotations

import numpy as np
import pytest

from sedtheory.errors import InvalidParameterError
from sedtheory.families import GRAPH_FAMILIES, SELFISHNESS_PROFILES, make_game, make_graph, make_society


@pytest.mark.parametrize("family", sorted(GRAPH_FAMILIES))
def test_every_family(family: str) -> None:
    for n in (2, 7, 40):
        g, comm = make_graph(family, n, seed=3)
        assert comm.shape == (n,) and set(np.unique(comm)) <= {0, 1}
        if g is None:
            assert family == "complete"
        else:
            assert g.number_of_nodes() == n and not g.is_directed()
            assert all(u != v for u, v in g.edges)
        a, _ = make_graph(family, n, seed=3)
        b, _ = make_graph(family, n, seed=3)
        assert (a is None and b is None) or sorted(a.edges) == sorted(b.edges)  # reproducible


def test_mean_degrees() -> None:
    for family in ("erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"):
        g, comm = make_graph(family, 400, degree=6, seed=1)
        mean_degree = 2 * g.number_of_edges() / 400
        assert 4.5 < mean_degree < 7.5, (family, mean_degree)
    g, comm = make_graph("sbm", 400, degree=6, seed=1)
    inside = sum(comm[u] == comm[v] for u, v in g.edges) / g.number_of_edges()
    assert inside > 0.8


@pytest.mark.parametrize("profile", sorted(SELFISHNESS_PROFILES))
def test_every_profile(profile: str) -> None:
    soc = make_society(200, "sbm", profile, seed=2)
    s = soc.selfishness
    assert np.all((s >= 0) & (s <= 1))
    if profile == "bimodal":
        assert np.mean((s < 0.3) | (s > 0.7)) > 0.95
    if profile == "assortative":
        _, comm = make_graph("sbm", 200, seed=2)
        assert s[comm == 1].mean() - s[comm == 0].mean() > 0.5


def test_make_game_and_bad_input() -> None:
    game = make_game(7, "ring", np.linspace(0, 1, 7), rates=(0.1, 0.3, 0.6))
    assert game.damage == pytest.approx(0.02) and game.max_harvest == 40.0
    with pytest.raises(InvalidParameterError, match="graph"):
        make_graph("hypercube", 5)
    with pytest.raises(InvalidParameterError, match="n"):
        make_graph("ring", 0)
    with pytest.raises(InvalidParameterError, match="n"):
        make_graph("sbm", 1)
    assert make_graph("er", 5, edge_probability=1.0)[0].number_of_edges() == 10  # alias and option
    with pytest.raises(InvalidParameterError, match="selfishness"):
        make_society(5, "ring", "altruistic")
    with pytest.raises(InvalidParameterError, match="degree"):
        make_graph("ring", 5, degree=0)
