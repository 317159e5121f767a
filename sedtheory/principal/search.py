r"""The principal's generic search over a policy box: batched scan, then compass search.

1. **Scan.** Every point of a grid over the box (by default the seed's 0.1 grid or finer for
   ``d <= 4``) is evaluated at once by the space's ``batch_equilibria`` (certified equilibria).
2. **Refine.** A compass (pattern) search from the best local maxima of the scan: each round
   evaluates the ``2d`` neighbours at steps ``h/16, h/4, h, 2h`` of every start in one batch,
   moves to the best improvement (the step becomes the one that won) and divides ``h`` by 64
   otherwise, down to ``h_min``.

Every point is evaluated exactly (a certified equilibrium), so the result is at least as good
as each scanned and searched point.

References
----------
.. [1] V. Torczon, "On the convergence of pattern search algorithms", *SIAM Journal on
   Optimization* 7 (1997) 1-25.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.objective import Objective
from sedtheory.validate import count

__all__ = ["SearchResult", "compass", "grid", "local_maxima", "scan_points"]


#: Working memory of the batched scan per (policy, agent) pair (a dozen float arrays over the
#: pieces), and the most a scan may ask for before a typed error says so.
_SCAN_BYTES_PER_PAIR = 8 * 48
_SCAN_MEMORY_LIMIT = 8 * 2**30


def _largest_resolution(bk: int, n: int) -> int:
    return max(2, int((_SCAN_MEMORY_LIMIT / (max(n, 1) * _SCAN_BYTES_PER_PAIR)) ** (1.0 / max(bk, 1))))


def scan_points(bk: int, n: int, resolution: int | None = None, evaluations: int | None = None) -> int:
    """Grid points per bracket: the seed's 0.1 grid (11) or finer for small B, fewer for large n;
    with ``evaluations`` (costly equilibria), the most points whose grid has at most that many
    policies (at least 2 per coordinate)."""
    if resolution is not None:
        points = count("resolution", resolution, 2, "give an integer of at least 2 points per coordinate")
        need = float(points) ** bk * max(n, 1) * _SCAN_BYTES_PER_PAIR
        if need > _SCAN_MEMORY_LIMIT:
            raise InvalidParameterError(
                "resolution",
                resolution,
                f"the scan would solve {points}^{bk} policies for {n} agents at once, about "
                f"{need / 2**30:.0f} GiB; use at most {_largest_resolution(bk, n)} points per coordinate",
            )
        return points
    if evaluations is not None:
        return max(2, int(math.floor(evaluations ** (1.0 / bk) + 1e-9)))
    default = {1: 1001, 2: 101, 3: 11, 4: 11}.get(bk, 5)
    budget = 2e6 if n <= 20 else 3e5  # agent-policy pairs in the scan
    fit = int(math.floor((budget / max(n, 1)) ** (1.0 / bk)))
    return max(3, min(default, fit))


def grid(lo: np.ndarray, hi: np.ndarray, points: int) -> np.ndarray:
    """The full grid of ``points`` values per free coordinate of the box ``[lo, hi]``."""
    axes = [np.linspace(a, b, points) if b > a else np.array([a]) for a, b in zip(lo, hi, strict=True)]
    return np.array(list(itertools.product(*axes)), dtype=float)


def local_maxima(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, points: int, count: int) -> np.ndarray:
    """The best grid points that are local maxima of the scan (one per basin), best first.

    Top-k points of a grid cluster in one basin; local maxima over the axis neighbours spread
    the compass search over the basins the scan saw.
    """
    shape = tuple(points if b > a else 1 for a, b in zip(lo, hi, strict=True))
    grid_w = np.where(np.isfinite(w), w, -np.inf).reshape(shape)
    peak = np.isfinite(grid_w)
    for axis in range(grid_w.ndim):
        if grid_w.shape[axis] < 2:
            continue
        pad = [(0, 0)] * grid_w.ndim
        pad[axis] = (1, 1)
        padded = np.pad(grid_w, pad, constant_values=-np.inf)
        before = np.take(padded, np.arange(0, grid_w.shape[axis]), axis=axis)
        after = np.take(padded, np.arange(2, grid_w.shape[axis] + 2), axis=axis)
        peak &= (grid_w >= before) & (grid_w >= after)
    flat = np.flatnonzero(peak.ravel())
    flat = flat[np.argsort(-w[flat])][:count]
    if flat.size == 0:
        flat = np.argsort(-w)[:1]
    return flat


_MULTIPLES = np.array([1.0 / 16.0, 0.25, 1.0, 2.0])


@dataclass(frozen=True)
class SearchResult:
    """Best points of a compass search: ``points`` (k, d), ``values`` (k,), ``actions`` (k, n),
    ``evaluations`` and ``rounds``."""

    points: np.ndarray
    values: np.ndarray
    actions: np.ndarray
    evaluations: int
    rounds: int


def compass(
    evaluate: object,
    objective: Objective,
    starts: np.ndarray,
    values: np.ndarray,
    actions: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    step: float,
    min_step: float,
    max_rounds: int,
) -> SearchResult:
    """Batched compass search from several starts; ``evaluate(X)`` returns policy evaluations.

    Each round tries every coordinate direction at the multiples ``_MULTIPLES`` of the current
    step of every live start in one batch: the best improving trial is taken and the step
    becomes the multiple used (capped at ``step``); when nothing improves the step shrinks
    below the smallest multiple tried. One batch thus does the work of several rounds of the
    textbook compass search (whose step only halves or quarters) at nearly the same cost.
    """
    bk = lo.size
    free = hi > lo
    dirs = np.concatenate([np.eye(bk)[free], -np.eye(bk)[free]])
    if dirs.size == 0:
        return SearchResult(starts, values, actions, 0, 0)
    moves = (_MULTIPLES[:, None, None] * dirs[None, :, :]).reshape(-1, bk)
    mult = np.repeat(_MULTIPLES, dirs.shape[0])
    x, v, acts = starts.copy(), values.copy(), actions.copy()
    h = np.full(x.shape[0], step)
    evaluations = rounds = 0
    while rounds < max_rounds:
        live = np.flatnonzero(h >= min_step)
        if live.size == 0:
            break
        rounds += 1
        trial = (x[live, None, :] + h[live, None, None] * moves[None, :, :]).reshape(-1, bk)
        trial = np.clip(trial, lo, hi)
        batch = evaluate(trial)  # type: ignore[operator]
        evaluations += trial.shape[0]
        w = batch.welfare(objective).reshape(live.size, moves.shape[0])
        best = np.argmax(w, axis=1)
        gain = w[np.arange(live.size), best]
        better = gain > v[live] + 1e-13 * np.maximum(1.0, np.abs(v[live]))
        moved = live[better]
        x[moved] = trial.reshape(live.size, moves.shape[0], bk)[better, best[better]]
        shape = (live.size, moves.shape[0]) + batch.actions.shape[1:]
        acts[moved] = batch.actions.reshape(shape)[better, best[better]]
        v[moved] = gain[better]
        h[moved] = np.minimum(h[moved] * mult[best[better]], step)
        h[live[~better]] *= 0.25 * _MULTIPLES[0]
    return SearchResult(x, v, acts, evaluations, rounds)
