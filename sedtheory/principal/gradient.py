r"""Gradient ascent over the rate box with exact equilibrium sensitivities (large societies).

Inside a regime of the global commons (each agent on a fixed piece, interior or at a kink) the
equilibrium is affine in the rates (:meth:`~sedtheory.games.commons.kernel.CommonsKernel.rate_sensitivity`),
so the principal's objective :math:`M_p(u(a^*(\rho), \rho))` is smooth there and its gradient
follows from the sensitivities: :func:`welfare_gradient` moves the profile and the rates together
along each regime direction and differences the objective (utilities are quadratic in the move,
so the central difference is exact up to rounding for ``p = 1`` and second order otherwise).

:func:`ascent` is a projected gradient search with a batched line search: each round evaluates a
handful of step lengths along the (box-projected) gradient, every point a certified equilibrium
(the caller's ``evaluate``); where the gradient direction does not improve (a kink between
regimes, a tie, the edge of the box) it tries the coordinate moves of a compass round at the
same step and shrinks the step when nothing improves. Every accepted point is an exactly
evaluated certified equilibrium, so the result is never worse than the start. For ``n`` in the
thousands and more this replaces the full compass search, whose rounds cost ``8 B`` policy
evaluations each (``B`` brackets); a gradient round costs five.

References
----------
.. [1] D. P. Bertsekas, *Nonlinear Programming*, 3rd ed., Athena Scientific (2016), section 3.3
   (gradient projection with a line search along the projection arc).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import numpy as np

from sedtheory.objective import Objective
from sedtheory.principal.cores import THREADS, SharedCores
from sedtheory.principal.search import SearchResult

__all__ = ["LARGE", "ascent", "design", "welfare_gradient"]

#: Agents from which optimal_policy searches by gradient ascent (where the space gives a
#: gradient) instead of a full scan and compass search.
LARGE = 500

#: Agent-policy pairs the first scan of a large society may solve.
SCAN_PAIRS = 100_000

#: Step lengths of the line search along the gradient, in units of the current step.
LINE = np.array([1.0 / 16.0, 0.25, 1.0, 2.0, 4.0])


def welfare_gradient(
    kernel: Any, objective: Objective, rates: np.ndarray, actions: np.ndarray, step: float = 1e-6
) -> np.ndarray:
    r"""The gradient (B,) of :math:`M_p(u(a^*(\rho), \rho))` in the rates at the equilibrium
    ``actions`` of ``rates``, within the equilibrium's regime.

    ``kernel`` is a global commons kernel (``rate_sensitivity``, ``payoffs``, ``apply_weights``).
    Each coordinate is a central difference of the objective along the exact regime direction
    :math:`(\partial a / \partial \rho_b, e_b)` with step ``step``; all ``2B`` moved profiles are
    evaluated in one batch. ``nan`` entries mean the objective is undefined there.
    """
    rates = np.asarray(rates, dtype=float)
    _, da = kernel.rate_sensitivity(actions, rates)
    bk = rates.size
    moves = np.concatenate([np.eye(bk), -np.eye(bk)]) * step  # (2B, B)
    a_rows = actions[None, :] + moves @ da.T  # (2B, n)
    r_rows = rates[None, :] + moves
    payoffs = kernel.payoffs(a_rows, r_rows)
    utilities = kernel.apply_weights(payoffs)
    w = objective.rows(objective.values(utilities, payoffs))
    with np.errstate(invalid="ignore"):
        return np.asarray((w[:bk] - w[bk:]) / (2.0 * step))


def _direction(g: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The gradient with the components that would leave the box (at a face) set to 0, scaled to a
    largest component of 1 (zero when nothing can move)."""
    d = np.where(np.isfinite(g), g, 0.0)
    d = np.where(((x <= lo) & (d < 0)) | ((x >= hi) & (d > 0)) | (hi <= lo), 0.0, d)
    top = float(np.max(np.abs(d))) if d.size else 0.0
    return d / top if top > 0 else d


def ascent(
    evaluate: Callable[[np.ndarray], Any],
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray],
    objective: Objective,
    starts: tuple[np.ndarray, np.ndarray, np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    step: float,
    min_step: float,
    max_rounds: int = 200,
    cores: SharedCores | None = None,
    max_evaluations: int | None = None,
) -> SearchResult:
    """:func:`_ascent_one` from every start ``(points (k, d), values (k,), actions (k, ...))``.

    The starts are independent, so they run on two threads (numpy releases the GIL inside the
    batched equilibrium solves; each start's result is the same as run alone). With ``cores``
    (the :class:`~sedtheory.principal.cores.SharedCores` that ``evaluate`` splits its batches
    over) each start holds its thread while it runs, so a start's batches use both threads
    once the other has ended. ``max_evaluations``: trial policies per start at most (none by
    default)."""

    def one(k: int) -> SearchResult:
        begin = (starts[0][k], float(starts[1][k]), starts[2][k])
        with cores.search() if cores is not None else nullcontext():
            return _ascent_one(
                evaluate, gradient, objective, begin, lo, hi, step, min_step, max_rounds, max_evaluations
            )

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        found = list(pool.map(one, range(len(starts[1]))))
    return SearchResult(
        np.concatenate([f.points for f in found]),
        np.concatenate([f.values for f in found]),
        np.concatenate([f.actions for f in found]),
        sum(f.evaluations for f in found),
        sum(f.rounds for f in found),
    )


def _ascent_one(
    evaluate: Callable[[np.ndarray], Any],
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray],
    objective: Objective,
    start: tuple[np.ndarray, float, np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    step: float,
    min_step: float,
    max_rounds: int,
    max_evaluations: int | None = None,
) -> SearchResult:
    """Projected gradient ascent with a batched line search from ``start = (x, value, actions)``.

    ``evaluate(X)`` returns policy evaluations of the rows of ``X`` (``welfare(objective)`` and
    ``actions``); ``gradient(x, actions)`` the objective's gradient at a certified point. Each
    round evaluates ``x + h s d`` for the multiples ``s`` in :data:`LINE` along the projected
    gradient ``d`` (largest component 1) and moves to the best improving point (the step becomes
    the multiple that won, capped at ``step``); when none improves, the ``2B`` coordinate moves
    at ``h`` and ``h/4``; when those fail too, ``h`` shrinks eightfold. Where the projected
    gradient is zero (a stationary point of the regime, e.g. every free rate at a face it points
    out of), the coordinate moves are at ``h`` and ``h/8`` and a failure shrinks ``h`` 64-fold:
    each factor-8 scale down to ``min_step`` is still tried once, in half the batches (at 10^5
    agents, p = -inf, both starts spent five such rounds at their end points). Moves that the box clips
    back onto ``x`` or onto an earlier trial are not evaluated (:func:`_fresh`). Stops below
    ``min_step``, after ``max_rounds`` rounds, when no move leaves ``x``, or before a batch that
    would take the trial policies past ``max_evaluations``.
    """
    x, v, acts = start[0].copy(), float(start[1]), start[2].copy()
    free = hi > lo
    coords = np.concatenate([np.eye(lo.size)[free], -np.eye(lo.size)[free]])
    h, evaluations, rounds = step, 0, 0
    weight, last = np.ones(lo.size), np.zeros(lo.size)
    while h >= min_step and rounds < max_rounds:
        rounds += 1
        g = gradient(x, acts)
        # a coordinate whose derivative flips sign sits at a kink between regimes: damp it (as
        # Rprop does) so the line search stops zigzagging across the kink and moves along it
        flip = np.sign(g) * np.sign(last) < 0
        weight = np.where(flip, 0.25 * weight, np.minimum(1.0, 2.0 * weight))
        last = np.where(np.isfinite(g), g, 0.0)
        d = _direction(weight * g, x, lo, hi)
        stuck = not np.any(d)  # no ascent direction within the regime: only a kink can help
        tried = 0
        for moves, scale in (
            (LINE[:, None] * d[None, :], LINE),
            (np.concatenate([coords, coords / (8.0 if stuck else 4.0)]), None),
        ):
            if not np.any(moves):
                continue
            trial = np.clip(x[None, :] + h * moves, lo, hi)
            fresh = _fresh(trial, x)
            if fresh.size == 0:  # every move lands on x or repeats another (also when h is below
                continue  # the rates' resolution): nothing new to evaluate
            trial = trial[fresh]
            if max_evaluations is not None and evaluations + trial.shape[0] > max_evaluations:
                tried = 0  # the budget is spent: stop here
                break
            batch = evaluate(trial)
            evaluations += trial.shape[0]
            tried += 1
            w = batch.welfare(objective)
            best = int(np.argmax(w))
            if w[best] > v + 1e-13 * max(1.0, abs(v)):
                x, v, acts = trial[best], float(w[best]), batch.actions[best]
                if scale is not None:
                    h = min(h * float(scale[fresh[best]]), step)
                break
        else:
            h /= 64.0 if stuck else 8.0
        if tried == 0:
            break
    return SearchResult(x[None, :], np.array([v]), acts[None, ...], evaluations, rounds)


def _fresh(trial: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``trial`` worth evaluating, in order: those that differ from ``x``
    and from every earlier row. A move clipped back onto ``x`` (a coordinate at the face it
    points out of) or onto another trial repeats a known evaluation: at a corner of the box
    such moves were 10 of the 28 in each compass round at 10^5 agents."""
    differs = np.any(trial != x[None, :], axis=1)
    _, first = np.unique(trial, axis=0, return_index=True)
    keep = np.zeros(trial.shape[0], dtype=bool)
    keep[first] = True
    return np.flatnonzero(keep & differs)


def design(lo: np.ndarray, hi: np.ndarray, n: int) -> tuple[np.ndarray, int, bool]:
    """The first scan of a large society: ``(points, per_coordinate, full_grid)``.

    The full grid with as many points per coordinate as :data:`SCAN_PAIRS` allows (at least 2),
    or, where even ``2^B`` policies exceed it, the diagonal of flat rates (every bracket at the
    same rate, at least 5 of them: the ascent then leaves the diagonal along the gradient).
    """
    budget = max(1, SCAN_PAIRS // max(n, 1))
    free = int(np.sum(hi > lo))
    if 2**free <= budget:
        points = max(2, int(np.floor(budget ** (1.0 / max(free, 1)) + 1e-9)))
        axes = [np.linspace(a, b, points) if b > a else np.array([a]) for a, b in zip(lo, hi, strict=True)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1), points, True
    t = np.linspace(0.0, 1.0, max(5, budget))[:, None]
    return lo[None, :] + t * (hi - lo)[None, :], max(5, budget), False
