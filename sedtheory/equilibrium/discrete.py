r"""The commons game discretised to a finite normal-form game, and its pure equilibria.

Used to cross-check the continuous solvers against an independent oracle (pygambit's
pure-strategy enumeration) and to show where such enumeration stops scaling: a game with
``L`` levels per agent has ``L^n`` profiles.

Examples
--------
>>> from sedtheory import CommonsGame, PiecewiseLinearTax, Society
>>> from sedtheory.equilibrium.discrete import pure_equilibria_on_grid
>>> game = CommonsGame(Society([1.0, 1.0], 10.0), PiecewiseLinearTax([0], [0.0]),
...                    damage=0.1, max_harvest=10.0)
>>> [eq.tolist() for eq in pure_equilibria_on_grid(game, 11)]
[[5.0, 5.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame

__all__ = ["action_grids", "payoff_tensors", "pure_equilibria_on_grid", "to_gambit", "gambit_pure_equilibria"]

#: Largest number of profiles a discretised game may have.
MAX_PROFILES = 5_000_000


def action_grids(game: CommonsGame, levels: int | Sequence[npt.ArrayLike]) -> list[np.ndarray]:
    """Per-agent action grids: ``levels`` evenly spaced points of ``[0, max_harvest]`` or
    explicit per-agent sequences of actions."""
    if isinstance(levels, (int, np.integer)):
        if levels < 2:
            raise InvalidParameterError("levels", levels, "use at least 2 levels")
        if not np.isfinite(game.max_harvest):
            raise InvalidParameterError(
                "levels", levels, "an integer level count needs a finite max_harvest; pass explicit grids"
            )
        grid = np.linspace(0.0, game.max_harvest, int(levels))
        grids = [grid.copy() for _ in range(game.n)]
    else:
        grids = [np.asarray(g, dtype=float).reshape(-1) for g in levels]
        if len(grids) != game.n or any(g.size == 0 for g in grids):
            raise InvalidParameterError("levels", levels, f"give {game.n} non-empty grids, one per agent")
        for g in grids:
            if np.any((g < 0) | (g > game.max_harvest)):
                raise InvalidParameterError("levels", g.tolist(), "grid points must lie in [0, max_harvest]")
    size = int(np.prod([g.size for g in grids], dtype=float))
    if size > MAX_PROFILES:
        raise InvalidParameterError(
            "levels", levels, f"the discretised game has {size} profiles (> {MAX_PROFILES}); use fewer levels"
        )
    return grids


def payoff_tensors(
    game: CommonsGame, levels: int | Sequence[npt.ArrayLike]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Utilities of every agent on every grid profile.

    Returns
    -------
    tensors : list of ndarray
        ``tensors[i][j_0, ..., j_{n-1}] = u_i(grid_0[j_0], ..., grid_{n-1}[j_{n-1}])``.
    grids : object array of the per-agent grids.
    """
    grids = action_grids(game, levels)
    mesh = np.meshgrid(*grids, indexing="ij")
    profiles = np.stack([m.reshape(-1) for m in mesh], axis=1)
    u = game.utilities(profiles)
    shape = tuple(g.size for g in grids)
    tensors = [u[:, i].reshape(shape) for i in range(game.n)]
    out = np.empty(len(grids), dtype=object)
    for i, g in enumerate(grids):
        out[i] = g
    return tensors, out


def pure_equilibria_on_grid(
    game: CommonsGame, levels: int | Sequence[npt.ArrayLike], rtol: float = 1e-12
) -> list[np.ndarray]:
    """All pure Nash equilibria of the discretised game (vectorised enumeration).

    A profile is an equilibrium if no agent gains more than ``rtol * max(1, |u|)`` by moving
    to another point of its grid.
    """
    tensors, grids = payoff_tensors(game, levels)
    ok = np.ones(tensors[0].shape, dtype=bool)
    for i, t in enumerate(tensors):
        best = t.max(axis=i, keepdims=True)
        scale = rtol * np.maximum(1.0, np.abs(best))
        ok &= t >= best - scale
    idx = np.argwhere(ok)
    return [np.array([grids[i][j] for i, j in enumerate(row)]) for row in idx]


def to_gambit(game: CommonsGame, levels: int | Sequence[npt.ArrayLike]) -> Any:
    """The discretised game as a ``pygambit.Game`` (strategic form)."""
    try:
        import pygambit as gbt
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("to_gambit needs pygambit: pip install 'sedtheory[test]'") from exc
    tensors, _ = payoff_tensors(game, levels)
    maker = getattr(gbt, "StrategicGame", gbt.Game)  # pygambit 17 moved from_arrays there
    return maker.from_arrays(*tensors, title="sedtheory commons game")


def gambit_pure_equilibria(game: CommonsGame, levels: int | Sequence[npt.ArrayLike]) -> list[np.ndarray]:
    """Pure equilibria of the discretised game found by ``pygambit.nash.enumpure_solve``."""
    import pygambit as gbt

    _, grids = payoff_tensors(game, levels)
    g = to_gambit(game, levels)
    result = gbt.nash.enumpure_solve(g)
    out = []
    for profile in result.equilibria:
        actions = []
        for i, player in enumerate(g.players):
            label = player if isinstance(player, str) else player.label  # 17 iterates labels
            mixed = profile[label]
            # Iterating gives probabilities (16.x) or (strategy label, probability) pairs (17)
            probs = [float(v[1] if isinstance(v, tuple) else v) for v in mixed]
            actions.append(grids[i][int(np.argmax(probs))])
        out.append(np.array(actions))
    return out
