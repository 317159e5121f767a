r"""The report's dynamic section: the scenario's orchard as the seed's T-step Markov game.

When a scenario has ``dynamic:`` settings (horizon, discount, regrowth, initial stock, grid) the
report adds: the laissez-faire Markov perfect equilibrium and its stock path (certified by
one-shot deviations in the true game), the principal's constant rates for the elected p
(:func:`~sedtheory.principal.optimal_tax` on the dynamic game), the planner's first best for that
p (or ``p = 1`` where the elected p has no certified planner), the steady states (stationary MPE
and planner, maximum sustainable yield, collapse), three figures and a JSON block.

Scenario keys (all optional inside ``dynamic:``)::

    dynamic:
      horizon: 20            # steps, or "inf" (needs discount < 1)
      discount: 0.95
      regrowth: logistic     # logistic | melting_pot
      initial_stock: 100     # default: the capacity K = 100
      grid: 101              # stock grid points
      optimise: true         # run the principal on the dynamic game (a few minutes at n = 7)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sedtheory.equilibrium import Equilibrium, solve_equilibrium
from sedtheory.errors import SedtheoryError
from sedtheory.games.dynamic import DynamicCommonsGame
from sedtheory.welfare import format_p

__all__ = ["DynamicAnalysis", "analyse_dynamic", "dynamic_figures", "dynamic_json", "dynamic_markdown"]


@dataclass(frozen=True)
class DynamicAnalysis:
    """Everything the dynamic section shows (see the module notes)."""

    game: DynamicCommonsGame
    p: float
    laissez_faire: Equilibrium
    design: Any  # TaxDesign or None (not optimised)
    plan: Any  # DynamicPlan or None (no certified planner for p)
    steady: Any  # SteadyStates or None (finite horizon with discount 1)
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    def stock_paths(self) -> dict[str, np.ndarray]:
        """Stock paths by name: laissez-faire MPE, MPE under the optimal rates, planner."""
        out = {"laissez-faire MPE": self.game.path(self.laissez_faire.actions).stocks}
        if self.design is not None:
            induced = self.game.with_policy(self.design.tax)
            out[f"MPE, optimal rates for p = {format_p(self.p)}"] = induced.path(
                self.design.equilibrium.actions
            ).stocks
        if self.plan is not None:
            out[f"planner, p = {format_p(self.plan.objective.p)}"] = self.plan.stocks
        return out


def analyse_dynamic(
    game: DynamicCommonsGame, p: float, optimise: bool = True, quick: bool = False
) -> DynamicAnalysis:
    """The dynamic section's numbers for the elected ``p``."""
    from sedtheory.principal import dynamic_first_best, optimal_tax, steady_states

    notes: list[str] = []
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    lf = solve_equilibrium(game, raise_on_failure=False)
    if not lf.converged:
        notes.append(
            f"the laissez-faire MPE is not certified to 1e-4 (relative gap {lf.relative_nash_gap:.2e})"
        )
    seconds["laissez_faire"] = time.perf_counter() - t0
    design = None
    if optimise:
        t0 = time.perf_counter()
        try:
            if quick:
                design = optimal_tax(game, p, resolution=2, min_step=0.05, starts=1)
            else:
                design = optimal_tax(game, p)
        except SedtheoryError as exc:
            notes.append(f"the principal on the dynamic game failed: {exc}")
        seconds["principal"] = time.perf_counter() - t0
    plan = None
    for q in dict.fromkeys((float(p), 1.0)):  # the elected p, then p = 1 (once if p is 1)
        try:
            plan = dynamic_first_best(game, q)
            if q != p:
                notes.append(f"no certified planner for p = {format_p(p)}; the first best shown is for p = 1")
            break
        except SedtheoryError as exc:
            notes.append(f"first best for p = {format_p(q)}: {exc}")
    steady = None
    if game.discount < 1.0 and not quick:
        t0 = time.perf_counter()
        steady = steady_states(game, lf)
        seconds["steady_states"] = time.perf_counter() - t0
    return DynamicAnalysis(game, float(p), lf, design, plan, steady, tuple(notes), seconds)


def dynamic_figures(a: DynamicAnalysis) -> dict[str, Any]:
    """Stock paths, the laissez-faire policy functions at step 0, the regrowth map."""
    from sedtheory import plotting

    return {
        "dynamic_stock_paths": plotting.plot_stock_paths(a.stock_paths(), capacity=a.game.regrowth.capacity),
        "dynamic_policies": plotting.plot_policy_functions(
            a.game, a.laissez_faire.actions, 0, title="Laissez-faire Markov perfect policies at step 0"
        ),
        "dynamic_regrowth": plotting.plot_regrowth_map(a.game.regrowth, a.steady),
    }


def dynamic_json(a: DynamicAnalysis) -> dict[str, Any]:
    """The section's numbers as plain data."""
    paths = {k: v.tolist() for k, v in a.stock_paths().items()}
    out: dict[str, Any] = {
        "game": repr(a.game),
        "p": format_p(a.p),
        "laissez_faire": {
            "mean_utility": float(np.mean(a.laissez_faire.utilities)),
            "relative_nash_gap": a.laissez_faire.relative_nash_gap,
            "certified": a.laissez_faire.converged,
        },
        "stock_paths": paths,
        "notes": list(a.notes),
        "seconds": a.seconds,
    }
    if a.design is not None:
        out["principal"] = {
            "rates": a.design.rates.tolist(),
            "welfare": a.design.welfare,
            "upper_bound": a.design.upper_bound,
            "status": a.design.status,
        }
    if a.plan is not None:
        out["first_best"] = {
            "p": format_p(a.plan.objective.p),
            "welfare": a.plan.welfare,
            "upper_bound": a.plan.certificate.upper,
            "method": a.plan.method,
        }
    if a.steady is not None:
        out["steady_states"] = {
            "mpe": [(s.stock, s.stable) for s in a.steady.mpe],
            "planner": a.steady.planner.stock,
            "maximum_sustainable_yield": list(a.steady.maximum_sustainable_yield),
            "collapses": a.steady.collapses,
            "collapse_step": a.steady.collapse_step,
        }
    return out


def dynamic_markdown(a: DynamicAnalysis, fig: Mapping[str, str]) -> list[str]:
    """The section's Markdown lines."""
    g, lf = a.game, a.laissez_faire
    stocks = a.stock_paths()
    lines = [
        "## The dynamic commons (the seed's T-step Markov game)",
        "",
        f"{g.n} agents, horizon {g.horizon}, discount {g.discount}, regrowth `{g.regrowth.name}`, "
        f"initial stock {g.initial_stock:g}, stock grid of {g.grid.size} points.",
        "",
        "| policy | mean utility | final stock | certificate |",
        "|---|---|---|---|",
        f"| laissez-faire MPE | {np.mean(lf.utilities):.4f} | {stocks['laissez-faire MPE'][-1]:.3f} | "
        f"relative Nash gap {lf.relative_nash_gap:.1e} (one-shot deviations in the true game) |",
    ]
    if a.design is not None:
        final = [v for k, v in stocks.items() if k.startswith("MPE, optimal")][0][-1]
        lines.append(
            f"| optimal constant rates ({', '.join(f'{r:.3f}' for r in a.design.rates)}) "
            f"for p = {format_p(a.p)} | "
            f"{np.mean(a.design.equilibrium.utilities):.4f} | {final:.3f} | {a.design.status}, "
            f"M_p {a.design.welfare:.4f} <= {a.design.upper_bound:.4f} |"
        )
    if a.plan is not None:
        lines.append(
            f"| planner (first best, p = {format_p(a.plan.objective.p)}) | {np.mean(a.plan.utilities):.4f} | "
            f"{a.plan.stocks[-1]:.3f} | {a.plan.method}, {a.plan.certificate.status} |"
        )
    if a.steady is not None:
        st = a.steady
        mpe = ", ".join(f"{s.stock:.2f} ({'stable' if s.stable else 'unstable'})" for s in st.mpe)
        lines += [
            "",
            f"Steady states: stationary MPE {mpe}; planner {st.planner.stock:.2f}; maximum sustainable "
            f"yield {st.maximum_sustainable_yield[1]:.3f} at escapement "
            f"{st.maximum_sustainable_yield[0]:.2f}. "
            + (
                f"Laissez-faire empties the orchard at step {st.collapse_step}."
                if st.collapses
                else "Laissez-faire keeps the orchard alive to the horizon."
            ),
        ]
    lines += [f"- {note}" for note in a.notes]
    lines += [
        "",
        f"![stock paths]({fig.get('dynamic_stock_paths', '')})",
        f"![policies]({fig.get('dynamic_policies', '')})",
        f"![regrowth]({fig.get('dynamic_regrowth', '')})",
        "",
    ]
    return lines
