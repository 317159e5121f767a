r"""A bound on the second best from a relaxed planner on boxes of rates (large societies, p <= 1).

The second best with optimistic selection is :math:`\max_{\phi \in \Phi} \max_{a \in E(\phi)}
M_p(u(a, \phi))`. This module bounds it without listing regimes, for the global commons, in
milliseconds per box at n = 1000, far tighter than the first best:

1. **Linear welfare.** For :math:`p \le 1`, :math:`M_p` is concave and positively homogeneous,
   so :math:`M_p(u) \le \lambda \cdot u` with :math:`\lambda = \nabla M_p(\bar u)` at any positive
   reference :math:`\bar u` (the searched design's utilities); for :math:`p = -\infty` any
   :math:`\lambda` in the simplex. With :math:`c = W^\top \lambda` and the kernel's payoff
   (:math:`R = \sum_k m_k T(a_k)`, :math:`A = \sum_k m_k a_k`),

   .. math:: \lambda \cdot u = \omega C + \sum_j \big[c_j (a_j - a_j^2/(2\theta_j))
             + d_j T(a_j)\big] - C \kappa A^2/(2N), \quad d_j = C m_j/N - c_j,\ C = \sum_j c_j.

2. **Replies on a box.** In an equilibrium every agent's action is a local maximum of its own
   utility. Written with the total :math:`A`, agent i's slope in piece b is
   :math:`D_b - g_i x` with :math:`D_b = \sigma_i - c^{\mathrm{dmg}}_i A - k_i \phi_b` and
   :math:`g_i = \sigma_i/\theta_i` (the kernel's coefficients: :math:`c^{\mathrm{dmg}}_i =
   s_i\kappa/N`, :math:`k_i = \sigma_i - s_i/N`), affine in :math:`(\phi_b, A)`. So on a box of
   rates and an interval of :math:`A` each local maximum (inside a piece, at a kink, at 0, at the
   cap) lies in an interval computed from the box's corners (:func:`reply_ranges`), and the
   aggregate lies in :math:`[\sum_j m_j L_j, \sum_j m_j U_j]`: iterated to a fixed point
   (:func:`aggregate_ranges`). A box where some agent has no possible type holds no equilibrium.
3. **Relaxed planner.** Every equilibrium in the box is then a point with
   :math:`a_j \in [L_j, U_j]`, :math:`T(a_j)` between the box's lowest and highest rates' taxes,
   and :math:`A` in its range. Pricing :math:`A = \sum_j m_j a_j` with any :math:`\eta` makes the
   maximum of the linear welfare separable: each agent's term is a piecewise concave quadratic on
   :math:`[L_j, U_j]` (maximised over its ends, kinks and clipped stationary points), the
   aggregate's a concave quadratic. Every :math:`\eta` gives a valid bound; a few around the
   reference's marginal damage are tried and the smallest kept.
4. **Branch and bound** over the rate box, best first, splitting the widest side.

The bound is first order in the box (actions and taxes are decoupled from the rates inside it),
yet the decoupling it allows is the second best's own: actions stay best replies and taxes stay
bracket taxes, which is what separates the second best from the first (targeted transfers, free
harvests). Measured at n = 1000 (docs/principal.md): the whole rate box as one box gives 185.0
against the first best's 186.8 (second best 181.9, p = 1).

References
----------
.. [1] D. Acemoglu and M. K. Jensen, "Aggregate comparative statics", *Games and Economic
   Behavior* 81 (2013) 27-49 (equilibria of aggregative games through the aggregate).
.. [2] A. M. Geoffrion, "Lagrangean relaxation for integer programming", *Mathematical
   Programming Study* 2 (1974) 82-114.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.objective import Objective

__all__ = [
    "BoxModel",
    "RelaxationBound",
    "box_ranges",
    "term_maxima",
    "aggregate_ranges",
    "payoff_weights",
    "relaxation_bound",
    "relaxed_boxes",
    "reply_ranges",
]

#: Multiples of the reference's marginal damage tried as the aggregate's price (each is valid).
ETA_SCALES = (0.6, 0.8, 0.9, 1.0, 1.1, 1.25, 1.6)
#: Rounds of the aggregate's fixed point at most.
RANGE_ROUNDS = 40
#: Boxes split together (their bounds are computed in one vectorised pass).
BATCH = 8
#: The surrogate exponent whose gradient weighs the agents for ``p = -inf`` by default.
MIN_SURROGATE = -64.0
#: Surrogate exponents tried on the whole box for ``p = -inf`` (the best root bound's is kept; at
#: n = 1000 the root bounds ranged from 71.0 at -128 to 76.5 at -1024).
MIN_SURROGATES = (-16.0, -32.0, -64.0, -128.0, -256.0, -512.0)
#: Agent-boxes a design's default bound may take (:func:`relaxed_boxes`: 20 boxes at n = 1000,
#: about 0.3 s there).
BOX_WORK = 20_000
#: Boxes at most for a design's default bound.
MAX_BOXES = 32
#: Exponents closer to 0 than this take the weights of M_0 (p < 0) or of M_TINY_P (p > 0), which
#: bound them by the power-mean inequality (the gradient's formula is ill-conditioned there).
TINY_P = 1e-6
#: Slack on every comparison (relative), so that rounding never drops a possible reply.
SLACK = 1e-9


@dataclass(frozen=True)
class RelaxationBound:
    """The relaxed planner's bound on the second best over a box of rates.

    Attributes
    ----------
    upper : float
        An upper bound on :math:`M_p` at every equilibrium of every rate vector in the box
        (``-inf`` if no box can hold an equilibrium).
    boxes : int
        Boxes bounded.
    seconds : float
    method : str
    details : dict
    """

    upper: float
    boxes: int
    seconds: float
    method: str
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class BoxModel:
    """The kernel's coefficients the relaxation needs (global commons; :meth:`of`)."""

    sigma: np.ndarray
    slope: np.ndarray  # sigma / theta
    k: np.ndarray
    dmg: np.ndarray  # s kappa / N
    cost: np.ndarray  # 1 / (2 theta)
    mass: np.ndarray
    population: float
    kappa: float
    omega: float
    amax: float
    lo: np.ndarray  # the tax's pieces on [0, amax]
    hi: np.ndarray
    keep: np.ndarray  # which brackets start below amax

    @classmethod
    def of(cls, game: Any) -> BoxModel:
        kernel = getattr(game, "kernel", None)
        if kernel is None or not getattr(game, "uses_global_formulas", False):
            raise CapabilityError("game", type(game).__name__, "the relaxation needs the global commons")
        tau = np.asarray(kernel.thresholds, dtype=float)
        keep = tau < kernel.amax
        lo = tau[keep]
        hi = np.append(tau[1:], np.inf)[keep]
        hi[-1] = min(hi[-1], kernel.amax)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(np.isinf(kernel.theta), 0.0, kernel.sigma / kernel.theta)
        mass = np.ones(kernel.n) if kernel.mass is None else np.asarray(kernel.mass, dtype=float)
        return cls(np.asarray(kernel.sigma, float), slope, np.asarray(kernel.k, float),
                   np.asarray(kernel.c, float), np.asarray(kernel.cost_weights, float), mass,
                   float(kernel.population), float(kernel.kappa), float(kernel.omega),
                   float(kernel.amax), lo, hi, keep)  # fmt: skip


def _slopes(ag: BoxModel, r_lo: np.ndarray, r_hi: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray) -> tuple:
    """Smallest and largest :math:`D_b = \\sigma - c A - k \\phi_b` per box, agent and piece
    ``(K, n, P)``."""
    k = ag.k[None, :, None]
    lo_r, hi_r = r_lo[:, None, :], r_hi[:, None, :]
    tax_min = np.minimum(k * lo_r, k * hi_r)
    tax_max = np.maximum(k * lo_r, k * hi_r)
    base = ag.sigma[None, :, None]
    dmg = ag.dmg[None, :, None]
    with np.errstate(invalid="ignore"):  # no damage weight times an unbounded aggregate is no damage
        d_min = base - np.where(dmg > 0, dmg * a_hi[:, None, None], 0.0) - tax_max
        d_max = base - np.where(dmg > 0, dmg * a_lo[:, None, None], 0.0) - tax_min
    return d_min, d_max


def reply_ranges(
    game: Any, r_lo: np.ndarray, r_hi: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Every agent's possible equilibrium actions on boxes of rates and of the aggregate.

    Parameters
    ----------
    game : CommonsGame
        Global commons.
    r_lo, r_hi : numpy.ndarray
        ``(K, B)`` lowest and highest rates of K boxes.
    a_lo, a_hi : numpy.ndarray
        ``(K,)`` lowest and highest aggregate :math:`A`.

    Returns
    -------
    (L, U) : numpy.ndarray
        ``(K, n)``: every local maximum of an agent's utility for some rates in the box and some
        aggregate in its interval lies in ``[L, U]`` (``L = inf`` where none can).

    Examples
    --------
    Two selfish agents without damage: agent 0's reply :math:`\theta_0 (1 - \phi (1 - 1/2))`
    runs from 10 (no tax) down to 5 (rate 1), whatever the aggregate.

    >>> import numpy as np
    >>> from sedtheory import CommonsGame, PiecewiseLinearTax, Society
    >>> game = CommonsGame(Society([1.0, 1.0], [10.0, 20.0]), PiecewiseLinearTax([0.0], [0.0]),
    ...                    damage=0.0, endowment=5.0, max_harvest=40.0)
    >>> L, U = reply_ranges(game, np.zeros((1, 1)), np.ones((1, 1)), np.zeros(1), np.full(1, 80.0))
    >>> round(float(L[0, 0]), 6), round(float(U[0, 0]), 6)
    (5.0, 10.0)
    """
    return _reply_ranges(BoxModel.of(game), *_box_rates(game, r_lo, r_hi), a_lo, a_hi)


def _box_rates(game: Any, r_lo: np.ndarray, r_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = BoxModel.of(game).keep
    return np.asarray(r_lo, float)[:, keep], np.asarray(r_hi, float)[:, keep]


def _reply_ranges(
    ag: BoxModel, r_lo: np.ndarray, r_hi: np.ndarray, a_lo: np.ndarray, a_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    d_min, d_max = _slopes(ag, r_lo, r_hi, a_lo, a_hi)
    tol = SLACK * (np.abs(d_min) + np.abs(d_max) + 1.0)
    g = ag.slope[None, :, None]
    lo, hi = ag.lo[None, None, :], ag.hi[None, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        x_lo = np.where(g > 0, d_min / np.where(g > 0, g, 1.0), lo)
        x_hi = np.where(g > 0, d_max / np.where(g > 0, g, 1.0), hi)
    x_lo, x_hi = (
        np.maximum(x_lo - SLACK * (1 + np.abs(x_lo)), lo),
        np.minimum(x_hi + SLACK * (1 + np.abs(x_hi)), hi),
    )
    inside = (x_lo <= x_hi) & ((g > 0) | ((d_min <= tol) & (d_max >= -tol)))
    big = np.where(inside, x_lo, np.inf).min(axis=2)
    small = np.where(inside, x_hi, -np.inf).max(axis=2)
    kinks = ag.lo[1:]
    if kinks.size:  # a kink: left slope >= 0 >= right slope, for some rates and aggregate
        left = d_max[:, :, :-1] - g * kinks >= -tol[:, :, :-1]
        right = d_min[:, :, 1:] - g * kinks <= tol[:, :, 1:]
        at = left & right
        big = np.minimum(big, np.where(at, kinks, np.inf).min(axis=2))
        small = np.maximum(small, np.where(at, kinks, -np.inf).max(axis=2))
    zero = d_min[:, :, 0] <= tol[:, :, 0]
    big, small = np.where(zero, 0.0, big), np.where(zero, np.maximum(small, 0.0), small)
    if math.isfinite(ag.amax):
        cap = d_max[:, :, -1] - ag.slope[None, :] * ag.amax >= -tol[:, :, -1]
        big, small = np.where(cap, np.minimum(big, ag.amax), big), np.where(cap, ag.amax, small)
    return big, small


def aggregate_ranges(
    game: Any, r_lo: np.ndarray, r_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The aggregate's range ``(K,)`` twice and the replies' ``(K, n)`` twice on boxes of rates:
    :func:`reply_ranges` and :math:`\\sum_j m_j L_j \\le A \\le \\sum_j m_j U_j` to a fixed point
    (an empty box has ``a_lo > a_hi``)."""
    ag = BoxModel.of(game)
    return box_ranges(ag, *_box_rates(game, r_lo, r_hi))


def box_ranges(
    ag: BoxModel, r_lo: np.ndarray, r_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k_boxes = r_lo.shape[0]
    a_lo, a_hi = np.zeros(k_boxes), np.full(k_boxes, ag.population * ag.amax)
    for _ in range(RANGE_ROUNDS):
        low, high = _reply_ranges(ag, r_lo, r_hi, a_lo, a_hi)
        with np.errstate(invalid="ignore"):
            new_lo = np.maximum(a_lo, np.where(np.isfinite(low).all(axis=1), low @ ag.mass, np.inf))
            new_hi = np.minimum(a_hi, np.where(np.isfinite(high).all(axis=1), high @ ag.mass, -np.inf))
        settled = np.allclose(new_lo, a_lo, rtol=1e-12, atol=0) and np.allclose(
            new_hi, a_hi, rtol=1e-12, atol=0
        )
        a_lo, a_hi = new_lo, new_hi
        if settled:
            break
    return a_lo, a_hi, low, high


def relaxed_boxes(n: int, pieces: int = 3) -> int:
    """Boxes for a design's default bound: :data:`BOX_WORK` agent-boxes at three tax pieces (fewer
    with more pieces), at most :data:`MAX_BOXES`; 0 (no bound: the first best stands) where not
    even one box fits, e.g. past 20,000 agents with three pieces (at 10^5 agents and seven pieces
    one box took 4 s for p = 0 and 31 s for max-min, and was looser than the first best)."""
    return max(0, min(MAX_BOXES, 3 * BOX_WORK // max(1, n * pieces)))


def empty_boxes(a_lo: np.ndarray, a_hi: np.ndarray) -> np.ndarray:
    """Boxes whose aggregate range is empty (no equilibrium in them)."""
    with np.errstate(invalid="ignore"):
        return ~(a_lo <= a_hi + SLACK * (1.0 + np.abs(np.where(np.isfinite(a_hi), a_hi, 0.0))))


def payoff_weights(
    game: Any, objective: Objective, reference: np.ndarray, surrogate: float = MIN_SURROGATE
) -> np.ndarray:
    r"""The weights :math:`c = W^\top \lambda` on own payoffs with :math:`M_p(u) \le \lambda \cdot u`.

    :math:`\lambda = \nabla M_p(\bar u)` at the reference values (clipped to be positive) for
    :math:`p \le 1`; for :math:`p = -\infty` the normalised gradient of
    :math:`M_{q}` with :math:`q` = ``surrogate`` (any point of the simplex is valid).

    Examples
    --------
    >>> import numpy as np
    >>> from sedtheory import Objective, scenarios
    >>> game = scenarios.apple_picking()
    >>> c = payoff_weights(game, Objective(1.0), np.ones(game.n))
    >>> bool(np.allclose(c, game.society.apply_weights_transposed(np.full(game.n, 1 / game.n))))
    True
    """
    p = float(objective.p)
    if p > 1:
        raise CapabilityError("p", p, "the linear bound needs p <= 1 (M_p concave)")
    weights = objective.weights if objective.weights is not None else game.welfare_weights
    w = np.full(game.n, 1.0 / game.n) if weights is None else np.asarray(weights, dtype=float)
    v = np.asarray(reference, dtype=float)
    if v.shape != (game.n,) or not np.all(np.isfinite(v)):
        raise InvalidParameterError("reference", reference, f"give {game.n} finite reference values")
    v = np.maximum(v, 1e-12 * max(1.0, float(np.abs(v).max())))
    q = float(surrogate) if p == -math.inf else p
    if 0.0 < abs(q) < TINY_P:  # M_q <= M_0 (q < 0) or M_q <= M_TINY_P (q > 0): well-conditioned weights
        q = 0.0 if q < 0 else TINY_P
    if q == 1.0:
        lam = w.copy()
    elif q == 0.0:
        lam = w * math.exp(float(np.log(v) @ w)) / v
    else:
        lam = _power_gradient(w, v, q)
        if p == -math.inf:
            lam /= lam.sum()  # a point of the simplex: min(u) <= lam . u
    if objective.of == "payoff":
        return lam
    return np.asarray(game.society.apply_weights_transposed(lam), dtype=float)


def _power_gradient(w: np.ndarray, v: np.ndarray, q: float) -> np.ndarray:
    r""":math:`\nabla M_q(v)_i = w_i (v_i / M_q(v))^{q-1}`, in logarithms (q may be very negative)."""
    live = w > 0
    z = np.log(w[live]) + q * np.log(v[live])
    top = float(z.max())
    log_m = (top + math.log(float(np.exp(z - top).sum()))) / q
    return np.where(live, w * np.exp((q - 1.0) * (np.log(v) - log_m)), 0.0)


def term_maxima(
    model: BoxModel,
    agent: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    coefficients: tuple[np.ndarray, np.ndarray, np.ndarray],
    rates: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """:math:`\\max_{a \\in [L, U]} [c(a - a^2/(2\theta_j)) + d T(a) - \\eta m_j a]` elementwise.

    ``agent`` (the index j), ``bounds = (L, U)`` and ``coefficients = (c, d, eta)`` broadcast to
    one shape S; ``rates = (low, high)`` to S + (P,): the tax is at the highest rates where
    :math:`d > 0`, at the lowest otherwise. The maximum of the piecewise concave quadratic is over
    the interval's ends, the kinks inside it and every piece's clipped stationary point (``+inf``
    where an interval without cap lets a term without curvature grow).
    """
    low, high = bounds
    c, d, eta = coefficients
    cost, mass = model.cost[agent], model.mass[agent]
    curv = c * cost
    up = d > 0
    rate = np.where(up[..., None], rates[1], rates[0])
    shape = np.broadcast_shapes(np.shape(low), np.shape(c), np.shape(eta), np.shape(cost))
    low, high = np.broadcast_to(low, shape), np.broadcast_to(high, shape)
    points = [low, high] + [np.clip(np.broadcast_to(t, shape), low, high) for t in model.lo[1:]]
    for b in range(model.lo.size):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (c + d * rate[..., b] - eta * mass) / (2.0 * curv)
        x = np.where(curv > 0, x, low)  # linear terms: the ends and kinks hold the maximum
        points.append(np.clip(np.clip(x, model.lo[b], model.hi[b]), low, high))
    a = np.stack(points, axis=-1)
    finite = np.isfinite(a)
    a0 = np.where(finite, a, 0.0)
    shares = np.clip(a0[..., None] - model.lo, 0.0, model.hi - model.lo)
    tax = np.einsum("...mp,...p->...m", shares, np.broadcast_to(rate, shape + (model.lo.size,)))
    ex = (..., None)
    value = c[ex] * (a0 - cost[ex] * a0 * a0) + d[ex] * tax - (eta * mass)[ex] * a0
    grows = (curv <= 0) & (c + d * rate[..., -1] - eta * mass > 0)
    value = np.where(finite, value, np.where(grows[ex], np.inf, -np.inf))
    return np.asarray(value.max(axis=-1))


def _box_bounds(
    ag: BoxModel, r_lo: np.ndarray, r_hi: np.ndarray, weights: list[tuple[np.ndarray, float]]
) -> np.ndarray:
    """The relaxed planner's bound (module Notes) of every box for every ``(c, eta_ref)`` of
    ``weights`` ``(W, K)``, ``-inf`` for empty boxes; the boxes' ranges are computed once."""
    a_lo, a_hi, low, high = box_ranges(ag, r_lo, r_hi)
    empty = empty_boxes(a_lo, a_hi) | ~np.all(np.isfinite(low), axis=1)
    low, high = np.where(empty[:, None], 0.0, low), np.where(empty[:, None], 0.0, high)
    safe_lo, safe_hi = np.where(empty, 0.0, a_lo), np.where(empty, 0.0, a_hi)
    out = np.empty((len(weights), r_lo.shape[0]))
    for w, (c, eta_ref) in enumerate(weights):
        total = float(c.sum())
        d = total * ag.mass / ag.population - c
        curv = total * ag.kappa / ag.population  # the aggregate's term is eta A - curv A^2 / 2
        best = np.full(r_lo.shape[0], np.inf)
        for scale in ETA_SCALES if eta_ref != 0.0 else (0.0,):
            eta = np.full(r_lo.shape[0], scale * eta_ref)
            agents = term_maxima(
                ag, np.arange(c.size), (low, high), (c, d, eta[:, None]), (r_lo[:, None, :], r_hi[:, None, :])
            ).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                if curv > 0:
                    agg = np.clip(eta / curv, safe_lo, safe_hi)
                    tail = eta * agg - 0.5 * curv * agg * agg
                else:
                    tail = np.where(eta > 0, eta * safe_hi, np.where(eta < 0, eta * safe_lo, 0.0))
            value = ag.omega * total + agents + tail
            best = np.minimum(best, np.where(np.isnan(value), np.inf, value))
        out[w] = np.where(empty, -np.inf, best)
    return out


def relaxation_bound(
    game: Any,
    objective: Objective,
    box: np.ndarray,
    *,
    values: np.ndarray,
    aggregate: float | np.ndarray,
    max_boxes: int = 64,
    stop_at: float = -math.inf,
    time_limit: float = math.inf,
) -> RelaxationBound:
    r"""Upper bound on :math:`M_p` (``p <= 1``) at every equilibrium of every rate vector in
    ``box``, by the relaxed planner on boxes of rates (module Notes) and a best-first split.

    Parameters
    ----------
    game : CommonsGame
        Global commons; its thresholds are kept, its rates ignored.
    objective : Objective
        ``p <= 1``.
    box : numpy.ndarray
        ``(2, B)`` lowest and highest rates.
    values : numpy.ndarray
        Reference values of the objective (a good design's utilities or payoffs), ``(n,)`` or one
        row per reference ``(R, n)``: the linear bound's weights are the p-mean's gradient there
        (every reference gives a valid bound; the one with the smallest bound on the whole box is
        kept).
    aggregate : float or numpy.ndarray
        Each reference's aggregate harvest: the aggregate's prices tried are multiples of the
        marginal damage there.
    max_boxes : int
        Boxes bounded at most (the bound only tightens with more).
    stop_at : float
        Stop once the largest open bound is at most this.
    time_limit : float
        Seconds; no new batch of boxes starts after it (the bound holds at every moment; the
        default, no limit, keeps the result reproducible).

    Returns
    -------
    RelaxationBound

    Examples
    --------
    The seed scenario at p = 1: the bound is at least every design's welfare and below the
    (tax-feasible) first best.

    >>> import numpy as np
    >>> from sedtheory import Objective, first_best, optimal_tax, scenarios
    >>> game = scenarios.apple_picking()
    >>> d = optimal_tax(game, 1.0, bound=False)
    >>> res = relaxation_bound(game, Objective(1.0), np.array([[0.0] * 3, [1.0] * 3]),
    ...                        values=d.equilibrium.utilities, aggregate=d.equilibrium.actions.sum())
    >>> fb = first_best(game, 1.0, transfers="tax-feasible").upper_bound
    >>> bool(d.welfare <= res.upper < fb)
    True
    """
    t0 = time.perf_counter()
    ag = BoxModel.of(game)
    box = np.asarray(box, dtype=float)
    if box.ndim != 2 or box.shape[0] != 2 or box.shape[1] != ag.keep.size or np.any(box[0] > box[1]):
        raise InvalidParameterError("box", box, f"give (2, {ag.keep.size}) lowest and highest rates")
    if not isinstance(max_boxes, int | np.integer) or max_boxes < 1:
        raise InvalidParameterError("max_boxes", max_boxes, "give a positive number of boxes")
    lo, hi = box[0][ag.keep], box[1][ag.keep]
    refs = np.atleast_2d(np.asarray(values, dtype=float))
    aggs = np.atleast_1d(np.asarray(aggregate, dtype=float))
    if refs.shape[0] != aggs.size:
        raise InvalidParameterError(
            "aggregate", aggregate, f"give one aggregate per reference ({refs.shape[0]})"
        )
    first, c, eta_ref = _root(game, ag, objective, (lo, hi), refs, aggs)
    heap: list[tuple[float, int, np.ndarray, np.ndarray]] = [(-first, 0, lo, hi)] if first > -math.inf else []
    count = 1
    while heap and count < max_boxes and -heap[0][0] > stop_at and time.perf_counter() - t0 < time_limit:
        parents = [heapq.heappop(heap) for _ in range(min(BATCH, len(heap), (max_boxes - count + 1) // 2))]
        if not parents:
            break
        kids_lo, kids_hi, caps = [], [], []
        for neg, _, b_lo, b_hi in parents:
            j = int(np.argmax(b_hi - b_lo))
            mid = 0.5 * (b_lo[j] + b_hi[j])
            for side in (0, 1):
                k_lo, k_hi = b_lo.copy(), b_hi.copy()
                (k_hi if side == 0 else k_lo)[j] = mid
                kids_lo.append(k_lo)
                kids_hi.append(k_hi)
                caps.append(-neg)
        bounds = np.minimum(_box_bounds(ag, np.array(kids_lo), np.array(kids_hi), [(c, eta_ref)])[0], caps)
        for b, k_lo, k_hi in zip(bounds, kids_lo, kids_hi, strict=True):
            count += 1
            if b > -math.inf:
                heapq.heappush(heap, (-float(b), count, k_lo, k_hi))
    upper = -heap[0][0] if heap else -math.inf
    return RelaxationBound(
        upper=float(upper),
        boxes=count,
        seconds=time.perf_counter() - t0,
        method=METHOD,
        details={"open boxes": len(heap), "aggregate prices": [s * eta_ref for s in ETA_SCALES]},
    )


def _root(
    game: Any,
    ag: BoxModel,
    objective: Objective,
    box: tuple[np.ndarray, np.ndarray],
    values: np.ndarray,
    aggregate: np.ndarray,
) -> tuple[float, np.ndarray, float]:
    """The whole box's bound, the payoff weights and the aggregate's reference price: the
    smallest root bound over the references (rows of ``values``) and, for ``p = -inf``, the
    surrogates :data:`MIN_SURROGATES`."""
    tries = MIN_SURROGATES if objective.p == -math.inf else (MIN_SURROGATE,)
    weights = []
    for v, agg in zip(values, aggregate, strict=True):
        for q in tries:
            c = payoff_weights(game, objective, v, q)
            weights.append((c, float(c.sum()) * ag.kappa * float(agg) / ag.population))
    bounds = _box_bounds(ag, box[0][None], box[1][None], weights)[:, 0]
    pick = int(np.argmin(bounds))
    return float(bounds[pick]), weights[pick][0], weights[pick][1]


#: The method's name in certificates.
METHOD = (
    "relaxed planner on boxes of rates (replies and taxes bounded per box, the aggregate priced; "
    "linear bound of M_p)"
)
