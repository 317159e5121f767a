"""Agent learners against the analytic equilibrium; the registry; CCE of Hedge; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.families import make_game
from sedtheory.learning import LEARNERS, StageModel, cce_gaps, learn
from tests.conftest import random_game


def _concave_games(count: int, seed: int) -> list[sed.CommonsGame]:
    """Random concave games (progressive taxes; global and local commons) with a unique equilibrium."""
    rng = np.random.default_rng(seed)
    games: list[sed.CommonsGame] = []
    while len(games) < count:
        commons = "global" if len(games) % 2 == 0 else "local"
        g = random_game(rng, commons, family="erdos-renyi" if commons == "local" else None, progressive=True)
        if (
            g.is_concave.all()
            and np.all(g.society.selfishness > 0)
            and np.isfinite(g.society.productivity).all()
        ):
            games.append(g)
    return games


@pytest.mark.parametrize("learner, rounds", [("gradient", 4000), ("best_response", 600)])
def test_gradient_and_best_response_converge_on_concave_games(learner: str, rounds: int) -> None:
    for game in _concave_games(12, 3) + [
        make_game(30, "watts_strogatz", "bimodal", seed=2, rates=(0.1, 0.3, 0.6))
    ]:
        eq = sed.solve_equilibrium(game)
        res = learn(game, learner, rounds, seed=0)
        assert np.abs(res.actions - eq.actions).max() <= 1e-3, (learner, game)
        assert res.nash_gap <= 1e-6 * max(1.0, np.abs(eq.utilities).max())


def test_gradient_settles_on_a_bracket_threshold() -> None:
    """Bunching: the seed scenario under (0.1, 0.3, 0.6) has an agent exactly at a threshold; the
    proximal step lands on it, the plain subgradient step keeps oscillating around it."""
    game = sed.scenarios.apple_picking(rates=(0.1, 0.3, 0.6))
    eq = sed.solve_equilibrium(game)
    assert np.any(np.isclose(eq.actions[:, None], game.tax.thresholds[None, 1:]))
    prox = learn(game, "gradient", 2000)
    plain = learn(game, "gradient", 2000, prox=False)
    assert np.abs(prox.actions - eq.actions).max() <= 1e-9
    assert np.abs(plain.actions - eq.actions).max() > 1e-3


def test_hedge_time_average_is_an_approximate_cce() -> None:
    """The exact CCE gap of Hedge's empirical play (continuous deviations, computed from the history
    alone) equals the grid regret / T plus the grid's discretisation error, agent by agent; the
    regret stays under the Hedge bound and regret / T shrinks with T."""
    game = sed.scenarios.apple_picking(rates=(0.1, 0.3, 0.6))
    per_t = []
    for rounds in (300, 3000):
        res = learn(game, "hedge", rounds, seed=4)
        model = StageModel(game)
        played = res.history.actions
        gaps = cce_gaps(model, played)
        alpha_bar = model.intercepts(played).mean(axis=0)
        grid = res.details["grid"]
        on_grid = model.own(np.broadcast_to(grid[:, None], (grid.size, game.n)), alpha_bar).max(axis=0)
        exact = model.own(model.best_replies(alpha_bar), alpha_bar)
        regret = res.details["regret"]
        np.testing.assert_allclose(gaps, (exact - on_grid) + regret / rounds, rtol=1e-9, atol=1e-9)
        assert res.cce_gap == pytest.approx(gaps.max())
        # Expected regret <= R sqrt(T ln G / 2); the realised one adds the sampling deviation
        # (Azuma: R sqrt(2 T ln(n / delta)), delta = 1e-6).
        slack = res.details["range"] * math.sqrt(2 * rounds * math.log(game.n / 1e-6))
        assert np.all(regret <= res.details["regret_bound"] + slack)
        per_t.append(float((regret / rounds).max()))
    assert per_t[1] < 0.6 * per_t[0]


def test_cce_gap_detects_a_profile_that_is_not_an_equilibrium() -> None:
    """Planted: everyone playing 0 forever is not a CCE (gap = the best deviation's gain); the
    equilibrium played forever is one (gap 0)."""
    game = sed.scenarios.apple_picking()
    model = StageModel(game)
    eq = sed.solve_equilibrium(game)
    zeros = np.zeros((50, game.n))
    assert cce_gaps(model, zeros).max() == pytest.approx(game.nash_gap(np.zeros(game.n)), rel=1e-12)
    assert cce_gaps(model, zeros).max() > 1.0
    assert cce_gaps(model, np.tile(eq.actions, (50, 1))).max() <= 1e-12


def test_policy_gradient_within_documented_tolerance() -> None:
    """Bandit feedback only: the policy mean gets within 5 % of the harvest cap of the equilibrium in
    2e4 rounds (documented tolerance), on the seed scenario and a concave random game."""
    games = [sed.scenarios.apple_picking(rates=(0.1, 0.3, 0.6)), make_game(8, "ring", "uniform", seed=3)]
    for game in games:
        eq = sed.solve_equilibrium(game)
        res = learn(game, "policy_gradient", 20000, seed=1, record_every=50)
        assert np.abs(res.actions - eq.actions).max() <= 0.05 * game.max_harvest


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_every_registered_learner(name: str) -> None:
    """One loop over the registry: metadata, shapes, bounds, reproducibility, exact history gaps."""
    spec = LEARNERS[name]
    assert spec.feedback in {"gradient", "full-information", "bandit"}
    assert spec.action_space in {"continuous", "grid"}
    game = make_game(6, "star", "uniform", seed=5, rates=(0.2, 0.4, 0.5))
    a = learn(game, name, 120, seed=9, record_every=7)
    b = learn(game, name, 120, seed=9, record_every=7)
    np.testing.assert_array_equal(a.history.actions, b.history.actions)
    assert a.history.actions.shape == (len(range(0, 120, 7)), game.n)
    assert np.all((a.history.actions >= 0) & (a.history.actions <= game.max_harvest))
    assert np.all((a.actions >= 0) & (a.actions <= game.max_harvest))
    for row in (0, 5, -1):
        acts = a.history.actions[row]
        assert a.history.nash_gap[row] == pytest.approx(game.nash_gap(acts), rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(a.history.utilities[row], game.utilities(acts), rtol=1e-12)
    frame = a.history.to_frame()
    assert len(frame) == a.history.actions.size
    with pytest.raises(InvalidParameterError, match="accepts"):
        learn(game, name, 10, not_an_option=1)


def test_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    with pytest.raises(InvalidParameterError, match="registered learners"):
        learn(game, "ppo", 10)
    with pytest.raises(InvalidParameterError, match="rounds"):
        learn(game, "gradient", 0)
    with pytest.raises(InvalidParameterError, match="record_every"):
        learn(game, "gradient", 10, record_every=0)
    with pytest.raises(InvalidParameterError, match="lr"):
        learn(game, "gradient", 10, lr=-1.0)
    with pytest.raises(InvalidParameterError, match="damping"):
        learn(game, "best_response", 10, damping=0.0)
    with pytest.raises(InvalidParameterError, match="grid"):
        learn(game, "hedge", 10, grid=1)
    with pytest.raises(InvalidParameterError, match="game"):
        learn("apple-picking", "gradient", 10)  # type: ignore[arg-type]
    with pytest.raises(sed.errors.ActionError):
        learn(game, "gradient", 10, initial=np.full(game.n, 100.0))


def test_aliases_and_history_mapping() -> None:
    game = make_game(5, "ring", "uniform", seed=0)
    res = learn(game, "reinforce", 20, seed=0)
    assert res.learner == "policy_gradient"
    np.testing.assert_array_equal(res.history["nash_gap"], res.history.nash_gap)
    with pytest.raises(KeyError):
        res.history["regret"]
    assert learn(game, "projected_gradient", 5).learner == "gradient"


def test_hedge_with_unbounded_max_harvest_uses_the_reply_bounds():
    """Issue 16: max_harvest=inf gave a NaN grid and a misleading ActionError."""
    import numpy as np

    import sedtheory as sed
    from sedtheory.learning.play import learn

    seed_game = sed.scenarios.apple_picking()
    game = sed.CommonsGame(
        seed_game.society, seed_game.tax, damage=0.02, endowment=50.0, max_harvest=float("inf")
    )
    result = learn(game, "hedge", rounds=100, seed=0)
    assert np.all(np.isfinite(result.actions)) and np.all(result.actions >= 0)
    assert np.all(result.actions <= game.reply_upper_bounds.max() + 1e-9)
