r"""The principal's second best over any policy space: ``optimal_policy`` and ``PolicyDesign``.

``optimal_policy(game, objective, space)`` maximises :math:`M_p(u(a^*(x)))` over the box of
``space`` for any :class:`~sedtheory.games.Game`: a batched scan and a compass search
(:mod:`sedtheory.principal.search`) on certified equilibria, then the space's optional hooks:
``space.polish(game, objective, x, actions, tol)`` (an exact improvement of the found outcome,
e.g. the convex best implementation for bracket rates) and ``space.upper_bound(game,
objective)`` (a proven bound on every policy, e.g. the first best). The result's
:class:`~sedtheory.Certificate` says what is proven.

Examples
--------
>>> from sedtheory import Objective, scenarios
>>> from sedtheory.principal import BracketRates, optimal_policy
>>> game = scenarios.apple_picking()
>>> design = optimal_policy(game, Objective(1.0), BracketRates(bounds=(0, 1)), bound=False)
>>> bool(design.equilibrium.converged), design.certificate.status
(True, 'best-found')
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.certificate import Certificate
from sedtheory.equilibrium import Equilibrium, solve_equilibrium
from sedtheory.equilibrium import certify as certified_equilibrium
from sedtheory.errors import DomainError, InvalidParameterError
from sedtheory.games import AggregativeGame
from sedtheory.games.protocol import require_game, search_hints
from sedtheory.objective import Objective, as_objective
from sedtheory.principal.certification import global_design, tightest_bound
from sedtheory.principal.cores import SharedCores, split_evaluations
from sedtheory.principal.gradient import LARGE, ascent, design
from sedtheory.principal.reselect import reselect
from sedtheory.principal.search import compass, grid, local_maxima, scan_points
from sedtheory.principal.selection import Selected, check_selection, select
from sedtheory.principal.spaces import PolicyEvaluations, default_space
from sedtheory.principal.ties import repair_onto_ties
from sedtheory.validate import count, positive_float, real_array
from sedtheory.welfare import format_p

__all__ = ["PolicyDesign", "Polished", "optimal_policy"]


@dataclass(frozen=True)
class Polished:
    """What a space's ``polish`` hook returns.

    ``improved``: ``x`` (with outcome ``actions`` and ``welfare``) beats the searched point;
    ``exact``: no policy implementing the outcome does better (proven, e.g. a convex program);
    ``method``: appended to the design's method when improved; ``note``: for ``details``;
    ``proof``: what ``exact`` proves, in words (appended to the certificate's argument).
    """

    x: np.ndarray
    actions: np.ndarray
    welfare: float
    improved: bool
    exact: bool
    method: str
    note: str
    proof: str = "no policies implementing the final outcome do better"


@dataclass(frozen=True)
class PolicyDesign:
    """The principal's best policy found in a space for one objective, with its certificate.

    Attributes
    ----------
    x : numpy.ndarray
        The policy's coordinates in the space.
    policy : object
        The induced game's instrument (``game.policy``; for bracket rates, the tax).
    equilibrium : Equilibrium
        Certified equilibrium of the induced game (exact Nash gap).
    welfare : float
        The objective at that equilibrium: a lower bound on the optimum.
    upper_bound : float
        A proven upper bound on every policy of the space (``inf`` if none).
    objective : Objective
    method, status : str
        ``status`` is ``certificate.status``: ``"optimal"`` or ``"best-found"``.
    certificate : Certificate
        ``lower``, ``upper``, ``source``, ``status``, ``gap`` and the argument in words.
    evaluations : int
        Policies whose equilibrium was computed.
    details : dict
        Scan size, best scanned point, polish outcome, timings (for people, not for code).
    selection : str
        Which equilibrium of the returned policy is counted: ``"optimistic"`` (the best for the
        objective among all pure equilibria), ``"pessimistic"`` (the worst) or ``"solver"``.
    equilibria_found : int
        Pure equilibria found at the returned policy.
    equilibria_complete : bool
        Whether that enumeration is proven complete (see :func:`~sedtheory.equilibria`).
    """

    x: np.ndarray
    policy: Any
    equilibrium: Equilibrium
    welfare: float
    upper_bound: float
    objective: Objective
    method: str
    status: str
    certificate: Certificate
    evaluations: int
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    selection: str = "solver"
    equilibria_found: int = 1
    equilibria_complete: bool = False

    @property
    def p(self) -> float:
        """The objective's p."""
        return self.objective.p

    @property
    def welfare_of(self) -> str:
        """``"utility"`` or ``"payoff"``."""
        return self.objective.of

    @property
    def gap(self) -> float:
        """``upper_bound - welfare``: how far from the bound the policy can be at most."""
        return float(self.upper_bound - self.welfare)

    @property
    def relative_gap(self) -> float:
        return self.gap / max(1.0, abs(self.upper_bound))


def _scan(
    game: Any, space: Any, objective: Objective, resolution: int | None, evaluate: Any, large: bool = False
) -> tuple[np.ndarray, np.ndarray, PolicyEvaluations, int]:
    """Grid over the space's box and its certified evaluations: (grid, welfare, batch, points);
    a large society's smaller design (:func:`~sedtheory.principal.gradient.design`)."""
    lo, hi = space.bounds
    if large and resolution is None:
        pts, points, _ = design(lo, hi, game.n)
    else:
        points = scan_points(space.dim, game.n, resolution, search_hints(game).scan_evaluations)
        pts = grid(lo, hi, points)
    batch = evaluate(pts)
    w = batch.welfare(objective)
    if not np.any(np.isfinite(w)):
        if batch.certified.any():
            row = int(np.argmax(batch.certified))
            objective.evaluate(objective.values(batch.utilities[row], batch.payoffs[row]))  # names agents
        raise DomainError(
            "p",
            objective.p,
            f"no scanned policy gives a certified equilibrium with values inside the p-mean's domain "
            f"({batch.uncertified} of {pts.shape[0]} uncertified)",
        )
    return pts, w, batch, points


def _begin(
    game: Any,
    space: Any,
    obj: Objective,
    resolution: Any,
    evaluate: Any,
    start: Any,
    start_step: Any,
    large: bool,
) -> tuple[np.ndarray, np.ndarray, PolicyEvaluations, int, float]:
    """The scan (or the warm start) and the compass's grid spacing (twice its first step)."""
    if start is not None:
        return (*_warm(space, obj, start, evaluate), 2.0 * positive_float("start_step", start_step))
    pts, w, scan, points = _scan(game, space, obj, resolution, evaluate, large)
    lo, hi = space.bounds
    spacing = float(np.max((hi - lo) / max(points - 1, 1))) if np.any(hi > lo) else 0.0
    return pts, w, scan, points, spacing


def _warm(
    space: Any, objective: Objective, start: npt.ArrayLike, evaluate: Any
) -> tuple[np.ndarray, np.ndarray, PolicyEvaluations, int]:
    """The warm start as a one-point scan (typed error when it is outside the box or uncertified)."""
    lo, hi = space.bounds
    x = real_array("start", start, f"give {space.dim} numbers inside the policy box")
    if x.shape != (space.dim,) or np.any(x < lo) or np.any(x > hi):
        raise InvalidParameterError(
            "start", start, f"give {space.dim} numbers inside [{lo.tolist()}, {hi.tolist()}]"
        )
    batch = evaluate(x[None])
    w = batch.welfare(objective)
    if not np.isfinite(w[0]):
        raise DomainError("start", start, "the start has no certified equilibrium inside the p-mean's domain")
    return x[None], w, batch, 1


def optimal_policy(
    game: Any,
    objective: Any,
    space: Any = None,
    *,
    resolution: int | None = None,
    starts: int | None = None,
    min_step: float | None = None,
    tol: float | None = None,
    polish: bool | None = None,
    bound: bool = True,
    selection: str = "optimistic",
    certify: bool = False,
    time_limit: float = 60.0,
    progress: bool = False,
    start: npt.ArrayLike | None = None,
    start_step: float = 0.05,
) -> PolicyDesign:
    r"""The best policy of ``space`` for ``objective`` in ``game``, with a certificate.

    Parameters
    ----------
    game : Game
        Any game; the space maps points of its box to games.
    objective : Objective or float
        The principal's objective (a bare ``p`` means ``Objective(p)``).
    space : PolicySpace, optional
        Default: the game's bracket rates on ``[0, 1]^B`` (games with a bracket tax) or
        ``game.default_policy_space()``.
    resolution : int, optional
        Grid points per coordinate of the scan (default :func:`~sedtheory.principal.search.scan_points`).
    starts : int, optional
        At most this many compass searches, from the best local maxima of the scan.
    min_step : float, optional
        Smallest compass step.
    tol : float, optional
        Relative Nash-gap tolerance of every equilibrium.
        ``starts``, ``min_step``, ``tol`` and the scan size default to the game's
        :class:`~sedtheory.games.SearchHints` (8, 1e-5, 1e-9 and :func:`scan_points` for games
        without any; the dynamic commons asks for less, as each equilibrium is a backward induction).
    polish : bool, optional
        Call the space's ``polish`` hook (default: the hook decides).
    bound : bool
        Call the space's ``upper_bound`` hook (``False``: the bound is ``inf``).
    selection : {"optimistic", "pessimistic", "solver"}
        Which equilibrium counts where a policy induces several (DESIGN section 6; see
        :mod:`sedtheory.principal.selection`). Games without an equilibrium enumeration (e.g. the
        dynamic commons) count the solver's, and say so.
    certify : bool
        Also run the space's ``global_bound`` hook: for bracket rates in the commons game, the
        branch and bound on the regimes (:func:`~sedtheory.principal.branch_bound.rate_box_bound`)
        and, where it does not close, SCIP on the single-level reformulation
        (:func:`~sedtheory.principal.global_bound.second_best_bound`) bound the optimistic second
        best over the whole box; its best point is re-verified
        exactly and kept if better. The status is ``"optimal"`` only when that bound meets the
        design's welfare within ``1e-6`` relative; otherwise ``"best-found"`` with the bound
        (far tighter than the first best) and the gap.
    time_limit : float
        Seconds for the global solver (``certify=True``).
    progress : bool
        Show the search's stages and the best welfare so far on stderr (tqdm; quiet by default,
        on in the command line).
    start : array_like, optional
        A point of the box to search from instead of the scan (a warm start: e.g. the optimum of
        a weighted sample of a large population); the compass's first step is ``start_step``.
    start_step : float
        The first compass step from ``start``.

    Returns
    -------
    PolicyDesign

    Notes
    -----
    The returned welfare is exact at a certified equilibrium of the returned policy, so it is a
    lower bound on the second best :math:`\max_x M_p(u(a^*(x)))`; the space's bound (if any) is
    an upper bound; the certificate's status is ``"optimal"`` when they meet to ``1e-6``
    relative. Policies whose game has no certified equilibrium are skipped and counted
    (``details["uncertified"]``).
    """
    t0 = time.perf_counter()
    require_game(game)
    selection = check_selection(selection)
    obj = as_objective(objective).for_game(game)
    space = default_space(game, space)
    starts, min_step, tol = _search_options(game, starts, min_step, tol, certify, time_limit)

    bar = _stages(progress, obj, certify)
    hook = getattr(space, "gradient", None)
    gradient = hook(game, obj) if hook is not None and game.n >= LARGE else None
    cores = SharedCores() if gradient is not None else None  # batches split over free threads

    def solve(x: np.ndarray) -> PolicyEvaluations:  # the solver's equilibrium of every row
        return space.batch_equilibria(game, x, tol=tol)  # type: ignore[no-any-return]

    evaluate = split_evaluations(cores, solve)

    large = gradient is not None and resolution is None
    # Large societies: where the first best needs a cone program (a second of CPU taken from the
    # search at n = 1000), the relaxed second-best bound after the search is the certificate alone.
    instead = getattr(space, "relaxed_instead", None)
    relaxed_only = gradient is not None and bool(bound) and instead is not None and instead(game, obj)
    pool = ThreadPoolExecutor(max_workers=1) if gradient is not None and bound and not relaxed_only else None
    if pool is not None and getattr(space, "upper_bound", None) is not None:
        # the planner's convex program (seconds at n = 1000) runs beside the search
        bound = pool.submit(space.upper_bound, game, obj)  # type: ignore[assignment]
    pts, w, scan, points, spacing = _begin(game, space, obj, resolution, evaluate, start, start_step, large)
    bar.step("scan", float(np.max(w)))
    lo, hi = space.bounds
    order = np.argsort(-w)
    # Local maxima of the scan (one per basin it resolved) and the best points overall (a basin
    # narrower than the grid spacing shows up as a high point that is not a grid peak).
    peaks = (
        local_maxima(w, lo, hi, points, max(1, starts)) if pts.shape[0] == points**space.dim else order[:0]
    )
    top = order[: max(1, min(starts, 2) if gradient is not None else starts)]
    chosen = np.unique(np.concatenate([peaks[: top.size], top[np.isfinite(w[top])]]))
    begin = (pts[chosen], w[chosen], scan.actions[chosen])
    if gradient is not None:  # exact sensitivities: a few evaluations per round (module gradient)
        found = ascent(evaluate, gradient, obj, begin, lo, hi, 0.5 * spacing, min_step, cores=cores)
    else:
        found = compass(evaluate, obj, *begin, lo, hi, 0.5 * spacing, min_step, 200)
    bar.step("gradient ascent" if gradient is not None else "compass", float(np.max(found.values)))
    if selection != "solver" and getattr(space, "equilibrium_windows", None) is not None:
        found = reselect(space, game, obj, selection, tol, pts, w, found, spacing, min_step, gradient, cores)
    bar.step(f"selection {selection}", float(np.max(found.values)))
    best = int(np.argmax(found.values))
    x, value, target = found.points[best], float(found.values[best]), found.actions[best]
    details: dict[str, Any] = {
        "scan_points_per_coordinate": points,
        "scan_size": int(pts.shape[0]),
        "scan_best_welfare": float(w[order[0]]),
        "scan_best_point": pts[order[0]].copy(),
        "compass_rounds": found.rounds,
        "compass_evaluations": found.evaluations,
        "selection": selection,
        "uncertified": scan.uncertified,
        "search_seconds": time.perf_counter() - t0,
    }
    method = (
        f"batched scan ({pts.shape[0]} policies) + gradient ascent with exact equilibrium sensitivities "
        f"(step >= {min_step:g})"
        if gradient is not None
        else f"batched scan ({points}^{space.dim} grid) + compass search (step >= {min_step:g})"
    )
    if selection == "pessimistic":
        polish = False  # a better implementation of the outcome need not be the worst equilibrium
    polished = _polish(space, game, obj, x, target, value, tol, polish, details)
    if polished is not None and polished.improved:
        x, target, method = polished.x, polished.actions, method + polished.method
    if selection == "optimistic":
        x, target, method = _on_ties(space, game, obj, x, target, method, details)
    second = None
    if certify:
        second, x, target, method = global_design(
            space, game, obj, selection, x, target, method, time_limit, details
        )
    try:
        return _finish(
            game, space, obj, x, target, tol, bound, method, details, found.evaluations, pts, polished, t0,
            selection, second, (pts[order[0]], scan.actions[order[0]]) if np.isfinite(w[order[0]]) else None,
            not relaxed_only,
        )  # fmt: skip
    finally:
        if pool is not None:
            pool.shutdown(wait=False)


def _search_options(
    game: Any, starts: Any, min_step: Any, tol: Any, certify: Any, time_limit: Any
) -> tuple[int, float, float]:
    """The search's options checked (typed errors), defaults from the game's hints."""
    hints = search_hints(game)
    positive_float("time_limit", time_limit)
    if not isinstance(certify, bool):
        raise InvalidParameterError("certify", certify, "pass True or False")
    return (
        count("starts", hints.starts if starts is None else starts),
        positive_float("min_step", hints.min_step if min_step is None else min_step),
        positive_float("tol", hints.tolerance if tol is None else tol),
    )


class _Stages:
    """A tqdm bar over the search's stages (a no-op when quiet)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def step(self, stage: str, best: float | None) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(stage + ("" if best is None else f", best {best:.6g}"))
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _stages(progress: bool, obj: Objective, certify: bool) -> _Stages:
    if not progress:
        return _Stages(None)
    from tqdm.auto import tqdm

    return _Stages(tqdm(total=5 + int(certify), desc=f"optimal policy, {obj.label}", leave=False))


def _on_ties(
    space: Any,
    game: Any,
    obj: Objective,
    x: np.ndarray,
    target: np.ndarray,
    method: str,
    details: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, str]:
    """Where the rates induce several equilibria (an indifference tie nearby), move them onto the
    tie that improves the objective (:func:`~sedtheory.principal.ties.repair_onto_ties`)."""
    hook = getattr(space, "equilibrium_windows", None)
    windows = hook(game, np.asarray(x, dtype=float)[None]) if hook is not None else None
    if windows is None or bool(windows.unique[0]):
        details["tie_repair"] = "none (a unique equilibrium, or no equilibrium windows for this space)"
        return x, target, method
    before = obj.of_profile(space.apply(game, x), target)
    repaired = repair_onto_ties(space, game, obj, x, target)
    if repaired.moves == 0 or not repaired.welfare > before:
        details["tie_repair"] = f"no better tie along the coordinates (welfare {before:.10g})"
        return x, target, method
    details["tie_repair"] = f"{repaired.moves} moves onto ties: {before:.10g} -> {repaired.welfare:.10g}"
    return repaired.x, repaired.actions, method + " + repair onto the indifference tie"


def _counted(
    g_final: Any, obj: Objective, selection: str, eq: Equilibrium, tol: float
) -> tuple[Equilibrium, Selected | None]:
    """The equilibrium ``selection`` counts at the final policy (``eq``: the certified outcome of
    the search), re-certified by its exact gap (never re-solved); None for games without an
    enumeration."""
    if not isinstance(g_final, AggregativeGame):
        return eq, None
    chosen = select(g_final, obj, selection, extra=eq.actions)
    if selection == "solver" or chosen.found.index_of(eq.actions) == chosen.row:
        return eq, chosen
    counted = certified_equilibrium(
        g_final,
        chosen.actions,
        method=f"{selection} equilibrium of {chosen.found.count}",
        tol=tol,
        certificate="exact best responses of every agent under the returned policy",
    )
    return counted, chosen


def _polish(
    space: Any,
    game: Any,
    obj: Objective,
    x: np.ndarray,
    target: np.ndarray,
    value: float,
    tol: float,
    polish: bool | None,
    details: dict[str, Any],
) -> Polished | None:
    hook = getattr(space, "polish", None)
    if hook is None or polish is False:
        details["polish"] = "none (the space has no polish hook, or polish=False)"
        return None
    result = hook(game, obj, x, target, value, tol, polish)
    if isinstance(result, str):  # the hook declined, saying why
        details["polish"] = result
        return None
    details["polish"] = result.note
    return result


def _finish(
    game: Any,
    space: Any,
    obj: Objective,
    x: np.ndarray,
    target: np.ndarray,
    tol: float,
    bound: bool | Future[tuple[float, str]],
    method: str,
    details: dict[str, Any],
    evals: int,
    pts: np.ndarray,
    polished: Polished | None,
    t0: float,
    selection: str = "solver",
    second: Any = None,
    scan_best: tuple[np.ndarray, np.ndarray] | None = None,
    with_first_best: bool = True,
) -> PolicyDesign:
    """Certify the final outcome under the final policy, attach the bound (the relaxed second best
    from the design and from ``scan_best``, the scan's best rates and actions), build the design."""
    g_final = space.apply(game, x)
    improved = polished is not None and polished.improved
    eq = certified_equilibrium(
        g_final,
        target,
        method="implemented target" if improved else "batched policy search",
        tol=tol,
        certificate="exact best responses of every agent under the returned policy",
    )
    if not eq.converged:  # defensive: fall back to the solver's certified equilibrium
        eq = solve_equilibrium(g_final, tol=tol)
    eq, chosen = _counted(g_final, obj, selection, eq, tol)
    welfare_value = obj.evaluate(obj.values(eq.utilities, eq.payoffs))
    relax = getattr(space, "relaxed_bound", None)
    relaxed = None
    if relax is not None and bound is not False:  # before waiting for the first best's thread
        relaxed = relax(game, obj, [(x, eq.actions)] + ([] if scan_best is None else [scan_best]))
    hook = getattr(space, "upper_bound", None)
    if isinstance(bound, Future):  # started beside the search (large societies)
        ub, source = bound.result()
    elif not with_first_best and relaxed is not None and math.isfinite(relaxed.upper):
        ub, source = (
            math.inf,
            "first best not computed (a large society: the relaxed second best is the bound)",
        )
    elif bound and hook is not None:
        ub, source = hook(game, obj)
    else:
        ub, source = math.inf, "not computed (bound=False or the space has no bound)"
    details["first_best_bound"] = ub
    ub, source = tightest_bound(ub, source, second, welfare_value, details, relaxed)
    exact_outcome = polished is not None and polished.exact
    argument = (
        f"lower bound {welfare_value:.10g}: M_{format_p(obj.p)} at an equilibrium with exact Nash gap "
        f"{eq.nash_gap:.2e}; upper bound {ub:.10g}: {source}; remaining gap {ub - welfare_value:.4g}. "
        f"At least as good as all {pts.shape[0]} scanned policies "
        f"(best {details['scan_best_welfare']:.10g}) and {evals} compass points"
        + (f"; {polished.proof}" if polished is not None and exact_outcome else "")
        + _selection_words(selection, chosen)
    )
    cert = Certificate.from_bounds(welfare_value, ub, source, argument=argument)
    details.update({"seconds": time.perf_counter() - t0, "polished": improved})
    return PolicyDesign(
        x=np.array(x, dtype=float),
        policy=g_final.policy,
        equilibrium=eq,
        welfare=welfare_value,
        upper_bound=ub,
        objective=obj,
        method=method,
        status=cert.status,
        certificate=cert,
        evaluations=int(pts.shape[0] + evals + 1),
        details=details,
        selection=selection,
        equilibria_found=1 if chosen is None else chosen.found.count,
        equilibria_complete=False if chosen is None else chosen.found.complete,
    )


def _selection_words(selection: str, chosen: Selected | None) -> str:
    if chosen is None:
        return f". Selection {selection!r}: this game has no equilibrium enumeration, the solver's is counted"
    found = chosen.found
    return (
        f". Selection {selection!r}: {found.count} pure equilibri{'um' if found.count == 1 else 'a'} at the "
        f"returned policy ({'complete' if found.complete else 'not proven complete'}); the counted one has "
        f"welfare {chosen.welfare:.10g}"
    )
