r"""Saez's optimal top marginal rate, from the game's own incomes and welfare weights.

For the members whose income lies in the top bracket (above its threshold :math:`\bar z`),
Saez (2001) gives the revenue-welfare optimal constant top rate

.. math:: \tau_{top} = \frac{1 - \bar g}{1 - \bar g + a\, e},

with :math:`e` the elasticity of income with respect to the net-of-tax rate,
:math:`a = z_m / (z_m - \bar z)` the Pareto parameter of the top tail (:math:`z_m` the mean
income above :math:`\bar z`) and :math:`\bar g` the average marginal social welfare weight of
the top members relative to the population's average (the value of a dollar returned as the
lump sum). For the principal's :math:`M_p`, a member's weight is proportional to
:math:`u_i^{p-1}`, so :math:`\bar g = 1` at ``p = 1`` (rate 0: quasi-linear utility leaves no
motive to redistribute) and :math:`\bar g = 0` at ``p = -inf`` (the revenue-maximising rate
:math:`1/(1 + a e)`). In the commons game with selfish agents and no damage an interior member
earns :math:`y = \theta(1 - k\phi)`, so :math:`e = 1` exactly: the formula is then the
top-bracket first-order condition of the principal's problem with everyone else's choices held
fixed, and should sit next to the optimal top rate. Population masses weight every mean.

References
----------
.. [1] E. Saez, "Using elasticities to derive optimal income tax rates", *Review of Economic
   Studies* 68 (2001) 205-229.
.. [2] P. Diamond, E. Saez, "The case for a progressive tax", *Journal of Economic Perspectives*
   25(4) (2011) 165-190.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium import solve_equilibrium
from sedtheory.errors import InvalidParameterError
from sedtheory.games.commons import require_commons
from sedtheory.objective import pick
from sedtheory.validate import positive_float
from sedtheory.welfare import marginal_weights, objective_args

__all__ = ["TopRate", "saez_top_rate"]


@dataclass(frozen=True)
class TopRate:
    """Saez's top rate and its ingredients.

    Attributes
    ----------
    rate : float
        :math:`(1 - \\bar g)/(1 - \\bar g + a e)` (not clipped; outside [0, 1] it says the formula's
        motive points beyond the box).
    threshold : float
        The top bracket's threshold :math:`\\bar z`.
    pareto : float
        :math:`a = z_m/(z_m - \\bar z)`.
    mean_weight : float
        :math:`\\bar g`.
    elasticity : float
    top_share : float
        The members' share in the top bracket.
    p : float
    """

    rate: float
    threshold: float
    pareto: float
    mean_weight: float
    elasticity: float
    top_share: float
    p: float


def saez_top_rate(
    game: Any,
    p: float,
    actions: npt.ArrayLike | None = None,
    elasticity: float = 1.0,
    welfare_of: str = "utility",
) -> TopRate:
    """Saez's top rate for ``M_p`` at ``actions`` (default: the game's equilibrium).

    Examples
    --------
    >>> from sedtheory import CommonsGame, PiecewiseLinearTax, Society
    >>> soc = Society([1.0] * 4, [10.0, 20.0, 40.0, 80.0])
    >>> g = CommonsGame(soc, PiecewiseLinearTax([0, 20], [0.2, 0.4]), 0.0, 5.0)
    >>> top = saez_top_rate(g, -float("inf"))
    >>> round(top.pareto, 4), round(top.rate, 4)
    (1.9091, 0.3438)
    """
    require_commons(game, what="saez_top_rate")
    pf, welfare_of = objective_args(p, welfare_of)
    e = positive_float("elasticity", elasticity)
    a = solve_equilibrium(game).actions if actions is None else game.check_actions(actions, batch=False)
    values = np.asarray(pick(welfare_of, game.utilities(a), game.payoffs(a)), dtype=float)
    if pf != 1.0 and not math.isinf(pf) and np.any(values <= 0):
        raise InvalidParameterError("p", p, "marginal weights u^(p-1) need positive values; raise omega")
    mass = game.society.masses
    bar = float(game.tax.thresholds[-1])
    top = a > bar
    if not top.any():
        raise InvalidParameterError(
            "actions", "nobody in the top bracket", f"no income exceeds the top threshold {bar:g}"
        )
    m_top = mass[top]
    z_m = float(a[top] @ m_top / m_top.sum())
    pareto = z_m / (z_m - bar)
    w = marginal_weights(values, pf)
    g_bar = 1.0 if pf == 1.0 else float((w[top] @ m_top / m_top.sum()) / (w @ mass / mass.sum()))
    rate = (1.0 - g_bar) / (1.0 - g_bar + pareto * e)
    return TopRate(rate, bar, pareto, g_bar, e, float(m_top.sum() / mass.sum()), pf)
