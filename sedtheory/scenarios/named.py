r"""Ready-made games.

Examples
--------
>>> from sedtheory import scenarios
>>> game = scenarios.apple_picking()
>>> game.n, game.tax.thresholds.tolist()
(7, [0.0, 10.0, 20.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from sedtheory.games import CommonsGame
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax

__all__ = ["apple_picking", "APPLE_PICKING_PARAMETERS"]

#: The documented parameters of :func:`apple_picking`.
APPLE_PICKING_PARAMETERS: dict[str, object] = {
    "n": 7,
    "selfishness": "linspace(0, 1, 7)",
    "productivity": 40.0,
    "graph": "ring (cycle) of 7 agents",
    "neighbor_weighting": "sum",
    "thresholds": [0.0, 10.0, 20.0],
    "damage": 0.02,
    "endowment": 50.0,
    "max_harvest": 40.0,
    "commons": "global",
}


def apple_picking(rates: Sequence[float] = (0.0, 0.0, 0.0)) -> CommonsGame:
    r"""The seed's apple-picking game as one tax period of the commons game.

    Seven agents with selfishness spread evenly over ``[0, 1]``
    (``sigma = 0, 1/6, ..., 1``) on a ring (each cares about its two neighbours, the seed's
    "sum" weighting), brackets at 0 / 10 / 20 apples, laissez-faire rates by default.

    Parameters
    ----------
    rates : sequence of 3 floats
        Marginal rates of the three brackets (default laissez-faire).

    Notes
    -----
    Parameters (:data:`APPLE_PICKING_PARAMETERS`): productivity
    :math:`\theta = 40` (a selfish agent alone would pick 40 apples), damage
    :math:`\kappa = 0.02` on the global commons, harvest cap 40, endowment
    :math:`\omega = 50` (keeps every utility positive for every rate in ``[0, 1]^3``, so all
    p-means are defined). Under laissez-faire the aggregate harvest is about 86.7 apples,
    against about 42.4 at the utilitarian first best (maximising
    :math:`\sum_j r_j`: :math:`a_i = \theta(1 - \kappa A)`): the tragedy of the commons.
    The selfish agents' harvests fall in the upper brackets, so bracket rates matter;
    agents with :math:`\sigma_i < s_i/n` have non-concave utilities under progressive taxes.

    Examples
    --------
    >>> from sedtheory import solve_equilibrium
    >>> eq = solve_equilibrium(apple_picking())
    >>> round(eq.aggregate, 2)
    86.69
    """
    n = 7
    society = Society(np.linspace(0.0, 1.0, n), 40.0, graph=nx.cycle_graph(n), neighbor_weighting="sum")
    tax = PiecewiseLinearTax([0.0, 10.0, 20.0], rates)
    return CommonsGame(society, tax, damage=0.02, endowment=50.0, max_harvest=40.0, commons="global")
