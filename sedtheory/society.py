r"""The society: selfishness, productivity and the social graph (docs: model.md, "Society").

Examples
--------
>>> import networkx as nx
>>> from sedtheory import Society
>>> soc = Society([1.0, 0.5, 0.0], 10.0, graph=nx.path_graph(3))
>>> soc.weights.toarray().tolist()
[[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.0, 1.0, 0.0]]
>>> soc.weight_sums.tolist()
[1.0, 1.5, 1.0]
"""

from __future__ import annotations

from typing import Any, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt
import scipy.sparse as sps

from sedtheory.errors import GraphError, InvalidParameterError, ShapeError
from sedtheory.validate import real_array

__all__ = ["Society"]

#: Largest n for which the weight matrix of a complete graph is materialised.
DENSE_COMPLETE_LIMIT = 4000


class Society:
    r"""Agents' types and the social graph that defines who cares about whom.

    Parameters
    ----------
    selfishness : array_like, shape (n,)
        :math:`\sigma_i \in [0, 1]`.
    productivity : float or array_like, shape (n,)
        :math:`\theta_i > 0`, the scale of the private effort cost
        :math:`a^2 / (2\theta_i)`; ``inf`` means no effort cost. A scalar is broadcast.
    graph : networkx.Graph or DiGraph, scipy.sparse matrix, integer array (m, 2), optional
        Nodes exactly ``0..n-1``, no self-loops. ``None`` (default) is the complete graph,
        kept implicit so that very large societies cost O(n). A ``DiGraph`` means
        "i cares about its successors". Large graphs may skip networkx: an ``(n, n)`` sparse
        adjacency (entry ``(i, j)`` non-zero iff j is a neighbour of i; directed unless
        symmetric) or an ``(m, 2)`` array of undirected edges, both read in vectorised time.
    neighbor_weighting : {"sum", "mean"}
        ``"sum"`` (the seed's formula): :math:`\nu_i = 1`; ``"mean"``:
        :math:`\nu_i = 1/|N(i)|`.
    masses : float or array_like, shape (n,), optional
        Population masses :math:`m_i > 0` (default 1): agent i stands for :math:`m_i`
        identical members who act alone, one of :math:`N = \sum_i m_i` individuals
        (weighted survey records enter this way). A scalar is broadcast.

    Notes
    -----
    The social weights are :math:`W_{ii} = \sigma_i`,
    :math:`W_{ij} = (1-\sigma_i)\nu_i` for :math:`j \in N(i)` and 0 otherwise, so that
    agent i's utility is :math:`u_i = \sum_j W_{ij} r_j`, the seed's
    :math:`r_i = \sigma_i r_{tax,i} + (1-\sigma_i)\sum_{i' \in N_G(i)} r_{tax,i'}`.
    The row sums are :math:`s_i = \sum_j W_{ij}`. An isolated agent has
    :math:`s_i = \sigma_i` under both weightings.

    With masses, aggregates, revenue and damage sum over members (:math:`A = \sum_i m_i a_i`,
    revenue :math:`R = \sum_i m_i T(a_i)` returned as :math:`R/N` per member), a member's own
    share of what it pays back is :math:`1/N`, and p-means weight agents by :math:`m_i/N`
    (DESIGN section 1). The weights :math:`W` stay over agents: agent i cares about one
    representative member of each neighbour, so an agent of mass 2 equals two agents of mass 1
    when neither the agent nor anyone caring about it has neighbours (for instance when every
    :math:`\sigma_i = 1`).

    Examples
    --------
    >>> Society([0.2, 0.8], [5.0, 10.0]).weight_sums.tolist()
    [1.0, 1.0]
    """

    def __init__(
        self,
        selfishness: npt.ArrayLike,
        productivity: npt.ArrayLike = 1.0,
        graph: nx.Graph | None = None,
        neighbor_weighting: Literal["sum", "mean"] = "sum",
        masses: npt.ArrayLike | None = None,
    ) -> None:
        sigma = real_array(
            "selfishness",
            [] if selfishness is None else selfishness,
            "give one selfishness in [0, 1] per agent",
        )
        if sigma.ndim != 1 or sigma.size == 0:
            raise ShapeError("selfishness", selfishness, "give a non-empty 1-D array, one value per agent")
        n = sigma.size
        bad = np.flatnonzero(~((sigma >= 0) & (sigma <= 1)))
        if bad.size:
            raise InvalidParameterError(
                "selfishness",
                sigma[bad][:5].tolist(),
                f"selfishness must lie in [0, 1] (agents {bad[:10].tolist()} do not)",
            )
        theta = real_array("productivity", productivity, "give a positive number or one per agent")
        if theta.ndim == 0:
            theta = np.full(n, float(theta))
        if theta.shape != (n,):
            raise ShapeError(
                "productivity", productivity, f"give a scalar or one value per agent, shape ({n},)"
            )
        bad = np.flatnonzero(~(theta > 0))
        if bad.size:
            raise InvalidParameterError(
                "productivity",
                theta[bad][:5].tolist(),
                f"productivity must be > 0 (inf = no effort cost); agents {bad[:10].tolist()} are not",
            )
        if neighbor_weighting not in ("sum", "mean"):
            raise InvalidParameterError("neighbor_weighting", neighbor_weighting, 'use "sum" or "mean"')
        self._sigma = sigma
        self._theta = theta
        self._mass = _masses(masses, n)
        self._weighting = neighbor_weighting
        self._graph = graph
        self._directed = isinstance(graph, nx.Graph) and graph.is_directed()
        if graph is None:
            self._adj: sps.csr_matrix | None = None
        elif isinstance(graph, nx.Graph):
            self._adj = _adjacency(graph, n)
        else:
            self._adj = _array_adjacency(graph, n)
            self._directed = bool((self._adj != self._adj.T).nnz)
            self._graph = None
        if self._adj is None:
            deg = np.full(n, n - 1, dtype=float)
        else:
            deg = np.asarray(self._adj.sum(axis=1), dtype=float).reshape(-1)
        self._degree = deg
        if neighbor_weighting == "sum":
            nu = np.ones(n)
        else:
            nu = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
        self._offdiag = (1.0 - sigma) * nu  # W_ij for j in N(i)
        self._s = sigma + self._offdiag * deg
        for arr in (self._sigma, self._theta, self._degree, self._offdiag, self._s, self._mass):
            arr.setflags(write=False)

    # ---------------------------------------------------------------- properties
    @property
    def n(self) -> int:
        """Number of agents."""
        return int(self._sigma.size)

    @property
    def selfishness(self) -> np.ndarray:
        r""":math:`\sigma` (read-only)."""
        return self._sigma

    @property
    def productivity(self) -> np.ndarray:
        r""":math:`\theta` (read-only)."""
        return self._theta

    @property
    def masses(self) -> np.ndarray:
        r"""Population masses :math:`m_i` (read-only; all 1 unless given)."""
        return self._mass

    @property
    def population(self) -> float:
        r""":math:`N = \sum_i m_i` (equals ``n`` without masses)."""
        return float(self._mass.sum()) if self.has_masses else float(self.n)

    @property
    def has_masses(self) -> bool:
        """True when some mass differs from 1."""
        return bool(np.any(self._mass != 1.0))

    @property
    def mass_shares(self) -> np.ndarray | None:
        r""":math:`m_i / N`, the p-mean weights of the agents; ``None`` when every mass is 1
        (equal weights)."""
        return self._mass / self._mass.sum() if self.has_masses else None

    @property
    def graph(self) -> nx.Graph | None:
        """The graph (``None`` = complete graph); built from the adjacency when the society was
        given a sparse matrix or an edge array."""
        if self._graph is None and self._adj is not None:
            maker = nx.DiGraph if self._directed else nx.Graph
            self._graph = nx.from_scipy_sparse_array(self._adj, create_using=maker)
        return self._graph

    @property
    def is_complete(self) -> bool:
        """True for the implicit complete graph (``graph=None``)."""
        return self._adj is None

    @property
    def directed(self) -> bool:
        """True if the graph is a ``DiGraph``."""
        return self._directed

    @property
    def neighbor_weighting(self) -> str:
        """``"sum"`` or ``"mean"``."""
        return self._weighting

    @property
    def degrees(self) -> np.ndarray:
        """``|N(i)|`` (out-degree for a ``DiGraph``)."""
        return self._degree

    @property
    def weight_sums(self) -> np.ndarray:
        r""":math:`s_i = \sum_j W_{ij}`."""
        return self._s

    @property
    def adjacency(self) -> sps.csr_matrix:
        """The 0/1 adjacency matrix ``A_ij = 1`` iff ``j in N(i)`` (CSR)."""
        if self._adj is None:
            self._check_dense_limit("adjacency")
            full = np.ones((self.n, self.n)) - np.eye(self.n)
            return sps.csr_matrix(full)
        return self._adj

    @property
    def weights(self) -> sps.csr_matrix:
        r"""The social weight matrix ``W`` as a scipy.sparse CSR matrix.

        For the implicit complete graph it is materialised only up to
        ``n = 4000`` (unless it is diagonal: every :math:`\sigma_i = 1`); use
        :meth:`apply_weights` beyond.
        """
        if not np.any(self._offdiag):  # nobody cares about others (every sigma_i = 1): diagonal
            return sps.diags(self._sigma).tocsr()
        adj = self.adjacency
        return (sps.diags(self._sigma) + sps.diags(self._offdiag) @ adj).tocsr()

    def _check_dense_limit(self, what: str) -> None:
        if self.n > DENSE_COMPLETE_LIMIT:
            raise InvalidParameterError(
                "graph",
                None,
                f"the complete graph's {what} has n^2 = {self.n**2} entries; use "
                "apply_weights / the solvers, which never materialise it",
            )

    # ---------------------------------------------------------------- operators
    def neighbor_sum(self, values: npt.ArrayLike) -> np.ndarray:
        """``sum_{j in N(i)} values_j`` along the last axis (works on batches)."""
        v = np.asarray(values, dtype=float)
        if self._adj is None:
            return v.sum(axis=-1, keepdims=True) - v
        if v.ndim == 1:
            return np.asarray(self._adj @ v)
        return np.asarray((self._adj @ v.reshape(-1, self.n).T).T).reshape(v.shape)

    def apply_weights(self, values: npt.ArrayLike) -> np.ndarray:
        """``W @ values`` along the last axis, without materialising ``W``.

        Examples
        --------
        >>> Society([1.0, 0.0]).apply_weights([3.0, 5.0]).tolist()
        [3.0, 3.0]
        """
        v = np.asarray(values, dtype=float)
        return self._sigma * v + self._offdiag * self.neighbor_sum(v)

    def apply_weights_transposed(self, values: npt.ArrayLike) -> np.ndarray:
        r"""``W^T @ values`` for one vector, without materialising ``W``.

        :math:`(W^\top \mu)_j = \sum_i \mu_i W_{ij}`: how much one unit of agent j's payoff adds
        to the ``mu``-weighted sum of utilities (the planner's dual prices).

        Examples
        --------
        >>> Society([1.0, 0.0]).apply_weights_transposed([3.0, 5.0]).tolist()
        [8.0, 0.0]
        """
        v = np.asarray(values, dtype=float)
        if v.shape != (self.n,):
            raise ShapeError("values", v.shape, f"give one value per agent, shape ({self.n},)")
        spread = self._offdiag * v
        if self._adj is None:
            return np.asarray(self._sigma * v + (spread.sum() - spread))
        return np.asarray(self._sigma * v + self._adj.T @ spread)

    def closed_neighborhoods(self) -> sps.csr_matrix:
        """``Q`` with ``Q_jk = 1`` iff ``k in N[j]`` in the undirected view of the graph."""
        if self._adj is None:
            self._check_dense_limit("closed neighbourhood matrix")
            return sps.csr_matrix(np.ones((self.n, self.n)))
        sym = ((self._adj + self._adj.T) > 0).astype(float)
        return (sym + sps.identity(self.n, format="csr")).tocsr()

    def with_types(
        self, selfishness: npt.ArrayLike | None = None, productivity: npt.ArrayLike | None = None
    ) -> Society:
        """Same graph, weighting and masses with other types."""
        return Society(
            self._sigma if selfishness is None else selfishness,
            self._theta if productivity is None else productivity,
            self._graph if self._graph is not None or self._adj is None else self._adj,
            self._weighting,  # type: ignore[arg-type]
            self._mass if self.has_masses else None,
        )

    def __repr__(self) -> str:
        if self._adj is None:
            g = "complete"
        else:
            g = type(self._graph).__name__ if self._graph is not None else "sparse adjacency"
        mass = f", population={self.population:.6g}" if self.has_masses else ""
        return f"Society(n={self.n}, graph={g}, neighbor_weighting={self._weighting!r}{mass})"


def _masses(masses: npt.ArrayLike | None, n: int) -> np.ndarray:
    """Validated population masses ``(n,)``: finite and > 0 (default all 1)."""
    if masses is None:
        return np.ones(n)
    m = real_array("masses", masses, "give a positive number or one per agent")
    if m.ndim == 0:
        m = np.full(n, float(m))
    if m.shape != (n,):
        raise ShapeError("masses", masses, f"give a scalar or one mass per agent, shape ({n},)")
    bad = np.flatnonzero(~((m > 0) & np.isfinite(m)))
    if bad.size:
        raise InvalidParameterError(
            "masses",
            m[bad][:5].tolist(),
            f"masses must be finite and > 0 (agents {bad[:10].tolist()} are not); drop "
            "zero-weight records instead",
        )
    return m.copy()


def _adjacency(graph: nx.Graph, n: int) -> sps.csr_matrix:
    if not isinstance(graph, nx.Graph):
        raise GraphError("graph", type(graph).__name__, "pass a networkx Graph or DiGraph, or None")
    if graph.is_multigraph():
        raise GraphError("graph", type(graph).__name__, "multigraphs are not supported; use Graph")
    nodes = set(graph.nodes)
    if nodes != set(range(n)):
        extra = sorted(map(repr, nodes - set(range(n))))[:5]
        missing = sorted(set(range(n)) - nodes)[:5]
        raise GraphError(
            "graph.nodes",
            f"{graph.number_of_nodes()} nodes",
            f"nodes must be exactly 0..{n - 1} (one per agent); unexpected {extra}, "
            f"missing {missing}; relabel with networkx.convert_node_labels_to_integers",
        )
    loops = [u for u, v in nx.selfloop_edges(graph)]
    if loops:
        raise GraphError("graph", f"self-loops at {loops[:5]}", "remove self-loops (W_ii is sigma_i)")
    return _edge_adjacency(
        np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2), n, graph.is_directed()
    )


def _edge_adjacency(edges: np.ndarray, n: int, directed: bool) -> sps.csr_matrix:
    """The CSR adjacency of an ``(m, 2)`` edge array (both orientations unless ``directed``)."""
    rows, cols = edges[:, 0], edges[:, 1]
    if not directed:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
    return sps.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))


def _array_adjacency(graph: Any, n: int) -> sps.csr_matrix:
    """A 0/1 CSR adjacency from a sparse ``(n, n)`` matrix or an ``(m, 2)`` undirected edge array."""
    if sps.issparse(graph):
        if graph.shape != (n, n):
            raise GraphError("graph", f"sparse {graph.shape}", f"give an ({n}, {n}) adjacency matrix")
        adj = sps.csr_matrix(graph, dtype=float)
        adj.eliminate_zeros()
    else:
        try:
            edges = np.asarray(graph)
        except (TypeError, ValueError):
            edges = np.empty(0)
        if edges.ndim != 2 or edges.shape[1] != 2 or not np.issubdtype(edges.dtype, np.integer):
            raise GraphError(
                "graph",
                type(graph).__name__,
                "pass a networkx graph, an (n, n) scipy.sparse adjacency, an (m, 2) integer edge "
                "array or None",
            )
        if edges.size and (edges.min() < 0 or edges.max() >= n):
            raise GraphError(
                "graph", f"edge ends {int(edges.min())}..{int(edges.max())}", f"use nodes 0..{n - 1}"
            )
        adj = _edge_adjacency(edges, n, directed=False)
    adj.sum_duplicates()
    if adj.diagonal().any():
        loops = np.flatnonzero(adj.diagonal())[:5].tolist()
        raise GraphError("graph", f"self-loops at {loops}", "remove self-loops (W_ii is sigma_i)")
    adj.data[:] = 1.0
    return adj
