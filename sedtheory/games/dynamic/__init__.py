"""The dynamic commons: a stock of apples that harvesting depletes and that regrows.

This package holds the regrowth maps of the seed's T-step Markov game (the orchard's law of
motion, its steady states and maximum sustainable yield, and the stochastic cell orchard whose
mean field they are), the Markov game, and the grouping of interchangeable agents into types
that lets backward induction solve one policy per type.
"""

from sedtheory.games.dynamic.game import DynamicCommonsGame, Path
from sedtheory.games.dynamic.regrowth import (
    MELTING_POT_PROBABILITIES,
    REGROWTH,
    Regrowth,
    logistic,
    melting_pot,
    orchard_step,
    regrowth_map,
    simulate_orchard,
)
from sedtheory.games.dynamic.symmetry import TypeReduction, type_reduction

__all__ = [
    "DynamicCommonsGame",
    "MELTING_POT_PROBABILITIES",
    "Path",
    "REGROWTH",
    "Regrowth",
    "TypeReduction",
    "logistic",
    "melting_pot",
    "orchard_step",
    "regrowth_map",
    "simulate_orchard",
    "type_reduction",
]
