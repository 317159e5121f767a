r"""Equilibria of the local-commons network game: active-set Newton with exact replies.

For a fixed *regime* (each agent either strictly inside a bracket ``b_i`` or held at a
point: 0, a threshold or its cap) the first-order conditions of the interior agents are
linear:

.. math:: (H a)_i = \sigma_i - k_i \phi_{b_i}, \qquad
          H = \mathrm{diag}(\sigma/\theta) + \kappa\, W D^{-1} Q,

with ``Q`` the closed-neighbourhood matrix and ``D = diag(|N[j]|)``. ``H`` is applied
matrix-free (two sparse products), so a solve costs O(nnz) per Krylov step.

The method alternates (i) the exact best response of every agent to the current profile,
which fixes the regime, with (ii) the solve of the regime's linear system (sparse LU for
small games, GMRES with a Jacobi preconditioner beyond). A few damped best-response
sweeps give the starting point, and damped sweeps are interleaved when a Newton step does
not reduce the Nash gap. The returned profile is accepted only when its exact Nash gap is
below the tolerance; otherwise the caller reports that no pure equilibrium was found.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from sedtheory.equilibrium.result import relative_gap_scale
from sedtheory.equilibrium.solvers import SolverOutput, damped_best_response
from sedtheory.games import CommonsGame
from sedtheory.games.commons.replies import best_replies

__all__ = ["solve_local"]

_DIRECT_LIMIT = 3000


def _operator(game: CommonsGame) -> tuple[sps.csr_matrix, sps.csr_matrix, np.ndarray, np.ndarray]:
    w, q, d = game.local_operators()
    soc = game.society
    return w, q, d, soc.selfishness / soc.productivity


def _regime_step(game: CommonsGame, a: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, str]:
    """Solve the linear system of the regime given by the best responses to ``a``."""
    w, q, d, m = _operator(game)
    kappa = game.damage
    lo, hi, rate, _ = game.tax_pieces
    alpha = game.reply_intercepts(a)
    x, piece = best_replies(alpha, game.own_curvature, game.own_tax_weight, *game.tax_pieces, upper)
    lo_i = np.minimum(lo[piece], upper)
    hi_i = np.minimum(hi[piece], upper)
    free = (x > lo_i) & (x < hi_i) & (game.own_curvature > 0)
    fixed = ~free
    n = game.n
    if not free.any():
        return x, "fixed"
    rhs_full = game.society.selfishness - game.own_tax_weight * rate[piece]
    base = np.where(fixed, x, 0.0)
    h_base = m * base + kappa * np.asarray(w @ ((q @ base) / d))
    f_idx = np.flatnonzero(free)
    rhs = rhs_full[f_idx] - h_base[f_idx]
    nf = f_idx.size
    if n <= _DIRECT_LIMIT:
        h = (sps.diags(m) + kappa * (w @ sps.diags(1.0 / d) @ q)).tocsc()
        sub = h[f_idx][:, f_idx].tocsc()
        try:
            sol = spla.splu(sub).solve(rhs)
            status = "direct"
        except RuntimeError:  # singular regime matrix (e.g. no effort costs): least squares
            sol = np.linalg.lstsq(sub.toarray(), rhs, rcond=None)[0]
            status = "lstsq"
    else:

        def matvec(v: np.ndarray) -> np.ndarray:
            full = np.zeros(n)
            full[f_idx] = v
            out = m * full + kappa * np.asarray(w @ ((q @ full) / d))
            return out[f_idx]

        op = spla.LinearOperator((nf, nf), matvec=matvec, dtype=float)
        diag = game.own_curvature[f_idx]
        prec = spla.LinearOperator((nf, nf), matvec=lambda v: v / diag, dtype=float)
        sol, info = spla.gmres(op, rhs, x0=x[f_idx], M=prec, rtol=1e-13, atol=0.0, restart=60, maxiter=50)
        status = "gmres" if info == 0 else f"gmres-info-{info}"
    out = x.copy()
    out[f_idx] = np.clip(np.asarray(sol, dtype=float), lo_i[f_idx], hi_i[f_idx])
    return out, status


def solve_local(
    game: CommonsGame,
    tol: float = 1e-10,
    max_iter: int = 200,
    warmup: int = 10,
    damping: float = 0.5,
    initial: np.ndarray | None = None,
) -> SolverOutput:
    """Active-set Newton for the local commons (see the module docstring): the best profile found
    (smallest exact Nash gap), its iterations and counters."""
    indifferent = game.society.weight_sums == 0
    upper = np.where(indifferent, 0.0, game.reply_upper_bounds)
    a = np.zeros(game.n) if initial is None else np.clip(np.asarray(initial, dtype=float), 0.0, upper)
    details: dict[str, object] = {"linear_solves": 0, "damped_sweeps": 0, "solver_status": []}

    def gap_of(p: np.ndarray) -> float:
        gains = game.deviation_gains(p)
        scale = max(1.0, float(np.max(np.abs(game.utilities(p)))))
        return float(gains.max()) / scale

    def sweep(p: np.ndarray) -> np.ndarray:
        return p + damping * (game.best_responses(p) - p)

    for _ in range(warmup):
        a = sweep(a)
    details["damped_sweeps"] = warmup
    best, best_gap = a, gap_of(a)
    stall = restarts = 0
    it = 0
    while it < max_iter and best_gap > tol:
        it += 1
        a, status = _regime_step(game, a, upper)
        details["linear_solves"] = int(details["linear_solves"]) + 1  # type: ignore[call-overload]
        statuses = details["solver_status"]
        assert isinstance(statuses, list)
        if status not in statuses:
            statuses.append(status)
        g = gap_of(a)
        if g < best_gap:
            best, best_gap, stall = a, g, 0
            continue
        stall += 1
        if stall >= 3:
            # Newton steps cycle between regimes: take a longer run of damped sweeps from
            # the best profile (damping halves at each restart), then resume Newton.
            restarts += 1
            a, stall = best, 0
            rate = damping / (1 + restarts // 2)
            for _ in range(20 * restarts):
                a = a + rate * (game.best_responses(a) - a)
            details["damped_sweeps"] = int(details["damped_sweeps"]) + 20 * restarts  # type: ignore[call-overload]
            g = gap_of(a)
            if g < best_gap:
                best, best_gap = a, g
    return SolverOutput(best, it, "active-set-newton", _WHY, details)


_WHY = "regime linear systems with exact best responses"


def solve_local_with_fallback(
    game: CommonsGame, tol: float, max_iter: int, initial: np.ndarray | None
) -> SolverOutput:
    """:func:`solve_local`, and when it stalls above ``tol``: damped best responses from its last
    profile, then a second active-set pass from there (the regime iteration can cycle between
    regimes when an agent's reply sits on a kink)."""
    first = solve_local(game, tol=tol * 1e-2, max_iter=max_iter, initial=initial)
    if _relative_gap(game, first.actions) <= tol:
        return first
    br = damped_best_response(game, tol * 1e-2, max_iter, first.actions)
    again = solve_local(game, tol=tol * 1e-2, max_iter=max_iter, initial=br.actions)
    merged = {**first.details, **again.details, "fallback": "damped-best-response"}
    note = _WHY + " (after damped best responses from a cycling regime iteration)"
    for cand, extra in ((again.actions, again.iterations), (br.actions, 0)):
        if _relative_gap(game, cand) <= tol:
            its = first.iterations + br.iterations + extra
            return SolverOutput(cand, its, f"{first.method}+best-response", note, merged)
    return first


def _relative_gap(game: CommonsGame, a: np.ndarray) -> float:
    return game.nash_gap(a) / relative_gap_scale(game.utilities(a))
