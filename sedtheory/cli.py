"""Command line: ``sedtheory run``, ``sedtheory sweep`` and ``sedtheory verify``.

``run`` is the main job (:mod:`sedtheory.report`): the full analysis of the seed scenario or a
scenario file, written to ``results/`` as ``report.md``, ``results.json`` and PNG figures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "run", "verify"]


def run(
    scenario: str = "apple-picking",
    out: str | Path = "results",
    quick: bool = False,
    economy: dict[str, object] | None = None,
) -> dict[str, object]:
    """The main job (:func:`sedtheory.report.run_report`): report, JSON and figures in ``out``;
    ``economy`` holds the US-incomes options (year, filing_status, sample)."""
    from sedtheory.report import EconomyConfig, run_report

    config = EconomyConfig(**economy) if economy else None  # type: ignore[arg-type]
    return run_report(scenario, out, progress=True, quick=quick, economy=config)


#: What ``sedtheory --help`` says (plain text: the module docstring is for the docs site).
_DESCRIPTION = (
    "sedtheory: exact, certified theory for Social Environment Design. 'run' writes the full "
    "analysis of a scenario (report.md, results.json, figures); 'sweep' compares learning agents "
    "with the analytic optimum over graphs, types and p; 'verify' searches every registered "
    "theorem for counterexamples."
)


def _parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(prog="sedtheory", description=_DESCRIPTION, formatter_class=fmt)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser(
        "run",
        help="the full SED analysis of a scenario: report.md, results.json, figures",
        formatter_class=fmt,
    )
    p_run.add_argument("--scenario", default="apple-picking", help="a scenario name or a .yaml/.toml file")
    p_run.add_argument(
        "--out",
        default="results",
        help="output directory for report.md, results.json and the figures; checked before the run, "
        "replaced all at once after it",
    )
    p_run.add_argument("--quick", action="store_true", help="shorter learning runs and theorem checks")
    p_run.add_argument(
        "--year", type=int, default=2026, help="us-incomes: the year of the current-law brackets"
    )
    p_run.add_argument(
        "--filing-status",
        default="single",
        help="us-incomes: single, joint, separate, head_of_household or all (single schedule)",
    )
    p_run.add_argument(
        "--optimize-thresholds",
        action="store_true",
        help="us-incomes: optimise the bracket thresholds too (default: fixed at current law)",
    )
    p_run.add_argument(
        "--sample",
        default="10000",
        help="us-incomes: records in the stratified weighted sample, or 'all' for the whole file",
    )
    p_sweep = sub.add_parser(
        "sweep", help="learned vs analytic over graphs, types, p, learners, seeds", formatter_class=fmt
    )
    p_sweep.add_argument("--graphs", default=None, help="comma-separated graph families (None: all)")
    p_sweep.add_argument(
        "--selfishness", default=None, help="comma-separated selfishness profiles (None: all)"
    )
    p_sweep.add_argument(
        "--ps", default=None, help="comma-separated p values, e.g. -inf,0,1 (None: the default grid)"
    )
    p_sweep.add_argument(
        "--learners", default=None, help="comma-separated agent learners (None: the default grid)"
    )
    p_sweep.add_argument("--principals", default=None, help="comma-separated principal learners (None: none)")
    p_sweep.add_argument("--seeds", default="0", help="comma-separated non-negative seeds")
    p_sweep.add_argument("--n", type=int, default=12, help="agents per game (>= 2)")
    p_sweep.add_argument("--rounds", type=int, default=2000, help="learning rounds (>= 1)")
    p_sweep.add_argument("--out", default="results/sweep.csv", help="result table, .csv or .parquet")
    p_sweep.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    p_sweep.add_argument(
        "--processes", type=int, default=None, help="local worker processes (None: CPU count)"
    )
    p_sweep.add_argument("--no-resume", action="store_true", help="recompute cells already in --out")
    p_verify = sub.add_parser(
        "verify", help="search every registered theorem for counterexamples", formatter_class=fmt
    )
    p_verify.add_argument(
        "--instances", type=int, default=None, help="random instances per statement (None: each one's own)"
    )
    p_verify.add_argument("--seed", type=int, default=0, help="seed of the random instances")
    p_verify.add_argument("--only", default=None, help="comma-separated statement names (None: all)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sedtheory`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        from sedtheory.errors import SedtheoryError

        try:
            economy = {
                "year": args.year,
                "filing_status": args.filing_status,
                "sample": None if args.sample == "all" else _sample(args.sample),
                "optimize_thresholds": args.optimize_thresholds,
            }
            run(args.scenario, args.out, args.quick, economy)
        except SedtheoryError as exc:
            print(f"sedtheory run: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # e.g. the disk filled up while writing: the old report stays
            print(f"sedtheory run: could not write {args.out}: {exc}", file=sys.stderr)
            return 2
    elif args.command == "sweep":
        return _sweep(args)
    elif args.command == "verify":
        return verify(args.instances, args.seed, _split(args.only))
    return 0


def _sample(text: str) -> int:
    from sedtheory.errors import InvalidParameterError

    try:
        return int(text)
    except ValueError:
        raise InvalidParameterError("--sample", text, "give a number of records or 'all'") from None


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
