r"""The p-mean objective in cvxpy, and solving with status checks and solver fallbacks.

Formulations (measured on cvxpy 1.9.3, see docs/principal.md): ``p = 1`` the mean (affine);
``0 < p < 1`` ``sum(power(u, p))`` (``pnorm`` with ``p < 1`` returned solutions 0.4-3.6 % below
the optimum at n >= 1000 while reporting "optimal"); ``p = 0`` ``sum(log(u))`` (``geo_mean``
is slow to build and fails in Clarabel at n >= 1000); ``p < 0`` minimise ``sum(power(u, p))``;
``p = -inf`` the minimum. Each is a concave maximisation with the same maximiser as
:math:`M_p`. For ``p > 1`` :math:`M_p` is convex and maximising it is not DCP; callers use
an exact method of their own.
"""

from __future__ import annotations

import importlib
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from sedtheory.errors import SolverError

__all__ = ["concave_objective", "concave_objective_inverse", "cp", "solve", "is_concave_p"]


class _LazyCvxpy:
    """``cvxpy``, imported on first use: importing sedtheory (or ``sedtheory.voting``) does not
    load the convex-optimisation stack until a program is actually built."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("cvxpy"), name)


if TYPE_CHECKING:
    import cvxpy as cp
else:
    #: cvxpy, loaded lazily.
    cp = _LazyCvxpy()

#: Solver attempts in order. Clarabel's default tolerances (1e-8) sometimes end "inaccurate" on
#: well-posed programs that it solves at 1e-7; SCS's default ``eps`` (1e-4) returned a first best
#: 5e-4 below the optimum with status "optimal" (a false certificate), so it runs at 1e-8 here.
_ATTEMPTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("CLARABEL", {}),
    ("CLARABEL", {"tol_gap_abs": 1e-7, "tol_gap_rel": 1e-7, "tol_feas": 1e-7, "max_iter": 500}),
    ("ECOS", {}),
    ("SCS", {"eps_abs": 1e-8, "eps_rel": 1e-8, "max_iters": 200_000}),
)


#: For p below minus this, M_p's surrogate is the log-sum-exp form (well scaled for any p < 0;
#: the power form is kept above it, where it is the one measured and tested).
LOG_SUM_EXP_BELOW = 50.0


def is_concave_p(p: float) -> bool:
    """``M_p`` is concave (a convex program maximises it) exactly for ``p <= 1``."""
    return p <= 1.0


def concave_objective(
    u: cp.Expression, p: float, scale: float = 1.0, weights: np.ndarray | None = None
) -> cp.Maximize:
    """A DCP objective with the same maximiser as ``M_p(u)`` for ``p <= 1``.

    ``scale`` (the magnitude of the utilities) keeps the solver's absolute tolerances
    meaningful: ``u^p`` with ``u ~ 50`` and ``p = -2`` is ~4e-4 otherwise. ``weights`` (summing to
    1, default ``1/n`` each) are the agents' weights in the mean, e.g. population shares.
    """
    u = u / scale
    w = np.full(u.size, 1.0 / u.size) if weights is None else np.asarray(weights, dtype=float)
    if p == 1.0:
        return cp.Maximize(w @ u)
    if p == -math.inf:
        return cp.Maximize(cp.min(u[np.flatnonzero(w > 0)]) if weights is not None else cp.min(u))
    if p == 0.0:
        return cp.Maximize(w @ cp.log(u))
    if 0.0 < p < 1.0:
        return cp.Maximize(w @ cp.power(u, p))
    if p < -LOG_SUM_EXP_BELOW:
        # log sum_i w_i e^{p log u_i} is convex in u for p < 0 (a convex non-decreasing function of
        # convex arguments) and its scale does not shrink like u^p: exponential cones instead of
        # power cones with exponents the solvers cannot handle (p = -300 failed, -1e4 crashed).
        keep = np.flatnonzero(w > 0)
        return cp.Maximize(-cp.log_sum_exp(p * cp.log(u[keep]) + np.log(w[keep])))
    if p < 0.0:
        return cp.Maximize(-(w @ cp.power(u, p)))
    raise ValueError(f"M_p is not concave for p={p}")


def concave_objective_inverse(value: float, p: float, scale: float = 1.0) -> float:
    """``M_p`` from the optimal value of :func:`concave_objective` (its monotone transform undone)."""
    v = float(value)
    if p == 1.0 or p == -math.inf:
        return v * scale
    if p == 0.0:
        return math.exp(v) * scale
    if 0.0 < p < 1.0:
        return v ** (1.0 / p) * scale
    if p < -LOG_SUM_EXP_BELOW:
        return math.exp(-v / p) * scale
    return (-v) ** (1.0 / p) * scale


def solve(problem: cp.Problem, what: str, **kwargs: Any) -> str:
    """Solve with the first attempt in ``_ATTEMPTS`` (Clarabel, Clarabel at 1e-7, ECOS, SCS at
    1e-8) that reports ``optimal``.

    An ``optimal_inaccurate`` answer is never accepted as optimal: the next solver is tried.
    Returns the name of the solver used; raises :class:`SolverError` with every solver's
    status when none succeeds (``infeasible`` and ``unbounded`` are reported at once, since
    another solver will not change them).
    """
    installed = set(cp.installed_solvers())
    statuses: list[str] = []
    for name, settings in _ATTEMPTS:
        if name not in installed:
            continue
        label = name + (" (tolerances 1e-7)" if settings and name == "CLARABEL" else "")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # statuses are checked below, not warned about
                problem.solve(solver=name, **{**settings, **kwargs})
        except cp.error.SolverError as exc:
            statuses.append(f"{label}: error ({str(exc)[:80]})")
            continue
        status = str(problem.status)
        if status == cp.OPTIMAL:
            return label
        statuses.append(f"{label}: {status}")
        if status in (cp.INFEASIBLE, cp.UNBOUNDED):
            raise SolverError(f"{what} is {status}", status=status)
    raise SolverError(
        f"{what}: no solver reached an accurate optimum [{'; '.join(statuses)}]",
        status=statuses[-1] if statuses else "no solver",
    )


def as_array(expr: cp.Expression | cp.Variable) -> np.ndarray:
    value = expr.value
    if value is None:
        raise SolverError("solver returned no value", status="no value")
    return np.asarray(value, dtype=float).reshape(-1)
