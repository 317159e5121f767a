r"""Steady states of the dynamic commons: where the stationary MPE and the planner leave the stock.

For a stationary total harvest :math:`H(S)` the stock follows :math:`S' = \phi(S) = G(S - \min(H(S), S))`;
its steady states are the fixed points of :math:`\phi` (``0`` always is one: collapse is absorbing),
stable when :math:`|\phi'(S^*)| < 1`.

* **MPE.** :math:`H` is the total demand of the stationary Markov perfect equilibrium of the
  game with ``horizon=inf`` (value iteration, :mod:`sedtheory.equilibrium.dynamic`), linearly
  interpolated on the stock grid like the strategies themselves; :math:`\phi'` by central
  differences.
* **Planner.** A planner who can move consumption across agents and time keeps, at a steady
  state, the escapement :math:`E^*` of the modified golden rule :math:`\beta G'(E^*) = 1`: moving
  one apple from step ``t`` to ``t+1`` returns :math:`G'(E)` apples discounted by :math:`\beta`,
  and at a steady state the marginal utilities of the two steps are equal whatever ``p`` is
  (Clark 1990, ch. 2). In general :math:`E^* = \arg\max_E\, \beta G(E) - E` (the global
  maximiser, for non-concave maps too); ``E* = 0`` means the planner itself runs the orchard
  down. When the sustained harvest :math:`G(E^*) - E^*` exceeds what the agents want at all
  (their bliss harvests :math:`\theta_i`, where the marginal effort cost reaches the apple's
  value), the planner harvests only that much and the stock settles higher: the largest fixed
  point of :math:`S \mapsto G(S - \sum_i \theta_i)`.
* **Collapse.** Whether the MPE path of the game as given (its own horizon) empties the orchard,
  and when.

References
----------
.. [1] C. W. Clark, *Mathematical Bioeconomics*, 2nd ed., Wiley (1990).
.. [2] D. Levhari, L. J. Mirman, "The great fish war", *Bell Journal of Economics* 11 (1980).

Examples
--------
>>> import sedtheory as sed
>>> from sedtheory.games.dynamic import DynamicCommonsGame
>>> game = DynamicCommonsGame(sed.Society([1.0, 1.0], 40.0), sed.PiecewiseLinearTax([0], [0.0]),
...                           horizon=5, discount=0.9, grid=41)
>>> steady = steady_states(game)
>>> steady.collapses, steady.collapse_step, round(steady.planner.stock, 3)
(True, 2, 32.793)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sedtheory.equilibrium import Equilibrium, solve_equilibrium
from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.games.dynamic.stage import interpolate

__all__ = ["SteadyState", "SteadyStates", "mpe_steady_states", "planner_steady_state", "steady_states"]


@dataclass(frozen=True)
class SteadyState:
    """A fixed point ``stock = G(stock - harvest)``.

    Attributes
    ----------
    stock, harvest, escapement : float
        The steady stock, the total realised harvest per step and what is left to regrow.
    multiplier : float
        :math:`\\phi'(S^*)` of the stock map (``nan`` when not computed).
    stable : bool
        ``|multiplier| < 1`` (locally attracting); for the planner, attracting along the optimal
        path (the turnpike property for concave ``G``).
    """

    stock: float
    harvest: float
    escapement: float
    multiplier: float
    stable: bool


@dataclass(frozen=True)
class SteadyStates:
    """Steady states of a dynamic commons game (see the module notes).

    Attributes
    ----------
    mpe : tuple of SteadyState
        Fixed points of the stationary MPE's stock map, ascending (the first is the collapse 0).
    planner : SteadyState
        The planner's steady state (modified golden rule, capped by the agents' bliss harvests).
    maximum_sustainable_yield : tuple of float
        ``(E, G(E) - E)`` of the regrowth map.
    collapses : bool
        Whether the MPE path of the game as given (its own horizon) ends with an empty orchard.
    collapse_step : int or None
        The first step whose starting stock is empty (``None`` if none).
    path_stocks : numpy.ndarray
        That path's stocks ``S_0 .. S_T``.
    mpe_gap : float
        Relative Nash gap of the stationary MPE (its certificate).
    """

    mpe: tuple[SteadyState, ...]
    planner: SteadyState
    maximum_sustainable_yield: tuple[float, float]
    collapses: bool
    collapse_step: int | None
    path_stocks: np.ndarray
    mpe_gap: float


def mpe_steady_states(
    game: DynamicCommonsGame, points: int = 4001, equilibrium: Equilibrium | None = None
) -> tuple[tuple[SteadyState, ...], float]:
    """Fixed points of the stationary MPE's stock map (solving the game with ``horizon=inf``),
    ascending (:meth:`~sedtheory.games.dynamic.Regrowth.steady_states` with the MPE's total
    demand), and the stationary MPE's relative Nash gap. ``equilibrium``: the stationary MPE when
    already solved (only used for a game with ``horizon=inf``)."""
    if game.discount >= 1.0:
        raise InvalidParameterError(
            "discount", game.discount, "steady states of the stationary MPE need discount < 1"
        )
    stationary = game if game.stationary else game.with_horizon(math.inf)
    known = equilibrium if game.stationary else None
    eq = known if known is not None else solve_equilibrium(stationary, raise_on_failure=False)
    policy, g = eq.actions[0], stationary.regrowth

    def demand(s: np.ndarray) -> np.ndarray:
        """Total demand of the stationary policies at stocks ``s``."""
        return np.asarray(interpolate(stationary.grid, policy, np.asarray(s, dtype=float)).sum(axis=-1))

    out = []
    step = 1e-6 * g.capacity
    for s in g.steady_states(demand, points):
        ends = np.array([max(s - step, 0.0), min(s + step, g.capacity)])
        after = g(np.maximum(ends - demand(ends), 0.0))  # the stock map around the fixed point
        slope = float((after[1] - after[0]) / (ends[1] - ends[0]))
        harvest = float(min(demand(np.array(s)), s))
        out.append(SteadyState(float(s), harvest, float(s) - harvest, slope, abs(slope) < 1.0))
    return tuple(out), eq.relative_nash_gap


def planner_steady_state(game: DynamicCommonsGame, points: int = 20001) -> SteadyState:
    r"""The planner's steady state: escapement :math:`\arg\max_E \beta G(E) - E`, harvest capped at
    the agents' total bliss harvest :math:`\sum_i \theta_i` (see the module notes)."""
    g = game.regrowth
    e_star = g.best_escapement(game.discount, points)
    bliss = float(np.sum(game.society.productivity))  # theta_i: where 1 - a / theta_i = 0
    bliss = min(bliss, game.n * game.max_harvest)
    harvest = float(g(e_star)) - e_star
    if harvest > bliss:  # sustaining more than anyone wants: harvest the bliss amounts only
        fixed = g.steady_states(lambda s: np.full_like(s, bliss))
        stock = float(fixed[-1]) if fixed.size else 0.0
        return SteadyState(stock, bliss if stock > 0 else 0.0, max(stock - bliss, 0.0), math.nan, True)
    return SteadyState(float(g(e_star)), harvest, e_star, math.nan, True)


def steady_states(game: DynamicCommonsGame, equilibrium: Equilibrium | None = None) -> SteadyStates:
    """Steady states and collapse of a :class:`~sedtheory.games.dynamic.DynamicCommonsGame` (its
    tax as given): the stationary MPE's fixed points, the planner's steady state, the maximum
    sustainable yield, and whether the game's own MPE path empties the orchard (``equilibrium``:
    that MPE when already solved)."""
    if not all(hasattr(game, a) for a in ("regrowth", "with_horizon", "path", "stage")):
        raise InvalidParameterError("game", type(game).__name__, "pass a DynamicCommonsGame")
    eq = equilibrium if equilibrium is not None else solve_equilibrium(game, raise_on_failure=False)
    mpe, gap = mpe_steady_states(game, equilibrium=eq)
    stocks = game.path(eq.actions).stocks
    empty = np.nonzero(stocks <= 1e-9)[0]
    collapse_step = int(empty[0]) if empty.size else None
    planner = planner_steady_state(game)
    return SteadyStates(
        mpe,
        planner,
        game.regrowth.maximum_sustainable_yield(),
        bool(stocks[-1] <= 1e-9),
        collapse_step,
        stocks,
        gap,
    )
