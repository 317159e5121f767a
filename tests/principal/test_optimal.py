"""optimal_tax: at least the seed's grid, at most the first best, certified; brute-force check."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import DomainError, InvalidParameterError
from sedtheory.principal import TaxDesign, grid_search_tax, optimal_tax, policy_equilibria
from tests.conftest import random_game

PS = (-math.inf, -2.0, -1.0, 0.0, 0.5, 1.0, 2.0, math.inf)


def _check(design: TaxDesign, grid_best: float) -> None:
    scale = max(1.0, abs(grid_best))
    assert design.welfare >= grid_best - 1e-9 * scale
    assert design.welfare <= design.upper_bound + 1e-9 * scale
    assert design.equilibrium.nash_gap <= 1e-8
    assert design.equilibrium.converged
    # The reported equilibrium is one of the returned rates (independent exact check).
    game = design.equilibrium.game
    assert game is not None
    np.testing.assert_allclose(game.tax.rates, design.rates)
    assert game.nash_gap(design.equilibrium.actions) <= 1e-8
    assert design.welfare == pytest.approx(sed.pmean(design.equilibrium.utilities, design.p), rel=1e-12)
    assert design.status in ("optimal", "best-found")


@pytest.mark.parametrize("p", PS)
def test_default_scenario_against_the_seed_grid(p: float) -> None:
    game = sed.scenarios.apple_picking()
    design = optimal_tax(game, p)
    grid = grid_search_tax(game, p, engine="batched")
    assert grid.evaluations == 1331
    _check(design, grid.welfare)
    assert math.isfinite(design.upper_bound)
    assert "upper bound" in design.certificate


def test_default_scenario_per_policy_grid_agrees_with_batched() -> None:
    game = sed.scenarios.apple_picking()
    slow = grid_search_tax(game, 1.0, step=0.25)
    fast = grid_search_tax(game, 1.0, step=0.25, engine="batched")
    assert slow.welfare == pytest.approx(fast.welfare, rel=1e-9)
    assert optimal_tax(game, 1.0).welfare >= slow.welfare - 1e-9


@pytest.mark.parametrize("seed", range(10))
def test_random_games(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    game = random_game(rng, n=int(rng.integers(3, 11)))
    for p in PS[seed % 2 :: 2]:  # half of the p values per game keeps the suite fast
        grid = policy_equilibria(game, _grid(game.tax.n_brackets, 11)).welfare(p)
        if not np.isfinite(grid.max()):
            with pytest.raises(DomainError):
                optimal_tax(game, p)
            continue
        _check(optimal_tax(game, p), float(grid.max()))


def _grid(b: int, points: int) -> np.ndarray:
    axes = np.meshgrid(*[np.linspace(0, 1, points)] * b, indexing="ij")
    return np.stack([x.ravel() for x in axes], axis=1)


@pytest.mark.parametrize("seed", range(8))
def test_dense_brute_force_finds_nothing_better(seed: int) -> None:
    """B <= 2: a brute force 4x (B = 1) or 2x (B = 2) finer than the scan finds nothing better."""
    rng = np.random.default_rng(1000 + seed)
    game = random_game(rng, n=int(rng.integers(3, 6)))
    b = min(game.tax.n_brackets, 2)
    game = game.with_tax(sed.PiecewiseLinearTax(game.tax.thresholds[:b], game.tax.rates[:b]))
    brute = policy_equilibria(game, _grid(b, 4001 if b == 1 else 201))
    for p in (-math.inf, 0.0, 1.0, 2.0):
        w = brute.welfare(p)
        if not np.isfinite(w.max()):
            continue
        design = optimal_tax(game, p, bound=False)
        assert design.welfare >= w.max() - 1e-9 * max(1.0, abs(w.max()))


def test_polish_keeps_outcome_and_never_lowers_welfare() -> None:
    game = sed.scenarios.apple_picking()
    raw = optimal_tax(game, 0.0, polish=False, bound=False)
    polished = optimal_tax(game, 0.0, bound=False)
    assert polished.welfare >= raw.welfare - 1e-12
    assert "convex program" in polished.details["polish"]


def test_bounds_restrict_the_rates() -> None:
    game = sed.scenarios.apple_picking()
    design = optimal_tax(game, 1.0, bounds=(0.0, 0.3), bound=False)
    assert np.all(design.rates <= 0.3 + 1e-12)
    per_bracket = optimal_tax(game, 1.0, bounds=[[0.0, 0.1, 0.2], [0.0, 0.5, 0.2]], bound=False)
    assert per_bracket.rates[0] == 0.0 and per_bracket.rates[2] == pytest.approx(0.2)


def test_optimize_thresholds_never_worse() -> None:
    soc = sed.Society([0.2, 0.5, 0.9], [20.0, 30.0, 40.0])
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0.0, 10.0], [0.0, 0.0]), 0.05, 30.0, 40.0)
    fixed = optimal_tax(game, 0.0, bound=False)
    moved = optimal_tax(game, 0.0, optimize_thresholds=True, bound=False, resolution=11)
    assert moved.welfare >= fixed.welfare - 1e-6
    assert moved.tax.thresholds[0] == 0.0 and moved.tax.thresholds[1] > 0


def test_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    with pytest.raises(InvalidParameterError, match="p"):
        optimal_tax(game, float("nan"))
    with pytest.raises(InvalidParameterError, match="bounds"):
        optimal_tax(game, 1.0, bounds=(0.0, 2.0))
    with pytest.raises(InvalidParameterError, match="bounds"):
        optimal_tax(game, 1.0, bounds=(-0.5, 1.0))
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        optimal_tax(game, 1.0, welfare_of="income")  # type: ignore[arg-type]
    # Agent 2 has sigma = 0 and no neighbours: its utility is 0 under every policy.
    soc = sed.Society([0.5, 0.8, 0.0], 20.0, graph=_with_isolated(), neighbor_weighting="mean")
    zero = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0.0], [0.0]), 0.02, 10.0, 40.0)
    with pytest.raises(DomainError, match=r"agents \[2\].*omega"):
        optimal_tax(zero, 0.0)


def _with_isolated() -> nx.Graph:
    g = nx.path_graph(2)
    g.add_node(2)
    return g


def test_progress_is_quiet_by_default_and_shows_stages_when_asked(capsys):
    """Issue 16: long searches printed nothing; the library stays quiet unless asked."""
    from sedtheory import optimal_tax, scenarios

    game = scenarios.apple_picking()
    optimal_tax(game, 1.0, resolution=5, bound=False)
    assert capsys.readouterr().err == ""
    optimal_tax(game, 1.0, resolution=5, bound=False, progress=True)
    err = capsys.readouterr().err
    assert "optimal policy" in err and "scan" in err


@pytest.mark.parametrize("p", [-1e6, -1e4, -500.0, -1e-300, 1e-300, 1e-3, 1e6])
def test_every_p_pmean_accepts_works_in_optimal_tax(p):
    """Issue 16: p = -300 raised, [-2000, -500] raised a misleading DomainError, p <= -1e4 a
    ZeroDivisionError, and p = +-1e-300 ended 2 % below the p = 0 design. M_p is continuous and
    monotone in p: each design lies between the p = -inf and p = +inf designs' welfare bounds."""
    import math

    from sedtheory import optimal_tax, scenarios

    game = scenarios.apple_picking()
    design = optimal_tax(game, p, resolution=5)
    assert design.welfare <= design.upper_bound
    if abs(p) < 1e-2:
        at_zero = optimal_tax(game, 0.0, resolution=5)
        assert design.welfare == pytest.approx(at_zero.welfare, rel=1e-3)
    assert optimal_tax(game, -math.inf, resolution=5).welfare - 1e-9 <= design.welfare


def test_a_trial_policy_whose_solver_fails_is_skipped_and_counted(monkeypatch):
    """Issue 16: one uncertified trial policy (a local commons on a star) aborted the whole
    optimal_tax. Planted: the per-policy solver fails for every policy with a top rate above 0.9."""
    import importlib

    import networkx as nx
    import numpy as np

    import sedtheory as sed
    from sedtheory.errors import EquilibriumNotFoundError

    batch = importlib.import_module("sedtheory.equilibrium.batch")
    real = batch.solve_equilibrium

    def flaky(game, *args, **kwargs):
        if game.tax.rates[-1] > 0.9:
            raise EquilibriumNotFoundError("planted failure", "planted")
        return real(game, *args, **kwargs)

    monkeypatch.setattr(batch, "solve_equilibrium", flaky)
    rng = np.random.default_rng(0)
    society = sed.Society(rng.uniform(0, 1, 6), rng.uniform(5, 40, 6), graph=nx.star_graph(5))
    game = sed.CommonsGame(
        society,
        sed.PiecewiseLinearTax([0, 10, 20], [0, 0, 0]),
        damage=0.05,
        endowment=50.0,
        max_harvest=40.0,
        commons="local",
    )
    design = optimal_tax(game, 1.0, resolution=5, bound=False)
    assert design.details["uncertified"] > 0
    assert design.rates[-1] <= 0.9 and design.equilibrium.converged


def test_warm_start_searches_from_the_given_rates():
    game = sed.scenarios.apple_picking()
    cold = optimal_tax(game, 0.0)
    warm = optimal_tax(game, 0.0, start=cold.x, start_step=0.01)
    assert warm.welfare >= cold.welfare - 1e-9 * abs(cold.welfare)
    assert warm.details["scan_size"] == 1
    with pytest.raises(sed.errors.InvalidParameterError, match="start"):
        optimal_tax(game, 0.0, start=[0.5, 0.5])
    with pytest.raises(sed.errors.InvalidParameterError, match="start"):
        optimal_tax(game, 0.0, start=[0.5, 0.5, 1.5])
    with pytest.raises(sed.errors.InvalidParameterError, match="start_step"):
        optimal_tax(game, 0.0, start=cold.x, start_step=0.0)
