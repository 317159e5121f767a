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

Playing a game with these learners: :func:`sedtheory.learning.learn`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sps

from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.games import CommonsGame
from sedtheory.games.protocol import Game
from sedtheory.learning.model import GameModel, StageModel, stage_model
from sedtheory.registry import Registry
from sedtheory.validate import count

__all__ = [
    "ALIASES",
    "AgentLearner",
    "LEARNERS",
    "LearnerSpec",
    "agent_learner",
    "applicable_learners",
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

    def __init__(
        self, model: StageModel | GameModel, rng: np.random.Generator, initial: np.ndarray, rounds: int
    ) -> None:
        self.model: Any = model  # StageModel for the piecewise-quadratic learners
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
        self.a = self.a + self.damping * (m.responses(self.a) - self.a)
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
        # The grid spans every action a best reply can take: [0, max_harvest], or the largest
        # reply bound when max_harvest is infinite (a grid up to inf was NaN, issue 16).
        self.top = model.amax if math.isfinite(model.amax) else float(np.max(model.upper, initial=0.0))
        if not (math.isfinite(self.top) and self.top > 0):
            raise InvalidParameterError(
                "max_harvest", model.amax, "hedge needs a bounded action range; give a finite max_harvest"
            )
        self.g = np.linspace(0.0, self.top, int(grid))
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
        hi = self._payoffs(alpha0 + pos * self.top).max(axis=1)
        lo = self._payoffs(alpha0 + neg * self.top).min(axis=1)
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
    requires : str
        ``"game"`` (any :class:`~sedtheory.games.Game`) or ``"piecewise-quadratic"`` (games with
        the piecewise-quadratic own-action capability: gradients, grids of own payoffs).
    description, reference : str
    """

    name: str
    factory: Callable[..., AgentLearner] = field(repr=False)
    feedback: str
    action_space: str
    options: dict[str, Any]
    requires: str = "game"
    description: str = ""
    reference: str = ""


def _build(
    name: str,
    factory: Callable[..., AgentLearner],
    *,
    feedback: str,
    action_space: str,
    options: dict[str, Any],
    requires: str = "game",
    description: str = "",
    reference: str = "",
) -> LearnerSpec:
    return LearnerSpec(name, factory, feedback, action_space, dict(options), requires, description, reference)


#: The registered agent learners by name (aliases in ``LEARNERS.aliases``).
LEARNERS: Registry[LearnerSpec] = Registry("learner", build=_build, kind="learners")


def agent_learner(
    name: str,
    *,
    feedback: str,
    action_space: str,
    options: dict[str, Any],
    requires: str = "game",
    aliases: tuple[str, ...] = (),
    description: str = "",
    reference: str = "",
) -> Callable[[Callable[..., AgentLearner]], Callable[..., AgentLearner]]:
    """Register an agent-learner factory in :data:`LEARNERS` (``LEARNERS.register`` with its fields)."""
    return LEARNERS.register(
        name,
        aliases=aliases,
        feedback=feedback,
        action_space=action_space,
        options=options,
        requires=requires,
        description=description,
        reference=reference,
    )


agent_learner(
    "gradient",
    requires="piecewise-quadratic",
    aliases=("projected_gradient", "gradient_ascent"),
    feedback="gradient",
    action_space="continuous",
    options={"lr": None, "decay": 0.0, "prox": True},
    description="simultaneous projected (proximal) gradient ascent on own utility",
    reference="Rosen (1965); Mertikopoulos and Zhou (2019)",
)(_Gradient)
agent_learner(
    "best_response",
    requires="game",
    aliases=("damped_best_response",),
    feedback="full-information",
    action_space="continuous",
    options={"damping": 0.5},
    description="damped simultaneous exact best responses",
    reference="Cournot (1838); fictitious-play-style adjustment",
)(_BestResponse)
agent_learner(
    "hedge",
    requires="piecewise-quadratic",
    aliases=("multiplicative_weights",),
    feedback="full-information",
    action_space="grid",
    options={"grid": 41, "lr": None},
    description="multiplicative weights over a grid of actions, sampled play",
    reference="Freund and Schapire (1997); Cesa-Bianchi and Lugosi (2006), Thm 2.2",
)(_Hedge)
agent_learner(
    "policy_gradient",
    requires="game",
    aliases=("reinforce",),
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
ALIASES: dict[str, str] = LEARNERS.aliases


def _spec(learner: str) -> LearnerSpec:
    return LEARNERS.get(learner)


def make_learner(
    learner: str,
    game: Game,
    rounds: int,
    rng: np.random.Generator,
    initial: npt.ArrayLike | None = None,
    **options: Any,
) -> AgentLearner:
    """Instantiate a registered learner on ``game`` (options checked against the registry)."""
    spec = _spec(learner)
    model = stage_model(game)
    if spec.requires == "piecewise-quadratic" and not isinstance(model, StageModel):
        raise CapabilityError(
            "learner",
            learner,
            f"{spec.name!r} needs the piecewise-quadratic own-action capability, which this "
            f"{type(game).__name__} lacks; use one of {applicable_learners(game)}",
        )
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise InvalidParameterError(
            unknown[0], options[unknown[0]], f"{learner!r} accepts {sorted(spec.options)}"
        )
    a0 = np.zeros(game.n) if initial is None else game.check_actions(initial, batch=False).copy()
    return spec.factory(model, rng, a0, rounds, **options)


def applicable_learners(game: Any) -> list[str]:
    """Names of the registered learners that can play ``game``."""
    generic = not isinstance(stage_model(game), StageModel)
    return [name for name, spec in LEARNERS.items() if not (generic and spec.requires != "game")]


_MOVED = frozenset({"run_learner", "LearningResult", "LearningHistory", "history_gaps", "learn"})


def __getattr__(name: str) -> object:
    """Names that moved to sedtheory.learning.play stay importable from here (deprecated location)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module("sedtheory.learning.play"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
