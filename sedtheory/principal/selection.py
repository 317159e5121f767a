r"""Which equilibrium the principal counts where a policy induces several (DESIGN section 6).

``selection="optimistic"`` (the default of :func:`~sedtheory.principal.optimal_policy` and
:func:`~sedtheory.principal.optimal_tax`) counts the best equilibrium for the principal's
objective among all pure equilibria of the induced game (the strong Stackelberg convention: the
principal may recommend it), ``"pessimistic"`` the worst (a robust design), ``"solver"`` the one
:func:`~sedtheory.solve_equilibrium` returns by its documented rule. Equilibria come from
:func:`~sedtheory.equilibrium.equilibria`, which says whether its list is complete.

The policy search itself runs on the solver's equilibria (fast, batched); with another
selection the best points it found (the top of the scan and the compass results) are then
re-evaluated over all their equilibria and a search with that evaluation refines the best of
them, within a budget (:mod:`sedtheory.principal.reselect`, which also says when it is
skipped). So an optimistic optimum that only exists at policies where the solver selects
another equilibrium is found when it lies near the searched points, which is where the solver's
equilibrium switches (the issue's seed instance); it is a search, and the certificate says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sedtheory.equilibrium import EquilibriumSet, equilibria
from sedtheory.equilibrium.batch import PolicyEvaluations
from sedtheory.errors import EquilibriumNotFoundError, InvalidParameterError
from sedtheory.objective import Objective

__all__ = ["SELECTIONS", "Selected", "check_selection", "objective_values", "select", "selected_evaluations"]

#: The equilibrium selections every principal function accepts.
SELECTIONS = ("optimistic", "pessimistic", "solver")


def check_selection(value: Any) -> str:
    """``value`` if it is one of :data:`SELECTIONS`, else a typed error naming ``selection``."""
    if not isinstance(value, str) or value not in SELECTIONS:
        raise InvalidParameterError("selection", value, f"use one of {', '.join(map(repr, SELECTIONS))}")
    return value


@dataclass(frozen=True)
class Selected:
    """The counted equilibrium of one policy: its ``row`` in ``found``, its ``welfare`` and the
    set it was chosen from."""

    row: int
    welfare: float
    found: EquilibriumSet

    @property
    def actions(self) -> np.ndarray:
        return self.found.actions[self.row]  # type: ignore[no-any-return]


def objective_values(game: Any, found: EquilibriumSet, objective: Objective) -> np.ndarray:
    """The objective at each equilibrium of ``found`` (utilities or own payoffs, as it says)."""
    payoffs = np.stack([game.payoffs(a) for a in found.actions])
    return objective.rows(objective.values(found.utilities, payoffs))  # type: ignore[no-any-return]


def select(
    game: Any,
    objective: Objective,
    selection: str,
    extra: np.ndarray | None = None,
    window: tuple[float, float] | None = None,
) -> Selected:
    """All equilibria of ``game`` and the one ``selection`` counts for ``objective``.

    ``extra``, if given, is a certified equilibrium that stands in for the solver's (it is not
    solved again); ``"solver"`` then counts the listed equilibrium nearest to it (a profile
    certified to a loose tolerance on a flat payoff can sit a little off the exact one)."""
    found = equilibria(game, known=extra, window=window)  # extra is one of them, up to its tolerance
    if found.count == 0 and extra is not None:
        # ``extra`` passed the search's relative tolerance but not the enumeration's own test (at
        # 10^4 agents a gap of 2.6e-5 on utilities of 5e5): list the equilibria without it
        found = equilibria(game, window=window)
    if found.count == 0:
        raise EquilibriumNotFoundError(
            "the equilibrium enumeration found no certified equilibrium of this policy "
            f"({found.method}: {found.note or 'no note'})",
            status="no-equilibrium-listed",
        )
    values = objective_values(game, found, objective)
    if selection == "solver":
        row = (
            0 if extra is None else int(np.argmin([np.max(np.abs(a - extra)) for a in found.actions]))
        )  # itself
    elif selection == "optimistic":
        row = int(np.argmax(values))
    else:
        row = int(np.argmin(values))
    return Selected(row, float(values[row]), found)


def selected_evaluations(
    space: Any,
    game: Any,
    points: np.ndarray,
    objective: Objective,
    selection: str,
    tol: float = 1e-9,
    exhaustive: bool = False,
    windows: Any = None,
) -> tuple[PolicyEvaluations, list[Selected] | None]:
    """Each policy of ``points`` evaluated at the equilibrium ``selection`` counts, as
    :class:`PolicyEvaluations` for the generic search.

    By default (the search's evaluator) the candidates of a row are the solver's equilibrium
    and the space's two extreme equilibria (hook ``equilibrium_windows``: the smallest and the
    largest consistent replies' roots, where they are equilibria), all batched; spaces without
    the hook give the solver's. ``exhaustive=True`` enumerates every equilibrium of each row
    that is not provably unique (:func:`~sedtheory.equilibria`, within the row's window) and
    also returns the :class:`Selected` of each row. ``windows``: the space's equilibrium windows
    of ``points`` if the caller already has them (computed here otherwise)."""
    batch = space.batch_equilibria(game, points, tol=tol)
    hook = getattr(space, "equilibrium_windows", None)
    if hook is None or selection == "solver":
        windows = None
    elif windows is None:
        windows = hook(game, points, tol=tol)
    if windows is None:
        return batch, None
    if not exhaustive:
        return _best_of(objective, selection, (batch, windows.smallest, windows.largest)), None
    return _enumerated(space, game, points, objective, selection, batch, windows)


def _best_of(
    objective: Objective, selection: str, options: tuple[PolicyEvaluations, ...]
) -> PolicyEvaluations:
    """Per row, the certified candidate ``selection`` prefers."""
    values = np.stack([o.welfare(objective) for o in options])  # -inf where uncertified
    usable = np.stack([o.certified for o in options]) & np.isfinite(values)
    if selection == "optimistic":
        pick = np.argmax(np.where(usable, values, -np.inf), axis=0)
    else:
        pick = np.argmin(np.where(usable, values, np.inf), axis=0)
    pick = np.where(usable.any(axis=0), pick, 0)
    rows = np.arange(values.shape[1])

    def take(name: str) -> np.ndarray:
        return np.stack([getattr(o, name) for o in options])[pick, rows]  # type: ignore[no-any-return]

    return PolicyEvaluations(
        options[0].points,
        take("actions"),
        take("utilities"),
        take("payoffs"),
        take("nash_gaps"),
        take("relative_nash_gaps"),
        take("certified"),
        f"{selection} of the solver's and the extreme equilibria",
    )


def _enumerated(
    space: Any,
    game: Any,
    points: np.ndarray,
    objective: Objective,
    selection: str,
    batch: PolicyEvaluations,
    windows: Any,
) -> tuple[PolicyEvaluations, list[Selected]]:
    m = points.shape[0]
    actions, utilities, payoffs = batch.actions.copy(), batch.utilities.copy(), batch.payoffs.copy()
    gaps, certified = batch.nash_gaps.copy(), batch.certified.copy()
    picks: list[Selected] = []
    for r in range(m):
        if windows.unique[r] and certified[r]:
            one = EquilibriumSet(
                actions[r][None],
                gaps[r : r + 1],
                utilities[r][None],
                True,
                "unique",
                "unique",
                getattr(game, "welfare_weights", None),
            )
            value = objective.rows(objective.values(utilities[r][None], payoffs[r][None]))[0]
            picks.append(Selected(0, float(value), one))
            continue
        g = space.apply(game, points[r])
        known = actions[r] if certified[r] else None
        window = (float(windows.low[r]), float(windows.high[r]))
        chosen = select(g, objective, selection, extra=known, window=window)
        picks.append(chosen)
        actions[r], utilities[r] = chosen.actions, chosen.found.utilities[chosen.row]
        payoffs[r], gaps[r], certified[r] = g.payoffs(chosen.actions), chosen.found.gaps[chosen.row], True
    rel = gaps / np.maximum(1.0, np.abs(utilities).max(axis=1)) if m else gaps
    evals = PolicyEvaluations(
        points, actions, utilities, payoffs, gaps, rel, certified, f"{selection} equilibria"
    )
    return evals, picks
