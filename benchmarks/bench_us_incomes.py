"""The US economy (issue 17): Tax-Calculator's CPS tax units under current law.

Run ``python benchmarks/bench_us_incomes.py`` (about 15-25 minutes on 2 cores; ``--quick``: a
smoke test on small samples). Needs the ``[data]`` extra. Tables (Markdown) for docs/benchmarks.md:

1. Certified equilibrium under current law, full file (single filers and all 280,005 records), against
   a plain loop over agents computing each exact best reply piece by piece (the generic baseline).
2. The optimal seven rates per p: the 10,000-record weighted sample (scan + compass) against
   scipy's Nelder-Mead from current law on the same sample (the generic baseline, same
   evaluation); the full file warm-started from the sample optimum.
3. The sample's error against the full file: welfare under current law, and the full-file welfare
   of the sample's optimal rates against the full file's own optimum.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.optimize import minimize

from sedtheory import Objective, optimal_tax, pmean, policy_equilibria, solve_equilibrium
from sedtheory.scenarios import us_incomes_data
from sedtheory.welfare import format_p


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def loop_equilibrium(game) -> np.ndarray:
    """Baseline: each agent's exact best reply, piece by piece, in a Python loop (no damage)."""
    k, beta, sigma = game.own_tax_weight, game.own_curvature, game.society.selfishness
    tau, rates = game.tax.thresholds, game.tax.rates
    edges = np.append(tau, np.inf)
    out = np.empty(game.n)
    for i in range(game.n):
        best, arg = -np.inf, 0.0
        for b in range(rates.size):
            x = min(max((sigma[i] - k[i] * rates[b]) / beta[i], edges[b]), edges[b + 1])
            value = sigma[i] * x - k[i] * float(game.tax(x)) - 0.5 * beta[i] * x * x
            if value > best:
                best, arg = value, x
        out[i] = arg
    return out


def bench_equilibrium(statuses: list[str], sample: int | None) -> None:
    print("\n### Certified equilibrium under current law\n")
    print(
        "| units | records | solve_equilibrium s | Nash gap | max rel. error | loop baseline s | speed-up |"
    )
    print("|---|---|---|---|---|---|---|")
    for status in statuses:
        data = us_incomes_data(2026, status, sample=sample)
        game, y = data.game, data.units.wages
        secs, eq = timed(solve_equilibrium, game)
        ok = ~data.calibration.zero_wage
        err = float(np.max(np.abs(eq.actions[ok] - y[ok]) / y[ok]))
        base, x = timed(loop_equilibrium, game)
        assert np.allclose(x, eq.actions, rtol=1e-9, atol=1e-9)
        speed = base / secs
        cells = [status, str(game.n), f"{secs:.3f}", f"{eq.nash_gap:.1e}", f"{err:.1e}", f"{base:.2f}"]
        print("| " + " | ".join(cells) + f" | {speed:.0f}x |")


def nelder_mead(game, p: float, x0: np.ndarray, budget: int) -> tuple[float, np.ndarray, int]:
    obj = Objective(p).for_game(game)
    calls = 0

    def negative(x: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        batch = policy_equilibria(game, np.clip(x, 0.0, 1.0)[None])
        value = float(batch.welfare(obj)[0])
        return -value if math.isfinite(value) else 1e30

    res = minimize(
        negative, x0, method="Nelder-Mead", options={"maxfev": budget, "xatol": 1e-5, "fatol": 1e-9}
    )
    return -float(res.fun), np.clip(res.x, 0.0, 1.0), calls


def bench_optimum(ps: list[float], sample: int, full: bool, budget: int) -> None:
    small = us_incomes_data(2026, "single", sample=sample, seed=0)
    big = us_incomes_data(2026, "single") if full else None
    print(
        f"\n### Optimal rates per p: {small.units.n}-record sample"
        + (" and the full file" if full else "")
        + "\n"
    )
    print(
        "| p | sample: optimal_tax s | welfare | rates | Nelder-Mead s | NM welfare | "
        "full: warm start s | full welfare | sample rates on full | rel. loss |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in ps:
        secs, d = timed(optimal_tax, small.game, p, bound=False)
        nm_secs, (nm_w, _, calls) = timed(nelder_mead, small.game, p, small.law.rates.copy(), budget)
        row = (
            f"| {format_p(p)} | {secs:.1f} | {d.welfare:,.2f} | {', '.join(f'{r:.3f}' for r in d.x)} | "
            f"{nm_secs:.1f} ({calls} evals) | {nm_w:,.2f} |"
        )
        if big is not None:
            fs, fd = timed(optimal_tax, big.game, p, bound=False, start=d.x, start_step=0.02, starts=1)
            on_full = float(
                policy_equilibria(big.game, d.x[None]).welfare(Objective(p).for_game(big.game))[0]
            )
            loss = (fd.welfare - on_full) / abs(fd.welfare)
            row += f" {fs:.1f} | {fd.welfare:,.2f} | {on_full:,.2f} | {loss:.1e} |"
        else:
            row += " | | | |"
        print(row, flush=True)


def bench_sample_error(ps: list[float], sizes: list[int], seeds: int) -> None:
    full = us_incomes_data(2026, "single")
    ref = solve_equilibrium(full.game).utilities
    shares = full.game.welfare_weights
    print("\n### The weighted sample's error on welfare under current law (single filers)\n")
    print("| records | " + " | ".join(f"M_{format_p(p)} max rel. error" for p in ps) + " |")
    print("|---|" + "---|" * len(ps))
    for size in sizes:
        errs = np.zeros(len(ps))
        for seed in range(seeds):
            s = us_incomes_data(2026, "single", sample=size, seed=seed)
            u = solve_equilibrium(s.game).utilities
            for j, p in enumerate(ps):
                want = pmean(ref, p, shares)
                errs[j] = max(errs[j], abs(pmean(u, p, s.game.welfare_weights) - want) / want)
        print(f"| {size} | " + " | ".join(f"{e:.1e}" for e in errs) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        bench_equilibrium(["single"], 2000)
        bench_optimum([0.0], 500, False, 60)
        bench_sample_error([0.0, 1.0], [500], 1)
        return
    bench_equilibrium(["single", "all"], None)
    bench_sample_error([-math.inf, 0.0, 1.0], [1000, 10_000, 30_000], 3)
    bench_optimum([0.0, -math.inf], 10_000, True, 400)


if __name__ == "__main__":
    main()
