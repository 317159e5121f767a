"""Deprecated location of :class:`~sedtheory.games.CommonsGame` (kept importable)."""

from sedtheory.games.commons.game import CommonsGame

__all__ = ["CommonsGame"]
