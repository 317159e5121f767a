"""The Game contract: every game (the commons game and a Cournot game written only for the tests,
which knows nothing of sedtheory's kernels) passes the same tests for solve_equilibrium,
certify, optimal_policy over a one-dimensional policy space, run_sed and learn."""

from __future__ import annotations

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.equilibrium import SOLVERS, applicable_solvers
from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.games import Game
from sedtheory.learning import LEARNERS, applicable_learners, learn
from sedtheory.principal import ParametricPolicy, optimal_policy
from tests.games.cournot import cournot


def _flat_tax(game: sed.CommonsGame, x: np.ndarray) -> sed.CommonsGame:
    return game.with_policy(sed.PiecewiseLinearTax([0.0], [float(x[0])]))


def _commons() -> tuple[Game, ParametricPolicy]:
    game = sed.scenarios.apple_picking()
    game = game.with_policy(sed.PiecewiseLinearTax([0.0], [0.0]))
    return game, ParametricPolicy(_flat_tax, bounds=(0.0, 1.0), names=("rate",))


def _cournot() -> tuple[Game, ParametricPolicy]:
    return cournot(4, seed=1), ParametricPolicy(lambda g, x: g.with_policy(float(x[0])), bounds=(0.0, 2.0))


GAMES = {"commons": _commons, "cournot": _cournot}


def _brute_gap(game: Game, a: np.ndarray, points: int = 2001) -> float:
    """Independent oracle: the best deviation of each agent on a fine grid of its own action."""
    amax = getattr(game, "max_action", getattr(game, "max_harvest", 10.0))
    grid = np.linspace(0.0, amax, points)
    base = game.utilities(a)
    best = 0.0
    for i in range(game.n):
        trial = np.repeat(a[None, :], points, axis=0)
        trial[:, i] = grid
        best = max(best, float(np.max(game.utilities(trial)[:, i] - base[i])))
    return best


@pytest.fixture(params=sorted(GAMES))
def case(request: pytest.FixtureRequest) -> tuple[Game, ParametricPolicy]:
    return GAMES[request.param]()


def test_is_a_game(case: tuple[Game, ParametricPolicy]) -> None:
    game, _ = case
    assert isinstance(game, Game)
    assert "best-response" in applicable_solvers(game)


def test_solve_equilibrium_is_certified(case: tuple[Game, ParametricPolicy]) -> None:
    game, _ = case
    eq = sed.solve_equilibrium(game)
    assert eq.converged and eq.relative_nash_gap <= 1e-9
    assert eq.nash_gap == pytest.approx(sed.nash_gap(game, eq.actions), abs=1e-12)
    assert _brute_gap(game, eq.actions) <= 1e-6 + eq.nash_gap  # no grid deviation does better
    generic = sed.solve_equilibrium(game, method="best-response")
    assert np.allclose(generic.actions, eq.actions, atol=1e-5)


def test_certify_detects_a_planted_non_equilibrium(case: tuple[Game, ParametricPolicy]) -> None:
    game, _ = case
    eq = sed.solve_equilibrium(game)
    bad = eq.actions.copy()
    bad[0] = 0.0 if bad[0] > 1.0 else bad[0] + 1.0
    cert = sed.certify(game, bad)
    assert not cert.converged and cert.nash_gap > 1e-6
    assert cert.nash_gap == pytest.approx(_brute_gap(game, bad), rel=1e-3, abs=1e-5)


def test_optimal_policy_over_one_dimension(case: tuple[Game, ParametricPolicy]) -> None:
    game, space = case
    design = optimal_policy(game, sed.Objective(1.0), space, resolution=41, bound=False)
    assert design.equilibrium.converged and design.x.shape == (1,)
    assert space.bounds[0, 0] <= design.x[0] <= space.bounds[1, 0]
    # Independent check: no policy on a grid of 201 points does better (every point solved exactly).
    xs = np.linspace(space.bounds[0, 0], space.bounds[1, 0], 201)
    best = max(
        sed.Objective(1.0).of_profile(g, sed.solve_equilibrium(g).actions)
        for g in (space.apply(game, [x]) for x in xs)
    )
    assert design.welfare >= best - 1e-7 * max(1.0, abs(best))
    assert design.certificate.lower == design.welfare and design.certificate.status in (
        "optimal",
        "best-found",
    )


def test_run_sed(case: tuple[Game, ParametricPolicy]) -> None:
    game, space = case
    run = sed.run_sed(
        game, rounds=2, rule="borda", candidates=[float("-inf"), 0.0, 1.0], space=space, resolution=21
    )
    assert len(run) == 2 and run["nash_gap"].max() <= 1e-7
    assert set(run["p"]) <= {float("-inf"), 0.0, 1.0}
    assert run.agents.shape == (2 * game.n, 8)


def test_learn_with_every_applicable_learner(case: tuple[Game, ParametricPolicy]) -> None:
    game, _ = case
    names = applicable_learners(game)
    assert "best_response" in names
    for name in names:
        res = learn(game, name, rounds=300, seed=0)
        assert res.actions.shape == (game.n,) and np.all(np.isfinite(res.history.nash_gap))
    res = learn(game, "best_response", rounds=300, seed=0)
    assert res.nash_gap <= 1e-8
    for name in sorted(set(LEARNERS) - set(names)):
        with pytest.raises(CapabilityError, match="capability"):
            learn(game, name, rounds=10)


def test_solvers_refuse_games_they_do_not_apply_to() -> None:
    game, _ = _cournot()
    for name, spec in SOLVERS.items():
        if not spec.applies(game):
            with pytest.raises(CapabilityError, match=spec.capability):
                sed.solve_equilibrium(game, method=name)
    with pytest.raises(InvalidParameterError, match="Game"):
        sed.solve_equilibrium("not a game")  # type: ignore[arg-type]
