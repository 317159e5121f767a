r"""Power (p-)means, the principal's family of social welfare functions (DESIGN.md section 5).

Examples
--------
>>> from sedtheory import pmean
>>> pmean([1.0, 4.0], 0)
2.0
>>> pmean([1.0, 4.0], float("-inf"))
1.0
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sedtheory.errors import DomainError, InvalidParameterError, ShapeError

__all__ = ["pmean", "slide_pmean"]

_LINEAR_SWITCH = 0.5  # use the expm1/log1p branch when |p| * max|log v| is below this


def _check_p(p: float) -> float:
    try:
        pf = float(p)
    except (TypeError, ValueError):
        raise InvalidParameterError("p", p, "p must be a real number or +-inf") from None
    if math.isnan(pf):
        raise InvalidParameterError("p", p, "p must not be NaN; use a real number or +-inf")
    return pf


def _weights(weights: npt.ArrayLike | None, n: int) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ShapeError("weights", weights, f"give one weight per value, shape ({n},)")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InvalidParameterError("weights", weights, "weights must be finite and >= 0")
    total = float(w.sum())
    if not abs(total - 1.0) <= 1e-9:
        raise InvalidParameterError(
            "weights", weights, f"weights must sum to 1 (they sum to {total!r}); divide by their sum"
        )
    return w


def pmean(values: npt.ArrayLike, p: float, weights: npt.ArrayLike | None = None) -> float:
    r"""Power mean :math:`M_p(v) = \left(\sum_i w_i v_i^p\right)^{1/p}`.

    Parameters
    ----------
    values : array_like, shape (n,)
        The agents' values (utilities or payoffs).
    p : float
        Any real number or ``+-inf``; ``p = 0`` is the geometric mean, ``-inf`` the
        minimum, ``+inf`` the maximum.
    weights : array_like, shape (n,), optional
        Non-negative weights summing to 1 (default ``1/n`` each). Agents with zero weight
        are ignored, including in the domain checks and in the min / max.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        ``p`` is NaN, or the weights are invalid.
    DomainError
        Values are NaN; negative values with ``p`` not in ``{1, -inf, +inf}``; non-positive
        values with ``p <= 0``. The message names the offending agents.

    Notes
    -----
    The slide writes :math:`f^p(v) = (\sum_i v_i^p)^{1/p} = n^{1/p} M_p(v)`, which has the
    same maximiser for a fixed ``p``; sedtheory uses the normalised :math:`M_p` because it
    has the limits :math:`M_0 = \prod_i v_i^{w_i}`, :math:`M_{-\infty} = \min_i v_i` and
    :math:`M_{+\infty} = \max_i v_i`, and it is homogeneous of degree one.

    The computation is scaled by the largest value (``p > 0``) or the smallest (``p < 0``)
    so that no power overflows, for ``|p|`` up to :math:`10^3` and beyond. For small
    :math:`|p|`, :math:`\log \sum_i w_i e^{p \ell_i}` is evaluated as
    ``log1p(sum(w * expm1(p * l)))`` so that there is no cancellation down to
    :math:`|p| = 10^{-12}` and the result tends continuously to the geometric mean.

    Examples
    --------
    >>> pmean([1.0, 2.0, 3.0], 1)
    2.0
    >>> round(pmean([1.0, 2.0, 3.0], 2), 6)
    2.160247
    >>> pmean([2.0, 8.0], 0.0, weights=[0.5, 0.5])
    4.0
    """
    pf = _check_p(p)
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ShapeError("values", values, "give a non-empty 1-D array of values")
    w = _weights(weights, v.size)
    active = w > 0
    va, wa = v[active], w[active]
    if np.any(np.isnan(va)):
        bad = np.flatnonzero(active)[np.isnan(va)]
        raise DomainError("values", values, f"values of agents {bad.tolist()} are NaN")
    if pf == math.inf:
        return float(va.max())
    if pf == -math.inf:
        return float(va.min())
    if pf == 1.0:
        return float(np.dot(wa, va))
    agents = np.flatnonzero(active)
    if pf > 0 and np.any(va < 0):
        bad = agents[va < 0]
        raise DomainError(
            "values",
            values,
            f"p={pf} needs values >= 0 but agents {bad.tolist()} have negative values "
            f"{va[va < 0][:5].tolist()}; raise the endowment omega or shift the values",
        )
    if pf <= 0 and np.any(va <= 0):
        bad = agents[va <= 0]
        raise DomainError(
            "values",
            values,
            f"p={pf} needs values > 0 but agents {bad.tolist()} have values "
            f"{va[va <= 0][:5].tolist()}; raise the endowment omega or shift the values",
        )
    if np.any(np.isinf(va)):
        return float(va.max()) if pf > 0 else float(va.min())
    if pf > 0:
        scale = float(va.max())
        if scale == 0.0:
            return 0.0
    else:
        scale = float(va.min())
    with np.errstate(divide="ignore"):
        logs = np.log(va) - math.log(scale)  # <= 0 for p > 0, >= 0 for p < 0; -inf for zeros
    if pf == 0.0:
        return math.exp(float(np.dot(wa, np.log(va))))  # within [min v, max v]: no overflow
    z = pf * logs  # <= 0 everywhere (or -inf)
    finite = np.isfinite(logs)
    spread = float(np.max(np.abs(logs[finite]), initial=0.0))
    if np.all(finite) and abs(pf) * spread < 1e-8:
        # log M_p = E[l] + p Var[l] / 2 + O(p^2 l^3): exact to double precision here, and
        # safe for subnormal p, where dividing a rounded log-mean by p would blow up.
        mean = float(np.dot(wa, logs))
        var = float(np.dot(wa, (logs - mean) ** 2))
        return scale * math.exp(mean + 0.5 * pf * var)
    if abs(pf) * spread < _LINEAR_SWITCH and np.all(finite):
        log_mean = math.log1p(float(np.dot(wa, np.expm1(z))))
    else:
        log_mean = math.log(float(np.dot(wa, np.exp(z))))
    return scale * math.exp(log_mean / pf)


def slide_pmean(values: npt.ArrayLike, p: float) -> float:
    r"""The slide's unnormalised form :math:`(\sum_i v_i^p)^{1/p} = n^{1/p} M_p(v)`.

    Defined for finite non-zero ``p`` only (the normalised :func:`pmean` has the limits).

    Examples
    --------
    >>> slide_pmean([1.0, 2.0, 3.0], 1)
    6.0
    """
    pf = _check_p(p)
    if pf == 0 or math.isinf(pf):
        raise InvalidParameterError("p", p, "the slide form needs finite p != 0; use pmean")
    v = np.asarray(values, dtype=float)
    return float(v.size ** (1.0 / pf) * pmean(v, pf))
