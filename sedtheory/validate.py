"""Shared checks of scalar arguments (the typed error names the field, the value and the fix)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError

__all__ = ["count", "positive_float", "real_array"]


def count(field: str, value: Any, minimum: int = 1, fix: str = "use a positive integer") -> int:
    """``value`` as an int if it is an integer (not a bool) ``>= minimum``, else a typed error."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidParameterError(field, value, fix)
    return int(value)


def positive_float(field: str, value: Any, allow_inf: bool = False) -> float:
    """``value`` as a float if it is a real number > 0 (finite unless ``allow_inf``), else a typed error."""
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)
    x = float(value) if ok else math.nan
    if not (x > 0) or (math.isinf(x) and not allow_inf):
        kind = "a number > 0" if allow_inf else "a finite number > 0"
        raise InvalidParameterError(field, value, f"{field} must be {kind}")
    return x


def real_array(field: str, value: Any, fix: str = "give real numbers") -> np.ndarray:
    """``value`` as a float array; strings, mappings, complex numbers and other non-numbers get a
    typed error naming ``field`` (``np.asarray(..., float)`` raised bare TypeError/ValueError)."""
    if isinstance(value, str | bytes | dict):
        raise InvalidParameterError(field, value, fix)
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(field, value, fix) from None
    if raw.dtype.kind == "c" or (raw.dtype.kind not in "biuf" and raw.dtype != object):
        raise InvalidParameterError(field, value, fix)
    try:
        return np.array(raw, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameterError(field, value, fix) from None
