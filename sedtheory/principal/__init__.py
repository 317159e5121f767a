"""The principal: the best policy of any policy space for any objective, with certificates.

``optimal_policy(game, objective, space)`` is generic over games and policy spaces;
``optimal_tax`` is its front door for bracket rates. The first best, implementation programs
and baselines are written for the commons game.
"""

from sedtheory.equilibrium.batch import PolicyBatch, policy_equilibria
from sedtheory.principal.agentwise import AgentwiseBox, agentwise_bound
from sedtheory.principal.baselines import (
    PolicyOutcome,
    evaluate_policy,
    grid_search_tax,
    laissez_faire,
    pigouvian_tax,
    saez_tax,
)
from sedtheory.principal.box_relaxation import RelaxationBound, relaxation_bound
from sedtheory.principal.branch_bound import rate_box_bound, regime_bound
from sedtheory.principal.dynamic_plan import DynamicPlan, dynamic_first_best
from sedtheory.principal.first_best import TRANSFER_MODELS, FirstBest, first_best, upper_bound
from sedtheory.principal.frontier import WelfareFrontier, pareto_front, welfare_frontier
from sedtheory.principal.global_bound import SecondBestBound, second_best_bound
from sedtheory.principal.implementation import (
    Implementation,
    ImplementationSolver,
    ImplementingRates,
    best_implementation,
    implementing_rates,
)
from sedtheory.principal.inefficiency import Inefficiency, inefficiency, price_of_anarchy, price_of_stability
from sedtheory.principal.optimal import TaxDesign, optimal_tax
from sedtheory.principal.planner_dual import (
    DualPlan,
    WeightedPlan,
    dual_first_best,
    plan_bound,
    prices_bound,
    weighted_plan,
)
from sedtheory.principal.policy import PolicyDesign, Polished, optimal_policy
from sedtheory.principal.selection import SELECTIONS
from sedtheory.principal.spaces import (
    BracketRates,
    ParametricPolicy,
    PolicyEvaluations,
    PolicySpace,
    default_space,
)
from sedtheory.principal.steady import (
    SteadyState,
    SteadyStates,
    mpe_steady_states,
    planner_steady_state,
    steady_states,
)
from sedtheory.principal.survival import SurvivalRate, minimal_rates_to_survive
from sedtheory.principal.top_rate import TopRate, saez_top_rate
from sedtheory.principal.weighted_planner import agent_maxima
from sedtheory.welfare import welfare

__all__ = [
    "AgentwiseBox",
    "agentwise_bound",
    "SecondBestBound",
    "second_best_bound",
    "rate_box_bound",
    "regime_bound",
    "RelaxationBound",
    "relaxation_bound",
    "Inefficiency",
    "SELECTIONS",
    "inefficiency",
    "price_of_anarchy",
    "price_of_stability",
    "BracketRates",
    "FirstBest",
    "Implementation",
    "ImplementationSolver",
    "ImplementingRates",
    "ParametricPolicy",
    "PolicyBatch",
    "PolicyDesign",
    "PolicyEvaluations",
    "PolicyOutcome",
    "PolicySpace",
    "Polished",
    "TRANSFER_MODELS",
    "TaxDesign",
    "WelfareFrontier",
    "best_implementation",
    "default_space",
    "evaluate_policy",
    "first_best",
    "grid_search_tax",
    "implementing_rates",
    "laissez_faire",
    "optimal_policy",
    "optimal_tax",
    "pareto_front",
    "pigouvian_tax",
    "policy_equilibria",
    "saez_tax",
    "saez_top_rate",
    "TopRate",
    "SteadyState",
    "SteadyStates",
    "SurvivalRate",
    "mpe_steady_states",
    "planner_steady_state",
    "steady_states",
    "minimal_rates_to_survive",
    "DynamicPlan",
    "dynamic_first_best",
    "upper_bound",
    "DualPlan",
    "WeightedPlan",
    "dual_first_best",
    "plan_bound",
    "prices_bound",
    "weighted_plan",
    "agent_maxima",
    "welfare",
    "welfare_frontier",
]
