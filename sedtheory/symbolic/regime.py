"""Regimes: where each agent's action lies (interior of a bracket, a threshold, 0 or the cap)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame

__all__ = ["Position", "regime_of", "parse_regime"]

Kind = Literal["interior", "threshold", "zero", "cap"]


@dataclass(frozen=True)
class Position:
    """Where one agent's action lies.

    ``kind="interior"`` with ``bracket=b``: strictly inside bracket ``b``;
    ``kind="threshold"`` with ``bracket=b`` (``b >= 1``): exactly at ``tau_b``;
    ``kind="zero"``: at 0; ``kind="cap"``: at ``max_harvest``.

    Examples
    --------
    >>> Position("interior", 1)
    Position(kind='interior', bracket=1)
    """

    kind: Kind
    bracket: int = 0

    def __str__(self) -> str:
        if self.kind == "interior":
            return f"interior of bracket {self.bracket}"
        if self.kind == "threshold":
            return f"threshold tau_{self.bracket}"
        return "0" if self.kind == "zero" else "max_harvest"


def regime_of(game: CommonsGame, actions: npt.ArrayLike, atol: float = 1e-9) -> tuple[Position, ...]:
    """Read the regime off an action profile (``atol`` decides what counts as a kink).

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> game = scenarios.apple_picking((0.1, 0.3, 0.6))
    >>> [str(p) for p in regime_of(game, solve_equilibrium(game).actions)][4:]
    ['interior of bracket 1', 'interior of bracket 1', 'threshold tau_2']
    """
    a = game.check_actions(actions, batch=False)
    tau = game.tax.thresholds
    out = []
    for x in a.tolist():
        scale = atol * max(1.0, abs(x))
        if abs(x) <= scale:
            out.append(Position("zero"))
        elif np.isfinite(game.max_harvest) and abs(x - game.max_harvest) <= scale:
            out.append(Position("cap"))
        else:
            near = np.flatnonzero(np.abs(tau[1:] - x) <= scale)
            if near.size:
                out.append(Position("threshold", int(near[0]) + 1))
            else:
                out.append(Position("interior", int(np.searchsorted(tau, x, side="right") - 1)))
    return tuple(out)


def parse_regime(game: CommonsGame, regime: Sequence[Position | str | tuple]) -> tuple[Position, ...]:
    """Validate a user regime: ``Position`` objects, ``("interior", b)`` tuples or strings
    ``"zero"``, ``"cap"``, ``"interior:1"``, ``"threshold:2"``."""
    if len(regime) != game.n:
        raise InvalidParameterError("regime", regime, f"give one position per agent ({game.n})")
    nb = game.tax.n_brackets
    out = []
    for i, item in enumerate(regime):
        if isinstance(item, Position):
            pos = item
        elif isinstance(item, str):
            kind, _, b = item.partition(":")
            pos = Position(kind, int(b) if b else 0)  # type: ignore[arg-type]
        else:
            pos = Position(*item)
        if pos.kind not in ("interior", "threshold", "zero", "cap"):
            raise InvalidParameterError(f"regime[{i}]", item, "kinds are interior, threshold, zero, cap")
        if pos.kind == "interior" and not 0 <= pos.bracket < nb:
            raise InvalidParameterError(f"regime[{i}]", item, f"bracket must be in 0..{nb - 1}")
        if pos.kind == "threshold" and not 1 <= pos.bracket < nb:
            raise InvalidParameterError(f"regime[{i}]", item, f"threshold index must be in 1..{nb - 1}")
        if pos.kind == "cap" and not np.isfinite(game.max_harvest):
            raise InvalidParameterError(f"regime[{i}]", item, "the game has no finite max_harvest")
        if pos.kind == "interior" and game.tax.thresholds[pos.bracket] >= game.max_harvest:
            raise InvalidParameterError(f"regime[{i}]", item, "that bracket starts above max_harvest")
        out.append(pos)
    return tuple(out)
