"""The commons game (global or local damage) and its vectorised kernel."""

from sedtheory.games.commons import formulas
from sedtheory.games.commons.game import CommonsGame
from sedtheory.games.commons.kernel import CommonsKernel, RatePieces, piece_search
from sedtheory.games.commons.replies import best_replies

__all__ = ["CommonsGame", "CommonsKernel", "RatePieces", "best_replies", "formulas", "piece_search"]
