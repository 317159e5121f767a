"""Typed errors raised by sedtheory.

Every error raised on bad input names the offending field, the value received and
how to fix it. Solver failures carry the solver's status.

Examples
--------
>>> from sedtheory.errors import InvalidParameterError
>>> issubclass(InvalidParameterError, ValueError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SedtheoryError",
    "InvalidParameterError",
    "DomainError",
    "ShapeError",
    "GraphError",
    "ActionError",
    "SolverError",
    "EquilibriumNotFoundError",
    "UnboundedBestResponseError",
    "InfeasibleTargetError",
    "ProfileError",
    "UnknownNameError",
    "CapabilityError",
    "DataUnavailableError",
]


class SedtheoryError(Exception):
    """Base class of every error raised by sedtheory."""


class InvalidParameterError(SedtheoryError, ValueError):
    """A parameter is outside its documented domain.

    Parameters
    ----------
    field : str
        Name of the offending argument or attribute.
    value : object
        The value received (summarised in the message).
    fix : str
        What the caller should do instead.
    """

    def __init__(self, field: str, value: Any, fix: str) -> None:
        self.field = field
        self.value = value
        self.fix = fix
        super().__init__(f"invalid {field}={_summary(value)}: {fix}")


class DomainError(InvalidParameterError):
    """Values outside the domain of a function (e.g. a p-mean of non-positive values)."""


class ShapeError(InvalidParameterError):
    """An array has the wrong shape."""


class GraphError(InvalidParameterError):
    """The social graph is malformed (wrong nodes, self-loops, wrong type)."""


class ActionError(InvalidParameterError):
    """An action profile is malformed or outside ``[0, max_harvest]``."""


class SolverError(SedtheoryError, RuntimeError):
    """A numerical solver failed; ``status`` holds the solver's own status."""

    def __init__(self, message: str, status: str = "failed") -> None:
        self.status = status
        super().__init__(f"{message} (solver status: {status})")


class EquilibriumNotFoundError(SolverError):
    """No certified pure equilibrium was found.

    Attributes
    ----------
    best_actions : numpy.ndarray or None
        The profile with the smallest Nash gap that the solver reached.
    best_gap : float
        Its exact Nash gap.
    """

    def __init__(
        self, message: str, status: str, best_actions: Any = None, best_gap: float = float("nan")
    ) -> None:
        self.best_actions = best_actions
        self.best_gap = best_gap
        super().__init__(message, status)


class UnboundedBestResponseError(InvalidParameterError):
    """An agent's best response is unbounded because ``max_harvest`` is infinite."""


class InfeasibleTargetError(InvalidParameterError):
    """No admissible tax rates make the target profile an equilibrium.

    Attributes
    ----------
    agents : list of int
        Agents whose best-response condition cannot be met (as far as it could be located).
    """

    def __init__(self, field: str, value: Any, fix: str, agents: list[int] | None = None) -> None:
        self.agents = list(agents or [])
        super().__init__(field, value, fix)


class ProfileError(InvalidParameterError):
    """A preference profile is malformed: empty, repeated candidates, or voters ranking
    different candidate sets."""


class UnknownNameError(InvalidParameterError, KeyError):
    """A name that no registry (rules, learners, theorems, solvers, scenarios) knows."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CapabilityError(InvalidParameterError, TypeError):
    """A game lacks a capability that the requested method needs (e.g. a piecewise-quadratic
    own-action problem for the aggregate solver); the message names the method to use instead."""


def _summary(value: Any) -> str:
    text = repr(value)
    if len(text) > 120:
        text = text[:117] + "..."
    return text


class DataUnavailableError(InvalidParameterError):
    """An optional data package (Tax-Calculator's files for the US scenario) is not installed or its
    files lack what was asked; the message says what to install or which values exist."""
