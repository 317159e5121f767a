"""Dynamic-commons benchmarks: sedtheory's backward induction against a plain loop, same run.

Run ``python benchmarks/bench_dynamic.py`` (``--quick`` for a smoke run). Prints Markdown tables;
the numbers in docs/benchmarks.md come from this script.

* Backward induction: ``sedtheory.equilibrium.dynamic.backward_induction`` (aggregate roots
  vectorised over the grid, global-scan check, damped best responses where needed) against a
  plain backward-induction loop over grid points and agents, each agent's reply by a 401-point
  scan of its own demand (vectorised over the candidates only), damped best responses at each
  grid point until the stage gain is below 1e-7 or 200 rounds.
* ``horizon=inf`` (value iteration to 1e-8), and the environment's agent-steps per second.
* Large societies of a few types (10 productivity classes): the type model (one policy per type,
  :mod:`sedtheory.games.dynamic.symmetry`) against the every-agent model of the same society
  (an explicit complete graph, so nothing is grouped), ``solve_equilibrium`` with its certificate.
* Taxed MPE: the true-game certificate for flat rates 0.1..0.6, and grid refinement at 0.3;
  how many of 40 random small games are certified.
* Grid refinement: the first harvest on the MPE path for 41..321 grid points.
"""

from __future__ import annotations

import argparse
import math
import time

import networkx as nx
import numpy as np

import sedtheory as sed
from sedtheory.envs import DynamicCommonsEnv
from sedtheory.equilibrium.dynamic import backward_induction
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.games.dynamic.stage import interpolate


def _game(n: int, horizon: float, grid: int, rate: float = 0.0) -> DynamicCommonsGame:
    rng = np.random.default_rng(0)
    soc = sed.Society([1.0] * n, rng.uniform(5.0, 15.0, n) * 7.0 / n)
    tax = sed.PiecewiseLinearTax([0.0], [rate])
    return DynamicCommonsGame(
        soc, tax, horizon=horizon, discount=0.95, grid=grid, endowment=1.0, max_harvest=40.0
    )


def plain_loop(game: DynamicCommonsGame, budget: float) -> tuple[float, int]:
    """Backward induction with Python loops over steps, grid points and agents; returns (seconds,
    steps done within the budget)."""
    model, grid = game.stage, game.grid
    n, start = game.n, time.perf_counter()
    values = np.zeros((grid.size, n))
    xs = np.linspace(0.0, game.max_harvest, 401)
    done = 0
    for _t in range(game.strategy_shape[0] - 1, -1, -1):
        cont = values @ model.weights.T
        policy = np.zeros((grid.size, n))
        for g, stock in enumerate(grid):
            h = np.zeros(n)
            for _ in range(200):
                gain = 0.0
                for i in range(n):
                    trial = np.repeat(h[None, :], xs.size, axis=0)
                    trial[:, i] = xs
                    v = model.values(np.full(xs.size, stock), trial, grid, cont)[:, i]
                    here = model.values(np.array([stock]), h[None, :], grid, cont)[0, i]
                    gain = max(gain, float(v.max() - here))
                    h[i] += 0.5 * (xs[int(np.argmax(v))] - h[i])
                if gain < 1e-7:
                    break
            policy[g] = h
            if time.perf_counter() - start > budget:
                return time.perf_counter() - start, done
        y, nxt = model.outcome(grid, policy)
        values = model.payoffs(y) + model.beta * interpolate(grid, values, nxt)
        done += 1
    return time.perf_counter() - start, done


def environment_rates(n: int, episodes: int = 7) -> list[float]:
    """Agent-steps per second of the deterministic environment, one number per 2,000-step episode
    (after one warm-up episode)."""
    env = DynamicCommonsEnv(_game(n, 2000, 21))
    actions = {a: [21.0 / n] for a in env.possible_agents}
    rates = []
    for _ in range(episodes + 1):
        env.reset(seed=0)
        t0, steps = time.perf_counter(), 0
        while env.agents:
            env.step(actions)
            steps += 1
        rates.append(steps * n / (time.perf_counter() - t0))
    return rates[1:]


def _typed(n: int, sigma: float, rate: float, grouped: bool, horizon: int = 100) -> DynamicCommonsGame:
    """``n`` agents in 10 productivity classes, all with selfishness ``sigma``."""
    theta = np.repeat(np.linspace(5.0, 15.0, 10), n // 10) * 7.0 / n
    graph = None if grouped else nx.complete_graph(n)
    soc = sed.Society(np.full(n, sigma), theta, graph=graph)
    tax = sed.PiecewiseLinearTax([0.0], [rate])
    return DynamicCommonsGame(
        soc, tax, horizon=horizon, discount=0.95, grid=201, endowment=1.0, max_harvest=40.0
    )


def large_societies(quick: bool) -> None:
    print("\n| n | selfishness | flat rate | grouped into types (s) | Nash gap | every agent (s) |")
    print("|---|---|---|---|---|---|")
    cases = (
        [(100, 1.0, 0.0)]
        if quick
        else [(1000, 1.0, 0.0), (1000, 0.5, 0.0), (10_000, 1.0, 0.0), (10_000, 1.0, 0.3), (10_000, 0.5, 0.0)]
    )
    for n, sigma, rate in cases:
        horizon = 5 if quick else 100
        t0 = time.perf_counter()
        eq = sed.solve_equilibrium(_typed(n, sigma, rate, True, horizon))
        ours = time.perf_counter() - t0
        if n <= 1000:
            t0 = time.perf_counter()
            sed.solve_equilibrium(_typed(n, sigma, rate, False, horizon), raise_on_failure=False)
            every = f"{time.perf_counter() - t0:.1f}"
        else:
            every = "refused: dense W has 1e8 entries"
        print(f"| {n} | {sigma} | {rate} | {ours:.1f} | {eq.nash_gap:.1e} | {every} |")


def seed_taxes(quick: bool) -> None:
    """The seed society (``scenarios.apple_picking``), ``T = 100``, 201 points: backward induction
    and the true-game certificate for laissez-faire and four taxes on its brackets."""
    seed = sed.scenarios.apple_picking()
    print("\n| seed society: rates | backward induction (s) | stage solves | Nash gap |")
    print("|---|---|---|---|")
    rates = [[0.0] * 3] if quick else [[0.0] * 3, [0.3] * 3, [0.5] * 3, [0.1, 0.3, 0.5], [0.2, 0.5, 0.8]]
    for r in rates:
        tax = sed.PiecewiseLinearTax(seed.tax.thresholds, r)
        game = DynamicCommonsGame(
            seed.society,
            tax,
            horizon=5 if quick else 100,
            discount=0.95,
            grid=41 if quick else 201,
            max_harvest=40.0,
        )
        t0 = time.perf_counter()
        out = backward_induction(game, tol=1e-6)
        took = time.perf_counter() - t0
        eq = sed.solve_equilibrium(game, raise_on_failure=False)
        print(f"| {r} | {took:.2f} | {out.solves} | {eq.nash_gap:.1e} |", flush=True)


def certification(quick: bool) -> None:
    """The true-game certificate of taxed MPE: ``solve_equilibrium`` (backward induction plus
    one-shot deviations along the path with simulated continuations) on the benchmark's society,
    ``T = 20``, 201 grid points, for flat rates up to 0.6; and the first step's total harvest as
    the grid is refined at a flat rate of 0.3."""
    print("\n| flat rate | converged | Nash gap (true game) | largest stage gap | seconds |")
    print("|---|---|---|---|---|")
    for rate in (0.3,) if quick else (0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6):
        game = _game(3 if quick else 7, 5 if quick else 20, 41 if quick else 201, rate)
        t0 = time.perf_counter()
        eq = sed.solve_equilibrium(game, raise_on_failure=False)
        took = time.perf_counter() - t0
        stage = float(eq.details["stage_gaps"].max())
        print(f"| {rate} | {eq.converged} | {eq.nash_gap:.1e} | {stage:.1e} | {took:.1f} |")
    print("\n| grid points (flat rate 0.3) | converged | first step's total harvest |")
    print("|---|---|---|")
    for points in (41, 81) if quick else (51, 101, 201, 401, 801):
        game = _game(3 if quick else 7, 5 if quick else 20, points, 0.3)
        eq = sed.solve_equilibrium(game, raise_on_failure=False)
        print(f"| {points} | {eq.converged} | {game.path(eq.actions).harvests[0].sum():.6f} |")


def random_games(count: int) -> None:
    """Certificates on ``count`` random small dynamic games (2-5 agents, selfishness 1 or 0.7,
    3-8 steps, flat rates 0-0.5, grids of 41-201 points; seed 123): how many
    ``solve_equilibrium`` certifies in the true game, and the median relative Nash gap."""
    rng = np.random.default_rng(123)
    certified, gaps, t0 = 0, [], time.perf_counter()
    for _ in range(count):
        n, horizon = int(rng.integers(2, 6)), int(rng.integers(3, 9))
        rate, points = float(rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])), int(rng.choice([41, 81, 161, 201]))
        theta, sigma = rng.uniform(5.0, 15.0, n) * 7.0 / n, rng.choice([1.0, 0.7], n)
        game = DynamicCommonsGame(
            sed.Society(sigma, theta),
            sed.PiecewiseLinearTax([0.0], [rate]),
            horizon=horizon,
            discount=0.95,
            grid=points,
            endowment=1.0,
            max_harvest=40.0,
        )
        eq = sed.solve_equilibrium(game, raise_on_failure=False)
        certified += bool(eq.converged)
        gaps.append(eq.nash_gap / max(1.0, float(np.abs(game.utilities(eq.actions)).max())))
    print(
        f"\nrandom small games: {certified} of {count} certified, median relative Nash gap "
        f"{np.median(gaps):.1e}, {time.perf_counter() - t0:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    cases = (
        [(7, 10, 101, 0.0), (7, 100, 201, 0.0), (7, 100, 201, 0.3), (7, 20, 201, 0.5), (7, 100, 201, 0.5)]
        if not quick
        else [(3, 3, 21, 0.0)]
    )
    print(
        "| n | T | grid | flat rate | sedtheory (s) | stage solves | largest stage gap "
        "| plain loop (s, steps done) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n, horizon, points, rate in cases:
        game = _game(n, horizon, points, rate)
        t0 = time.perf_counter()
        out = backward_induction(game, tol=1e-6)
        ours = time.perf_counter() - t0
        base, steps = plain_loop(game, budget=60.0 if not quick else 5.0)
        gap = out.stage_gaps.max()
        print(
            f"| {n} | {horizon} | {points} | {rate} | {ours:.2f} | {out.solves} | {gap:.1e} | "
            f"{base:.1f} ({steps}/{horizon}) |"
        )
    seed_taxes(quick)
    for rate, points in ((0.0, 41 if quick else 201), (0.5, 41)):
        game = _game(3 if quick else 7, math.inf, points, rate)
        t0 = time.perf_counter()
        out = backward_induction(game, tol=1e-6)
        took = time.perf_counter() - t0
        print(
            f"horizon=inf, rate {rate}, grid {game.grid.size}: {took:.2f} s, value change {out.change:.1e}, ",
            end="",
        )
        print(f"stage gap {out.stage_gaps.max():.1e}, {out.solves} stage solves")
    for n in (7, 100):
        rates = environment_rates(n)
        print(
            f"environment (deterministic, n = {n}): {np.median(rates):,.0f} agent-steps per second "
            f"(median of {len(rates)} episodes of 2,000 steps; slowest {min(rates):,.0f}, "
            f"fastest {max(rates):,.0f})"
        )
    certification(quick)
    random_games(3 if quick else 40)
    large_societies(quick)
    print("\n| grid points | first-step demand of agent 0 on the MPE path |")
    print("|---|---|")
    for points in (41, 81, 161) if quick else (41, 81, 161, 321):
        game = _game(3, 5, points)
        out = backward_induction(game)
        print(f"| {points} | {game.demands_at(out.policies, 0, np.array(game.initial_stock))[0]:.6f} |")


if __name__ == "__main__":
    main()
