"""Shared checks of scalar arguments (the typed error names the field, the value and the fix)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError

__all__ = ["count"]


def count(field: str, value: Any, minimum: int = 1, fix: str = "use a positive integer") -> int:
    """``value`` as an int if it is an integer (not a bool) ``>= minimum``, else a typed error."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidParameterError(field, value, fix)
    return int(value)
