"""Games: the :class:`Game` protocol, capabilities, and one package per game.

Adding a game means adding a package here whose game class satisfies :class:`Game` (and, for
the fast solvers, a capability such as :class:`PiecewiseQuadraticGame`); see
``docs/architecture.md``.
"""

from sedtheory.games.commons import CommonsGame, CommonsKernel
from sedtheory.games.protocol import (
    AggregativeGame,
    Game,
    PiecewiseQuadraticGame,
    SearchHints,
    action_summary,
    require_game,
    search_hints,
)

__all__ = [
    "AggregativeGame",
    "CommonsGame",
    "CommonsKernel",
    "Game",
    "PiecewiseQuadraticGame",
    "SearchHints",
    "action_summary",
    "require_game",
    "search_hints",
]
