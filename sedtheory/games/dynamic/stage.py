r"""One step of the dynamic commons, vectorised over stocks, agents and candidate demands.

At stock :math:`S` with demands :math:`h` (total :math:`H`), realised harvests are
:math:`y_j = h_j \min(1, S/H)` (proportional rationing), the escapement is
:math:`E = \max(S - H, 0)` and the next stock :math:`G(E)`. Agent i's value of the step is

.. math:: u_i = \sum_j W_{ij} r_j(y) + \beta\, C_i(G(E)),

with the step payoffs :math:`r_j = \omega + y_j - T(y_j) + R/n - C_j(y_j)` of the static game
(no damage term: the damage is the lost future stock) and :math:`C_i` agent i's continuation
utility (the monotone cubic interpolant of the values on the stock grid, :func:`smooth_value`:
C^1, so the stage game has no spurious equilibria at the grid's nodes). Best responses maximise
:math:`u_i` over :math:`x \in [0, a_{max}]` by a dense scan refined by zooms (and the exact kink
where rationing starts), vectorised over every grid stock and agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sedtheory.games.commons import formulas as F
from sedtheory.games.commons.kernel import piece_search
from sedtheory.taxes import RatePieces

__all__ = [
    "StageModel",
    "best_replies",
    "continuation",
    "interpolate",
    "pchip_slopes",
    "smooth_slope",
    "smooth_value",
]


def _cells(grid: np.ndarray, stocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grid cell of each (clipped) stock and the weight of its upper end."""
    s = np.clip(stocks, grid[0], grid[-1])
    idx = np.clip(np.searchsorted(grid, s, side="right") - 1, 0, grid.size - 2)
    return idx, (s - grid[idx]) / (grid[idx + 1] - grid[idx])


def interpolate(grid: np.ndarray, values: np.ndarray, stocks: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` (G, n) on ``grid`` at ``stocks`` (any shape, clipped):
    shape ``stocks.shape + (n,)``."""
    idx, w = _cells(grid, stocks)
    return values[idx] * (1.0 - w)[..., None] + values[idx + 1] * w[..., None]


def pchip_slopes(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    r"""Node derivatives (G, n) of the monotone piecewise-cubic Hermite interpolant of every
    column of ``values`` (G, n) on ``grid`` (Fritsch and Carlson 1980, in the weighted
    harmonic-mean form of Fritsch and Butland; one-sided three-point ends, as scipy's
    ``PchipInterpolator``): 0 at a local extremum of the data, so each cell's cubic is monotone
    and stays between its end values (no overshoot at a jump of the data)."""
    h = np.diff(grid)[:, None]
    m = np.diff(values, axis=0) / h  # secants (G - 1, n)
    d = np.zeros_like(values)
    if grid.size == 2:
        return d + m
    w1, w2 = 2.0 * h[1:] + h[:-1], h[1:] + 2.0 * h[:-1]
    same = (m[:-1] * m[1:]) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / m[:-1] + w2 / m[1:])
    d[1:-1] = np.where(same, harmonic, 0.0)
    for end, (h0, h1, m0, m1) in ((0, (h[0], h[1], m[0], m[1])), (-1, (h[-1], h[-2], m[-1], m[-2]))):
        e = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
        e = np.where(np.sign(e) != np.sign(m0), 0.0, e)
        d[end] = np.where((np.sign(m0) != np.sign(m1)) & (np.abs(e) > 3.0 * np.abs(m0)), 3.0 * m0, e)
    return d


def continuation(grid: np.ndarray, values: np.ndarray, stocks: np.ndarray) -> np.ndarray:
    """Continuation utilities ``values`` (G, n) on ``grid`` at ``stocks`` (any shape, clipped):
    the monotone cubic interpolant (:func:`smooth_value`), shape ``stocks.shape + (n,)``."""
    return smooth_value(grid, values, pchip_slopes(grid, values), stocks)


def _hermite(
    grid: np.ndarray, values: np.ndarray, slopes: np.ndarray, stocks: np.ndarray, agent: np.ndarray | None
) -> tuple[np.ndarray, ...]:
    """Cell offsets ``u``, widths ``h`` and the cubic's coefficients ``(v_k, c1, c2, c3)`` at
    ``stocks``: :math:`V = v_k + u (c_1 + u (c_2 + u c_3))`."""
    idx, u = _cells(grid, stocks)
    width = grid[idx + 1] - grid[idx]
    if agent is None:
        u, width = u[..., None], width[..., None]
        v0, v1, d0, d1 = values[idx], values[idx + 1], slopes[idx], slopes[idx + 1]
    else:
        v0, v1 = values[idx, agent], values[idx + 1, agent]
        d0, d1 = slopes[idx, agent], slopes[idx + 1, agent]
    rise, c1, hd1 = v1 - v0, width * d0, width * d1
    return u, width, v0, c1, 3.0 * rise - 2.0 * c1 - hd1, c1 + hd1 - 2.0 * rise


def smooth_value(
    grid: np.ndarray,
    values: np.ndarray,
    slopes: np.ndarray,
    stocks: np.ndarray,
    agent: np.ndarray | None = None,
) -> np.ndarray:
    r"""The monotone cubic interpolant of ``values`` (G, n) with node ``slopes`` (G, n) at
    ``stocks`` (clipped to the grid): shape ``stocks.shape + (n,)``, or, with ``agent``
    (broadcastable to ``stocks``), column ``agent`` at each stock (``stocks.shape``).

    Notes
    -----
    On the cell :math:`[s_k, s_{k+1}]` of width :math:`h`, with :math:`u = (S - s_k)/h`,
    :math:`V(S) = (2u^3 - 3u^2 + 1) v_k + (u^3 - 2u^2 + u) h d_k + (3u^2 - 2u^3) v_{k+1}
    + (u^3 - u^2) h d_{k+1}`: C^1 across nodes, so the stage games on it have no concave kink
    at every grid stock (linear interpolation has one wherever the slope falls, and each carries
    a continuum of spurious equilibria in which every agent aims for the same grid stock).
    """
    u, _, v0, c1, c2, c3 = _hermite(grid, values, slopes, stocks, agent)
    return v0 + u * (c1 + u * (c2 + u * c3))  # type: ignore[no-any-return]


def smooth_slope(
    grid: np.ndarray,
    values: np.ndarray,
    slopes: np.ndarray,
    stocks: np.ndarray,
    agent: np.ndarray | None = None,
) -> np.ndarray:
    """The derivative in the stock of :func:`smooth_value` (same shapes; at a node the cubics
    on both sides agree; beyond the grid's ends, where stocks are clipped, the end node's)."""
    u, width, _, c1, c2, c3 = _hermite(grid, values, slopes, stocks, agent)
    return (c1 + u * (2.0 * c2 + 3.0 * u * c3)) / width  # type: ignore[no-any-return]


@dataclass(frozen=True)
class StageModel:
    r"""The step's constants: social weights, effort-cost weights, the tax pieces, endowment,
    discount, harvest cap and the regrowth map.

    The agent axis of every array may stand for *types* rather than agents: ``counts[a]``
    identical agents of type a (same weights, costs and, in a type-symmetric profile, the same
    demand). ``weights[a, b]`` is then the total weight an agent of type a puts on the agents of
    type b other than itself, plus its own weight ``own[a]`` when ``b = a``; a deviating agent
    changes its own harvest while its ``counts[a] - 1`` mates keep theirs. With ``counts`` and
    ``own`` left out every type is one agent and ``weights`` is the agents' ``W`` (dense n x n).
    """

    weights: np.ndarray
    cost_weights: np.ndarray
    pieces: RatePieces
    omega: float
    beta: float
    amax: float
    regrowth: object
    counts: np.ndarray | None = None
    own: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Length of the agent axis (types, or agents when ``counts`` is None)."""
        return int(self.weights.shape[0])

    @cached_property
    def n(self) -> int:
        """Number of agents (the sum of ``counts``)."""
        return self.size if self.counts is None else int(round(float(np.sum(self.counts))))

    @cached_property
    def multiplicity(self) -> np.ndarray:
        """Agents per entry of the agent axis, as floats (all 1 without ``counts``)."""
        return np.ones(self.size) if self.counts is None else np.asarray(self.counts, dtype=float)

    @cached_property
    def sigma(self) -> np.ndarray:
        """Each agent's weight on its own payoff, :math:`W_{ii}`."""
        return np.diag(self.weights).copy() if self.own is None else np.asarray(self.own, dtype=float)

    def total(self, values: np.ndarray) -> np.ndarray:
        """Sum over all agents of per-type ``values`` (..., size) -> (...)."""
        if self.counts is None:  # row by row, so chunks of rows give bit-identical sums
            return values.sum(axis=-1)  # type: ignore[no-any-return]
        return (values * self.multiplicity).sum(axis=-1)  # type: ignore[no-any-return]

    def weigh(self, values: np.ndarray) -> np.ndarray:
        r""":math:`\sum_j W_{ij} v_j` of a type-symmetric ``values`` (..., size)."""
        return values @ self.weights.T  # type: ignore[no-any-return]

    @cached_property
    def separable(self) -> bool:
        """Selfish weights (no weight on other agents) and a flat tax: see :meth:`_rationed`."""
        off = self.weights - np.diag(self.sigma)
        flat = self.pieces.lo.size == 1 and self.pieces.rate.ndim == 1
        return bool(flat and not np.any(off))

    def marginal_replies(self, price: np.ndarray) -> np.ndarray:
        r"""Unrationed best demands (..., n) when the continuation is replaced by its tangent:
        agent i maximises :math:`\sigma_i (x - T(x) - c_i x^2) + (s_i/n) T(x) - \lambda_i x` on
        :math:`[0, a_{max}]` (exact, piece by piece), with marginal continuation ``price``
        :math:`\lambda_i = -\partial_x \beta C_i(G(S - H_{-i} - x))`. Non-increasing in
        :math:`\lambda_i` (the own objective is concave when :math:`\sigma_i \ge s_i/n`)."""
        sigma = self.sigma
        k = F.own_tax_weight(sigma, self.weights.sum(axis=1), self.n)
        curvature = 2.0 * sigma * self.cost_weights
        upper = np.full(self.size, self.amax)
        alpha = sigma - price
        flat = alpha.reshape(-1, self.size)
        x, _, _ = piece_search(flat, curvature, k, upper, self.pieces)
        return x.reshape(alpha.shape)

    def marginal_payoffs(self, harvests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Marginal own payoffs without the lump sum, :math:`1 - T'(y_k) - 2 c_k y_k`, and the
        marginal rates :math:`T'(y_k)` of realised harvests (..., n) (right derivatives)."""
        pieces = self.pieces
        piece = np.clip(np.searchsorted(pieces.lo, harvests, side="right") - 1, 0, pieces.lo.size - 1)
        rate = pieces.rate[piece]
        return 1.0 - rate - 2.0 * self.cost_weights * harvests, rate

    def payoffs(self, harvests: np.ndarray) -> np.ndarray:
        """Step payoffs ``r_j`` of realised harvests (..., n)."""
        t = self.pieces.taxes(harvests)
        lump = self.total(t) / self.n
        if t.ndim > 1:
            lump = lump[..., None]
        cost = F.effort_cost(harvests, self.cost_weights)
        return F.payoff(self.omega, harvests, F.tax_transfer(t, lump), cost, 0.0)

    def outcome(self, stock: np.ndarray, demands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Realised harvests (..., n) and next stocks (...) of demands (..., n) at stocks (...)."""
        if demands.ndim == 1 and np.ndim(stock) == 0:  # one state (the environment's step): floats
            s, h = float(stock), float(self.total(demands))
            harvests = demands * (s / h) if h > s else demands
            return harvests, self.regrowth(max(s - min(h, s), 0.0))  # type: ignore[operator]
        total = self.total(demands)
        share = np.minimum(stock, total) / np.maximum(total, 1e-300)  # S / H when rationed, else 1
        harvests = demands * share[..., None]
        escapement = np.maximum(stock - np.minimum(total, stock), 0.0)
        return harvests, np.asarray(self.regrowth(escapement))  # type: ignore[operator]

    def values(
        self, stock: np.ndarray, demands: np.ndarray, grid: np.ndarray, cont: np.ndarray
    ) -> np.ndarray:
        """Every agent's step value ``u`` (..., n) for demands (..., n) at stocks (...), with the
        continuation utilities ``cont`` (G, n) on ``grid``."""
        harvests, nxt = self.outcome(stock, demands)
        r = self.payoffs(harvests)
        return self.weigh(r) + self.beta * continuation(grid, cont, nxt)

    def own_values(
        self,
        stock: np.ndarray,
        demands: np.ndarray,
        x: np.ndarray,
        grid: np.ndarray,
        cont: np.ndarray,
        slopes: np.ndarray | None = None,
    ) -> np.ndarray:
        """Agent i's value when it demands ``x[g, i, k]`` and the others keep ``demands[g]``:
        shape (G, n, K), vectorised over stocks g, deviating agents i and candidates k.
        ``slopes``: the continuation's :func:`pchip_slopes` if already computed (a search calls
        this many times against one continuation).

        Without rationing (``x + H_{-i} <= S``) the others' harvests do not move, so the value is
        the current weighted payoffs with agent i's own terms swapped (O(1) per candidate); only
        candidates that ration are evaluated with every agent's payoff.
        """
        others = self.total(demands)[:, None] - demands  # (G, n)
        out = self._unrationed(stock, demands, others, x, grid, cont, slopes)
        rationed = x + others[..., None] > stock[:, None, None]
        if not np.any(rationed):
            return out
        rows_all, agents_all = np.nonzero(rationed.any(axis=-1))
        # the general rationed value costs every agent's payoff per candidate: bound the memory
        step = rows_all.size if self.separable else max(1, CHUNK // max(1, x.shape[-1] * self.size))
        for k in range(0, rows_all.size, step):
            g_idx, i_idx = rows_all[k : k + step], agents_all[k : k + step]
            out[g_idx, i_idx] = np.where(
                rationed[g_idx, i_idx],
                self._rationed(
                    stock[g_idx], demands, g_idx, others[g_idx, i_idx], i_idx, x[g_idx, i_idx], cont
                ),
                out[g_idx, i_idx],
            )
        return out

    def _rationed(
        self,
        stock: np.ndarray,
        demands: np.ndarray,
        rows: np.ndarray,
        others: np.ndarray,
        agent: np.ndarray,
        x: np.ndarray,
        cont: np.ndarray,
    ) -> np.ndarray:
        """Agent ``agent[m]``'s value of demands ``x[m, k]`` that empty the orchard (stocks (m,),
        the profile ``demands[rows[m]]``): every harvest is scaled by ``q = S / (H_{-i} + x)``,
        nothing regrows (``G(0) = 0``), so the continuation is the empty orchard's.

        With selfish weights (``W`` diagonal) and a flat tax the others' payoffs enter only through
        the revenue, which is ``tau S`` whenever the orchard is emptied: O(1) per candidate instead
        of every agent's payoff."""
        sigma = self.sigma[agent]
        if self.separable:
            # the deviator's harvest; candidates that do not ration (not used) get the share 1
            y = stock[:, None] * x / np.maximum(others[:, None] + x, np.maximum(stock[:, None], 1e-300))
            lump = float(self.pieces.rate[0]) * stock[:, None] / self.n
            cost = F.effort_cost(y, self.cost_weights[agent][:, None])
            r = F.payoff(self.omega, y, F.tax_transfer(self.pieces.taxes(y), lump), cost, 0.0)
            return sigma[:, None] * r + self.beta * cont[0, agent][:, None]
        # (m, K); the share 1 on candidates that do not ration (they are not used): no overflow
        q = stock[:, None] / np.maximum(others[:, None] + x, np.maximum(stock[:, None], 1e-300))
        y = q[..., None] * demands[rows][:, None, :]  # everyone at the profile (m, K, size)
        mine = q * x  # the deviator's harvest (m, K)
        t, t_mine = self.pieces.taxes(y), self.pieces.taxes(mine)
        t_mate = np.take_along_axis(t, agent[:, None, None], axis=-1)[..., 0]  # its own type's tax
        lump = (self.total(t) - t_mate + t_mine) / self.n
        r = F.payoff(
            self.omega, y, F.tax_transfer(t, lump[..., None]), F.effort_cost(y, self.cost_weights), 0.0
        )
        r_mine = F.payoff(
            self.omega,
            mine,
            F.tax_transfer(t_mine, lump),
            F.effort_cost(mine, self.cost_weights[agent][:, None]),
            0.0,
        )
        r_mate = np.take_along_axis(r, agent[:, None, None], axis=-1)[..., 0]
        social = np.einsum("mkj,mj->mk", r, self.weights[agent]) + sigma[:, None] * (r_mine - r_mate)
        return social + self.beta * cont[0, agent][:, None]

    def _unrationed(
        self,
        stock: np.ndarray,
        demands: np.ndarray,
        others: np.ndarray,
        x: np.ndarray,
        grid: np.ndarray,
        cont: np.ndarray,
        slopes: np.ndarray | None = None,
    ) -> np.ndarray:
        """``sum_j W_ij r_j + beta C_i(G(S - H_{-i} - x))`` with the others' harvests at their demands."""
        sigma = self.sigma
        s = self.weights.sum(axis=1)
        t_h = self.pieces.taxes(demands)
        own_h = self.omega + demands - t_h - F.effort_cost(demands, self.cost_weights)  # r_j without R/n
        base = self.weigh(own_h) - sigma * own_h + s * (self.total(t_h)[:, None] - t_h) / self.n
        t_x = self.pieces.taxes(x)
        own_x = self.omega + x - t_x - F.effort_cost(x, self.cost_weights[None, :, None])
        step = base[..., None] + sigma[None, :, None] * own_x + (s / self.n)[None, :, None] * t_x
        escapement = np.maximum(stock[:, None, None] - others[..., None] - x, 0.0)
        nxt = np.asarray(self.regrowth(escapement))  # type: ignore[operator]
        agent = np.arange(self.size)[None, :, None]
        slopes = pchip_slopes(grid, cont) if slopes is None else slopes
        return step + self.beta * smooth_value(grid, cont, slopes, nxt, agent)


def _scan(stock: np.ndarray, demands: np.ndarray, others: np.ndarray, amax: float, points: int) -> np.ndarray:
    """Candidate demands (G, n, 2 points + 2): evenly spaced realised harvests without rationing
    (``[0, S - H_{-i}]``), evenly spaced realised harvests with rationing (demands above the kink,
    ``x = H_{-i} y / (S - y)``), the kink and the current demand; ``others`` is
    :math:`H_{-i}` (G, n)."""
    s = stock[:, None]
    kink = np.clip(s - others, 0.0, amax)
    frac = np.linspace(0.0, 1.0, points)
    free = kink[..., None] * frac
    top = np.where(others + amax > 0, s * amax / np.maximum(others + amax, 1e-300), 0.0)  # y at x = a_max
    y = kink[..., None] + (np.maximum(top - kink, 0.0))[..., None] * frac[1:]
    gap = stock[:, None, None] - y
    with np.errstate(divide="ignore", invalid="ignore"):
        rationed = np.where(gap > 0, others[..., None] * y / np.where(gap > 0, gap, 1.0), amax)
    rationed = np.clip(rationed, kink[..., None], amax)
    return np.concatenate([free, rationed, np.full(kink.shape + (1,), amax), demands[..., None]], axis=-1)


#: Largest number of (stock, agent, candidate) values evaluated at once (memory bound).
CHUNK = 4_000_000


def best_replies(
    model: StageModel,
    stock: np.ndarray,
    demands: np.ndarray,
    grid: np.ndarray,
    cont: np.ndarray,
    points: int = 24,
    refine: int = 24,
) -> tuple[np.ndarray, np.ndarray]:
    """Best demands of every agent at every stock (G, n) and their values, given the others'
    (see :func:`_best_replies`), in chunks of stocks of at most :data:`CHUNK` candidate values."""
    rows = max(1, CHUNK // max(1, model.size * (2 * points + 2)))
    if stock.shape[0] <= rows:
        return _best_replies(model, stock, demands, grid, cont, points, refine)
    parts = [
        _best_replies(model, stock[k : k + rows], demands[k : k + rows], grid, cont, points, refine)
        for k in range(0, stock.shape[0], rows)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _best_replies(
    model: StageModel,
    stock: np.ndarray,
    demands: np.ndarray,
    grid: np.ndarray,
    cont: np.ndarray,
    points: int,
    refine: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Best demands of every agent at every stock (G, n) and their values, given the others'.

    A scan of ``2 points + 2`` candidates (evenly spaced realised harvests on each side of the
    rationing kink :math:`S - H_{-i}`, the cap and the current demand), then ``refine`` rounds of
    golden-section search between the best candidate's neighbours, vectorised over stocks and
    agents. The value is the best one evaluated, so the reported gain never exceeds the true one
    by more than rounding (a sharp peak missed by the scan can make it smaller).
    """
    cand = _scan(stock, demands, model.total(demands)[:, None] - demands, model.amax, points)
    slopes = pchip_slopes(grid, cont)  # one continuation for the whole search
    vals = model.own_values(stock, demands, cand, grid, cont, slopes)
    order = np.sort(cand, axis=-1)
    pick = np.argmax(vals, axis=-1)[..., None]
    best_x = np.take_along_axis(cand, pick, axis=-1)[..., 0]
    best_v = np.take_along_axis(vals, pick, axis=-1)[..., 0]
    pos = np.clip(np.sum(order < best_x[..., None], axis=-1), 0, order.shape[-1] - 1)[..., None]
    lo = np.take_along_axis(order, np.maximum(pos - 1, 0), axis=-1)[..., 0]
    hi = np.take_along_axis(order, np.minimum(pos + 1, order.shape[-1] - 1), axis=-1)[..., 0]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = lo + (1 - ratio) * (hi - lo), lo + ratio * (hi - lo)
    va = model.own_values(stock, demands, a[..., None], grid, cont, slopes)[..., 0]
    vb = model.own_values(stock, demands, b[..., None], grid, cont, slopes)[..., 0]
    for _ in range(refine):
        left = va >= vb
        lo, hi = np.where(left, lo, a), np.where(left, b, hi)
        new = np.where(left, lo + (1 - ratio) * (hi - lo), lo + ratio * (hi - lo))
        vn = model.own_values(stock, demands, new[..., None], grid, cont, slopes)[..., 0]
        a, b, va, vb = (
            np.where(left, new, b),
            np.where(left, a, new),
            np.where(left, vn, vb),
            np.where(left, va, vn),
        )
        for x, v in ((a, va), (b, vb)):
            better = v > best_v
            best_x, best_v = np.where(better, x, best_x), np.where(better, v, best_v)
    return best_x, best_v
