r"""The US-incomes report: current law against each p's optimal brackets (``--scenario us-incomes``).

Stages: load and calibrate the tax units (:func:`~sedtheory.scenarios.us_incomes_data`, a
stratified weighted sample of 10,000 records by default); the certified equilibrium under
current law; for every candidate p the optimal rates at current-law thresholds
(:func:`~sedtheory.principal.optimal_tax`, optimistic selection) with Saez's top rate at that
optimum next to the optimal top rate (:func:`~sedtheory.principal.saez_top_rate`); revenue and
the weighted distribution of utilities; the vote over p with every unit weighted by its mass;
the efficiency-equity frontier traced by the designs; and the model's caveats, stated plainly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.equilibrium import Equilibrium, solve_equilibrium
from sedtheory.errors import SedtheoryError
from sedtheory.scenarios.us_incomes import CAVEATS, USIncomes, us_incomes_data
from sedtheory.welfare import format_p, pmean

__all__ = [
    "EconomyAnalysis",
    "EconomyConfig",
    "PolicyRow",
    "analyse_economy",
    "economy_figures",
    "economy_json",
    "economy_markdown",
]

#: Records in the default weighted sample of the report (``sample=None``: the full file).
DEFAULT_SAMPLE = 10_000


@dataclass(frozen=True)
class EconomyConfig:
    """What the US-incomes report runs on (see :func:`~sedtheory.scenarios.us_incomes`)."""

    year: int = 2026
    filing_status: str = "single"
    sample: int | None = DEFAULT_SAMPLE
    seed: int = 0
    candidates: tuple[float, ...] = (-math.inf, -1.0, 0.0, 0.5, 1.0, math.inf)
    rules: tuple[str, ...] = ("plurality", "borda", "copeland", "median", "instant_runoff")
    quick: bool = False
    #: Optimise the thresholds too (``optimal_tax(..., optimize_thresholds=True)``); default: fixed
    #: at current law.
    optimize_thresholds: bool = False


@dataclass(frozen=True)
class PolicyRow:
    """One candidate p: the optimal design, Saez's top rate there, revenue and welfare."""

    p: float
    design: Any  # TaxDesign
    saez: Any  # TopRate or None
    saez_note: str
    revenue: float  # per person
    welfare: float


@dataclass(frozen=True)
class EconomyAnalysis:
    """Everything the US-incomes report shows."""

    data: USIncomes
    config: EconomyConfig
    current: Equilibrium
    current_revenue: float
    current_welfare: dict[float, float]
    rows: tuple[PolicyRow, ...]
    votes: dict[str, list[float]]
    peaks: dict[float, float]  # p -> share of the population whose favourite it is
    seconds: dict[str, float] = field(default_factory=dict)
    #: p -> relative error of the sample's M_p under current law against the full file (None: no sample)
    sample_error: dict[float, float] | None = None


def _revenue(data: USIncomes, actions: np.ndarray, tax: Any) -> float:
    """Revenue per person, ``sum_i m_i T(a_i) / N``."""
    game = data.game
    return float(game.kernel.total(np.asarray(tax(actions), dtype=float))) / game.population


def _row(data: USIncomes, p: float, design: Any) -> PolicyRow:
    from sedtheory.principal import saez_top_rate

    induced = data.game.with_policy(design.policy)
    try:
        saez, note = saez_top_rate(induced, p, design.equilibrium.actions), ""
    except SedtheoryError as exc:
        saez, note = None, str(exc)
    revenue = _revenue(data, design.equilibrium.actions, design.policy)
    return PolicyRow(p, design, saez, note, revenue, float(design.welfare))


def analyse_economy(config: EconomyConfig = EconomyConfig(), progress: bool = False) -> EconomyAnalysis:
    """The report's numbers (see the module notes)."""
    from sedtheory.principal import optimal_tax
    from sedtheory.voting import preferences_over_p, winners

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    sample = (1_000 if config.quick else config.sample) if config.sample is not None else None
    data = us_incomes_data(config.year, config.filing_status, sample, config.seed)
    game = data.game
    current = solve_equilibrium(game)
    seconds["data_and_current_law"] = time.perf_counter() - t0
    shares = game.welfare_weights
    current_welfare = {p: pmean(current.utilities, p, shares) for p in config.candidates}
    rows = []
    for p in config.candidates:
        t1 = time.perf_counter()
        design = optimal_tax(game, p, progress=progress, optimize_thresholds=config.optimize_thresholds)
        rows.append(_row(data, p, design))
        seconds[f"optimal_tax p={format_p(p)}"] = time.perf_counter() - t1
        if progress:
            took = time.perf_counter() - t1
            print(f"  p = {format_p(p)}: rates {np.round(design.x, 3).tolist()} ({took:.1f} s)", flush=True)
    prefs = preferences_over_p(game, config.candidates, designs={r.p: r.design for r in rows})
    votes = {rule: winners(prefs.rankings, rule, weights=prefs.weights) for rule in config.rules}
    mass = game.society.masses
    favourite = np.array([row[0] for row in prefs.rankings])
    peaks = {p: float(mass[favourite == p].sum() / mass.sum()) for p in config.candidates}
    rev = _revenue(data, current.actions, game.tax)
    error = None if sample is None else _sample_error(config, current_welfare)
    return EconomyAnalysis(
        data, config, current, rev, current_welfare, tuple(rows), votes, peaks, seconds, error
    )


def _sample_error(config: EconomyConfig, sampled: dict[float, float]) -> dict[float, float]:
    """The sample's error on welfare under current law, against the full file (about a second)."""
    full = us_incomes_data(config.year, config.filing_status, None)
    u = solve_equilibrium(full.game).utilities
    shares = full.game.welfare_weights
    return {p: abs(w - pmean(u, p, shares)) / abs(pmean(u, p, shares)) for p, w in sampled.items()}


def economy_figures(a: EconomyAnalysis) -> dict[str, Any]:
    """Tax schedules, welfare against p, the utility distribution and the frontier."""
    from sedtheory import plotting

    game = a.data.game
    taxes = {"current law": game.tax}
    for r in a.rows:
        if r.p in (-math.inf, 0.0, 1.0):
            taxes[f"optimal, p = {format_p(r.p)}"] = r.design.policy
    upper = 1.3 * float(game.tax.thresholds[-1])
    utilities = {"current law": a.current.utilities}
    utilities |= {
        f"optimal for p = {format_p(r.p)}": r.design.equilibrium.utilities
        for r in a.rows
        if r.p in (-math.inf, 0.0)
    }
    return {
        "us_tax_schedules": plotting.plot_tax_schedule(taxes, upper=upper),
        "us_welfare_vs_p": plotting.plot_welfare_vs_p(utilities, weights=game.welfare_weights),
        "us_utility_distribution": _distribution(a, utilities),
        "us_frontier": _frontier(a),
    }


def _quantiles(values: np.ndarray, mass: np.ndarray, qs: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(mass[order]) / mass.sum()
    return values[order][np.minimum(np.searchsorted(cum, qs), values.size - 1)]


def _distribution(a: EconomyAnalysis, utilities: dict[str, np.ndarray]) -> Any:
    import matplotlib.pyplot as plt

    mass = a.data.game.society.masses
    qs = np.linspace(0.005, 0.995, 199)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, u in utilities.items():
        ax.plot(qs * 100, _quantiles(np.asarray(u), mass, qs), lw=2, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("population percentile (weighted by the units' masses)")
    ax.set_ylabel("utility (dollars, log scale)")
    ax.set_title("Distribution of utilities")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _frontier(a: EconomyAnalysis) -> Any:
    import matplotlib.pyplot as plt

    shares = a.data.game.welfare_weights
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    pts = [
        (
            pmean(r.design.equilibrium.utilities, 1.0, shares),
            pmean(r.design.equilibrium.utilities, 0.0, shares),
        )
        for r in a.rows
    ]
    ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", label="optimal brackets for each p")
    for (x, y), r in zip(pts, a.rows, strict=True):
        ax.annotate(f"p = {format_p(r.p)}", (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    cur = a.current.utilities
    ax.plot([pmean(cur, 1.0, shares)], [pmean(cur, 0.0, shares)], "s", color="black", label="current law")
    ax.set_xlabel("efficiency: mean utility M_1")
    ax.set_ylabel("equity: geometric mean M_0")
    ax.set_title("Efficiency-equity frontier traced by the p-optimal brackets")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def economy_json(a: EconomyAnalysis, files: dict[str, str]) -> dict[str, Any]:
    """The report's numbers as JSON-ready data."""
    d, game = a.data, a.data.game
    return {
        "scenario": "us-incomes",
        "data": {
            "note": d.units.note,
            "records": d.units.n,
            "population": game.population,
            "year": d.law.year,
            "filing_status": d.law.filing_status,
            "zero_wage_units": int(d.calibration.zero_wage.sum()),
            "bunchers": int(d.calibration.bunchers.sum()),
        },
        "current_law": {
            "thresholds": d.law.thresholds.tolist(),
            "rates": d.law.rates.tolist(),
            "nash_gap": a.current.nash_gap,
            "revenue_per_person": a.current_revenue,
            "welfare": {format_p(p): w for p, w in a.current_welfare.items()},
        },
        "optimal": [
            {
                "p": format_p(r.p),
                "rates": r.design.policy.rates.tolist(),
                "thresholds": r.design.policy.thresholds.tolist(),
                "welfare": r.welfare,
                "upper_bound": r.design.upper_bound,
                "status": r.design.status,
                "revenue_per_person": r.revenue,
                "saez_top_rate": None if r.saez is None else r.saez.rate,
                "saez_note": r.saez_note,
            }
            for r in a.rows
        ],
        "votes": {rule: [format_p(p) for p in w] for rule, w in a.votes.items()},
        "favourite_shares": {format_p(p): s for p, s in a.peaks.items()},
        "sample_error_current_law": None
        if a.sample_error is None
        else {format_p(p): e for p, e in a.sample_error.items()},
        "caveats": list(CAVEATS),
        "seconds": a.seconds,
        "figures": files,
    }


def _schedule(tax: Any, thresholds: bool) -> str:
    rates = ", ".join(f"{x:.3f}" for x in tax.rates)
    if not thresholds:
        return rates
    return rates + " at " + ", ".join(f"{t:,.0f}" for t in tax.thresholds)


def economy_markdown(a: EconomyAnalysis, files: dict[str, str]) -> str:
    """The report as Markdown."""
    d, game = a.data, a.data.game
    lines = [
        f"# US tax units under current law ({d.law.year}, {d.law.filing_status} schedule)",
        "",
        f"{d.units.n} records ({d.units.note}) standing for {game.population:,.0f} tax units. "
        f"Productivities are calibrated so that the equilibrium under current law reproduces every "
        f"observed wage ({int(d.calibration.zero_wage.sum())} zero-wage records get the smallest "
        f"calibrated productivity; {int(d.calibration.bunchers.sum())} sit at a kink).",
        "",
        "**Where this model is a caricature:**",
        "",
        *[f"- {c}" for c in CAVEATS],
        "",
        "## Current law and each p's optimal rates "
        + (
            "(thresholds optimised too)"
            if a.config.optimize_thresholds
            else "(thresholds fixed at current law)"
        ),
        "",
        "| | rates | M_p | upper bound | status | revenue per person | Saez top rate |",
        "|---|---|---|---|---|---|---|",
        f"| current law | {', '.join(f'{r:.3f}' for r in d.law.rates)} | | | certified equilibrium "
        f"(gap {a.current.nash_gap:.1e}) | {a.current_revenue:,.0f} | |",
    ]
    for r in a.rows:
        saez = (
            "n/a"
            if r.saez is None
            else f"{r.saez.rate:.3f} (a = {r.saez.pareto:.2f}, g = {r.saez.mean_weight:.2f})"
        )
        lines.append(
            f"| p = {format_p(r.p)} | {_schedule(r.design.policy, a.config.optimize_thresholds)} "
            f"| {r.welfare:,.2f} "
            f"(current law {a.current_welfare[r.p]:,.2f}) | {r.design.upper_bound:,.2f} | {r.design.status} "
            f"| {r.revenue:,.0f} | {saez} |"
        )
    lines += ["", "## The vote over p (every unit weighted by its mass)", ""]
    lines += [f"- {rule}: {', '.join(format_p(p) for p in w)}" for rule, w in a.votes.items()]
    lines += [
        "",
        "Share of the population whose favourite p it is: "
        + ", ".join(f"{format_p(p)}: {s:.1%}" for p, s in a.peaks.items()),
        "",
    ]
    if a.sample_error is not None:
        lines += [
            "The sample's error against the full file, on welfare under current law: "
            + ", ".join(f"M_{format_p(p)} {e:.1e}" for p, e in a.sample_error.items())
            + " (relative).",
            "",
        ]
    lines += [f"![{key}]({name})" for key, name in files.items()]
    return "\n".join(lines) + "\n"
