"""The dynamic commons: Markov perfect equilibria by backward induction, certified by one-shot
deviations in the true game; checked against the static game and an independent brute force."""

from __future__ import annotations

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.games import Game
from sedtheory.games.dynamic import DynamicCommonsGame, logistic

TAX = sed.PiecewiseLinearTax([0.0, 5.0], [0.1, 0.4])


def _game(
    horizon: int, stock: float, sigma=(0.6, 0.8, 1.0), theta=(10.0, 15.0, 20.0), grid: int = 41, **kw
) -> DynamicCommonsGame:
    soc = sed.Society(list(sigma), list(theta))
    return DynamicCommonsGame(
        soc,
        TAX,
        horizon=horizon,
        discount=0.9,
        initial_stock=stock,
        grid=grid,
        endowment=10.0,
        max_harvest=40.0,
        **kw,
    )


def test_is_a_game_and_solved_by_backward_induction() -> None:
    game = _game(3, 80.0)
    assert isinstance(game, Game)
    assert sed.equilibrium.applicable_solvers(game)[0] == "backward-induction"
    eq = sed.solve_equilibrium(game)
    assert eq.method == "backward-induction" and eq.converged
    assert eq.actions.shape == game.strategy_shape
    assert eq.details["stage_gaps"].shape == (3,)
    assert eq.details["interpolation"].startswith("values: monotone cubic")


def test_horizon_one_is_the_static_game_without_damage() -> None:
    game = _game(1, 80.0)
    eq = sed.solve_equilibrium(game)
    static = sed.solve_equilibrium(
        sed.CommonsGame(game.society, TAX, damage=0.0, endowment=10.0, max_harvest=40.0)
    )
    assert np.allclose(game.path(eq.actions).demands[0], static.actions, rtol=1e-6, atol=1e-6)
    assert np.allclose(eq.utilities, static.utilities, rtol=1e-7)  # demands resolved to ~1e-7


def _tax(y: np.ndarray) -> np.ndarray:
    return 0.1 * np.minimum(y, 5.0) + 0.4 * np.maximum(y - 5.0, 0.0)


THETA = np.array([10.0, 20.0])


def _stage_eq_brute(s: float, value, points: int = 801) -> tuple[np.ndarray, np.ndarray]:
    """Independent oracle: the stage game at stock s for two selfish agents with continuation
    ``value(E) -> (m, 2)`` own payoffs, by damped best responses over a fine demand grid.
    Returns the demands and the own step payoffs."""
    xs = np.linspace(0.0, 40.0, points)
    h = np.zeros(2)
    for _ in range(300):
        new = h.copy()
        for i in range(2):
            d = np.repeat(h[None, :], points, axis=0)
            d[:, i] = xs
            total = d.sum(axis=1)
            lam = np.where(total > s, s / np.where(total > 0, total, 1.0), 1.0)
            y = d * lam[:, None]
            t = _tax(y)
            r = 10.0 + y - t + t.sum(axis=1, keepdims=True) / 2 - y**2 / (2 * THETA)
            u = r[:, i] + 0.9 * value(np.maximum(s - total, 0.0))[:, i]
            new[i] = xs[int(np.argmax(u))]
        if np.allclose(new, h, atol=1e-12):
            break
        h = 0.5 * (h + new)
    total = h.sum()
    y = h * (min(1.0, s / total) if total > 0 else 1.0)
    t = _tax(y)
    return h, 10.0 + y - t + t.sum() / 2 - y**2 / (2 * THETA)


def test_two_steps_against_an_independent_brute_force() -> None:
    game = _game(2, 30.0, sigma=(1.0, 1.0), theta=(10.0, 20.0), grid=321)
    eq = sed.solve_equilibrium(game)
    g = logistic()
    nodes = np.linspace(0.0, 30.0, 151)  # escapements reachable from S_0 = 30
    last = np.array([_stage_eq_brute(float(g(e)), lambda e: np.zeros((e.size, 2)))[1] for e in nodes])

    def value(e: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(e, nodes, last[:, i]) for i in range(2)], axis=1)

    h0, _ = _stage_eq_brute(30.0, value)
    assert np.allclose(game.path(eq.actions).demands[0], h0, atol=0.1)  # the oracle's grid step is 0.05


def test_symmetric_agents_get_the_same_policy() -> None:
    game = _game(3, 60.0, sigma=(0.7, 0.7, 0.7), theta=(15.0, 15.0, 15.0))
    pol = sed.solve_equilibrium(game).actions
    assert np.allclose(pol[..., 0], pol[..., 1], atol=1e-9) and np.allclose(
        pol[..., 1], pol[..., 2], atol=1e-9
    )


def test_the_certificate_catches_a_planted_deviation() -> None:
    game = _game(2, 80.0)
    eq = sed.solve_equilibrium(game)
    bad = eq.actions.copy()
    bad[0, :, 0] = 0.0  # agent 0 harvests nothing in the first step
    cert = sed.certify(game, bad)
    assert not cert.converged and cert.nash_gap > 1e-3
    # the best responses repair it: agent 0's own programme beats the planted policy
    br = game.best_responses(bad)
    fixed = bad.copy()
    fixed[..., 0] = br[..., 0]
    assert game.utilities(fixed)[0] > game.utilities(bad)[0] + 1e-3


def _selfish(n: int, horizon: int) -> DynamicCommonsGame:
    """n selfish agents, no tax, S_0 = 60: the laissez-faire orchard."""
    return DynamicCommonsGame(
        sed.Society([1.0] * n, 40.0),
        sed.PiecewiseLinearTax([0.0], [0.0]),
        horizon=horizon,
        discount=0.9,
        initial_stock=60.0,
        grid=41,
        endowment=50.0,
        max_harvest=40.0,
    )


def test_laissez_faire_collapse_is_visible() -> None:
    game = _selfish(4, horizon=4)
    path = game.path(sed.solve_equilibrium(game).actions)
    assert path.collapsed and path.stocks[1] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"discount": 0.0}, "discount"),
        ({"discount": 1.5}, "discount"),
        ({"initial_stock": -1.0}, "initial_stock"),
        ({"initial_stock": 1e3}, "initial_stock"),
        ({"regrowth": lambda e: e * (100 - e) / 100}, "regrowth"),
        ({"regrowth": lambda e: e + 1}, "regrowth"),
        ({"grid": 3}, "grid"),
        ({"grid": 6}, "grid"),  # cells of 20 > twice the logistic map's sustainable yield 6.25
        ({"grid": 21, "regrowth": "melting_pot"}, "grid"),
        ({"horizon": 0}, "horizon"),
        ({"max_harvest": float("inf")}, "max_harvest"),
        ({"horizon": float("inf"), "discount": 1.0}, "discount"),
        ({"horizon": 2.5}, "horizon"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    base = {"horizon": 2, "discount": 0.9, "initial_stock": 50.0, "grid": 11}
    with pytest.raises(InvalidParameterError) as info:
        DynamicCommonsGame(sed.Society([1.0, 1.0], 10.0), TAX, **{**base, **kwargs})
    assert info.value.field == field


def test_minimal_rate_to_survive_brackets_the_threshold() -> None:
    from sedtheory.principal import minimal_rates_to_survive

    game = _selfish(3, horizon=3)
    res = minimal_rates_to_survive(game, 10.0, tol=0.05)
    assert res.status == "found" and res.rate - res.below <= 0.05
    assert res.stocks[:-1].min() >= 10.0 and res.equilibrium.converged
    below = game.with_policy(sed.PiecewiseLinearTax([0.0], [res.below]))
    assert below.path(sed.solve_equilibrium(below).actions).stocks[:-1].min() < 10.0
    with pytest.raises(InvalidParameterError, match="level"):
        minimal_rates_to_survive(game, 100.0)


def test_infinite_horizon_is_the_limit_of_long_finite_horizons() -> None:
    """Value iteration: stationary strategies (1, G, n) whose policy is the first-step policy of a
    long finite horizon (the discount makes later steps irrelevant), certified in the true game."""
    import math

    def game(horizon: float) -> DynamicCommonsGame:
        soc = sed.Society([0.6, 0.8, 1.0], [10.0, 15.0, 20.0])
        return DynamicCommonsGame(
            soc,
            TAX,
            horizon=horizon,
            discount=0.8,
            initial_stock=80.0,
            grid=41,
            endowment=10.0,
            max_harvest=5.0,
        )

    inf = game(math.inf)
    assert inf.stationary and inf.strategy_shape == (1, 41, 3)
    eq = sed.solve_equilibrium(inf)
    assert eq.converged and eq.details["value_change"] <= 1e-8 * np.abs(eq.details["values"]).max()
    # the solver's stage tolerance: 1e-2 of the game's default relative tolerance (1e-4)
    assert eq.details["stage_gaps"].max() <= 1e-6 * np.abs(eq.details["values"]).max()
    long = game(40)
    finite = sed.solve_equilibrium(long)
    # policies agree to the stage tolerance's resolution (a flat objective fixes a demand only to
    # O(sqrt(tol))); solved to 1e-12 they agree to rounding
    assert np.allclose(eq.actions[0], finite.actions[0], atol=5e-2)
    from sedtheory.equilibrium.dynamic import backward_induction

    tight_inf, tight_long = backward_induction(inf, tol=1e-12), backward_induction(long, tol=1e-12)
    assert np.allclose(tight_inf.policies[0], tight_long.policies[0], atol=1e-8)
    assert np.allclose(inf.payoffs(eq.actions), long.payoffs(finite.actions), rtol=1e-3)  # 0.8^40 ~ 1e-4


def _last_step_gaps(game: DynamicCommonsGame, h: np.ndarray, cont: np.ndarray) -> np.ndarray:
    from sedtheory.games.dynamic.stage import best_replies

    _, best = best_replies(game.stage, game.grid, h, game.grid, cont)
    return np.max(best - game.stage.values(game.grid, h, game.grid, cont), axis=1)


@pytest.mark.parametrize("rate", [0.0, 0.5, 0.9])
def test_orchard_emptying_stage_games_are_solved(rate: float) -> None:
    """The last step (no continuation) at every stock: the grab game where demand exceeds the
    stock, and the rationing kink H = S where the rationed and unrationed wants straddle it."""
    from sedtheory.equilibrium.dynamic import emptying_profiles, stage_equilibria

    rng = np.random.default_rng(1)
    soc = sed.Society([1.0] * 5, rng.uniform(5.0, 15.0, 5))
    game = DynamicCommonsGame(
        soc, sed.PiecewiseLinearTax([0.0], [rate]), horizon=1, grid=81, endowment=1.0, max_harvest=40.0
    )
    cont = np.zeros((game.grid.size, game.n))
    h, gaps, iterations = stage_equilibria(game.stage, game.grid, cont, 1e-9)
    assert np.all(gaps <= 1e-8 * 50) and iterations == 1  # no damped rounds needed
    assert np.all(_last_step_gaps(game, h, cont) <= 1e-7)
    if rate == 0.0:  # exact water-filling: each agent gets min(theta_i, q a_max)
        theta = soc.productivity
        rows = np.nonzero(game.grid < theta.sum())[0][1:]
        start = np.tile(theta, (rows.size, 1))
        h = emptying_profiles(game.stage, game.grid[rows], start, start)
        y = game.stage.outcome(game.grid[rows], h)[0]
        q = y.max(axis=1, keepdims=True) / 40.0
        assert np.allclose(y, np.minimum(theta, np.maximum(q * 40.0, 0.0)), atol=1e-8)
        assert np.allclose(y.sum(axis=1), game.grid[rows], atol=1e-8)


def test_carried_profiles_stay_within_their_bound() -> None:
    """Steps whose profile was carried over (no stage solve) report a bound on their gain that
    a fresh global scan never exceeds; here one stage solve serves most steps."""
    from sedtheory.equilibrium.dynamic import backward_induction

    game = _selfish(4, horizon=8)
    out = backward_induction(game, tol=1e-8)
    assert out.solves < game.horizon
    for t in range(game.horizon):
        cont = out.values[t + 1] @ game.stage.weights.T
        assert np.max(_last_step_gaps(game, out.policies[t], cont)) <= out.stage_gaps[t] + 1e-9


@pytest.mark.slow
def test_value_iteration_stops_when_the_selection_cycles() -> None:
    """Two selfish agents at a flat rate of 0.9: the stage selection flips at some stocks from
    sweep to sweep and the values cycle; the guard stops it and the true game certifies."""
    import math

    game = DynamicCommonsGame(
        sed.Society([1.0, 1.0], 40.0),
        sed.PiecewiseLinearTax([0], [0.9]),
        horizon=math.inf,
        discount=0.9,
        grid=41,
    )
    eq = sed.solve_equilibrium(game, raise_on_failure=False)
    assert eq.converged and eq.iterations < 2000
    assert eq.details["stage_solves"] < 1000


def test_rationed_closed_form_and_chunks_agree_with_the_general_evaluation(monkeypatch) -> None:
    """Selfish weights and a flat tax: the emptied orchard's value in O(1) per candidate equals the
    evaluation with every agent's payoff; chunked best replies equal unchunked ones."""
    from sedtheory.games.dynamic import stage

    rng = np.random.default_rng(0)
    soc = sed.Society([1.0] * 5, rng.uniform(5, 15, 5))
    game = DynamicCommonsGame(
        soc, sed.PiecewiseLinearTax([0], [0.3]), horizon=2, grid=41, endowment=1.0, max_harvest=40.0
    )
    model = game.stage
    assert model.separable
    assert not DynamicCommonsGame(sed.Society([0.5] * 5, 10.0), TAX, horizon=2, grid=41).stage.separable
    cont = rng.uniform(0.0, 10.0, (41, 5))
    stock, demands = rng.uniform(1, 100, 30), rng.uniform(0, 40, (30, 5))
    agent = rng.integers(0, 5, 30)
    others = demands.sum(axis=1) - demands[np.arange(30), agent]
    x = rng.uniform(0, 40, (30, 6)) + np.maximum(stock - others, 0.0)[:, None]
    rows = np.arange(30)
    fast = model._rationed(stock, demands, rows, others, agent, x, cont)
    model.__dict__["separable"] = False  # the general path
    assert np.allclose(fast, model._rationed(stock, demands, rows, others, agent, x, cont), atol=1e-12)
    whole = stage.best_replies(model, game.grid, demands[:1].repeat(41, axis=0), game.grid, cont)
    monkeypatch.setattr(stage, "CHUNK", 500)
    parts = stage.best_replies(model, game.grid, demands[:1].repeat(41, axis=0), game.grid, cont)
    assert np.array_equal(whole[0], parts[0]) and np.array_equal(whole[1], parts[1])


@pytest.mark.parametrize("stock", [0.0, 3.0, 17.5, 60.0])
def test_one_state_outcome_equals_the_batched_one(stock: float) -> None:
    """The environment's one-state shortcut of StageModel.outcome (floats) gives the batched
    numbers: rationed (demands above the stock) and unrationed."""
    model = _game(3, stock).stage
    demands = np.linspace(1.0, 9.0, model.size)
    y, nxt = model.outcome(stock, demands)
    y_b, nxt_b = model.outcome(np.array([stock]), demands[None, :])
    np.testing.assert_allclose(y, y_b[0], rtol=1e-15, atol=1e-15)
    assert float(nxt) == pytest.approx(float(nxt_b[0]), rel=1e-15, abs=1e-15)
