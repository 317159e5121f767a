r"""The principal's objective as one value: a p-mean of utilities or own payoffs.

``Objective(p, of="utility", weights=None)`` replaces the loose ``(p, welfare_of)`` pairs of
earlier versions. Every entry point that takes ``p`` also accepts an :class:`Objective`.

Examples
--------
>>> from sedtheory import Objective
>>> obj = Objective(0.0)
>>> obj.evaluate([1.0, 4.0])
2.0
>>> Objective(float("-inf"), of="payoff").label
'M_-inf(payoff)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError
from sedtheory.welfare import check_p, check_welfare_of, format_p, pick, pmean, pmean_rows

__all__ = ["Objective", "as_objective", "pick"]


@dataclass(frozen=True)
class Objective:
    r"""The principal's objective :math:`M_p` of the agents' utilities or own payoffs.

    Parameters
    ----------
    p : float
        Any real number or ``+-inf`` (``0`` is the geometric mean, ``-inf`` the minimum).
    of : {"utility", "payoff"}
        ``"utility"`` evaluates :math:`u_i = \sum_j W_{ij} r_j` (the default), ``"payoff"``
        the own payoffs :math:`r_j`.
    weights : sequence of float, optional
        Non-negative weights summing to 1 (default equal weights ``1/n``); stored as a tuple so
        that objectives are hashable.

    Notes
    -----
    :math:`M_p(v) = (\sum_i w_i v_i^p)^{1/p}` with the limits :math:`M_0 = \prod_i v_i^{w_i}`,
    :math:`M_{-\infty} = \min_i v_i` and :math:`M_{+\infty} = \max_i v_i` (Hardy, Littlewood
    and Polya). For ``p <= 1`` the objective is concave in the values, which is what makes the
    planner's programs convex.

    References
    ----------
    .. [1] G. H. Hardy, J. E. Littlewood, G. Polya, *Inequalities*, Cambridge University Press,
       1934, chapter II.
    .. [2] A. B. Atkinson, "On the measurement of inequality", *Journal of Economic Theory* 2
       (1970) 244-263.
    """

    p: float
    of: Literal["utility", "payoff"] = "utility"
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", check_p(self.p))
        check_welfare_of(self.of)
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float).reshape(-1)
            if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise InvalidParameterError("weights", self.weights, "give finite non-negative weights")
            object.__setattr__(self, "weights", tuple(float(x) for x in w))

    @property
    def label(self) -> str:
        """``M_p(of)`` for tables and plots."""
        return f"M_{format_p(self.p)}({self.of})"

    @property
    def concave(self) -> bool:
        """True for ``p <= 1``: the objective is concave in the values."""
        return self.p <= 1

    def values(self, utilities: npt.ArrayLike, payoffs: npt.ArrayLike) -> np.ndarray:
        """Pick the values the objective evaluates (utilities or payoffs), any shape."""
        return np.asarray(pick(self.of, utilities, payoffs), dtype=float)

    def evaluate(self, values: npt.ArrayLike) -> float:
        """:math:`M_p` of one vector of values (typed domain errors naming the agents)."""
        return pmean(values, self.p, self.weights)

    def rows(self, values: npt.ArrayLike) -> np.ndarray:
        """:math:`M_p` of every row; ``-inf`` where a row is outside the p-mean's domain."""
        return pmean_rows(values, self.p, self.weights)

    def for_game(self, game: Any) -> Objective:
        """This objective with the game's population weights :math:`m_i/N` when it has masses and
        the objective gives no weights of its own (unchanged otherwise).

        >>> from sedtheory import CommonsGame, PiecewiseLinearTax, Society
        >>> g = CommonsGame(Society([1.0, 1.0], 2.0, masses=[1.0, 3.0]), PiecewiseLinearTax([0], [0.2]), 0.0)
        >>> Objective(0.0).for_game(g).weights
        (0.25, 0.75)
        """
        shares = getattr(game, "welfare_weights", None)
        if self.weights is not None or shares is None:
            return self
        return Objective(self.p, self.of, tuple(np.asarray(shares, dtype=float).tolist()))

    def of_profile(self, game: Any, actions: npt.ArrayLike) -> float:
        """The objective at a profile of ``game`` (any :class:`~sedtheory.games.Game`), with the
        game's population weights when the objective has none."""
        a = game.check_actions(actions, batch=False)
        return self.for_game(game).evaluate(self.values(game.utilities(a), game.payoffs(a)))

    def with_p(self, p: float) -> Objective:
        """The same objective with another p."""
        return Objective(p, self.of, self.weights)


def as_objective(p: Any, welfare_of: str | None = None) -> Objective:
    """``p`` as an :class:`Objective` (an Objective passes through; ``welfare_of`` must then agree).

    >>> as_objective(1.0).of, as_objective(Objective(2.0, "payoff")).p
    ('utility', 2.0)
    """
    if isinstance(p, Objective):
        if welfare_of is not None and welfare_of != p.of:
            raise InvalidParameterError(
                "welfare_of", welfare_of, f"the Objective already says of={p.of!r}; drop welfare_of"
            )
        return p
    return Objective(p, welfare_of or "utility")  # type: ignore[arg-type]
