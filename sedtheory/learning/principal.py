r"""Learning principals: setting the rates while the agents learn (two time-scales).

Each epoch the principal posts rates; the agents (any registered agent learner, warm-started
from the previous epoch's state) play ``inner_rounds`` rounds under them; the principal
observes the realised welfare :math:`M_p` of the utilities of the last round and updates.
The analytic :func:`~sedtheory.principal.optimal_tax` is the reference: the regret of epoch t
is :math:`W^* - W_t`.

Principal learners (:data:`PRINCIPAL_LEARNERS`):

* ``ucb``: UCB over the seed's rate grid (``step`` 0.1: 11^B arms), in its variance-aware form
  UCB-V (Audibert, Munos and Szepesvari, 2009), since the realised welfare of an arm varies
  little once the agents have settled. Arms not yet tried come first (in a seeded random
  order); then the arm maximising :math:`\bar W_a + \sqrt{2 V_a \ln t / n_a} + 3 c R \ln t / n_a`,
  with :math:`V_a` the arm's empirical variance and :math:`R` the range of welfare observed so
  far (rewards are not in [0, 1]); ``c = 0.1`` by default (with c = 1 the bonus, scaled by a
  range that includes very bad arms, keeps UCB exploring for thousands of epochs on the seed
  scenario). Final rates: the arm with the best mean.
* ``spsa``: simultaneous-perturbation stochastic approximation on the rates (Spall, 1992).
  Iteration k spends two epochs at :math:`\phi \pm c_k \Delta_k` (Rademacher
  :math:`\Delta_k`), estimates the gradient :math:`(W^+ - W^-)/(2 c_k) \Delta_k^{-1}` and takes a
  normalised step :math:`\phi \leftarrow \Pi(\phi + a_k \hat g / \|\hat g\|_\infty)` with
  :math:`a_k = a (k + 1)^{-0.602}`, :math:`c_k = c (k + 1)^{-0.101}` (Spall's exponents; the
  normalisation makes the step scale-free). Final rates: the current iterate.

Examples
--------
>>> import sedtheory as sed
>>> from sedtheory.learning import learn_principal
>>> res = learn_principal(sed.scenarios.apple_picking(), 1.0, "ucb", epochs=300, step=0.25, seed=0)
>>> res.rates.shape, bool(res.average_regret[-1] < res.average_regret[124])
((300, 3), True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame
from sedtheory.learning.agents import AgentLearner, make_learner
from sedtheory.learning.model import StageModel
from sedtheory.learning.play import run_learner
from sedtheory.objective import pick
from sedtheory.principal.implementation import check_bounds
from sedtheory.principal.optimal import optimal_tax
from sedtheory.principal.policy import PolicyDesign
from sedtheory.registry import Registry
from sedtheory.validate import count
from sedtheory.welfare import objective_args, pmean_or_minus_inf

__all__ = ["PRINCIPAL_LEARNERS", "PrincipalLearnerSpec", "PrincipalLearningResult", "learn_principal"]


class _Environment:
    """Agents learning under the rates the principal posts; returns the realised welfare."""

    def __init__(
        self,
        game: CommonsGame,
        p: float,
        welfare_of: str,
        agents: AgentLearner,
        inner_rounds: int,
    ) -> None:
        self.game, self.p, self.welfare_of = game, p, welfare_of
        self.agents, self.inner = agents, inner_rounds
        self.t = 0
        self.actions: list[np.ndarray] = []

    def __call__(self, rates: np.ndarray) -> float:
        g = self.game.with_tax(self.game.tax.with_rates(rates))
        self.agents.set_model(StageModel(g))
        _, rec, _ = run_learner(self.agents, self.inner, record_every=self.inner, start=self.t)
        self.t += self.inner
        a = np.clip(self.agents.a, 0.0, g.max_harvest)
        self.actions.append(a)
        values = pick(self.welfare_of, g.utilities(a), g.payoffs(a))
        # -inf where the played values leave the p-mean's domain (e.g. negative utilities, p <= 0):
        # the worst feedback, which the learners below handle
        return pmean_or_minus_inf(values, self.p, g.welfare_weights)


def _ucb(
    env: Callable[[np.ndarray], float],
    lo: np.ndarray,
    hi: np.ndarray,
    epochs: int,
    rng: np.random.Generator,
    step: float = 0.1,
    c: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    if not (isinstance(step, int | float) and 0 < step <= 1):
        raise InvalidParameterError("step", step, "use a grid step in (0, 1]")
    axes = [
        np.unique(np.clip(np.round(np.arange(0.0, 1.0 + 1e-9, step), 12), a, b))
        for a, b in zip(lo, hi, strict=True)
    ]
    arms = np.array(list(itertools.product(*axes)), dtype=float)
    k = arms.shape[0]
    order = rng.permutation(k)
    counts = np.zeros(k)
    sums = np.zeros(k)
    squares = np.zeros(k)
    rates = np.empty((epochs, lo.size))
    welfare = np.empty(epochs)
    for t in range(epochs):
        if t < k:
            arm = int(order[t])
        else:
            seen = welfare[:t][np.isfinite(welfare[:t])]
            spread = max(float(seen.max() - seen.min()), 1e-12) if seen.size else 1.0
            ok = np.isfinite(sums)  # an arm that ever left the objective's domain is never replayed
            mean = np.where(ok, sums, 0.0) / counts
            var = np.maximum(np.where(ok, squares, 0.0) / counts - mean * mean, 0.0)
            log_t = math.log(t + 1)
            bonus = np.sqrt(2.0 * var * log_t / counts) + c * 3.0 * spread * log_t / counts
            index = np.where(ok, mean + bonus, -np.inf)
            arm = int(np.argmax(index))
        w = env(arms[arm])
        counts[arm] += 1
        sums[arm] += w
        squares[arm] += w * w
        rates[t], welfare[t] = arms[arm], w
    tried = counts > 0
    means = np.where(tried, sums / np.maximum(counts, 1), -np.inf)
    final = arms[int(np.argmax(means))]
    return rates, welfare, final, {"arms": k, "counts": counts, "means": means, "grid": arms}


def _spsa(
    env: Callable[[np.ndarray], float],
    lo: np.ndarray,
    hi: np.ndarray,
    epochs: int,
    rng: np.random.Generator,
    a: float = 0.1,
    c: float = 0.1,
    start: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    for name, val in (("a", a), ("c", c)):
        if not (isinstance(val, int | float) and val > 0 and math.isfinite(val)):
            raise InvalidParameterError(name, val, "use a positive number")
    phi = 0.5 * (lo + hi) if start is None else np.clip(np.asarray(start, dtype=float), lo, hi)
    if phi.shape != lo.shape:
        raise InvalidParameterError("start", start, f"give {lo.size} starting rates")
    free = hi > lo
    rates = np.empty((epochs, lo.size))
    welfare = np.empty(epochs)
    t = k = 0
    while t < epochs:
        ck = c / (k + 1) ** 0.101
        ak = a / (k + 1) ** 0.602
        delta = np.where(free, rng.choice([-1.0, 1.0], size=lo.size), 0.0)
        plus = np.clip(phi + ck * delta, lo, hi)
        minus = np.clip(phi - ck * delta, lo, hi)
        w_plus = env(plus)
        rates[t], welfare[t] = plus, w_plus
        t += 1
        if t >= epochs:
            break
        w_minus = env(minus)
        rates[t], welfare[t] = minus, w_minus
        t += 1
        span = plus - minus
        diff = w_plus - w_minus
        if not math.isfinite(diff):  # one side (or both) off the domain: step towards the other
            diff = 0.0 if w_plus == w_minus else (1.0 if w_plus > w_minus else -1.0)
        grad = np.divide(diff, span, out=np.zeros_like(span), where=span != 0)
        norm = float(np.abs(grad).max())
        if norm > 0:
            phi = np.clip(phi + ak * grad / norm, lo, hi)
        k += 1
    return rates, welfare, phi, {"iterations": k}


@dataclass(frozen=True)
class PrincipalLearnerSpec:
    """A registered principal learner: name, runner, feedback, description, options."""

    name: str
    run: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]] = field(repr=False)
    feedback: str
    options: dict[str, Any]
    description: str = ""
    reference: str = ""


#: Registered principal learners (a :class:`~sedtheory.registry.Registry`).
PRINCIPAL_LEARNERS: Registry[PrincipalLearnerSpec] = Registry(
    "learner",
    build=lambda name, run, **meta: PrincipalLearnerSpec(name, run, **meta),
    kind="principal learners",
)
PRINCIPAL_LEARNERS.add(
    "ucb",
    _ucb,
    feedback="bandit (realised welfare of the posted rates)",
    options={"step": 0.1, "c": 0.1},
    description="UCB-V over the rate grid",
    reference="Auer, Cesa-Bianchi and Fischer (2002); Audibert, Munos and Szepesvari (2009)",
)
PRINCIPAL_LEARNERS.add(
    "spsa",
    _spsa,
    feedback="zeroth order (two welfare evaluations per iteration)",
    options={"a": 0.1, "c": 0.1, "start": None},
    description="simultaneous-perturbation gradient ascent on the rates",
    reference="Spall (1992)",
)


@dataclass(frozen=True)
class PrincipalLearningResult:
    """A learning principal's run against the analytic optimum.

    Attributes
    ----------
    learner, agent_learner : str
    p : float
    rates : numpy.ndarray, shape (epochs, B)
        Rates posted each epoch.
    welfare : numpy.ndarray, shape (epochs,)
        Realised ``M_p`` each epoch.
    final_rates : numpy.ndarray
        The learner's recommendation at the end.
    reference : TaxDesign
        ``optimal_tax(game, p)``.
    regret, average_regret : numpy.ndarray, shape (epochs,)
        ``reference.welfare - welfare`` and its running mean.
    actions : numpy.ndarray, shape (epochs, n)
        The agents' actions at the end of each epoch.
    final_actions : numpy.ndarray
        The agents' actions after one more epoch under ``final_rates`` (not counted in the
        regret), and ``final_welfare`` their ``M_p``.
    details : dict
    """

    learner: str
    agent_learner: str
    p: float
    rates: np.ndarray
    welfare: np.ndarray
    final_rates: np.ndarray
    reference: PolicyDesign
    regret: np.ndarray
    average_regret: np.ndarray
    actions: np.ndarray
    final_actions: np.ndarray
    final_welfare: float
    details: dict[str, Any] = field(default_factory=dict, repr=False)


def learn_principal(
    game: CommonsGame,
    p: float,
    learner: str = "ucb",
    epochs: int = 500,
    inner_rounds: int = 30,
    agent_learner: str = "best_response",
    agent_options: dict[str, Any] | None = None,
    bounds: tuple[float, float] = (0.0, 1.0),
    welfare_of: Literal["utility", "payoff"] = "utility",
    seed: int | np.random.Generator | None = None,
    reference: PolicyDesign | None = None,
    **options: Any,
) -> PrincipalLearningResult:
    """Run a learning principal for ``epochs`` epochs while agents learn ``inner_rounds`` rounds each.

    Parameters
    ----------
    game : CommonsGame
    p : float
        The principal's objective.
    learner : str
        A name in :data:`PRINCIPAL_LEARNERS`.
    epochs, inner_rounds : int
    agent_learner : str
        A name in :data:`~sedtheory.learning.LEARNERS` (warm-started across epochs).
    agent_options : dict, optional
    bounds : (float, float)
        Rate bounds.
    welfare_of : {"utility", "payoff"}
    seed : int or Generator, optional
    reference : TaxDesign, optional
        A precomputed ``optimal_tax(game, p)``.
    **options
        The principal learner's options.
    """
    pf, welfare_of = objective_args(p, welfare_of)
    spec = PRINCIPAL_LEARNERS.get(learner)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise InvalidParameterError(
            unknown[0], options[unknown[0]], f"{learner!r} accepts {sorted(spec.options)}"
        )
    epochs, inner_rounds = count("epochs", epochs), count("inner_rounds", inner_rounds)
    lo, hi = check_bounds(game, bounds)
    rng = np.random.default_rng(seed)
    agents = make_learner(
        agent_learner, game, int(epochs) * int(inner_rounds), rng, None, **(agent_options or {})
    )
    env = _Environment(game, pf, welfare_of, agents, int(inner_rounds))
    rates, welfare, final, details = spec.run(env, lo, hi, int(epochs), rng, **options)
    epoch_actions = np.array(env.actions)
    final_welfare = env(np.asarray(final, dtype=float))  # one more epoch under the recommendation
    ref = reference if reference is not None else optimal_tax(game, pf, bounds=bounds, welfare_of=welfare_of)
    regret = ref.welfare - welfare
    return PrincipalLearningResult(
        learner=learner,
        agent_learner=agent_learner,
        p=pf,
        rates=rates,
        welfare=welfare,
        final_rates=np.asarray(final, dtype=float),
        reference=ref,
        regret=regret,
        average_regret=np.cumsum(regret) / np.arange(1, regret.size + 1),
        actions=epoch_actions,
        final_actions=env.actions[-1],
        final_welfare=final_welfare,
        details=details,
    )
