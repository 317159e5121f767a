r"""The Social Environment Design loop: vote -> principal -> play -> record, repeated.

One SED round (Zhang et al., "Social Environment Design", ICML 2024):

1. every agent ranks the candidate objectives p by its own utility at the principal's
   optimal policy for each (:func:`~sedtheory.voting.preferences_over_p`);
2. the voting ``rule`` aggregates the rankings; the tie-broken winner p* becomes the
   principal's objective;
3. the principal sets the optimal rates for p* (:func:`~sedtheory.principal.optimal_tax`,
   already computed in step 1);
4. the agents play the induced game: by default the certified equilibrium the principal's
   design predicts, or the actions returned by a user ``play(game, rng)`` (e.g. learners);
5. utilities, welfare and the Nash gap of what was played are recorded.

Between rounds a user ``hook(record, rng)`` may change the society (types, graph), the game,
or the ``play`` function; it returns None (no change), a :class:`~sedtheory.games.Game`,
or a mapping with the keys ``"game"`` and/or ``"play"``. Principal optima are cached while the
game object is unchanged, so repeated rounds on one game cost one set of optima.

Examples
--------
>>> import sedtheory as sed
>>> run = sed.run_sed("apple-picking", rounds=2, rule="copeland", candidates=[float("-inf"), 0.0, 1.0])
>>> run.history[["round", "p", "welfare"]].round(4).to_string(index=False)  # the top rate is free here
' round   p  welfare\n     0 0.0  77.9539\n     1 0.0  77.9539'
>>> run.agents.shape
(14, 8)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from sedtheory.errors import InvalidParameterError
from sedtheory.games.protocol import Game, action_summary, require_game
from sedtheory.objective import pick
from sedtheory.principal.policy import PolicyDesign
from sedtheory.scenarios import SCENARIOS, scenario
from sedtheory.validate import count
from sedtheory.voting.analysis import condorcet_winner
from sedtheory.voting.preferences import DEFAULT_CANDIDATES, PreferencesOverP, preferences_over_p
from sedtheory.voting.report import default_rule_options
from sedtheory.voting.rules import get_rule
from sedtheory.voting.winners import winner, winners
from sedtheory.welfare import pmean

__all__ = ["SCENARIOS", "SEDRound", "SEDRun", "run_sed", "scenario"]


@dataclass(frozen=True)
class SEDRound:
    """What happened in one SED round.

    Attributes
    ----------
    index : int
    game : Game
        The game (society, graph, thresholds) of this round, before the winner's rates.
    preferences : PreferencesOverP
    winners : list
        The rule's tied winners; ``p`` is the tie-broken one.
    p : float
    design : PolicyDesign
        The principal's optimum for ``p``.
    actions, utilities, payoffs : numpy.ndarray
        What the agents played and got under the design's rates.
    nash_gap : float
        Exact Nash gap of the played actions in the induced game.
    welfare : float
        ``M_p`` of the played utilities (payoffs if the principal maximises payoffs).
    """

    index: int
    game: Game
    preferences: PreferencesOverP
    winners: list[Any]
    p: float
    design: PolicyDesign
    actions: np.ndarray
    utilities: np.ndarray
    payoffs: np.ndarray
    nash_gap: float
    welfare: float
    seconds: float = field(default=0.0, compare=False)


class SEDRun(pd.DataFrame):  # type: ignore[misc]
    """The history of :func:`run_sed`: a pandas DataFrame with one row per round, plus the records.

    Columns: round, rule, winners, p, rates, welfare (M_p of what was played), utilitarian
    (mean utility), egalitarian (min utility), aggregate, nash_gap, condorcet_winner,
    single_peaked, principal_status, upper_bound, seconds.

    Attributes
    ----------
    rounds : tuple of SEDRound
        The full record of every round (preferences, designs, actions).
    agents : pandas.DataFrame
        One row per (round, agent): selfishness, peak, action, utility, payoff, p.
    rule : str
    history : pandas.DataFrame
        The same table as a plain DataFrame.
    """

    _metadata = ["rounds", "agents", "rule"]

    @property
    def _constructor(self) -> type[SEDRun]:
        return SEDRun

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self)


def _play_equilibrium(design: PolicyDesign) -> np.ndarray:
    return np.asarray(design.equilibrium.actions, dtype=float)


def run_sed(
    game_or_scenario: Game | str = "apple-picking",
    rounds: int = 1,
    rule: str = "copeland",
    candidates: Sequence[float] = DEFAULT_CANDIDATES,
    tie_break: Sequence[Any] | None = None,
    rule_options: Mapping[str, Any] | None = None,
    hook: Callable[[SEDRound, np.random.Generator], Any] | None = None,
    play: Callable[[Game, np.random.Generator], Any] | None = None,
    seed: int | np.random.Generator | None = None,
    welfare_of: Literal["utility", "payoff"] = "utility",
    space: Any = None,
    **optimal_tax_options: Any,
) -> SEDRun:
    """Run ``rounds`` SED rounds and return the history.

    Parameters
    ----------
    game_or_scenario : Game or str
        A game, or a name in :data:`SCENARIOS`.
    rounds : int
        Number of rounds (at least 1).
    rule : str
        Voting rule (a name in :data:`~sedtheory.voting.RULES`).
    candidates : sequence of float
        Candidate p values.
    tie_break : sequence, optional
        Single-winner tie-break (default: the smallest p).
    rule_options : mapping, optional
        Options of ``rule``. ``score`` gets the agents' utilities and ``fork_weighted_median``
        their selfishness as reported types unless given here.
    hook : callable, optional
        ``hook(record, rng)`` after each round: None, a new Game, or a mapping with
        ``"game"`` and/or ``"play"``.
    play : callable, optional
        ``play(game, rng) -> actions`` in the game with the winner's rates; default: the
        equilibrium of the principal's design.
    seed : int or Generator, optional
        Seeds the ``rng`` passed to ``play`` and ``hook``.
    welfare_of : {"utility", "payoff"}
        The principal's objective.
    space : PolicySpace, optional
        The principal's policy space (default: the bracket rates of a game with a bracket tax).
    **optimal_tax_options
        Passed to :func:`~sedtheory.principal.optimal_tax`.

    Returns
    -------
    SEDRun
        A pandas DataFrame (one row per round) that also carries ``.rounds`` (the records),
        ``.agents`` (one row per agent and round) and ``.history`` (itself as a plain DataFrame).
    """
    game = scenario(game_or_scenario) if isinstance(game_or_scenario, str) else game_or_scenario
    require_game(game, "game_or_scenario")
    count("rounds", rounds)
    get_rule(rule)
    rng = np.random.default_rng(seed)
    player = play
    cache: dict[float, PolicyDesign] = {}
    cached_for: Game | None = None
    records: list[SEDRound] = []
    for t in range(int(rounds)):
        if cached_for is not game:
            cache, cached_for = {}, game
        record = _one_round(
            t,
            game,
            player,
            rng,
            rule,
            candidates,
            tie_break,
            rule_options,
            welfare_of,
            cache,
            space,
            optimal_tax_options,
        )
        cache.update({d.p: d for d in record.preferences.designs})
        records.append(record)
        if hook is not None and t + 1 < rounds:
            game, player = _apply_hook(hook(record, rng), game, player)
    out = SEDRun([_round_row(r, rule) for r in records])
    out.rounds, out.agents, out.rule = tuple(records), pd.DataFrame(_agent_rows(records)), rule
    return out


def _one_round(
    t: int,
    game: Game,
    player: Any,
    rng: np.random.Generator,
    rule: str,
    candidates: Sequence[float],
    tie_break: Sequence[Any] | None,
    rule_options: Mapping[str, Any] | None,
    welfare_of: Any,
    cache: dict[float, PolicyDesign],
    space: Any,
    options: dict[str, Any],
) -> SEDRound:
    """Vote -> principal -> play -> record, once."""
    t0 = time.perf_counter()
    prefs = preferences_over_p(game, candidates, welfare_of=welfare_of, designs=cache, space=space, **options)
    opts = dict(default_rule_options(prefs, game.society.selfishness).get(rule, {}))
    opts.update(rule_options or {})
    tied = winners(prefs.rankings, rule, weights=prefs.weights, **opts)
    p_star = winner(prefs.rankings, rule, tie_break=tie_break, weights=prefs.weights, **opts)
    design = prefs.designs[prefs.candidates.index(p_star)]
    induced = game.with_policy(design.policy)
    actions = _play_equilibrium(design) if player is None else np.asarray(player(induced, rng), dtype=float)
    actions = induced.check_actions(actions, batch=False)
    utilities, payoffs = induced.utilities(actions), induced.payoffs(actions)
    values = pick(welfare_of, utilities, payoffs)
    return SEDRound(
        index=t,
        game=game,
        preferences=prefs,
        winners=tied,
        p=p_star,
        design=design,
        actions=actions,
        utilities=utilities,
        payoffs=payoffs,
        nash_gap=float(np.max(induced.deviation_gains(actions))),
        welfare=pmean(values, p_star, getattr(induced, "welfare_weights", None)),
        seconds=time.perf_counter() - t0,
    )


def _round_row(record: SEDRound, rule: str) -> dict[str, Any]:
    design, prefs = record.design, record.preferences
    return {
        "round": record.index,
        "rule": rule,
        "winners": tuple(record.winners),
        "p": record.p,
        "rates": tuple(round(float(r), 4) for r in design.x),
        "welfare": record.welfare,
        "utilitarian": float(np.mean(record.utilities)),
        "egalitarian": float(np.min(record.utilities)),
        "aggregate": float(np.sum(action_summary(record.game, record.actions))),
        "nash_gap": record.nash_gap,
        "condorcet_winner": condorcet_winner(prefs.rankings, prefs.weights),
        "single_peaked": prefs.single_peaked,
        "principal_status": design.status,
        "upper_bound": design.upper_bound,
        "seconds": record.seconds,
    }


def _agent_rows(records: Sequence[SEDRound]) -> list[dict[str, Any]]:
    return [
        {
            "round": r.index,
            "agent": i,
            "selfishness": float(r.game.society.selfishness[i]),
            "peak": r.preferences.peaks[i],
            "action": float(action_summary(r.game, r.actions)[i]),
            "utility": float(r.utilities[i]),
            "payoff": float(r.payoffs[i]),
            "p": r.p,
        }
        for r in records
        for i in range(r.game.n)
    ]


def _apply_hook(update: Any, game: Game, player: Any) -> tuple[Game, Any]:
    """The game and play function after a hook's answer (None, a Game, or a mapping)."""
    usage = "return None, a Game or {'game': ..., 'play': ...}"
    if update is None:
        return game, player
    if isinstance(update, Game):
        return update, player
    if not isinstance(update, Mapping) or set(update) - {"game", "play"}:
        raise InvalidParameterError("hook", update, usage)
    if update.get("game") is not None:
        if not isinstance(update["game"], Game):
            raise InvalidParameterError("hook", update, "'game' must be a Game")
        game = update["game"]
    return game, update.get("play", player)
