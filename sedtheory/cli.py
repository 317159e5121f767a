"""Command line: ``sedtheory run``, ``sedtheory sweep`` and ``sedtheory verify``.

Until the full report exists (issue 8) ``run`` computes and prints the default scenario's
equilibrium under laissez-faire and under a few bracket taxes, with certificates, and writes
them to ``results/equilibrium.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sedtheory import scenarios
from sedtheory.equilibrium import solve_equilibrium
from sedtheory.welfare import pmean

__all__ = ["main", "run", "verify"]

_POLICIES: dict[str, tuple[float, float, float]] = {
    "laissez-faire": (0.0, 0.0, 0.0),
    "flat 30%": (0.3, 0.3, 0.3),
    "progressive 10/30/60%": (0.1, 0.3, 0.6),
}


def run(scenario: str = "apple-picking", out: str | Path = "results") -> dict[str, object]:
    """Solve the scenario under a few policies, print a table and write JSON."""
    if scenario != "apple-picking":
        raise SystemExit(f"unknown scenario {scenario!r}; available: apple-picking")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    print("sedtheory run: the apple-picking scenario (7 agents, ring, brackets 0/10/20)")
    print(scenarios.APPLE_PICKING_PARAMETERS)
    header = f"{'policy':<24}{'A':>9}{'nash gap':>11}  {'utilitarian':>11}{'nash':>9}{'min':>9}  actions"
    print(header)
    print("-" * len(header))
    for name, rates in _POLICIES.items():
        game = scenarios.apple_picking(rates)
        t0 = time.perf_counter()
        eq = solve_equilibrium(game)
        elapsed = time.perf_counter() - t0
        row = {
            "policy": name,
            "rates": list(rates),
            "actions": eq.actions.tolist(),
            "utilities": eq.utilities.tolist(),
            "payoffs": eq.payoffs.tolist(),
            "aggregate": eq.aggregate,
            "nash_gap": eq.nash_gap,
            "relative_nash_gap": eq.relative_nash_gap,
            "method": eq.method,
            "status": eq.status,
            "certificate": eq.certificate,
            "welfare": {str(p): pmean(eq.utilities, p) for p in (1.0, 0.0, -np.inf)},
            "seconds": elapsed,
        }
        rows.append(row)
        w = row["welfare"]
        assert isinstance(w, dict)
        print(
            f"{name:<24}{eq.aggregate:>9.3f}{eq.nash_gap:>11.1e}  {w['1.0']:>11.3f}{w['0.0']:>9.3f}"
            f"{w['-inf']:>9.3f}  {np.round(eq.actions, 2).tolist()}"
        )
    result: dict[str, object] = {
        "scenario": scenario,
        "parameters": scenarios.APPLE_PICKING_PARAMETERS,
        "equilibria": rows,
    }
    path = out_dir / "equilibrium.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sedtheory`` command."""
    parser = argparse.ArgumentParser(prog="sedtheory", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="solve the default scenario and write results/")
    p_run.add_argument("--scenario", default="apple-picking")
    p_run.add_argument("--out", default="results")
    p_sweep = sub.add_parser("sweep", help="learned vs analytic over graphs, types, p, learners, seeds")
    p_sweep.add_argument("--graphs", default=None, help="comma-separated graph families (default: all)")
    p_sweep.add_argument("--selfishness", default=None, help="comma-separated profiles (default: all)")
    p_sweep.add_argument("--ps", default=None, help="comma-separated p values, e.g. -inf,0,1")
    p_sweep.add_argument("--learners", default=None, help="comma-separated agent learners")
    p_sweep.add_argument("--principals", default=None, help="comma-separated principal learners")
    p_sweep.add_argument("--seeds", default="0", help="comma-separated seeds")
    p_sweep.add_argument("--n", type=int, default=12, help="agents per game")
    p_sweep.add_argument("--rounds", type=int, default=2000, help="learning rounds")
    p_sweep.add_argument("--out", default="results/sweep.csv", help=".csv or .parquet")
    p_sweep.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    p_sweep.add_argument("--processes", type=int, default=None, help="local worker processes")
    p_sweep.add_argument("--no-resume", action="store_true", help="recompute cells already in --out")
    p_verify = sub.add_parser("verify", help="search every registered theorem for counterexamples")
    p_verify.add_argument("--instances", type=int, default=None, help="random instances per statement")
    p_verify.add_argument("--seed", type=int, default=0)
    p_verify.add_argument("--only", default=None, help="comma-separated statement names")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.scenario, args.out)
    elif args.command == "sweep":
        return _sweep(args)
    elif args.command == "verify":
        return verify(args.instances, args.seed, _split(args.only))
    return 0


def verify(instances: int | None = None, seed: int = 0, only: list | None = None) -> int:
    """Print the table of :func:`sedtheory.theory.verify_all`; 1 if a theorem has a counterexample."""
    from sedtheory.errors import SedtheoryError
    from sedtheory.theory import verify_all

    header = f"{'statement':<44}{'kind':<12}{'result':<10}{'checked':>8}{'skipped':>8}{'seconds':>9}"
    print(header)
    print("-" * len(header))

    def show(rep: Any) -> None:
        if rep.kind == "theorem":
            result = "holds" if rep.holds else "FAILS"
        else:
            result = "open" if rep.holds else "refuted"
        print(
            f"{rep.name:<44}{rep.kind:<12}{result:<10}{rep.instances:>8}{rep.skipped:>8}{rep.seconds:>9.2f}"
        )
        for ce in rep.counterexamples[:2]:
            print(f"    counterexample: {str(ce)[:150]}")

    try:
        reports = verify_all(instances, seed, only, progress=show)
    except SedtheoryError as exc:
        print(f"sedtheory verify: {exc}", file=sys.stderr)
        return 2
    failed = [r.name for r in reports if r.kind == "theorem" and not r.holds]
    theorems = sum(r.kind == "theorem" for r in reports)
    print(
        f"\n{theorems - len(failed)} of {theorems} theorems hold; "
        f"{sum(r.kind == 'conjecture' and not r.holds for r in reports)} conjectures refuted (findings)."
    )
    if failed:
        print(f"counterexamples to: {', '.join(failed)}")
    return 1 if failed else 0


def _split(text: str | None, cast: type = str) -> list | None:
    if text is None:
        return None
    return [cast(x.strip()) for x in text.split(",") if x.strip()]


def _sweep(args: argparse.Namespace) -> int:
    from sedtheory.errors import SedtheoryError
    from sedtheory.learning.sweep import DEFAULT_GRID, sweep

    grid: dict[str, list] = dict(DEFAULT_GRID)
    for key, value in (
        ("graph", _split(args.graphs)),
        ("selfishness", _split(args.selfishness)),
        ("p", _split(args.ps, float)),
        ("learner", _split(args.learners)),
        ("principal", _split(args.principals)),
        ("seed", _split(args.seeds, int)),
    ):
        if value is not None:
            grid[key] = value
    try:
        table = sweep(
            grid,
            out=args.out,
            scheduler=args.scheduler,
            processes=args.processes,
            resume=not args.no_resume,
            n=args.n,
            rounds=args.rounds,
        )
    except SedtheoryError as exc:
        print(f"sedtheory sweep: {exc}", file=sys.stderr)
        return 2
    cols = ["graph", "selfishness", "p", "learner", "distance", "ratio_second_best", "status"]
    print(table[[c for c in cols if c in table]].to_string(index=False))
    print(f"wrote {args.out} ({len(table)} cells)")
    return 0 if (table["status"] == "ok").all() else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
