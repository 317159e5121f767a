"""The branch and bound on the regimes of the global commons: its bound is above every
equilibrium of a rate grid, it closes on the seed, finds what a bad selection misses, agrees with
SCIP on the same programs, and its linear-program bounds are valid whatever the solver returns."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import sedtheory as sed
from sedtheory import Objective, PiecewiseLinearTax, optimal_tax, scenarios
from sedtheory.principal.branch_bound import _block_bounds, rate_box_bound, regime_bound
from tests.principal.test_regime_forms import random_game

PS = [-math.inf, -1.0, 0.0, 0.5, 1.0, 2.0, math.inf]


def _grid_best(game: sed.CommonsGame, p: float, points: int) -> float:
    """The optimistic second best on a rate grid: the best of ALL equilibria at every point."""
    brackets = game.tax.thresholds.size
    best = -math.inf
    for x in itertools.product(np.linspace(0, 1, points), repeat=brackets):
        found = sed.equilibria(game.with_policy(PiecewiseLinearTax(game.tax.thresholds, np.array(x))))
        best = max(best, float(np.max(found.welfare(p))))
    return best


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("seed", [3, 11])
def test_bound_is_above_every_equilibrium_of_a_rate_grid(seed: int, p: float) -> None:
    game = random_game(seed, 4, 2)
    res = rate_box_bound(game, Objective(p), np.array([[0.0, 0.0], [1.0, 1.0]]), time_limit=30)
    grid = _grid_best(game, p, 9)
    assert res.status == "optimal"
    assert res.upper >= grid - 1e-9 * max(1.0, abs(grid))
    assert res.primal >= grid - 1.01e-6 * max(1.0, abs(grid))  # within the tolerance of the grid
    assert res.upper - res.primal <= 1e-6 * max(1.0, abs(res.primal))
    g = game.with_policy(PiecewiseLinearTax(game.tax.thresholds, res.x))
    assert g.nash_gap(res.actions) <= 1e-9 * max(1.0, float(np.abs(g.utilities(res.actions)).max()))


def test_hand_solved_game() -> None:
    """a = 5 (1 - phi/2), welfare 10 + a - 0.15 a^2: the optimum is phi = 2/3, welfare 35/3."""
    game = sed.CommonsGame(sed.Society([1.0, 1.0], [10.0, 10.0]), PiecewiseLinearTax([0.0], [0.0]),
                           damage=0.1, endowment=10.0, max_harvest=20.0)  # fmt: skip
    res = rate_box_bound(game, Objective(1.0), np.array([[0.0], [1.0]]))
    assert res.status == "optimal"
    assert res.upper >= 35 / 3 - 1e-12
    assert res.upper == pytest.approx(35 / 3, rel=1e-6)
    assert res.x[0] == pytest.approx(2 / 3, abs=1e-3)


@pytest.mark.parametrize("p", [-math.inf, 1.0])
def test_seed_is_certified_and_a_bad_selection_is_beaten(p: float) -> None:
    """Planted: the solver's selection at p = -inf gives 58.49693; the certified optimum is
    58.69782 at rates about (0, 0.5088, 0). Started from the worse design, the branch and bound
    must not certify it: it finds the better equilibrium itself."""
    game = scenarios.apple_picking()
    weak = optimal_tax(game, p, selection="solver")
    start = (weak.x, weak.equilibrium.actions, weak.welfare)
    res = rate_box_bound(game, Objective(p), np.array([[0.0] * 3, [1.0] * 3]), incumbent=start, time_limit=60)
    assert res.status == "optimal"
    target = {-math.inf: 58.69782, 1.0: 79.54545}[p]
    assert res.primal >= target * (1 - 2e-6) and res.upper >= target - 1e-6  # not the weak start
    assert res.upper - res.primal <= 1e-6 * res.primal


def test_optimal_tax_certifies_the_seed_with_the_branch_and_bound() -> None:
    design = optimal_tax(scenarios.apple_picking(), 0.0, certify=True, time_limit=60)
    assert design.status == "optimal"
    assert "branch and bound" in design.certificate.source
    assert design.welfare == pytest.approx(77.953887, abs=1e-5)


@pytest.mark.parametrize("p", [-math.inf, 1.0, math.inf])
def test_agrees_with_scip(p: float) -> None:
    pytest.importorskip("pyscipopt")
    from sedtheory.principal.global_bound import second_best_bound

    game = random_game(5, 3, 2)
    box = np.array([[0.0, 0.0], [1.0, 1.0]])
    ours = rate_box_bound(game, Objective(p), box, time_limit=30)
    scip = second_best_bound(game, Objective(p), box, time_limit=60)
    assert ours.status == "optimal" and scip.status in ("optimal", "gaplimit")
    assert ours.upper >= scip.primal - 1e-7 * max(1.0, abs(scip.primal))
    assert scip.upper >= ours.primal - 1e-6 * max(1.0, abs(ours.primal))
    assert ours.primal == pytest.approx(scip.upper, rel=2e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 4))
def test_block_bounds_are_valid_for_each_block(seed: int, blocks: int, dim: int) -> None:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(blocks, dim))
    a = rng.normal(size=(blocks, 5, dim))
    b = rng.normal(size=(blocks, 5)) + 0.5
    lo, hi = -rng.uniform(0.1, 1, (blocks, dim)), rng.uniform(0.1, 1, (blocks, dim))
    got, _ = _block_bounds(f, a, b, lo, hi)
    for k in range(blocks):
        res = linprog(
            -f[k], A_ub=a[k], b_ub=b[k], bounds=list(zip(lo[k], hi[k], strict=True)), method="highs"
        )
        if res.status == 2:  # infeasible: any bound is valid
            continue
        assert got[k] >= -res.fun - 1e-9
        assert got[k] <= -res.fun + 1e-6 * max(1.0, abs(res.fun))  # and tight


def test_regime_bound_of_a_minimum_uses_the_tie() -> None:
    """Planted: two values crossing at the centre; the minimum's bound is the tie, not a corner."""
    v = (np.ones(2), np.array([[1.0], [-1.0]]), np.zeros((2, 1, 1)))
    assert regime_bound(v, np.full(2, 0.5), -math.inf, np.ones(1)) == pytest.approx(1.0)
    assert regime_bound(v, np.full(2, 0.5), math.inf, np.ones(1)) == pytest.approx(2.0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000), st.integers(1, 5), st.integers(1, 3), st.sampled_from(PS + [-3.0, 0.3, 1.5, 4.0])
)
def test_regime_bound_holds_at_every_offset(seed: int, n: int, dim: int, p: float) -> None:
    """The bounding algebra on its own: random quadratic values (positive on the box), random
    linear conditions; M_p at every feasible offset is below the bound."""
    rng = np.random.default_rng(seed)
    half = rng.uniform(0.01, 0.5, dim)
    g = rng.normal(size=(n, dim))
    h = rng.normal(size=(n, dim, dim))
    h = h + np.swapaxes(h, 1, 2)
    c = 10.0 + np.abs(g) @ half + np.abs(h).sum(axis=(1, 2)) * float(half.max()) ** 2
    rows, limits = rng.normal(size=(3, dim)), rng.uniform(0.0, 0.3, 3)
    w = rng.dirichlet(np.ones(n))
    bound = regime_bound((c, g, h), w, p, half, rows, limits)
    for d in rng.uniform(-1, 1, (200, dim)) * half:
        if np.any(rows @ d > limits):
            continue
        v = c + g @ d + 0.5 * np.einsum("njk,j,k->n", h, d, d)
        assert sed.welfare.pmean(v, p, w) <= bound + 1e-9 * max(1.0, abs(bound))
