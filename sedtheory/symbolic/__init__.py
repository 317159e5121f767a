"""Symbolic (sympy) equilibria, first best and Pigouvian taxes of the commons game."""

from sedtheory.symbolic.equilibrium import NoClosedFormError, SymbolicEquilibrium, symbolic_equilibrium
from sedtheory.symbolic.model import SymbolicModel
from sedtheory.symbolic.regime import Position, parse_regime, regime_of
from sedtheory.symbolic.symmetric import Sensitivity, SymmetricClosedForms, symmetric_closed_forms

__all__ = [
    "NoClosedFormError",
    "Position",
    "SymbolicEquilibrium",
    "SymbolicModel",
    "Sensitivity",
    "SymmetricClosedForms",
    "parse_regime",
    "regime_of",
    "symbolic_equilibrium",
    "symmetric_closed_forms",
]
