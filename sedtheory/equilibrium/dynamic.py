r"""Markov perfect equilibria of the dynamic commons by backward induction on a stock grid.

At the last step the continuation is zero; at each earlier step ``t`` the stage game at every
grid stock (step payoffs plus the discounted continuation utility
:math:`\beta \sum_j W_{ij} V_{j,t+1}(G(E))`, interpolated by the monotone cubic of
:func:`~sedtheory.games.dynamic.stage.smooth_value`) is solved as an aggregative
game, vectorised over all grid stocks: with the continuation replaced by its tangent, agent i's
unrationed best demand :math:`x_i(\lambda_i)` is exact (piece by piece), and the total demand
:math:`H` solves :math:`\sum_i x_i(\lambda_i(S - H)) = H` by bisection (at a kink of the
interpolant, where no root exists, the agents share the jump). Every stage profile is then
checked by a global scan of each agent's demand (rationing included); grid stocks where some
agent gains more than the tolerance (stocks where the orchard is emptied, non-concave
continuations) are re-solved by damped best responses. The own-payoff values
:math:`V_{j,t}` follow from the equilibrium demands. With ``horizon=inf`` the stage is iterated
(value iteration) until the values move by less than a stated tolerance; the strategies are
stationary.

Where several stage equilibria pass at a grid stock, ``selection`` (per step) says which is
kept: the largest or the smallest sum of the agents' stage values (:data:`STAGE_SELECTIONS`;
:mod:`sedtheory.equilibrium.mpe` chooses them).

Two certificates are reported: the stage gaps (the largest gain any agent has at any grid stock
against the interpolated continuation) and the Nash gap of the computed strategies in the true
game, by one-shot deviations along the path with continuations simulated exactly (the one-shot
deviation principle), so grid error is inside the reported number.

References
----------
.. [1] E. Maskin, J. Tirole, "Markov perfect equilibrium I: observable actions", *Journal of
   Economic Theory* 100 (2001) 191-219.
.. [2] D. Levhari, L. J. Mirman, "The great fish war: an example using a dynamic Cournot-Nash
   solution", *Bell Journal of Economics* 11 (1980) 322-334.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic.stage import (
    CHUNK,
    StageModel,
    best_replies,
    continuation,
    pchip_slopes,
    smooth_slope,
)

__all__ = [
    "STAGE_SELECTIONS",
    "BackwardInduction",
    "backward_induction",
    "emptying_profiles",
    "stage_equilibria",
    "stage_roots",
]


def stage_roots(
    model: StageModel,
    stocks: np.ndarray,
    grid: np.ndarray,
    cont: np.ndarray,
    points: int = 96,
    iterations: int = 52,
    roots: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Unrationed stage equilibria from the aggregate: candidates (G, roots + 2, n) and which
    exist (G, roots + 2).

    Agent i's tangent reply at total demand ``H`` is :math:`x_i(\lambda_i(S - H))`; roots of
    :math:`\Phi(H) = \sum_i x_i - H` on ``[0, S]`` are bracketed on ``points`` intervals and
    bisected: the first ``roots - 1`` sign changes and the last (an interpolated continuation
    need not be concave, so there may be several). The last two candidates are the demand at
    ``E = 0`` and its water-filled version (:func:`_water_fill`); they exist where
    :math:`\Phi(S) > 0` (the orchard is emptied: no unrationed root there).
    """
    slopes = pchip_slopes(grid, cont)

    def replies(escapement: np.ndarray) -> np.ndarray:
        nxt = model.regrowth(escapement)  # type: ignore[operator]
        marginal = smooth_slope(grid, cont, slopes, nxt)
        price = model.beta * marginal * model.regrowth.slope(escapement)[..., None]  # type: ignore[attr-defined]
        return model.marginal_replies(price)

    s = stocks[:, None]
    totals = s * np.linspace(0.0, 1.0, points + 1)
    rows = max(1, CHUNK // max(1, model.size * (points + 1)))  # bound the (rows, points + 1, n) replies
    phi = (
        np.concatenate(
            [model.total(replies(s[k : k + rows] - totals[k : k + rows])) for k in range(0, s.shape[0], rows)]
        )
        - totals
    )  # (G, points + 1)
    cross = (phi[:, :-1] > 0) & (phi[:, 1:] <= 0)
    count = np.cumsum(cross, axis=1)
    firsts = [np.argmax(cross & (count == j), axis=1) for j in range(1, roots)]
    last = points - 1 - np.argmax(cross[:, ::-1], axis=1)
    pick = np.stack([*firsts, last], axis=1)  # (G, roots)
    lo = np.take_along_axis(totals, pick, axis=1)
    hi = np.take_along_axis(totals, pick + 1, axis=1)
    lo, hi = _bisect(lambda mid: model.total(replies(s - mid)) > mid, lo, hi, iterations)
    x_lo, x_hi = replies(s - lo), replies(s - hi)
    width, jump = hi - lo, model.total(x_lo) - model.total(x_hi)
    room = np.maximum(width + jump, 1e-300)
    total = np.where(width + jump > 0, (model.total(x_hi) * width + jump * hi) / room, hi)
    share = np.where(jump > 0, (total - model.total(x_hi)) / np.where(jump > 0, jump, 1.0), 0.5)
    found_roots = x_hi + np.clip(share, 0.0, 1.0)[..., None] * (x_lo - x_hi)  # (G, roots, n)
    emptied = phi[:, -1] > 0
    wanted = replies(np.zeros_like(s))
    candidates = np.concatenate([found_roots, wanted, _water_fill(model, wanted[:, 0], stocks)], axis=1)
    exists = np.concatenate(
        [count[:, -1:] >= np.arange(1, roots + 1), emptied[:, None], emptied[:, None]], axis=1
    )
    return candidates, exists


def _bisect(
    above: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, iterations: int
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised bisection: ``(lo, hi)`` after ``iterations`` halvings, keeping ``above(lo)``
    true and ``above(hi)`` false wherever they were (``above(mid)``: the point sought lies above
    ``mid``)."""
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        up = above(mid)
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return lo, hi


def _water_fill(
    model: StageModel, wanted: np.ndarray, stocks: np.ndarray, iterations: int = 60
) -> np.ndarray:
    r"""Orchard-emptying demands (G, 1, n) from wanted harvests ``wanted`` (G, n) exceeding the
    stock: with the common ration :math:`q = S/H`, an agent that wants less than :math:`q a_{max}`
    demands :math:`\bar y_i / q` (and gets :math:`\bar y_i`), the others demand the cap; ``q``
    solves :math:`\sum_i \min(\bar y_i, q a_{max}) = S` (bisection). Exact for selfish agents
    without a tax; a start for the damped responses otherwise."""
    s, amax = stocks[:, None], model.amax
    lo, hi = np.zeros_like(s), np.maximum(wanted.max(axis=1, keepdims=True), 1e-300) / amax
    lo, hi = _bisect(lambda q: model.total(np.minimum(wanted, q * amax))[:, None] <= s, lo, hi, iterations)
    y = np.minimum(wanted, hi * amax)
    return np.minimum(y / np.maximum(hi, 1e-300), amax)[:, None, :]


def emptying_profiles(
    model: StageModel,
    stocks: np.ndarray,
    start: np.ndarray,
    unrationed: np.ndarray,
    rounds: int = 40,
    iterations: int = 50,
) -> np.ndarray:
    r"""Candidate equilibria (G, n) of the stage games at the edge of emptying the orchard.

    With rationing every realised harvest is :math:`y_k = q h_k`, :math:`q = S/H`, nothing
    regrows, and agent i's utility is separable, :math:`\sum_k \phi_{ik}(y_k)` with
    :math:`\phi_{ik}(y) = W_{ik}(\omega + y - T(y) - c_k y^2) + (s_i/n) T(y)`. Raising its demand
    moves :math:`y_i` up and scales every other harvest down, so an agent below the cap wants
    :math:`\ell_i` with :math:`(S - \ell_i)\,\phi_{ii}'(\ell_i) = \sum_{k \ne i} y_k \phi_{ik}'(y_k)`.
    Jacobi rounds from the profile ``start``: the wants :math:`\ell` (bisection, the others held);
    if they exceed the stock, the ration :math:`q` that empties the orchard with the largest wants
    capped at :math:`q a_{max}` (:func:`_water_fill`); otherwise the agents stop exactly at the
    rationing kink :math:`H = S`, between :math:`\ell` and their ``unrationed`` wants at
    :math:`E = 0` (a concave kink of every agent's value: a continuum of equilibria, one chosen by
    a common share). Exact for selfish agents without a tax; candidates (checked by the global
    scan) otherwise.
    """
    sigma, s_over_n = model.sigma, model.weights.sum(axis=1) / model.n
    s = stocks[:, None]
    y = model.outcome(stocks, start)[0]
    h = start
    for _ in range(rounds):
        own, rate = model.marginal_payoffs(y)
        revenue = model.total(y * rate)[:, None] - y * rate
        cross = model.weigh(y * own) - sigma * y * own + s_over_n * revenue
        wanted = _wants(model, s, cross, sigma, s_over_n, iterations)
        want = model.total(wanted)[:, None]
        short = want < s
        top = np.maximum(unrationed, wanted)
        theta = np.clip((s - want) / np.maximum(model.total(top)[:, None] - want, 1e-300), 0.0, 1.0)
        kink = np.minimum(wanted + theta * (top - wanted), model.amax)
        new = np.where(short, kink, _water_fill(model, wanted, stocks)[:, 0])
        y_new = model.outcome(stocks, new)[0]
        done = np.max(np.abs(y_new - y)) <= 1e-13 * max(1.0, float(np.max(s)))
        y, h = y_new, new
        if done:
            break
    return h


def _wants(
    model: StageModel,
    s: np.ndarray,
    cross: np.ndarray,
    sigma: np.ndarray,
    s_over_n: np.ndarray,
    iterations: int,
) -> np.ndarray:
    """Each agent's wanted rationed harvest: the root of ``(S - z) phi_ii'(z) = cross`` below its
    bliss harvest (where ``phi_ii'`` reaches 0, at most ``S``; bisection), 0 where the left side
    starts below ``cross``, and ``S`` (grab) where ``cross < 0`` (the others' harvests hurt the
    agent at the margin, so rationing them is worth more than the agent's own bliss)."""

    def marginal(z: np.ndarray) -> np.ndarray:
        o, r = model.marginal_payoffs(z)
        return sigma * o + s_over_n * r  # type: ignore[no-any-return]

    everything = np.broadcast_to(s, cross.shape)
    zero = np.zeros_like(cross)
    _, bliss = _bisect(lambda z: marginal(z) > 0, zero, everything.copy(), iterations)  # capped at S
    lo, _ = _bisect(lambda z: (s - z) * marginal(z) > cross, zero, bliss.copy(), iterations)
    scale = 1e-12 * np.maximum(1.0, np.abs(cross).max())
    wanted = np.where(s * marginal(zero) > cross, lo, 0.0)
    return np.where(cross < -scale, everything, wanted)


def _damped(
    model: StageModel,
    stocks: np.ndarray,
    h: np.ndarray,
    grid: np.ndarray,
    cont: np.ndarray,
    tol: float,
    max_iter: int,
    damping: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Damped simultaneous best responses at ``stocks`` until no agent gains more than ``tol``
    (the orchard-emptying games cycle under steps much above 1/4). Returns, per stock, the
    profile with the smallest gain seen and that gain (where the rounds run out, e.g. when the
    interpolated stage game has no pure equilibrium, that is the best available), and the rounds."""
    keep, kept = h.copy(), np.full(stocks.shape, np.inf)
    last = np.full(stocks.shape, np.inf)  # per stock: the gain at its last 10 % progress
    stalled = np.zeros(stocks.shape, dtype=int)
    live = np.arange(stocks.size)  # stocks still iterated (not solved, not stalled for 20 rounds)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        s, x = stocks[live], h[live]
        br, best = best_replies(model, s, x, grid, cont)
        gain = best - model.values(s, x, grid, cont)
        worst = np.max(gain, axis=1)
        better = worst < kept[live]
        keep[live[better]], kept[live[better]] = x[better], worst[better]
        progress = worst < 0.9 * last[live]
        last[live[progress]] = worst[progress]
        stalled[live] = np.where(progress, 0, stalled[live] + 1)
        go = (worst > tol) & (stalled[live] < 10)  # cycling stocks stop with the best profile seen
        h[live] = _to_cap(model, np.where(gain > 0, x + damping * (br - x), x), s)
        live = live[go]
        if live.size == 0:
            break
    return keep, kept, it


def _to_cap(model: StageModel, h: np.ndarray, stocks: np.ndarray) -> np.ndarray:
    """Profiles that empty the orchard scaled up until the largest demand is the cap.

    When total demand exceeds the stock, realised harvests depend on the demands only through
    their shares, so a common scaling changes no payoff; what it changes is which agents sit at
    the cap, where an orchard-emptying equilibrium has its largest demand whenever that agent
    still wants a larger share. Best responses alone creep there slowly; the move is only a
    step of the iteration (every profile returned is checked by the global scan)."""
    total, top = model.total(h), h.max(axis=1)
    factor = np.where((total > stocks) & (top > 0), model.amax / np.maximum(top, 1e-300), 1.0)
    return np.minimum(h * np.maximum(factor, 1.0)[:, None], model.amax)


def _gaps(
    model: StageModel, stocks: np.ndarray, h: np.ndarray, cont: np.ndarray, grid: np.ndarray | None = None
) -> np.ndarray:
    """Largest gain of any agent (by the global scan) at each stock."""
    grid = stocks if grid is None else grid
    _, best = best_replies(model, stocks, h, grid, cont)
    return np.max(best - model.values(stocks, h, grid, cont), axis=1)


def stage_equilibria(
    model: StageModel,
    grid: np.ndarray,
    cont: np.ndarray,
    tol: float,
    max_iter: int = 400,
    damping: float = 0.25,
    guesses: tuple[np.ndarray, ...] = (),
    prefer: np.ndarray | None = None,
    selection: str = "max-welfare",
) -> tuple[np.ndarray, np.ndarray, int]:
    """The stage game at every grid stock: demands (G, n), stage gap per stock (G,), iterations.

    ``prefer`` (G, n), if given, is kept wherever it is still an equilibrium (value iteration
    passes the last sweep's profile: re-selecting among several equilibria at every sweep can
    make the values cycle instead of converge).

    ``tol`` is relative to the largest stage value. The candidates are the aggregate roots (see
    :func:`stage_roots`), the orchard-emptying demands and the profiles ``guesses`` (G, n) - the
    last step's equilibrium (when the others' demands alone exceed the stock, no agent can leave
    apples, so the continuation cannot matter) and the next step's. All are checked by the global
    scan in one batch; of those that pass, the one with the largest sum of the agents' stage
    values is selected (``selection="max-welfare"``; ``"min-welfare"``: the smallest, see
    :func:`_select` and :data:`STAGE_SELECTIONS`). Where none passes, the orchard-emptying profiles of
    the rationed game are tried, and stocks where every candidate leaves a gain above the
    tolerance are re-solved by damped best responses from the best candidate."""
    candidates, exists = stage_roots(model, grid, grid, cont)
    if guesses:
        candidates = np.concatenate([candidates, np.stack(guesses, axis=1)], axis=1)
        exists = np.concatenate([exists, np.ones((grid.size, len(guesses)), dtype=bool)], axis=1)
    h, gaps, passed = _select(model, grid, cont, candidates, exists, tol, selection == "min-welfare")
    if prefer is not None:
        kept = _gaps(model, grid, prefer, cont)
        # an empty orchard makes every demand an equilibrium: keep the selected one there
        keep = (grid > 0) & (kept <= np.maximum(gaps, _scale(model, grid, prefer, cont, tol)))
        h[keep], gaps[keep] = prefer[keep], kept[keep]
    scale = _scale(model, grid, h, cont, tol)
    rows = np.nonzero(~passed & (gaps > scale))[0]
    if rows.size:  # orchard-emptying equilibria of the rationed game
        trial_h = emptying_profiles(model, grid[rows], h[rows], candidates[rows, -2 - len(guesses)])
        trial = _gaps(model, grid[rows], trial_h, cont, grid)
        better = trial < gaps[rows]
        h[rows[better]], gaps[rows[better]] = trial_h[better], trial[better]
        rows = rows[~better | (trial > scale)]
    iterations = 1
    if rows.size:
        h[rows], gaps[rows], iterations = _damped(
            model, grid[rows], h[rows], grid, cont, scale, max_iter, damping
        )
    return h, np.maximum(gaps, 0.0), iterations


def _scale(model: StageModel, grid: np.ndarray, h: np.ndarray, cont: np.ndarray, tol: float) -> float:
    """The absolute stage tolerance: ``tol`` times the largest stage value (at least 1)."""
    return tol * max(1.0, float(np.max(np.abs(model.values(grid, h, grid, cont)))))


#: Which stage equilibrium backward induction keeps at a grid stock where several pass: the one
#: with the largest or the smallest sum of the agents' stage values. The solver tries them in this
#: order and keeps the first whose strategies are certified in the true game (else the smaller gap).
STAGE_SELECTIONS = ("max-welfare", "min-welfare")


def _select(
    model: StageModel,
    grid: np.ndarray,
    cont: np.ndarray,
    candidates: np.ndarray,
    exists: np.ndarray,
    tol: float,
    smallest: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per stock, the candidate (G, K, n) selected: of those that exist and pass the global scan
    to ``tol`` (relative), the one with the largest sum of stage values (the smallest with
    ``smallest``); where none passes, the one with the smallest gain. Returns the profiles
    (G, n), their gains (G,) and which passed.

    Selecting by welfare rather than by the order of the candidates keeps the selection
    consistent from one stock to the next: where the stage game has a conserving and an emptying
    equilibrium, taking whichever root happens to come first flips between them from one grid
    stock to its neighbour, and the values (and every earlier step) inherit the saw-tooth. The
    candidates are scanned in order of welfare, each only at the stocks where no better one has
    passed (usually one scan per stock)."""
    g_n, k_n = exists.shape
    at = np.arange(g_n)
    stage = model.values(np.repeat(grid, k_n), candidates.reshape(g_n * k_n, -1), grid, cont)
    welfare = np.where(exists, model.total(stage).reshape(g_n, k_n), -np.inf)
    rank_key = np.where(exists, welfare, np.inf) if smallest else -welfare
    order = np.argsort(rank_key, axis=1, kind="stable")
    scale = tol * max(1.0, float(np.max(np.abs(stage[exists.reshape(-1)]), initial=0.0)))
    pick, best = np.zeros(g_n, dtype=np.int64), np.full(g_n, np.inf)
    passed = np.zeros(g_n, dtype=bool)
    for rank in range(k_n):
        k = order[:, rank]
        rows = np.nonzero(~passed & exists[at, k])[0]
        if rows.size == 0:
            break
        gain = _gaps(model, grid[rows], candidates[rows, k[rows]], cont, grid)
        better = gain < best[rows]
        pick[rows[better]], best[rows[better]] = k[rows[better]], gain[better]
        passed[rows] = gain <= scale
    return candidates[at, pick], best, passed


@dataclass(frozen=True)
class BackwardInduction:
    """Markov perfect strategies on the grid.

    Attributes
    ----------
    policies : numpy.ndarray
        Demands ``h_i(t, S)``: ``(T, G, n)``, or ``(1, G, n)`` (stationary) for ``horizon=inf``.
    values : numpy.ndarray
        Own-payoff values ``V_i(t, S)``: ``(T+1, G, n)`` (the last is zero), or ``(1, G, n)``.
    stage_gaps : numpy.ndarray
        Largest stage gain per step (``(T,)``; one entry for ``horizon=inf``).
    iterations : int
        Best-response rounds over all steps (and value-iteration sweeps for ``horizon=inf``).
    change : float
        For ``horizon=inf``: the last value-iteration change (sup norm); 0 otherwise.
    solves : int
        Stage solves (steps or sweeps whose profile was not carried over by the shift bound).
    selection : tuple of str
        Which stage equilibrium was kept where several pass, per step (one entry for
        ``horizon=inf``; :data:`STAGE_SELECTIONS`).
    """

    policies: np.ndarray
    values: np.ndarray
    stage_gaps: np.ndarray
    iterations: int
    change: float = 0.0
    solves: int = 0
    selection: tuple[str, ...] = ("max-welfare",)


def _step_values(model: StageModel, grid: np.ndarray, h: np.ndarray, later: np.ndarray) -> np.ndarray:
    y, nxt = model.outcome(grid, h)
    return model.payoffs(y) + model.beta * continuation(grid, later, nxt)


def _span(change: np.ndarray) -> float:
    """Largest oscillation over stocks of a change of continuation utilities (G, n): adding a
    constant to an agent's continuation moves none of its gains."""
    return float(np.max(change.max(axis=0) - change.min(axis=0)))


def _reuse(
    model: StageModel, grid: np.ndarray, h: np.ndarray, cont: np.ndarray, bound: float, tol: float
) -> bool:
    """Whether the profile ``h`` (certified with gains at most ``bound`` against an earlier
    continuation) is still a stage equilibrium to ``tol`` (relative) against ``cont``."""
    return bound <= _scale(model, grid, h, cont, tol)


def backward_induction(
    game: Any,
    tol: float = 1e-9,
    max_iter: int = 400,
    damping: float = 0.25,
    value_tol: float = 1e-8,
    max_sweeps: int = 5000,
    selection: str | Sequence[str] = "max-welfare",
) -> BackwardInduction:
    r"""Markov perfect strategies of a dynamic commons game by backward induction (value iteration
    to ``value_tol``, relative to the largest value, for ``horizon=inf``); ``selection`` (one of
    :data:`STAGE_SELECTIONS`, or one per step for a finite horizon) picks among several stage
    equilibria at a grid stock.

    Notes
    -----
    If the continuation utilities change from one step to the next by :math:`\Delta_i(S)`, every
    gain of a fixed profile changes by at most :math:`\beta(\max_S \Delta_i - \min_S \Delta_i)`
    (a constant shift moves no decision). So the previous step's profile is kept without a new
    stage solve while its accumulated bound stays below the tolerance (and both steps select
    alike); the reported stage gap of such a step is that bound. Where the orchard is emptied at
    every stock (laissez-faire with selfish agents) the continuation only shifts and one stage
    solve serves every step.

    Value iteration (``horizon=inf``) keeps the last sweep's profile wherever it is still a stage
    equilibrium, and stops after 50 sweeps without a new smallest change: where the selection
    flips between equilibria from sweep to sweep the values cycle instead of converging, and the
    reported ``change`` says so (the true-game certificate then decides).
    """
    sels = _selections(game, selection)
    symmetry, grid = game.symmetry, game.grid
    model = symmetry.model
    solve = partial(stage_equilibria, tol=tol, max_iter=max_iter, damping=damping)
    if math.isinf(game.horizon):
        out = _value_iteration(model, grid, partial(solve, selection=sels[0]), tol, value_tol, max_sweeps)
        policies, values = symmetry.expand(out.policies), symmetry.expand(out.values)
        return replace(out, policies=policies, values=values, selection=sels)
    t_n, g_n, n = game.strategy_shape[0], grid.size, model.size
    policies = np.zeros((t_n, g_n, n))
    values = np.zeros((t_n + 1, g_n, n))
    gaps = np.zeros(t_n)
    iterations, solved = 0, 0
    previous = np.zeros((g_n, n))
    for t in range(t_n - 1, -1, -1):
        cont = model.weigh(values[t + 1])  # continuation utilities sum_j W_ij V_j
        if t < t_n - 1 and sels[t] == sels[t + 1]:
            bound = gaps[t + 1] + model.beta * _span(cont - previous)
            if _reuse(model, grid, policies[t + 1], cont, bound, tol):
                policies[t], gaps[t] = policies[t + 1], bound
                values[t] = _step_values(model, grid, policies[t], values[t + 1])
                continue
        guesses = () if t == t_n - 1 else (policies[t_n - 1], policies[t + 1])
        policies[t], stage_gap, its = solve(model, grid, cont, guesses=guesses, selection=sels[t])
        gaps[t], previous = float(stage_gap.max()), cont
        iterations, solved = iterations + its, solved + 1
        values[t] = _step_values(model, grid, policies[t], values[t + 1])
    policies, values = symmetry.expand(policies), symmetry.expand(values)
    return BackwardInduction(policies, values, gaps, iterations, solves=solved, selection=sels)


def _selections(game: Any, selection: str | Sequence[str]) -> tuple[str, ...]:
    """The stage selection of every step (one for ``horizon=inf``), checked."""
    rows = game.strategy_shape[0]
    sels = (selection,) * rows if isinstance(selection, str) else tuple(selection)
    bad = [s for s in sels if s not in STAGE_SELECTIONS]
    if bad or len(sels) != rows:
        raise InvalidParameterError(
            "selection",
            selection,
            f"use one of {', '.join(STAGE_SELECTIONS)} (the stage equilibrium kept), or a sequence of "
            f"{rows} of them (one per step)",
        )
    return sels


def _value_iteration(
    model: StageModel,
    grid: np.ndarray,
    solve: Callable[..., tuple[np.ndarray, np.ndarray, int]],
    tol: float,
    value_tol: float,
    max_sweeps: int,
) -> BackwardInduction:
    values = np.zeros((grid.size, model.size))
    emptied, _, iterations = solve(model, grid, values)
    h, change, sweeps, solved = emptied, np.inf, 0, 1
    bound, previous = np.inf, model.weigh(values)
    smallest, since = np.inf, 0  # the values cycle when the selection flips: stop after 50 idle sweeps
    while sweeps < max_sweeps and since < 50:
        sweeps += 1
        cont = model.weigh(values)
        bound += model.beta * _span(cont - previous)
        if not _reuse(model, grid, h, cont, bound, tol):
            kept = None if sweeps == 1 else h
            h, stage_gap, its = solve(model, grid, cont, guesses=(emptied,), prefer=kept)
            bound, previous = float(stage_gap.max()), cont
            iterations, solved = iterations + its, solved + 1
        new = _step_values(model, grid, h, values)
        change = float(np.max(np.abs(new - values)))
        values = new
        if change <= value_tol * max(1.0, float(np.max(np.abs(values)))):
            break
        smallest, since = (change, 0) if change < 0.999 * smallest else (smallest, since + 1)
    cont = model.weigh(values)
    h, stage_gap, its = solve(model, grid, cont, guesses=(emptied,), prefer=h)
    return BackwardInduction(
        h[None], values[None], np.array([stage_gap.max()]), iterations + its, change, solved + 1
    )
