"""The equilibrium solvers, in a registry that says which games each applies to.

``SOLVERS`` maps a name to a :class:`SolverSpec`: the solving function, the predicate
``applies(game)`` (the games or capabilities it handles) and its metadata.
:func:`~sedtheory.equilibrium.solve_equilibrium` with ``method="auto"`` takes the first
registered solver that applies; the generic ``"best-response"`` solver applies to every
:class:`~sedtheory.games.Game`, so any game gets damped exact best responses and a certificate.

Adding a solver: write ``solve(game, tol, max_iter, initial) -> SolverOutput`` and register it
with ``@SOLVERS.register(name, applies=..., capability=..., description=..., reference=...)``.

Examples
--------
>>> from sedtheory import scenarios
>>> from sedtheory.equilibrium import SOLVERS, applicable_solvers
>>> applicable_solvers(scenarios.apple_picking())
['aggregate', 'best-response']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.equilibrium.result import relative_gap_scale
from sedtheory.games.protocol import AggregativeGame, Game
from sedtheory.registry import Registry

__all__ = ["SOLVERS", "SolverOutput", "SolverSpec", "applicable_solvers", "damped_best_response"]


@dataclass(frozen=True)
class SolverOutput:
    """What a solver hands to the certificate.

    Attributes
    ----------
    actions : numpy.ndarray
        The profile reached.
    iterations : int
    method : str
        The algorithm that produced the profile (as reported in the result).
    argument : str
        Why the profile should be an equilibrium (the certificate's text).
    details : dict
        Solver counters for the result's ``details`` (never read back by other modules).
    verified_gap, verified_utilities
        The exact gap and utilities the solver's last step computed for exactly ``actions``
        (so the certificate need not recompute them), or None.
    """

    actions: np.ndarray
    iterations: int
    method: str
    argument: str
    details: dict[str, Any] = field(default_factory=dict)
    verified_gap: float | None = None
    verified_utilities: np.ndarray | None = None


@dataclass(frozen=True)
class SolverSpec:
    """A registered equilibrium solver.

    Attributes
    ----------
    name : str
    solve : callable
        ``solve(game, tol, max_iter, initial) -> SolverOutput``.
    applies : callable
        ``applies(game) -> bool``: the games this solver handles.
    capability : str
        The capability it needs (``"game"``, ``"piecewise-quadratic"``, ``"aggregative"``).
    description, reference : str
    """

    name: str
    solve: Callable[..., SolverOutput] = field(repr=False)
    applies: Callable[[Any], bool] = field(repr=False)
    capability: str = "game"
    description: str = ""
    reference: str = ""
    priority: int = 0


def _build(name: str, solve: Callable[..., SolverOutput], **meta: Any) -> SolverSpec:
    return SolverSpec(name, solve, **meta)


#: The registered equilibrium solvers, in the order ``method="auto"`` tries them.
SOLVERS: Registry[SolverSpec] = Registry("method", build=_build, kind="solvers")


def applicable_solvers(game: Any) -> list[str]:
    """Names of the registered solvers that apply to ``game``, in ``auto`` order (by ``priority``,
    then registration; the generic best-response solver comes last)."""
    specs = sorted(SOLVERS.values(), key=lambda spec: spec.priority)
    return [spec.name for spec in specs if spec.applies(game)]


def _global(game: Any) -> bool:
    return isinstance(game, AggregativeGame) and bool(game.uses_global_formulas)


def _local(game: Any) -> bool:
    return isinstance(game, AggregativeGame) and not game.uses_global_formulas


@SOLVERS.register(
    "aggregate",
    applies=_global,
    capability="aggregative",
    description="exact root of the aggregate equation over concave segments, potential-increasing "
    "segment moves for non-concave agents",
    reference="Jensen (2010); Monderer and Shapley (1996)",
)
def _aggregate(game: Any, tol: float, max_iter: int, initial: np.ndarray | None) -> SolverOutput:
    from sedtheory.equilibrium.global_commons import solve_global

    return solve_global(game, tol=min(tol, 1e-10) * 1e-2)


@SOLVERS.register(
    "active-set",
    applies=_local,
    capability="piecewise-quadratic",
    description="active-set Newton on regime linear systems with exact replies (local commons), "
    "damped best responses when the regime iteration cycles",
    reference="Facchinei and Pang (2003), ch. 9",
)
def _active_set(game: Any, tol: float, max_iter: int, initial: np.ndarray | None) -> SolverOutput:
    from sedtheory.equilibrium.local_commons import solve_local_with_fallback

    return solve_local_with_fallback(game, tol, max_iter, initial)


@SOLVERS.register(
    "best-response",
    applies=lambda game: isinstance(game, Game),
    capability="game",
    priority=100,
    description="damped simultaneous exact best responses (any game; may not converge, reported)",
    reference="Cournot (1838); Fudenberg and Levine (1998)",
)
def _best_response(game: Any, tol: float, max_iter: int, initial: np.ndarray | None) -> SolverOutput:
    return damped_best_response(game, tol, max_iter, initial)


def damped_best_response(
    game: Any,
    tol: float = 1e-9,
    max_iter: int = 200,
    initial: np.ndarray | None = None,
    damping: float = 0.5,
) -> SolverOutput:
    """Simultaneous damped exact best responses ``a <- a + damping (BR(a) - a)``.

    The generic method that works on any :class:`~sedtheory.games.Game`; it converges on
    contractive instances and is reported as not converged otherwise.
    """
    shape = getattr(game, "strategy_shape", (game.n,))
    a = np.zeros(shape) if initial is None else np.asarray(initial, dtype=float).copy()
    it = 0
    for it in range(1, max_iter * 50 + 1):
        a = a + damping * (game.best_responses(a) - a)
        if it % 10 == 0:
            gap = float(np.max(game.deviation_gains(a)))
            if gap / relative_gap_scale(game.utilities(a)) <= tol:
                break
    return SolverOutput(a, it, "damped-best-response", "damped exact best-response iteration")
