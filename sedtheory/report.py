r"""The main job: a full SED analysis of one scenario, written as a report.

``run_report(scenario, out)`` (``sedtheory run``) computes, on the seed's apple-picking
scenario by default or on a scenario file:

1. the laissez-faire equilibrium (certified);
2. each agent's preferences over p and the winner under the main voting rules;
3. the principal's optimal tax for each candidate p, with its certificate, the first best
   (upper bound) and the seed's 1331-policy grid principal for comparison;
4. what learning agents reach under the winning objective's optimal tax, and what a learning
   principal reaches;
5. the theorem registry's summary;

prints a summary table, and writes ``report.md`` (tables and figures inline),
``results.json`` (all numbers) and the figures as PNG into ``out``.

Scenario files (YAML or TOML) have the keys below; every key but ``selfishness`` is optional
(defaults: the seed scenario's parameters)::

    name: my-scenario
    selfishness: [0.0, 0.5, 1.0]     # one value in [0, 1] per agent
    productivity: 40.0               # scalar or one per agent
    graph: ring                      # complete | ring | star | path | or a list of [i, j] edges
    neighbor_weighting: sum          # sum | mean
    thresholds: [0, 10, 20]
    rates: [0, 0, 0]
    damage: 0.02
    endowment: 50.0
    max_harvest: 40.0
    commons: global                  # global | local
    candidates: [-inf, -1, 0, 0.5, 1, inf]
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from sedtheory.equilibrium import solve_equilibrium
from sedtheory.errors import InvalidParameterError, SedtheoryError
from sedtheory.games import CommonsGame
from sedtheory.markdown import table
from sedtheory.scenarios import APPLE_PICKING_PARAMETERS, apple_picking
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import format_p, pmean

__all__ = ["load_scenario", "run_report", "MAIN_RULES"]

#: The voting rules shown in the report.
MAIN_RULES = ("plurality", "borda", "copeland", "instant_runoff", "median", "condorcet", "seed_threshold")

_KEYS = {
    "name",
    "selfishness",
    "productivity",
    "graph",
    "neighbor_weighting",
    "thresholds",
    "rates",
    "damage",
    "endowment",
    "max_harvest",
    "commons",
    "candidates",
}


def _float(value: Any) -> float:
    if isinstance(value, str) and value.strip().lower() in ("inf", "+inf", "-inf", ".inf", "-.inf"):
        return -math.inf if value.strip().startswith("-") else math.inf
    return float(value)


def load_scenario(path: str | Path) -> tuple[CommonsGame, dict[str, Any]]:
    """Read a YAML (``.yaml``/``.yml``) or TOML (``.toml``) scenario: (game, the parsed spec).

    Raises
    ------
    InvalidParameterError
        Unknown file type or keys, missing ``selfishness``, malformed values (the message names
        the key); the game's own validation names bad values (selfishness outside [0, 1], ...).
    """
    p = Path(path)
    if not p.exists():
        raise InvalidParameterError(
            "scenario", str(path), "give an existing .yaml/.yml/.toml file or 'apple-picking'"
        )
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        import yaml

        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidParameterError("scenario", str(path), f"not valid YAML: {exc}") from exc
    elif p.suffix == ".toml":
        import tomllib

        try:
            spec = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidParameterError("scenario", str(path), f"not valid TOML: {exc}") from exc
    else:
        raise InvalidParameterError("scenario", str(path), "use a .yaml, .yml or .toml file")
    if not isinstance(spec, dict):
        raise InvalidParameterError("scenario", str(path), "the file must hold a mapping of keys")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise InvalidParameterError(unknown[0], spec[unknown[0]], f"unknown key; use {sorted(_KEYS)}")
    if "selfishness" not in spec:
        raise InvalidParameterError("selfishness", None, "give one selfishness in [0, 1] per agent")
    try:
        sigma = np.asarray([_float(x) for x in spec["selfishness"]])
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            "selfishness", spec["selfishness"], "give a list of numbers in [0, 1]"
        ) from exc
    n = sigma.size
    base = APPLE_PICKING_PARAMETERS
    theta = spec.get("productivity", base["productivity"])
    graph_spec = spec.get("graph", "ring")
    graph: nx.Graph | None
    if graph_spec == "complete":
        graph = None
    elif graph_spec == "ring":
        graph = nx.cycle_graph(n) if n > 2 else nx.path_graph(n)
    elif graph_spec == "star":
        graph = nx.star_graph(n - 1)
    elif graph_spec == "path":
        graph = nx.path_graph(n)
    elif isinstance(graph_spec, list):
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        try:
            graph.add_edges_from((int(a), int(b)) for a, b in graph_spec)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "graph", graph_spec, "give edges as [i, j] pairs of agent indices"
            ) from exc
    else:
        raise InvalidParameterError(
            "graph", graph_spec, "use complete, ring, star, path or a list of [i, j] edges"
        )
    try:
        soc = Society(sigma, theta, graph=graph, neighbor_weighting=spec.get("neighbor_weighting", "sum"))
        thresholds = [_float(x) for x in spec.get("thresholds", base["thresholds"])]
        rates = [_float(x) for x in spec.get("rates", [0.0] * len(thresholds))]
        tax = PiecewiseLinearTax(thresholds, rates)
        game = CommonsGame(
            soc,
            tax,
            damage=_float(spec.get("damage", base["damage"])),
            endowment=_float(spec.get("endowment", base["endowment"])),
            max_harvest=_float(spec.get("max_harvest", base["max_harvest"])),
            commons=spec.get("commons", "global"),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SedtheoryError):
            raise
        raise InvalidParameterError("scenario", str(path), f"malformed value: {exc}") from exc
    if "candidates" in spec:
        spec["candidates"] = [_float(x) for x in spec["candidates"]]
    return game, spec


class _Steps:
    def __init__(self, show: bool) -> None:
        self.show, self.t0 = show, time.perf_counter()

    def __call__(self, text: str) -> None:
        if self.show:
            print(f"[{time.perf_counter() - self.t0:6.1f} s] {text}", flush=True)


def _json(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(format_p(k) if isinstance(k, float) else k): _json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json(obj.tolist())
    if isinstance(obj, np.generic):
        return _json(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else format_p(obj)
    return obj


def run_report(
    scenario: str | Path = "apple-picking",
    out: str | Path = "results",
    progress: bool = True,
    quick: bool = False,
    save: Callable[[Any, Path], None] | None = None,
) -> dict[str, Any]:
    """Run the whole analysis and write ``report.md``, ``results.json`` and the figures.

    Parameters
    ----------
    scenario : str or path
        ``"apple-picking"`` or a YAML/TOML scenario file.
    out : path
        Output directory (created).
    progress : bool
        Print progress lines and the summary table.
    quick : bool
        Smaller learning runs and theorem counts (for tests).

    Returns
    -------
    dict
        Everything written to ``results.json``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from sedtheory import plotting
    from sedtheory.learning import compare, learn_principal
    from sedtheory.principal import first_best, grid_search_tax, welfare_frontier
    from sedtheory.theory import verify_all
    from sedtheory.voting import DEFAULT_CANDIDATES, vote_report

    step = _Steps(progress)
    if isinstance(scenario, str) and scenario in ("apple-picking", "apple_picking"):
        game = apple_picking()
        spec: dict[str, Any] = {"name": "apple-picking", **APPLE_PICKING_PARAMETERS}
    else:
        game, spec = load_scenario(scenario)
        spec.setdefault("name", Path(scenario).stem)
    candidates: tuple[float, ...] = tuple(spec.get("candidates", DEFAULT_CANDIDATES))  # type: ignore[arg-type]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, str] = {}

    def figure(name: str, fig: Any) -> None:
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110)
        figures[name] = path.name

    results: dict[str, Any] = {"scenario": _json(spec), "n": game.n}
    step(f"scenario {spec['name']}: {game.n} agents, thresholds {game.tax.thresholds.tolist()}")

    lf = solve_equilibrium(game.with_tax(game.tax.with_rates(np.zeros(game.tax.n_brackets))))
    results["laissez_faire"] = {
        "actions": lf.actions,
        "aggregate": lf.aggregate,
        "utilities": lf.utilities,
        "nash_gap": lf.nash_gap,
        "certificate": lf.certificate,
        "welfare": {p: pmean(lf.utilities, p) for p in candidates},
    }
    step(f"laissez-faire equilibrium: aggregate {lf.aggregate:.3f}, Nash gap {lf.nash_gap:.1e}")

    step("principal's optimum for every candidate p and the agents' votes ...")
    vr = vote_report(game, candidates, rules=MAIN_RULES, manipulation=True)
    prefs = vr.preferences
    winners = {r: vr.winners.loc[r, "winner"] for r in MAIN_RULES}
    p_star = float(winners["copeland"])
    results["voting"] = {
        "candidates": candidates,
        "utilities": prefs.utilities,
        "rankings": [list(r) for r in prefs.rankings],
        "peaks": list(prefs.peaks),
        "single_peaked": prefs.single_peaked,
        "violators": list(prefs.violators),
        "condorcet_winner": vr.condorcet_winner,
        "cycles": vr.cycles,
        "winners": winners,
        "manipulable": {r: w is not None for r, w in vr.manipulations.items()},
        "objective_used": p_star,
    }
    step(f"votes: winner under Copeland p = {format_p(p_star)}; Condorcet winner {vr.condorcet_winner}")

    step("first best and the seed's grid principal for every p ...")
    optimum: dict[float, Any] = {}
    for p, d in zip(prefs.candidates, prefs.designs, strict=True):
        grid = grid_search_tax(game, p, 0.1, engine="batched")
        bound, source = d.upper_bound, d.certificate.source  # computed by optimal_tax
        try:
            fb_ls = first_best(game, p)
            ls = {"status": fb_ls.status, "welfare": fb_ls.welfare, "upper_bound": fb_ls.upper_bound}
        except SedtheoryError as exc:
            ls = {"status": f"unavailable: {exc}"}
        optimum[p] = {
            "rates": d.x,
            "welfare": d.welfare,
            "upper_bound": d.upper_bound,
            "gap": d.gap,
            "status": d.status,
            "method": d.method,
            "certificate": str(d.certificate),
            "nash_gap": d.equilibrium.nash_gap,
            "grid_rates": grid.rates,
            "grid_welfare": grid.welfare,
            "first_best_bound": bound,
            "first_best_source": source,
            "first_best_lump_sum": ls,
            "laissez_faire_welfare": pmean(lf.utilities, p),
        }
    results["principal"] = optimum
    design = prefs.designs[prefs.candidates.index(p_star)]

    step("learning agents and a learning principal under the winning objective ...")
    rounds = 600 if quick else 4000
    learners = {}
    curves = {}
    for learner in ("gradient", "best_response", "hedge", "policy_gradient"):
        c = compare(game, p_star, learner, rounds=rounds, seed=0, design=design)
        learners[learner] = c.row() | {"cce_gap": c.details.get("cce_gap")}
        played = design.welfare - c.regret
        window = min(50, played.size)
        smooth = np.convolve(played, np.ones(window) / window, mode="valid")
        curves[learner] = (c.rounds[window - 1 :] + 1, smooth)
    epochs = 60 if quick else 400
    principals = {}
    regret_curves = {}
    runs: tuple[tuple[str, dict[str, Any]], ...] = (("spsa", {}), ("ucb", {"step": 0.25}))
    for name, opts in runs:
        res = learn_principal(game, p_star, name, epochs=epochs, seed=0, reference=design, **opts)
        principals[name] = {
            "final_rates": res.final_rates,
            "final_welfare": res.final_welfare,
            "second_best": design.welfare,
            "average_regret_end": float(res.average_regret[-1]),
            "epochs": epochs,
            "options": opts,
        }
        regret_curves[name] = (np.arange(1, epochs + 1), res.average_regret)
    results["learning"] = {"p": p_star, "rounds": rounds, "agents": learners, "principals": principals}

    step("theorem registry ...")
    reports = verify_all(instances=10 if quick else None, seed=0)
    results["theorems"] = [
        {
            "name": r.name,
            "kind": r.kind,
            "holds": r.holds,
            "instances": r.instances,
            "skipped": r.skipped,
            "counterexample": str(r.counterexamples[0]) if r.counterexamples else None,
        }
        for r in reports
    ]

    step("figures ...")
    frontier = welfare_frontier(game, ps=candidates, points=11 if quick else 21)
    figure("welfare_frontier", plotting.plot_welfare_frontier(frontier))
    bounds = {p: optimum[p]["first_best_bound"] for p in candidates}
    figure(
        "welfare_vs_p",
        plotting.plot_welfare_vs_p(
            {
                "laissez-faire": lf.utilities,
                f"optimal tax for {plotting.p_label(p_star)}": design.equilibrium.utilities,
                "optimal tax for p = -inf": prefs.designs[0].equilibrium.utilities,
            },
            bound=bounds,
        ),
    )
    figure(
        "tax_schedules",
        plotting.plot_tax_schedule(_distinct_taxes(prefs, (-math.inf, 0.0, 1.0, p_star))),
    )
    top = int(np.argmax(design.x)) if game.tax.n_brackets > 1 else 0
    figure("actions_vs_rate", plotting.plot_actions_vs_rate(game.with_policy(design.policy), top))
    figure(
        "social_graph",
        plotting.plot_social_graph(
            game,
            design.equilibrium.utilities,
            title="Social graph: selfishness (colour) and utility (size)\n"
            f"under the optimal tax for {plotting.p_label(p_star)}",
        ),
    )
    figure(
        "learning_curves",
        plotting.plot_learning_curves(
            curves,
            reference=design.welfare,
            ylabel=f"M_p of the played utilities, {plotting.p_label(p_star)}",
            title="Learning agents under the optimal tax against the analytic second best\n"
            "(moving average over 50 rounds)",
            logx=True,
        ),
    )
    figure(
        "principal_regret",
        plotting.plot_learning_curves(
            regret_curves,
            reference=None,
            ylabel="average regret against optimal_tax",
            xlabel="epoch (agents learn 30 rounds under the posted rates)",
            log=True,
            title="Learning principals (agents: damped best responses)",
        ),
    )
    results["figures"] = figures
    (out_dir / "results.json").write_text(json.dumps(_json(results), indent=2))
    (out_dir / "report.md").write_text(_markdown(spec, game, results, vr, lf, p_star))
    step(f"wrote {out_dir / 'report.md'}, {out_dir / 'results.json'} and {len(figures)} figures")
    if progress:
        _print_summary(results, candidates)
    return results


def _distinct_taxes(prefs: Any, ps: Sequence[float]) -> dict[str, PiecewiseLinearTax]:
    """The optimal taxes of ``ps``, one entry per distinct schedule, labelled with all its p."""
    groups: list[tuple[list[float], PiecewiseLinearTax]] = []
    for p, d in zip(prefs.candidates, prefs.designs, strict=True):
        if p not in ps:
            continue
        for members, tax in groups:
            if np.allclose(tax.rates, d.policy.rates, atol=1e-9):
                members.append(p)
                break
        else:
            groups.append(([p], d.policy))
    return {"optimal for p = " + ", ".join(format_p(p) for p in members): tax for members, tax in groups}


def _print_summary(results: Mapping[str, Any], candidates: Sequence[float]) -> None:
    print()
    print(
        f"{'p':>6} {'optimal tax rates':<26}{'welfare':>10}{'grid (seed)':>13}{'laissez-f.':>12}"
        f"{'upper bound':>13}  status"
    )
    for p in candidates:
        o = results["principal"][p]
        rates = "(" + ", ".join(f"{r:.3f}" for r in o["rates"]) + ")"
        print(
            f"{format_p(p):>6} {rates:<26}{o['welfare']:>10.3f}{o['grid_welfare']:>13.3f}"
            f"{o['laissez_faire_welfare']:>12.3f}{o['first_best_bound']:>13.3f}  {o['status']}"
        )
    v = results["voting"]
    print(f"\nvote: winners {{{', '.join(f'{r}: {format_p(float(w))}' for r, w in v['winners'].items())}}}")
    held = sum(t["holds"] for t in results["theorems"] if t["kind"] == "theorem")
    total = sum(t["kind"] == "theorem" for t in results["theorems"])
    print(f"theorems: {held} of {total} hold on random instances")


def _markdown(
    spec: Mapping[str, Any], game: CommonsGame, results: Mapping[str, Any], vr: Any, lf: Any, p_star: float
) -> str:
    fig = results["figures"]
    lines = [
        f"# SED analysis of the scenario `{spec['name']}`",
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
        f"![social graph]({fig['social_graph']})",
        "",
        "## Without tax (laissez-faire)",
        "",
        f"Equilibrium harvests {np.round(lf.actions, 2).tolist()} (total {lf.aggregate:.2f}), exact Nash gap "
        f"{lf.nash_gap:.1e}. This is the tragedy of the commons: the efficient total is lower.",
        "",
        "## The principal: optimal tax for each objective p",
        "",
        "`welfare` is M_p at the certified equilibrium of the optimal rates; `grid` is the best of the",
        "seed's 1331 policies (rates in steps of 0.1); `upper bound` is the first best (a planner",
        "choosing actions and transfers), so `gap` says how far from the best conceivable outcome.",
        "`best-found` means the search's optimum is certified as an equilibrium and beats every scanned",
        "policy, but the gap to the upper bound is not closed (`optimal` would mean it is).",
        "",
    ]
    rows = []
    for p in results["voting"]["candidates"]:
        o = results["principal"][p]
        rows.append(
            [
                format_p(p),
                "(" + ", ".join(f"{r:.3f}" for r in o["rates"]) + ")",
                o["welfare"],
                o["grid_welfare"],
                o["laissez_faire_welfare"],
                o["first_best_bound"],
                o["gap"],
                f"{o['nash_gap']:.1e}",
                o["status"],
            ]
        )
    lines += table(
        [
            "p",
            "optimal rates",
            "welfare",
            "grid (seed)",
            "laissez-faire",
            "upper bound",
            "gap",
            "Nash gap",
            "status",
        ],
        rows,
    )
    lines += [
        "",
        f"![tax schedules]({fig['tax_schedules']})",
        "",
        f"![welfare against p]({fig['welfare_vs_p']})",
        "",
        "The frontier below shows what the prosocial and the selfish half of the agents can get: the",
        "first best (blue) is out of reach of any tax; the orange line is the best bracket taxes can do.",
        "",
        f"![welfare frontier]({fig['welfare_frontier']})",
        "",
        "Equilibrium actions move with the rates and jump where an agent's utility is not concave;",
        "agents sitting on a threshold over a range of rates are bunching:",
        "",
        f"![actions against a rate]({fig['actions_vs_rate']})",
        "",
        "## The vote over p",
        "",
    ]
    lines += vr.to_markdown().splitlines()
    lines += [
        "",
        f"The report continues with the Copeland winner, p = {format_p(p_star)}.",
        "",
        "## Learning agents and learning principals",
        "",
        f"Agents learning for {results['learning']['rounds']} rounds under the optimal tax for "
        f"p = {format_p(p_star)}:",
        "",
    ]
    rows = [
        [k, v["distance"], v["nash_gap"], v["welfare"], v["ratio_second_best"], v["ratio_first_best"]]
        for k, v in results["learning"]["agents"].items()
    ]
    lines += table(
        ["learner", "distance to equilibrium", "Nash gap", "welfare", "/ second best", "/ first best"], rows
    )
    lines += ["", f"![learning curves]({fig['learning_curves']})", ""]
    rows = [
        [
            k,
            "(" + ", ".join(f"{r:.3f}" for r in v["final_rates"]) + ")",
            v["final_welfare"],
            v["second_best"],
            v["average_regret_end"],
            v["epochs"],
        ]
        for k, v in results["learning"]["principals"].items()
    ]
    lines += table(
        ["principal", "final rates", "final welfare", "second best", "average regret", "epochs"], rows
    )
    lines += [
        "",
        f"![principal regret]({fig['principal_regret']})",
        "",
        "## Theorems checked on random instances",
        "",
    ]
    rows = [
        [
            t["name"],
            t["kind"],
            ("holds" if t["holds"] else "FAILS")
            if t["kind"] == "theorem"
            else ("open" if t["holds"] else "refuted"),
            t["instances"],
            t["skipped"],
            (t["counterexample"] or "")[:80],
        ]
        for t in results["theorems"]
    ]
    lines += table(["statement", "kind", "result", "checked", "skipped", "counterexample"], rows)
    lines += ["", "All numbers are in `results.json`."]
    return "\n".join(lines) + "\n"
