"""Theorems verified numerically: a registry of statements searched for counterexamples.

Importing this package registers the statements of :mod:`sedtheory.theory.statements` in
:data:`THEOREMS`; :func:`verify_all` checks them all (``sedtheory verify`` from the shell).
"""

from sedtheory.theory import statements as _statements  # noqa: F401  (registers the statements)
from sedtheory.theory.registry import THEOREMS, Report, Statement, statement, verify, verify_all

__all__ = ["THEOREMS", "Report", "Statement", "statement", "verify", "verify_all"]
