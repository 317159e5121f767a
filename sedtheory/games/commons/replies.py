r"""Exact best responses over the smooth pieces of a piecewise-quadratic own payoff.

``f_i(x) = alpha_i x - k_i T(x) - beta_i x^2 / 2`` on ``[0, U_i]``: on each tax piece ``f_i``
is a concave quadratic, so its maximiser there is a clipped stationary point and the best
response is the best of at most ``B`` candidates. The search itself is
:func:`sedtheory.games.commons.kernel.piece_search`; this module gives it the signature of the
tax's ``pieces()`` tuple.
"""

from __future__ import annotations

import numpy as np

from sedtheory.games.commons.kernel import RatePieces, deviation_gain, piece_search

__all__ = ["best_replies", "deviation_gain"]


def best_replies(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rate: np.ndarray,
    base: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Global maximiser of ``f_i`` on ``[0, upper_i]`` and the index of its piece.

    Ties between pieces go to the piece with the smaller action.

    Examples
    --------
    >>> import numpy as np
    >>> x, piece = best_replies(np.array([1.0]), np.array([1.0]), np.array([1.0]),
    ...                         np.array([0.0, 0.5]), np.array([0.5, np.inf]),
    ...                         np.array([0.0, 0.5]), np.array([0.0, 0.0]), np.array([10.0]))
    >>> float(x[0]), int(piece[0])
    (0.5, 0)
    """
    x, _, index = piece_search(alpha, beta, k, upper, RatePieces(lo, hi, rate, base))
    return x, index
