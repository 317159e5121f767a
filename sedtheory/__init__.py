"""sedtheory: exact, certified theory for Social Environment Design.

Importing the package has no side effects.

``sedtheory.welfare`` is both the module of p-means and callable as the principal's objective
at a profile: ``sedtheory.welfare(game, actions, p)`` is :func:`sedtheory.welfare.welfare`.
"""

from sedtheory import errors, scenarios, welfare
from sedtheory.equilibrium import Equilibrium, certify, nash_gap, solve_equilibrium
from sedtheory.game import CommonsGame
from sedtheory.principal import (
    FirstBest,
    Implementation,
    ImplementingRates,
    PolicyBatch,
    PolicyOutcome,
    TaxDesign,
    WelfareFrontier,
    best_implementation,
    first_best,
    grid_search_tax,
    implementing_rates,
    laissez_faire,
    optimal_tax,
    pigouvian_tax,
    policy_equilibria,
    saez_tax,
    welfare_frontier,
)
from sedtheory.society import Society
from sedtheory.symbolic import NoClosedFormError, Position, SymbolicEquilibrium, symbolic_equilibrium
from sedtheory.symbolic.symmetric import SymmetricClosedForms, symmetric_closed_forms
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import pmean

__all__ = [
    "CommonsGame",
    "Equilibrium",
    "FirstBest",
    "Implementation",
    "ImplementingRates",
    "NoClosedFormError",
    "PiecewiseLinearTax",
    "PolicyBatch",
    "PolicyOutcome",
    "Position",
    "Society",
    "SymbolicEquilibrium",
    "SymmetricClosedForms",
    "TaxDesign",
    "WelfareFrontier",
    "best_implementation",
    "certify",
    "errors",
    "first_best",
    "grid_search_tax",
    "implementing_rates",
    "laissez_faire",
    "nash_gap",
    "optimal_tax",
    "pigouvian_tax",
    "pmean",
    "policy_equilibria",
    "saez_tax",
    "scenarios",
    "solve_equilibrium",
    "symbolic_equilibrium",
    "symmetric_closed_forms",
    "welfare",
    "welfare_frontier",
]

__version__ = "0.1.0"
