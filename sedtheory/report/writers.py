"""Stage 3 of the report: ``to_json`` (every number) and ``to_markdown`` (the report), and the
summary printed by ``sedtheory run``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sedtheory.markdown import table
from sedtheory.report.analysis import Analysis, grid_step
from sedtheory.welfare import format_p, pmean_or_minus_inf

__all__ = ["jsonable", "print_summary", "to_json", "to_markdown"]


def jsonable(obj: Any) -> Any:
    """``obj`` as JSON data: arrays to lists, float keys and infinities to p labels."""
    if isinstance(obj, dict):
        return {str(format_p(k) if isinstance(k, float) else k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else format_p(obj)
    return obj


def _principal(a: Analysis) -> dict[float, Any]:
    return {
        o.p: {
            "rates": o.design.x,
            "welfare": o.design.welfare,
            "upper_bound": o.design.upper_bound,
            "gap": o.design.gap,
            "status": o.design.status,
            "method": o.design.method,
            "certificate": str(o.design.certificate),
            "nash_gap": o.design.equilibrium.nash_gap,
            "grid_rates": o.grid_rates,
            "grid_welfare": o.grid_welfare,
            "first_best_bound": o.design.upper_bound,
            "first_best_source": o.design.certificate.source,
            "first_best_lump_sum": o.lump_sum,
            "laissez_faire_welfare": o.laissez_faire_welfare,
            "selection": o.design.selection,
            "equilibria_found": o.design.equilibria_found,
            "equilibria_complete": o.design.equilibria_complete,
            "price_of_anarchy": None if o.inefficiency is None else o.inefficiency.price_of_anarchy,
            "price_of_stability": None if o.inefficiency is None else o.inefficiency.price_of_stability,
        }
        for o in a.objectives
    }


def _voting(a: Analysis) -> dict[str, Any]:
    prefs, vr = a.votes.preferences, a.votes
    return {
        "candidates": a.candidates,
        "utilities": prefs.utilities,
        "rankings": [list(r) for r in prefs.rankings],
        "peaks": list(prefs.peaks),
        "single_peaked": prefs.single_peaked,
        "violators": list(prefs.violators),
        "condorcet_winner": vr.condorcet_winner,
        "cycles": vr.cycles,
        "winners": {r: vr.winners.loc[r, "winner"] for r in a.config.rules},
        "manipulable": {r: w is not None for r, w in vr.manipulations.items()},
        "objective_used": a.p_star,
    }


def _learning(a: Analysis) -> dict[str, Any]:
    agents = {
        o.name: o.comparison.row() | {"cce_gap": o.comparison.details.get("cce_gap")} for o in a.learners
    }
    principals = {
        name: {
            "final_rates": res.final_rates,
            "final_welfare": res.final_welfare,
            "second_best": a.design.welfare,
            "average_regret_end": float(res.average_regret[-1]),
            "epochs": a.config.epochs,
            "options": opts,
        }
        for name, opts, res in a.principals
    }
    return {"p": a.p_star, "rounds": a.config.rounds, "agents": agents, "principals": principals}


def to_json(a: Analysis, figure_files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every number of the analysis as JSON data (the layout of ``results.json``)."""
    lf = a.laissez_faire
    results: dict[str, Any] = {
        "scenario": a.spec,
        "n": a.game.n,
        "laissez_faire": {
            "actions": lf.actions,
            "aggregate": lf.aggregate,
            "utilities": lf.utilities,
            "nash_gap": lf.nash_gap,
            "certificate": lf.certificate,
            # -inf (written as a label) where the values leave the p-mean's domain
            "welfare": {p: pmean_or_minus_inf(lf.utilities, p, a.game.welfare_weights) for p in a.candidates},
        },
        "voting": _voting(a),
        "principal": _principal(a),
        "learning": _learning(a),
        "theorems": [
            {
                "name": r.name,
                "kind": r.kind,
                "holds": r.holds,
                "instances": r.instances,
                "skipped": r.skipped,
                "counterexample": str(r.counterexamples[0]) if r.counterexamples else None,
            }
            for r in a.theorems
        ],
        "figures": dict(figure_files or {}),
    }
    if a.dynamic is not None:
        from sedtheory.report.dynamic import dynamic_json

        results["dynamic"] = dynamic_json(a.dynamic)
    return jsonable(results)


def _rates(rates: Any) -> str:
    return "(" + ", ".join(f"{r:.3f}" for r in rates) + ")"


def _intro(a: Analysis, fig: Mapping[str, str]) -> list[str]:
    game, lf = a.game, a.laissez_faire
    return [
        f"# SED analysis of the scenario `{a.name}`",
        "",
        "Produced by `sedtheory run`. Every equilibrium below is certified by its exact Nash gap (the",
        "largest gain any agent could get by deviating, computed with exact best responses); every",
        "optimal tax carries an upper bound on what any policy could achieve.",
        "",
        "## The scenario",
        "",
        f"{game.n} agents with selfishness {np.round(game.society.selfishness, 3).tolist()}",
        "(0: cares only about its",
        "neighbours, 1: only about itself), harvesting from a common pool whose damage grows with the",
        f"total harvest (damage {game.damage:g}, cap {game.max_harvest:g}). A bracket tax with thresholds",
        f"{game.tax.thresholds.tolist()} is collected and shared equally. The principal chooses the rates to",
        "maximise the p-mean of utilities; the agents vote on p.",
        "",
        f"![social graph]({fig.get('social_graph', '')})",
        "",
        "## Without tax (laissez-faire)",
        "",
        f"Equilibrium harvests {np.round(lf.actions, 2).tolist()} (total {lf.aggregate:.2f}), exact Nash gap "
        f"{lf.nash_gap:.1e}. This is the tragedy of the commons: the efficient total is lower.",
        "",
    ]


def _ratios(ratios: Any) -> str:
    if ratios is None:
        return "n/a"
    return f"{ratios.price_of_anarchy:.4f} / {ratios.price_of_stability:.4f}"


def _principal_section(a: Analysis, fig: Mapping[str, str]) -> list[str]:
    step = grid_step(a.game)
    count = (round(1 / step) + 1) ** int(a.game.tax.n_brackets)
    grid = (
        "the seed's" if step == 0.1 else f"a coarser grid's (the seed's is too large for {a.game.n} agents)"
    )
    lines = [
        "## The principal: optimal tax for each objective p",
        "",
        "`welfare` is M_p at the certified equilibrium of the optimal rates; `grid` is the best of",
        f"{grid} {count} policies (rates in steps of {step:g}); `upper bound` is the first best (a planner",
        "choosing actions and transfers), so `gap` says how far from the best conceivable outcome.",
        "`best-found` means the search's optimum is certified as an equilibrium and beats every scanned",
        "policy, but the gap to the upper bound is not closed (`optimal` would mean it is).",
        "Where rates induce several equilibria the principal counts the best one for its objective",
        "(optimistic selection); `equilibria` is how many the optimal rates induce (`*`: the list is",
        "proven complete), and `PoA` / `PoS` are the tax-feasible first best over the worst / best of them.",
        "",
    ]
    rows = [
        [
            format_p(o.p),
            _rates(o.design.x),
            o.design.welfare,
            o.grid_welfare,
            o.laissez_faire_welfare,
            o.design.upper_bound,
            o.design.gap,
            f"{o.design.equilibrium.nash_gap:.1e}",
            f"{o.design.equilibria_found}{'*' if o.design.equilibria_complete else ''}",
            _ratios(o.inefficiency),
            o.design.status,
        ]
        for o in a.objectives
    ]
    header = [
        "p",
        "optimal rates",
        "welfare",
        "grid (seed)",
        "laissez-faire",
        "upper bound",
        "gap",
        "Nash gap",
        "equilibria",
        "PoA / PoS",
        "status",
    ]
    lines += table(header, rows)
    return lines + [
        "",
        f"![tax schedules]({fig.get('tax_schedules', '')})",
        "",
        f"![welfare against p]({fig.get('welfare_vs_p', '')})",
        "",
        "The frontier below shows what the prosocial and the selfish half of the agents can get: the",
        "first best (blue) is out of reach of any tax; the orange line is the best bracket taxes can do.",
        "",
        f"![welfare frontier]({fig.get('welfare_frontier', '')})",
        "",
        "Equilibrium actions move with the rates and jump where an agent's utility is not concave;",
        "agents sitting on a threshold over a range of rates are bunching:",
        "",
        f"![actions against a rate]({fig.get('actions_vs_rate', '')})",
        "",
    ]


def _learning_section(a: Analysis, fig: Mapping[str, str]) -> list[str]:
    lines = [
        "## Learning agents and learning principals",
        "",
        f"Agents learning for {a.config.rounds} rounds under the optimal tax for p = {format_p(a.p_star)}:",
        "",
    ]
    rows = [
        [o.name, c.distance, c.nash_gap, c.welfare, c.ratio_second_best, c.ratio_first_best]
        for o in a.learners
        for c in (o.comparison,)
    ]
    lines += table(
        ["learner", "distance to equilibrium", "Nash gap", "welfare", "/ second best", "/ first best"], rows
    )
    lines += ["", f"![learning curves]({fig.get('learning_curves', '')})", ""]
    rows = [
        [
            name,
            _rates(res.final_rates),
            res.final_welfare,
            a.design.welfare,
            float(res.average_regret[-1]),
            a.config.epochs,
        ]
        for name, _, res in a.principals
    ]
    lines += table(
        ["principal", "final rates", "final welfare", "second best", "average regret", "epochs"], rows
    )
    return lines + ["", f"![principal regret]({fig.get('principal_regret', '')})", ""]


def _theorem_section(a: Analysis) -> list[str]:
    def result(r: Any) -> str:
        if r.kind == "theorem":
            return "holds" if r.holds else "FAILS"
        return "open" if r.holds else "refuted"

    rows = [
        [
            r.name,
            r.kind,
            result(r),
            r.instances,
            r.skipped,
            (str(r.counterexamples[0]) if r.counterexamples else "")[:80],
        ]
        for r in a.theorems
    ]
    lines = ["## Theorems checked on random instances", ""]
    return lines + table(["statement", "kind", "result", "checked", "skipped", "counterexample"], rows)


def to_markdown(a: Analysis, figure_files: Mapping[str, str] | None = None) -> str:
    """The report as Markdown (figures referenced by the file names in ``figure_files``)."""
    fig = dict(figure_files or {})
    lines = _intro(a, fig) + _principal_section(a, fig)
    lines += ["## The vote over p", ""] + a.votes.to_markdown().splitlines()
    rule = a.config.rule.replace("_", " ").title()
    lines += ["", f"The report continues with the {rule} winner, p = {format_p(a.p_star)}.", ""]
    lines += _learning_section(a, fig) + _theorem_section(a)
    if a.dynamic is not None:
        from sedtheory.report.dynamic import dynamic_markdown

        lines += [""] + dynamic_markdown(a.dynamic, fig)
    lines += ["", "All numbers are in `results.json`."]
    return "\n".join(lines) + "\n"


def print_summary(a: Analysis) -> None:
    """The table ``sedtheory run`` prints at the end."""
    print()
    print(
        f"{'p':>6} {'optimal tax rates':<26}{'welfare':>10}{'grid (seed)':>13}{'laissez-f.':>12}"
        f"{'upper bound':>13}  status"
    )
    for o in a.objectives:
        print(
            f"{format_p(o.p):>6} {_rates(o.design.x):<26}{o.design.welfare:>10.3f}{o.grid_welfare:>13.3f}"
            f"{o.laissez_faire_welfare:>12.3f}{o.design.upper_bound:>13.3f}  {o.design.status}"
        )
    winners = {r: a.votes.winners.loc[r, "winner"] for r in a.config.rules}
    print(f"\nvote: winners {{{', '.join(f'{r}: {format_p(float(w))}' for r, w in winners.items())}}}")
    held = sum(r.holds for r in a.theorems if r.kind == "theorem")
    total = sum(r.kind == "theorem" for r in a.theorems)
    print(f"theorems: {held} of {total} hold on random instances")
