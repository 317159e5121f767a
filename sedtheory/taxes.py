r"""Piecewise-linear bracket taxes with equal redistribution (the slide formula of Zhang et al., ICML 2024).

Examples
--------
>>> from sedtheory import PiecewiseLinearTax
>>> tax = PiecewiseLinearTax([0, 10, 20], [0.1, 0.2, 0.5])
>>> float(tax(25.0))
5.5
>>> tax.is_progressive
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import sympy as sp

from sedtheory.errors import DomainError, InvalidParameterError, ShapeError
from sedtheory.validate import real_array

__all__ = ["PiecewiseLinearTax", "RatePieces", "to_rational"]


def to_rational(x: float) -> sp.Rational:
    """Exact sympy rational of the shortest decimal that round-trips ``x``.

    ``0.1`` becomes ``1/10`` (not the binary fraction), so symbolic results read the
    way the user typed the parameters.

    Examples
    --------
    >>> to_rational(0.1)
    1/10
    """
    return sp.Rational(repr(float(x)))


@dataclass(frozen=True)
class RatePieces:
    """Linear pieces of the tax on ``[0, max_harvest]``: ``lo``, ``hi`` (P,), and ``rate`` and
    ``base`` (the tax at ``lo``) either shared ``(P,)`` or one row per policy ``(m, P)``."""

    lo: np.ndarray
    hi: np.ndarray
    rate: np.ndarray
    base: np.ndarray

    @classmethod
    def of(cls, thresholds: np.ndarray, rates: np.ndarray, amax: float) -> RatePieces:
        keep = thresholds < amax
        lo = thresholds[keep]
        hi = np.append(thresholds[1:], np.inf)[keep]
        hi[-1] = min(hi[-1], amax)
        rate = rates[..., keep]
        widths = np.diff(thresholds)[: max(int(keep.sum()) - 1, 0)]
        start = np.zeros(rate.shape[:-1] + (1,))
        base = np.concatenate([start, np.cumsum(rate[..., :-1] * widths, axis=-1)], axis=-1)
        return cls(lo, hi, rate, base)

    def subset(self, rows: np.ndarray) -> RatePieces:
        """The pieces of the policies ``rows`` only (per-row pieces)."""
        return RatePieces(self.lo, self.hi, self.rate[rows], self.base[rows])

    def taxes(self, x: np.ndarray) -> np.ndarray:
        """``T(x)`` elementwise, ``x`` of shape ``(n,)`` (shared rates) or ``(m, n)`` (per row)."""
        if self.lo.size == 1 and self.rate.ndim == 1:  # one bracket from lo = 0 with base 0: a flat rate
            return np.multiply(self.rate[0], x, dtype=float)  # type: ignore[no-any-return]
        piece = np.maximum(np.searchsorted(self.lo, x, side="right") - 1, 0)  # lo[-1] < inf: <= P - 1
        if self.rate.ndim == 1:
            return self.base[piece] + self.rate[piece] * (x - self.lo[piece])
        rate = np.take_along_axis(self.rate, piece, axis=-1)
        base = np.take_along_axis(self.base, piece, axis=-1)
        return base + rate * (x - self.lo[piece])


class PiecewiseLinearTax:
    r"""Bracket tax :math:`T(y)` with thresholds :math:`\tau_b` and marginal rates :math:`\phi_b`.

    Parameters
    ----------
    thresholds : sequence of float
        ``0 = tau_0 < tau_1 < ... < tau_{B-1}``, finite; the last bracket is unbounded.
    rates : sequence of float
        Marginal rates ``phi_0..phi_{B-1}``, finite. The principal's domain is ``[0, 1]``;
        the tax itself accepts any finite rate (a negative rate is a subsidy).

    Notes
    -----
    The tax of income :math:`y \ge 0` is the slide formula

    .. math:: T(y) = \sum_{b=0}^{B-1} \phi_b \min(\max(y-\tau_b, 0), \tau_{b+1}-\tau_b),
              \qquad \tau_B = +\infty .

    :math:`T` is continuous and piecewise linear with :math:`T(0) = 0`; it is convex iff
    the rates are non-decreasing (progressive). Revenue is returned as an equal lump sum
    (see :class:`sedtheory.CommonsGame`).

    The seed authors' code charges ``(1 + min(a, hi) - lo) * rate`` on integer brackets
    (1-10, 11-20, 21+); sedtheory follows the slide formula above instead.

    Examples
    --------
    >>> tax = PiecewiseLinearTax([0, 10], [0.0, 0.3])
    >>> tax([5.0, 10.0, 30.0]).tolist()
    [0.0, 0.0, 6.0]
    >>> float(tax.marginal_rate(10.0, side="left")), float(tax.marginal_rate(10.0))
    (0.0, 0.3)
    """

    __slots__ = ("_thresholds", "_rates", "_base", "_pieces")

    def __init__(self, thresholds: Sequence[float] | npt.ArrayLike, rates: Sequence[float] | npt.ArrayLike):
        tau = real_array("thresholds", thresholds).reshape(-1) if np.ndim(thresholds) <= 1 else None
        if tau is None:
            raise ShapeError("thresholds", thresholds, "pass a 1-D sequence such as [0, 10, 20]")
        phi = real_array("rates", rates, "give one real rate per bracket")
        if phi.ndim != 1:
            raise ShapeError("rates", rates, "pass a 1-D sequence with one rate per bracket")
        if tau.size == 0:
            raise InvalidParameterError("thresholds", thresholds, "give at least one threshold, 0")
        if phi.size != tau.size:
            raise ShapeError(
                "rates",
                rates,
                f"give one rate per bracket: {tau.size} thresholds but {phi.size} rates",
            )
        if not np.all(np.isfinite(tau)):
            raise InvalidParameterError("thresholds", thresholds, "thresholds must be finite numbers")
        if tau[0] != 0.0:
            raise InvalidParameterError("thresholds", thresholds, "the first threshold must be 0")
        if np.any(np.diff(tau) <= 0):
            raise InvalidParameterError("thresholds", thresholds, "thresholds must be strictly increasing")
        if not np.all(np.isfinite(phi)):
            raise InvalidParameterError("rates", rates, "rates must be finite numbers")
        tau.setflags(write=False)
        phi.setflags(write=False)
        self._thresholds = tau
        self._rates = phi
        self._pieces = RatePieces.of(tau, phi, np.inf)
        self._base = self._pieces.base  # T(tau_b)
        self._base.setflags(write=False)

    # ------------------------------------------------------------------ basics
    @property
    def thresholds(self) -> np.ndarray:
        """Bracket lower ends ``tau_0 = 0 < ... < tau_{B-1}`` (read-only array)."""
        return self._thresholds

    @property
    def rates(self) -> np.ndarray:
        """Marginal rates ``phi_b`` (read-only array)."""
        return self._rates

    @property
    def n_brackets(self) -> int:
        """Number of brackets ``B``."""
        return int(self._rates.size)

    @property
    def is_progressive(self) -> bool:
        """True iff the rates are non-decreasing, i.e. ``T`` is convex."""
        return bool(np.all(np.diff(self._rates) >= 0))

    @classmethod
    def flat(cls, rate: float) -> PiecewiseLinearTax:
        """A single-bracket tax with constant marginal rate ``rate``.

        Examples
        --------
        >>> float(PiecewiseLinearTax.flat(0.25)(8.0))
        2.0
        """
        return cls([0.0], [rate])

    def with_rates(self, rates: Sequence[float] | npt.ArrayLike) -> PiecewiseLinearTax:
        """Same thresholds, other rates."""
        return PiecewiseLinearTax(self._thresholds, rates)

    def __repr__(self) -> str:
        return f"PiecewiseLinearTax(thresholds={self._thresholds.tolist()}, rates={self._rates.tolist()})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PiecewiseLinearTax):
            return NotImplemented
        return bool(
            np.array_equal(self._thresholds, other._thresholds) and np.array_equal(self._rates, other._rates)
        )

    def __hash__(self) -> int:
        return hash((self._thresholds.tobytes(), self._rates.tobytes()))

    # ------------------------------------------------------------------ numeric
    def _incomes(self, y: npt.ArrayLike) -> np.ndarray:
        arr = np.asarray(y, dtype=float)
        if np.any(np.isnan(arr)):
            raise DomainError("y", y, "incomes must not be NaN")
        if np.any(arr < 0):
            raise DomainError("y", y, "incomes must be >= 0 (T is defined for y >= 0)")
        return arr

    def bracket_of(self, y: npt.ArrayLike, side: Literal["right", "left"] = "right") -> np.ndarray:
        """Index of the bracket containing ``y`` (``side="left"``: ``tau_b < y <= tau_{b+1}``)."""
        arr = self._incomes(y)
        if side == "right":
            idx = np.searchsorted(self._thresholds, arr, side="right") - 1
        elif side == "left":
            idx = np.maximum(np.searchsorted(self._thresholds, arr, side="left") - 1, 0)
        else:
            raise InvalidParameterError("side", side, 'use "right" or "left"')
        return idx

    def __call__(self, y: npt.ArrayLike) -> Any:
        """``T(y)`` elementwise; returns a float for scalar input and an array otherwise."""
        out = self._pieces.taxes(self._incomes(y))
        return out[()] if out.ndim == 0 else out

    def marginal_rate(self, y: npt.ArrayLike, side: Literal["right", "left"] = "right") -> Any:
        """Marginal rate ``T'(y)`` from the right (default) or the left.

        At a threshold ``tau_b`` the right rate is ``phi_b`` and the left rate
        ``phi_{b-1}``; at ``y = 0`` both are ``phi_0``.
        """
        out = self._rates[self.bracket_of(y, side)]
        return out[()] if np.ndim(out) == 0 else out

    def average_rate(self, y: npt.ArrayLike) -> Any:
        """``T(y) / y`` with the limit ``phi_0`` at ``y = 0``."""
        arr = self._incomes(y)
        t = np.asarray(self(arr), dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(arr > 0, t / np.where(arr > 0, arr, 1.0), self._rates[0])
        return out[()] if out.ndim == 0 else out

    def pieces(self, upper: float = np.inf) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The linear pieces of ``T`` on ``[0, upper]``.

        Returns
        -------
        lo, hi, rate, tax_at_lo : ndarray
            Piece ``b`` is ``[lo_b, hi_b]`` where ``T(y) = tax_at_lo_b + rate_b (y - lo_b)``.
        """
        if not upper > 0:
            raise InvalidParameterError("upper", upper, "give a positive upper end")
        p = RatePieces.of(self._thresholds, self._rates, upper)
        return p.lo.copy(), p.hi.copy(), p.rate.copy(), p.base.copy()

    # ------------------------------------------------------------------ symbolic
    def symbolic(
        self, y: sp.Symbol | None = None, parameters: Literal["numeric", "symbols"] = "numeric"
    ) -> sp.Piecewise:
        r"""``T(y)`` as a sympy ``Piecewise``.

        Parameters
        ----------
        y : sympy.Symbol, optional
            The income symbol (default: a real symbol ``y``). The last piece carries the
            condition ``y >= tau_{B-1}`` so that the result stays a ``Piecewise`` even for a
            zero single-bracket tax (with a symbol declared non-negative sympy may still
            fold that case to ``0``).
        parameters : {"numeric", "symbols"}
            ``"numeric"`` inserts the thresholds and rates as exact rationals;
            ``"symbols"`` uses symbols ``tau_b`` and ``phi_b``.

        Examples
        --------
        >>> PiecewiseLinearTax([0, 10], [0.1, 0.3]).symbolic()
        Piecewise((y/10, y <= 10), (3*y/10 - 2, y >= 10))
        """
        if y is None:
            y = sp.Symbol("y", real=True)
        nb = self.n_brackets
        if parameters == "numeric":
            taus = [to_rational(t) for t in self._thresholds]
            phis = [to_rational(r) for r in self._rates]
        elif parameters == "symbols":
            taus = [sp.Integer(0)] + [sp.Symbol(f"tau_{b}", positive=True) for b in range(1, nb)]
            phis = [sp.Symbol(f"phi_{b}", real=True) for b in range(nb)]
        else:
            raise InvalidParameterError("parameters", parameters, 'use "numeric" or "symbols"')
        pieces = []
        base: sp.Expr = sp.Integer(0)
        for b in range(nb):
            expr = base + phis[b] * (y - taus[b])
            cond = sp.Le(y, taus[b + 1]) if b + 1 < nb else sp.Ge(y, taus[b])
            pieces.append((sp.expand(expr), cond))
            if b + 1 < nb:
                base = base + phis[b] * (taus[b + 1] - taus[b])
        return sp.Piecewise(*pieces, evaluate=False)
