"""Learning agents and learning principals, compared with the analytic optimum."""

from sedtheory.learning.agents import (
    LEARNERS,
    AgentLearner,
    LearnerSpec,
    agent_learner,
    applicable_learners,
    make_learner,
)
from sedtheory.learning.compare import Comparison, compare
from sedtheory.learning.model import StageModel, cce_gaps
from sedtheory.learning.play import LearningHistory, LearningResult, learn
from sedtheory.learning.principal import (
    PRINCIPAL_LEARNERS,
    PrincipalLearnerSpec,
    PrincipalLearningResult,
    learn_principal,
)
from sedtheory.learning.sweep import DEFAULT_GRID, cells, run_cell, sweep

__all__ = [
    "AgentLearner",
    "DEFAULT_GRID",
    "Comparison",
    "LEARNERS",
    "LearnerSpec",
    "LearningHistory",
    "LearningResult",
    "PRINCIPAL_LEARNERS",
    "PrincipalLearnerSpec",
    "PrincipalLearningResult",
    "StageModel",
    "agent_learner",
    "applicable_learners",
    "cce_gaps",
    "cells",
    "compare",
    "learn",
    "learn_principal",
    "make_learner",
    "run_cell",
    "sweep",
]
