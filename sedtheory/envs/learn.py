r"""Independent policy-gradient learners in the dynamic commons environment, compared with the
Markov perfect equilibrium and the planner.

Each agent's stationary policy is :math:`h_i(S) = a_{max}\,\mathrm{sigmoid}(\theta_{i0} +
\theta_{i1} S / K)` (harvest as a smooth function of the stock). Every round, each agent
estimates the gradient of its own discounted return with respect to its two parameters by
antithetic perturbations (evolution-strategies policy gradient: episodes at
:math:`\theta_i \pm \sigma \varepsilon` with the others fixed, played in
:class:`~sedtheory.envs.DynamicCommonsEnv`) and takes a normalised ascent step: simultaneous
gradient play. A stationary two-parameter policy cannot represent a finite horizon's
time-dependent equilibrium exactly; :func:`compare_dynamic` reports how far the learners end
from the MPE in welfare, stocks and Nash gap, and says plainly when they did not get close.

References
----------
.. [1] T. Salimans et al., "Evolution strategies as a scalable alternative to reinforcement
   learning", arXiv:1703.03864 (2017).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sedtheory.envs.commons import DynamicCommonsEnv
from sedtheory.equilibrium import solve_equilibrium
from sedtheory.errors import InvalidParameterError
from sedtheory.objective import Objective, as_objective
from sedtheory.validate import count, positive_float

__all__ = ["DynamicComparison", "LearnedPolicies", "compare_dynamic", "learn_dynamic"]


@dataclass(frozen=True)
class LearnedPolicies:
    """What the learners reached.

    Attributes
    ----------
    params : numpy.ndarray
        ``(n, 2)`` policy parameters.
    strategies : numpy.ndarray
        The policies on the game's grid, shape ``game.strategy_shape``.
    returns : numpy.ndarray
        ``(rounds, n)`` each agent's discounted return per round.
    nash_gap : float
        The game's deviation gain at the learned strategies (one-shot deviations in the true game).
    """

    params: np.ndarray
    strategies: np.ndarray
    returns: np.ndarray
    nash_gap: float


def _policy(params: np.ndarray, stock: Any, cap: float, amax: float) -> np.ndarray:
    """Every agent's demand at a stock (n,), or at stocks (m,) -> (m, n)."""
    z = params[:, 0] + params[:, 1] * np.asarray(stock, dtype=float)[..., None] / cap
    return amax / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def _episode(env: DynamicCommonsEnv, params: np.ndarray, seed: int | None) -> np.ndarray:
    """Discounted returns (n,) of one episode with these parameters."""
    game = env.game
    cap, amax, beta = game.regrowth.capacity, game.max_harvest, game.discount
    obs, _ = env.reset(seed=seed)
    total, weight = np.zeros(game.n), 1.0
    while env.agents:
        demands = _policy(params, env.stock, cap, amax)
        _, rewards, _, _, _ = env.step({a: [demands[k]] for k, a in enumerate(env.possible_agents)})
        total += weight * np.array([rewards[a] for a in env.possible_agents])
        weight *= beta
    return total


def learn_dynamic(
    game: Any,
    rounds: int = 150,
    lr: float = 0.3,
    noise: float = 0.2,
    mode: str = "deterministic",
    seed: int | np.random.Generator | None = None,
) -> LearnedPolicies:
    """Train independent policy-gradient learners in :class:`DynamicCommonsEnv` (see the module
    notes); ``seed`` fixes the perturbations and the stochastic orchard."""
    rounds = count("rounds", rounds, 1, "use a positive number of rounds")
    lr = positive_float("lr", lr)
    noise = positive_float("noise", noise)
    env = DynamicCommonsEnv(game, mode=mode)
    rng = np.random.default_rng(seed)
    n = game.n
    params = np.zeros((n, 2))
    history = np.zeros((rounds, n))
    for k in range(rounds):
        eps = rng.standard_normal((n, 2))
        grad = np.zeros((n, 2))
        episode_seed = int(rng.integers(2**31)) if mode == "stochastic" else None
        for i in range(n):
            up, down = params.copy(), params.copy()
            up[i] += noise * eps[i]
            down[i] -= noise * eps[i]
            diff = _episode(env, up, episode_seed)[i] - _episode(env, down, episode_seed)[i]
            grad[i] = diff / (2.0 * noise) * eps[i]
        norm = np.linalg.norm(grad, axis=1, keepdims=True)
        params += lr * grad / np.maximum(norm, 1e-12)
        history[k] = _episode(env, params, episode_seed)
    strategies = _strategies(game, params)
    return LearnedPolicies(params, strategies, history, float(np.max(game.deviation_gains(strategies))))


def _strategies(game: Any, params: np.ndarray) -> np.ndarray:
    rows = _policy(params, game.grid, game.regrowth.capacity, game.max_harvest)  # (G, n)
    return np.broadcast_to(rows, game.strategy_shape).copy()


@dataclass(frozen=True)
class DynamicComparison:
    """Learned play vs the MPE vs the planner for one objective.

    Attributes
    ----------
    objective : Objective
    welfare : dict
        ``{"learned", "mpe", "planner"}`` -> the objective's value.
    stocks : dict
        The same keys -> stock paths ``(T+1,)``.
    learned : LearnedPolicies
    mpe_gap : float
        The MPE's Nash gap (one-shot deviations in the true game).
    verdict : str
        Whether the learners got close to the MPE, in words.
    """

    objective: Objective
    welfare: dict[str, float]
    stocks: dict[str, np.ndarray]
    learned: LearnedPolicies
    mpe_gap: float
    verdict: str


def compare_dynamic(
    game: Any, p: float | Objective = 1.0, learned: LearnedPolicies | None = None, **learn_kw: Any
) -> DynamicComparison:
    """Welfare and stock paths of the learners (trained here unless ``learned`` is given), the MPE
    and the planner's first best (:func:`~sedtheory.principal.dynamic_first_best`)."""
    from sedtheory.principal.dynamic_plan import dynamic_first_best

    objective = as_objective(p)
    if learned is not None and learned.strategies.shape != game.strategy_shape:
        raise InvalidParameterError("learned", learned.strategies.shape, "learned policies of another game")
    learned = learned or learn_dynamic(game, **learn_kw)
    eq = solve_equilibrium(game, raise_on_failure=False)
    plan = dynamic_first_best(game, objective) if objective.concave else None

    welfare = {
        "learned": objective.of_profile(game, learned.strategies),
        "mpe": objective.of_profile(game, eq.actions),
    }
    stocks = {"learned": game.path(learned.strategies).stocks, "mpe": game.path(eq.actions).stocks}
    if plan is not None:
        welfare["planner"], stocks["planner"] = plan.welfare, plan.stocks
    distance = float(np.max(np.abs(stocks["learned"] - stocks["mpe"])))
    close = learned.nash_gap <= 1e-2 * max(1.0, abs(welfare["mpe"]))
    verdict = (
        f"the learners ended near an equilibrium (Nash gap {learned.nash_gap:.3g}); stock paths differ from "
        f"the MPE's by at most {distance:.3g}"
        if close
        else f"learning did not reach an equilibrium: the learned policies leave a Nash gap of "
        f"{learned.nash_gap:.3g} (MPE welfare {welfare['mpe']:.4g}, learned {welfare['learned']:.4g})"
    )
    return DynamicComparison(objective, welfare, stocks, learned, float(eq.nash_gap), verdict)
