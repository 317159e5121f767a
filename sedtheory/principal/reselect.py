r"""The optimistic (or pessimistic) re-selection of the policy search (DESIGN section 6).

:func:`~sedtheory.principal.optimal_policy` searches on the solver's equilibria (fast, batched).
With ``selection="optimistic"`` or ``"pessimistic"`` its best points are then evaluated at the
equilibrium the selection counts among the solver's and the two extreme equilibria (the roots
of the smallest and the largest consistent replies, :func:`~sedtheory.equilibrium.batch.equilibrium_windows`),
and a search with that evaluation refines the best of them within a budget of rounds
(:data:`RESELECT_ROUNDS`). Two cases need less:

- every candidate provably has one equilibrium: both evaluations agree there, and the search's
  result is kept;
- in a large society (the gradient ascent's regime, ``n >= 500``), no candidate's extreme
  equilibrium is better (optimistic) or worse (pessimistic) than the solver's by more than
  :data:`SELECTION_RESOLUTION` relative (:func:`selection_matters`): the refinement is then the
  same budget of ascent rounds restarted from the search's results on the solver's equilibria,
  without solving both extreme roots for every trial policy, and with at most
  :data:`RESTART_PAIRS` agent-policy pairs (two rounds at 10^5 agents, about twenty at 10^4,
  where a larger budget spent 21 s on a 5e-8 relative gain). The solver's equilibrium is
  certified to a relative Nash gap, so at 10^5 agents it differed from the exact extreme ones by
  4e-11 to 4e-9 relative in welfare at every candidate, and the refinement with both extreme
  roots (each bisected to 1e-12 across the jumps of 10^5 replies) took more than 20 minutes for
  no change; the restart itself is kept because at n = 1000 it improves the ascent's end point
  (``docs/benchmarks.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.equilibrium.batch import stack_windows
from sedtheory.objective import Objective
from sedtheory.principal.cores import SharedCores, split_evaluations
from sedtheory.principal.gradient import ascent
from sedtheory.principal.search import SearchResult, compass
from sedtheory.principal.selection import selected_evaluations
from sedtheory.principal.spaces import PolicyEvaluations

__all__ = [
    "RESELECT_ROUNDS",
    "RESELECT_STARTS",
    "RESELECT_TOP",
    "RESTART_PAIRS",
    "SELECTION_RESOLUTION",
    "reselect",
    "selection_matters",
]


#: The selection's re-evaluation: the best scanned points kept, compass starts and rounds.
RESELECT_TOP, RESELECT_STARTS, RESELECT_ROUNDS = 16, 2, 12

#: Agent-policy pairs the restart on the solver's equilibria may solve (all starts together):
#: 1000 trial policies at n = 1000 (it used at most 158), 100 at 10^4 and 10 at 10^5 agents.
RESTART_PAIRS = 1_000_000


def reselect(
    space: Any,
    game: Any,
    obj: Objective,
    selection: str,
    tol: float,
    pts: np.ndarray,
    w: np.ndarray,
    found: SearchResult,
    spacing: float,
    min_step: float,
    gradient: Any = None,
    cores: SharedCores | None = None,
) -> SearchResult:
    """The search's result ``found`` refined at the equilibrium ``selection`` counts.

    The candidates are the scan's best points (``pts`` with the solver's welfare ``w``) and
    ``found``'s points; each is evaluated at the best (optimistic) or worst (pessimistic) of the
    solver's and the two extreme equilibria (batched), and a search with that evaluation (the
    gradient ascent when ``gradient`` is given, else the compass) refines the best
    :data:`RESELECT_STARTS` of them for at most :data:`RESELECT_ROUNDS` rounds. ``found`` is
    returned unchanged when every candidate provably has one equilibrium (measured: 80 % of the
    time of a warm start on 30,000 US tax units, whose equilibria are unique but at ties). In a
    large society (``gradient`` given) where :func:`selection_matters` says no candidate's
    selected equilibrium moves the welfare, the ascent restarts from ``found``'s best points on
    the solver's equilibria instead, within :data:`RESTART_PAIRS`. ``cores``: the large-society
    search's :class:`~sedtheory.principal.cores.SharedCores`, over whose free threads the
    batches split.
    """

    def selected(x: np.ndarray) -> PolicyEvaluations:
        return selected_evaluations(space, game, x, obj, selection, tol)[0]

    def solver(x: np.ndarray) -> PolicyEvaluations:
        return space.batch_equilibria(game, x, tol=tol)  # type: ignore[no-any-return]

    def windows_of(x: np.ndarray) -> Any:
        return space.equilibrium_windows(game, x, tol=tol)

    order = np.argsort(-w)[:RESELECT_TOP]
    kept = order[np.isfinite(w[order])]
    cand = np.concatenate([pts[kept], found.points])
    windows = windows_of(cand) if cores is None else stack_windows(cores.map(windows_of, cand))
    if windows is not None and bool(np.all(windows.unique)):
        return found
    values = np.concatenate([w[kept], found.values])
    moves = windows is None or selection_matters(obj, selection, values, windows)
    budget = None
    if gradient is not None and not moves:
        # no candidate's welfare moves with the selection: restart the ascent from the search's
        # results on the solver's equilibria, without both extreme roots per trial policy
        evaluate, begin = split_evaluations(cores, solver), _best(found.points, found.values, found.actions)
        budget = RESTART_PAIRS // (max(1, game.n) * RESELECT_STARTS)
    else:
        ev = selected_evaluations(space, game, cand, obj, selection, tol, windows=windows)[0]
        evaluate, begin = split_evaluations(cores, selected), _best(cand, ev.welfare(obj), ev.actions)
    if begin[0].shape[0] == 0:
        return found
    lo, hi = space.bounds
    if gradient is not None:  # a large society: the selected equilibrium's regime gives the gradient
        refined = ascent(
            evaluate, gradient, obj, begin, lo, hi, 0.5 * spacing, min_step, RESELECT_ROUNDS, cores, budget
        )
    else:
        refined = compass(evaluate, obj, *begin, lo, hi, 0.5 * spacing, min_step, RESELECT_ROUNDS)
    return SearchResult(
        refined.points,
        refined.values,
        refined.actions,
        found.evaluations + cand.shape[0] + refined.evaluations,
        found.rounds + refined.rounds,
    )


def _best(
    points: np.ndarray, values: np.ndarray, actions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The :data:`RESELECT_STARTS` best rows with a finite value (points, values, actions)."""
    top = np.argsort(-values)[:RESELECT_STARTS]
    top = top[np.isfinite(values[top])]
    return points[top], values[top], actions[top]


#: Relative welfare below which the extreme equilibria do not change a large society's search.
SELECTION_RESOLUTION = 1e-6


def selection_matters(obj: Objective, selection: str, solver: np.ndarray, windows: Any) -> bool:
    """Whether an extreme equilibrium of some candidate is better (optimistic) or worse
    (pessimistic) than the solver's by more than :data:`SELECTION_RESOLUTION` relative, the
    certificate's tolerance. In a large society the solver's equilibrium is certified to a
    relative Nash gap, so it can differ from the exact extreme ones by that much in welfare
    (measured at 10^5 agents: 4e-11 to 4e-9 relative at every candidate); an ascent whose every
    evaluation also solves both extreme roots is only worth its cost (at 10^5 agents, p = 0:
    more than 20 minutes) where the selection moves the welfare."""
    slack = SELECTION_RESOLUTION * np.maximum(1.0, np.abs(solver))
    sign = 1.0 if selection == "optimistic" else -1.0
    for extreme in (windows.smallest, windows.largest):
        value = extreme.welfare(obj)  # -inf where the extreme root is not certified
        usable = np.isfinite(value) & np.isfinite(solver)
        if bool(np.any(usable & (sign * (value - solver) > slack))):
            return True
    return False
