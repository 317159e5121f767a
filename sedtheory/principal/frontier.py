r"""Utility-possibility frontiers of two groups: first best, bracket taxes, laissez-faire.

The data a plot of the principal's trade-off needs: for two groups of agents (or two
agents) the mean utility of each group under

* the first best (tax-feasible transfers): the concave frontier traced by maximising
  :math:`\lambda \bar u_1 + (1-\lambda) \bar u_2` for :math:`\lambda \in [0, 1]` (convex
  programs);
* bracket taxes (the second best): every policy of a rate grid, solved exactly, and its
  Pareto-efficient subset;
* laissez-faire;
* the optimum of each p (:func:`optimal_tax`) and the first best of each p.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sedtheory.equilibrium.batch import policy_equilibria
from sedtheory.errors import InvalidParameterError, SedtheoryError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import require_commons
from sedtheory.objective import pick
from sedtheory.principal.baselines import laissez_faire
from sedtheory.principal.convex import as_array, cp, solve
from sedtheory.principal.first_best import first_best, plan_values, planner_program, utility_scale
from sedtheory.principal.optimal import optimal_tax
from sedtheory.principal.search import grid as rate_grid
from sedtheory.principal.search import scan_points
from sedtheory.welfare import check_p, check_welfare_of

__all__ = ["WelfareFrontier", "welfare_frontier", "pareto_front", "default_groups"]

DEFAULT_PS = (-math.inf, -1.0, 0.0, 0.5, 1.0, 2.0, math.inf)


@dataclass(frozen=True)
class WelfareFrontier:
    """Two groups' mean utilities under the first best, bracket taxes and laissez-faire.

    Attributes
    ----------
    groups : tuple of numpy.ndarray
        Agent indices of group 1 and group 2.
    labels : tuple of str
    first_best : numpy.ndarray, shape (k, 2)
        Points of the first-best frontier (tax-feasible transfers), ordered by group 1's value.
    second_best : numpy.ndarray, shape (m, 2)
        Pareto-efficient points among the bracket-tax policies, ordered by group 1's value.
    policies : numpy.ndarray, shape (M, 2)
        Every evaluated policy's point; ``policy_rates`` (M, B) their rates.
    policy_rates : numpy.ndarray
    laissez_faire : numpy.ndarray, shape (2,)
    optima : dict
        ``p -> {"second_best": (2,), "rates": (B,), "welfare": float, "first_best": (2,) or None,
        "selection": str, "equilibria_found": int, "equilibria_complete": bool}`` (which
        equilibrium of the optimal rates is counted and how many exist).
    welfare_of : str
    """

    groups: tuple[np.ndarray, np.ndarray]
    labels: tuple[str, str]
    first_best: np.ndarray
    second_best: np.ndarray
    policies: np.ndarray
    policy_rates: np.ndarray
    laissez_faire: np.ndarray
    optima: dict[float, dict[str, Any]]
    welfare_of: str
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Indices of the points not weakly dominated by another (both coordinates maximised).

    Examples
    --------
    >>> pareto_front(np.array([[1.0, 3.0], [2.0, 2.0], [1.5, 1.0], [3.0, 0.5]])).tolist()
    [0, 1, 3]
    """
    pts = np.asarray(points, dtype=float)
    order = np.lexsort((-pts[:, 1], -pts[:, 0]))  # by x descending, then y descending
    keep = []
    best_y = -math.inf
    for i in order:
        if pts[i, 1] > best_y:
            keep.append(int(i))
            best_y = pts[i, 1]
    return np.array(sorted(keep, key=lambda i: (pts[i, 0], -pts[i, 1])), dtype=np.int64)


def default_groups(game: CommonsGame) -> tuple[tuple[np.ndarray, np.ndarray], tuple[str, str]]:
    """Two agents when n = 2; otherwise the less and the more selfish half (by sigma)."""
    if game.n == 2:
        return (np.array([0]), np.array([1])), ("agent 0", "agent 1")
    order = np.argsort(game.society.selfishness, kind="stable")
    half = game.n // 2
    return (np.sort(order[:half]), np.sort(order[half:])), ("prosocial half", "selfish half")


def _check_groups(game: CommonsGame, groups: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(groups, Sequence) or len(groups) != 2:
        raise InvalidParameterError("groups", groups, "give two groups (index lists) or two agent indices")
    out = []
    for g in groups:
        idx = np.atleast_1d(np.asarray(g))
        if idx.size == 0 or idx.dtype.kind not in "iu" or np.any(idx < 0) or np.any(idx >= game.n):
            raise InvalidParameterError(
                "groups", groups, f"each group is a non-empty list of agents in 0..{game.n - 1}"
            )
        out.append(np.unique(idx))
    if np.intersect1d(out[0], out[1]).size:
        raise InvalidParameterError("groups", groups, "the two groups must be disjoint")
    return out[0], out[1]


def _optimum(
    game: CommonsGame, p: float, pair: Any, welfare_of: str, resolution: int | None, selection: str
) -> dict[str, Any]:
    """One p's marks: the second-best optimum (which equilibrium counts) and the first best."""
    entry: dict[str, Any] = {}
    try:
        design = optimal_tax(
            game,
            p,
            welfare_of=welfare_of,  # type: ignore[arg-type]
            resolution=resolution,
            bound=False,
            selection=selection,
        )
    except SedtheoryError as exc:
        entry["error"] = str(exc)
    else:
        eq = design.equilibrium
        entry.update(
            {
                "second_best": pair(pick(welfare_of, eq.utilities, eq.payoffs)),
                "rates": design.rates,
                "welfare": design.welfare,
                "selection": design.selection,
                "equilibria_found": design.equilibria_found,
                "equilibria_complete": design.equilibria_complete,
            }
        )
    try:
        best = first_best(game, p, transfers="tax-feasible", welfare_of=welfare_of)  # type: ignore[arg-type]
    except SedtheoryError:
        entry["first_best"] = None
    else:
        values = pick(welfare_of, best.utilities, best.payoffs)
        entry["first_best"] = None if values is None else pair(values)
    return entry


def welfare_frontier(
    game: CommonsGame,
    groups: Any = None,
    ps: Sequence[float] = DEFAULT_PS,
    *,
    points: int = 21,
    resolution: int | None = None,
    welfare_of: Literal["utility", "payoff"] = "utility",
    selection: str = "optimistic",
) -> WelfareFrontier:
    r"""The utility-possibility frontier of two groups, with each p's optimum marked.

    Parameters
    ----------
    game : CommonsGame
    groups : pair of index lists or pair of ints, optional
        Default :func:`default_groups`.
    ps : sequence of float
        The p whose second-best optimum (and first best) is marked.
    points : int
        Weights :math:`\lambda` on the first-best frontier.
    resolution : int, optional
        Rate-grid points per bracket for the second-best cloud (default: as the
        :func:`optimal_tax` scan).
    welfare_of : {"utility", "payoff"}
    selection : {"optimistic", "pessimistic", "solver"}
        Which equilibrium each p's optimum counts (see :func:`optimal_tax`); the second-best
        cloud shows the solver's equilibrium of every scanned policy.

    Returns
    -------
    WelfareFrontier

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> front = welfare_frontier(scenarios.apple_picking(), ps=(1.0,), points=5, resolution=5)
    >>> front.first_best.shape, front.laissez_faire.shape
    ((5, 2), (2,))
    """
    require_commons(game, what="welfare_frontier")
    check_welfare_of(welfare_of)
    if groups is None:
        (g1, g2), labels = default_groups(game)
    else:
        g1, g2 = _check_groups(game, groups)
        labels = (f"group {g1.tolist()}", f"group {g2.tolist()}")
    if g1.size == 0 or g2.size == 0:
        raise InvalidParameterError(
            "groups",
            groups,
            f"both groups need at least one agent (n = {game.n}); a frontier of two groups needs n >= 2",
        )
    if int(points) < 2:
        raise InvalidParameterError("points", points, "give at least 2 frontier points")
    pvals = [check_p(p) for p in ps]

    def pair(values: np.ndarray) -> np.ndarray:
        return np.stack([values[..., g1].mean(axis=-1), values[..., g2].mean(axis=-1)], axis=-1)

    # First best frontier (tax-feasible transfers keep it bounded and a valid bound on taxes).
    a, t, r, u, cons = planner_program(game, "tax-feasible")
    vals = pick(welfare_of, u, r)
    lam = cp.Parameter(nonneg=True)
    rest = cp.Parameter(nonneg=True)
    unit = utility_scale(game)  # O(1) objective coefficients (see planner_program)
    obj = (lam * cp.sum(vals[g1]) / g1.size + rest * cp.sum(vals[g2]) / g2.size) / unit
    problem = cp.Problem(cp.Maximize(obj), cons)
    fb_points = []
    for weight in np.linspace(0.0, 1.0, int(points)):
        lam.value, rest.value = float(weight), 1.0 - float(weight)
        solve(problem, "first-best frontier point")
        pay, util = plan_values(game, as_array(a), as_array(t))
        fb_points.append(pair(pick(welfare_of, util, pay)))
    fb = np.array(fb_points)
    fb = fb[np.argsort(fb[:, 0], kind="stable")]
    # Second best: a grid of policies, each solved exactly.
    res = scan_points(game.tax.n_brackets, game.n, resolution)
    grid = rate_grid(np.zeros(game.tax.n_brackets), np.ones(game.tax.n_brackets), res)
    batch = policy_equilibria(game, grid)
    cloud = pair(pick(welfare_of, batch.utilities, batch.payoffs))
    lf = laissez_faire(game, 1.0, welfare_of)
    lf_point = pair(pick(welfare_of, lf.equilibrium.utilities, lf.equilibrium.payoffs))
    optima: dict[float, dict[str, Any]] = {}
    extra_pts, extra_rates = [], []
    for p in pvals:
        optima[p] = _optimum(game, p, pair, welfare_of, resolution, selection)
        if "second_best" in optima[p]:
            extra_pts.append(optima[p]["second_best"])
            extra_rates.append(optima[p]["rates"])
    policies = np.vstack([cloud, *extra_pts]) if extra_pts else cloud
    rates = np.vstack([grid, *extra_rates]) if extra_rates else grid
    front = pareto_front(policies)
    return WelfareFrontier(
        (g1, g2),
        labels,
        fb,
        policies[front],
        policies,
        rates,
        lf_point,
        optima,
        welfare_of,
        {"second_best_rates": rates[front], "resolution": res},
    )
