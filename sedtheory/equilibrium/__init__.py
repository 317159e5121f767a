"""Equilibria of any game: the solver registry, certified results and the exact Nash gap."""

from sedtheory.equilibrium import mpe  # noqa: F401  (registers the backward-induction solver)
from sedtheory.equilibrium.enumeration import EquilibriumSet, equilibria
from sedtheory.equilibrium.result import Equilibrium
from sedtheory.equilibrium.solve import SELECTION_NOTE, certify, nash_gap, solve_equilibrium
from sedtheory.equilibrium.solvers import SOLVERS, SolverOutput, SolverSpec, applicable_solvers

__all__ = [
    "Equilibrium",
    "EquilibriumSet",
    "SELECTION_NOTE",
    "SOLVERS",
    "SolverOutput",
    "SolverSpec",
    "applicable_solvers",
    "certify",
    "equilibria",
    "nash_gap",
    "solve_equilibrium",
]
