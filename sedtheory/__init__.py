"""sedtheory: exact, certified theory for Social Environment Design.

Importing the package has no side effects.

``sedtheory.welfare`` is both the module of p-means and callable as the principal's objective
at a profile: ``sedtheory.welfare(game, actions, p)`` is :func:`sedtheory.welfare.welfare`.
"""

from sedtheory import errors, games, scenarios, voting, welfare
from sedtheory.certificate import Certificate
from sedtheory.equilibrium import (
    SOLVERS,
    Equilibrium,
    EquilibriumSet,
    certify,
    equilibria,
    nash_gap,
    solve_equilibrium,
)
from sedtheory.games import CommonsGame, Game, PiecewiseQuadraticGame
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.loop import SEDRound, SEDRun, run_sed
from sedtheory.objective import Objective
from sedtheory.principal import (
    BracketRates,
    DynamicPlan,
    FirstBest,
    Implementation,
    ImplementingRates,
    Inefficiency,
    ParametricPolicy,
    PolicyBatch,
    PolicyDesign,
    PolicyOutcome,
    PolicySpace,
    TaxDesign,
    WelfareFrontier,
    best_implementation,
    dual_first_best,
    dynamic_first_best,
    first_best,
    grid_search_tax,
    implementing_rates,
    inefficiency,
    laissez_faire,
    minimal_rates_to_survive,
    optimal_policy,
    optimal_tax,
    pigouvian_tax,
    policy_equilibria,
    price_of_anarchy,
    price_of_stability,
    saez_tax,
    saez_top_rate,
    steady_states,
    welfare_frontier,
)
from sedtheory.registry import Registry, register
from sedtheory.scenarios import ScenarioSpec
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
    "DynamicPlan",
    "dynamic_first_best",
    "minimal_rates_to_survive",
    "steady_states",
    "BracketRates",
    "Certificate",
    "CommonsGame",
    "DynamicCommonsGame",
    "Equilibrium",
    "EquilibriumSet",
    "FirstBest",
    "Game",
    "Implementation",
    "Inefficiency",
    "ImplementingRates",
    "NoClosedFormError",
    "Objective",
    "ParametricPolicy",
    "PiecewiseQuadraticGame",
    "PiecewiseLinearTax",
    "PolicyBatch",
    "PolicyDesign",
    "PolicyOutcome",
    "PolicySpace",
    "PreferencesOverP",
    "RULES",
    "Registry",
    "SOLVERS",
    "ScenarioSpec",
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
    "equilibria",
    "errors",
    "find_manipulation",
    "first_best",
    "dual_first_best",
    "games",
    "grid_search_tax",
    "implementing_rates",
    "inefficiency",
    "laissez_faire",
    "nash_gap",
    "optimal_policy",
    "optimal_tax",
    "pigouvian_tax",
    "pmean",
    "policy_equilibria",
    "price_of_anarchy",
    "price_of_stability",
    "preferences_over_p",
    "register",
    "run_sed",
    "saez_tax",
    "saez_top_rate",
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
