"""The principal's problem: optimal_tax against the seed's grid principal (same run).

Run ``python benchmarks/bench_principal.py`` (long: the seven-bracket rows of 10^5 agents take
2-3 minutes per p, each global-certificate row up to twice its 120 s time limit); ``--quick``
for a smoke test.
Baseline: ``grid_search_tax`` with the seed's 1331 policies, each equilibrium solved and
certified on its own (``engine="per-policy"``, how the seed's principal evaluates a policy),
and the same grid vectorised (``engine="batched"``).

Equilibrium selection (issue 15): ``optimal_tax`` with ``selection="solver"`` and the optimistic
default against a brute force of the optimistic objective on a 31^3 rate grid (every policy
evaluated at the best of its solver's and extreme equilibria, batched), and the certified global
optima that issue 15 reports from SCIP.
"""

from __future__ import annotations

import argparse
import math
import time

import networkx as nx
import numpy as np

import sedtheory as sed
from sedtheory.principal import first_best, grid_search_tax, optimal_tax
from sedtheory.principal.branch_bound import rate_box_bound

PS = (-math.inf, -2.0, -1.0, 0.0, 0.5, 1.0, 2.0, math.inf)


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def bench_default(ps: tuple[float, ...], step: float) -> None:
    game = sed.scenarios.apple_picking()
    print("\n### Default scenario (7 agents, B = 3)\n")
    print(
        "| p | optimal_tax s | welfare | rates | upper bound (first best) | grid per-policy s | "
        "grid welfare | speed-up | grid batched s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for p in ps:
        t_opt, design = timed(optimal_tax, game, p)
        t_grid, grid = timed(grid_search_tax, game, p, step)
        t_fast, _ = timed(grid_search_tax, game, p, step, engine="batched")
        rates = ", ".join(f"{r:.3f}" for r in design.rates)
        print(
            f"| {p:g} | {t_opt:.2f} | {design.welfare:.4f} | ({rates}) | {design.upper_bound:.4f} | "
            f"{t_grid:.2f} | {grid.welfare:.4f} | {t_grid / t_opt:.0f}x | {t_fast:.2f} |",
            flush=True,
        )


#: Issue 15's certified global optima of the seed (SCIP 10 on the MINLP reformulation).
CERTIFIED = {-math.inf: 58.69782}


def bench_selection(ps: tuple[float, ...], points: int) -> None:
    from sedtheory.principal import BracketRates
    from sedtheory.principal.search import grid
    from sedtheory.principal.selection import selected_evaluations

    game = sed.scenarios.apple_picking()
    space = BracketRates().for_game(game)
    box = grid(np.zeros(3), np.ones(3), points)
    print(
        f"\n### Equilibrium selection on the seed (brute force: optimistic objective on {points}^3 rates)\n"
    )
    print(
        "| p | solver s | solver welfare | optimistic s | optimistic welfare | rates | equilibria | "
        "brute force s | brute force welfare | certified optimum (SCIP) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in ps:
        t_s, solver = timed(optimal_tax, game, p, selection="solver")
        t_o, best = timed(optimal_tax, game, p)
        obj = sed.Objective(p)
        t_b, (ev, _) = timed(selected_evaluations, space, game, box, obj, "optimistic")
        brute = float(np.max(ev.welfare(obj)))
        rates = ", ".join(f"{r:.6f}" for r in best.rates)
        known = CERTIFIED.get(p)
        print(
            f"| {p:g} | {t_s:.2f} | {solver.welfare:.5f} | {t_o:.2f} | {best.welfare:.5f} | ({rates}) | "
            f"{best.equilibria_found}{'*' if best.equilibria_complete else ''} | {t_b:.1f} | {brute:.5f} | "
            f"{'' if known is None else f'{known:.5f}'} |",
            flush=True,
        )


def large_game(n: int) -> sed.CommonsGame:
    rng = np.random.default_rng(0)
    soc = sed.Society(
        rng.uniform(0, 1, n), rng.uniform(20, 60, n), graph=nx.watts_strogatz_graph(n, 6, 0.1, seed=1)
    )
    tax = sed.PiecewiseLinearTax([0.0, 10.0, 20.0], [0.0, 0.0, 0.0])
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


def bench_large(n: int, ps: tuple[float, ...]) -> None:
    game = large_game(n)
    print(f"\n### n = {n} agents (Watts-Strogatz, sigma ~ U[0, 1]), B = 3\n")
    print("| p | optimal_tax s | scan | welfare | upper bound | bound's source | first best | first best s |")
    print("|---|---|---|---|---|---|---|---|")
    for p in ps:
        t_opt, design = timed(optimal_tax, game, p)
        t_fb, fb = timed(first_best, game, p, transfers="tax-feasible")
        pts = design.details["scan_points_per_coordinate"]
        relaxed = "relaxed planner" in design.certificate.source
        source = "second best (relaxed planner)" if relaxed else "first best"
        print(
            f"| {p:g} | {t_opt:.2f} | {pts}^3 | {design.welfare:.4f} | {design.upper_bound:.4f} | {source} | "
            f"{fb.upper_bound:.4f} | {t_fb:.2f} |",
            flush=True,
        )


def bench_relaxation(n: int, ps: tuple[float, ...], boxes: tuple[int, ...]) -> None:
    """The relaxed planner's second-best bound against the first best (same run), from the
    searched design, for several box budgets."""
    from sedtheory.principal.box_relaxation import relaxation_bound

    game = large_game(n)
    print(f"\n### Relaxed planner on boxes of rates, n = {n} (Watts-Strogatz), B = 3\n")
    print("| p | best design | " + " | ".join(f"{b} boxes (s)" for b in boxes) + " | first best (s) |")
    print("|---|---|" + "---|" * (len(boxes) + 1))
    box = np.stack([np.zeros(3), np.ones(3)])
    for p in ps:
        design = optimal_tax(game, p, bound=False)
        scan = sed.solve_equilibrium(
            game.with_tax(sed.PiecewiseLinearTax(game.tax.thresholds, design.details["scan_best_point"]))
        )
        refs = [design.equilibrium, scan]  # the design and the scan's best, as optimal_tax does
        values = np.array([design.objective.values(e.utilities, e.payoffs) for e in refs])
        totals = np.array([float(e.actions.sum()) for e in refs])
        cells = []
        for b in boxes:
            t, res = timed(relaxation_bound, game, design.objective, box, values=values, aggregate=totals,
                           max_boxes=b)  # fmt: skip
            cells.append(f"{res.upper:.4f} ({t:.2f})")
        t_fb, fb = timed(first_best, game, p, transfers="tax-feasible")
        tail = f" | {fb.upper_bound:.4f} ({t_fb:.2f}) |"
        print(f"| {p:g} | {design.welfare:.4f} | " + " | ".join(cells) + tail, flush=True)


def seven_brackets(n: int) -> sed.CommonsGame:
    """A random global commons with seven brackets: sigma ~ U[0, 1], theta ~ U[5, 40]."""
    rng = np.random.default_rng(0)
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(5, 40, n))
    tax = sed.PiecewiseLinearTax([0, 5, 10, 15, 20, 25, 30], [0.0] * 7)
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


def bench_seven(ns: tuple[int, ...], ps: tuple[float, ...]) -> None:
    """Large societies with B = 7: the gradient-ascent principal (n >= 500), one row per (n, p)."""
    print("\n### Seven brackets, complete graph, sigma ~ U[0, 1]\n")
    print("| n | p | optimal_tax s | scan | evaluations | welfare | first-best bound | relative gap |")
    print("|---|---|---|---|---|---|---|---|")
    for n in ns:
        game = seven_brackets(n)
        for p in ps:
            t, d = timed(optimal_tax, game, p)
            print(
                f"| {n:,} | {p:g} | {t:.1f} | {d.details['scan_size']} | "
                f"{d.details['compass_evaluations']} | {d.welfare:.6g} | {d.upper_bound:.6g} | "
                f"{d.relative_gap:.1e} |",
                flush=True,
            )


def bench_first_best(ns: tuple[int, ...], ps: tuple[float, ...]) -> None:
    """The tax-feasible first best by its dual (planner_dual) against the cone program (Clarabel),
    both certified by the dual bound: the baseline in the same run."""
    print("\n### Tax-feasible first best: Lagrangian dual vs cone program (seven brackets)\n")
    columns = ["n", "p", "dual s", "dual status", "dual welfare", "dual bound", "Clarabel s"]
    columns += ["Clarabel welfare", "below the dual"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for n in ns:
        game = seven_brackets(n)
        for p in ps:
            t_d, d = timed(first_best, game, p, transfers="tax-feasible", method="dual")
            t_c, c = timed(first_best, game, p, transfers="tax-feasible", method="convex")
            below = (d.upper_bound - c.welfare) / d.upper_bound
            print(
                f"| {n:,} | {p:g} | {t_d:.2f} | {d.status} | {d.welfare:.10g} | {d.upper_bound:.10g} | "
                f"{t_c:.1f} | {c.welfare:.10g} | {below:.1e} |",
                flush=True,
            )


def random_global(n: int, seed: int) -> sed.CommonsGame:
    """A random global commons: sigma ~ U[0, 1], theta ~ U[5, 40], three brackets."""
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(5, 40, n))
    tax = sed.PiecewiseLinearTax([0.0, 10.0, 20.0], [0.0, 0.0, 0.0])
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


def bench_certify(cases: list[tuple[str, sed.CommonsGame, float]], time_limit: float) -> None:
    """certify=True (the branch and bound on the regimes, then SCIP if it does not close) against
    the independent global solver in the same run: SCIP 10 on the single-level reformulation
    (``second_best_bound``, one thread, started from the same design, same time limit)."""
    from sedtheory.principal.global_bound import second_best_bound

    print(f"\n### Global certificate (certify=True) against SCIP alone, time limit {time_limit:g} s\n")
    print(
        "| instance | p | search s | search welfare | first-best bound | certify s | welfare | bound | gap | "
        "status | method | SCIP s | SCIP bound | SCIP status |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, game, p in cases:
        t_s, plain = timed(optimal_tax, game, p)
        t_c, design = timed(optimal_tax, game, p, certify=True, time_limit=time_limit)
        box = np.array([np.zeros(game.tax.thresholds.size), np.ones(game.tax.thresholds.size)])
        start = (plain.x, plain.equilibrium.actions, plain.welfare)
        t_g, scip = timed(
            second_best_bound, game, sed.Objective(p), box, time_limit=time_limit, incumbent=start
        )
        method = "B&B" if "branch and bound" in design.certificate.source else "SCIP"
        print(
            f"| {name} | {p:g} | {t_s:.1f} | {plain.welfare:.6f} | {plain.upper_bound:.4f} | {t_c:.1f} | "
            f"{design.welfare:.6f} | {design.upper_bound:.6f} | {design.certificate.relative_gap:.1e} | "
            f"{design.status} | {method} | {t_g:.1f} | {scip.upper:.6f} | {scip.status} |",
            flush=True,
        )


def prosocial_graph(n: int, seed: int = 3) -> sed.CommonsGame:
    """Watts-Strogatz prosocial society, sigma ~ U[0, 1], theta ~ U[20, 60], three brackets."""
    rng = np.random.default_rng(seed)
    graph = nx.watts_strogatz_graph(n, 4, 0.2, seed=seed)
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(20, 60, n), graph=graph)
    tax = sed.PiecewiseLinearTax([0.0, 10.0, 20.0], [0.0, 0.0, 0.0])
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


def bench_agentwise(
    cases: list[tuple[str, sed.CommonsGame]], ps: tuple[float, ...], limits: tuple[float, ...]
) -> None:
    """The second-best bound past the regime listing (boxes bounded agent by agent), from the
    searched design, against the first best, by time limit."""
    print("\n### The second-best bound agent by agent (`rate_box_bound` from the searched design)\n")
    print("| society | p | time limit s | boxes | welfare | second-best bound | first best |")
    print("|---|---|---|---|---|---|---|")
    for name, game in cases:
        box = np.array([np.zeros(game.tax.rates.size), np.ones(game.tax.rates.size)])
        for p in ps:
            d = optimal_tax(game, p, bound=False)
            fb = first_best(game, p, transfers="tax-feasible").upper_bound
            start = (d.rates, d.equilibrium.actions, d.welfare)
            for limit in limits:
                res = rate_box_bound(game, sed.Objective(p), box, incumbent=start, time_limit=limit)
                print(
                    f"| {name} | {p:g} | {limit:g} | {res.nodes} | {d.welfare:.4f} | {res.upper:.4f} | "
                    f"{fb:.4f} |",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = parser.parse_args()
    if args.quick:
        bench_default((1.0,), 0.5)
        bench_selection((-math.inf,), 5)
        bench_large(100, (1.0,))
        bench_relaxation(100, (1.0,), (1, 5))
        bench_seven((600,), (1.0,))
        bench_first_best((600,), (-math.inf, 0.0))
        bench_certify([("random n = 3", random_global(3, 0), 1.0)], 10.0)
        bench_agentwise([("Watts-Strogatz n = 80", prosocial_graph(80))], (-math.inf,), (2.0,))
        return
    bench_default(PS, 0.1)
    bench_selection(PS, 31)
    bench_large(1000, (-math.inf, 0.0, 1.0, 2.0, math.inf))
    bench_relaxation(1000, (-math.inf, 0.0, 1.0), (1, 9, 21, 65))
    bench_seven((10_000, 100_000), (-math.inf, 0.0, 1.0))
    bench_first_best((10_000, 100_000), (-math.inf, -2.0, 0.0, 1.0))
    seed = sed.scenarios.apple_picking()
    randoms = [(f"random n = 12 (seed {k})", random_global(12, k), 1.0) for k in range(3)]
    bench_certify([("seed", seed, p) for p in PS] + randoms, 120.0)
    cases = [("Watts-Strogatz n = 150", prosocial_graph(150)), ("n = 1000 (above)", large_game(1000))]
    bench_agentwise(cases, (-math.inf, 0.0, 1.0), (10.0, 60.0))


if __name__ == "__main__":
    main()
