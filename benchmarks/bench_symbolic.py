"""Symbolic closed forms: time to derive them (run ``python benchmarks/bench_symbolic.py``).

Baseline in the same run: the numeric solver on the same game (closed forms cost more to derive
but then evaluate anywhere in the regime without re-solving).
"""

from __future__ import annotations

import time

import sedtheory as sed
from sedtheory.symbolic import symbolic_equilibrium
from sedtheory.symbolic.symmetric import symmetric_closed_forms


def main() -> None:
    print("| closed form | derive s | numeric solve s | evaluate closed form s |")
    print("|---|---|---|---|")
    for weighting in ("sum", "mean"):
        t0 = time.perf_counter()
        forms = symmetric_closed_forms(weighting)
        derive = time.perf_counter() - t0
        t0 = time.perf_counter()
        forms.evaluate(forms.equilibrium, n=7, sigma=0.5, theta=40, kappa=0.02, phi=0.3)
        print(
            f"| symmetric game ('{weighting}'), with limits and comparative statics | {derive:.2f} | - | "
            f"{time.perf_counter() - t0:.4f} |"
        )
    for rates in [(0.0, 0.0, 0.0), (0.3, 0.3, 0.3), (0.1, 0.3, 0.6)]:
        game = sed.scenarios.apple_picking(rates)
        t0 = time.perf_counter()
        sym = symbolic_equilibrium(game)
        derive = time.perf_counter() - t0
        t0 = time.perf_counter()
        sed.solve_equilibrium(game)
        numeric = time.perf_counter() - t0
        sym.evaluate()
        t0 = time.perf_counter()
        sym.evaluate(kappa=0.021)
        evaluate = time.perf_counter() - t0
        print(
            f"| apple_picking{rates}: 7 heterogeneous agents, all symbols | {derive:.2f} | {numeric:.4f} | "
            f"{evaluate:.5f} |"
        )


if __name__ == "__main__":
    main()
