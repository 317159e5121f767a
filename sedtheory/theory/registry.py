r"""The registry of statements and the machinery that searches them for counterexamples.

A :class:`Statement` has a name, the precise statement, its hypotheses, a citation, an instance
generator (``generate(rng) -> instance``; also a hypothesis strategy through
:meth:`Statement.strategy`), a hypothesis test (``holds_on(instance) -> bool``) and a check that
returns the counterexamples it found on an instance (a list of dicts, empty when the statement
holds there). Instances that do not satisfy the hypotheses are counted as *skipped*, never as
passes. Every statement also carries a *planted* instance that violates it, either because a
hypothesis is dropped (the statement's own check is run on an instance outside its
hypotheses) or through a false variant of the statement (``planted_check``); the tests check
that each planted violation is caught.

``kind="theorem"`` statements are known results (a counterexample means a bug, and makes
``sedtheory verify`` fail); ``kind="conjecture"`` statements are questions about this model that
the toolkit answers, and their counterexamples are reported as findings.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.registry import Registry

__all__ = ["Statement", "Report", "THEOREMS", "statement", "verify", "verify_all"]

Instance = dict[str, Any]
Check = Callable[[Instance], list[dict[str, Any]]]


@dataclass(frozen=True)
class Statement:
    """A registered statement and how it is checked.

    Attributes
    ----------
    name : str
    statement : str
        The precise statement.
    hypotheses : tuple of str
    citation : str
    generate : callable
        ``generate(rng) -> instance`` (a dict).
    holds_on : callable
        ``holds_on(instance) -> bool``: do the hypotheses hold?
    check : callable
        ``check(instance) -> list of counterexamples`` (dicts); empty when it holds.
    planted : callable
        ``planted() -> instance`` that violates the statement (see ``planted_check``).
    planted_check : callable or None
        A false variant's check for the planted instance; None when the planted instance drops
        a hypothesis and the statement's own check catches it.
    how : str
        How the statement is checked (for the docs).
    kind : {"theorem", "conjecture"}
    instances : int
        Default number of random instances in :func:`verify`.
    """

    name: str
    statement: str
    hypotheses: tuple[str, ...]
    citation: str
    generate: Callable[[np.random.Generator], Instance] = field(repr=False)
    holds_on: Callable[[Instance], bool] = field(repr=False)
    check: Check = field(repr=False)
    planted: Callable[[], Instance] = field(repr=False)
    planted_check: Check | None = field(default=None, repr=False)
    how: str = ""
    kind: str = "theorem"
    instances: int = 100

    def strategy(self) -> Any:
        """A hypothesis strategy of instances (built on ``generate`` with drawn seeds)."""
        from hypothesis import strategies as st

        return st.integers(0, 2**32 - 1).map(lambda s: self.generate(np.random.default_rng(s)))

    def catch_planted(self) -> list[dict[str, Any]]:
        """The counterexamples found on the planted instance (non-empty when the check works)."""
        check = self.check if self.planted_check is None else self.planted_check
        return check(self.planted())


def _build(name: str, check: Check, **meta: Any) -> Statement:
    return Statement(name=name, check=check, **meta)


#: The registered statements by name (a :class:`~sedtheory.registry.Registry`).
THEOREMS: Registry[Statement] = Registry("name", build=_build, kind="statements")


def statement(
    name: str,
    *,
    text: str,
    hypotheses: Sequence[str],
    citation: str,
    generate: Callable[[np.random.Generator], Instance],
    holds_on: Callable[[Instance], bool],
    planted: Callable[[], Instance],
    planted_check: Check | None = None,
    how: str = "",
    kind: str = "theorem",
    instances: int = 100,
) -> Callable[[Check], Check]:
    """Register ``check`` as the statement ``name`` in :data:`THEOREMS` (``THEOREMS.register``)."""
    return THEOREMS.register(
        name,
        statement=text,
        hypotheses=tuple(hypotheses),
        citation=citation,
        generate=generate,
        holds_on=holds_on,
        planted=planted,
        planted_check=planted_check,
        how=how,
        kind=kind,
        instances=instances,
    )


@dataclass(frozen=True)
class Report:
    """The outcome of checking one statement.

    Attributes
    ----------
    name, kind, statement : str
    holds : bool
        No counterexample among the checked instances.
    instances : int
        Instances that satisfied the hypotheses and were checked.
    skipped : int
        Generated instances outside the hypotheses (not counted as passes).
    counterexamples : list of dict
    seconds : float
    """

    name: str
    kind: str
    statement: str
    holds: bool
    instances: int
    skipped: int
    counterexamples: list[dict[str, Any]]
    seconds: float


def _get(name: str | Statement) -> Statement:
    if isinstance(name, Statement):
        return name
    return THEOREMS.get(name)


def verify(
    name: str | Statement,
    instances: int | Sequence[Instance] | None = None,
    seed: int = 0,
    max_counterexamples: int = 5,
) -> Report:
    """Check one statement on random instances (or the given ones) and report.

    Parameters
    ----------
    name : str or Statement
    instances : int or sequence of instances, optional
        How many random instances (default: the statement's own count), or the instances.
    seed : int
        Seed of the instance generator.
    max_counterexamples : int
        Stop after this many counterexamples.
    """
    st = _get(name)
    t0 = time.perf_counter()
    if instances is None or isinstance(instances, int | np.integer):
        count = st.instances if instances is None else int(instances)
        if count < 0:
            raise InvalidParameterError("instances", instances, "use a non-negative count")
        rng = np.random.default_rng(seed)
        pool: Any = (st.generate(rng) for _ in range(count))
    else:
        pool = list(instances)
    if st.kind == "conjecture" and (instances is None or isinstance(instances, int | np.integer)):
        # A conjecture's known counterexample (its planted instance) is part of the evidence.
        pool = itertools.chain([st.planted()], pool)
    checked = skipped = 0
    found: list[dict[str, Any]] = []
    for inst in pool:
        if not st.holds_on(inst):
            skipped += 1
            continue
        checked += 1
        found.extend(st.check(inst))
        if len(found) >= max_counterexamples:
            break
    return Report(
        st.name,
        st.kind,
        st.statement,
        not found,
        checked,
        skipped,
        found[:max_counterexamples],
        time.perf_counter() - t0,
    )


def verify_all(
    instances: int | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
    progress: Callable[[Report], None] | None = None,
) -> list[Report]:
    """:func:`verify` every registered statement (or ``names``); ``progress`` is called per report."""
    reports = []
    for name in names if names is not None else list(THEOREMS):
        rep = verify(name, instances, seed)
        reports.append(rep)
        if progress is not None:
            progress(rep)
    return reports
