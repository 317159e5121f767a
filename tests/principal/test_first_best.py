"""The planner's problem: each formulation against a scipy reference optimum."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.principal import first_best, policy_equilibria
from tests.conftest import random_game

PS = (-math.inf, -2.0, -1.0, 0.0, 0.5, 1.0)


def small_game(seed: int, weighting: str = "sum", n: int = 3) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0.2, 1.0, n), rng.uniform(10, 40, n), neighbor_weighting=weighting)
    tax = sed.PiecewiseLinearTax([0.0, 10.0], [0.2, 0.4])
    return sed.CommonsGame(soc, tax, damage=0.05, endowment=30.0, max_harvest=40.0)


def scipy_first_best(game: sed.CommonsGame, p: float, transfers: str) -> float:
    """Reference: SLSQP on (a, t, s) from several starts (the problem is concave for p <= 1)."""
    n = game.n
    theta = game.society.productivity

    def utilities(z: np.ndarray) -> np.ndarray:
        a, t = z[:n], z[n : 2 * n]
        r = game.endowment + a + t - 0.5 * a * a / theta - game.damages(np.clip(a, 0, None))
        return game.society.apply_weights(r)

    cons = [{"type": "eq", "fun": lambda z: np.array([z[n : 2 * n].sum()])}]
    if transfers == "tax-feasible":
        cons.append({"type": "ineq", "fun": lambda z: z[n : 2 * n] + z[:n]})
        cons.append({"type": "ineq", "fun": lambda z: z[:n].mean() - z[n : 2 * n]})
    if p == -math.inf:
        cons.append({"type": "ineq", "fun": lambda z: utilities(z) - z[-1]})

        def objective(z: np.ndarray) -> float:
            return -z[-1]
    else:

        def objective(z: np.ndarray) -> float:
            u = np.maximum(utilities(z), 1e-9)
            return -sed.pmean(u, p)

    bounds = [(0.0, game.max_harvest)] * n + [(None, None)] * n + [(None, None)]
    best = -math.inf
    rng = np.random.default_rng(0)
    for _ in range(4):
        z0 = np.concatenate([rng.uniform(0, 20, n), np.zeros(n), [0.0]])
        res = minimize(
            objective,
            z0,
            method="SLSQP",
            bounds=bounds,
            constraints=cons,
            options={"maxiter": 500, "ftol": 1e-12},
        )
        if res.success:
            best = max(best, sed.pmean(utilities(res.x), p))
    return best


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("seed", [0, 1])
def test_tax_feasible_matches_scipy(p: float, seed: int) -> None:
    game = small_game(seed)
    fb = first_best(game, p, transfers="tax-feasible")
    assert fb.status == "optimal"
    ref = scipy_first_best(game, p, "tax-feasible")
    assert fb.welfare == pytest.approx(ref, rel=2e-5)
    assert fb.welfare >= ref - 1e-6 * abs(ref)
    assert abs(fb.transfers.sum()) <= 1e-9 * game.n
    assert np.all(fb.transfers >= -fb.actions - 1e-6)
    # The reported utilities are recomputed exactly from the plan.
    r = game.endowment + fb.actions + fb.transfers - 0.5 * fb.actions**2 / game.society.productivity
    np.testing.assert_allclose(fb.payoffs, r - game.damages(fb.actions), atol=1e-9)


@pytest.mark.parametrize("p", PS)
def test_lump_sum_symmetric_complete_graph_matches_scipy(p: float) -> None:
    soc = sed.Society([0.6, 0.6, 0.6], 20.0, neighbor_weighting="mean")
    game = sed.CommonsGame(
        soc, sed.PiecewiseLinearTax([0.0], [0.0]), damage=0.05, endowment=30.0, max_harvest=40.0
    )
    fb = first_best(game, p)
    assert fb.status == "optimal"
    assert fb.welfare == pytest.approx(scipy_first_best(game, p, "lump-sum"), rel=2e-5)
    # Equal column sums: lump sums buy nothing, both transfer models agree.
    assert fb.welfare == pytest.approx(first_best(game, p, transfers="tax-feasible").welfare, rel=1e-6)


def test_planted_unbounded_lump_sums_are_reported() -> None:
    game = sed.scenarios.apple_picking()  # ring, 'sum' weighting: unequal column sums
    for p in (1.0, 0.0, -math.inf):
        fb = first_best(game, p)
        assert fb.status == "unbounded" and fb.welfare == math.inf and fb.actions is None
    assert first_best(game, 1.0, transfers="tax-feasible").status == "optimal"


def test_p_above_one_lump_sum_exact_vertex_method() -> None:
    soc = sed.Society([0.7, 0.8, 0.9], [15.0, 25.0, 35.0], neighbor_weighting="mean")
    game = sed.CommonsGame(
        soc, sed.PiecewiseLinearTax([0.0], [0.0]), damage=0.05, endowment=30.0, max_harvest=40.0
    )
    c = np.linalg.solve(soc.weights.toarray().T, np.ones(3))
    assert np.all(c > 0)  # the simplex case
    for p in (2.0, math.inf):
        fb = first_best(game, p)
        assert fb.status == "optimal"
        assert fb.welfare == pytest.approx(fb.upper_bound, rel=1e-9)
        # Random feasible plans (transfers summing to zero, utilities >= 0) never beat it.
        rng = np.random.default_rng(0)
        n = game.n
        for _ in range(2000):
            a = rng.uniform(0, 40, n)
            t = rng.normal(0, 30, n)
            t -= t.mean()
            r = game.endowment + a + t - 0.5 * a * a / game.society.productivity - game.damages(a)
            u = game.society.apply_weights(r)
            if np.all(u >= 0):
                assert sed.pmean(u, p) <= fb.welfare + 1e-9


def test_p_above_one_tax_feasible_bounds() -> None:
    game = small_game(4)
    fb2 = first_best(game, 2.0, transfers="tax-feasible")
    assert fb2.welfare <= fb2.upper_bound + 1e-9
    assert fb2.status in ("optimal", "bounded")
    fbinf = first_best(game, math.inf, transfers="tax-feasible")
    assert fbinf.status == "optimal" and fbinf.gap <= 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_upper_bound_on_every_tax_policy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = random_game(rng, n=int(rng.integers(3, 8)))
    rates = rng.uniform(0, 1, (200, game.tax.n_brackets))
    batch = policy_equilibria(game, rates)
    for p in (-1.0, 0.5, 1.0, 2.0):
        try:
            fb = first_best(game, p, transfers="tax-feasible")
        except sed.errors.DomainError:
            continue
        w = batch.welfare(p)
        assert np.all(w <= fb.upper_bound + 1e-6 * max(1.0, abs(fb.upper_bound)))


def test_bad_input() -> None:
    game = small_game(0)
    with pytest.raises(InvalidParameterError, match="p"):
        first_best(game, float("nan"))
    with pytest.raises(InvalidParameterError, match="transfers"):
        first_best(game, 1.0, transfers="free")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        first_best(game, 1.0, welfare_of="income")  # type: ignore[arg-type]


@pytest.mark.parametrize("p", [1e-6, 1e-4, 3e-3, -1e-6, -1e-4, -3e-3])
def test_first_best_near_p_zero_is_a_true_bound(p):
    """Planted (issue 16): at p = 1e-6 the direct program returned 74.47 as 'optimal' although the
    truth is ~79.49. M_p is non-decreasing in p, so for p > 0 the bound is at least the p = 0 optimum,
    and for every p the bound is at least the value of the p = 0 plan evaluated at p."""
    from sedtheory import pmean, scenarios

    game = scenarios.apple_picking()
    fb = first_best(game, p, transfers="tax-feasible")
    at_zero = first_best(game, 0.0, transfers="tax-feasible")
    assert fb.upper_bound >= fb.welfare
    assert fb.upper_bound >= pmean(at_zero.utilities, p) - 1e-9
    if p > 0:
        assert fb.upper_bound >= at_zero.upper_bound - 1e-9
    assert fb.status in ("optimal", "bounded")


def test_first_best_for_very_negative_p_is_between_its_neighbours():
    """Issue 16: p = -300 raised a SolverError, [-2000, -500] a misleading DomainError and
    p <= -1e4 a ZeroDivisionError. M_p is non-decreasing in p, so FB_-inf <= FB_p <= FB_-50."""
    import math

    from sedtheory import optimal_tax, scenarios

    game = scenarios.apple_picking()
    low = first_best(game, -math.inf, transfers="tax-feasible")
    high = first_best(game, -50.0, transfers="tax-feasible")
    assert low.status == high.status == "optimal"
    previous = high.upper_bound
    for p in (-60.0, -300.0, -1000.0, -1e4, -1e6):
        fb = first_best(game, p, transfers="tax-feasible")
        # certified: the value is a plan's, the bound the dual's; below -300 the dual bound at the
        # program's plan no longer closes to 1e-6 (M_p's gradient has exponent p - 1), so the
        # honest status is "bounded" there
        assert fb.status == "optimal" if p >= -300 else fb.status in ("optimal", "bounded")
        assert low.welfare - 1e-6 <= fb.welfare <= fb.upper_bound
        assert fb.welfare <= previous + 1e-6 and fb.upper_bound >= low.welfare - 1e-6
        previous = fb.upper_bound
    design = optimal_tax(game, -300.0, resolution=5)
    assert design.welfare <= design.upper_bound
