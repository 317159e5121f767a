r"""Power (p-)means, the principal's social welfare functions (Hardy, Littlewood, Polya 1934).

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
import sys
import types
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from sedtheory.errors import DomainError, InvalidParameterError, ShapeError
from sedtheory.validate import real_array

if TYPE_CHECKING:
    from sedtheory.games import CommonsGame

__all__ = [
    "check_p",
    "check_welfare_of",
    "format_p",
    "marginal_weights",
    "objective_args",
    "pick",
    "pmean",
    "pmean_or_minus_inf",
    "pmean_rows",
    "slide_pmean",
    "welfare",
]

_LINEAR_SWITCH = 0.5  # use the expm1/log1p branch when |p| * max|log v| is below this
_SERIES_SWITCH = 1e-8  # below this, log M_p = mean + p Var / 2 (even expm1/log1p cancels)


def marginal_weights(values: npt.ArrayLike, p: float, mass: npt.ArrayLike | None = None) -> np.ndarray:
    r"""Marginal social welfare weights :math:`\partial M_p / \partial v_i \propto v_i^{p-1}`,
    normalised to (mass-weighted) mean 1.

    For ``p = +inf`` / ``-inf`` the whole weight sits on the best / worst-off agent (the first
    one on ties). The powers are taken in logs and rescaled by their largest, so large ``|p|``
    and incomes in dollars neither overflow nor underflow.

    Examples
    --------
    >>> marginal_weights([1.0, 2.0, 4.0], 0.0).round(4).tolist()   # 1/v, mean 1
    [1.7143, 0.8571, 0.4286]
    >>> marginal_weights([1.0, 2.0, 4.0], 1.0).tolist()
    [1.0, 1.0, 1.0]
    """
    v = np.asarray(values, dtype=float)
    pf = check_p(p)
    if math.isinf(pf):
        w = np.zeros_like(v)
        w[np.argmax(v) if pf > 0 else np.argmin(v)] = 1.0
    elif pf == 1.0:
        w = np.ones_like(v)
    else:
        logs = (pf - 1.0) * np.log(v)
        w = np.exp(logs - logs.max())
    m = np.ones(v.size) if mass is None else np.asarray(mass, dtype=float)
    return w * m.sum() / (w @ m)  # type: ignore[no-any-return]


def format_p(p: float) -> str:
    """``p`` for tables and labels: ``-inf``, ``inf``, or the shortest ``%g`` form.

    >>> format_p(float("-inf")), format_p(0.5), format_p(1.0)
    ('-inf', '0.5', '1')
    """
    return "-inf" if p == -math.inf else "inf" if p == math.inf else f"{p:g}"


def check_p(p: float) -> float:
    try:
        pf = float(p)
    except (TypeError, ValueError):
        raise InvalidParameterError("p", p, "p must be a real number or +-inf") from None
    if math.isnan(pf):
        raise InvalidParameterError("p", p, "p must not be NaN; use a real number or +-inf")
    return pf


def check_welfare_of(welfare_of: str) -> str:
    """``"utility"`` (utilities ``W r``) or ``"payoff"`` (own payoffs ``r``), else a typed error."""
    if welfare_of not in ("utility", "payoff"):
        raise InvalidParameterError("welfare_of", welfare_of, 'use "utility" or "payoff"')
    return welfare_of


def pick(of: str, utilities: Any, payoffs: Any) -> Any:
    """``utilities`` when the objective is of utilities, ``payoffs`` otherwise (any array type:
    numpy, cvxpy or sympy), so that no module branches on ``of`` itself.

    >>> pick("payoff", [1.0], [2.0])
    [2.0]
    """
    check_welfare_of(of)
    return utilities if of == "utility" else payoffs


def objective_args(p: Any, welfare_of: str = "utility") -> tuple[float, Literal["utility", "payoff"]]:
    """``(p, of)`` from a bare ``p`` and ``welfare_of``, or from an :class:`~sedtheory.Objective`
    (whose ``of`` wins; an explicit different ``welfare_of`` is a typed error).

    >>> objective_args(1, "payoff")
    (1.0, 'payoff')
    """
    if hasattr(p, "p") and hasattr(p, "of"):
        if welfare_of not in ("utility", p.of):
            fix = f"the Objective says of={p.of!r}; drop welfare_of"
            raise InvalidParameterError("welfare_of", welfare_of, fix)
        return check_p(p.p), check_welfare_of(p.of)  # type: ignore[return-value]
    return check_p(p), check_welfare_of(welfare_of)  # type: ignore[return-value]


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
    pf = check_p(p)
    v = real_array("values", [] if values is None else values, "give a non-empty 1-D array of values")
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
        if np.any(va == math.inf) and np.any(va == -math.inf):
            raise DomainError("values", values, "the mean of +inf and -inf is undefined; give finite values")
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
    if np.any(np.isinf(va)):  # only +inf is left: v^p = inf for p >= 0, 0 for p < 0
        finite = np.isfinite(va)
        if pf >= 0 or not finite.any():
            return math.inf
        share = float(wa[finite].sum())
        return pmean(va[finite], pf, wa[finite] / share) * share ** (1.0 / pf)
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
    if np.all(finite) and abs(pf) * spread < _SERIES_SWITCH:
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
    pf = check_p(p)
    if pf == 0 or math.isinf(pf):
        raise InvalidParameterError("p", p, "the slide form needs finite p != 0; use pmean")
    v = np.asarray(values, dtype=float)
    return float(v.size ** (1.0 / pf) * pmean(v, pf))


def pmean_rows(values: npt.ArrayLike, p: float, weights: npt.ArrayLike | None = None) -> np.ndarray:
    r"""``M_p`` of every row of ``values``, ``-inf`` where a row is outside the domain.

    ``weights`` (one per column, non-negative, summing to 1; default equal) are shared by every
    row; columns of weight 0 are ignored, as in :func:`pmean`.

    The vectorised form used by searches over many policies: a row with a value the p-mean
    does not accept (negative for p > 0, non-positive for p <= 0, NaN) scores ``-inf`` so that
    a maximisation never selects it. Use :func:`pmean` for one vector with domain errors.

    Notes
    -----
    For finite :math:`p \neq 0`, :math:`\log M_p = \frac1p \log \frac1n \sum_i
    e^{p \log v_i}` is evaluated with the row's largest exponent factored out (no overflow);
    :math:`p = 0` is :math:`\exp(\text{mean} \log v)`.

    Examples
    --------
    >>> pmean_rows([[1.0, 4.0], [2.0, 2.0], [-1.0, 3.0]], 0).tolist()
    [2.0, 2.0, -inf]
    >>> pmean_rows([[1.0, 4.0]], 1, weights=[0.75, 0.25]).tolist()
    [1.75]
    """
    pf = check_p(p)
    v = np.atleast_2d(np.asarray(values, dtype=float))
    if v.ndim != 2 or v.shape[1] == 0:
        raise ShapeError("values", values, "give a 2-D array with one row per policy")
    w: np.ndarray | None = None
    if weights is not None:
        w = _weights(weights, v.shape[1])
        v = v[:, w > 0]
        w = w[w > 0]
    bad = np.isnan(v).any(axis=1)
    if pf == math.inf:
        out = v.max(axis=1)
    elif pf == -math.inf:
        out = v.min(axis=1)
    elif pf == 1.0:
        with np.errstate(invalid="ignore"):  # +inf with -inf: NaN, scored -inf below
            out = v.mean(axis=1) if w is None else v @ w
    else:
        bad |= (v < 0).any(axis=1) if pf > 0 else (v <= 0).any(axis=1)
        safe = np.where(bad[:, None], 1.0, v)
        with np.errstate(divide="ignore"):
            logs = np.log(safe)
        if pf == 0.0:
            out = np.exp(logs.mean(axis=1) if w is None else logs @ w)
        else:
            out = _rows_power_mean(logs, pf, w)
    return np.where(bad | np.isnan(out), -np.inf, out)


def pmean_or_minus_inf(values: npt.ArrayLike, p: float, weights: npt.ArrayLike | None = None) -> float:
    r"""``M_p`` of one vector of utilities, ``-inf`` where it is outside the p-mean's domain.

    The one-vector form of :func:`pmean_rows` (same domain convention: a negative value for
    p > 0, a non-positive one for p <= 0, or NaN scores ``-inf``), for places that rank or report
    a welfare and must not stop on an unscorable vector (learning principals' feedback, figures,
    the report's laissez-faire welfare). Use :func:`pmean` where a domain error should be raised.

    Examples
    --------
    >>> pmean_or_minus_inf([1.0, 4.0], 0)
    2.0
    >>> pmean_or_minus_inf([-1.0, 3.0], 0)
    -inf
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ShapeError("values", f"array of shape {v.shape}", "give one vector of utilities")
    return float(pmean_rows(v[None, :], p, weights)[0])


def _rows_power_mean(logs: np.ndarray, pf: float, w: np.ndarray | None = None) -> np.ndarray:
    """``M_p`` of rows given their logs, finite ``p != 0``, in three regimes like :func:`pmean`:
    log-sum-exp with the top exponent factored out; ``log1p(mean(expm1(p d)))`` around the
    row's mean log ``m`` (deviations ``d``) for small ``|p| max|d|``; and the series
    ``m + p Var / 2`` where even that cancels (``p = 1e-300`` gave a row mean of 1 before)."""

    def avg(x: np.ndarray) -> np.ndarray:
        return x.mean(axis=1) if w is None else x @ w

    finite = np.isfinite(logs).all(axis=1)
    with np.errstate(invalid="ignore"):
        mean = np.where(finite, avg(np.where(finite[:, None], logs, 0.0)), 0.0)
        dev = np.where(finite[:, None], logs - mean[:, None], 0.0)
    spread = np.abs(dev).max(axis=1) * abs(pf)
    z = pf * logs
    top = z.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        out = np.exp((top[:, 0] + np.log(avg(np.exp(z - top)))) / pf)
        mid = finite & (spread < _LINEAR_SWITCH)
        out[mid] = np.exp(mean[mid] + np.log1p(avg(np.expm1(pf * dev[mid]))) / pf)
        tiny = finite & (spread < _SERIES_SWITCH)
        out[tiny] = np.exp(mean[tiny] + 0.5 * pf * avg(dev[tiny] ** 2))
    return out


def welfare(
    game: CommonsGame,
    actions: npt.ArrayLike,
    p: float,
    welfare_of: Literal["utility", "payoff"] = "utility",
) -> float:
    r"""The principal's objective :math:`M_p` of the agents' utilities (or own payoffs) at ``actions``.

    Parameters
    ----------
    game : CommonsGame
    actions : array_like, shape (n,)
        An action profile (usually an equilibrium of ``game``).
    p : float
        The p of the p-mean, in ``[-inf, +inf]``.
    welfare_of : {"utility", "payoff"}
        ``"utility"`` (the default) evaluates :math:`u_i = \sum_j W_{ij} r_j`;
        ``"payoff"`` evaluates the own payoffs :math:`r_j`.

    Raises
    ------
    DomainError
        If ``p <= 0`` and some value is not positive (or ``p > 0`` not finite and one is
        negative); the message names the agents and suggests a larger endowment ``omega``.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> game = scenarios.apple_picking()
    >>> eq = solve_equilibrium(game)
    >>> round(welfare(game, eq.actions, 1), 4) == round(float(eq.utilities.mean()), 4)
    True
    """
    pf, welfare_of = objective_args(p, welfare_of)
    values = pick(welfare_of, game.utilities(actions), game.payoffs(actions))
    return pmean(values, pf, getattr(game, "welfare_weights", None))


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`welfare`: ``sedtheory.welfare(game, actions, p)`` works and
    ``sedtheory.welfare.pmean`` stays the module's attribute."""

    def __call__(
        self,
        game: CommonsGame,
        actions: npt.ArrayLike,
        p: float,
        welfare_of: Literal["utility", "payoff"] = "utility",
    ) -> float:
        return welfare(game, actions, p, welfare_of)


sys.modules[__name__].__class__ = _CallableModule
