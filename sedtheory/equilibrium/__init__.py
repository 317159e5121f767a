"""Equilibria of the commons game: exact best responses, solvers and certificates."""

from sedtheory.equilibrium.result import Equilibrium
from sedtheory.equilibrium.solve import SELECTION_NOTE, certify, nash_gap, solve_equilibrium

__all__ = ["Equilibrium", "SELECTION_NOTE", "certify", "nash_gap", "solve_equilibrium"]
