r"""What learning reaches against what theory says: equilibrium, second best, first best.

``compare(game, p, learner=...)`` lets the agents learn under the principal's optimal rates
for ``p`` (or given rates) and measures the learned profile against the certified equilibrium
of those rates, and its welfare against the second best (``optimal_tax``) and the first best
(the tightest proven upper bound, :func:`sedtheory.principal.optimal.upper_bound`). With
``principal=`` a learning principal sets the rates while the agents learn, and the
comparison is of the rates and welfare it reaches.

Examples
--------
>>> import sedtheory as sed
>>> from sedtheory.learning import compare
>>> c = compare(sed.scenarios.apple_picking(), 1.0, "gradient", rounds=500, seed=0)
>>> bool(c.distance < 1e-6), bool(abs(c.ratio_second_best - 1) < 1e-9), bool(c.ratio_first_best < 1)
(True, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium import Equilibrium, equilibria, solve_equilibrium
from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.learning.play import learn
from sedtheory.learning.principal import learn_principal
from sedtheory.objective import pick
from sedtheory.principal.first_best import upper_bound
from sedtheory.principal.optimal import optimal_tax
from sedtheory.principal.policy import PolicyDesign
from sedtheory.welfare import objective_args, pmean, pmean_rows

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """Learned versus analytic.

    Attributes
    ----------
    learner : str
        The agent learner (and ``principal`` the principal learner, or None).
    p : float
    rates : numpy.ndarray
        Rates the agents played under at the end (optimal, given, or learned).
    optimal_rates : numpy.ndarray
        The second-best rates.
    actions, average_actions : numpy.ndarray
        Final and time-averaged learned actions.
    equilibrium : Equilibrium
        The certified equilibrium of the game under ``rates``.
    distance, average_distance : float
        ``max_i |a_i - a*_i|`` of the final and averaged actions.
    nash_gap, average_nash_gap : float
        Exact Nash gaps of the learned profiles under ``rates``.
    welfare : float
        ``M_p`` of the utilities of the final learned profile.
    equilibrium_welfare, second_best, first_best : float
        ``M_p`` at the equilibrium of ``rates``; the optimum over bracket rates; the proven
        upper bound (may be inf when no finite bound is available).
    ratio_second_best, ratio_first_best : float
        ``welfare / second_best`` and ``welfare / first_best`` (0 when the bound is inf).
    regret : numpy.ndarray
        Per recorded round (agents) or per epoch (principal): ``second_best - M_p`` of what was
        played; ``average_regret`` its running mean.
    rounds : numpy.ndarray
        Round (or epoch) index of each regret entry.
    equilibria_found : int
        Pure equilibria of the game under ``rates`` (:func:`~sedtheory.equilibria`).
    reached : int or None
        Which of them (row of the enumeration, by increasing total action) the final learned
        profile is: the nearest one, when the profile is an equilibrium to 1e-3 relative Nash
        gap and lies within 1e-2 relative of it; None when learning reached none of them.
    reached_counted : bool
        Whether that is the equilibrium the principal counts (``equilibrium``).
    details : dict
    """

    learner: str
    principal: str | None
    p: float
    rates: np.ndarray
    optimal_rates: np.ndarray
    actions: np.ndarray
    average_actions: np.ndarray
    equilibrium: Equilibrium
    distance: float
    average_distance: float
    nash_gap: float
    average_nash_gap: float
    welfare: float
    equilibrium_welfare: float
    second_best: float
    first_best: float
    ratio_second_best: float
    ratio_first_best: float
    regret: np.ndarray
    average_regret: np.ndarray
    rounds: np.ndarray
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    equilibria_found: int = 1
    reached: int | None = None
    reached_counted: bool = False

    def row(self) -> dict[str, Any]:
        """The scalar results as one flat dict (a row of a sweep's table)."""
        return {
            "learner": self.learner,
            "principal": self.principal or "",
            "p": self.p,
            "rates": tuple(round(float(r), 4) for r in self.rates),
            "distance": self.distance,
            "average_distance": self.average_distance,
            "nash_gap": self.nash_gap,
            "average_nash_gap": self.average_nash_gap,
            "welfare": self.welfare,
            "equilibrium_welfare": self.equilibrium_welfare,
            "second_best": self.second_best,
            "first_best": self.first_best,
            "ratio_second_best": self.ratio_second_best,
            "ratio_first_best": self.ratio_first_best,
            "final_regret": float(self.regret[-1]),
            "average_regret": float(self.average_regret[-1]),
            "equilibria_found": self.equilibria_found,
            "reached": -1 if self.reached is None else self.reached,
            "reached_counted": self.reached_counted,
        }


def compare(
    game: CommonsGame,
    p: float = 1.0,
    learner: str = "gradient",
    rounds: int = 2000,
    seed: int | np.random.Generator | None = None,
    rates: npt.ArrayLike | None = None,
    principal: str | None = None,
    epochs: int = 300,
    inner_rounds: int = 30,
    welfare_of: Literal["utility", "payoff"] = "utility",
    design: PolicyDesign | None = None,
    learner_options: dict[str, Any] | None = None,
    principal_options: dict[str, Any] | None = None,
) -> Comparison:
    """Learned against analytic on ``game`` for objective ``p``.

    Parameters
    ----------
    game : CommonsGame
    p : float
    learner : str
        Agent learner (:data:`~sedtheory.learning.LEARNERS`).
    rounds : int
        Rounds of agent learning (without ``principal``).
    seed : int or Generator, optional
    rates : array_like, optional
        Rates the agents learn under; default the second-best rates for ``p``.
    principal : str, optional
        A principal learner (:data:`~sedtheory.learning.PRINCIPAL_LEARNERS`); the agents then
        learn ``inner_rounds`` rounds per epoch for ``epochs`` epochs.
    welfare_of : {"utility", "payoff"}
    design : TaxDesign, optional
        A precomputed ``optimal_tax(game, p)`` (saves its computation in sweeps).
    learner_options, principal_options : dict, optional
    """
    pf, welfare_of = objective_args(p, welfare_of)
    require_commons(game, what="compare (its bounds are the commons game's first best)")
    best = design if design is not None else optimal_tax(game, pf, welfare_of=welfare_of)
    source = best.certificate.source
    if not math.isfinite(best.certificate.upper):
        bound, source = upper_bound(game, pf, welfare_of)  # a design computed with bound=False
    else:  # optimal_tax already computed the bound: do not solve the planner's programs again
        bound = best.upper_bound
    values_of = (lambda g, a: g.utilities(a)) if welfare_of == "utility" else (lambda g, a: g.payoffs(a))
    if principal is None:
        r = best.x if rates is None else np.asarray(rates, dtype=float)
        g = game.with_tax(game.tax.with_rates(r))
        res = learn(g, learner, rounds, seed=seed, **(learner_options or {}))
        actions, average = res.actions, res.average_actions
        hist = res.history
        played = pick(welfare_of, hist.utilities, g.payoffs(hist.actions))
        regret = best.welfare - pmean_rows(played, pf, g.welfare_weights)
        steps = hist.rounds
        details: dict[str, Any] = {"learning": res.details, "cce_gap": res.cce_gap}
    else:
        if rates is not None:
            raise InvalidParameterError("rates", rates, "a learning principal sets the rates; drop rates=")
        pres = learn_principal(
            game,
            pf,
            principal,
            epochs=epochs,
            inner_rounds=inner_rounds,
            agent_learner=learner,
            welfare_of=welfare_of,
            seed=seed,
            reference=best,
            **(principal_options or {}),
        )
        r = pres.final_rates
        g = game.with_tax(game.tax.with_rates(r))
        actions = np.clip(pres.final_actions, 0.0, game.max_harvest)
        average = np.clip(pres.actions[len(pres.actions) // 2 :].mean(axis=0), 0.0, game.max_harvest)
        regret, steps = pres.regret, np.arange(pres.regret.size)
        details = {"principal": pres.details, "posted_rates": pres.rates, "welfare_path": pres.welfare}
    eq = best.equilibrium if (principal is None and rates is None) else solve_equilibrium(g)
    welfare = float(pmean(values_of(g, actions), pf, g.welfare_weights))
    found, reached, counted = _which_equilibrium(g, actions, eq.actions)
    return Comparison(
        learner=learner,
        principal=principal,
        p=pf,
        rates=np.asarray(r, dtype=float),
        optimal_rates=best.x,
        actions=actions,
        average_actions=average,
        equilibrium=eq,
        distance=float(np.abs(actions - eq.actions).max()),
        average_distance=float(np.abs(average - eq.actions).max()),
        nash_gap=g.nash_gap(actions),
        average_nash_gap=g.nash_gap(average),
        welfare=welfare,
        equilibrium_welfare=float(pmean(values_of(g, eq.actions), pf, g.welfare_weights)),
        second_best=best.welfare,
        first_best=bound,
        ratio_second_best=_ratio(welfare, best.welfare),
        ratio_first_best=_ratio(welfare, bound),
        regret=regret,
        average_regret=np.cumsum(regret) / np.arange(1, regret.size + 1),
        rounds=steps,
        details={**details, "first_best_source": source, "equilibria_note": found.note},
        equilibria_found=found.count,
        reached=reached,
        reached_counted=counted,
    )


def _which_equilibrium(game: Any, actions: np.ndarray, counted: np.ndarray) -> tuple[Any, int | None, bool]:
    """Every equilibrium of ``game``, the one the learned ``actions`` reached (None: none) and
    whether it is ``counted`` (the principal's)."""
    found = equilibria(game)
    utilities = game.utilities(actions)
    scale = max(1.0, float(np.max(np.abs(utilities))))
    if game.nash_gap(actions) > 1e-3 * scale or found.count == 0:
        return found, None, False
    distance = np.abs(found.actions - actions).max(axis=1)
    row = int(np.argmin(distance))
    if distance[row] > 1e-2 * max(1.0, float(np.max(np.abs(actions)))):
        return found, None, False
    return found, row, found.index_of(counted) == row


def _ratio(value: float, reference: float) -> float:
    if math.isinf(reference):
        return 0.0
    if reference == 0:
        return math.nan if value != 0 else 1.0
    return value / reference
