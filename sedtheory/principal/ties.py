r"""Repairing a design onto the indifference tie it converges to (global commons, bracket rates).

With non-concave own payoffs the optimistic second best often sits where an agent is exactly
indifferent between two harvests: on one side of the tie the better equilibrium exists, on the
other it does not, and a search over rates only approaches the tie (each step that crosses it
loses the equilibrium). Fix the segment of every agent at the found equilibrium: the restricted
game is a concave potential game whose equilibrium moves smoothly with the rates, and it stays
an equilibrium of the full game until some agent's best reply leaves its segment - the tie. Along
each coordinate direction in which the welfare of the restricted equilibrium improves, the
largest step that keeps it an equilibrium is found by bisection (to the last float), and the
design moves there; the profile is then certified by its exact Nash gap, never re-solved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sedtheory.equilibrium.global_commons import reply_caps, restricted_equilibrium, segment_structure
from sedtheory.objective import Objective

__all__ = ["TieRepair", "repair_onto_ties"]


@dataclass(frozen=True)
class TieRepair:
    """The repaired design: rates ``x``, the equilibrium ``actions`` (exact gap ``gap``), its
    ``welfare``, and how many coordinate moves were taken (0: nothing better on any tie)."""

    x: np.ndarray
    actions: np.ndarray
    welfare: float
    gap: float
    moves: int


def _segments_of(game: Any, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The segment every agent's action lies in, and the segment ids (``(n, P)``)."""
    seg_of, _, _ = segment_structure(game)
    lo = game.tax_pieces[0]
    piece = np.clip(np.searchsorted(lo, actions, side="right") - 1, 0, lo.size - 1)
    return seg_of[np.arange(game.n), piece], seg_of


def _restricted(
    space: Any, game: Any, x: np.ndarray, segments: np.ndarray, obj: Objective, tol: float
) -> tuple[float, np.ndarray, float] | None:
    """(welfare, actions, gap) of the restricted equilibrium at rates ``x`` with the agents'
    ``segments`` fixed, or None when it is not an equilibrium of the full game."""
    g = space.apply(game, x)
    seg_of, n_segs, _ = segment_structure(g)
    if np.any(segments >= n_segs):
        return None
    a = restricted_equilibrium(g, seg_of, segments, reply_caps(g)).actions
    u = g.utilities(a)
    gap = float(np.max(g.deviation_gains(a)))
    if gap > tol * max(1.0, float(np.max(np.abs(u)))):
        return None
    return float(obj.evaluate(obj.values(u, g.payoffs(a)))), a, gap


def repair_onto_ties(
    space: Any,
    game: Any,
    objective: Objective,
    x: np.ndarray,
    actions: np.ndarray,
    step: float = 1e-3,
    rounds: int = 2,
    tol: float = 1e-12,
) -> TieRepair:
    """Move the rates ``x`` (with the equilibrium ``actions``) along coordinate directions to the
    nearest tie that improves the objective (see the module notes). Each coordinate move tries
    ``step`` first: if the restricted equilibrium is still an equilibrium there and better, the
    move is taken and the next step doubles; if it is not, the largest valid step below is found
    by bisection."""
    lo, hi = space.bounds
    x = np.array(x, dtype=float)
    segments, _ = _segments_of(space.apply(game, x), np.asarray(actions, dtype=float))
    here = _restricted(space, game, x, segments, objective, tol)
    if here is None:
        return TieRepair(x, np.asarray(actions, dtype=float), -np.inf, np.inf, 0)
    value, best_a, gap = here
    moves = 0
    for _ in range(rounds):
        moved = False
        for j in range(x.size):
            for sign in (1.0, -1.0):
                found = _line(space, game, objective, x, j, sign, step, lo, hi, segments, tol, value)
                if found is not None:
                    x, (value, best_a, gap) = found
                    moves, moved = moves + 1, True
        if not moved:
            break
    return TieRepair(x, best_a, value, gap, moves)


def _line(
    space: Any,
    game: Any,
    obj: Objective,
    x: np.ndarray,
    j: int,
    sign: float,
    step: float,
    lo: np.ndarray,
    hi: np.ndarray,
    segments: np.ndarray,
    tol: float,
    value: float,
) -> tuple[np.ndarray, tuple[float, np.ndarray, float]] | None:
    """The best valid point on ``x + t sign e_j`` (``t`` up to the box), or None if none beats ``value``."""
    room = (hi[j] - x[j]) if sign > 0 else (x[j] - lo[j])
    if room <= 0:
        return None

    def at(t: float) -> tuple[np.ndarray, tuple[float, np.ndarray, float] | None]:
        y = x.copy()
        y[j] = np.clip(x[j] + sign * t, lo[j], hi[j])
        return y, _restricted(space, game, y, segments, obj, tol)

    floor = value + 1e-10 * max(1.0, abs(value))  # a move must gain more than rounding
    _, probe = at(min(1e-7, room))  # a tiny step: is this direction feasible and improving at all?
    if probe is None or probe[0] <= value:
        return None
    good_t, good = 0.0, None
    t = min(step, room)
    while True:  # expand while valid and improving
        y, out = at(t)
        if out is None or out[0] <= (floor if good is None else good[1][0]):
            break
        good_t, good = t, (y, out)
        if t >= room:
            return good
        t = min(2.0 * t, room)
    bad_t = t  # invalid (or no better) here: bisect [good_t, bad_t] for the last valid, better point
    for _ in range(48):
        mid = 0.5 * (good_t + bad_t)
        if mid in (good_t, bad_t):
            break
        y, out = at(mid)
        if out is not None and out[0] > (floor if good is None else good[1][0]):
            good_t, good = mid, (y, out)
        else:
            bad_t = mid
    return good
