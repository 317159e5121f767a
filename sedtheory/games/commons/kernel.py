r"""The commons game's one vectorised kernel: every formula of the model, written once.

Agent i's utility as a function of its own action ``x`` (others fixed) is, up to a constant,

.. math:: f_i(x; \alpha_i) = \alpha_i x - k_i T(x) - \tfrac12 \beta_i x^2,

with :math:`k_i = \sigma_i - s_i/N` (:math:`N = \sum_i m_i`, the population: ``n`` without
masses), :math:`\beta_i = \sigma_i/\theta_i + c_i` and the reply intercept
:math:`\alpha_i(a_{-i})` affine in the others' actions. :class:`CommonsKernel`
evaluates the tax, own payoffs, utilities, intercepts, :math:`f_i`, exact best replies (the
best clipped stationary point over at most ``B`` pieces, never a grid) and deviation gains for
one profile ``(n,)`` or a batch ``(m, n)``, under the game's rates or one rate vector per row
``(m, B)``. The game, the equilibrium solvers (single and batched), the principal and the
learners all call it; the sympy and cvxpy models read its coefficients.

References
----------
.. [1] J. B. Rosen, "Existence and uniqueness of equilibrium points for concave n-person games",
   *Econometrica* 33 (1965) 520-534.
.. [2] M. K. Jensen, "Aggregative games and best-reply potentials", *Economic Theory* 43 (2010)
   45-66.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sps

from sedtheory.errors import InvalidParameterError
from sedtheory.games.commons import formulas as F
from sedtheory.taxes import RatePieces

__all__ = ["CommonsKernel", "RatePieces", "deviation_gain", "piece_search"]


#: Pieces from which :meth:`CommonsKernel.consistent_best` screens candidates (measured: slower
#: than the full check at 3 pieces, three times faster at 7).
SCREEN_PIECES = 5


def _agent_shape(alpha: np.ndarray) -> tuple[int, ...]:
    """How per-agent vectors broadcast against ``alpha``: ``(n,)`` or ``(1, n, 1, ...)``."""
    return (-1,) if alpha.ndim == 1 else (1, -1) + (1,) * (alpha.ndim - 2)


def piece_search(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: np.ndarray,
    upper: np.ndarray,
    pieces: RatePieces,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact maximiser, maximum and piece of ``f_i(.; alpha_i)`` on ``[0, upper_i]``.

    ``alpha`` is ``(n,)`` (one profile, shared rates) or ``(m, n, ...)`` (rows of policies with
    per-row rates ``pieces.rate`` of shape ``(m, P)``; trailing axes broadcast). Ties between
    pieces go to the lower piece; where ``f_i`` is flat on a piece the smaller end is taken.
    Pieces that start at or beyond ``upper_i`` are skipped.
    """
    shape = _agent_shape(alpha)
    beta_, k_, up = beta.reshape(shape), k.reshape(shape), upper.reshape(shape)
    pos = beta_ > 0
    all_pos = bool(pos.all())
    with np.errstate(divide="ignore"):
        inv_b = 1.0 / beta_ if all_pos else np.where(pos, 1.0 / np.where(pos, beta_, 1.0), 0.0)
    per_row = pieces.rate.ndim == 2
    row_shape = (-1,) + (1,) * (alpha.ndim - 1)
    best_x = np.zeros(alpha.shape)
    best_v = np.full(alpha.shape, -np.inf)
    best_i = np.zeros(alpha.shape, dtype=np.int64)
    for b in range(pieces.lo.size):
        rate = pieces.rate[:, b].reshape(row_shape) if per_row else pieces.rate[b]
        base = pieces.base[:, b].reshape(row_shape) if per_row else pieces.base[b]
        lo_b = np.minimum(pieces.lo[b], up)
        hi_b = np.minimum(pieces.hi[b], up)
        lin = alpha - k_ * rate
        stat = lin * inv_b if all_pos else np.where(pos, lin * inv_b, np.where(lin > 0, np.inf, -np.inf))
        x = np.minimum(np.maximum(stat, lo_b), hi_b)
        v = alpha * x - k_ * (base + rate * (x - pieces.lo[b])) - 0.5 * beta_ * x * x
        if b > 0:
            skipped = ~(pieces.lo[b] < up)
            if skipped.any():  # (numpy's where costs a pass even when nothing is skipped)
                v = np.where(skipped, -np.inf, v)
        better = v > best_v
        best_x = np.where(better, x, best_x)
        best_v = np.where(better, v, best_v)
        best_i = np.where(better, b, best_i)
    return best_x, best_v, best_i


def deviation_gain(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: np.ndarray,
    x_from: np.ndarray,
    x_to: np.ndarray,
    t_from: np.ndarray,
    t_to: np.ndarray,
) -> np.ndarray:
    """``f_i(x_to) - f_i(x_from)`` in the cancellation-free factored form (``t = T(x)``)."""
    d = x_to - x_from
    return d * (alpha - 0.5 * beta * (x_to + x_from)) - k * (t_to - t_from)


class CommonsKernel:
    r"""Coefficients and vectorised formulas of one commons game (any graph, any rates).

    Parameters
    ----------
    sigma, theta, s : numpy.ndarray
        Selfishness, productivity and weight sums :math:`s_i = \sum_j W_{ij}`.
    apply_weights : callable
        ``values -> W values`` along the last axis (the society's sparse weights).
    thresholds : numpy.ndarray
        The tax thresholds (shared by every policy the kernel evaluates).
    damage, endowment, max_harvest : float
        :math:`\kappa`, :math:`\omega`, :math:`a_{max}`.
    local : tuple, optional
        ``(W, Q, d)`` of the local commons (weights, closed neighbourhoods, their sizes);
        ``None`` for the global commons.
    masses : numpy.ndarray, optional
        Population masses :math:`m_i` (global commons only); ``None`` means every mass is 1.
        Aggregates and revenue are then mass-weighted sums, the lump sum and the damage are
        shared by :math:`N = \sum_i m_i` members, and a member's intercept discounts only its
        own action: :math:`\alpha_i = \sigma_i - c_i (A - a_i)`.
    """

    def __init__(
        self,
        sigma: np.ndarray,
        theta: np.ndarray,
        s: np.ndarray,
        apply_weights: object,
        thresholds: np.ndarray,
        damage: float,
        endowment: float,
        max_harvest: float,
        local: tuple[sps.csr_matrix, sps.csr_matrix, np.ndarray] | None = None,
        masses: np.ndarray | None = None,
    ) -> None:
        n = sigma.size
        self.n = n
        #: Masses (``None`` when all are 1, so that unweighted sums stay plain sums).
        self.mass = None if masses is None or np.all(masses == 1.0) else masses
        #: N: the number of members (n without masses).
        self.population = float(n) if self.mass is None else float(self.mass.sum())
        population = self.population
        self.sigma, self.theta, self.s = sigma, theta, s
        self.apply_weights = apply_weights
        self.thresholds = thresholds
        self.kappa, self.omega, self.amax = damage, endowment, max_harvest
        self.local = local
        self.k = F.own_tax_weight(sigma, s, population)
        if local is None:
            self.d = np.full(n, population)
            self.c = F.global_damage_curvature(s, damage, population)
        else:
            w, _, d = local
            self.d = d
            self.c = damage * np.asarray(w @ (1.0 / d), dtype=float).reshape(-1)
        self.beta = F.own_curvature(sigma / theta, self.c)
        #: 1/(2 theta_i) (0 without effort cost) and kappa/(2 |N[j]|): the coefficients of the
        #: effort cost and the damage, shared with the convex programs.
        self.cost_weights = 0.5 / theta
        self.damage_weights = damage / (2.0 * self.d)
        for arr in (self.k, self.c, self.beta, self.d, self.cost_weights, self.damage_weights):
            arr.setflags(write=False)

    def restrict(self, agents: np.ndarray) -> CommonsKernel:
        """The own-action coefficients of the agents ``agents`` (an index array) of a global commons.

        A copy whose per-agent arrays are those agents' while the population, damage, endowment and
        thresholds stay the game's, so its replies to an aggregate are those agents' replies in the
        whole game (the others enter only through the aggregate). Utilities need the whole society:
        ``apply_weights`` is not available on it.
        """
        if self.local is not None:
            raise InvalidParameterError("kernel", "local commons", "restrict() needs the global commons")
        sub = copy.copy(self)
        for name in ("sigma", "theta", "s", "k", "c", "beta", "d", "cost_weights", "damage_weights"):
            setattr(sub, name, getattr(self, name)[agents])
        sub.mass = None if self.mass is None else self.mass[agents]
        sub.n = int(agents.size)
        sub.apply_weights = None
        return sub

    # ------------------------------------------------------------ tax
    def pieces(self, rates: np.ndarray) -> RatePieces:
        """The tax's pieces under ``rates`` ``(B,)`` or one rate vector per row ``(m, B)``."""
        return RatePieces.of(self.thresholds, np.asarray(rates, dtype=float), self.amax)

    def rate_shares(self, x: np.ndarray) -> np.ndarray:
        """``ell[..., b]``: the part of income ``x`` taxed in bracket b, so ``T(x) = ell @ rates``
        (the tax's derivative in the rates: utilities are affine in the rates at a fixed profile)."""
        widths = np.append(np.diff(self.thresholds), np.inf)
        return np.clip(x[..., None] - self.thresholds, 0.0, widths)

    def taxes(self, x: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """``T(x)`` elementwise; ``rates`` ``(B,)`` shared or ``(m, B)`` for ``x`` of shape ``(m, n)``."""
        return self.pieces(rates).taxes(x)

    # ------------------------------------------------------------ payoffs
    def total(self, a: np.ndarray) -> np.ndarray:
        """``sum_i m_i a_i`` along the last axis (a plain sum without masses)."""
        return a.sum(axis=-1) if self.mass is None else a @ self.mass

    def aggregates(self, a: np.ndarray) -> np.ndarray:
        """``S_j``: the commons aggregate each agent's damage depends on (global: ``A``)."""
        if self.local is None:
            return np.broadcast_to(self.total(a)[..., None], a.shape)
        q = self.local[1]
        return np.asarray(q @ a) if a.ndim == 1 else np.asarray((q @ a.T).T)

    def damages(self, a: np.ndarray) -> np.ndarray:
        """Each agent's share of the commons damage, ``kappa S_j^2 / (2 |N[j]|)``."""
        agg = self.aggregates(a)
        return self.kappa * agg * agg / (2.0 * self.d)

    def plan_payoffs(self, a: np.ndarray, transfers: np.ndarray) -> np.ndarray:
        r"""Own payoffs :math:`r_j = \omega + a_j + t_j - C_j(a_j) - \mathrm{damage}_j` of actions and
        transfers (the planner's plan; a tax is the transfer :math:`-T(a_j) + R/n`)."""
        cost = F.effort_cost(a, self.cost_weights)
        return F.payoff(self.omega, a, transfers, cost, self.damages(a))

    def payoffs(self, a: np.ndarray, rates: np.ndarray) -> np.ndarray:
        r"""Own payoffs :math:`r_j = \omega + a_j - T(a_j) + R/n - a_j^2/(2\theta_j) - \mathrm{damage}_j`."""
        t = self.taxes(a, rates)
        lump = self.total(t)[..., None] / self.population
        return self.plan_payoffs(a, F.tax_transfer(t, lump))

    def utilities(self, a: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """``u = W r`` along the last axis."""
        return self.apply_weights(self.payoffs(a, rates))  # type: ignore[operator]

    # ------------------------------------------------------------ own-action problem
    def intercepts(self, a: np.ndarray) -> np.ndarray:
        r""":math:`\alpha_i(a_{-i})` for a profile ``(n,)`` or every row of a batch ``(m, n)``."""
        if self.local is None:
            agg = self.total(a)
            return self.sigma - self.c * ((agg[..., None] if a.ndim > 1 else agg) - a)
        w, q, d = self.local
        if a.ndim == 1:
            pressure = np.asarray(w @ ((q @ a) / d))
        else:
            pressure = np.asarray(w @ (np.asarray(q @ a.T) / d[:, None])).T
        return self.sigma - self.kappa * pressure + self.c * a

    def own(self, x: np.ndarray, alpha: np.ndarray, taxes: np.ndarray) -> np.ndarray:
        """``f_i(x; alpha_i)`` given ``T(x)`` (agents on axis 0 of 1-D, axis 1 otherwise)."""
        shape = _agent_shape(alpha)
        return F.own_objective(x, alpha, self.k.reshape(shape), taxes, self.beta.reshape(shape))

    def replies(
        self, alpha: np.ndarray, pieces: RatePieces, upper: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact best replies ``(x, f_i(x), piece)`` to intercepts ``alpha`` (see :func:`piece_search`)."""
        return piece_search(alpha, self.beta, self.k, upper, pieces)

    def best_values(
        self, alpha: np.ndarray, rows: np.ndarray, agents: np.ndarray, pieces: RatePieces, upper: np.ndarray
    ) -> np.ndarray:
        """``max_x f_i(x; alpha)`` for scattered entries: intercepts ``alpha`` (K,) of agents
        ``agents`` (K,) under the rates of ``rows`` (K,) of ``pieces`` (per-row rates) - the
        maxima of :meth:`replies` without the full ``(rows, agents)`` block (one
        :func:`piece_search` per distinct row)."""
        out = np.empty(alpha.shape)
        order = np.argsort(rows, kind="stable")
        cuts = np.flatnonzero(np.diff(rows[order])) + 1
        for part in np.split(order, cuts):
            if part.size == 0:
                continue
            ag = agents[part]
            pc = pieces.subset(rows[part[:1]])
            out[part] = piece_search(alpha[part][None, :], self.beta[ag], self.k[ag], upper[ag], pc)[1][0]
        return out

    def consistent_best(
        self,
        x: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        alpha: np.ndarray,
        scale: np.ndarray,
        exists: np.ndarray,
        pieces: RatePieces,
        upper: np.ndarray,
    ) -> np.ndarray:
        r"""``max_y f_i(y; alpha)`` for the candidates ``x`` (rows, n, P) of the pieces ``[lo, hi]``
        that can be best replies, ``inf`` for the others (they fail any test against it).

        A screen in O(1) per candidate comes first: a candidate at the bottom (top) of its piece
        is a local maximum only if the piece below (above) ends at the same point, i.e. that
        piece's consistent point sits at its end; a miss by more than
        :math:`\sqrt{2\,\mathrm{scale}/\mu_i}` in the action loses more than ``scale`` there
        (:math:`\mu_i = \sigma_i/\theta_i`, the curvature of the consistent problem). Only the
        survivors, about one per agent instead of ``P``, get the global maximum over every piece.
        With fewer than :data:`SCREEN_PIECES` pieces the full maximum (``P^2`` per agent) is
        cheaper than the screen's gathers and is taken for every candidate.
        """
        if pieces.lo.size < SCREEN_PIECES:
            return self.replies(alpha, pieces, upper)[1]
        slack = np.multiply(scale, 2.0)
        with np.errstate(divide="ignore"):
            slack /= (self.beta - self.c)[None, :, None]
        np.sqrt(slack, out=slack)
        # short of the piece below's top (above's bottom) by more than the slack: not a local max
        short = np.empty_like(x)
        short[..., 0] = -np.inf
        np.subtract(hi[..., :-1], x[..., :-1], out=short[..., 1:])
        local = short <= slack
        local |= x > lo
        np.subtract(x[..., 1:], lo[..., 1:], out=short[..., :-1])
        short[..., -1] = -np.inf
        high = short <= slack
        high |= x < hi
        high |= hi >= upper[None, :, None]
        local &= high
        local &= exists
        r_i, a_i, p_i = np.nonzero(local)
        best = np.full(x.shape, np.inf)
        best[r_i, a_i, p_i] = self.best_values(alpha[r_i, a_i, p_i], r_i, a_i, pieces, upper)
        return best

    def gains(self, a: np.ndarray, rates: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """Exact deviation gains ``max_x u_i(x, a_-i) - u_i(a)`` (>= 0), profile or batch."""
        alpha = self.intercepts(a)
        pieces = self.pieces(rates)
        x, best, _ = self.replies(alpha, pieces, upper)
        if a.ndim == 1:  # factored form, free of cancellation
            gain = deviation_gain(alpha, self.beta, self.k, a, x, pieces.taxes(a), pieces.taxes(x))
            return np.maximum(gain, 0.0)
        return np.maximum(best - self.own(a, alpha, self.taxes(a, rates)), 0.0)

    def rate_sensitivity(self, a: np.ndarray, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Exact derivatives of a global-commons equilibrium ``a`` (n,) in the rates ``(B,)``
        within its regime: ``dA`` (B,) of the aggregate and ``da`` (n, B) of the actions.

        Notes
        -----
        An agent strictly inside piece ``b_i`` (and inside ``(0, a_max)``) with
        :math:`\mu_i = \sigma_i/\theta_i > 0` plays its consistent stationary point
        :math:`a_i = (\sigma_i - c_i A - k_i \rho_{b_i}) / \mu_i` (its intercept is
        :math:`\sigma_i - c_i (A - a_i)`); every other agent (at a kink, a bound, or with a linear
        objective) keeps its action under small changes of the rates. With
        :math:`A = \sum_i m_i a_i` the equilibrium is affine in the rates inside the regime:

        .. math:: \frac{\partial A}{\partial \rho_b} = -\frac{\sum_{i \in I_b} m_i k_i/\mu_i}
                  {1 + \sum_{i \in I} m_i c_i/\mu_i}, \qquad
                  \frac{\partial a_i}{\partial \rho_b} = -\frac{c_i \partial A/\partial \rho_b
                  + k_i [b_i = b]}{\mu_i} \quad (i \in I),

        with :math:`I` the interior agents and :math:`I_b` those in piece ``b``. At a regime
        boundary these are one-sided (the derivative of the regime ``a`` is in).
        """
        pieces = self.pieces(rates)
        mu = self.beta - self.c
        piece = np.clip(np.searchsorted(pieces.lo, a, side="right") - 1, 0, pieces.lo.size - 1)
        room = 1e-9 * np.maximum(1.0, np.abs(a))
        inside = (
            (mu > 0)
            & (a > pieces.lo[piece] + room)
            & (a < np.minimum(pieces.hi[piece], self.amax) - room)
            & (a > room)
        )
        mass = np.ones(self.n) if self.mass is None else self.mass
        weight = np.where(inside, mass / np.where(inside, mu, 1.0), 0.0)
        onehot = np.zeros((self.n, self.thresholds.size))
        onehot[np.arange(self.n), piece] = 1.0  # pieces are brackets below a_max, in order
        d_agg = -((weight * self.k) @ onehot) / (1.0 + weight @ self.c)
        da = np.where(
            inside[:, None],
            -(self.c[:, None] * d_agg[None, :] + self.k[:, None] * onehot)
            / np.where(inside, mu, 1.0)[:, None],
            0.0,
        )
        return d_agg, da

    def reply_bound(self, cap: float = 1.0, fallback: np.ndarray | None = None) -> np.ndarray:
        """Bound on best responses under any rates with ``|rate| <= cap`` (slope over curvature)."""
        upper = np.full(self.n, self.amax)
        pos = self.beta > 0
        slope = self.sigma + np.abs(self.k) * cap
        upper[pos] = np.minimum(self.amax, slope[pos] / self.beta[pos])
        if fallback is not None:
            upper[~pos] = np.minimum(upper[~pos], fallback[~pos])
        return upper
