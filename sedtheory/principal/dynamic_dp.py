r"""The dynamic first best for ``p = 1`` and any regrowth map: dynamic programming on the stock grid.

For ``p = 1`` the planner's objective is additive over steps: the mean utility is
:math:`\sum_t \beta^t f(H_t)` with the step value

.. math:: f(H) = \max \Big\{ \sum_j c_j (\omega + y_j - \kappa_j y_j^2 + t_j) :
   \sum_j y_j = H,\ 0 \le y_j \le a_{max},\ \sum_j t_j = 0,\ \text{transfer bounds} \Big\},

:math:`c_j` the mean weight of agent j's payoff in the utilities (``1/n`` for ``welfare_of="payoff"``),
a concave function of the total harvest :math:`H` (the value of a concave program in its right-hand
side). Only the escapement :math:`E = S - H` moves the state, :math:`S' = G(E)`, so the Bellman
equation :math:`V_t(S) = \max_{0 \le E \le S} f(S - E) + \beta V_{t+1}(G(E))` needs no concavity of
:math:`G` (``"melting_pot"`` is S-shaped at low stocks).

Certificate (both bounds rigorous up to the convex solver's tolerance on :math:`f`):

* **Upper bound.** :math:`f` is computed on a grid of totals ``r`` times finer than the stock
  grid; on each cell it is bounded above by the neighbouring secants (concavity), and the
  continuation by the value at the next grid stock above :math:`G(E)` (the true value is
  non-decreasing in the stock: extra apples can always be left to regrow). The resulting
  :math:`\bar V_0` at the grid stock above :math:`S_0` bounds every policy.
* **Lower bound.** The plan (the best escapement at the actual stock against the interpolated
  values, the step program solved at that total) replayed in the true dynamics.

References
----------
.. [1] R. Bellman, *Dynamic Programming*, Princeton (1957).
.. [2] D. P. Bertsekas, *Dynamic Programming and Optimal Control*, vol. 1, 4th ed. (2017), ch. 6
   (bounds from monotone discretisations).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.errors import DomainError
from sedtheory.objective import Objective
from sedtheory.principal.convex import cp, solve

__all__ = ["StepProgram", "bellman_bounds", "plan_by_dynamic_programming"]


class StepProgram:
    """The planner's one-step allocation :math:`f(H)` as a parametrised convex program (cvxpy,
    built once, solved for many totals ``H``)."""

    def __init__(self, game: Any, objective: Objective, transfers: str) -> None:
        model, n = game.stage, game.n
        self.weights = model.weights.mean(axis=0) if objective.of == "utility" else np.full(n, 1.0 / n)
        self.total = cp.Parameter(nonneg=True, name="total")
        self.y = cp.Variable(n, nonneg=True, name="harvests")
        self.t = cp.Variable(n, name="transfers")
        cons = [cp.sum(self.y) == self.total, self.y <= game.max_harvest, cp.sum(self.t) == 0]
        if transfers == "tax-feasible":
            cons += [self.t >= -self.y, self.t <= self.total / n]
        elif not np.allclose(self.weights, self.weights[0]):
            raise DomainError(
                "transfers",
                transfers,
                "with lump-sum transfers and unequal weights of the agents' payoffs the p = 1 planner "
                "is unbounded (it moves money to the most-weighted agent); use 'tax-feasible'",
            )
        r = model.omega + self.y + self.t - cp.multiply(model.cost_weights, cp.square(self.y))
        self.problem = cp.Problem(cp.Maximize(self.weights @ r), cons)

    def __call__(self, total: float) -> tuple[float, np.ndarray, np.ndarray]:
        """``(f(H), harvests, transfers)`` at total ``H``."""
        self.total.value = float(total)
        solve(self.problem, f"the planner's step program at total harvest {total:g}")
        return float(self.problem.value), np.asarray(self.y.value), np.asarray(self.t.value)


def _cell_upper(f: np.ndarray, step: float) -> np.ndarray:
    """Upper bound of the concave ``f`` on each cell ``[h_k, h_{k+1}]`` from the neighbouring secants."""
    s = np.diff(f) / step
    left = np.concatenate([[np.inf], s[:-1]])  # secant before h_k bounds the slope after it
    right = np.concatenate([s[1:], [-np.inf]])  # secant after h_{k+1} bounds the slope before it
    from_left = f[:-1] + np.maximum(left, 0.0) * step
    from_right = f[1:] + np.maximum(-right, 0.0) * step
    return np.maximum(np.minimum(from_left, from_right), np.maximum(f[:-1], f[1:]))


def bellman_bounds(game: Any, f: np.ndarray, refine: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid values ``V_t`` (interpolated dynamics, for the plan) and rigorous upper values
    ``Vbar_t`` (T+1, G), and the fine escapement grid.

    ``f`` holds the step value on the fine grid of totals ``k * delta``, ``delta = spacing / refine``.
    """
    grid, beta, steps = game.grid, game.discount, game.steps
    fine = np.linspace(0.0, grid[-1], (grid.size - 1) * refine + 1)
    delta = fine[1] - fine[0]
    nxt = np.asarray(game.regrowth(fine))
    g_idx = np.arange(grid.size) * refine  # stock g sits at fine index g * refine
    totals = g_idx[:, None] - np.arange(fine.size)[None, :]  # H index of (stock g, escapement m)
    feasible = (totals >= 0) & (totals * delta <= game.n * game.max_harvest + 1e-12)
    f_at = np.where(feasible, f[np.clip(totals, 0, f.size - 1)], -np.inf)
    cell = _cell_upper(f, delta)
    # cell [E_m, E_{m+1}] <-> totals [H - delta, H] with H = S_g - E_m
    f_cell = np.where(feasible & (totals >= 1), cell[np.clip(totals - 1, 0, cell.size - 1)], -np.inf)
    up_idx = np.clip(
        np.searchsorted(grid, np.append(nxt[1:], nxt[-1]) - 1e-12, side="left"), 0, grid.size - 1
    )
    values, upper = np.zeros((steps + 1, grid.size)), np.zeros((steps + 1, grid.size))
    for t in range(steps - 1, -1, -1):
        later = np.interp(nxt, grid, values[t + 1])
        values[t] = np.max(f_at + beta * later[None, :], axis=1)
        bound = np.max(f_cell + beta * upper[t + 1][up_idx][None, :], axis=1)
        upper[t] = np.maximum.accumulate(np.maximum(bound, values[t]))
    return values, upper, fine


def plan_by_dynamic_programming(
    game: Any, objective: Objective, transfers: str, refine: int = 4
) -> tuple[np.ndarray, np.ndarray, float]:
    """Harvests and transfers (T, n) of the p = 1 plan and the rigorous upper bound on the mean
    utility of every policy (see the module notes)."""
    if objective.p != 1.0:
        raise DomainError("p", objective.p, "the dynamic-programming planner is written for p = 1")
    program = StepProgram(game, objective, transfers)
    grid = game.grid
    delta = (grid[1] - grid[0]) / refine
    top = min(grid[-1], game.n * game.max_harvest)
    totals = np.arange(int(np.floor(grid[-1] / delta + 1e-9)) + 1) * delta
    f = np.array([program(min(h, top))[0] if h <= top + 1e-12 else -np.inf for h in totals])
    f = np.where(np.isfinite(f), f, np.max(f[np.isfinite(f)]))  # beyond the cap: never chosen below
    values, upper, fine = bellman_bounds(game, f, refine)
    s0 = game.initial_stock
    bound = float(upper[0][min(int(np.searchsorted(grid, s0 - 1e-12)), grid.size - 1)])
    harvests, transfer_plan = np.zeros((game.steps, game.n)), np.zeros((game.steps, game.n))
    stock = s0
    for t in range(game.steps):
        escapement = np.linspace(max(stock - top, 0.0), stock, 2001)
        value = np.interp(stock - escapement, totals, f) + game.discount * np.interp(
            np.asarray(game.regrowth(escapement)), grid, values[t + 1]
        )
        total = float(stock - escapement[int(np.argmax(value))])
        _, harvests[t], transfer_plan[t] = program(total)
        harvests[t] = np.clip(harvests[t], 0.0, None)  # solver rounding; the replay rations the rest
        stock = float(game.regrowth(max(stock - harvests[t].sum(), 0.0)))
    return harvests, transfer_plan, bound
