"""The principal: optimal bracket taxes for every p, with certificates (DESIGN.md section 6)."""

from sedtheory.principal.baselines import (
    PolicyOutcome,
    evaluate_policy,
    grid_search_tax,
    laissez_faire,
    pigouvian_tax,
    saez_tax,
)
from sedtheory.principal.batch import PolicyBatch, policy_equilibria
from sedtheory.principal.first_best import TRANSFER_MODELS, FirstBest, first_best
from sedtheory.principal.frontier import WelfareFrontier, pareto_front, welfare_frontier
from sedtheory.principal.implementation import (
    Implementation,
    ImplementationSolver,
    ImplementingRates,
    best_implementation,
    implementing_rates,
)
from sedtheory.principal.optimal import TaxDesign, optimal_tax, upper_bound
from sedtheory.welfare import welfare

__all__ = [
    "PolicyOutcome",
    "TaxDesign",
    "evaluate_policy",
    "grid_search_tax",
    "laissez_faire",
    "optimal_tax",
    "pigouvian_tax",
    "saez_tax",
    "upper_bound",
    "WelfareFrontier",
    "pareto_front",
    "welfare",
    "welfare_frontier",
    "TRANSFER_MODELS",
    "FirstBest",
    "Implementation",
    "ImplementationSolver",
    "ImplementingRates",
    "PolicyBatch",
    "best_implementation",
    "first_best",
    "implementing_rates",
    "policy_equilibria",
]
