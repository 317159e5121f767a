"""sedtheory: exact, certified theory for Social Environment Design.

Importing the package has no side effects.

``sedtheory.welfare`` is both the module of p-means and callable as the principal's objective
at a profile: ``sedtheory.welfare(game, actions, p)`` is :func:`sedtheory.welfare.welfare`.
"""

from sedtheory import errors, scenarios, voting, welfare
from sedtheory.equilibrium import Equilibrium, certify, nash_gap, solve_equilibrium
from sedtheory.game import CommonsGame
from sedtheory.loop import SEDRound, SEDRun, run_sed
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
from sedtheory.voting import (
    RULES,
    PreferencesOverP,
    find_manipulation,
    preferences_over_p,
    vote_report,
    winner,
    winners,
)
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
    "PreferencesOverP",
    "RULES",
    "SEDRound",
    "SEDRun",
    "Position",
    "Society",
    "SymbolicEquilibrium",
    "SymmetricClosedForms",
    "TaxDesign",
    "WelfareFrontier",
    "best_implementation",
    "certify",
    "errors",
    "find_manipulation",
    "first_best",
    "grid_search_tax",
    "implementing_rates",
    "laissez_faire",
    "nash_gap",
    "optimal_tax",
    "pigouvian_tax",
    "pmean",
    "policy_equilibria",
    "preferences_over_p",
    "run_sed",
    "saez_tax",
    "scenarios",
    "solve_equilibrium",
    "symbolic_equilibrium",
    "symmetric_closed_forms",
    "vote_report",
    "voting",
    "welfare",
    "welfare_frontier",
    "winner",
    "winners",
]

__version__ = "0.1.0"
