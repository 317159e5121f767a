r"""Exact best responses over the smooth pieces of a piecewise-quadratic payoff.

In the commons game every agent's utility as a function of its own action is, up to a
constant,

.. math:: f_i(x) = \alpha_i x - k_i T(x) - \tfrac12 \beta_i x^2, \qquad x \in [0, U_i],

with :math:`\beta_i \ge 0`. On each tax bracket :math:`f_i` is a concave quadratic, so
its maximiser there is a clipped stationary point; the best response is the best of these
at most ``B`` candidates. Nothing here uses a grid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["piece_candidates", "best_replies", "deviation_gain"]


def piece_candidates(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rate: np.ndarray,
    base: np.ndarray,
    upper: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximiser and value of ``f_i`` on every piece, shapes ``(n, P)``.

    Pieces that start at or beyond ``upper_i`` get value ``-inf``. Where ``f_i`` is flat on
    a piece the smaller end is returned.
    """
    a = alpha[:, None]
    b = beta[:, None]
    lin = a - k[:, None] * rate[None, :]
    u = upper[:, None]
    lo_i = np.minimum(lo[None, :], u)
    hi_i = np.minimum(hi[None, :], u)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(b > 0, lin / np.where(b > 0, b, 1.0), np.where(lin > 0, np.inf, -np.inf))
    x = np.minimum(np.maximum(stat, lo_i), hi_i)
    value = a * x - k[:, None] * (base[None, :] + rate[None, :] * (x - lo[None, :])) - 0.5 * b * x * x
    valid = (lo[None, :] < u) | (np.arange(lo.size)[None, :] == 0)
    value = np.where(valid, value, -np.inf)
    return x, value


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

    Ties between pieces go to the piece with the smaller action. Same result as the best of
    :func:`piece_candidates`, computed piece by piece on 1-D arrays (no ``(n, P)`` temporaries).
    """
    pos = beta > 0
    all_pos = bool(pos.all())
    with np.errstate(divide="ignore"):
        inv_b = 1.0 / beta if all_pos else np.where(pos, 1.0 / np.where(pos, beta, 1.0), 0.0)
    best_x = np.zeros_like(alpha)
    best_v = np.full_like(alpha, -np.inf)
    best_i = np.zeros(alpha.shape, dtype=np.int64)
    for b in range(lo.size):
        lo_b = np.minimum(lo[b], upper)
        hi_b = np.minimum(hi[b], upper)
        lin = alpha - k * rate[b]
        if all_pos:
            stat = lin * inv_b
        else:
            stat = np.where(pos, lin * inv_b, np.where(lin > 0, np.inf, -np.inf))
        x = np.minimum(np.maximum(stat, lo_b), hi_b)
        v = alpha * x - k * (base[b] + rate[b] * (x - lo[b])) - 0.5 * beta * x * x
        if b > 0:
            v = np.where(lo[b] < upper, v, -np.inf)
        better = v > best_v
        best_x = np.where(better, x, best_x)
        best_v = np.where(better, v, best_v)
        best_i = np.where(better, b, best_i)
    return best_x, best_i


def deviation_gain(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: np.ndarray,
    x_from: np.ndarray,
    x_to: np.ndarray,
    t_from: np.ndarray,
    t_to: np.ndarray,
) -> np.ndarray:
    """``f_i(x_to) - f_i(x_from)`` in the cancellation-free factored form.

    ``t_from`` and ``t_to`` are ``T(x_from)`` and ``T(x_to)``.
    """
    d = x_to - x_from
    return d * (alpha - 0.5 * beta * (x_to + x_from)) - k * (t_to - t_from)
