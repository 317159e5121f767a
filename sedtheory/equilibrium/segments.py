r"""Segments and the weighted potential, shared by the single-profile and the batched solvers.

A *segment* of agent i is a maximal run of tax pieces joined by concave kinks (where
:math:`k_i(\phi_b - \phi_{b-1}) \ge 0`): on a segment the own utility is concave, so the
backward reply is a single clipped stationary point. Moving agents between segments raises the
weighted potential :math:`\Phi` (Monderer and Shapley 1996), which is what makes the segment
search terminate. Every function takes one profile (agents on the last axis, shared rates) or a
batch of policies (rows first, one rate vector per row).
"""

from __future__ import annotations

import numpy as np

from sedtheory.games.commons.kernel import CommonsKernel

__all__ = ["potential_change", "potential_weights", "segment_bounds", "segment_ids"]


def segment_ids(k: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Segment id of every (agent, piece) ``(n, P)``, or (row, agent, piece) for rates ``(m, P)``."""
    if rates.ndim == 1:
        convex = k[:, None] * np.diff(rates)[None, :] < 0
    else:
        convex = k[None, :, None] * np.diff(rates, axis=1)[:, None, :] < 0
    zero = np.zeros(convex.shape[:-1] + (1,), dtype=np.int64)
    return np.concatenate([zero, np.cumsum(convex, axis=-1)], axis=-1)


def segment_bounds(
    seg_of: np.ndarray, seg: np.ndarray, lo: np.ndarray, hi: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``[L_i, U_i]``: the span of segment ``seg_i`` of every agent (pieces ``[lo, hi]``), capped at
    ``upper_i``; ``seg_of`` is :func:`segment_ids`, ``seg`` the chosen segment per agent."""
    member = seg_of == seg[..., None]
    first = np.argmax(member, axis=-1)
    last = member.shape[-1] - 1 - np.argmax(member[..., ::-1], axis=-1)
    high = np.minimum(hi[last], upper)
    return np.minimum(lo[first], high), high


def potential_weights(s: np.ndarray, mass: np.ndarray | None = None) -> np.ndarray:
    """``m_i N / s_i`` (0 for agents with ``s_i = 0``; ``n / s_i`` without masses): the weights of
    the potential's own terms."""
    n = s.size
    if mass is None:
        return np.divide(n, s, out=np.zeros(n), where=s > 0)
    return mass * np.divide(float(mass.sum()), s, out=np.zeros(n), where=s > 0)


def potential_change(kernel: CommonsKernel, a: np.ndarray, b: np.ndarray, rates: np.ndarray) -> np.ndarray:
    r""":math:`\Phi(b) - \Phi(a)` in factored form (no cancellation between large totals).

    .. math:: \Phi(b) - \Phi(a) = \sum_i \frac{n}{s_i}\Big[\sigma_i d_i
              \big(1 - \tfrac{a_i + b_i}{2\theta_i}\big) - k_i (T(b_i) - T(a_i))\Big]
              - \frac{\kappa}{2} D (A + B),

    with :math:`d = b - a`, :math:`D = \sum_i d_i`. Profiles ``(n,)`` give a 0-d array, batches
    ``(m, n)`` one value per row.
    """
    d = b - a
    own = d * kernel.sigma * (1.0 - 0.5 * (a + b) / kernel.theta) - kernel.k * (
        kernel.taxes(b, rates) - kernel.taxes(a, rates)
    )
    total = own @ potential_weights(kernel.s, kernel.mass)
    return total - 0.5 * kernel.kappa * kernel.total(d) * (kernel.total(a) + kernel.total(b))
