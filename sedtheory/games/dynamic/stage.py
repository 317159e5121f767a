r"""One step of the dynamic commons, vectorised over stocks, agents and candidate demands.

At stock :math:`S` with demands :math:`h` (total :math:`H`), realised harvests are
:math:`y_j = h_j \min(1, S/H)` (proportional rationing), the escapement is
:math:`E = \max(S - H, 0)` and the next stock :math:`G(E)`. Agent i's value of the step is

.. math:: u_i = \sum_j W_{ij} r_j(y) + \beta\, C_i(G(E)),

with the step payoffs :math:`r_j = \omega + y_j - T(y_j) + R/n - C_j(y_j)` of the static game
(no damage term: the damage is the lost future stock) and :math:`C_i` agent i's continuation
utility (linear interpolation on the stock grid). Best responses maximise :math:`u_i` over
:math:`x \in [0, a_{max}]` by a dense scan refined by zooms (and the exact kink where rationing
starts), vectorised over every grid stock and agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sedtheory.games.commons import formulas as F
from sedtheory.taxes import RatePieces

__all__ = ["StageModel", "best_replies", "interpolate", "interpolate_own"]


def interpolate(grid: np.ndarray, values: np.ndarray, stocks: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` (G, n) on ``grid`` at ``stocks`` (any shape, clipped):
    shape ``stocks.shape + (n,)``."""
    s = np.clip(stocks, grid[0], grid[-1])
    idx = np.clip(np.searchsorted(grid, s, side="right") - 1, 0, grid.size - 2)
    w = (s - grid[idx]) / (grid[idx + 1] - grid[idx])
    return values[idx] * (1.0 - w)[..., None] + values[idx + 1] * w[..., None]


def interpolate_own(grid: np.ndarray, values: np.ndarray, stocks: np.ndarray) -> np.ndarray:
    """``values[:, i]`` interpolated at ``stocks[g, i, k]`` for each agent i: shape (G, n, K)."""
    s = np.clip(stocks, grid[0], grid[-1])
    idx = np.clip(np.searchsorted(grid, s, side="right") - 1, 0, grid.size - 2)
    w = (s - grid[idx]) / (grid[idx + 1] - grid[idx])
    agent = np.arange(values.shape[1])[None, :, None]
    return values[idx, agent] * (1.0 - w) + values[idx + 1, agent] * w


@dataclass(frozen=True)
class StageModel:
    """The step's constants: weights ``W`` (dense, n x n), selfishness, effort-cost weights, the
    tax pieces, endowment, discount, harvest cap and the regrowth map."""

    weights: np.ndarray
    cost_weights: np.ndarray
    pieces: RatePieces
    omega: float
    beta: float
    amax: float
    regrowth: object

    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    def payoffs(self, harvests: np.ndarray) -> np.ndarray:
        """Step payoffs ``r_j`` of realised harvests (..., n)."""
        t = self.pieces.taxes(harvests)
        lump = t.sum(axis=-1, keepdims=True) / self.n
        cost = F.effort_cost(harvests, self.cost_weights)
        return F.payoff(self.omega, harvests, F.tax_transfer(t, lump), cost, 0.0)

    def outcome(self, stock: np.ndarray, demands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Realised harvests (..., n) and next stocks (...) of demands (..., n) at stocks (...)."""
        total = demands.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > stock, stock / np.where(total > 0, total, 1.0), 1.0)
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
        return r @ self.weights.T + self.beta * interpolate(grid, cont, nxt)

    def own_values(
        self, stock: np.ndarray, demands: np.ndarray, x: np.ndarray, grid: np.ndarray, cont: np.ndarray
    ) -> np.ndarray:
        """Agent i's value when it demands ``x[g, i, k]`` and the others keep ``demands[g]``:
        shape (G, n, K), vectorised over stocks g, deviating agents i and candidates k.

        Without rationing (``x + H_{-i} <= S``) the others' harvests do not move, so the value is
        the current weighted payoffs with agent i's own terms swapped (O(1) per candidate); only
        candidates that ration are evaluated with every agent's payoff.
        """
        others = demands.sum(axis=1, keepdims=True) - demands  # (G, n)
        out = self._unrationed(stock, demands, others, x, grid, cont)
        rationed = x + others[..., None] > stock[:, None, None]
        if np.any(rationed):
            g_idx, i_idx, k_idx = np.nonzero(rationed)
            trial = demands[g_idx].copy()
            trial[np.arange(g_idx.size), i_idx] = x[g_idx, i_idx, k_idx]
            u = self.values(stock[g_idx], trial, grid, cont)
            out[g_idx, i_idx, k_idx] = u[np.arange(g_idx.size), i_idx]
        return out

    def _unrationed(
        self,
        stock: np.ndarray,
        demands: np.ndarray,
        others: np.ndarray,
        x: np.ndarray,
        grid: np.ndarray,
        cont: np.ndarray,
    ) -> np.ndarray:
        """``sum_j W_ij r_j + beta C_i(G(S - H_{-i} - x))`` with the others' harvests at their demands."""
        w = self.weights
        sigma = np.diag(w)
        s = w.sum(axis=1)
        t_h = self.pieces.taxes(demands)
        own_h = self.omega + demands - t_h - F.effort_cost(demands, self.cost_weights)  # r_j without R/n
        base = own_h @ w.T - sigma * own_h + s * (t_h.sum(axis=1, keepdims=True) - t_h) / self.n
        t_x = self.pieces.taxes(x)
        own_x = self.omega + x - t_x - F.effort_cost(x, self.cost_weights[None, :, None])
        step = base[..., None] + sigma[None, :, None] * own_x + (s / self.n)[None, :, None] * t_x
        escapement = np.maximum(stock[:, None, None] - others[..., None] - x, 0.0)
        nxt = np.asarray(self.regrowth(escapement))  # type: ignore[operator]
        return step + self.beta * interpolate_own(grid, cont, nxt)


def _best_candidate(
    model: StageModel,
    stock: np.ndarray,
    demands: np.ndarray,
    cand: np.ndarray,
    grid: np.ndarray,
    cont: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The best of the candidate demands ``cand`` (G, n, K) of every agent and its value."""
    vals = model.own_values(stock, demands, cand, grid, cont)
    pick = np.argmax(vals, axis=-1)[..., None]
    return np.take_along_axis(cand, pick, axis=-1)[..., 0], np.take_along_axis(vals, pick, axis=-1)[..., 0]


def best_replies(
    model: StageModel,
    stock: np.ndarray,
    demands: np.ndarray,
    grid: np.ndarray,
    cont: np.ndarray,
    points: int = 33,
    zooms: int = 6,
) -> tuple[np.ndarray, np.ndarray]:
    """Best demands of every agent at every stock (G, n) and their values, given the others'.

    A scan of ``points`` demands in ``[0, a_max]`` plus the rationing kink ``S - H_{-i}`` and the
    current demand, then ``zooms`` rounds of ``points`` demands around the best (each narrows the
    bracket by ``(points - 1) / 4``): demands resolved to about ``a_max / (8 (points - 1))^{zooms+1}``.
    """
    amax = model.amax
    others = demands.sum(axis=1, keepdims=True) - demands
    kink = np.clip(stock[:, None] - others, 0.0, amax)
    base = np.broadcast_to(np.linspace(0.0, amax, points), demands.shape + (points,))
    cand = np.concatenate([base, kink[..., None], demands[..., None]], axis=-1)
    best_x, best_v = _best_candidate(model, stock, demands, cand, grid, cont)
    width = amax / (points - 1)
    frac = np.linspace(0.0, 1.0, points)
    for _ in range(zooms):
        lo = np.clip(best_x - width, 0.0, amax)
        hi = np.clip(best_x + width, 0.0, amax)
        cand = lo[..., None] + (hi - lo)[..., None] * frac
        x, v = _best_candidate(model, stock, demands, cand, grid, cont)
        better = v > best_v
        best_x, best_v = np.where(better, x, best_x), np.where(better, v, best_v)
        width = 2.0 * width / (points - 1)
    return best_x, best_v
