r"""Identical agents of the dynamic commons grouped into types.

On the complete graph agent i's weights are :math:`W_{ii} = \sigma_i` and :math:`W_{ij} = o_i`
for every :math:`j \ne i` (:math:`o_i = (s_i - \sigma_i)/(n-1)`), so two agents with the same
selfishness and productivity are interchangeable: swapping them leaves the game unchanged. A
type-symmetric Markov profile (every agent of type a plays the same policy :math:`h_a`) is then
described by one policy per type, and agent i's one-shot deviation is that of *one* member of its
type while its :math:`m_a - 1` mates keep :math:`h_a`. The stage model on the type axis
(:class:`~sedtheory.games.dynamic.stage.StageModel` with ``counts``) has the weights

.. math:: \tilde W_{ab} = o_a m_b + [a = b](\sigma_a - o_a),

the weight an agent of type a puts on all agents of type b other than itself (plus its own).
Backward induction, the stage certificates and the true-game Nash gap of a type-symmetric
profile then cost O(K) per stock instead of O(n) (K types, n agents); the gap of every agent is
that of its type's representative, so nothing is approximated. Other graphs are not reduced.

Examples
--------
>>> import numpy as np
>>> import sedtheory as sed
>>> red = type_reduction(sed.Society([1.0, 0.5, 1.0, 0.5]), lambda w, agents, counts, own: (w, agents))
>>> red.types.tolist(), red.representatives.tolist(), red.counts.tolist()
([1, 0, 1, 0], [1, 0], [2, 2])
>>> w, agents = red.model
>>> np.round(w, 3).tolist()  # type 0: sigma 0.5, o = 0.5; type 1: selfish
[[1.0, 1.0], [0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.society import DENSE_COMPLETE_LIMIT, Society

__all__ = ["TypeReduction", "type_reduction"]


@dataclass(frozen=True)
class TypeReduction:
    """Agents grouped into interchangeable types.

    Attributes
    ----------
    types : numpy.ndarray
        ``(n,)``: the type of each agent.
    representatives : numpy.ndarray
        ``(K,)``: one agent of each type (the first).
    counts : numpy.ndarray
        ``(K,)``: agents of each type.
    model : Any
        The stage model on the type axis (built by the caller's factory).
    """

    types: np.ndarray
    representatives: np.ndarray
    counts: np.ndarray
    model: Any

    @property
    def reduces(self) -> bool:
        """True when some type has more than one agent."""
        return bool(self.representatives.size < self.types.size)

    def expand(self, values: np.ndarray) -> np.ndarray:
        """Per-type ``values`` (..., K) to per-agent (..., n)."""
        return values[..., self.types] if self.reduces else values

    def reduce(self, actions: np.ndarray) -> np.ndarray | None:
        """Per-type policies (..., K) of per-agent ``actions`` (..., n), or None when two agents
        of one type play differently (the profile is then not type-symmetric)."""
        if not self.reduces:
            return actions
        red = actions[..., self.representatives]
        flat, flat_red = actions.reshape(-1, actions.shape[-1]), red.reshape(-1, red.shape[-1])
        rows = max(1, 4_000_000 // max(1, self.types.size))  # compare in bounded chunks
        for k in range(0, flat.shape[0], rows):
            if not np.array_equal(flat[k : k + rows], flat_red[k : k + rows][:, self.types]):
                return None
        return red


def type_reduction(
    society: Society,
    factory: Callable[[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None], Any],
) -> TypeReduction:
    """Group the agents of a complete-graph society by (selfishness, productivity).

    ``factory(weights, agents, counts, own)`` builds the stage model on the type axis (``agents``:
    the representative of each type, whose productivity the type has); on other graphs (and when
    all agents differ) it receives the agents' dense ``W``, every agent and ``counts = own = None``.

    Raises
    ------
    InvalidParameterError
        More than 4000 distinct types on the complete graph (the type weights are dense).
    """
    n = society.n
    every = np.arange(n)
    if not society.is_complete:
        model = factory(society.weights.toarray(), every, None, None)
        return TypeReduction(every, every, np.ones(n, dtype=int), model)
    key = np.column_stack([society.selfishness, society.productivity])
    _, first, types, counts = np.unique(
        key, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    types = np.asarray(types).reshape(-1)
    if first.size > DENSE_COMPLETE_LIMIT:
        raise InvalidParameterError(
            "society",
            f"{first.size} distinct (selfishness, productivity) types",
            f"the dynamic game solves type-symmetric profiles with dense type weights; use at most "
            f"{DENSE_COMPLETE_LIMIT} distinct types on the complete graph (round the types)",
        )
    if first.size == n:  # nothing to group: the agents' own W, in the agents' order
        return TypeReduction(
            every, every, counts[types], factory(society.weights.toarray(), every, None, None)
        )
    sigma = society.selfishness[first]
    off = (society.weight_sums[first] - sigma) / max(n - 1, 1)  # W_ij, j != i
    weights = off[:, None] * counts[None, :] + np.diag(sigma - off)
    return TypeReduction(types, first, counts, factory(weights, first, counts, sigma))
