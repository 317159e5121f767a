"""One certificate type for every optimum the package reports.

A :class:`Certificate` states what is proven about a maximisation: a ``lower`` bound (the
value of a feasible, verified solution), an ``upper`` bound (from a relaxation or a global
method), where the upper bound comes from (``source``), the resulting ``status`` and the
``gap``. :class:`~sedtheory.principal.TaxDesign`, :class:`~sedtheory.principal.FirstBest` and
the implementation results all carry one.

Examples
--------
>>> from sedtheory import Certificate
>>> c = Certificate.from_bounds(9.5, 10.0, "first best")
>>> c.status, c.gap
('best-found', 0.5)
>>> Certificate.from_bounds(10.0, 10.0 + 1e-9, "dual bound").status
'optimal'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Certificate", "STATUSES"]

#: Statuses a certificate may carry.
STATUSES = ("optimal", "best-found", "unbounded", "infeasible", "failed", "not-computed")


@dataclass(frozen=True)
class Certificate:
    """What is proven about an optimum.

    Attributes
    ----------
    lower : float
        Value of a verified feasible solution (``-inf`` if none).
    upper : float
        A proven upper bound on the optimum (``inf`` if none was computed).
    source : str
        How the upper bound was established (e.g. ``"first best with tax-feasible transfers"``).
    status : str
        ``"optimal"`` when ``upper - lower <= rtol * max(1, |upper|)``, ``"best-found"`` when a
        gap remains, or one of ``"unbounded"``, ``"infeasible"``, ``"failed"``, ``"not-computed"``.
    gap : float
        ``upper - lower`` (``inf`` when a bound is missing).
    argument : str
        The human-readable proof sketch (what was verified and how).
    """

    lower: float
    upper: float
    source: str
    status: str
    gap: float
    argument: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    @classmethod
    def from_bounds(
        cls, lower: float, upper: float, source: str, rtol: float = 1e-6, argument: str = ""
    ) -> Certificate:
        """The certificate of a maximisation with these bounds (status from the relative gap)."""
        lo, up = float(lower), float(upper)
        if math.isnan(lo) or math.isnan(up):
            return cls(lo, up, source, "failed", math.nan, argument)
        if not math.isfinite(up):
            return cls(lo, up, source, "best-found", math.inf, argument)
        gap = up - lo
        status = "optimal" if gap <= rtol * max(1.0, abs(up)) else "best-found"
        return cls(lo, up, source, status, gap, argument)

    @property
    def relative_gap(self) -> float:
        """``gap / max(1, |upper|)``."""
        if not math.isfinite(self.upper):
            return math.inf
        return self.gap / max(1.0, abs(self.upper))

    def __contains__(self, text: object) -> bool:
        """``"upper bound" in certificate`` searches its text (as when it was a string)."""
        return isinstance(text, str) and text in str(self)

    def __str__(self) -> str:
        return self.argument or (
            f"lower bound {self.lower:.10g}, upper bound {self.upper:.10g} ({self.source}), "
            f"gap {self.gap:.4g}: {self.status}"
        )
