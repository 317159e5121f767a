r"""The dynamic commons game: the seed's N-player, T-step Markov game with a regrowing orchard.

Strategies are Markov policies :math:`h_i(t, S)` on a stock grid (an array of shape
``(T, G, n)``, linearly interpolated in the stock). Payoffs are discounted sums of step payoffs
along the path from :math:`S_0`; utilities weight them with the social weights:
:math:`U_i = \sum_t \beta^t \sum_j W_{ij} r_{j,t}`. See :mod:`sedtheory.games.dynamic.stage` for
one step (rationing, tax with equal redistribution, regrowth).

The game satisfies :class:`~sedtheory.games.Game`: ``best_responses`` solves each agent's own
dynamic programme on the grid against the others' policies, ``deviation_gains`` are the largest
one-shot deviation gains along the path evaluated in the true game (continuations simulated
exactly from the deviated stock, so grid error is inside the number), discounted to period 0.

Examples
--------
>>> import sedtheory as sed
>>> from sedtheory.games.dynamic import DynamicCommonsGame
>>> game = DynamicCommonsGame(sed.Society([1.0, 1.0], 40.0), sed.PiecewiseLinearTax([0], [0.0]),
...                           horizon=3, discount=0.9, initial_stock=60.0, grid=41)
>>> game.n, game.strategy_shape
(2, (3, 41, 2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.errors import ActionError, InvalidParameterError, ShapeError
from sedtheory.games.dynamic.regrowth import Regrowth, regrowth_map
from sedtheory.games.dynamic.stage import StageModel, best_replies, interpolate
from sedtheory.games.dynamic.symmetry import TypeReduction, type_reduction
from sedtheory.games.protocol import SearchHints
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax, RatePieces
from sedtheory.validate import count

__all__ = ["DynamicCommonsGame", "Path"]


@dataclass(frozen=True)
class Path:
    """The play of strategies from the initial stock: ``stocks`` (T+1,), ``demands``,
    ``harvests`` and step ``payoffs`` (T, n)."""

    stocks: np.ndarray
    demands: np.ndarray
    harvests: np.ndarray
    payoffs: np.ndarray

    @property
    def collapsed(self) -> bool:
        """True when the orchard is empty at the end (collapse is absorbing)."""
        return bool(self.stocks[-1] <= 1e-9)


def _unit(field: str, value: Any, allow_one: bool) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(field, value, f"{field} must be a number in (0, 1]") from None
    if not (0 < x < 1 or (allow_one and x == 1)) or math.isnan(x):
        raise InvalidParameterError(field, value, f"{field} must be in (0, 1{']' if allow_one else ')'}")
    return x


def _horizon(value: Any, beta: float) -> float:
    if isinstance(value, float | np.floating) and math.isinf(value) and value > 0:
        if beta >= 1.0:
            raise InvalidParameterError(
                "discount", beta, "an infinite horizon needs discount < 1 (else payoffs are infinite)"
            )
        return math.inf
    return count("horizon", value, 1, "use a positive integer number of steps or math.inf")


def _check_resolution(points: int, regrowth: Regrowth) -> None:
    """A typed error when one grid cell is wider than twice the largest sustainable yield: the
    stock then moves by less than half a cell per step at any sustainable harvest, and the grid
    cannot tell conserving from standing still (policies and values are interpolated across the
    whole regime)."""
    cap = regrowth.capacity
    _, msy = regrowth.maximum_sustainable_yield(points=1001)
    spacing = cap / (points - 1)
    if msy > 0 and spacing > 2.0 * msy:
        need = int(math.ceil(cap / (2.0 * msy))) + 1
        raise InvalidParameterError(
            "grid",
            points,
            f"the stock grid is too coarse for the stock range: cells of {spacing:.4g} exceed twice the "
            f"maximum sustainable yield {msy:.4g} of the regrowth map; use grid >= {need}",
        )


class DynamicCommonsGame:
    r"""The T-step commons with a stock that regrows (finite horizon).

    Parameters
    ----------
    society : Society
    tax : PiecewiseLinearTax
        Applied every step to realised harvests; revenue returned equally.
    regrowth : str, Regrowth or callable
        ``"logistic"`` (default), ``"melting_pot"`` or a callable ``G`` (checked on a grid).
    horizon : int or float
        ``T`` steps, or ``math.inf`` (needs ``discount < 1``; strategies are then stationary,
        shape ``(1, G, n)``, and payoffs are summed until :math:`\beta^t < 10^{-12}`).
    discount : float
        :math:`\beta \in (0, 1]`.
    initial_stock : float, optional
        :math:`S_0` in ``[0, K]`` (default ``K``).
    endowment : float
        :math:`\omega` per step.
    max_harvest : float, optional
        Largest demand (default ``K``).
    grid : int
        Points of the stock grid on ``[0, K]``: at least 5, and fine enough that one cell is no
        wider than twice the map's maximum sustainable yield (at least 9 points for the default
        logistic map, 37 for ``"melting_pot"``).
    """

    def __init__(
        self,
        society: Society,
        tax: PiecewiseLinearTax,
        regrowth: Any = "logistic",
        horizon: float = 10,
        discount: float = 0.95,
        initial_stock: float | None = None,
        endowment: float = 0.0,
        max_harvest: float | None = None,
        grid: int = 201,
    ) -> None:
        if not isinstance(society, Society):
            raise InvalidParameterError("society", type(society).__name__, "pass a sedtheory.Society")
        if not isinstance(tax, PiecewiseLinearTax):
            raise InvalidParameterError("tax", type(tax).__name__, "pass a sedtheory.PiecewiseLinearTax")
        self._regrowth: Regrowth = regrowth_map(regrowth)
        cap = self._regrowth.capacity
        self._society, self._tax = society, tax
        self._beta = _unit("discount", discount, allow_one=True)
        self._horizon = _horizon(horizon, self._beta)
        s0 = cap if initial_stock is None else float(initial_stock)
        if not 0.0 <= s0 <= cap:
            raise InvalidParameterError("initial_stock", initial_stock, f"use a stock in [0, K = {cap:g}]")
        self._s0 = s0
        self._omega = float(endowment)
        if not (math.isfinite(self._omega) and self._omega >= 0):
            raise InvalidParameterError("endowment", endowment, "use a finite number >= 0")
        amax = cap if max_harvest is None else float(max_harvest)
        if not (0 < amax < math.inf):
            raise InvalidParameterError("max_harvest", max_harvest, "use a finite number > 0")
        self._amax = amax
        points = count("grid", grid, 5, "use a stock grid of at least 5 points")
        _check_resolution(points, self._regrowth)
        self._grid = np.linspace(0.0, cap, points)
        self._symmetry = type_reduction(society, self._stage_model)

    def _stage_model(
        self, weights: np.ndarray, agents: np.ndarray, counts: np.ndarray | None, own: np.ndarray | None
    ) -> StageModel:
        return StageModel(
            weights=weights,
            cost_weights=0.5 / self._society.productivity[agents],
            pieces=RatePieces.of(self._tax.thresholds, self._tax.rates, np.inf),
            omega=self._omega,
            beta=self._beta,
            amax=self._amax,
            regrowth=self._regrowth,
            counts=counts,
            own=own,
        )

    # ------------------------------------------------------------ the Game protocol
    @property
    def n(self) -> int:
        return self._society.n

    @property
    def society(self) -> Society:
        return self._society

    @property
    def policy(self) -> PiecewiseLinearTax:
        """The tax (constant over the episode)."""
        return self._tax

    @property
    def tax(self) -> PiecewiseLinearTax:
        return self._tax

    def with_policy(self, policy: PiecewiseLinearTax) -> DynamicCommonsGame:
        """The same game under another tax."""
        return DynamicCommonsGame(
            self._society,
            policy,
            self._regrowth,
            self._horizon,
            self._beta,
            self._s0,
            self._omega,
            self._amax,
            self._grid.size,
        )

    def with_horizon(self, horizon: float) -> DynamicCommonsGame:
        """The same game with another horizon (``math.inf``: stationary strategies)."""
        return DynamicCommonsGame(
            self._society,
            self._tax,
            self._regrowth,
            horizon,
            self._beta,
            self._s0,
            self._omega,
            self._amax,
            self._grid.size,
        )

    def check_actions(self, actions: npt.ArrayLike, batch: bool = True) -> np.ndarray:
        """Validate strategies: demands of shape ``(T, G, n)`` in ``[0, max_harvest]``."""
        a = np.asarray(actions, dtype=float)
        if a.shape != self.strategy_shape:
            raise ShapeError(
                "actions", f"array of shape {a.shape}", f"give Markov policies of shape {self.strategy_shape}"
            )
        if np.any(~((a >= 0) & (a <= self._amax))):
            raise ActionError(
                "actions",
                a[~((a >= 0) & (a <= self._amax))][:5].tolist(),
                f"demands must lie in [0, max_harvest={self._amax:g}]",
            )
        return a

    def payoffs(self, actions: npt.ArrayLike) -> np.ndarray:
        """Discounted own payoffs :math:`\\sum_t \\beta^t r_{j,t}` along the path from ``S_0``."""
        return self._discounted(self.path(actions).payoffs)

    def utilities(self, actions: npt.ArrayLike) -> np.ndarray:
        """:math:`U_i = \\sum_j W_{ij} \\sum_t \\beta^t r_{j,t}`."""
        return self._society.apply_weights(self.payoffs(actions))

    def best_responses(self, actions: npt.ArrayLike) -> np.ndarray:
        """Each agent's best Markov policy against the others' (its own dynamic programme on the
        grid, backward from the last step; once per type for a type-symmetric profile)."""
        model, a, expand = self._frame(actions)
        out = a.copy()
        for i in range(model.size):
            out[:, :, i] = self._own_programme(model, a, i)
        return expand(out)

    def deviation_gains(self, actions: npt.ArrayLike) -> np.ndarray:
        """Per agent: the largest one-shot deviation gain along the path, discounted to period 0,
        with continuations simulated exactly in the true game (no grid in the continuation)."""
        return np.max(self.step_gains(actions), axis=0)  # type: ignore[no-any-return]

    def step_gains(self, actions: npt.ArrayLike) -> np.ndarray:
        """The one-shot deviation gains (steps, n) at each step of the path from ``S_0``,
        discounted to period 0 (:meth:`deviation_gains` is their maximum over steps): where they
        peak says which step's continuation the strategies get wrong."""
        model, a, expand = self._frame(actions)
        path = self._play(model, a)
        weights = self._beta ** np.arange(path.demands.shape[0])[:, None]
        if self.stationary:  # one continuation for every step: all path stocks at once
            fine, cont = self._true_continuation(model, a, 0)
            _, best = best_replies(model, path.stocks[:-1], path.demands, fine, cont)
            here = model.values(path.stocks[:-1], path.demands, fine, cont)
            return expand(weights * np.maximum(best - here, 0.0))  # type: ignore[no-any-return]
        gains = np.zeros((self.steps, model.size))
        for t in range(self.steps):
            stock = np.array([path.stocks[t]])
            later = self._true_continuation(model, a, t + 1)
            _, best = best_replies(model, stock, path.demands[t][None, :], *later)
            here = model.values(stock, path.demands[t][None, :], *later)[0]
            gains[t] = np.maximum(best[0] - here, 0.0)
        return expand(weights * gains)  # type: ignore[no-any-return]

    def _frame(self, actions: npt.ArrayLike) -> tuple[StageModel, np.ndarray, Any]:
        """The stage model, the strategies on its agent axis and the map back to agents: the type
        model for a type-symmetric profile, else every agent's (:attr:`stage`)."""
        a = self.check_actions(actions)
        red = self._symmetry.reduce(a)
        if red is None:
            return self.stage, a, lambda v: v
        return self._symmetry.model, red, self._symmetry.expand

    # ------------------------------------------------------------ structure
    #: Relative Nash gap accepted by ``solve_equilibrium`` by default: the certificate is measured
    #: in the true game, so it includes the error of the stock grid (refine ``grid`` to lower it).
    default_tolerance = 1e-4

    #: Which Markov perfect equilibrium ``solve_equilibrium`` returns (the result's ``selection``).
    selection_note = (
        "Markov perfect equilibrium by backward induction: at each step and grid stock, of the "
        "candidates that pass the global scan (aggregate roots, the orchard-emptying demands, the "
        "last and next steps' profiles) the one with the largest sum of the agents' stage values "
        "(where the strategies so built are not certified in the true game: the smallest, then "
        "per step; details['stage_selection']), else orchard-emptying and rationing-kink "
        "profiles, else damped best responses; other MPE may exist (several roots of the aggregate "
        "equation, a continuum at the rationing kink). "
        "`aggregate` is the total realised harvest on the path."
    )

    #: What the principal's search may ask: each policy evaluation is a backward induction.
    search_hints = SearchHints(scan_evaluations=16, min_step=1e-3, starts=2, tolerance=default_tolerance)

    @property
    def horizon(self) -> float:
        """``T`` (an int) or ``math.inf``."""
        return self._horizon

    @property
    def stationary(self) -> bool:
        """True for ``horizon=inf``: one stationary policy, shape ``(1, G, n)``."""
        return math.isinf(self._horizon)

    @property
    def steps(self) -> int:
        """Steps simulated for payoffs: ``T``, or the first ``t`` with :math:`\beta^t < 10^{-12}`."""
        if self.stationary:
            return int(math.ceil(math.log(1e-12) / math.log(self._beta)))
        return int(self._horizon)

    @property
    def discount(self) -> float:
        return self._beta

    @property
    def initial_stock(self) -> float:
        return self._s0

    @property
    def regrowth(self) -> Regrowth:
        return self._regrowth

    @property
    def grid(self) -> np.ndarray:
        """The stock grid (policies and values live on it)."""
        return self._grid

    @property
    def max_harvest(self) -> float:
        return self._amax

    @cached_property
    def stage(self) -> StageModel:
        """One step's constants (weights, costs, tax pieces, regrowth), one entry per agent (the
        dense ``W``: at most 4000 agents on the complete graph; see :attr:`symmetry`)."""
        if not self._symmetry.reduces:
            return self._symmetry.model  # type: ignore[no-any-return]
        return self._stage_model(self._society.weights.toarray(), np.arange(self.n), None, None)

    @property
    def symmetry(self) -> TypeReduction:
        """The agents grouped into interchangeable types (complete graph: same selfishness and
        productivity), with the stage model on the type axis; backward induction solves for one
        policy per type."""
        return self._symmetry

    @property
    def strategy_shape(self) -> tuple[int, int, int]:
        return (1 if self.stationary else int(self._horizon), self._grid.size, self.n)

    def action_summary(self, actions: npt.ArrayLike) -> np.ndarray:
        """One number per agent for tables: its total realised harvest along the path from ``S_0``."""
        return np.asarray(self.path(actions).harvests.sum(axis=0))

    def demands_at(self, actions: np.ndarray, t: int, stocks: np.ndarray) -> np.ndarray:
        """The policies' demands at step ``t`` and (off-grid) stocks (..., n)."""
        return np.clip(
            interpolate(self._grid, actions[min(t, actions.shape[0] - 1)], stocks), 0.0, self._amax
        )

    def path(self, actions: npt.ArrayLike, start: int = 0, stock: float | None = None) -> Path:
        """Play the strategies from ``stock`` (default ``S_0``) at step ``start`` to the end."""
        model, a, expand = self._frame(actions)
        p = self._play(model, a, start, stock)
        return Path(p.stocks, expand(p.demands), expand(p.harvests), expand(p.payoffs))

    def _play(self, model: StageModel, a: np.ndarray, start: int = 0, stock: float | None = None) -> Path:
        """:meth:`path` on ``model``'s agent axis."""
        s = self._s0 if stock is None else float(stock)
        steps = self.steps - start
        stocks, demands = np.zeros(steps + 1), np.zeros((steps, model.size))
        harvests, payoffs = np.zeros((steps, model.size)), np.zeros((steps, model.size))
        stocks[0] = s
        for k in range(steps):
            demands[k] = self.demands_at(a, start + k, np.array(stocks[k]))
            y, nxt = model.outcome(np.array(stocks[k]), demands[k])
            harvests[k], payoffs[k], stocks[k + 1] = y, model.payoffs(y), float(nxt)
        return Path(stocks, demands, harvests, payoffs)

    def _discounted(self, payoffs: np.ndarray) -> np.ndarray:
        weights = self._beta ** np.arange(payoffs.shape[0])
        return weights @ payoffs

    def _true_continuation(
        self, model: StageModel, actions: np.ndarray, t: int, points: int = 257
    ) -> tuple[np.ndarray, np.ndarray]:
        """Continuation utilities from step ``t`` on a fine stock grid, each simulated exactly."""
        fine = np.linspace(0.0, self._regrowth.capacity, points)
        return fine, model.weigh(self._rollout(model, actions, t, fine))

    def rollout(self, actions: npt.ArrayLike, start: int, stocks: np.ndarray) -> np.ndarray:
        """Discounted own payoffs (m, n) from step ``start`` of the strategies played from each of
        the stocks (m,) (vectorised over the starting stocks; exact, no grid in the state)."""
        model, a, expand = self._frame(actions)
        return expand(self._rollout(model, a, start, stocks))  # type: ignore[no-any-return]

    def _rollout(self, model: StageModel, actions: np.ndarray, start: int, stocks: np.ndarray) -> np.ndarray:
        s = np.asarray(stocks, dtype=float)
        total = np.zeros(s.shape + (model.size,))
        weight = 1.0
        for t in range(start, self.steps):
            y, s = model.outcome(s, self.demands_at(actions, t, s))
            total += weight * model.payoffs(y)
            weight *= self._beta
        return total

    def _own_programme(
        self, model: StageModel, actions: np.ndarray, i: int, value_tol: float = 1e-10
    ) -> np.ndarray:
        """Agent i's optimal policy against the others' (backward induction on the grid; value
        iteration to ``value_tol`` relative for ``horizon=inf``)."""
        cont = np.zeros((self._grid.size, model.size))
        rows = self.strategy_shape[0]
        policy = np.zeros((rows, self._grid.size))
        sweeps = 10_000 if self.stationary else rows
        for k in range(sweeps):
            t = max(rows - 1 - k, 0)
            demands = self.demands_at(actions, t, self._grid)
            x, v = best_replies(model, self._grid, demands, self._grid, cont)
            policy[t] = x[:, i]
            change = float(np.max(np.abs(v[:, i] - cont[:, 0])))
            cont = np.broadcast_to(v[:, i : i + 1], cont.shape).copy()
            if self.stationary and change <= value_tol * max(1.0, float(np.max(np.abs(v[:, i])))):
                break
        return policy

    def __repr__(self) -> str:
        return (
            f"DynamicCommonsGame(n={self.n}, regrowth={self._regrowth.name!r}, horizon={self._horizon}, "
            f"discount={self._beta}, initial_stock={self._s0}, grid={self._grid.size})"
        )
