"""Statements on taxes: convexity of the bracket tax."""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.theory.registry import Instance, statement

__all__: list[str] = []


def _gen_tax(rng: np.random.Generator) -> Instance:
    b = int(rng.integers(1, 6))
    thresholds = np.concatenate([[0.0], np.sort(rng.uniform(1.0, 40.0, b - 1))])
    if np.any(np.diff(thresholds) <= 1e-6):
        thresholds = np.arange(b) * 5.0
    kind = rng.integers(3)
    rates = rng.uniform(0, 1, b)
    if kind == 0:
        rates = np.sort(rates)
    elif kind == 1:
        rates = np.sort(rates)[::-1]
    if b > 1 and rng.random() < 0.3:
        rates[1] = rates[0]
    return {"tax": PiecewiseLinearTax(thresholds, rates)}


def _is_convex(tax: PiecewiseLinearTax) -> bool:
    """Midpoint convexity at every interior threshold (the only places a kink can bend)."""
    for tau in tax.thresholds[1:]:
        h = 0.25 * min(np.diff(np.append(tax.thresholds, tax.thresholds[-1] + 10.0)))
        left, mid, right = (float(tax(x)) for x in (tau - h, tau, tau + h))
        if mid > 0.5 * (left + right) + 1e-12:
            return False
    return True


def _regressive_variant(inst: Instance) -> list[dict[str, Any]]:
    """False variant: T is convex iff its rates are non-increasing."""
    tax = inst["tax"]
    regressive = bool(np.all(np.diff(tax.rates) <= 0))
    return [] if regressive == _is_convex(tax) else [{"rates": tax.rates.tolist(), "convex": _is_convex(tax)}]


@statement(
    "tax_convex_iff_progressive",
    text="A piecewise-linear bracket tax T with T(0) = 0 is convex iff its marginal rates never fall.",
    hypotheses=("thresholds increasing from 0", "rates finite"),
    citation="standard (a piecewise-linear function is convex iff its slopes increase)",
    generate=_gen_tax,
    holds_on=lambda inst: True,
    planted=lambda: {"tax": PiecewiseLinearTax([0.0, 10.0], [0.1, 0.5])},
    planted_check=_regressive_variant,
    how="Numeric midpoint convexity at each threshold against PiecewiseLinearTax.is_progressive.",
    instances=400,
)
def _tax_convex(inst: Instance) -> list[dict[str, Any]]:
    tax = inst["tax"]
    convex = _is_convex(tax)
    return [] if convex == tax.is_progressive else [{"rates": tax.rates.tolist(), "convex": convex}]
