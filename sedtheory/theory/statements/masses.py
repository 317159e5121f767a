"""Statements on population masses: an agent of mass m is m identical members acting alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.equilibrium import solve_equilibrium
from sedtheory.games import CommonsGame
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.theory.registry import Instance, statement
from sedtheory.theory.statements.common import P_GRID, close
from sedtheory.welfare import pmean

__all__: list[str] = []


def _gen(rng: np.random.Generator) -> Instance:
    n = int(rng.integers(1, 6))
    b = int(rng.integers(1, 4))
    thresholds = np.concatenate([[0.0], np.sort(rng.uniform(2.0, 20.0, b - 1))])
    if np.any(np.diff(thresholds) <= 1e-6):
        thresholds = np.arange(b) * 6.0
    return {
        "theta": rng.uniform(2.0, 30.0, n),
        "masses": rng.integers(1, 4, n),
        "thresholds": thresholds,
        "rates": np.sort(rng.uniform(0.0, 0.95, b)),  # progressive: every equilibrium is unique
        "damage": float(rng.uniform(0.0, 0.05)),
        "p": float(rng.choice(P_GRID)),
    }


def _games(inst: Instance, replicate_as: str = "members") -> tuple[CommonsGame, CommonsGame, np.ndarray]:
    theta, m = inst["theta"], inst["masses"]
    tax = PiecewiseLinearTax(inst["thresholds"], inst["rates"])
    massed = CommonsGame(Society(np.ones(theta.size), theta, masses=m), tax, inst["damage"], 20.0)
    rep = np.repeat(np.arange(theta.size), m)
    if replicate_as == "members":
        split = CommonsGame(Society(np.ones(rep.size), theta[rep]), tax, inst["damage"], 20.0)
    else:  # false variant: one agent per type with the members' productivity summed
        split = CommonsGame(Society(np.ones(theta.size), theta * m), tax, inst["damage"], 20.0)
        rep = np.arange(theta.size)
    return massed, split, rep


def _compare(inst: Instance, replicate_as: str) -> list[dict[str, Any]]:
    massed, split, rep = _games(inst, replicate_as)
    a, b = solve_equilibrium(massed).actions, solve_equilibrium(split).actions
    out = []
    if not np.allclose(a[rep], b, rtol=1e-8, atol=1e-9):
        out.append({"massed (expanded)": a[rep].tolist(), "members": b.tolist()})
    w1 = pmean(massed.utilities(a), inst["p"], massed.welfare_weights)
    w2 = pmean(split.utilities(b), inst["p"], split.welfare_weights)
    if not close(w1, w2, 1e-8):
        out.append({"p": inst["p"], "M_p massed": w1, "M_p members": w2})
    return out


@statement(
    "masses_are_members",
    text=(
        "Population masses (DESIGN section 1): with selfish agents in the global commons and progressive "
        "rates, an agent of integer mass m has the equilibrium action, and the society the p-mean "
        "welfare, of m identical agents of mass 1."
    ),
    hypotheses=("sigma_i = 1", "global commons", "progressive rates (unique equilibria)"),
    citation="DESIGN.md section 1 (population masses)",
    generate=_gen,
    holds_on=lambda inst: True,
    planted=lambda: {
        "theta": np.array([5.0, 12.0]),
        "masses": np.array([3, 1]),
        "thresholds": np.array([0.0, 6.0]),
        "rates": np.array([0.2, 0.5]),
        "damage": 0.02,
        "p": 0.0,
    },
    planted_check=lambda inst: _compare(inst, "summed"),
    how="Equilibria of the massed game and of its members written out; M_p at a random p of the grid.",
    instances=150,
)
def _masses_are_members(inst: Instance) -> list[dict[str, Any]]:
    return _compare(inst, "members")
