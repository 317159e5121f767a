r"""The dynamic commons as a PettingZoo ``ParallelEnv``.

Each agent observes ``(stock, step)`` (a ``Box`` of shape (2,)), demands a harvest (a ``Box`` of
shape (1,) on ``[0, max_harvest]``) and is rewarded with its step utility under the tax,
:math:`\sum_j W_{ij} r_{j,t}`, where :math:`r_{j,t} = \omega + y_j - T(y_j) + R/n - C_j(y_j)` as
in :class:`~sedtheory.games.dynamic.DynamicCommonsGame` (the same stage model computes it). The
episode ends after the game's horizon (``game.steps`` steps for ``horizon=inf``, where
:math:`\beta^t < 10^{-12}`).

Two modes:

- ``"deterministic"``: the mean-field law of motion :math:`S_{t+1} = G(E_t)` with proportional
  rationing; the discounted sum of rewards equals ``game.utilities`` of the same play exactly.
- ``"stochastic"``: an orchard of ``side x side`` cells, each holding ``K / side^2`` apples;
  harvests remove apples from randomly chosen cells (proportional rationing of the whole
  cells available), and empty cells regrow by Melting Pot's neighbourhood rule
  (:func:`~sedtheory.games.dynamic.orchard_step`), whose mean field is the ``"melting_pot"``
  regrowth map.

Examples
--------
>>> import sedtheory as sed
>>> from sedtheory.games.dynamic import DynamicCommonsGame
>>> from sedtheory.envs import DynamicCommonsEnv
>>> game = DynamicCommonsGame(sed.Society([1.0, 1.0], 20.0), sed.PiecewiseLinearTax([0], [0.1]),
...                           horizon=3, discount=0.9, initial_stock=50.0, grid=21)
>>> env = DynamicCommonsEnv(game)
>>> obs, infos = env.reset(seed=0)
>>> obs["agent_0"].tolist()
[50.0, 0.0]
>>> obs, rewards, terms, truncs, infos = env.step({a: [5.0] for a in env.agents})
>>> round(float(infos["agent_0"]["stock"]), 4)
46.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic.regrowth import orchard_step

try:  # the optional extra [envs]
    from gymnasium import spaces
    from pettingzoo import ParallelEnv
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("sedtheory.envs needs the extra: pip install 'sedtheory[envs]'") from exc

__all__ = ["DynamicCommonsEnv"]

MODES = ("deterministic", "stochastic")


def _one_number(value: Any) -> float:
    """A harvest given as a number or a one-element array/list (``nan`` otherwise)."""
    try:
        if isinstance(value, np.ndarray):
            return float(value.reshape(-1)[0]) if value.size == 1 else math.nan
        if isinstance(value, list | tuple):
            return float(value[0]) if len(value) == 1 else math.nan
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class DynamicCommonsEnv(ParallelEnv):  # type: ignore[misc]
    """The dynamic commons for multi-agent learners (see the module notes).

    Parameters
    ----------
    game : DynamicCommonsGame
    mode : {"deterministic", "stochastic"}
    side : int
        Side of the stochastic orchard (``side^2`` cells).
    """

    metadata = {"name": "sedtheory_dynamic_commons_v0", "render_modes": []}

    def __init__(self, game: Any, mode: str = "deterministic", side: int = 10) -> None:
        if not hasattr(game, "stage") or not hasattr(game, "steps"):
            raise InvalidParameterError("game", type(game).__name__, "pass a DynamicCommonsGame")
        if mode not in MODES:
            raise InvalidParameterError("mode", mode, f"use one of {MODES}")
        if not isinstance(side, int) or side < 5:
            raise InvalidParameterError("side", side, "use an integer side of at least 5 cells")
        self.game, self.mode, self.side = game, mode, side
        self.possible_agents = [f"agent_{i}" for i in range(game.n)]
        self.agents: list[str] = []
        cap, steps = game.regrowth.capacity, game.steps
        self._steps = steps
        self._obs_space = spaces.Box(np.array([0.0, 0.0]), np.array([cap, float(steps)]), dtype=np.float64)
        self._act_space = spaces.Box(0.0, game.max_harvest, shape=(1,), dtype=np.float64)
        self._rng = np.random.default_rng()
        self.stock, self.t = game.initial_stock, 0
        self._cells = np.zeros((side, side), dtype=bool)

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Box:
        return self._act_space

    def _observe(self) -> dict[str, np.ndarray]:
        return {a: np.array([self.stock, float(self.t)]) for a in self.agents}

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.t = 0
        if self.mode == "stochastic":
            per_cell = self.game.regrowth.capacity / self.side**2
            count = int(round(self.game.initial_stock / per_cell))
            flat = np.zeros(self.side**2, dtype=bool)
            flat[self._rng.choice(self.side**2, size=count, replace=False)] = True
            self._cells = flat.reshape(self.side, self.side)
            self.stock = count * per_cell
        else:
            self.stock = float(self.game.initial_stock)
        return self._observe(), {a: {"stock": self.stock} for a in self.agents}

    def _demands(self, actions: dict[str, Any]) -> np.ndarray:
        raw = [actions.get(agent, 0.0) for agent in self.possible_agents]
        try:  # the common case, one number or one-element array per agent: a single conversion
            demands = np.asarray(raw, dtype=float).reshape(len(raw))
        except (TypeError, ValueError):
            demands = np.array([_one_number(v) for v in raw])
        if not math.isfinite(float(demands.sum())):  # one reduction; the search only when it fails
            bad = ~np.isfinite(demands)
            if bad.any():
                k = int(np.argmax(bad))
                agent = self.possible_agents[k]
                raise InvalidParameterError(f"actions[{agent!r}]", raw[k], "give one finite harvest")
        return np.minimum(np.maximum(demands, 0.0), self.game.max_harvest)

    def _harvest(self, demands: np.ndarray) -> np.ndarray:
        """Realised harvests, advancing the stock."""
        model = self.game.stage
        if self.mode == "deterministic":
            y, nxt = model.outcome(self.stock, demands)
            self.stock = float(nxt)
            return y
        per_cell = self.game.regrowth.capacity / self.side**2
        y, _ = model.outcome(np.array(self.stock), demands)
        taken = int(min(round(float(np.sum(y)) / per_cell), int(self._cells.sum())))
        occupied = np.flatnonzero(self._cells.reshape(-1))
        flat = self._cells.reshape(-1).copy()
        flat[self._rng.choice(occupied, size=taken, replace=False)] = False
        total = float(np.sum(y))
        y = y * (taken * per_cell / total) if total > 0 else y
        self._cells = orchard_step(flat.reshape(self.side, self.side), self._rng)
        self.stock = float(self._cells.sum()) * per_cell
        return np.asarray(y)

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        demands = self._demands(actions)
        y = self._harvest(demands)
        model = self.game.stage
        rewards_vec = (model.weights @ model.payoffs(y)).tolist()
        harvests = y.tolist()
        self.t += 1
        steps = self._steps
        done = self.t >= steps
        agents = self.agents
        rewards = {a: rewards_vec[k] for k, a in enumerate(self.possible_agents)}
        infos = {a: {"stock": self.stock, "harvest": harvests[k]} for k, a in enumerate(self.possible_agents)}
        seen = np.array([self.stock, float(min(self.t, steps))])
        seen.flags.writeable = False  # one observation shared by every agent (they all see it)
        obs = dict.fromkeys(agents, seen)
        terms = dict.fromkeys(agents, False)
        truncs = dict.fromkeys(agents, done)
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos
