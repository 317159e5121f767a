"""The frozen result of an equilibrium computation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sedtheory.games.protocol import Game

__all__ = ["Equilibrium", "relative_gap_scale"]


def relative_gap_scale(utilities: np.ndarray) -> float:
    """The scale of relative Nash gaps: ``max(1, max_i |u_i|)``."""
    return max(1.0, float(np.max(np.abs(utilities))))


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """A pure Nash equilibrium (or the best profile reached) with its certificate.

    Attributes
    ----------
    actions, utilities, payoffs : numpy.ndarray
        The profile, ``u(a)`` and ``r(a)`` (read-only arrays).
    nash_gap : float
        ``max_i [max_x u_i(x, a_-i) - u_i(a)]`` computed with exact best responses.
    relative_nash_gap : float
        ``nash_gap / max(1, max_i |u_i|)``.
    method : str
        The algorithm that produced the profile.
    converged : bool
        True iff ``relative_nash_gap <= tol`` (the profile is certified).
    iterations : int
        Outer iterations of the method.
    status : str
        ``"optimal"`` (certified equilibrium) or the reason it is not.
    selection : str
        Which equilibrium is returned where several exist, and why.
    certificate : str
        Why the profile is an equilibrium (the method's argument and the measured gap).
    aggregate : float
        ``A = sum_i a_i``.
    """

    actions: np.ndarray
    utilities: np.ndarray
    payoffs: np.ndarray
    nash_gap: float
    relative_nash_gap: float
    method: str
    converged: bool
    iterations: int
    status: str
    selection: str
    certificate: str
    aggregate: float
    game: Game | None = field(default=None, repr=False, compare=False)
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("actions", "utilities", "payoffs"):
            arr = np.array(getattr(self, name), dtype=float)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def summary(self) -> str:
        """A short human-readable summary."""
        return (
            f"Equilibrium(method={self.method}, status={self.status}, A={self.aggregate:.6g}, "
            f"nash_gap={self.nash_gap:.3e}, relative={self.relative_nash_gap:.3e}, "
            f"iterations={self.iterations})"
        )
