"""Markdown tables for the reports (voting report, ``sedtheory run``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from sedtheory.welfare import format_p

__all__ = ["table"]


def _cell(x: Any) -> str:
    if isinstance(x, float | np.floating):
        v = float(x)
        if not math.isfinite(v) or v.is_integer():
            return format_p(v)  # p values: -inf, inf, -1, 0, 1
        return f"{v:.4g}" if abs(v) < 1e-3 else f"{v:.4f}"
    return str(x)


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> list[str]:
    """Lines of a Markdown table; floats with 4 decimals (4 significant digits below 1e-3)."""
    cols = [str(c) for c in header]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_cell(x) for x in r) + " |" for r in rows]
    return out
