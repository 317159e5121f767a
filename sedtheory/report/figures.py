"""Stage 2 of the report: ``figures(analysis) -> {name: matplotlib Figure}``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sedtheory.report.analysis import Analysis
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import format_p

__all__ = ["distinct_taxes", "figures"]


def distinct_taxes(analysis: Analysis, ps: Sequence[float]) -> dict[str, PiecewiseLinearTax]:
    """The optimal taxes of ``ps``, one entry per distinct schedule, labelled with all its p."""
    groups: list[tuple[list[float], PiecewiseLinearTax]] = []
    for o in analysis.objectives:
        if o.p not in ps:
            continue
        for members, tax in groups:
            if np.allclose(tax.rates, o.design.policy.rates, atol=1e-9):
                members.append(o.p)
                break
        else:
            groups.append(([o.p], o.design.policy))
    return {"optimal for p = " + ", ".join(format_p(p) for p in members): tax for members, tax in groups}


def figures(analysis: Analysis) -> dict[str, Any]:
    """The report's seven figures (frontier, welfare against p, taxes, bunching, graph, learning)."""
    from sedtheory import plotting

    a, design, p_star, game = analysis, analysis.design, analysis.p_star, analysis.game
    label = plotting.p_label(p_star)
    bounds = {o.p: o.design.upper_bound for o in a.objectives}
    utilities = {
        "laissez-faire": a.laissez_faire.utilities,
        f"optimal tax for {label}": design.equilibrium.utilities,
        "optimal tax for p = -inf": a.objectives[0].design.equilibrium.utilities,
    }
    top = int(np.argmax(design.x)) if game.tax.n_brackets > 1 else 0
    curves = {o.name: o.curve for o in a.learners}
    regret = {
        name: (np.arange(1, len(res.average_regret) + 1), res.average_regret) for name, _, res in a.principals
    }
    dynamic: dict[str, Any] = {}
    if a.dynamic is not None:
        from sedtheory.report.dynamic import dynamic_figures

        dynamic = dynamic_figures(a.dynamic)
    return dynamic | {
        "welfare_frontier": plotting.plot_welfare_frontier(a.frontier),
        "welfare_vs_p": plotting.plot_welfare_vs_p(utilities, bound=bounds),
        "tax_schedules": plotting.plot_tax_schedule(distinct_taxes(a, (-math.inf, 0.0, 1.0, p_star))),
        "actions_vs_rate": plotting.plot_actions_vs_rate(game.with_policy(design.policy), top),
        "social_graph": plotting.plot_social_graph(
            game,
            design.equilibrium.utilities,
            title=f"Social graph: selfishness (colour) and utility (size)\nunder the optimal tax for {label}",
        ),
        "learning_curves": plotting.plot_learning_curves(
            curves,
            reference=design.welfare,
            ylabel=f"M_p of the played utilities, {label}",
            title="Learning agents under the optimal tax against the analytic second best\n"
            "(moving average over 50 rounds)",
            logx=True,
        ),
        "principal_regret": plotting.plot_learning_curves(
            regret,
            reference=None,
            ylabel="average regret against optimal_tax",
            xlabel="epoch (agents learn 30 rounds under the posted rates)",
            log=True,
            title="Learning principals (agents: damped best responses)",
        ),
    }
