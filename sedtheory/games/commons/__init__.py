"""The commons game (global or local damage) and its vectorised kernel."""

from sedtheory.games.commons import formulas
from sedtheory.games.commons.game import CommonsGame
from sedtheory.games.commons.kernel import CommonsKernel, RatePieces, piece_search
from sedtheory.games.commons.replies import best_replies

__all__ = [
    "CommonsGame",
    "CommonsKernel",
    "RatePieces",
    "best_replies",
    "formulas",
    "piece_search",
    "require_commons",
]


def require_commons(game: object, field: str = "game", what: str = "this method") -> CommonsGame:
    """``game`` if it is the commons game, else a typed error saying ``what`` needs it."""
    from sedtheory.errors import CapabilityError

    if not isinstance(game, CommonsGame):
        raise CapabilityError(field, type(game).__name__, f"{what} is written for a sedtheory.CommonsGame")
    return game
