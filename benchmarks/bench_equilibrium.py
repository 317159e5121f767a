"""Equilibrium benchmarks: sedtheory's exact solvers against generic baselines, same run.

Run ``python benchmarks/bench_equilibrium.py`` (``--quick`` for a smoke run). Prints
Markdown tables; the numbers in docs/benchmarks.md come from this script.

Baselines ("written the obvious way"):

* global commons: simultaneous projected gradient ascent on every agent's own utility,
  vectorised with numpy, step ``1 / max_i beta_i``, stopped when the exact relative Nash gap
  is <= 1e-9 (checked every 25 steps) or the time budget runs out;
* local commons: damped simultaneous exact best responses (``method="best-response"``);
* the discretised game (11 harvest levels per agent) solved by pygambit's pure-strategy
  enumeration, next to sedtheory's exact continuous solution of the same game.
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np

import sedtheory as sed
from sedtheory.equilibrium.discrete import gambit_pure_equilibria

RATES = (0.1, 0.3, 0.6)


def global_game(n: int, weighting: str, seed: int = 0) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(20, 60, n), neighbor_weighting=weighting)
    return sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 10, 20], RATES), 2.0 / n, 50.0, 40.0)


def local_game(n: int, seed: int = 0) -> sed.CommonsGame:
    rng = np.random.default_rng(seed)
    graph = nx.fast_gnp_random_graph(n, 10 / (n - 1), seed=seed)
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(20, 60, n), graph=graph)
    return sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 10, 20], RATES), 0.05, 50.0, 40.0, "local")


def relative_gap(game: sed.CommonsGame, a: np.ndarray) -> float:
    return game.nash_gap(a) / max(1.0, float(np.abs(game.utilities(a)).max()))


def projected_gradient(game: sed.CommonsGame, budget: float, tol: float = 1e-9) -> tuple[float, float, int]:
    """Generic baseline: a <- clip(a + eta * du_i/da_i). Returns (seconds, relative gap, steps)."""
    soc = game.society
    sigma, theta, s, n = soc.selfishness, soc.productivity, soc.weight_sums, game.n
    c = game.own_damage_curvature
    eta = 1.0 / float(game.own_curvature.max())
    a = np.zeros(n)
    t0 = time.perf_counter()
    steps, gap = 0, np.inf
    while time.perf_counter() - t0 < budget:
        rate = game.tax.marginal_rate(a)
        grad = sigma * (1 - rate - a / theta) + s * rate / n - c * a.sum()
        a = np.clip(a + eta * grad, 0.0, game.max_harvest)
        steps += 1
        if steps % 25 == 0:
            gap = relative_gap(game, a)
            if gap <= tol:
                break
    return time.perf_counter() - t0, gap, steps


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def bench_global(sizes: list[int], baseline_sizes: set[int], budget: float) -> None:
    print("\n### Global commons (brackets 0/10/20, rates 10/30/60%)\n")
    print("| n | weighting | non-concave agents | sedtheory s | method | rel. gap | baseline s | "
          "baseline rel. gap | baseline steps | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for weighting in ("mean", "sum"):
            game = global_game(n, weighting)
            secs, eq = timed(sed.solve_equilibrium, game)
            nonconcave = int((~game.is_concave).sum())
            if n in baseline_sizes:
                b_secs, b_gap, b_steps = projected_gradient(game, budget)
                speed = f"{b_secs / secs:,.0f}x" + ("" if b_gap <= 1e-9 else " (lower bound)")
                base = f"{b_secs:.2f} | {b_gap:.1e} | {b_steps}"
            else:
                base, speed = "- | - | -", "-"
            print(f"| {n:,} | {weighting} | {nonconcave:,} | {secs:.3f} | {eq.method} | "
                  f"{eq.relative_nash_gap:.1e} | {base} | {speed} |", flush=True)


def bench_local(sizes: list[int], baseline_sizes: set[int]) -> None:
    print("\n### Local commons on Erdos-Renyi graphs (mean degree 10)\n")
    print("| n | sedtheory s | iterations | rel. gap | baseline (damped BR) s | baseline rel. gap | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        game = local_game(n)
        secs, eq = timed(sed.solve_equilibrium, game)
        if n in baseline_sizes:
            b_secs, b_eq = timed(sed.solve_equilibrium, game, method="best-response", max_iter=100,
                                 raise_on_failure=False)
            base = f"{b_secs:.2f} | {b_eq.relative_nash_gap:.1e} | {b_secs / secs:,.0f}x"
        else:
            base = "- | - | -"
        print(f"| {n:,} | {secs:.3f} | {eq.iterations} | {eq.relative_nash_gap:.1e} | {base} |", flush=True)


def bench_gambit(agents: list[int], levels: int) -> None:
    print(f"\n### Discretised game ({levels} harvest levels) with pygambit vs exact continuous\n")
    print("| n | profiles | pygambit build+solve s | pure equilibria on grid | sedtheory exact s | "
          "exact rel. gap |")
    print("|---|---|---|---|---|---|")
    for n in agents:
        rng = np.random.default_rng(n)
        soc = sed.Society(rng.uniform(0, 1, n), 20.0)
        game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 10, 20], RATES), 0.05, 20.0, 30.0)
        g_secs, found = timed(gambit_pure_equilibria, game, levels)
        secs, eq = timed(sed.solve_equilibrium, game)
        print(f"| {n} | {levels ** n:,} | {g_secs:.2f} | {len(found)} | {secs:.4f} | "
              f"{eq.relative_nash_gap:.1e} |", flush=True)
    print(f"| 7 (the seed) | {levels ** 7:,} | out of reach (levels^n) | - | see apple_picking | - |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = parser.parse_args()
    if args.quick:
        bench_global([1000], {1000}, budget=2.0)
        bench_local([500], {500})
        bench_gambit([2, 3], 5)
        return
    bench_global([10**3, 10**4, 10**5, 10**6], {10**3, 10**4}, budget=60.0)
    bench_local([10**3, 10**4, 10**5], {10**3, 10**4})
    bench_gambit([2, 3, 4, 5], 11)


if __name__ == "__main__":
    main()
