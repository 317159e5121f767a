r"""The smallest flat tax that keeps the orchard alive under the Markov perfect equilibrium.

``minimal_rates_to_survive(game, level)`` bisects the flat rate :math:`\phi \in [0, 1]` applied to
every bracket of a :class:`~sedtheory.games.dynamic.DynamicCommonsGame`, solving the MPE at each
trial, for the smallest rate whose equilibrium path keeps the stock at or above ``level`` at
every step the agents face (``S_0 .. S_{T-1}``: what is left after the last step of a finite
horizon is worth nothing to anyone, so it is eaten). Bisection assumes that survival is
monotone in the rate (a higher rate makes harvesting less attractive); the result reports both
ends of the final bracket with the equilibrium and its gap, and says when the assumption could
not hold (already alive at 0, or dead
at the upper end).

References
----------
.. [1] C. W. Clark, *Mathematical Bioeconomics*, 3rd ed., Wiley, 2010, ch. 2 (taxes and the
   regulated fishery).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sedtheory.equilibrium import Equilibrium, solve_equilibrium
from sedtheory.errors import InvalidParameterError
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.validate import count, positive_float

__all__ = ["SurvivalRate", "minimal_rates_to_survive"]


@dataclass(frozen=True)
class SurvivalRate:
    """The outcome of :func:`minimal_rates_to_survive`.

    Attributes
    ----------
    rate : float or None
        The smallest flat rate found that keeps the path's stock >= ``level`` (None if even the
        upper bound does not).
    below : float
        The largest rate found that does not (the bracket's lower end; ``rate - below <= tol``).
    stocks : numpy.ndarray
        The equilibrium stock path at ``rate`` (at the upper bound when none survives).
    equilibrium : Equilibrium
        The MPE at ``rate`` with its Nash gap in the true game (``equilibrium.converged`` says
        whether it is within the game's tolerance; refine the game's grid otherwise).
    status : str
        ``"found"``, ``"alive-without-tax"`` or ``"collapses-at-every-rate"``.
    trials : int
    """

    rate: float | None
    below: float
    stocks: np.ndarray
    equilibrium: Equilibrium
    status: str
    trials: int


def _alive(game: Any, rate: float, level: float) -> tuple[bool, Equilibrium, np.ndarray]:
    tax = PiecewiseLinearTax(game.tax.thresholds, np.full(game.tax.n_brackets, rate))
    g = game.with_policy(tax)
    eq = solve_equilibrium(g, raise_on_failure=False)  # its gap is reported, certified or not
    stocks = g.path(eq.actions).stocks
    return bool(np.min(stocks[:-1]) >= level), eq, stocks


def minimal_rates_to_survive(
    game: Any, level: float, upper: float = 1.0, tol: float = 1e-3, max_trials: int = 30
) -> SurvivalRate:
    """The smallest flat rate in ``[0, upper]`` whose MPE path keeps the stock >= ``level``.

    Parameters
    ----------
    game : DynamicCommonsGame
        Its thresholds are kept; every bracket gets the same trial rate.
    level : float
        The stock the path must never fall below (``0 < level <= S_0``).
    upper : float
        Largest rate tried (in (0, 1]).
    tol : float
        Width of the final bracket of rates.
    """
    if not hasattr(game, "regrowth") or not hasattr(game, "path"):
        raise InvalidParameterError("game", type(game).__name__, "pass a sedtheory.DynamicCommonsGame")
    lvl = positive_float("level", level)
    if lvl > game.initial_stock:
        fix = f"use a level <= the initial stock {game.initial_stock:g}"
        raise InvalidParameterError("level", level, fix)
    hi = positive_float("upper", upper)
    if hi > 1:
        raise InvalidParameterError("upper", upper, "rates live in [0, 1]")
    width = positive_float("tol", tol)
    count("max_trials", max_trials)
    ok, eq, stocks = _alive(game, 0.0, lvl)
    if ok:
        return SurvivalRate(0.0, 0.0, stocks, eq, "alive-without-tax", 1)
    ok_hi, eq_hi, stocks_hi = _alive(game, hi, lvl)
    if not ok_hi:
        return SurvivalRate(None, hi, stocks_hi, eq_hi, "collapses-at-every-rate", 2)
    lo, trials = 0.0, 2
    while hi - lo > width and trials < max_trials:
        mid = 0.5 * (lo + hi)
        ok, eq, stocks = _alive(game, mid, lvl)
        trials += 1
        if ok:
            hi, eq_hi, stocks_hi = mid, eq, stocks
        else:
            lo = mid
    return SurvivalRate(hi, lo, stocks_hi, eq_hi, "found", trials)
