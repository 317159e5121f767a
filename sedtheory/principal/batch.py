"""Deprecated location of the batched equilibrium solver: see :mod:`sedtheory.equilibrium.batch`."""

from sedtheory.equilibrium.batch import (
    PolicyBatch,
    batch_payoffs,
    check_rates,
    opponent_intercepts,
    policy_equilibria,
    reply_bound,
)

__all__ = [
    "PolicyBatch",
    "batch_payoffs",
    "check_rates",
    "opponent_intercepts",
    "policy_equilibria",
    "reply_bound",
]
