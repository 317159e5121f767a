"""Equilibrium benchmarks: sedtheory's exact solvers against generic baselines, same run.

Run ``python benchmarks/bench_equilibrium.py`` (``--quick`` for a smoke run). Prints
Markdown tables; the numbers in docs/benchmarks.md come from this script.

Baselines, each stopped when the exact relative Nash gap is <= 1e-9 or its time budget runs
out (the table shows time / gap reached (time relative to sedtheory)):

* global commons: (1) simultaneous projected gradient ascent on every agent's own utility,
  vectorised with numpy, step ``1 / max_i beta_i``; (2) best-response sweeps in a Python loop,
  each reply by ``scipy.optimize.minimize_scalar`` (what generic tooling does); (3) the same
  loop with sedtheory's exact piecewise replies (O(B) per agent, aggregate kept incrementally);
  (4) damped simultaneous exact best responses vectorised with numpy;
* local commons: damped simultaneous exact best responses (``method="best-response"``);
* the discretised game (11 harvest levels per agent) solved by pygambit's pure-strategy
  enumeration, next to sedtheory's exact continuous solution of the same game.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import networkx as nx
import numpy as np

import sedtheory as sed
from sedtheory.equilibrium.discrete import gambit_pure_equilibria

RATES = (0.1, 0.3, 0.6)


GLOBAL_KINDS = {
    "mean": "sigma ~ U[0.05, 1], 'mean' weighting: every agent concave; brackets 0/10/20 at 10/30/60%, "
    "kappa = 0.02 (many agents bunch at the thresholds)",
    "sum": "sigma ~ U[0, 1], the seed's 'sum' weighting: about half the agents non-concave; same tax",
    "coupled": "sigma ~ U[0.05, 1], 'mean' weighting, flat 30% tax, kappa = 0.1: no bunching "
    "(smooth and concave: the case most favourable to gradient play)",
}


def global_game(n: int, kind: str, seed: int = 0) -> sed.CommonsGame:
    """The instances of :data:`GLOBAL_KINDS`. ``kappa`` is not scaled with ``n``: the aggregate
    feedback stays O(1) or more, as in the apple-picking scenario (``kappa = 0.02``)."""
    rng = np.random.default_rng(seed)
    low = 0.0 if kind == "sum" else 0.05
    weighting = "sum" if kind == "sum" else "mean"
    soc = sed.Society(rng.uniform(low, 1, n), rng.uniform(20, 60, n), neighbor_weighting=weighting)
    if kind == "coupled":
        return sed.CommonsGame(soc, sed.PiecewiseLinearTax([0], [0.3]), 0.1, 50.0, 40.0)
    return sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 10, 20], RATES), 0.02, 50.0, 40.0)


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

    def step(a: np.ndarray) -> np.ndarray:
        rate = game.tax.marginal_rate(a)
        grad = sigma * (1 - rate - a / theta) + s * rate / n - c * a.sum()
        return np.clip(a + eta * grad, 0.0, game.max_harvest)

    return budgeted_iteration(game, step, budget, check_every=25, tol=tol)


def budgeted_iteration(
    game: sed.CommonsGame,
    step: Callable[[np.ndarray], np.ndarray],
    budget: float,
    check_every: int,
    tol: float = 1e-9,
) -> tuple[float, float, int]:
    """Iterate ``a <- step(a)`` from 0 until the exact relative gap (checked every
    ``check_every`` steps) is <= tol or ``budget`` seconds pass. Returns (seconds, gap, steps)."""
    a = np.zeros(game.n)
    t0 = time.perf_counter()
    steps, gap = 0, np.inf
    while time.perf_counter() - t0 < budget:
        a = step(a)
        steps += 1
        if steps % check_every == 0:
            gap = relative_gap(game, a)
            if gap <= tol:
                break
    return time.perf_counter() - t0, gap, steps


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def best_response_baseline(
    game: sed.CommonsGame, budget: float, tol: float = 1e-9
) -> tuple[float, float, int]:
    """Generic baseline 2: damped simultaneous exact best responses a <- (a + BR(a)) / 2."""
    return budgeted_iteration(game, lambda a: 0.5 * (a + game.best_responses(a)), budget, 5, tol)


def python_loop(
    game: sed.CommonsGame, budget: float, reply: Callable[[int, float], float], tol: float = 1e-9
) -> tuple[float, float, int]:
    """Gauss-Seidel sweeps in a Python loop over agents: each agent replaces its action by
    ``reply(i, alpha_i)``, its reply to the current aggregate (kept up to date incrementally)."""
    c, sigma, n = game.own_damage_curvature.tolist(), game.society.selfishness.tolist(), game.n
    a = np.zeros(n)
    total = 0.0
    t0 = time.perf_counter()
    sweeps, gap = 0, np.inf
    while time.perf_counter() - t0 < budget:
        for i in range(n):
            others = total - a[i]
            x = reply(i, sigma[i] - c[i] * others)
            total = others + x
            a[i] = x
            if time.perf_counter() - t0 > budget:
                break
        sweeps += 1
        gap = relative_gap(game, a)
        if gap <= tol:
            break
    return time.perf_counter() - t0, gap, sweeps


def exact_piece_reply(game: sed.CommonsGame) -> Callable[[int, float], float]:
    """Baseline 3's reply: the best of the clipped stationary points of the brackets, O(B)."""
    k, beta = game.own_tax_weight.tolist(), game.own_curvature.tolist()
    lo, hi, rate, base = (x.tolist() for x in game.tax.pieces(game.max_harvest))

    def reply(i: int, alpha: float) -> float:
        best_x, best_v = 0.0, -np.inf
        for b in range(len(lo)):
            lin = alpha - k[i] * rate[b]
            x = min(max(lin / beta[i], lo[b]), hi[b]) if beta[i] > 0 else (hi[b] if lin > 0 else lo[b])
            v = alpha * x - k[i] * (base[b] + rate[b] * (x - lo[b])) - 0.5 * beta[i] * x * x
            if v > best_v:
                best_x, best_v = x, v
        return best_x

    return reply


def scipy_reply(game: sed.CommonsGame) -> Callable[[int, float], float]:
    """Baseline 2's reply, what generic tooling does: ``scipy.optimize.minimize_scalar``."""
    from scipy.optimize import minimize_scalar

    k, beta, tax = game.own_tax_weight, game.own_curvature, game.tax

    def reply(i: int, alpha: float) -> float:
        res = minimize_scalar(
            lambda x: -(alpha * x - k[i] * tax(x) - 0.5 * beta[i] * x * x),
            bounds=(0.0, game.max_harvest),
            method="bounded",
            options={"xatol": 1e-10},
        )
        return float(res.x)

    return reply


def bench_global(sizes: list[int], baseline_sizes: set[int], budget: float) -> None:
    print("\n### Global commons\n")
    for kind, text in GLOBAL_KINDS.items():
        print(f"* `{kind}`: {text}")
    print()
    print(
        "| n | instance | non-concave agents | sedtheory s | method | rel. gap | "
        "proj. gradient s / rel. gap | BR loop, scipy 1-D s / rel. gap | "
        "BR loop, exact pieces s / rel. gap | damped BR (numpy) s / rel. gap |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for weighting in GLOBAL_KINDS:
            game = global_game(n, weighting)
            secs, eq = timed(sed.solve_equilibrium, game)
            nonconcave = int((~game.is_concave).sum())
            if n in baseline_sizes:
                pga = projected_gradient(game, budget)
                runs = [
                    pga,
                    python_loop(game, budget, scipy_reply(game)),
                    python_loop(game, budget, exact_piece_reply(game)),
                    best_response_baseline(game, budget),
                ]
                base = " | ".join(f"{t:.2f} / {g:.1e} ({t / secs:,.0f}x)" for t, g, _ in runs)
            else:
                base = "- | - | - | -"
            print(
                f"| {n:,} | {weighting} | {nonconcave:,} | {secs:.3f} | {eq.method} | "
                f"{eq.relative_nash_gap:.1e} | {base} |",
                flush=True,
            )


def bench_local(sizes: list[int], baseline_sizes: set[int]) -> None:
    print("\n### Local commons on Erdos-Renyi graphs (mean degree 10)\n")
    print(
        "| n | sedtheory s | iterations | rel. gap | baseline (damped BR) s | baseline rel. gap | speed-up |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        game = local_game(n)
        secs, eq = timed(sed.solve_equilibrium, game)
        if n in baseline_sizes:
            b_secs, b_eq = timed(
                sed.solve_equilibrium, game, method="best-response", max_iter=100, raise_on_failure=False
            )
            base = f"{b_secs:.2f} | {b_eq.relative_nash_gap:.1e} | {b_secs / secs:,.0f}x"
        else:
            base = "- | - | -"
        print(f"| {n:,} | {secs:.3f} | {eq.iterations} | {eq.relative_nash_gap:.1e} | {base} |", flush=True)


def bench_gambit(agents: list[int], levels: int) -> None:
    print(f"\n### Discretised game ({levels} harvest levels) with pygambit vs exact continuous\n")
    print(
        "| n | profiles | pygambit build+solve s | pure equilibria on grid | sedtheory exact s | "
        "exact rel. gap |"
    )
    print("|---|---|---|---|---|---|")
    for n in agents:
        rng = np.random.default_rng(n)
        soc = sed.Society(rng.uniform(0, 1, n), 20.0)
        game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0, 10, 20], RATES), 0.05, 20.0, 30.0)
        g_secs, found = timed(gambit_pure_equilibria, game, levels)
        secs, eq = timed(sed.solve_equilibrium, game)
        print(
            f"| {n} | {levels**n:,} | {g_secs:.2f} | {len(found)} | {secs:.4f} | "
            f"{eq.relative_nash_gap:.1e} |",
            flush=True,
        )
    print(f"| 7 (the seed) | {levels**7:,} | out of reach (levels^n) | - | see apple_picking | - |")


def _networkx_society(sigma: np.ndarray, n: int) -> sed.Society:
    return sed.Society(sigma, 40.0, graph=nx.cycle_graph(n))


def bench_society(sizes: list[int]) -> None:
    """Building a ring society: an (m, 2) edge array (vectorised) against networkx (the baseline)."""
    print("\n### Society on a ring: edge array vs networkx\n")
    print("| n | edge array s | networkx graph + Society s | same weights |")
    print("|---|---|---|---|")
    for n in sizes:
        sigma = np.random.default_rng(0).uniform(0, 1, n)
        edges = np.stack([np.arange(n), (np.arange(n) + 1) % n], axis=1)
        t_arr, fast = timed(sed.Society, sigma, 40.0, graph=edges)
        t_nx, slow = timed(_networkx_society, sigma, n)
        same = (fast.weights != slow.weights).nnz == 0
        print(f"| {n:,} | {t_arr:.3f} | {t_nx:.3f} | {same} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--only", choices=["global", "local", "gambit", "society"], help="run one table")
    args = parser.parse_args()
    if args.quick:
        bench_global([1000], {1000}, budget=2.0)
        bench_local([500], {500})
        bench_gambit([2, 3], 5)
        bench_society([1000])
        return
    if args.only in (None, "global"):
        bench_global([10**3, 10**4, 10**5, 10**6], {10**3, 10**4}, budget=30.0)
    if args.only in (None, "local"):
        bench_local([10**3, 10**4, 10**5], {10**3, 10**4})
    if args.only in (None, "gambit"):
        bench_gambit([2, 3, 4, 5], 11)
    if args.only in (None, "society"):
        bench_society([10**4, 10**5, 10**6])


if __name__ == "__main__":
    main()
