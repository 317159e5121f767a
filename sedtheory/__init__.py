"""sedtheory: exact, certified theory for Social Environment Design.

Importing the package has no side effects.
"""

from sedtheory import errors, scenarios
from sedtheory.equilibrium import Equilibrium, certify, nash_gap, solve_equilibrium
from sedtheory.game import CommonsGame
from sedtheory.society import Society
from sedtheory.symbolic import NoClosedFormError, Position, SymbolicEquilibrium, symbolic_equilibrium
from sedtheory.symbolic.symmetric import SymmetricClosedForms, symmetric_closed_forms
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import pmean

__all__ = [
    "CommonsGame",
    "Equilibrium",
    "NoClosedFormError",
    "PiecewiseLinearTax",
    "Position",
    "Society",
    "SymbolicEquilibrium",
    "SymmetricClosedForms",
    "certify",
    "errors",
    "nash_gap",
    "pmean",
    "scenarios",
    "solve_equilibrium",
    "symbolic_equilibrium",
    "symmetric_closed_forms",
]

__version__ = "0.1.0"
