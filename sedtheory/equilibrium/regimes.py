r"""Every pure equilibrium of a small commons game (global or local), regime by regime.

Agent i's own problem is :math:`\max_x \alpha_i(a_{-i}) x - k_i T(x) - \beta_i x^2/2` on
:math:`[0, U_i]`, with the intercept :math:`\alpha_i` affine in the others' actions
(:math:`\alpha = \alpha^0 + J a`, :math:`J_{ii} = 0`; read off the game exactly). At an
equilibrium every action is either one of finitely many *points* (0, a tax threshold, the cap
:math:`U_i`) or strictly inside a tax piece p, where the first-order condition
:math:`\alpha_i(a_{-i}) - k_i \phi_p - \beta_i a_i = 0` holds. Fixing a *regime* per agent (a
point, or "inside piece p") leaves a linear system; its solution is the only candidate of that
regime, kept if it lies in its pieces and its exact Nash gap vanishes. Enumerating every regime
combination is therefore complete, unless some system is singular (agents whose conditions pin
only a total, e.g. two agents without effort cost: a continuum), which the result reports. The
cost is :math:`\prod_i (P + \text{points}_i)` small linear solves, batched: for small ``n``.
"""

from __future__ import annotations

import itertools

import numpy as np

from sedtheory.games import CommonsGame

__all__ = ["intercept_map", "polish", "regime_candidates"]


def intercept_map(game: CommonsGame) -> tuple[np.ndarray, np.ndarray]:
    """``alpha0`` and ``J`` with :math:`\\alpha(a) = \\alpha^0 + J a` (columns from unit profiles)."""
    n = game.n
    alpha0 = np.asarray(game.reply_intercepts(np.zeros(n)), dtype=np.float64)
    cols = [np.asarray(game.reply_intercepts(np.eye(n)[j]), dtype=np.float64) - alpha0 for j in range(n)]
    jac = np.stack(cols, axis=1)
    np.fill_diagonal(jac, 0.0)
    return alpha0, jac


def _regimes(lo: np.ndarray, upper: float) -> list[tuple[int, float]]:
    """One agent's regimes: ``(p, nan)`` inside piece p, ``(-1, v)`` at the point v."""
    inside = [(p, np.nan) for p in range(lo.size) if lo[p] < upper]
    points = sorted({0.0, upper, *[float(t) for t in lo if 0.0 < t < upper]})
    return inside + [(-1, v) for v in points]


def regime_candidates(game: CommonsGame, limit: int = 200_000) -> tuple[list[np.ndarray], str] | None:
    """Candidate equilibria (one per regime combination whose system is regular and whose
    solution lies in its pieces), and a note; None when there are more than ``limit``
    combinations. The note is empty when the candidates are complete, else it says why not."""
    lo, hi, rate, _ = game.tax_pieces
    upper = np.asarray(game.reply_upper_bounds, dtype=np.float64)
    if not np.all(np.isfinite(upper)):
        return [], "unbounded replies: regimes need a finite cap"
    options = [_regimes(lo, float(u)) for u in upper]
    size = int(np.prod([len(o) for o in options], dtype=np.float64))
    if size > limit:
        return None
    n = game.n
    alpha0, jac = intercept_map(game)
    beta, k = np.asarray(game.own_curvature), np.asarray(game.own_tax_weight)
    combos = np.array(list(itertools.product(*[range(len(o)) for o in options]))).reshape(size, n)
    piece = np.array([[options[i][c][0] for i, c in enumerate(row)] for row in combos])
    point = np.array([[options[i][c][1] for i, c in enumerate(row)] for row in combos])
    inside = piece >= 0
    mat = np.where(inside[:, :, None], np.diag(beta)[None] - jac[None], np.eye(n)[None])
    rhs = np.where(inside, alpha0 - k * rate[np.maximum(piece, 0)], point)
    det = np.linalg.det(mat)
    scale = np.prod(np.maximum(np.abs(mat).max(axis=2), 1e-300), axis=1)
    regular = np.abs(det) > 1e-12 * scale
    a = np.full((size, n), np.nan)
    a[regular] = np.linalg.solve(mat[regular], rhs[regular][..., None])[..., 0]
    p = np.maximum(piece, 0)
    left, right = lo[p], np.minimum(hi[p], upper[None, :])
    slack = 1e-9 * np.maximum(1.0, np.abs(a))
    fits = np.where(inside, (a >= left - slack) & (a <= right + slack), True)
    keep = regular & fits.all(axis=1)
    found = [np.clip(row, 0.0, upper) for row in a[keep]]
    note = (
        ""
        if regular.all()
        else (
            f"{int((~regular).sum())} regime systems are singular (agents whose conditions pin only a "
            "total): equilibria may form a continuum"
        )
    )
    return found, note


def polish(
    game: CommonsGame,
    profile: np.ndarray,
    at: float = 1e-9,
    affine: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The exact solution of the regime ``profile`` sits in: actions within ``at`` (relative) of
    a point stay there, the others solve their pieces' first-order conditions (one dense solve,
    for small ``n``). Returns ``profile`` unchanged when the system is singular or the solution
    leaves its pieces. ``affine``: :func:`intercept_map` of ``game``, when the caller polishes
    several profiles of one game."""
    lo, hi, rate, _ = game.tax_pieces
    upper = np.asarray(game.reply_upper_bounds, dtype=np.float64)
    a = np.asarray(profile, dtype=np.float64)
    tol = at * np.maximum(1.0, np.abs(a))
    points = np.concatenate([[0.0], lo[lo > 0]])
    near = np.abs(a[:, None] - points[None, :]) <= tol[:, None]
    at_cap = np.abs(a - upper) <= tol
    fixed = near.any(axis=1) | at_cap
    piece = np.clip(np.searchsorted(lo, a, side="right") - 1, 0, lo.size - 1)
    alpha0, jac = intercept_map(game) if affine is None else affine
    beta, k = np.asarray(game.own_curvature), np.asarray(game.own_tax_weight)
    n = a.size
    mat = np.where(fixed[:, None], np.eye(n), np.diag(beta) - jac)
    snapped = np.where(at_cap, upper, points[np.argmax(near, axis=1)])
    rhs = np.where(fixed, snapped, alpha0 - k * rate[piece])
    try:
        x = np.linalg.solve(mat, rhs)
    except np.linalg.LinAlgError:
        return a
    inside = (x >= lo[piece] - tol) & (x <= np.minimum(hi[piece], upper) + tol)
    return np.clip(x, 0.0, upper) if bool(np.all(inside | fixed)) and np.all(np.isfinite(x)) else a
