"""The global certificate of the second best (SCIP on the single-level reformulation) against a
brute force over every equilibrium of a rate grid, and its use by ``optimal_tax(certify=True)``."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

import sedtheory as sed
from sedtheory import CommonsGame, Objective, PiecewiseLinearTax, Society, optimal_tax, scenarios
from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.principal import BracketRates
from sedtheory.principal.global_bound import SecondBestBound, second_best_bound

pytest.importorskip("pyscipopt")

BOX = np.array([[0.0, 0.0], [1.0, 1.0]])


def _game(seed: int, commons: str) -> CommonsGame:
    rng = np.random.default_rng(seed)
    n = 3
    society = Society(rng.uniform(0, 1, n), rng.uniform(5, 30, n), graph=nx.path_graph(n))
    tax = PiecewiseLinearTax([0.0, float(rng.uniform(3, 10))], [0.0, 0.0])
    return CommonsGame(
        society, tax, damage=float(rng.uniform(0.01, 0.2)), endowment=20.0, max_harvest=30.0, commons=commons
    )


def _brute_force(game: CommonsGame, p: float, points: int = 11) -> float:
    """The optimistic second best on a rate grid: the best of ALL equilibria at every point."""
    best = -math.inf
    for x in itertools.product(np.linspace(0, 1, points), repeat=2):
        found = sed.equilibria(game.with_policy(PiecewiseLinearTax(game.tax.thresholds, np.array(x))))
        best = max(best, float(np.max(found.welfare(p))))
    return best


@pytest.mark.parametrize("seed,commons", [(0, "global"), (1, "local"), (4, "global")])
@pytest.mark.parametrize("p", [-math.inf, 0.0, 0.5, 1.0, math.inf])
def test_bound_is_above_every_equilibrium_of_a_rate_grid(seed: int, commons: str, p: float) -> None:
    game = _game(seed, commons)
    bound = second_best_bound(game, Objective(p), BOX, time_limit=30)
    assert isinstance(bound, SecondBestBound)
    assert bound.upper >= _brute_force(game, p) - 1e-9
    assert bound.primal <= bound.upper + 1e-9 * max(1.0, abs(bound.upper))


@pytest.mark.parametrize("seed,commons", [(0, "global"), (4, "global")])
@pytest.mark.parametrize("p", [-math.inf, 1.0])
def test_certified_design_is_optimal_and_beats_the_grid(seed: int, commons: str, p: float) -> None:
    game = _game(seed, commons)
    design = optimal_tax(game, p, certify=True, time_limit=30, resolution=11)
    assert design.status == "optimal"
    assert design.certificate.relative_gap <= 1e-6
    assert design.welfare >= _brute_force(game, p) - 1e-9
    assert design.equilibrium.relative_nash_gap <= 1e-9
    assert "branch and bound" in design.certificate.source  # the regime search closes these
    assert design.upper_bound < sed.first_best(game, p).upper_bound  # tighter than the first best


def test_second_best_bound_of_the_hand_solved_game() -> None:
    """Two selfish agents, one bracket: a = 5 (1 - phi/2), welfare 10 + a - 0.15 a^2, so the optimum
    is phi = 2/3 with welfare 35/3 (closed form)."""
    game = CommonsGame(
        Society([1.0, 1.0], [10.0, 10.0]),
        PiecewiseLinearTax([0.0], [0.0]),
        damage=0.1,
        endowment=10.0,
        max_harvest=20.0,
    )
    bound = second_best_bound(game, Objective(1.0), np.array([[0.0], [1.0]]), time_limit=20)
    assert bound.upper == pytest.approx(35 / 3, rel=1e-6)
    assert bound.x is not None and bound.x[0] == pytest.approx(2 / 3, abs=1e-4)
    design = optimal_tax(game, 1.0, certify=True, time_limit=20)
    assert design.status == "optimal" and design.welfare == pytest.approx(35 / 3, rel=1e-9)


def test_a_bound_below_the_verified_design_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted: a global bound that a verified design contradicts never becomes a certificate."""
    game = _game(0, "global")
    honest = optimal_tax(game, 1.0, resolution=11)
    wrong = SecondBestBound(honest.welfare - 1.0, -math.inf, None, None, "optimal", 0.0, 1, True, "planted")
    monkeypatch.setattr(BracketRates, "global_bound", lambda self, *args: wrong)
    design = optimal_tax(game, 1.0, certify=True, resolution=11)
    assert design.upper_bound >= design.welfare
    assert "dropped_global_bound" in design.details
    assert design.status == honest.status  # the first best decides, as without certify


def test_certify_rejects_what_it_cannot_prove() -> None:
    game = _game(0, "global")
    with pytest.raises(InvalidParameterError, match="optimize_thresholds"):
        optimal_tax(game, 1.0, certify=True, optimize_thresholds=True)
    with pytest.raises(InvalidParameterError, match="time_limit"):
        optimal_tax(game, 1.0, certify=True, time_limit=-1.0)
    with pytest.raises(InvalidParameterError, match="certify"):
        optimal_tax(game, 1.0, certify="yes")
    with pytest.raises(CapabilityError, match="commons"):
        second_best_bound(object(), Objective(1.0), BOX)


@pytest.mark.slow
def test_seed_minimum_reaches_the_certified_optimum() -> None:
    """The issue's instance: at p = -inf the certified global optimum is 58.69782 at rates about
    (0, 0.5088, 0); the bound must not fall below it and the design must reach it."""
    design = optimal_tax(scenarios.apple_picking(), -math.inf, certify=True, time_limit=60)
    assert design.welfare >= 58.69782 - 1e-6
    assert design.upper_bound >= 58.69782 - 1e-6
    assert design.upper_bound - design.welfare <= 0.01  # far tighter than the first best (+34)
    assert "global_bound" in design.details
