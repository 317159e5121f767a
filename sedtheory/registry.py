"""One registry for every family of plug-ins: voting rules, learners, theorems, solvers.

A :class:`Registry` is a dictionary from canonical names to entries (each family's frozen
spec dataclass carrying its metadata). Entries are added with the decorator
``REGISTRY.register(name, aliases=(...), **meta)``; other names resolve through
:meth:`Registry.get` (aliases; a typed error naming the field and listing the valid names on
anything else). Tests loop over ``REGISTRY.items()`` so that every registered item passes the
same contract (as pref_voting's ``@vm`` and ``test_all_vms``).

Examples
--------
>>> from sedtheory.registry import Registry
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Spec:
...     name: str
...     func: object
...     colour: str = "red"
>>> SHAPES = Registry("shape", build=Spec)
>>> @SHAPES.register("square", aliases=("box",), colour="blue")
... def square(x):
...     return x * x
>>> SHAPES.get("box").colour, sorted(SHAPES)
('blue', ['square'])
>>> try:
...     SHAPES.get("circle")
... except KeyError as exc:  # UnknownNameError is a KeyError and a ValueError
...     print(exc)
invalid shape='circle': use one of the registered names ['square'] (aliases: ['box'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from sedtheory.errors import UnknownNameError

__all__ = ["Registry", "register"]

E = TypeVar("E")
F = TypeVar("F")


class Registry(dict[str, E], Generic[E]):
    """Named entries of one family, with aliases and typed look-up errors.

    Parameters
    ----------
    field : str
        The parameter name users pass names in (used in error messages, e.g. ``"rule"``).
    build : callable
        ``build(name, obj, **meta) -> entry``: makes the family's spec from the registered
        object and its metadata.
    kind : str
        The family's plural for messages (``"rules"``, ``"learners"``, ...).
    """

    def __init__(self, field: str, build: Callable[..., E], kind: str = "names") -> None:
        super().__init__()
        self.field = field
        self.kind = kind
        self._build = build
        self.aliases: dict[str, str] = {}

    def register(self, name: str, *, aliases: Iterable[str] = (), **meta: Any) -> Callable[[F], F]:
        """Decorator registering ``obj`` as ``name`` with metadata ``meta`` (and ``aliases``)."""

        def decorate(obj: F) -> F:
            self.add(name, obj, aliases=aliases, **meta)
            return obj

        return decorate

    def add(self, name: str, obj: Any, *, aliases: Iterable[str] = (), **meta: Any) -> E:
        """Register ``obj`` under ``name`` now; returns the entry."""
        if not isinstance(name, str) or not name:
            raise UnknownNameError(self.field, name, "register under a non-empty string name")
        entry = self._build(name, obj, **meta)
        self[name] = entry
        for alias in aliases:
            self.aliases[alias] = name
        return entry

    def resolve(self, name: Any) -> str:
        """The canonical name of ``name`` (itself or the name an alias points to)."""
        key = self.aliases.get(name, name) if isinstance(name, str) else name
        if not isinstance(key, str) or key not in self:
            extra = f" (aliases: {sorted(self.aliases)})" if self.aliases else ""
            fix = f"use one of the registered {self.kind} {sorted(self)}{extra}"
            raise UnknownNameError(self.field, name, fix)
        return key

    def get(self, name: Any, default: Any = None) -> E:  # type: ignore[override]
        """The entry called ``name`` (or an alias of it); a typed error on anything else.

        ``default`` is accepted for dict compatibility but never used: unknown names raise
        :class:`~sedtheory.errors.UnknownNameError`.
        """
        return self[self.resolve(name)]

    def knows(self, name: Any) -> bool:
        """True when ``name`` is a registered name or an alias."""
        return isinstance(name, str) and (name in self or name in self.aliases)


def register(
    registry: Registry[E], name: str, *, aliases: Iterable[str] = (), **meta: Any
) -> Callable[[F], F]:
    """``registry.register(name, aliases=..., **meta)`` as a free function."""
    return registry.register(name, aliases=aliases, **meta)
