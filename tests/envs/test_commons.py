"""The dynamic commons environment: PettingZoo's API test, exact agreement with the game, the
learner and the comparison."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from pettingzoo.test import parallel_api_test  # noqa: E402

import sedtheory as sed  # noqa: E402
from sedtheory.envs import DynamicCommonsEnv, compare_dynamic, learn_dynamic  # noqa: E402
from sedtheory.errors import InvalidParameterError  # noqa: E402
from sedtheory.games.dynamic import DynamicCommonsGame  # noqa: E402


def _game(horizon: float = 4, **kw: object) -> DynamicCommonsGame:
    soc = sed.Society([0.7, 1.0, 0.9], [10.0, 20.0, 15.0])  # complete graph
    args = {"discount": 0.9, "initial_stock": 60.0, "grid": 21, "endowment": 3.0, "max_harvest": 30.0}
    return DynamicCommonsGame(
        soc, sed.PiecewiseLinearTax([0.0, 5.0], [0.1, 0.3]), horizon=horizon, **{**args, **kw}
    )


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_parallel_api(mode: str) -> None:
    parallel_api_test(DynamicCommonsEnv(_game(), mode), num_cycles=30)


def test_deterministic_mode_reproduces_the_game_exactly() -> None:
    game = _game()
    eq = sed.solve_equilibrium(game, raise_on_failure=False)
    env = DynamicCommonsEnv(game)
    env.reset(seed=0)
    total, weight, t = np.zeros(game.n), 1.0, 0
    while env.agents:
        demands = game.demands_at(eq.actions, t, np.array(env.stock))
        _, rewards, _, _, _ = env.step({a: [demands[k]] for k, a in enumerate(env.possible_agents)})
        total += weight * np.array([rewards[a] for a in env.possible_agents])
        weight, t = weight * game.discount, t + 1
    assert t == game.horizon
    np.testing.assert_allclose(total, game.utilities(eq.actions), rtol=1e-12, atol=1e-12)


def test_stochastic_mode_is_seeded_and_keeps_stocks_on_cells() -> None:
    game = _game(regrowth="melting_pot", grid=41)
    runs = []
    for _ in range(2):
        env = DynamicCommonsEnv(game, "stochastic", side=10)
        env.reset(seed=3)
        stocks = []
        while env.agents:
            env.step({a: [5.0] for a in env.agents})
            stocks.append(env.stock)
        runs.append(stocks)
    assert runs[0] == runs[1]
    assert all(abs(s - round(s)) < 1e-9 for s in runs[0])  # 100 cells of one apple each


def test_learner_and_comparison() -> None:
    game = _game()
    learned = learn_dynamic(game, rounds=20, seed=1)
    again = learn_dynamic(game, rounds=20, seed=1)
    np.testing.assert_array_equal(learned.params, again.params)
    assert learned.strategies.shape == game.strategy_shape and learned.returns.shape == (20, 3)
    cmp = compare_dynamic(game, 1.0, learned=learned)
    assert set(cmp.welfare) == {"learned", "mpe", "planner"}
    assert cmp.welfare["planner"] >= max(cmp.welfare["learned"], cmp.welfare["mpe"]) - 1e-6
    assert ("did not reach" in cmp.verdict) == (learned.nash_gap > 1e-2 * max(1.0, abs(cmp.welfare["mpe"])))


def test_bad_input() -> None:
    with pytest.raises(InvalidParameterError):
        DynamicCommonsEnv(_game(), mode="chaotic")
    with pytest.raises(InvalidParameterError):
        DynamicCommonsEnv(sed.scenarios.apple_picking())
    env = DynamicCommonsEnv(_game())
    env.reset(seed=0)
    with pytest.raises(InvalidParameterError):
        env.step({"agent_0": [float("nan")]})
