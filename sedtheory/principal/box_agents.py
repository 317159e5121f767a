r"""Every agent's largest utility in the second best, and from it a bound for p > 1.

For :math:`p > 1` the p-mean is convex, so the linear bound of
:mod:`sedtheory.principal.box_relaxation` does not apply. But each utility
:math:`u_i = \sum_j W_{ij} r_j` is itself linear in the payoffs, so the relaxed planner with the
weights :math:`c = W_{i\cdot}` bounds :math:`u_i` at every equilibrium of every rate vector in a
box. All n rows at once: an agent j outside row i's support has :math:`c_j = 0` and
:math:`d_j = C_i m_j / N` (:math:`C_i = \sum_j W_{ij}`), so with the aggregate's price
:math:`\eta = C_i e` its term is :math:`C_i h_j(e)`, :math:`h_j(e) = \max_{a \in [L_j, U_j]}
[m_j T(a)/N - e\, m_j a]`, the same for every row up to the factor :math:`C_i`. Hence

.. math:: U_i = \omega C_i + C_i \Big(\sum_j h_j(e) - \sum_{j \in S_i} h_j(e) + G(e)\Big)
          + \sum_{j \in S_i} \max_{a \in [L_j, U_j]} [W_{ij}(a - a^2/(2\theta_j)) + d_{ij} T(a)
          - C_i e\, m_j a],

:math:`G(e) = \max_{A} [eA - \kappa A^2/(2N)]` over the aggregate's range: one pass over the
agents and one over the non-zeros of ``W`` per box and price. Then, for every equilibrium ``u``
of every rate vector in the box,

* :math:`M_\infty(u) \le \max_i U_i` and :math:`M_p(u) \le M_p(\max(U, 0))` (monotone);
* :math:`M_p(u) \le M_\infty(u)^{(p-1)/p} M_1(u)^{1/p}` (Hölder), with the relaxed planner's
  bound on :math:`M_1`.

A best-first split of the rate box on :math:`\max_i U_i` tightens both.
"""

from __future__ import annotations

import heapq
import math
import time
from typing import Any

import numpy as np

from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.objective import Objective
from sedtheory.principal.box_relaxation import (
    BATCH,
    ETA_SCALES,
    BoxModel,
    RelaxationBound,
    box_ranges,
    empty_boxes,
    relaxation_bound,
    term_maxima,
)
from sedtheory.principal.weighted_planner import weight_rows
from sedtheory.welfare import pmean

__all__ = ["agent_box_maxima", "high_p_bound"]

#: The method's name in certificates.
METHOD = "relaxed planner per agent on boxes of rates (every agent's largest utility; Hölder with p = 1)"


class _Rows:
    """Row i of the weights (``W`` or the identity) as entries ``(row, agent, weight)``."""

    def __init__(self, game: Any, welfare_of: str) -> None:
        rows = weight_rows(game, welfare_of).tocoo()
        if rows.nnz and float(rows.data.min()) < 0.0:
            raise CapabilityError("game", "negative social weights", "the relaxed planner needs W >= 0")
        self.row, self.agent, self.weight = rows.row, rows.col, rows.data.astype(float)
        self.n = game.n
        self.total = np.bincount(self.row, self.weight, minlength=self.n)  # C_i


def _row_bounds(model: BoxModel, rows: _Rows, r_lo: np.ndarray, r_hi: np.ndarray, e_ref: float) -> np.ndarray:
    """:math:`U_i` for every box and agent ``(K, n)`` (``-inf`` rows for boxes without equilibria)."""
    a_lo, a_hi, low, high = box_ranges(model, r_lo, r_hi)
    empty = empty_boxes(a_lo, a_hi) | ~np.all(np.isfinite(low), axis=1)
    low, high = np.where(empty[:, None], 0.0, low), np.where(empty[:, None], 0.0, high)
    a_lo, a_hi = np.where(empty, 0.0, a_lo), np.where(empty, 0.0, a_hi)
    lo3, hi3 = r_lo[:, None, :], r_hi[:, None, :]
    n = rows.n
    share = model.mass / model.population
    best = np.full((r_lo.shape[0], n), np.inf)
    total = rows.total[None, :]
    d_entry = rows.total[rows.row] * share[rows.agent] - rows.weight
    for scale in ETA_SCALES if e_ref != 0.0 else (0.0,):
        e = scale * e_ref
        h = term_maxima(model, np.arange(n), (low, high), (np.zeros(n), share, np.full(1, e)), (lo3, hi3))
        with np.errstate(invalid="ignore"):
            agg = np.clip(e / (model.kappa / model.population), a_lo, a_hi) if model.kappa > 0 else a_hi
            tail = e * agg - 0.5 * model.kappa / model.population * agg * agg if model.kappa > 0 else e * agg
        own = term_maxima(
            model,
            rows.agent,
            (low[:, rows.agent], high[:, rows.agent]),
            (rows.weight, d_entry, rows.total[rows.row] * e),
            (lo3, hi3),
        )
        inside = np.zeros((r_lo.shape[0], n))
        for k in range(r_lo.shape[0]):  # per box: a bincount over the entries (K is a batch)
            inside[k] = np.bincount(rows.row, own[k] - rows.total[rows.row] * h[k, rows.agent], minlength=n)
        with np.errstate(invalid="ignore"):
            value = model.omega * total + total * (h.sum(axis=1) + tail)[:, None] + inside
        best = np.minimum(best, np.where(np.isnan(value), np.inf, value))
    return np.where(empty[:, None], -np.inf, best)


def agent_box_maxima(
    game: Any,
    box: np.ndarray,
    *,
    aggregate: float,
    welfare_of: str = "utility",
    max_boxes: int = 16,
    time_limit: float = math.inf,
) -> tuple[np.ndarray, int]:
    r"""Upper bounds :math:`U_i` on every agent's value at every equilibrium of every rate vector
    in ``box`` (module Notes), refined best first on :math:`\max_i U_i`.

    Parameters
    ----------
    game : CommonsGame
        Global commons; ``W`` must be available as a sparse matrix.
    box : numpy.ndarray
        ``(2, B)`` lowest and highest rates.
    aggregate : float
        A reference aggregate harvest (the prices tried are multiples of its marginal damage).
    welfare_of : {"utility", "payoff"}
    max_boxes, time_limit
        The split's budget (the bounds are valid at every moment).

    Returns
    -------
    (U, boxes) : (numpy.ndarray, int)
        ``U`` ``(n,)``, the largest over the final boxes (``-inf`` if none holds an equilibrium).

    Examples
    --------
    >>> import numpy as np
    >>> from sedtheory import optimal_tax, scenarios
    >>> game = scenarios.apple_picking()
    >>> d = optimal_tax(game, np.inf, bound=False)
    >>> box = np.array([[0.0] * 3, [1.0] * 3])
    >>> U, _ = agent_box_maxima(game, box, aggregate=float(d.equilibrium.actions.sum()))
    >>> bool(np.all(d.equilibrium.utilities <= U))
    True
    """
    t0 = time.perf_counter()
    model = BoxModel.of(game)
    rows = _Rows(game, welfare_of)
    box = np.asarray(box, dtype=float)
    if box.ndim != 2 or box.shape[0] != 2 or box.shape[1] != model.keep.size or np.any(box[0] > box[1]):
        raise InvalidParameterError("box", box, f"give (2, {model.keep.size}) lowest and highest rates")
    e_ref = model.kappa * float(aggregate) / model.population
    lo, hi = box[0][model.keep], box[1][model.keep]
    first = _row_bounds(model, rows, lo[None], hi[None], e_ref)[0]
    heap = [(-float(first.max()), 0, lo, hi, first)] if first.max() > -math.inf else []
    count = 1
    while heap and count < max_boxes and time.perf_counter() - t0 < time_limit:
        parents = [heapq.heappop(heap) for _ in range(min(BATCH, len(heap), (max_boxes - count + 1) // 2))]
        if not parents:
            break
        kids = []
        for _, _, b_lo, b_hi, cap in parents:
            j = int(np.argmax(b_hi - b_lo))
            mid = 0.5 * (b_lo[j] + b_hi[j])
            left_hi, right_lo = b_hi.copy(), b_lo.copy()
            left_hi[j], right_lo[j] = mid, mid
            kids += [(b_lo, left_hi, cap), (right_lo, b_hi, cap)]
        found = _row_bounds(
            model, rows, np.array([k[0] for k in kids]), np.array([k[1] for k in kids]), e_ref
        )
        for (k_lo, k_hi, cap), u in zip(kids, found, strict=True):
            count += 1
            u = np.minimum(u, cap)
            if np.any(u > -math.inf):
                heapq.heappush(heap, (-float(u.max()), count, k_lo, k_hi, u))
    if not heap:
        return np.full(game.n, -math.inf), count
    return np.max(np.stack([entry[4] for entry in heap]), axis=0), count


def high_p_bound(
    game: Any,
    objective: Objective,
    box: np.ndarray,
    *,
    aggregate: float,
    max_boxes: int = 16,
) -> RelaxationBound:
    r"""Upper bound on :math:`M_p` (``p > 1``) at every equilibrium of every rate vector in ``box``:
    the smaller of :math:`M_p(\max(U, 0))` and Hölder's :math:`(\max_i U_i)^{(p-1)/p}
    \bar M_1^{1/p}` (module Notes; for ``p = +inf`` the largest :math:`U_i`).

    Examples
    --------
    >>> import numpy as np
    >>> from sedtheory import Objective, optimal_tax, scenarios
    >>> game = scenarios.apple_picking()
    >>> d = optimal_tax(game, 2.0, bound=False)
    >>> box = np.array([[0.0] * 3, [1.0] * 3])
    >>> res = high_p_bound(game, Objective(2.0), box, aggregate=float(d.equilibrium.actions.sum()))
    >>> bool(d.welfare <= res.upper)
    True
    """
    t0 = time.perf_counter()
    p = float(objective.p)
    if p <= 1:
        raise CapabilityError("p", p, "for p <= 1 use relaxation_bound (the linear bound)")
    upper, count = agent_box_maxima(
        game, box, aggregate=aggregate, welfare_of=objective.of, max_boxes=max_boxes
    )
    top = float(upper.max())
    bound, details = top, {"largest agent bound": top}
    if math.isfinite(p):
        weights = objective.weights if objective.weights is not None else game.welfare_weights
        bound = pmean(np.maximum(upper, 0.0), p, weights)
        mean = relaxation_bound(
            game, Objective(1.0, of=objective.of, weights=None if weights is None else tuple(weights)), box,
            values=np.ones(game.n), aggregate=aggregate, max_boxes=max_boxes,
        )  # fmt: skip
        details["mean bound"] = mean.upper
        if top >= 0.0 and mean.upper >= 0.0:
            bound = min(bound, top ** ((p - 1.0) / p) * mean.upper ** (1.0 / p))
        count += mean.boxes
    return RelaxationBound(upper=float(bound), boxes=count, seconds=time.perf_counter() - t0, method=METHOD,
                           details=details)  # fmt: skip
