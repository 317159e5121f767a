"""The principal: optimal bracket taxes for every p, with certificates (DESIGN.md section 6)."""

from sedtheory.principal.batch import PolicyBatch, policy_equilibria
from sedtheory.principal.first_best import TRANSFER_MODELS, FirstBest, first_best
from sedtheory.principal.implementation import (
    Implementation,
    ImplementationSolver,
    ImplementingRates,
    best_implementation,
    implementing_rates,
)

__all__ = [
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
