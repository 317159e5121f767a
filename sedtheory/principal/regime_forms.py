r"""The global commons' equilibria over a box of rates, regime by regime, as exact quadratics.

A **regime** says where each agent's action sits: stationary inside tax piece ``b`` (``INTERIOR``),
on the kink at the bottom of piece ``b`` (``KINK``), at 0 (``ZERO``) or at the cap ``a_max``
(``CAP``). Agent i's own problem is :math:`f_i(x) = \alpha_i x - k_i T(x) - \tfrac12\beta_i x^2`
with :math:`\alpha_i = \sigma_i - c_i(A - a_i)` (the game's kernel), so at an equilibrium its
derivative is :math:`g_i = \sigma_i - c_i A - k_i \phi_b - \mu_i a_i` with
:math:`\mu_i = \beta_i - c_i = \sigma_i/\theta_i`. Inside a regime every condition is linear in
:math:`(a, A, \phi)`: an interior agent has :math:`g_i = 0`, a kink agent the one-sided
derivatives :math:`g_i^- \ge 0 \ge g_i^+`, and :math:`A = \sum_i m_i a_i`. So the regime's
equilibrium is **affine in the rates** and every payoff and utility is an **exact quadratic** in
the rates (the tax is a rate times an affine action); nothing is linearised.

:func:`box_regimes` lists every regime that can hold an equilibrium somewhere in a box of rates
(a superset: a regime is dropped only when one of its conditions fails on the whole box, proven
by exact ranges of affine functions, or when some other harvest is strictly better for one of its
agents on the whole box, proven by a second-order bound). Equilibria with two or more agents of
:math:`\mu_i = 0` inside a piece form continua; games with such agents are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sps

from sedtheory.errors import CapabilityError
from sedtheory.games.commons.kernel import RatePieces, piece_search

__all__ = [
    "CAP",
    "INTERIOR",
    "KINK",
    "ZERO",
    "BoxRegimes",
    "RegimeModel",
    "aggregate_cells",
    "box_regimes",
    "curvature",
    "quad_max",
]

INTERIOR, KINK, ZERO, CAP = 0, 1, 2, 3

#: Largest number of regimes examined in one box; a box with more is split first.
MAX_REGIMES = 2048
#: Societies up to this size keep ``W`` dense in the model (else CSR).
DENSE_WEIGHTS = 2000
#: Refinements of the cells of the aggregate that locate a box's equilibrium totals.
CELL_ROUNDS = 7
#: The last rounds in which types that are never best replies in a cell are removed.
BEATEN_ROUNDS = 1


def mul(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> tuple[np.ndarray, ...]:
    """Product of affine forms ``a0 + a1 . d`` and ``b0 + b1 . d``: ``(c, g, H)``, ``c + g.d + dHd/2``."""
    h = a1[..., :, None] * b1[..., None, :]
    return a0 * b0, a0[..., None] * b1 + b0[..., None] * a1, h + np.swapaxes(h, -1, -2)


def curvature(h: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Upper bound of ``d H d / 2`` over ``|d_j| <= half_j``: the positive part of the diagonal
    and the absolute off-diagonal terms (``H`` (..., B, B))."""
    diag = np.diagonal(h, axis1=-2, axis2=-1)
    off = np.einsum("...jk,j,k->...", np.abs(h), half, half) - np.abs(diag) @ (half * half)
    return 0.5 * (np.maximum(diag, 0.0) @ (half * half) + off)


def quad_max(c: np.ndarray, g: np.ndarray, h: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Upper bound of ``c + g . d + d H d / 2`` over ``|d_j| <= half_j``: the better of the
    linear part's maximum plus :func:`curvature`, and the exact maximum of the separable part
    ``g_j d_j + H_jj d_j^2 / 2`` (a concave parabola is maximised at its clipped vertex) plus the
    off-diagonal terms. Both are exact when ``H`` is diagonal and, respectively, convex or concave."""
    diag = np.diagonal(h, axis1=-2, axis2=-1)
    off = 0.5 * (np.einsum("...jk,j,k->...", np.abs(h), half, half) - np.abs(diag) @ (half * half))
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(diag < 0, np.clip(-g / np.where(diag < 0, diag, -1.0), -half, half), 0.0)
    ends = np.abs(g) * half + 0.5 * diag * half * half
    inner = g * vertex + 0.5 * diag * vertex * vertex
    separable = np.where(diag < 0, np.maximum(inner, ends), ends).sum(axis=-1) + off
    linear = np.abs(g) @ half + curvature(h, half)
    return c + np.minimum(linear, separable)


@dataclass(frozen=True)
class RegimeModel:
    """The global commons game's numbers for the regime analysis (all from its kernel)."""

    n: int
    sigma: np.ndarray
    k: np.ndarray
    c: np.ndarray
    mu: np.ndarray
    beta: np.ndarray
    mass: np.ndarray
    population: float
    lo: np.ndarray  # pieces on [0, a_max] (P,)
    hi: np.ndarray
    widths: np.ndarray  # width of each piece (P,) (the last may be infinite)
    amax: float
    cap: np.ndarray  # every best reply lies in [0, cap_i]
    omega: float
    cost: np.ndarray  # 1/(2 theta_j)
    kappa: float
    weights: Any  # W (n, n): dense up to DENSE_WEIGHTS agents, else sparse CSR
    types: np.ndarray  # (T, 2): (kind, piece) of every candidate type
    tau: np.ndarray  # the tax's thresholds (B,)

    def weigh(self, values: np.ndarray) -> np.ndarray:
        """``W`` along the agent axis (1) of payoffs ``(R, n, ...)``: their utilities."""
        front = np.moveaxis(values, 1, 0)
        out = np.asarray(self.weights @ front.reshape(front.shape[0], -1))
        return np.moveaxis(out.reshape(front.shape), 0, 1)

    @cached_property
    def padded_widths(self) -> np.ndarray:
        """Widths of the pieces on ``[0, a_max]`` padded with 0 to one per rate (B,) (the last
        piece's, if infinite, also 0): the income taxed at each rate below a higher piece."""
        out = np.zeros(self.tau.size)
        out[: self.widths.size] = np.where(np.isfinite(self.widths), self.widths, 0.0)
        return out

    @cached_property
    def bracket_widths(self) -> np.ndarray:
        """Width of every bracket of the tax (B,), the top one infinite."""
        return np.append(np.diff(self.tau), np.inf)

    @classmethod
    def of(cls, game: Any, box: np.ndarray) -> RegimeModel:
        """Read a global commons game; a typed error where the analysis does not apply."""
        kernel = getattr(game, "kernel", None)
        if kernel is None or getattr(kernel, "local", 1) is not None:
            raise CapabilityError(
                "certify", "branch-and-bound", "the regime analysis is written for the global commons"
            )
        mu = np.asarray(kernel.beta - kernel.c, dtype=float)
        flat = (mu <= 0) & (np.asarray(kernel.c) <= 0)
        if np.any(flat) or int(np.sum(mu <= 0)) > 1:
            raise CapabilityError(
                "certify",
                "branch-and-bound",
                "agents without effort cost (theta = inf) have continua of equilibria; the regime analysis "
                "needs at most one of them",
            )
        amax = float(game.max_harvest)
        hi_rate = float(np.max(np.abs(np.asarray(box, float))))
        cap = kernel.reply_bound(max(hi_rate, 1.0), fallback=np.full(game.n, amax))
        if not np.all(np.isfinite(cap)):
            raise CapabilityError(
                "certify", "branch-and-bound", "unbounded replies: give a finite max_harvest"
            )
        top = float(min(amax, np.max(cap)))
        tau = np.asarray(kernel.thresholds, float)
        keep = tau < top
        lo = tau[keep]
        hi = np.append(tau[1:], np.inf)[keep]
        hi[-1] = min(hi[-1], top)
        kinds = [(INTERIOR, b) for b in range(lo.size)] + [(KINK, b) for b in range(1, lo.size)]
        kinds.append((ZERO, 0))
        if np.isfinite(amax) and amax <= top:
            kinds.append((CAP, lo.size - 1))
        mass = np.ones(game.n) if kernel.mass is None else np.asarray(kernel.mass, float)
        w = game.society.weights
        w = sps.csr_matrix(w, dtype=float)
        w = w.toarray() if game.n <= DENSE_WEIGHTS else w
        return cls(
            game.n, np.asarray(kernel.sigma, float), np.asarray(kernel.k, float), np.asarray(kernel.c, float),
            mu, np.asarray(kernel.beta, float), mass, float(kernel.population), lo, hi, hi - lo, amax, cap,
            float(kernel.omega), np.asarray(kernel.cost_weights, float), float(kernel.kappa), w,
            np.array(kinds, dtype=np.int64), tau,
        )  # fmt: skip


@dataclass(frozen=True)
class BoxRegimes:
    """The regimes of one box and their exact quadratic values ``c + g . d + d H d / 2`` in the
    offset ``d`` of the rates from the box's centre.

    Attributes
    ----------
    kinds, pieces : numpy.ndarray
        ``(R, n)``: each regime's type per agent.
    actions : tuple
        ``(a0 (R, n), a1 (R, n, B))``: the affine actions.
    payoffs, utilities : tuple
        ``(c (R, n), g (R, n, B), H (R, n, B, B))``.
    rows, limits : numpy.ndarray
        ``(R, K, B)`` and ``(R, K)``: linear conditions ``rows . d <= limits`` that every
        equilibrium of the regime in the box satisfies (its own linear conditions, and the
        second-order relaxation of "no other harvest is better").
    """

    kinds: np.ndarray
    pieces: np.ndarray
    actions: tuple[np.ndarray, np.ndarray]
    payoffs: tuple[np.ndarray, np.ndarray, np.ndarray]
    utilities: tuple[np.ndarray, np.ndarray, np.ndarray]
    rows: np.ndarray
    limits: np.ndarray


def _slopes(model: RegimeModel, centre: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per agent and type, the interval of the aggregate ``A`` where the type can be a local
    maximum for some rates in the box (from the linear conditions on ``g_i``): ``(lo, hi)`` (n, T)."""
    kind, piece = model.types[:, 0], model.types[:, 1]
    r_lo, r_hi = centre - half, centre + half
    sig, k, c, mu = (x[:, None] for x in (model.sigma, model.k, model.c, model.mu))
    # g at action x and rate phi is sig - c A - k phi - mu x; bounds of sig - k phi over the box:
    kr_lo = np.minimum(k * r_lo[piece], k * r_hi[piece])
    kr_hi = np.maximum(k * r_lo[piece], k * r_hi[piece])
    below = np.maximum(piece - 1, 0)
    kb_lo = np.minimum(k * r_lo[below], k * r_hi[below])
    at = np.where(kind == CAP, model.amax, model.lo[piece])
    top = np.where(kind == INTERIOR, model.hi[piece], at)
    # each condition reads A <= (sig - k phi - mu x)/c (g >= 0) or A >= ... (g <= 0)
    up_num = np.where(
        kind == INTERIOR,
        sig - kr_lo - mu * at,
        np.where(kind == KINK, sig - kb_lo - mu * at, sig - kr_lo - mu * at),
    )
    dn_num = np.where(kind == INTERIOR, sig - kr_hi - mu * np.minimum(top, 1e300), sig - kr_hi - mu * at)
    pos = c > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        a_hi = np.where(pos, up_num / np.where(pos, c, 1.0), np.where(up_num >= 0, np.inf, -np.inf))
        a_lo = np.where(pos, dn_num / np.where(pos, c, 1.0), np.where(dn_num <= 0, -np.inf, np.inf))
    a_hi = np.where(kind == ZERO, np.inf, a_hi)  # at 0 only g <= 0 is needed
    a_lo = np.where(kind == CAP, -np.inf, a_lo)  # at the cap only g >= 0
    return a_lo, a_hi


def _reply_range(
    model: RegimeModel, centre: np.ndarray, half: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Range of each type's action for ``A`` in each cell ``(C, 2)``: ``(lo, hi)`` (C, n, T)."""
    kind, piece = model.types[:, 0], model.types[:, 1]
    r_lo, r_hi = (centre - half)[piece], (centre + half)[piece]
    sig, k, c, mu = (x[:, None] for x in (model.sigma, model.k, model.c, model.mu))
    lo_p, hi_p = model.lo[piece], np.minimum(model.hi[piece], model.cap[:, None])
    fixed = np.where(kind == CAP, model.amax, np.where(kind == ZERO, 0.0, model.lo[piece]))
    pos = mu > 0
    inv = np.where(pos, 1.0 / np.where(pos, mu, 1.0), 0.0)
    num_hi = sig - np.minimum(k * r_lo, k * r_hi) - c * cells[:, 0, None, None]
    num_lo = sig - np.maximum(k * r_lo, k * r_hi) - c * cells[:, 1, None, None]
    x_lo = np.where(pos, np.clip(num_lo * inv, lo_p, hi_p), lo_p)
    x_hi = np.where(pos, np.clip(num_hi * inv, lo_p, hi_p), hi_p)
    interior = kind == INTERIOR
    return np.where(interior, x_lo, fixed), np.where(interior, x_hi, fixed)


def aggregate_cells(
    model: RegimeModel,
    centre: np.ndarray,
    half: np.ndarray,
    screen_all: bool = True,
    max_cells: int | None = None,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells of the aggregate that can hold an equilibrium total, per cell each agent's possible
    types and their action ranges: ``(cells (C, 2), feasible (C, n, T), lo, hi)``. Cheaper variants
    for large societies (the lists stay exhaustive): ``screen_all=False`` screens "never a best
    reply" only for agents with several types, ``max_cells`` stops halving before the cells pass
    it, ``start`` (a containing box's cells) is checked and halved once instead of refined."""
    a_lo, a_hi = _slopes(model, centre, half)
    total = float(model.mass @ np.minimum(model.cap, model.amax))
    if start is None:
        cells, rounds = np.linspace(0.0, total, 17), CELL_ROUNDS
        cells = np.stack([cells[:-1], cells[1:]], axis=1)
    else:
        cells, rounds = np.asarray(start, dtype=float).reshape(-1, 2), 2
    feasible = np.zeros((0, model.n, model.types.shape[0]), dtype=bool)
    slack = 1e-9 * max(1.0, total)
    for step in range(rounds):
        coarse = max_cells is not None and 2 * cells.shape[0] > max_cells
        if step and not coarse:
            mid = 0.5 * (cells[:, 0] + cells[:, 1])
            cells = np.concatenate([np.stack([cells[:, 0], mid], 1), np.stack([mid, cells[:, 1]], 1)])
        feasible = (a_lo[None] <= cells[:, 1, None, None] + slack) & (
            a_hi[None] >= cells[:, 0, None, None] - slack
        )
        x_lo, x_hi = _reply_range(model, centre, half, cells)
        if coarse or step >= rounds - BEATEN_ROUNDS:  # on fine cells, where it can decide
            idx = np.arange(model.n) if screen_all else np.flatnonzero((feasible.sum(axis=2) > 1).any(axis=0))
            if idx.size:
                feasible[:, idx] &= ~_beaten(model, centre, half, cells, x_lo[:, idx], x_hi[:, idx], idx)
        some: np.ndarray = np.any(feasible, axis=2)
        s_lo = np.where(feasible, x_lo, np.inf).min(axis=2) @ model.mass
        s_hi = np.where(feasible, x_hi, -np.inf).max(axis=2) @ model.mass
        keep = np.all(some, axis=1) & (s_lo <= cells[:, 1] + slack) & (s_hi >= cells[:, 0] - slack)
        cells, feasible, x_lo, x_hi = cells[keep], feasible[keep], x_lo[keep], x_hi[keep]
        if coarse or cells.shape[0] == 0:
            break
    return cells, feasible, x_lo, x_hi


def _beaten(
    model: RegimeModel,
    centre: np.ndarray,
    half: np.ndarray,
    cells: np.ndarray,
    x_lo: np.ndarray,
    x_hi: np.ndarray,
    idx: np.ndarray,
) -> np.ndarray:
    r"""Types that are not best replies anywhere in a cell of the aggregate and the box:
    ``(C, len(idx), T)`` for the agents ``idx``.

    At total ``A`` an agent playing ``x`` has intercept :math:`\alpha = \sigma - c(A - x)`;
    against a fixed competitor ``y`` (its best reply at the middle of the cell, of the type's
    action range and of the box) the gain :math:`D = f(y) - f(x)` is bounded below over the cell,
    the box and the type's action range ``[x_lo, x_hi]`` by its value at the middle minus its
    partial derivatives' bounds times the half-widths (mean-value theorem; for a fixed action the
    bound is the exact minimum, ``D`` being affine in ``A`` and the rates). A positive bound
    proves the type is never a best reply there.
    """
    piece = model.types[:, 1]
    a_mid, a_half = 0.5 * (x_lo + x_hi), 0.5 * (x_hi - x_lo)
    mid, a_rad = 0.5 * (cells[:, 0] + cells[:, 1]), 0.5 * (cells[:, 1] - cells[:, 0])
    sig, c, k, beta = (v[idx][None, :, None] for v in (model.sigma, model.c, model.k, model.beta))
    alpha = sig - c * (mid[:, None, None] - a_mid)
    pieces = RatePieces.of(model.tau, centre, model.amax)
    y, fy, _ = piece_search(
        alpha, model.beta[idx], model.k[idx], np.minimum(model.cap, model.amax)[idx], pieces
    )
    gain = fy - (
        alpha * a_mid - k * pieces.taxes(a_mid.reshape(-1)).reshape(a_mid.shape) - 0.5 * beta * a_mid * a_mid
    )
    widths = model.bracket_widths
    share_y = np.clip(y[..., None] - model.tau, 0.0, widths)  # (C, n, T, B)
    sx_lo = np.clip(x_lo[..., None] - model.tau, 0.0, widths)
    sx_hi = np.clip(x_hi[..., None] - model.tau, 0.0, widths)
    d_rate = np.abs(k[..., None]) * np.maximum(np.abs(share_y - sx_lo), np.abs(share_y - sx_hi))
    d_agg = c * np.maximum(np.abs(y - x_lo), np.abs(y - x_hi))
    # dD/dx = -sigma + c A + c y + k phi_b + (beta - 2c) x, bounded termwise over the ranges
    r_lo, r_hi = (centre - half)[piece], (centre + half)[piece]
    kr = np.stack([k * r_lo, k * r_hi])
    bx = np.stack([(beta - 2 * c) * x_lo, (beta - 2 * c) * x_hi])
    base = -sig + c * y
    top = base + c * cells[:, 1, None, None] + kr.max(axis=0) + bx.max(axis=0)
    bottom = base + c * cells[:, 0, None, None] + kr.min(axis=0) + bx.min(axis=0)
    d_own = np.maximum(np.abs(top), np.abs(bottom))
    low = gain - d_agg * a_rad[:, None, None] - d_own * a_half - d_rate @ half
    return np.asarray(low > 1e-9 * np.maximum(1.0, np.abs(gain)))


def _combinations(
    cells: np.ndarray, feasible: np.ndarray, x_lo: np.ndarray, x_hi: np.ndarray, mass: np.ndarray
) -> np.ndarray | None:
    """Distinct type combinations ``(R, n)`` whose actions can sum into their cell, built agent by
    agent with the partial sums pruned against the rest's range; ``None`` beyond
    :data:`MAX_REGIMES` (the box is then split first)."""
    n_cells, n = feasible.shape[:2]
    lo_t = np.where(feasible, x_lo, np.inf).min(axis=2) * mass
    hi_t = np.where(feasible, x_hi, -np.inf).max(axis=2) * mass
    rest_lo = np.concatenate(
        [np.cumsum(lo_t[:, ::-1], axis=1)[:, ::-1][:, 1:], np.zeros((n_cells, 1))], axis=1
    )
    rest_hi = np.concatenate(
        [np.cumsum(hi_t[:, ::-1], axis=1)[:, ::-1][:, 1:], np.zeros((n_cells, 1))], axis=1
    )
    slack = 1e-9 * max(1.0, float(np.max(cells, initial=0.0)))
    cell = np.arange(n_cells)
    s_lo, s_hi = np.zeros(n_cells), np.zeros(n_cells)
    chosen = np.zeros((n_cells, 0), dtype=np.int64)
    for i in range(n):
        kk, tt = np.nonzero(feasible[cell, i, :])
        cell = cell[kk]
        s_lo = s_lo[kk] + mass[i] * x_lo[cell, i, tt]
        s_hi = s_hi[kk] + mass[i] * x_hi[cell, i, tt]
        ok = (s_lo + rest_lo[cell, i] <= cells[cell, 1] + slack) & (
            s_hi + rest_hi[cell, i] >= cells[cell, 0] - slack
        )
        cell, s_lo, s_hi = cell[ok], s_lo[ok], s_hi[ok]
        chosen = np.concatenate([chosen[kk][ok], tt[ok, None]], axis=1)
        if chosen.shape[0] > 16 * MAX_REGIMES:
            return None
    return _distinct(chosen, feasible.shape[2])


def _distinct(chosen: np.ndarray, n_types: int) -> np.ndarray | None:
    """The distinct rows of ``chosen`` (each row a number in base ``n_types`` when it fits)."""
    if chosen.shape[1] * np.log2(max(n_types, 2)) < 62:
        key = chosen @ (n_types ** np.arange(chosen.shape[1], dtype=np.int64))
        _, first = np.unique(key, return_index=True)
        combos = chosen[np.sort(first)]
    else:
        combos = np.unique(chosen, axis=0)
    return None if combos.shape[0] > MAX_REGIMES else combos


def _affine_actions(
    model: RegimeModel, kinds: np.ndarray, pieces: np.ndarray, centre: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Each regime's equilibrium, affine in the offset ``d``: ``(a0, a1, A0, A1)``."""
    n_rates = centre.size
    onehot = np.eye(n_rates)[pieces]  # (R, n, B)
    rate0 = centre[pieces]
    pos = (kinds == INTERIOR) & (model.mu > 0)
    zero_mu = (kinds == INTERIOR) & ~(model.mu > 0)
    fixed = ~(kinds == INTERIOR)
    x_fixed = np.where(kinds == CAP, model.amax, np.where(kinds == ZERO, 0.0, model.lo[pieces]))
    inv = np.where(pos, 1.0 / np.where(model.mu > 0, model.mu, 1.0), 0.0)
    m = model.mass
    num0 = (m * inv * (model.sigma - model.k * rate0)).sum(1) + (m * np.where(fixed, x_fixed, 0.0)).sum(1)
    num1 = np.einsum("rn,rnb->rb", -m * inv * model.k, onehot)
    den = 1.0 + (m * inv * model.c).sum(1)
    agg0, agg1 = num0 / den, num1 / den[:, None]
    has_z = zero_mu.any(axis=1)
    if has_z.any():
        z = np.argmax(zero_mu, axis=1)
        rows = np.flatnonzero(has_z)
        zz = z[rows]
        cz = model.c[zz]
        agg0[rows] = (model.sigma[zz] - model.k[zz] * rate0[rows, zz]) / cz
        agg1[rows] = -(model.k[zz] / cz)[:, None] * onehot[rows, zz]
    a0 = np.where(
        pos, inv * (model.sigma - model.k * rate0 - model.c * agg0[:, None]), np.where(fixed, x_fixed, 0.0)
    )
    a1 = np.where(
        pos[..., None],
        inv[..., None] * (-model.k[:, None] * onehot - model.c[:, None] * agg1[:, None, :]),
        0.0,
    )
    if has_z.any():
        rows = np.flatnonzero(has_z)
        zz = z[rows]
        others0 = (m * a0)[rows].sum(1) - m[zz] * a0[rows, zz]
        others1 = np.einsum("n,rnb->rb", m, a1[rows]) - m[zz, None] * a1[rows, zz]
        a0[rows, zz] = (agg0[rows] - others0) / m[zz]
        a1[rows, zz] = (agg1[rows] - others1) / m[zz, None]
    return a0, a1, agg0, agg1


def _tax_forms(
    model: RegimeModel, pieces: np.ndarray, centre: np.ndarray, a0: np.ndarray, a1: np.ndarray
) -> tuple[np.ndarray, ...]:
    """``T(a_j)`` with ``a_j`` on its regime's piece, as a quadratic in ``d``."""
    n_rates = centre.size
    below = np.arange(n_rates)[None, None, :] < pieces[..., None]
    base1 = np.where(below, model.padded_widths, 0.0)
    base0 = base1 @ centre
    rc, rg, rh = mul(centre[pieces], np.eye(n_rates)[pieces], a0 - model.lo[pieces], a1)
    return base0 + rc, base1 + rg, rh


def _payoff_forms(
    model: RegimeModel, pieces: np.ndarray, centre: np.ndarray, forms: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Own payoffs ``r_j`` of each regime as quadratics in ``d`` (the kernel's formula)."""
    a0, a1, agg0, agg1 = forms
    t0, t1, t2 = _tax_forms(model, pieces, centre, a0, a1)
    m, pop = model.mass, model.population
    rev0, rev1, rev2 = (
        t0 @ m / pop,
        np.einsum("n,rnb->rb", m, t1) / pop,
        np.einsum("n,rnbc->rbc", m, t2) / pop,
    )
    s0, s1, s2 = mul(a0, a1, a0, a1)
    d0, d1, d2 = mul(agg0, agg1, agg0, agg1)
    dmg = model.kappa / (2.0 * pop)
    cst = model.cost[None, :]
    r0 = model.omega + a0 - t0 + rev0[:, None] - cst * s0 - dmg * d0[:, None]
    r1 = a1 - t1 + rev1[:, None] - cst[..., None] * s1 - dmg * d1[:, None]
    r2 = -t2 + rev2[:, None] - cst[..., None, None] * s2 - dmg * d2[:, None]
    return r0, r1, r2


def _local_conditions(
    model: RegimeModel,
    kinds: np.ndarray,
    pieces: np.ndarray,
    centre: np.ndarray,
    forms: tuple[np.ndarray, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """The regime's linear conditions ``e0 + e1 . d >= 0``: ``(e0 (R, n, 2), e1 (R, n, 2, B))``."""
    a0, a1, agg0, agg1 = forms
    n_rates = centre.size
    eye = np.eye(n_rates)
    below = np.maximum(pieces - 1, 0)

    def slope(at: np.ndarray, piece: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # g_i at action ``at``
        g0 = model.sigma - model.c * agg0[:, None] - model.k * centre[piece] - model.mu * at
        g1 = -model.c[:, None] * agg1[:, None, :] - model.k[:, None] * eye[piece]
        return g0, g1

    hi = np.minimum(model.hi[pieces], 1e300)
    interior = kinds == INTERIOR
    x_fix = np.where(kinds == CAP, model.amax, model.lo[pieces])
    left0, left1 = slope(x_fix, below)
    right0, right1 = slope(x_fix, pieces)
    first0 = np.where(
        interior, a0 - model.lo[pieces], np.where(kinds == CAP, right0, np.where(kinds == KINK, left0, 1.0))
    )
    first1 = np.where(
        interior[..., None],
        a1,
        np.where((kinds == CAP)[..., None], right1, np.where((kinds == KINK)[..., None], left1, 0.0)),
    )
    second0 = np.where(interior, hi - a0, np.where(kinds == CAP, 1.0, -right0))
    second1 = np.where(interior[..., None], -a1, np.where((kinds == CAP)[..., None], 0.0, -right1))
    return np.stack([first0, second0], axis=2), np.stack([first1, second1], axis=2)


def _dominated(
    model: RegimeModel,
    pieces: np.ndarray,
    centre: np.ndarray,
    half: np.ndarray,
    forms: tuple[np.ndarray, ...],
    tax: tuple[np.ndarray, ...],
    tol: float,
) -> tuple[np.ndarray, ...]:
    r"""Regimes ``(R,)`` in which some agent strictly prefers another harvest on the whole box.

    The competitor in each piece c is the piece's maximiser at the box's centre, held fixed
    (``y_c``); :math:`f_i(y_c) - f_i(a_i)` is a quadratic in the rates (the intercept and the
    action are affine), and it is bounded below by its second-order bound. As the box shrinks
    the fixed competitor loses only second-order value against the moving maximiser.
    """
    a0, a1, agg0, agg1 = forms
    t0, t1, t2 = tax
    n_rates = centre.size
    al0 = model.sigma - model.c * (agg0[:, None] - a0)  # intercept (R, n)
    al1 = -model.c[:, None] * (agg1[:, None, :] - a1)
    n_p = model.lo.size
    widths = model.padded_widths
    lo_c = model.lo[None, None, :]
    hi_c = np.minimum(model.hi[None, None, :], model.cap[None, :, None])
    y = np.clip(
        (al0[..., None] - model.k[None, :, None] * centre[None, None, :n_p]) / model.beta[None, :, None],
        lo_c,
        hi_c,
    )
    y = np.where(lo_c <= model.cap[None, :, None], y, lo_c)  # pieces beyond the cap: their bottom
    base1 = np.where(np.arange(n_rates)[None, :] < np.arange(n_p)[:, None], widths, 0.0)  # (P, B)
    ty0 = base1 @ centre + centre[:n_p] * (y - model.lo)  # T_c(y) at the centre (R, n, P)
    ty1 = base1[None, None] + (y - model.lo)[..., None] * np.eye(n_rates)[:n_p][None, None]
    aa0, aa1, aa2 = mul(al0, al1, a0, a1)
    sq0, sq1, sq2 = mul(a0, a1, a0, a1)
    k, beta = model.k[None, :, None], model.beta[None, :, None]
    d0 = (
        al0[..., None] * y
        - aa0[..., None]
        - k * (ty0 - t0[..., None])
        - 0.5 * beta * (y * y - sq0[..., None])
    )
    d1 = (
        al1[:, :, None, :] * y[..., None]
        - aa1[:, :, None, :]
        - k[..., None] * (ty1 - t1[:, :, None, :])
        + 0.5 * beta[..., None] * sq1[:, :, None, :]
    )
    d2 = (
        -aa2[:, :, None] + k[..., None, None] * t2[:, :, None] + 0.5 * beta[..., None, None] * sq2[:, :, None]
    )
    curv = curvature(-d2, half)  # bounds -d H d / 2
    low = -quad_max(-d0, -d1, -d2, half)
    scale = tol * np.maximum(1.0, np.abs(d0))
    r = d0.shape[0]
    # at an equilibrium of the regime f_i(y_c) - f_i(a_i) <= 0, so d0 + d1 . d - curv <= 0
    return np.any(low > scale, axis=(1, 2)), d1.reshape(r, -1, n_rates), (curv + scale - d0).reshape(r, -1)


def box_regimes(
    model: RegimeModel,
    centre: np.ndarray,
    half: np.ndarray,
    tol: float = 1e-9,
    cells: tuple[np.ndarray, ...] | None = None,
) -> BoxRegimes | None:
    """Every regime that can hold an equilibrium for some rates in the box ``centre +- half``,
    with its exact quadratic payoffs and utilities; ``None`` when there are more than
    :data:`MAX_REGIMES` candidates (split the box first). An empty result proves that no rate in
    the box has an equilibrium (impossible for a whole box; it happens for parts of it only when
    numerical slack is exceeded). ``cells``: the box's :func:`aggregate_cells`, if already known."""
    found = aggregate_cells(model, centre, half) if cells is None else cells
    cells_, feasible, x_lo, x_hi = found
    combos = _combinations(cells_, feasible, x_lo, x_hi, model.mass)
    if combos is None:
        return None
    kinds, pieces = model.types[combos, 0], model.types[combos, 1]
    forms = _affine_actions(model, kinds, pieces, centre)
    e0, e1 = _local_conditions(model, kinds, pieces, centre, forms)
    reach = e0 + np.abs(e1) @ half
    ok = ~np.any(reach < -tol * np.maximum(1.0, np.abs(e0)), axis=(1, 2))
    tax = _tax_forms(model, pieces, centre, forms[0], forms[1])
    beaten, d_rows, d_lim = _dominated(model, pieces, centre, half, forms, tax, tol)
    keep = ok & ~beaten
    kinds, pieces = kinds[keep], pieces[keep]
    forms = tuple(f[keep] for f in forms)
    r = kinds.shape[0]
    rows = np.concatenate([-e1[keep].reshape(r, -1, centre.size), d_rows[keep]], axis=1)
    limits = np.concatenate(
        [(e0 + tol * np.maximum(1.0, np.abs(e0)))[keep].reshape(r, -1), d_lim[keep]], axis=1
    )
    pay = _payoff_forms(model, pieces, centre, forms)
    util = (model.weigh(pay[0]), model.weigh(pay[1]), model.weigh(pay[2]))
    return BoxRegimes(kinds, pieces, (forms[0], forms[1]), pay, util, rows, limits)
