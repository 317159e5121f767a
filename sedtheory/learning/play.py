r"""Playing a game with learners: ``learn`` and its result, with exact Nash and CCE gaps.

``learn(game, learner, rounds, seed=...)`` plays the stage game ``rounds`` times with every
agent running the chosen learner (:data:`~sedtheory.learning.LEARNERS`) and returns a
:class:`LearningResult`: the final and time-averaged actions and the history (actions,
utilities and exact Nash gap per recorded round). Any :class:`~sedtheory.games.Game` can be
played by the learners that need only best responses or utilities; the gradient and grid
learners need the piecewise-quadratic capability (the commons game).

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError
from sedtheory.games.protocol import Game, require_game
from sedtheory.learning.agents import LEARNERS, AgentLearner, make_learner
from sedtheory.learning.model import StageModel, cce_gaps
from sedtheory.validate import count

__all__ = ["LearningHistory", "LearningResult", "history_gaps", "learn", "run_learner"]


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
    game : Game
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
        of the empirical distribution of the recorded play; NaN ("not available") for games
        without the piecewise-quadratic capability, where no exact continuous CCE gap exists.
    options : dict
    details : dict
        Learner-specific (e.g. Hedge's regret and its bound).
    """

    learner: str
    game: Game
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


def history_gaps(game: Game, actions: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Utilities (m, n) and exact Nash gaps (m,) of many profiles of one game (vectorised with
    the game's kernel where it has one, row by row otherwise)."""
    m = actions.shape[0]
    utilities = np.empty_like(actions)
    gaps = np.empty(m)
    kernel = getattr(game, "kernel", None)
    if kernel is None:
        for row in range(m):
            utilities[row] = game.utilities(actions[row])
            gaps[row] = float(np.max(game.deviation_gains(actions[row])))
        return utilities, gaps
    rates = np.broadcast_to(game.policy.rates, (min(chunk, m), game.policy.n_brackets))
    upper = game.reply_upper_bounds  # type: ignore[attr-defined]
    for start in range(0, m, chunk):
        block = actions[start : start + chunk]
        r = rates[: block.shape[0]]
        utilities[start : start + chunk] = kernel.utilities(block, r)
        gaps[start : start + chunk] = kernel.gains(block, r, upper).max(axis=1)
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


#: The most memory a learning run may ask for its recorded history.
_RECORD_LIMIT = 4 * 2**30


def rng_of(seed: Any) -> np.random.Generator:
    """A generator from ``seed`` (None, a non-negative integer or a Generator; typed error otherwise)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    return np.random.default_rng(
        count("seed", seed, 0, "use None, a non-negative integer or a numpy Generator")
    )


def learn(
    game: Game,
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
    game : Game
        The stage game (its policy fixed); any :class:`~sedtheory.games.Game` for the learners
        whose ``requires`` is ``"game"``.
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
    require_game(game)
    rounds, record_every = count("rounds", rounds), count("record_every", record_every)
    need = (rounds // record_every + 1) * game.n * 8 * 2  # recorded actions and utilities
    if need > _RECORD_LIMIT:
        raise InvalidParameterError(
            "rounds",
            rounds,
            f"recording {rounds // record_every} rounds of {game.n} agents needs about "
            f"{need / 2**30:.0f} GiB; raise record_every or lower rounds",
        )
    rng = rng_of(seed)
    obj = make_learner(learner, game, int(rounds), rng, initial, **options)
    learner = LEARNERS.get(learner).name
    idx, rec, total = run_learner(obj, int(rounds), int(record_every))
    utilities, gaps = history_gaps(game, rec)
    amax = obj.model.amax
    final = np.clip(obj.final(), 0.0, amax)
    average = np.clip(total / rounds, 0.0, amax)
    return LearningResult(
        learner=learner,
        game=game,
        rounds=int(rounds),
        seed=seed if isinstance(seed, int) else None,
        actions=final,
        average_actions=average,
        history=LearningHistory(idx, rec, utilities, gaps),
        nash_gap=float(np.max(game.deviation_gains(final))),
        average_nash_gap=float(np.max(game.deviation_gains(average))),
        cce_gap=float(cce_gaps(obj.model, rec).max()) if isinstance(obj.model, StageModel) else math.nan,
        options=dict(options),
        details=obj.details(),
    )
