"""Learning environments with the dynamics of the games (PettingZoo ``ParallelEnv``).

Loaded on demand: importing :mod:`sedtheory` does not import PettingZoo or Gymnasium (the
optional extra ``sedtheory[envs]`` installs them).
"""

from sedtheory.envs.commons import DynamicCommonsEnv
from sedtheory.envs.learn import DynamicComparison, LearnedPolicies, compare_dynamic, learn_dynamic

__all__ = ["DynamicCommonsEnv", "DynamicComparison", "LearnedPolicies", "compare_dynamic", "learn_dynamic"]
