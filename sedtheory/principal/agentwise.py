r"""A second-best bound over a box of rates that treats the agents one by one (large societies).

The regime analysis (:mod:`sedtheory.principal.regime_forms`) lists the joint regimes of all
agents; past a few dozen agents their number explodes and a box gets no bound from it. This
module bounds the same quantity, :math:`\max_{\phi \in \Phi} \max_{a \in E(\phi)} M_p(u(a,\phi))`
over a box :math:`\Phi`, without listing regimes:

1. :func:`~sedtheory.principal.regime_forms.aggregate_cells` gives the cells of the aggregate
   :math:`A` that can hold an equilibrium total for some rates in the box, per cell the types each
   agent can take (interior to a tax piece, kink, 0, cap) and the range :math:`[l_j, h_j]` of its
   replies. The lists are exhaustive (DESIGN section 6), so every equilibrium is in some cell.
2. **Componentwise.** Each own payoff
   :math:`r_j = \omega + a_j - T(a_j) + R/N - a_j^2/(2\theta_j) - \kappa A^2/(2N)` (the kernel's
   formula, :math:`R = \sum_k m_k T(a_k)`) is bounded above and below in the cell (the own net
   harvest exactly, piece by piece at the box's lowest rates, since every bracket share is
   non-negative; the revenue by every agent's largest tax; the damage by the cell's ends); the
   utilities :math:`u = W r` through the signs of ``W``; :math:`M_p` is non-decreasing, so
   :math:`M_p` of the upper bounds bounds the cell.
3. **Linear** (:math:`p \le 1`): :math:`M_p(u) \le \lambda \cdot u` for the supergradient
   :math:`\lambda` at the componentwise values (concave and 1-homogeneous; for
   :math:`p = -\infty` the weight on the smallest). :math:`\lambda \cdot u` is a sum over agents in
   which the revenue cancels the taxes up to :math:`\hat W m_k / N - \hat w_k`
   (:func:`linear_bound`); an agent whose type in the cell is unique has an action affine in the
   rates and the aggregate, and the aggregate's own equation :math:`A = \sum_k m_k a_k` is
   substituted, so these agents form one exact quadratic whose first-order terms cancel where the
   welfare is flat (second order in the box there); agents with several possible types enter by
   intervals. The cell's bound is the smaller of the two, the box's the largest over its cells.

Measured (docs/principal.md): far from a certificate on wide boxes (ambiguous agents and the
welfare's own slope are first order in the box), so inside the branch and bound the bound tightens
slowly with time; it is valid at every moment, and for max-min welfare it passes below the first
best at n = 1000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps

from sedtheory.principal.regime_forms import CAP, INTERIOR, ZERO, RegimeModel, aggregate_cells

#: Cells of the aggregate per box at most (wide boxes get wider cells).
MAX_CELLS = 64

__all__ = ["AgentwiseBox", "agentwise_bound", "componentwise", "linear_bound", "payoff_ranges"]


@dataclass(frozen=True)
class AgentwiseBox:
    """The agentwise bound of one box of rates.

    Attributes
    ----------
    bound : float
        Upper bound on :math:`M_p` at every equilibrium of every rate vector in the box
        (``-inf`` when no cell of the aggregate can hold an equilibrium).
    side : int
        The side to split along (the widest: on wide boxes the agents with several possible
        types dominate the error, and every rate narrows their replies).
    cells : int
        Cells of the aggregate that can hold an equilibrium.
    """

    bound: float
    side: int
    cells: int


def _shares(x: np.ndarray, model: RegimeModel) -> np.ndarray:
    """Income of actions ``x`` (...) in every bracket (..., B)."""
    return np.clip(x[..., None] - model.tau, 0.0, model.bracket_widths)


def _harvest_range(lo: np.ndarray, hi: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest :math:`a - c a^2` over ``a`` in ``[lo, hi]`` (concave: the ends, and
    the clipped vertex)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.clip(np.where(cost > 0, 0.5 / np.where(cost > 0, cost, 1.0), np.inf), lo, hi)
    return np.minimum(lo - cost * lo * lo, hi - cost * hi * hi), vertex - cost * vertex * vertex


def _own_net_max(model: RegimeModel, lo: np.ndarray, hi: np.ndarray, rates: np.ndarray) -> np.ndarray:
    r"""Exact maximum of :math:`a - T(a) - a^2/(2\theta_j)` over ``a`` in ``[lo, hi]`` (C, n) at the
    rates ``rates`` (B,): a concave quadratic on every tax piece, maximised at its clipped
    vertex."""
    cost = model.cost[None, :, None]
    p_lo, p_hi = model.lo[None, None, :], model.hi[None, None, :]
    a_lo = np.maximum(lo[..., None], p_lo)
    a_hi = np.minimum(hi[..., None], p_hi)
    slope = 1.0 - rates[: model.lo.size]
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(cost > 0, slope / (2.0 * np.where(cost > 0, cost, 1.0)), np.inf)
    a = np.clip(vertex, a_lo, a_hi)
    below = np.where(
        np.arange(rates.size)[None, :] < np.arange(model.lo.size)[:, None], model.padded_widths, 0.0
    )
    base = below @ rates  # tax paid below each piece (P,)
    value = a - (base + rates[: model.lo.size] * (a - model.lo)) - cost * a * a
    value = np.where(a_lo <= a_hi, value, -np.inf)  # pieces that miss [lo, hi]
    return np.asarray(value.max(axis=2))


@dataclass(frozen=True)
class _Ranges:
    """Per cell of the aggregate: every agent's action range and the aggregate's ``(C, n)``/``(C,)``."""

    lo: np.ndarray
    hi: np.ndarray
    agg_lo: np.ndarray
    agg_hi: np.ndarray
    kind: np.ndarray  # the agent's only possible type in the cell, -1 if several (or mu = 0)

    @classmethod
    def of(cls, model: RegimeModel, cells: tuple[np.ndarray, ...]) -> _Ranges:
        bounds, feasible, x_lo, x_hi = cells
        lo = np.where(feasible, x_lo, np.inf).min(axis=2)
        hi = np.where(feasible, x_hi, -np.inf).max(axis=2)
        agg_lo = np.maximum(np.maximum(bounds[:, 0], lo @ model.mass), 0.0)
        kind = np.where(feasible.sum(axis=2) == 1, np.argmax(feasible, axis=2), -1)
        flat = (model.types[np.maximum(kind, 0), 0] == INTERIOR) & ~(model.mu > 0)
        kind = np.where(flat, -1, kind)
        return cls(lo, hi, agg_lo, np.minimum(bounds[:, 1], hi @ model.mass), kind)


def payoff_ranges(
    model: RegimeModel, centre: np.ndarray, half: np.ndarray, ranges: _Ranges
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of every own payoff in every cell ``(C, n)`` each."""
    lo, hi, agg_lo, agg_hi = ranges.lo, ranges.hi, ranges.agg_lo, ranges.agg_hi
    m, pop = model.mass, model.population
    r_lo, r_hi = centre - half, centre + half
    s_lo, s_hi = _shares(lo, model), _shares(hi, model)
    tax_hi = np.maximum(s_lo * r_hi, s_hi * r_hi).sum(axis=2)
    tax_lo = np.minimum(s_lo * r_lo, s_hi * r_lo).sum(axis=2)
    rev_hi, rev_lo = tax_hi @ m / pop, tax_lo @ m / pop
    dmg = model.kappa / (2.0 * pop)
    cost = model.cost[None, :]
    own_lo = _harvest_range(lo, hi, cost)[0] - tax_hi
    upper = model.omega + _own_net_max(model, lo, hi, r_lo) + rev_hi[:, None] - dmg * agg_lo[:, None] ** 2
    lower = model.omega + own_lo + rev_lo[:, None] - dmg * agg_hi[:, None] ** 2
    return lower, upper


def componentwise(top: np.ndarray, weights: np.ndarray, p: float) -> np.ndarray:
    """:math:`M_p` of the values' own upper bounds ``top`` (R, n), valid by monotonicity
    (``-inf`` where some value is non-positive on the whole box and ``p <= 0``)."""
    act = weights > 0
    t, w = top[:, act], weights[act] / weights[act].sum()
    out = np.full(top.shape[0], -math.inf)
    if p == math.inf:
        return np.asarray(t.max(axis=1))
    if p == -math.inf:
        return np.asarray(t.min(axis=1))
    if p <= 0:
        pos = np.all(t > 0, axis=1)
        tp = np.where(pos[:, None], t, 1.0)
        val = np.exp(np.log(tp) @ w) if p == 0 else (tp**p @ w) ** (1.0 / p)
        return np.where(pos, val, out)
    return np.asarray((np.maximum(t, 0.0) ** p @ w) ** (1.0 / p))


def _weighted(model: RegimeModel, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Upper bounds of the utilities ``W r`` (C, n) from bounds of the payoffs ``r``."""
    w = model.weights
    if sps.issparse(w):
        pos, neg = w.maximum(0.0), w.minimum(0.0)
        return np.asarray(pos @ upper.T + neg @ lower.T).T
    return np.asarray(upper @ np.maximum(w, 0.0).T + lower @ np.minimum(w, 0.0).T)


def _transposed(model: RegimeModel, lam: np.ndarray) -> np.ndarray:
    """``lam W`` for rows ``lam`` (C, n): the weight of every own payoff in ``lam . (W r)``."""
    w = model.weights
    return np.asarray((w.T @ lam.T).T) if sps.issparse(w) else np.asarray(lam @ w)


def _ambiguous(
    model: RegimeModel,
    w_hat: np.ndarray,
    kap: np.ndarray,
    ranges: _Ranges,
    centre: np.ndarray,
    half: np.ndarray,
) -> np.ndarray:
    """Interval bound of the agents whose type is not unique in a cell (``ranges.kind < 0``): each
    own part over its action range, the rates' part by interval products ``(C,)``."""
    amb = ranges.kind < 0
    lo, hi = ranges.lo, ranges.hi
    g_low, g_top = _harvest_range(lo, hi, model.cost)
    own = np.where(amb, np.where(w_hat >= 0, w_hat * g_top, w_hat * g_low), 0.0).sum(axis=1)
    k_amb = np.where(amb, kap, 0.0)[..., None]
    k_lo, k_hi = k_amb * _shares(lo, model), k_amb * _shares(hi, model)
    c_lo, c_hi = np.minimum(k_lo, k_hi).sum(axis=1), np.maximum(k_lo, k_hi).sum(axis=1)
    r_lo, r_hi = centre - half, centre + half
    tax = np.maximum(np.maximum(r_lo * c_lo, r_lo * c_hi), np.maximum(r_hi * c_lo, r_hi * c_hi)).sum(axis=1)
    return np.asarray(own + tax)


def _single_forms(
    model: RegimeModel, w_hat: np.ndarray, kap: np.ndarray, ranges: _Ranges, centre: np.ndarray
) -> tuple[np.ndarray, ...]:
    r"""The agents of a unique type, summed into one quadratic ``(c (C,), g (C, D), H (C, D, D))`` in
    ``z = (d, e)``: the rates' offset from the centre and the aggregate's from the cell's middle
    (``D = B + 1``). An interior agent's action is affine in ``z``
    (:math:`a = (\sigma - k\phi_b - cA)/\mu`), a kink, zero or cap agent's is fixed. Also their
    total, ``(s0 (C,), s1 (C, D))``."""
    n_rates = centre.size
    single = ranges.kind >= 0
    kind, piece = (model.types[np.where(single, ranges.kind, 0), j] for j in (0, 1))
    interior = single & (kind == INTERIOR)
    pos = model.mu > 0  # unique interior types have mu > 0 (ranges.kind)
    inv = np.where(pos, 1.0 / np.where(pos, model.mu, 1.0), 0.0)
    mid = 0.5 * (ranges.agg_lo + ranges.agg_hi)[:, None]
    fixed = np.where(kind == CAP, model.amax, np.where(kind == ZERO, 0.0, model.lo[piece]))
    a0 = np.where(interior, (model.sigma - model.k * centre[piece] - model.c * mid) * inv, fixed)
    onehot = np.eye(n_rates + 1)[piece]  # (C, n, D): the rate of the agent's piece
    a1 = np.where(interior[..., None], -(model.k * inv)[:, None] * onehot, 0.0)
    a1[..., n_rates] = np.where(interior, -model.c * inv, 0.0)
    w_s, k_s, cost = np.where(single, w_hat, 0.0), np.where(single, kap, 0.0), model.cost
    c = (w_s * (a0 - cost * a0 * a0)).sum(axis=1)
    g = np.einsum("cn,cnd->cd", w_s * (1.0 - 2.0 * cost * a0), a1)
    h = -2.0 * np.einsum("cn,cnd,cne->cde", w_s * cost, a1, a1)
    # the tax's rates part: kap [sum_{b' < b} phi_b' width_b' + phi_b (a - lo_b)]
    below = np.where(np.arange(n_rates) < piece[..., None], model.padded_widths, 0.0)  # (C, n, B)
    rest = a0 - model.lo[piece]
    c += (k_s * (below @ centre + centre[piece] * rest)).sum(axis=1)
    g[:, :n_rates] += np.einsum("cn,cnb->cb", k_s, below)
    g += np.einsum("cn,cnd->cd", k_s * rest, onehot) + np.einsum("cn,cnd->cd", k_s * centre[piece], a1)
    cross = np.einsum("cn,cnd,cne->cde", k_s, onehot, a1)
    m_s = np.where(single, model.mass, 0.0)
    return (
        c,
        g,
        h + cross + np.swapaxes(cross, 1, 2),
        (m_s * a0).sum(axis=1),
        np.einsum("cn,cnd->cd", m_s, a1),
    )


def _quad_upper(c: np.ndarray, g: np.ndarray, h: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Upper bound of ``c + g . z + z H z / 2`` over ``|z| <= half`` (rows: ``half`` (C, D)): the
    separable part exactly (a concave parabola at its clipped vertex), the off-diagonal terms by
    absolute values."""
    diag = np.diagonal(h, axis1=1, axis2=2)
    off = 0.5 * (np.einsum("cjk,cj,ck->c", np.abs(h), half, half) - (np.abs(diag) * half * half).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(diag < 0, np.clip(-g / np.where(diag < 0, diag, -1.0), -half, half), 0.0)
    ends = np.abs(g) * half + 0.5 * diag * half * half
    inner = g * vertex + 0.5 * diag * vertex * vertex
    return np.asarray(c + np.where(diag < 0, np.maximum(inner, ends), ends).sum(axis=1) + off)


def _eliminate(
    model: RegimeModel,
    forms: tuple[np.ndarray, ...],
    totals: tuple[np.ndarray, np.ndarray],
    mid: np.ndarray,
    ranges: _Ranges,
    half: np.ndarray,
) -> tuple[np.ndarray, ...]:
    r"""Substitute the aggregate's equation into the quadratic ``forms`` in ``z = (d, e)``.

    :math:`A = \text{mid} + e` equals the unique-type agents' total :math:`s_0 + s_1 \cdot z` plus
    the others' total :math:`t \in [t_{lo}, t_{hi}]`, so
    :math:`e = (s_0 - \text{mid} + s_1^d \cdot d + t)/(1 - s_1^e)`: the quadratic becomes one in
    ``y = (d, t - t_mid)`` (``z = z_0 + M y``) with the half-widths ``(half, (t_hi - t_lo)/2)``."""
    c, g, h = forms
    s0, s1 = totals
    n_rates = half.size
    m_amb = np.where(ranges.kind < 0, model.mass, 0.0)
    t_lo, t_hi = (m_amb * ranges.lo).sum(axis=1), (m_amb * ranges.hi).sum(axis=1)
    gamma = 1.0 - s1[:, n_rates]  # 1 + sum m c / mu > 0
    z0 = np.zeros_like(g)
    z0[:, n_rates] = (s0 - mid + 0.5 * (t_lo + t_hi)) / gamma
    lift = np.zeros_like(h)  # M (C, D, D)
    lift[:, np.arange(n_rates), np.arange(n_rates)] = 1.0
    lift[:, n_rates, :n_rates] = s1[:, :n_rates] / gamma[:, None]
    lift[:, n_rates, n_rates] = 1.0 / gamma
    hz = np.einsum("cde,ce->cd", h, z0)
    c2 = c + np.einsum("cd,cd->c", g, z0) + 0.5 * np.einsum("cd,cd->c", hz, z0)
    g2 = np.einsum("cdy,cd->cy", lift, g + hz)
    h2 = np.einsum("cdy,cde,cez->cyz", lift, h, lift)
    halves = np.concatenate([np.broadcast_to(half, (c.size, n_rates)), 0.5 * (t_hi - t_lo)[:, None]], axis=1)
    return c2, g2, h2, halves


def linear_bound(
    model: RegimeModel, lam: np.ndarray, of: str, ranges: _Ranges, centre: np.ndarray, half: np.ndarray
) -> np.ndarray:
    r"""Upper bound of :math:`\lambda \cdot u` over each cell ``(C,)`` for weights ``lam`` (C, n),


    With :math:`\hat w = \lambda W` (or :math:`\lambda` for payoffs) and
    :math:`\hat W = \sum_k \hat w_k`, the revenue redistributes what the taxes take:
    :math:`\lambda \cdot u = \hat W(\omega - \kappa A^2/(2N)) + \sum_k \hat w_k (a_k - a_k^2/(2\theta_k))
    + \sum_b \phi_b \sum_k (\hat W m_k / N - \hat w_k)\, s_b(a_k)`. Agents of a unique type in
    the cell enter as one exact quadratic in the rates and the aggregate (so their first-order
    terms cancel where the welfare is flat: the bound's error is second order in the box there);
    the others by intervals."""
    w_hat = _transposed(model, lam) if of == "utility" else lam
    total = w_hat.sum(axis=1)
    kap = total[:, None] * model.mass / model.population - w_hat
    c, g, h, s0, s1 = _single_forms(model, w_hat, kap, ranges, centre)
    mid = 0.5 * (ranges.agg_lo + ranges.agg_hi)
    dmg = model.kappa / (2.0 * model.population) * total
    n_rates = centre.size
    c = c + total * model.omega - dmg * mid * mid
    g[:, n_rates] -= 2.0 * dmg * mid
    h[:, n_rates, n_rates] -= 2.0 * dmg
    c, g, h, halves = _eliminate(model, (c, g, h), (s0, s1), mid, ranges, half)
    rest = _ambiguous(model, w_hat, kap, ranges, centre, half)
    bound = _quad_upper(c, g, h, halves) + rest
    return bound


def _gradient(values: np.ndarray, weights: np.ndarray, p: float) -> np.ndarray | None:
    r"""A supergradient of :math:`M_p` at positive ``values`` (C, n) for ``p <= 1`` (``None`` for
    ``p > 1``, where :math:`M_p` is convex): :math:`w_i (v_i / M_p)^{p-1}`, and for
    :math:`p = -\infty` the weight on the smallest value."""
    if p > 1:
        return None
    act = weights > 0
    w = np.where(act, weights / weights[act].sum(), 0.0)
    v = np.where(act, np.maximum(values, 1e-12), np.inf)
    if p == -math.inf:
        lam = np.zeros_like(values)
        lam[np.arange(values.shape[0]), np.argmin(v, axis=1)] = 1.0
        return lam
    vp = np.where(act, v, 1.0)
    m = np.exp(np.log(vp) @ w) if p == 0 else (vp**p @ w) ** (1.0 / p)
    return np.asarray(w * (vp / m[:, None]) ** (p - 1.0))


def agentwise_bound(
    model: RegimeModel,
    weights: np.ndarray,
    p: float,
    of: str,
    centre: np.ndarray,
    half: np.ndarray,
    cells: tuple[np.ndarray, ...] | None = None,
) -> AgentwiseBox:
    r"""Upper bound on :math:`M_p` at every equilibrium of every rate vector in ``centre +- half``,
    the agents' payoffs bounded one by one (see the module's notes).

    Parameters
    ----------
    model : RegimeModel
        The global commons (:meth:`RegimeModel.of`).
    weights : numpy.ndarray
        The objective's weights over agents (n,).
    p : float
    of : {"utility", "payoff"}
        Which values the objective takes.
    centre, half : numpy.ndarray
        The box ``(B,)``.
    cells : tuple, optional
        The box's :func:`~sedtheory.principal.regime_forms.aggregate_cells`, if already known.

    Returns
    -------
    AgentwiseBox

    Examples
    --------
    Two selfish agents, one bracket: the whole rate box [0, 1] is bounded above its optimum
    (11.6667 at the rate 2/3), and a small box around a poor rate far below it.

    >>> import numpy as np
    >>> from sedtheory import CommonsGame, PiecewiseLinearTax, Society
    >>> from sedtheory.principal.regime_forms import RegimeModel
    >>> game = CommonsGame(Society([1.0, 1.0], [10.0, 10.0]), PiecewiseLinearTax([0.0], [0.0]),
    ...                    damage=0.1, endowment=10.0, max_harvest=20.0)
    >>> model = RegimeModel.of(game, np.array([[0.0], [1.0]]))
    >>> w = np.full(2, 0.5)
    >>> whole = agentwise_bound(model, w, 1.0, "utility", np.array([0.5]), np.array([0.5]))
    >>> bool(whole.bound >= 11.6667)
    True
    >>> low = agentwise_bound(model, w, 1.0, "utility", np.array([0.05]), np.array([0.01]))
    >>> bool(11.0 < low.bound < 11.6)
    True
    """
    found = (
        aggregate_cells(model, centre, half, screen_all=False, max_cells=MAX_CELLS)
        if cells is None
        else cells
    )
    if found[0].shape[0] == 0:
        return AgentwiseBox(-math.inf, int(np.argmax(half)), 0)
    ranges = _Ranges.of(model, found)
    lower, upper = payoff_ranges(model, centre, half, ranges)
    values = _weighted(model, lower, upper) if of == "utility" else upper
    per_cell = componentwise(values, weights, p)
    lam = _gradient(values, weights, p)
    if lam is not None:  # M_p(u) <= lam . u (concave and 1-homogeneous, or the minimum)
        linear = linear_bound(model, lam, of, ranges, centre, half)
        per_cell = np.minimum(per_cell, linear)
    return AgentwiseBox(float(per_cell.max()), int(np.argmax(half)), int(per_cell.size))
