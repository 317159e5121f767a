"""Stage 1 of the report: ``analyse(game, config) -> Analysis``, every number, typed.

The SED round itself (vote -> principal -> play) is :func:`sedtheory.run_sed`; the analysis adds
the certified laissez-faire equilibrium, the vote under several rules, each objective's bounds
and the seed's grid principal, learners against the second best, the theorem registry and the
welfare frontier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.equilibrium import Equilibrium, solve_equilibrium
from sedtheory.errors import SedtheoryError
from sedtheory.loop import SEDRun, run_sed
from sedtheory.principal.policy import PolicyDesign
from sedtheory.welfare import format_p

__all__ = ["MAIN_RULES", "Analysis", "LearnerOutcome", "ObjectiveOutcome", "ReportConfig", "analyse"]

#: The voting rules shown in the report.
MAIN_RULES = ("plurality", "borda", "copeland", "instant_runoff", "median", "condorcet", "seed_threshold")


@dataclass(frozen=True)
class ReportConfig:
    """What the analysis computes.

    Attributes
    ----------
    candidates : tuple of float or None
        Candidate p (default: the package's, or the scenario's).
    rules : tuple of str
        Voting rules in the vote table; ``rule`` elects the objective of the SED round.
    quick : bool
        Smaller learning runs, theorem counts and frontiers (for tests).
    learners : tuple of str
        Agent learners compared with the equilibrium.
    principals : tuple of (str, dict)
        Principal learners and their options.
    """

    candidates: tuple[float, ...] | None = None
    rules: tuple[str, ...] = MAIN_RULES
    rule: str = "copeland"
    quick: bool = False
    learners: tuple[str, ...] = ("gradient", "best_response", "hedge", "policy_gradient")
    principals: tuple[tuple[str, dict[str, Any]], ...] = (("spsa", {}), ("ucb", {"step": 0.25}))

    @property
    def rounds(self) -> int:
        return 600 if self.quick else 4000

    @property
    def epochs(self) -> int:
        return 60 if self.quick else 400


@dataclass(frozen=True)
class ObjectiveOutcome:
    """One candidate p: the principal's design, the seed's grid principal, the bounds."""

    p: float
    design: PolicyDesign
    grid_rates: np.ndarray
    grid_welfare: float
    lump_sum: dict[str, Any]
    laissez_faire_welfare: float
    inefficiency: Any = None  # an Inefficiency at the design's rates (None: unavailable)


@dataclass(frozen=True)
class LearnerOutcome:
    """One agent learner against the second best (a :class:`~sedtheory.learning.Comparison`)."""

    name: str
    comparison: Any
    curve: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Analysis:
    """Everything the report shows, typed (no string keys between the stages)."""

    name: str
    spec: dict[str, Any]
    game: Any
    config: ReportConfig
    candidates: tuple[float, ...]
    laissez_faire: Equilibrium
    sed: SEDRun
    votes: Any
    p_star: float
    objectives: tuple[ObjectiveOutcome, ...]
    learners: tuple[LearnerOutcome, ...]
    principals: tuple[tuple[str, dict[str, Any], Any], ...]
    theorems: tuple[Any, ...]
    frontier: Any
    seconds: dict[str, float] = field(default_factory=dict)
    dynamic: Any = None  # a DynamicAnalysis when the scenario has dynamic: settings

    @property
    def design(self) -> PolicyDesign:
        """The principal's design for the elected objective."""
        return self.objective(self.p_star).design

    def objective(self, p: float) -> ObjectiveOutcome:
        """The outcome of candidate ``p``."""
        return next(o for o in self.objectives if o.p == p)


def _progress(show: Any) -> Any:
    t0 = time.perf_counter()

    def step(text: str) -> None:
        if show:
            print(f"[{time.perf_counter() - t0:6.1f} s] {text}", flush=True)

    return step


#: Largest electorate whose single-agent manipulations the report searches.
MANIPULATION_VOTERS = 1000
#: From this many agents the report scales its sweeps down (grid baseline, frontier, learning runs).
LARGE_REPORT = 10_000
#: Agent-policy pairs the seed's grid baseline may solve per candidate p (its step grows past it).
GRID_BUDGET = 5_000_000


def grid_step(game: Any) -> float:
    """The seed's grid step (0.1, 1331 policies for three brackets) unless the grid times the
    agents exceeds :data:`GRID_BUDGET`; then the finest of 0.2, 0.25, 0.5, 1 that fits.

    >>> from sedtheory import scenarios
    >>> grid_step(scenarios.apple_picking())
    0.1
    """
    brackets = int(game.tax.n_brackets)
    for step in (0.1, 0.2, 0.25, 0.5):
        if (round(1 / step) + 1) ** brackets * game.n <= GRID_BUDGET:
            return step
    return 1.0


def scaled(count: int, game: Any, least: int) -> int:
    """``count`` rounds (epochs, frontier points) up to :data:`LARGE_REPORT` agents, then
    proportionally fewer, at least ``least``: a report on 10^5 agents must finish."""
    return count if game.n <= LARGE_REPORT else max(least, int(count * LARGE_REPORT / game.n))


def _objectives(game: Any, run: SEDRun, lf: Equilibrium) -> tuple[ObjectiveOutcome, ...]:
    from sedtheory.principal import first_best, grid_search_tax, inefficiency
    from sedtheory.welfare import pmean_or_minus_inf

    prefs = run.rounds[0].preferences
    out = []
    for p, d in zip(prefs.candidates, prefs.designs, strict=True):
        grid = grid_search_tax(game, p, grid_step(game), engine="batched")
        ls: dict[str, Any] = {"status": f"not computed above {LARGE_REPORT} agents"}
        if game.n <= LARGE_REPORT:  # its unboundedness check is a linear program in n variables
            try:
                fb = first_best(game, p)
                ls = {"status": fb.status, "welfare": fb.welfare, "upper_bound": fb.upper_bound}
            except SedtheoryError as exc:
                ls = {"status": f"unavailable: {exc}"}
        try:
            ratios = inefficiency(game.with_policy(d.policy), p)
        except SedtheoryError:
            ratios = None
        # -inf where the laissez-faire values leave the p-mean's domain (e.g. negative utilities, p <= 0)
        lf_welfare = pmean_or_minus_inf(lf.utilities, p, game.welfare_weights)
        out.append(ObjectiveOutcome(p, d, grid.rates, grid.welfare, ls, lf_welfare, ratios))
    return tuple(out)


def _learning(game: Any, p: float, design: PolicyDesign, config: ReportConfig) -> tuple[Any, Any]:
    from sedtheory.learning import compare, learn_principal

    learners = []
    for name in config.learners:
        c = compare(game, p, name, rounds=scaled(config.rounds, game, 100), seed=0, design=design)
        played = design.welfare - c.regret
        window = min(50, played.size)
        smooth = np.convolve(played, np.ones(window) / window, mode="valid")
        learners.append(LearnerOutcome(name, c, (c.rounds[window - 1 :] + 1, smooth)))
    principals = []
    for name, opts in config.principals:
        epochs = scaled(config.epochs, game, 10)
        res = learn_principal(game, p, name, epochs=epochs, seed=0, reference=design, **opts)
        principals.append((name, dict(opts), res))
    return tuple(learners), tuple(principals)


def analyse(
    game: Any,
    config: ReportConfig | None = None,
    spec: dict[str, Any] | None = None,
    name: str = "scenario",
    progress: bool = False,
) -> Analysis:
    """Run every stage of the analysis on ``game`` and return the typed :class:`Analysis`.

    ``spec`` is the scenario as data (for the report); ``progress`` prints one line per stage.
    """
    from sedtheory.principal import welfare_frontier
    from sedtheory.theory import verify_all
    from sedtheory.voting import DEFAULT_CANDIDATES, vote_report

    config = config or ReportConfig()
    step = _progress(progress)
    candidates = tuple(config.candidates or (spec or {}).get("candidates") or DEFAULT_CANDIDATES)
    step(f"scenario {name}: {game.n} agents, thresholds {game.tax.thresholds.tolist()}")
    lf = solve_equilibrium(game.with_tax(game.tax.with_rates(np.zeros(game.tax.n_brackets))))
    step(f"laissez-faire equilibrium: aggregate {lf.aggregate:.3f}, Nash gap {lf.nash_gap:.1e}")
    step("the SED round: principal's optimum for every candidate p, the vote, play ...")
    run = run_sed(game, rounds=1, rule=config.rule, candidates=candidates, progress=progress)
    prefs = run.rounds[0].preferences
    # The exhaustive search tries every agent's every ballot: past MANIPULATION_VOTERS agents it
    # is skipped and the report's "manipulable" column says "-" (measured: hours at 10^5 agents).
    votes = vote_report(
        game,
        candidates,
        rules=config.rules,
        manipulation=game.n <= MANIPULATION_VOTERS,
        designs={d.p: d for d in prefs.designs},
    )
    p_star = float(run.rounds[0].p)
    step(
        f"votes: winner under {config.rule} p = {format_p(p_star)}; Condorcet winner {votes.condorcet_winner}"
    )
    step("first best and the seed's grid principal for every p ...")
    objectives = _objectives(game, run, lf)
    design = next(o.design for o in objectives if o.p == p_star)
    step("learning agents and a learning principal under the winning objective ...")
    learners, principals = _learning(game, p_star, design, config)
    step("theorem registry ...")
    theorems = tuple(verify_all(instances=10 if config.quick else None, seed=0))
    step("welfare frontier ...")
    frontier = welfare_frontier(game, ps=candidates, points=scaled(11 if config.quick else 21, game, 5))
    dynamic = None
    if (spec or {}).get("dynamic") is not None:
        from sedtheory.report.dynamic import analyse_dynamic
        from sedtheory.scenarios.dynamic import dynamic_game

        settings = dict(spec["dynamic"])  # type: ignore[index]
        step("the dynamic commons: MPE, principal, planner, steady states ...")
        optimise = bool(settings.get("optimise", True))
        dynamic = analyse_dynamic(dynamic_game(game, settings), p_star, optimise, config.quick)
    return Analysis(
        name,
        dict(spec or {}),
        game,
        config,
        candidates,
        lf,
        run,
        votes,
        p_star,
        objectives,
        learners,
        principals,
        theorems,
        frontier,
        dynamic=dynamic,
    )
