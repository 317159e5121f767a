r"""What a game is to sedtheory: the :class:`Game` protocol and the capabilities solvers use.

Every public entry point (``solve_equilibrium``, ``certify``, ``nash_gap``, ``optimal_policy``,
``run_sed``, ``learn``, ...) accepts any object satisfying :class:`Game`. Fast methods ask for
more through capability protocols: :class:`PiecewiseQuadraticGame` is a game whose every
agent's own-action problem is, up to a constant,

.. math:: f_i(x) = \alpha_i(a_{-i})\, x - k_i T(x) - \tfrac12 \beta_i x^2, \qquad x \in [0, U_i],

with a piecewise-linear ``T`` (the commons game of any graph; a Cournot or public-goods game
with a bracket tax) so that exact best responses are a search over at most ``B`` pieces.

Examples
--------
>>> from sedtheory import scenarios
>>> from sedtheory.games import Game, PiecewiseQuadraticGame
>>> game = scenarios.apple_picking()
>>> isinstance(game, Game), isinstance(game, PiecewiseQuadraticGame)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "AggregativeGame",
    "Game",
    "PiecewiseQuadraticGame",
    "SearchHints",
    "action_summary",
    "require_game",
    "search_hints",
]


@runtime_checkable
class Game(Protocol):
    """A normal-form game with continuous actions that sedtheory can solve and design for.

    Attributes and methods
    ----------------------
    n : int
        Number of agents.
    society : Society
        Types and social graph (``society.selfishness`` etc.; used by voting and reports).
    policy : object
        The principal's current instrument (for the commons: the tax schedule).
    check_actions(actions, batch=True) -> ndarray
        Validate a profile ``(n,)`` (or a batch ``(m, n)``); typed error otherwise.
    payoffs(actions) -> ndarray
        Own payoffs ``r_j`` of a profile or batch.
    utilities(actions) -> ndarray
        Utilities ``u_i`` (what agents maximise) of a profile or batch.
    best_responses(actions) -> ndarray
        Every agent's exact best response to a profile.
    deviation_gains(actions) -> ndarray
        ``max_x u_i(x, a_-i) - u_i(a)`` per agent (exact, ``>= 0``).
    with_policy(policy) -> Game
        The same game under another instrument.
    """

    @property
    def n(self) -> int: ...

    @property
    def society(self) -> Any: ...

    @property
    def policy(self) -> Any: ...

    def check_actions(self, actions: npt.ArrayLike, batch: bool = True) -> np.ndarray: ...

    def payoffs(self, actions: npt.ArrayLike) -> np.ndarray: ...

    def utilities(self, actions: npt.ArrayLike) -> np.ndarray: ...

    def best_responses(self, actions: npt.ArrayLike) -> np.ndarray: ...

    def deviation_gains(self, actions: npt.ArrayLike) -> np.ndarray: ...

    def with_policy(self, policy: Any) -> Game: ...


@runtime_checkable
class PiecewiseQuadraticGame(Game, Protocol):
    r"""Capability: every own-action problem is :math:`\alpha_i x - k_i T(x) - \beta_i x^2/2`.

    ``kernel`` is the game's vectorised kernel (:class:`~sedtheory.games.commons.CommonsKernel`
    for the commons) exposing ``k``, ``beta``, ``upper``, ``pieces(rates)``,
    ``intercepts(actions)``, ``payoffs(actions, rates)``, ``replies(alpha, rates)`` and
    ``gains(actions, rates)`` for one profile or a batch (optionally one policy per row).
    """

    @property
    def kernel(self) -> Any: ...


@runtime_checkable
class AggregativeGame(PiecewiseQuadraticGame, Protocol):
    r"""Capability: :math:`\alpha_i = \sigma_i - c_i A_{-i}` (the own-action problem depends on the
    others only through their total), so equilibria are roots of a 1-D aggregate equation."""

    @property
    def uses_global_formulas(self) -> bool: ...


def require_game(game: Any, field: str = "game") -> Any:
    """``game`` if it satisfies :class:`Game`, else a typed error naming ``field``."""
    from sedtheory.errors import InvalidParameterError

    if not isinstance(game, Game):
        missing = [
            m
            for m in (
                "n",
                "society",
                "policy",
                "check_actions",
                "payoffs",
                "utilities",
                "best_responses",
                "deviation_gains",
                "with_policy",
            )
            if not hasattr(game, m)
        ]
        raise InvalidParameterError(
            field,
            type(game).__name__,
            f"pass a game satisfying sedtheory.games.Game, e.g. a CommonsGame (missing: {missing})",
        )
    return game


@dataclass(frozen=True)
class SearchHints:
    """How much a principal's search may ask of a game whose equilibria are costly.

    A game may carry ``search_hints`` (an instance of this class); the generic policy search
    (:func:`~sedtheory.principal.optimal_policy`, :func:`~sedtheory.principal.optimal_tax`) takes
    its defaults from it where the caller gives none. Games without it get the defaults below,
    meant for equilibria that cost milliseconds.

    Attributes
    ----------
    scan_evaluations : int or None
        Policies in the first scan (``None``: the per-dimension defaults of ``scan_points``).
    min_step : float
        Smallest compass step.
    starts : int
        Compass searches from the best scan points.
    tolerance : float
        Relative Nash-gap tolerance of every equilibrium.
    """

    scan_evaluations: int | None = None
    min_step: float = 1e-5
    starts: int = 8
    tolerance: float = 1e-9


def search_hints(game: Any) -> SearchHints:
    """The game's :class:`SearchHints` (the defaults for games without any)."""
    hints = getattr(game, "search_hints", None)
    return hints if isinstance(hints, SearchHints) else SearchHints()


def action_summary(game: Any, actions: np.ndarray) -> np.ndarray:
    """One number per agent for tables and aggregates: the actions themselves, or for games whose
    strategies are richer (Markov policies) the game's own ``action_summary(actions)`` (the
    dynamic commons: total realised harvest along the path)."""
    summary = getattr(game, "action_summary", None)
    return np.asarray(summary(actions) if callable(summary) else actions, dtype=float)
