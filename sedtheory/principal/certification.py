"""The global certificate's part of the principal's search (``certify=True``).

:func:`global_design` runs the policy space's ``global_bound`` hook from the searched design and
verifies the global solver's own best point exactly; :func:`tightest_bound` combines that bound
with the space's first-best bound, dropping any bound that a verified design contradicts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sedtheory.games import AggregativeGame
from sedtheory.objective import Objective
from sedtheory.principal.selection import select
from sedtheory.principal.ties import repair_onto_ties

__all__ = ["global_design", "tightest_bound"]


def global_design(
    space: Any,
    game: Any,
    obj: Objective,
    selection: str,
    x: np.ndarray,
    target: np.ndarray,
    method: str,
    time_limit: float,
    details: dict[str, Any],
) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """The space's global bound from the design; the global solver's own best point is verified
    exactly (every equilibrium at its rates, then the tie repair) and kept when it is better."""
    hook = getattr(space, "global_bound", None)
    if hook is None:
        details["global_bound"] = "none: the space has no global bound"
        return None, x, target, method
    value = obj.of_profile(space.apply(game, x), target)
    result = hook(game, obj, (np.asarray(x, float), np.asarray(target, float), value), time_limit)
    if isinstance(result, str):
        details["global_bound"] = result
        return None, x, target, method
    details["global_bound"] = (
        f"{result.method}: status {result.status}, bound {result.upper:.10g}, {result.nodes} nodes, "
        f"{result.seconds:.1f} s, start {'accepted' if result.incumbent_accepted else 'not accepted'}"
    )
    if result.x is None or not result.primal > value + 1e-9 * max(1.0, abs(value)):
        return result, x, target, method
    lo, hi = space.bounds
    cand = np.clip(result.x, lo, hi)
    g = space.apply(game, cand)
    if not isinstance(g, AggregativeGame):
        return result, x, target, method
    chosen = select(g, obj, selection)
    y, actions, welfare = cand, chosen.actions, chosen.welfare
    if selection == "optimistic":
        repaired = repair_onto_ties(space, game, obj, cand, actions)
        if repaired.welfare > welfare:
            y, actions, welfare = repaired.x, repaired.actions, repaired.welfare
    details["global_point"] = (
        f"the global solver's point verified exactly: welfare {welfare:.10g} (design {value:.10g})"
    )
    if welfare > value:
        return result, y, actions, method + " + the global solver's point (verified exactly)"
    return result, x, target, method


def tightest_bound(
    ub: float, source: str, second: Any, welfare: float, details: dict[str, Any], relaxed: Any = None
) -> tuple[float, str]:
    """The smallest of the first best, the relaxed planner's bound (``relaxed``) and the global
    solver's bound. A bound below the verified design's own welfare (beyond ``1e-6`` relative) is
    contradicted by that design and dropped, never clamped into a certificate."""
    slack = 1e-6 * max(1.0, abs(welfare))
    if ub < welfare - slack:
        details["dropped_bound"] = f"{source}: {ub:.10g} is below the verified welfare {welfare:.10g}"
        ub, source = math.inf, "none (the first best fell below a verified design: numerical trouble)"
    if relaxed is not None:
        details["relaxed_bound"] = relaxed.upper
        if relaxed.upper < welfare - slack:
            details["dropped_relaxed_bound"] = (
                f"{relaxed.upper:.10g} is below the verified welfare {welfare:.10g}"
            )
        elif relaxed.upper < ub:
            ub, source = relaxed.upper, f"second best: {relaxed.method} ({relaxed.boxes} boxes)"
    if second is not None and math.isfinite(second.upper):
        if second.upper < welfare - slack:
            details["dropped_global_bound"] = (
                f"{second.upper:.10g} is below the verified welfare {welfare:.10g}"
            )
        elif second.upper < ub:
            ub, source = second.upper, f"{second.method} (status {second.status}, {second.nodes} nodes)"
    return max(ub, welfare), source
