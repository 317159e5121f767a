r"""Price of anarchy and price of stability of a policy: its worst and best equilibria against the
first best.

For the objective :math:`M_p` and the game's current policy,

.. math:: \mathrm{PoA} = \frac{W^{FB}}{\min_{a \in NE} M_p(u(a))}, \qquad
          \mathrm{PoS} = \frac{W^{FB}}{\max_{a \in NE} M_p(u(a))},

with :math:`W^{FB}` the planner's first best (:func:`~sedtheory.principal.first_best`, by default
with tax-feasible transfers, the bound every bracket tax respects) and :math:`NE` every pure
equilibrium (:func:`~sedtheory.equilibria`; the result says whether that list is complete). Both
are at least 1 when the welfare is positive; PoA = PoS when the equilibrium is unique.

Examples
--------
>>> from sedtheory import scenarios
>>> ratio = inefficiency(scenarios.apple_picking(), p=1.0)
>>> ratio.equilibria, ratio.complete, bool(ratio.price_of_anarchy >= ratio.price_of_stability >= 1.0)
(1, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sedtheory.equilibrium import equilibria
from sedtheory.errors import DomainError, InvalidParameterError
from sedtheory.objective import as_objective
from sedtheory.principal.first_best import first_best
from sedtheory.principal.selection import objective_values

__all__ = ["Inefficiency", "inefficiency", "price_of_anarchy", "price_of_stability"]


@dataclass(frozen=True)
class Inefficiency:
    """The worst and best equilibria of a policy against the first best, for one p.

    Attributes
    ----------
    p : float
    first_best : float
        The planner's optimum (an upper bound on every equilibrium of every bracket tax).
    worst, best : float
        :math:`M_p` at the worst and the best pure equilibrium.
    price_of_anarchy, price_of_stability : float
        ``first_best / worst`` and ``first_best / best``.
    equilibria : int
        Pure equilibria found.
    complete : bool
        Whether that enumeration is proven complete (else ``worst`` / ``best`` are over the
        equilibria found).
    transfers, first_best_status : str
    """

    p: float
    first_best: float
    worst: float
    best: float
    price_of_anarchy: float
    price_of_stability: float
    equilibria: int
    complete: bool
    transfers: str
    first_best_status: str


def inefficiency(
    game: Any,
    p: float = 1.0,
    transfers: Literal["lump-sum", "tax-feasible"] = "tax-feasible",
    welfare_of: Literal["utility", "payoff"] = "utility",
) -> Inefficiency:
    """Price of anarchy and of stability of ``game``'s current policy for :math:`M_p`.

    Raises
    ------
    InvalidParameterError
        ``game`` is not a commons game (no first best), or the first best is unbounded.
    DomainError
        The worst equilibrium's welfare is not positive (the ratios are undefined): raise the
        endowment.
    """
    if not hasattr(game, "kernel"):
        raise InvalidParameterError("game", type(game).__name__, "use a CommonsGame (a first best is needed)")
    obj = as_objective(p, welfare_of).for_game(game)
    found = equilibria(game)
    values = objective_values(game, found, obj)
    fb = first_best(game, obj.p, transfers=transfers, welfare_of=welfare_of)
    if not np.isfinite(fb.welfare):
        raise InvalidParameterError(
            "transfers", transfers, f"the first best is {fb.status}: use transfers='tax-feasible'"
        )
    worst, best = float(values.min()), float(values.max())
    if worst <= 0:
        raise DomainError(
            "p", obj.p, f"the worst equilibrium's welfare is {worst:.6g} <= 0: raise the endowment"
        )
    return Inefficiency(
        obj.p,
        float(fb.welfare),
        worst,
        best,
        fb.welfare / worst,
        fb.welfare / best,
        found.count,
        found.complete,
        transfers,
        fb.status,
    )


def price_of_anarchy(game: Any, p: float = 1.0, **options: Any) -> float:
    """First best over the worst pure equilibrium's :math:`M_p` (see :func:`inefficiency`)."""
    return inefficiency(game, p, **options).price_of_anarchy


def price_of_stability(game: Any, p: float = 1.0, **options: Any) -> float:
    """First best over the best pure equilibrium's :math:`M_p` (see :func:`inefficiency`)."""
    return inefficiency(game, p, **options).price_of_stability
