r"""Learning agents in the repeated stage game, in a registry, against the analytic equilibrium.

``learn(game, learner, rounds, seed=...)`` plays the stage game ``rounds`` times with every
agent running the chosen learner and returns a :class:`LearningResult`: the final and
time-averaged actions and the history (actions, utilities and exact Nash gap per recorded
round). All learners are vectorised over agents (one numpy update per round).

Learners (:data:`LEARNERS`; feedback, action space):

* ``gradient`` (gradient feedback; continuous): simultaneous projected gradient ascent on each
  agent's own utility, :math:`a_i \leftarrow \Pi_{[0, \bar a]}(a_i + \eta_i \partial_i u_i)`.
  The tax's kinks are handled by their exact proximal map (``prox=True``, default): the smooth
  part takes a gradient step and the piecewise-linear tax is maximised exactly, so iterates settle
  on a bracket threshold where the equilibrium bunches instead of oscillating around it.
  Default steps :math:`\eta_i = 1/(\beta_i + r_i)`, :math:`r_i = \sum_{j \ne i} |\partial \alpha_i
  / \partial a_j|` (the coupling), optionally decaying as :math:`(1 + t)^{-\text{decay}}`.
* ``best_response`` (full information; continuous): damped simultaneous best responses
  :math:`a \leftarrow a + \lambda (BR(a) - a)` with exact best responses, ``damping`` 0.5.
* ``hedge`` (full information; grid of ``grid`` points on :math:`[0, \bar a]`): multiplicative
  weights on the cumulative utility of every grid action against the realised play, learning
  rate :math:`\eta_i = \sqrt{8 \ln G / T} / R_i` with :math:`R_i` a bound on the range of agent
  i's utility differences; actions are sampled from the weights. The regret bound
  :math:`R_i \sqrt{T \ln G / 2}` (Freund and Schapire; Cesa-Bianchi and Lugosi, Thm 2.2) holds
  in expectation over the sampling.
* ``policy_gradient`` (bandit feedback of the agent's own realised utility; continuous):
  REINFORCE with a Gaussian policy :math:`x \sim N(\mu_i, s_t^2)` clipped to
  :math:`[0, \bar a]`, score-function update :math:`\mu_i \leftarrow \mu_i + \eta_t (u_i -
  b_i)(x - \mu_i)/s_t^2` with a running-mean baseline :math:`b_i`, exploration
  :math:`s_t = s_0 (1 + t/100)^{-1/4}` and steps :math:`\eta_t = \eta_0 (1 + t/100)^{-0.6}`.
  The final action is the policy mean.

Examples
--------
>>> import sedtheory as sed
>>> from sedtheory.learning import learn
>>> game = sed.scenarios.apple_picking(rates=(0.1, 0.3, 0.6))
>>> res = learn(game, "best_response", rounds=200, seed=0)
>>> bool(res.nash_gap <= 1e-9), bool(abs(res.actions.sum() - 66.799) < 1e-3)
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sps

from sedtheory._validate import count
from sedtheory.errors import InvalidParameterError
from sedtheory.game import CommonsGame
from sedtheory.learning.model import StageModel, cce_gaps
from sedtheory.principal.batch import _gains, batch_payoffs

__all__ = [
    "ALIASES",
    "AgentLearner",
    "LEARNERS",
    "LearnerSpec",
    "LearningHistory",
    "LearningResult",
    "agent_learner",
    "learn",
    "make_learner",
]


def coupling(game: CommonsGame) -> tuple[np.ndarray, np.ndarray]:
    """Row sums of the positive and negative parts of ``d alpha_i / d a_j`` (j != i), per agent."""
    if game.uses_global_formulas:
        c = game.own_damage_curvature
        return np.zeros(game.n), -c * (game.n - 1)
    w, q, d = game.local_operators()
    jac = sps.csr_matrix(-game.damage * (w @ sps.diags(1.0 / d) @ q))
    jac = jac + sps.diags(game.own_damage_curvature)
    jac = sps.csr_matrix(jac - sps.diags(jac.diagonal()))  # own action does not enter alpha_i
    pos = np.asarray(jac.maximum(0).sum(axis=1)).ravel()
    neg = np.asarray(jac.minimum(0).sum(axis=1)).ravel()
    return pos, neg


class AgentLearner:
    """Base class of agent learners: per-round ``step`` for all agents at once.

    Subclasses implement ``step(t) -> actions played in round t`` and ``final()``; the game
    may be swapped between rounds with :meth:`set_model` (a principal changing the rates),
    keeping the learned state.
    """

    def __init__(self, model: StageModel, rng: np.random.Generator, initial: np.ndarray, rounds: int) -> None:
        self.model = model
        self.rng = rng
        self.rounds = rounds
        self.a = initial.copy()

    def set_model(self, model: StageModel) -> None:
        self.model = model

    def step(self, t: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def final(self) -> np.ndarray:
        return self.a.copy()

    def details(self) -> dict[str, Any]:
        return {}


class _Gradient(AgentLearner):
    def __init__(
        self,
        model: StageModel,
        rng: np.random.Generator,
        initial: np.ndarray,
        rounds: int,
        lr: float | None = None,
        decay: float = 0.0,
        prox: bool = True,
    ) -> None:
        super().__init__(model, rng, initial, rounds)
        _nonneg("decay", decay)
        if lr is not None:
            _positive("lr", lr)
        self.lr, self.decay, self.prox = lr, float(decay), bool(prox)
        self.set_model(model)

    def set_model(self, model: StageModel) -> None:
        self.model = model
        pos, neg = coupling(model.game)
        base = 1.0 / np.maximum(model.beta + pos - neg, 1e-12)
        self.eta = base if self.lr is None else np.full(model.n, float(self.lr))

    def step(self, t: int) -> np.ndarray:
        m = self.model
        eta = self.eta / (1.0 + t) ** self.decay if self.decay else self.eta
        alpha = m.intercepts(self.a)
        if self.prox:
            self.a = m.prox_step(self.a, alpha, eta)
        else:
            self.a = np.clip(self.a + eta * m.gradient(self.a, alpha), 0.0, m.amax)
        return self.a


class _BestResponse(AgentLearner):
    def __init__(
        self,
        model: StageModel,
        rng: np.random.Generator,
        initial: np.ndarray,
        rounds: int,
        damping: float = 0.5,
    ) -> None:
        super().__init__(model, rng, initial, rounds)
        if not (isinstance(damping, int | float) and 0 < damping <= 1):
            raise InvalidParameterError("damping", damping, "use a number in (0, 1]")
        self.damping = float(damping)

    def step(self, t: int) -> np.ndarray:
        m = self.model
        self.a = self.a + self.damping * (m.best_replies(m.intercepts(self.a)) - self.a)
        return self.a


class _Hedge(AgentLearner):
    def __init__(
        self,
        model: StageModel,
        rng: np.random.Generator,
        initial: np.ndarray,
        rounds: int,
        grid: int = 41,
        lr: float | None = None,
    ) -> None:
        super().__init__(model, rng, initial, rounds)
        grid = count("grid", grid, 2, "use an integer number of grid points >= 2")
        if lr is not None:
            _positive("lr", lr)
        self.g = np.linspace(0.0, model.amax, int(grid))
        self.lr_opt = lr
        n = model.n
        self.cum = np.zeros((n, self.g.size))
        self.realised = np.zeros(n)
        self.set_model(model)
        self.a = self.expected()

    def set_model(self, model: StageModel) -> None:
        self.model = model
        self.tax_g = model.taxes(self.g)
        pos, neg = coupling(model.game)
        alpha0 = model.intercepts(np.zeros(model.n))
        hi = self._payoffs(alpha0 + pos * model.amax).max(axis=1)
        lo = self._payoffs(alpha0 + neg * model.amax).min(axis=1)
        self.range = np.maximum(hi - lo, 1e-12)
        size = self.g.size
        self.eta = (
            np.sqrt(8.0 * math.log(size) / max(self.rounds, 1)) / self.range
            if self.lr_opt is None
            else np.full(model.n, float(self.lr_opt))
        )

    def _payoffs(self, alpha: np.ndarray) -> np.ndarray:
        m = self.model
        g = self.g[None, :]
        return alpha[:, None] * g - m.k[:, None] * self.tax_g[None, :] - 0.5 * m.beta[:, None] * g * g

    def probabilities(self) -> np.ndarray:
        z = self.eta[:, None] * self.cum
        z = z - z.max(axis=1, keepdims=True)
        w = np.exp(z)
        return w / w.sum(axis=1, keepdims=True)

    def expected(self) -> np.ndarray:
        return self.probabilities() @ self.g

    def step(self, t: int) -> np.ndarray:
        probs = self.probabilities()
        cdf = np.cumsum(probs, axis=1)
        u = self.rng.random(self.model.n)[:, None]
        idx = np.minimum((cdf < u * cdf[:, -1:]).sum(axis=1), self.g.size - 1)
        a = self.g[idx]
        pay = self._payoffs(self.model.intercepts(a))
        self.cum += pay
        self.realised += pay[np.arange(self.model.n), idx]
        self.a = a
        return a

    def final(self) -> np.ndarray:
        return self.expected()

    def details(self) -> dict[str, Any]:
        regret = self.cum.max(axis=1) - self.realised
        return {
            "grid": self.g.copy(),
            "regret": regret,
            "range": self.range.copy(),
            "lr": self.eta.copy(),
            "regret_bound": self.range * math.sqrt(self.rounds * math.log(self.g.size) / 2.0),
            "probabilities": self.probabilities(),
        }


class _PolicyGradient(AgentLearner):
    def __init__(
        self,
        model: StageModel,
        rng: np.random.Generator,
        initial: np.ndarray,
        rounds: int,
        lr: float = 0.1,
        std: float = 0.05,
        baseline: float = 0.05,
    ) -> None:
        super().__init__(model, rng, initial, rounds)
        _positive("lr", lr)
        _positive("std", std)
        if not (isinstance(baseline, int | float) and 0 < baseline <= 1):
            raise InvalidParameterError("baseline", baseline, "use a baseline step in (0, 1]")
        self.lr, self.std, self.beta_b = float(lr), float(std), float(baseline)
        self.mu = initial.copy()
        self.b: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.set_model(model)

    def set_model(self, model: StageModel) -> None:
        self.model = model
        self.s0 = self.std * np.maximum(model.upper, 1e-9)

    def step(self, t: int) -> np.ndarray:
        m = self.model
        s = self.s0 * (1.0 + t / 100.0) ** -0.25
        eta = self.lr * (1.0 + t / 100.0) ** -0.6
        z = self.rng.standard_normal(m.n)
        a = np.clip(self.mu + s * z, 0.0, m.amax)
        u = m.game.utilities(a)  # bandit feedback: the realised own utility only
        if self.b is None or self.v is None:
            self.b, self.v = u.copy(), np.ones(m.n)
        adv = u - self.b
        self.b = self.b + self.beta_b * adv
        self.v = self.v + self.beta_b * (adv * adv - self.v)
        # Score function of N(mu, s^2) is z / s; with the advantage normalised by its running
        # standard deviation the step is eta * s * z * adv / sd, i.e. an s-scaled move.
        self.mu = np.clip(self.mu + eta * s * z * adv / np.sqrt(self.v + 1e-12), 0.0, m.upper)
        self.a = a
        return a

    def final(self) -> np.ndarray:
        return self.mu.copy()


@dataclass(frozen=True)
class LearnerSpec:
    """A registered agent learner.

    Attributes
    ----------
    name : str
    factory : callable
        ``factory(model, rng, initial, rounds, **options) -> AgentLearner``.
    feedback : str
        ``"gradient"``, ``"full-information"`` or ``"bandit"``.
    action_space : str
        ``"continuous"`` or ``"grid"``.
    options : dict
        Option names and defaults.
    description, reference : str
    """

    name: str
    factory: Callable[..., AgentLearner] = field(repr=False)
    feedback: str
    action_space: str
    options: dict[str, Any]
    description: str = ""
    reference: str = ""


#: The registered agent learners by name.
LEARNERS: dict[str, LearnerSpec] = {}


def agent_learner(
    name: str,
    *,
    feedback: str,
    action_space: str,
    options: dict[str, Any],
    description: str = "",
    reference: str = "",
) -> Callable[[Callable[..., AgentLearner]], Callable[..., AgentLearner]]:
    """Register an agent-learner factory in :data:`LEARNERS`."""

    def register(factory: Callable[..., AgentLearner]) -> Callable[..., AgentLearner]:
        LEARNERS[name] = LearnerSpec(
            name, factory, feedback, action_space, dict(options), description, reference
        )
        return factory

    return register


agent_learner(
    "gradient",
    feedback="gradient",
    action_space="continuous",
    options={"lr": None, "decay": 0.0, "prox": True},
    description="simultaneous projected (proximal) gradient ascent on own utility",
    reference="Rosen (1965); Mertikopoulos and Zhou (2019)",
)(_Gradient)
agent_learner(
    "best_response",
    feedback="full-information",
    action_space="continuous",
    options={"damping": 0.5},
    description="damped simultaneous exact best responses",
    reference="Cournot (1838); fictitious-play-style adjustment",
)(_BestResponse)
agent_learner(
    "hedge",
    feedback="full-information",
    action_space="grid",
    options={"grid": 41, "lr": None},
    description="multiplicative weights over a grid of actions, sampled play",
    reference="Freund and Schapire (1997); Cesa-Bianchi and Lugosi (2006), Thm 2.2",
)(_Hedge)
agent_learner(
    "policy_gradient",
    feedback="bandit",
    action_space="continuous",
    options={"lr": 0.1, "std": 0.05, "baseline": 0.05},
    description="independent REINFORCE with a Gaussian policy from bandit feedback of own utility",
    reference="Williams (1992)",
)(_PolicyGradient)


def _positive(name: str, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (value > 0 and math.isfinite(value))
    ):
        raise InvalidParameterError(name, value, "use a positive finite number")


def _nonneg(name: str, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (value >= 0 and math.isfinite(value))
    ):
        raise InvalidParameterError(name, value, "use a non-negative finite number")


#: Other names accepted for the registered learners (resolved by :func:`make_learner` and :func:`learn`).
ALIASES: dict[str, str] = {
    "projected_gradient": "gradient",
    "gradient_ascent": "gradient",
    "damped_best_response": "best_response",
    "multiplicative_weights": "hedge",
    "reinforce": "policy_gradient",
}


def _spec(learner: str) -> LearnerSpec:
    name = ALIASES.get(learner, learner) if isinstance(learner, str) else learner
    if not isinstance(name, str) or name not in LEARNERS:
        raise InvalidParameterError(
            "learner", learner, f"use one of the registered learners {sorted(LEARNERS)}"
        )
    return LEARNERS[name]


def make_learner(
    learner: str,
    game: CommonsGame,
    rounds: int,
    rng: np.random.Generator,
    initial: npt.ArrayLike | None = None,
    **options: Any,
) -> AgentLearner:
    """Instantiate a registered learner on ``game`` (options checked against the registry)."""
    spec = _spec(learner)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise InvalidParameterError(
            unknown[0], options[unknown[0]], f"{learner!r} accepts {sorted(spec.options)}"
        )
    a0 = np.zeros(game.n) if initial is None else game.check_actions(initial, batch=False).copy()
    return spec.factory(StageModel(game), rng, a0, rounds, **options)


@dataclass(frozen=True)
class LearningHistory:
    """Recorded rounds of a learning run.

    Attributes
    ----------
    rounds : numpy.ndarray of int, shape (R,)
    actions, utilities : numpy.ndarray, shape (R, n)
        Played actions and the utilities they gave.
    nash_gap : numpy.ndarray, shape (R,)
        Exact Nash gap of each played profile (exact best responses).
    """

    rounds: np.ndarray
    actions: np.ndarray
    utilities: np.ndarray
    nash_gap: np.ndarray

    def __getitem__(self, key: str) -> np.ndarray:
        """``history["actions"]`` etc., as for a mapping of the four arrays."""
        if key not in ("rounds", "actions", "utilities", "nash_gap"):
            raise KeyError(key)
        return np.asarray(getattr(self, key))

    def to_frame(self) -> Any:
        """Long format: one row per (round, agent) with action and utility, plus the round's gap."""
        import pandas as pd

        r, n = self.actions.shape
        return pd.DataFrame(
            {
                "round": np.repeat(self.rounds, n),
                "agent": np.tile(np.arange(n), r),
                "action": self.actions.ravel(),
                "utility": self.utilities.ravel(),
                "nash_gap": np.repeat(self.nash_gap, n),
            }
        )


@dataclass(frozen=True)
class LearningResult:
    """What a learner reached.

    Attributes
    ----------
    learner : str
    game : CommonsGame
    rounds : int
    seed : int or None
    actions : numpy.ndarray
        Final actions (the policy mean for ``policy_gradient``, the mean action of the final
        weights for ``hedge``, the last iterate otherwise).
    average_actions : numpy.ndarray
        Time average of the played actions over all rounds.
    history : LearningHistory
    nash_gap, average_nash_gap : float
        Exact Nash gaps of the final and of the time-averaged profile.
    cce_gap : float
        Exact coarse-correlated-equilibrium gap (largest over agents, continuous deviations)
        of the empirical distribution of the recorded play.
    options : dict
    details : dict
        Learner-specific (e.g. Hedge's regret and its bound).
    """

    learner: str
    game: CommonsGame
    rounds: int
    seed: int | None
    actions: np.ndarray
    average_actions: np.ndarray
    history: LearningHistory
    nash_gap: float
    average_nash_gap: float
    cce_gap: float
    options: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict, repr=False)


def history_gaps(game: CommonsGame, actions: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Utilities (m, n) and exact Nash gaps (m,) of many profiles of one game, vectorised."""
    m = actions.shape[0]
    utilities = np.empty_like(actions)
    gaps = np.empty(m)
    rates = np.broadcast_to(game.tax.rates, (min(chunk, m), game.tax.n_brackets))
    upper = game.reply_upper_bounds
    for s in range(0, m, chunk):
        block = actions[s : s + chunk]
        r = rates[: block.shape[0]]
        utilities[s : s + chunk] = game.society.apply_weights(batch_payoffs(game, block, r))
        gaps[s : s + chunk] = _gains(game, block, r, upper).max(axis=1)
    return utilities, gaps


def run_learner(
    learner_obj: AgentLearner, rounds: int, record_every: int = 1, start: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``rounds`` rounds: (recorded round indices, recorded actions, sum of played actions)."""
    n = learner_obj.model.n
    idx = np.arange(0, rounds, record_every)
    rec = np.empty((idx.size, n))
    total = np.zeros(n)
    j = 0
    for t in range(rounds):
        a = learner_obj.step(start + t)
        total += a
        if t % record_every == 0:
            rec[j] = a
            j += 1
    return idx + start, rec, total


def learn(
    game: CommonsGame,
    learner: str,
    rounds: int,
    seed: int | np.random.Generator | None = None,
    initial: npt.ArrayLike | None = None,
    record_every: int = 1,
    **options: Any,
) -> LearningResult:
    """Play ``rounds`` rounds of ``game`` with every agent running ``learner``.

    Parameters
    ----------
    game : CommonsGame
        The stage game (its tax fixed).
    learner : str
        A name in :data:`LEARNERS`.
    rounds : int
        Number of rounds.
    seed : int or Generator, optional
        Randomness of the sampling learners (``hedge``, ``policy_gradient``).
    initial : array_like, optional
        Initial actions (default: zeros).
    record_every : int
        Record every k-th round in the history (the averages use every round).
    **options
        Learner options (see ``LEARNERS[learner].options``).

    Returns
    -------
    LearningResult
    """
    if not isinstance(game, CommonsGame):
        raise InvalidParameterError("game", game, "pass a CommonsGame")
    rounds, record_every = count("rounds", rounds), count("record_every", record_every)
    rng = np.random.default_rng(seed)
    obj = make_learner(learner, game, int(rounds), rng, initial, **options)
    learner = _spec(learner).name
    idx, rec, total = run_learner(obj, int(rounds), int(record_every))
    utilities, gaps = history_gaps(game, rec)
    final = np.clip(obj.final(), 0.0, game.max_harvest)
    average = np.clip(total / rounds, 0.0, game.max_harvest)
    return LearningResult(
        learner=learner,
        game=game,
        rounds=int(rounds),
        seed=seed if isinstance(seed, int) else None,
        actions=final,
        average_actions=average,
        history=LearningHistory(idx, rec, utilities, gaps),
        nash_gap=game.nash_gap(final),
        average_nash_gap=game.nash_gap(average),
        cce_gap=float(cce_gaps(obj.model, rec).max()),
        options=dict(options),
        details=obj.details(),
    )
