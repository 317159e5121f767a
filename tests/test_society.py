import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from sedtheory import Society
from sedtheory.errors import GraphError, InvalidParameterError, ShapeError

from .conftest import GRAPH_FAMILIES, make_graph, seeds


def dense_weights(sigma, graph, weighting):
    n = len(sigma)
    g = graph if graph is not None else nx.complete_graph(n)
    w = np.zeros((n, n))
    for i in range(n):
        nbrs = list(g.successors(i)) if g.is_directed() else list(g.neighbors(i))
        nu = 1.0 if weighting == "sum" else (1.0 / len(nbrs) if nbrs else 0.0)
        w[i, i] = sigma[i]
        for j in nbrs:
            w[i, j] = (1 - sigma[i]) * nu
    return w


@settings(max_examples=60)
@given(seeds)
def test_weights_match_design(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    family = GRAPH_FAMILIES[int(rng.integers(len(GRAPH_FAMILIES)))]
    graph = make_graph(family, n, seed) if n > 1 else None
    weighting = "sum" if rng.uniform() < 0.5 else "mean"
    sigma = rng.uniform(0, 1, n)
    soc = Society(sigma, 2.0, graph=graph, neighbor_weighting=weighting)
    expected = dense_weights(sigma, graph, weighting)
    assert sps.issparse(soc.weights)
    np.testing.assert_allclose(soc.weights.toarray(), expected, atol=1e-15)
    np.testing.assert_allclose(soc.weight_sums, expected.sum(axis=1), atol=1e-12)
    r = rng.normal(size=n)
    np.testing.assert_allclose(soc.apply_weights(r), expected @ r, atol=1e-12)
    batch = rng.normal(size=(3, n))
    np.testing.assert_allclose(soc.apply_weights(batch), batch @ expected.T, atol=1e-12)


def test_seed_formula_and_isolated_agent():
    soc = Society([0.25, 1.0, 0.5], 1.0, graph=_with_isolated())
    assert soc.weight_sums.tolist() == [0.25 + 0.75, 1.0, 0.5]
    mean = Society([0.25, 1.0, 0.5], 1.0, graph=_with_isolated(), neighbor_weighting="mean")
    assert mean.weights.toarray()[2].tolist() == [0.0, 0.0, 0.5]


def _with_isolated():
    g = nx.empty_graph(3)
    g.add_edge(0, 1)
    return g


def test_complete_graph_is_implicit_at_scale():
    soc = Society(np.full(200_000, 0.5), 1.0)
    assert soc.is_complete and soc.weight_sums[0] == pytest.approx(0.5 + 0.5 * 199_999)
    v = np.ones(200_000)
    assert soc.apply_weights(v)[0] == pytest.approx(soc.weight_sums[0])
    with pytest.raises(InvalidParameterError, match="apply_weights"):
        _ = soc.weights


@pytest.mark.parametrize("bad", [[-0.1, 0.5], [0.5, 1.2], [np.nan, 0.5]])
def test_bad_selfishness(bad):
    with pytest.raises(InvalidParameterError, match="selfishness"):
        Society(bad, 1.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, [1.0, 0.0]])
def test_bad_productivity(bad):
    with pytest.raises(InvalidParameterError, match="productivity"):
        Society([0.5, 0.5], bad)


def test_bad_shapes_and_graphs():
    with pytest.raises(ShapeError, match="selfishness"):
        Society([[0.5]], 1.0)
    with pytest.raises(ShapeError, match="productivity"):
        Society([0.5, 0.5], [1.0, 2.0, 3.0])
    with pytest.raises(GraphError, match="nodes"):
        Society([0.5, 0.5], 1.0, graph=nx.path_graph([1, 2]))
    with pytest.raises(GraphError, match="nodes"):
        Society([0.5, 0.5, 0.5], 1.0, graph=nx.path_graph(2))
    loop = nx.path_graph(2)
    loop.add_edge(1, 1)
    with pytest.raises(GraphError, match="self-loop"):
        Society([0.5, 0.5], 1.0, graph=loop)
    with pytest.raises(GraphError, match="graph"):
        Society([0.5, 0.5], 1.0, graph=[(0.5, 1)])
    assert Society([0.5, 0.5], 1.0, graph=[(0, 1)]).degrees.tolist() == [1.0, 1.0]  # an edge list
    with pytest.raises(InvalidParameterError, match="neighbor_weighting"):
        Society([0.5, 0.5], 1.0, neighbor_weighting="max")


def test_closed_neighborhoods_undirected_view():
    g = nx.DiGraph([(0, 1), (1, 2)])
    q = Society([0.5] * 3, 1.0, graph=g).closed_neighborhoods().toarray()
    assert q.tolist() == [[1, 1, 0], [1, 1, 1], [0, 1, 1]]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.floats(0.05, 0.9), st.integers(0, 10_000), st.booleans())
def test_sparse_and_edge_array_graphs_equal_networkx(n, density, seed, directed):
    """Issue 16: large graphs skip networkx; every representation gives the same society."""
    import networkx as nx
    import scipy.sparse as sps

    graph = nx.gnp_random_graph(n, density, seed=seed, directed=directed)
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0, 1, n)
    reference = Society(sigma, 10.0, graph=graph, neighbor_weighting="mean")
    sparse = Society(
        sigma, 10.0, graph=sps.csr_matrix(nx.to_scipy_sparse_array(graph)), neighbor_weighting="mean"
    )
    np.testing.assert_allclose(sparse.weights.toarray(), reference.weights.toarray())
    np.testing.assert_allclose(
        sparse.closed_neighborhoods().toarray(), reference.closed_neighborhoods().toarray()
    )
    adjacency = nx.to_scipy_sparse_array(graph)
    assert sparse.directed == bool((adjacency != adjacency.T).nnz)  # directed unless symmetric
    expected = graph if sparse.directed else graph.to_undirected()
    assert sparse.graph.number_of_edges() == expected.number_of_edges()
    if not directed:
        edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
        doubled = np.concatenate([edges, edges[:, ::-1]])  # duplicates and both orientations collapse
        from_edges = Society(sigma, 10.0, graph=doubled, neighbor_weighting="mean")
        np.testing.assert_allclose(from_edges.weights.toarray(), reference.weights.toarray())
        assert from_edges.with_types(productivity=5.0).weights.nnz == reference.weights.nnz


def test_array_graphs_are_checked():
    import scipy.sparse as sps

    from sedtheory.errors import GraphError

    with pytest.raises(GraphError, match="self-loops"):
        Society([0.5, 0.5], 1.0, graph=np.array([[0, 0]]))
    with pytest.raises(GraphError, match="nodes 0..1"):
        Society([0.5, 0.5], 1.0, graph=np.array([[0, 2]]))
    with pytest.raises(GraphError, match="adjacency"):
        Society([0.5, 0.5], 1.0, graph=sps.csr_matrix((3, 3)))
    with pytest.raises(GraphError, match="edge array"):
        Society([0.5, 0.5], 1.0, graph=np.array([[0.0, 1.0]]))
    with pytest.raises(GraphError, match="edge array"):
        Society([0.5, 0.5], 1.0, graph="ring")
