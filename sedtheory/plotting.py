r"""Figures of the SED analysis (matplotlib); every function returns the ``Figure``.

* :func:`plot_welfare_frontier` - first best vs second best vs laissez-faire for two groups,
  with each p's optimum marked;
* :func:`plot_welfare_vs_p` - welfare M_p of several policies against p;
* :func:`plot_tax_schedule` - average and marginal tax rates against income (harvest);
* :func:`plot_actions_vs_rate` - equilibrium actions against one bracket's rate, with the
  thresholds (bunching shows as flat segments on a threshold);
* :func:`plot_social_graph` - the social graph coloured by selfishness, sized by utility;
* :func:`plot_learning_curves` - learned welfare or Nash gap against rounds with the analytic
  value;
* :func:`plot_stock_paths` - stock paths of the dynamic commons (laissez-faire, optimal tax,
  planner, learners) against the step;
* :func:`plot_policy_functions` - Markov policies :math:`h_i(t, S)` against the stock;
* :func:`plot_regrowth_map` - the regrowth map :math:`G` with the 45-degree line, its steady
  states, the maximum sustainable yield and (optionally) the MPE and planner steady states.

Importing this module does not choose a backend; scripts that save files use ``Agg``.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import sedtheory as sed
>>> from sedtheory.plotting import plot_tax_schedule
>>> fig = plot_tax_schedule(sed.PiecewiseLinearTax([0, 10, 20], [0.1, 0.3, 0.6]))
>>> [ax.get_xlabel() for ax in fig.axes]
['harvest (income)']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium.batch import policy_equilibria
from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame
from sedtheory.principal.frontier import WelfareFrontier
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import format_p, pmean, pmean_or_minus_inf

__all__ = [
    "plot_welfare_frontier",
    "plot_welfare_vs_p",
    "plot_tax_schedule",
    "plot_actions_vs_rate",
    "plot_social_graph",
    "plot_learning_curves",
    "plot_policy_functions",
    "plot_regrowth_map",
    "plot_stock_paths",
    "p_label",
]


def _figure(figsize: tuple[float, float]) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def p_label(p: float) -> str:
    """``p = -inf``, ``p = 0`` (Nash), ... for legends."""
    names = {-math.inf: " (egalitarian)", 0.0: " (Nash)", 1.0: " (utilitarian)", math.inf: " (elitist)"}
    return f"p = {format_p(p)}{names.get(p, '')}"


def plot_welfare_frontier(frontier: WelfareFrontier, title: str | None = None) -> Any:
    """First-best frontier, second-best (bracket-tax) frontier, every evaluated policy, laissez-faire,
    and each p's optimum (second best: filled marker; first best: open marker)."""
    if not isinstance(frontier, WelfareFrontier):
        raise InvalidParameterError("frontier", frontier, "pass the result of sedtheory.welfare_frontier")
    fig, ax = _figure((7.0, 5.0))
    ax.scatter(*frontier.policies.T, s=6, color="0.75", label="bracket-tax policies (equilibria)")
    fb = frontier.first_best
    if fb.size:
        ax.plot(*fb.T, color="tab:blue", lw=2, label="first best (planner, tax-feasible transfers)")
    sb = frontier.second_best
    if sb.size:
        ax.plot(*sb.T, color="tab:orange", lw=2, marker=".", label="second best (Pareto-efficient taxes)")
    ax.scatter(*frontier.laissez_faire, marker="s", s=60, color="black", zorder=5, label="laissez-faire")
    cmap = _cmap(len(frontier.optima))
    for i, (p, opt) in enumerate(sorted(frontier.optima.items())):
        ax.scatter(
            *opt["second_best"],
            marker="o",
            s=70,
            color=cmap[i],
            edgecolor="black",
            zorder=6,
            label=p_label(p),
        )
        if opt.get("first_best") is not None:
            ax.scatter(
                *opt["first_best"], marker="o", s=70, facecolor="none", edgecolor=cmap[i], lw=2, zorder=6
            )
    what = "utility" if frontier.welfare_of == "utility" else "payoff"
    ax.set_xlabel(f"mean {what} of {frontier.labels[0]}")
    ax.set_ylabel(f"mean {what} of {frontier.labels[1]}")
    ax.set_title(
        title
        or "Utility-possibility frontier\n(filled: optimal tax for each p; open: first best for the same p)"
    )
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    return fig


def _cmap(k: int) -> list[Any]:
    from matplotlib import colormaps

    cm = colormaps["viridis"]
    return [cm(x) for x in np.linspace(0.0, 0.9, max(k, 1))]


def plot_welfare_vs_p(
    policies: Mapping[str, npt.ArrayLike],
    ps: Sequence[float] | None = None,
    bound: Mapping[float, float] | None = None,
    title: str | None = None,
    weights: npt.ArrayLike | None = None,
) -> Any:
    """``M_p`` of each policy's utilities against p (``-inf`` and ``inf`` drawn at the ends).

    Parameters
    ----------
    policies : mapping name -> utilities (n,)
    ps : sequence of float, optional
        Finite p to draw (default -10..10); the limits are added as end markers.
    bound : mapping p -> float, optional
        An upper bound (e.g. the first best) drawn as a dashed line.
    weights : array_like, optional
        The agents' p-mean weights (population shares), default equal.
    """
    if not policies:
        raise InvalidParameterError("policies", policies, "pass at least one policy's utilities")
    grid = np.linspace(-10, 10, 81) if ps is None else np.asarray([p for p in ps if math.isfinite(p)], float)
    fig, ax = _figure((7.5, 4.5))
    lo, hi = float(grid.min()), float(grid.max())
    span = hi - lo
    for name, u in policies.items():
        vals = np.asarray(u, dtype=float)
        # M_p is undefined (-inf by the rows convention) where the values leave its domain, e.g.
        # negative utilities for p <= 0: those points are left out of the curve, and the label says so
        curve = np.array([pmean_or_minus_inf(vals, p, weights) for p in grid])
        shown = np.isfinite(curve)
        label = name if shown.all() else f"{name} (drawn only where M_p is defined)"
        line = ax.plot(grid, np.where(shown, curve, np.nan), lw=2, label=label)[0]
        ax.scatter(
            [lo - 0.06 * span, hi + 0.06 * span],
            [pmean(vals, -math.inf, weights), pmean(vals, math.inf, weights)],
            color=line.get_color(),
            marker="D",
            s=25,
        )
    if bound:
        pts = sorted((p, b) for p, b in bound.items() if math.isfinite(b))
        if pts:
            xs = [
                lo - 0.06 * span if p == -math.inf else hi + 0.06 * span if p == math.inf else p
                for p, _ in pts
            ]
            ax.plot(
                xs, [b for _, b in pts], ls="--", color="black", marker="x", label="upper bound (first best)"
            )
    ticks = list(np.linspace(lo, hi, 5))
    ax.set_xticks([lo - 0.06 * span, *ticks, hi + 0.06 * span], ["-inf", *[f"{t:g}" for t in ticks], "inf"])
    ax.set_xlabel("p (the objective's inequality aversion: -inf egalitarian, 0 Nash, 1 utilitarian)")
    ax.set_ylabel("welfare M_p of the agents' utilities")
    ax.set_title(title or "Welfare against p for each policy")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_tax_schedule(
    tax: PiecewiseLinearTax | Mapping[str, PiecewiseLinearTax], upper: float | None = None
) -> Any:
    """Marginal (steps) and average (smooth) tax rates against income, for one or several taxes."""
    taxes = {"tax": tax} if isinstance(tax, PiecewiseLinearTax) else dict(tax)
    if not taxes or not all(isinstance(t, PiecewiseLinearTax) for t in taxes.values()):
        raise InvalidParameterError("tax", tax, "pass a PiecewiseLinearTax or a mapping name -> tax")
    top = upper or 1.5 * max(float(t.thresholds[-1]) for t in taxes.values()) + 5.0
    y = np.linspace(1e-6, top, 600)
    fig, ax = _figure((9.0, 4.2))
    for name, t in taxes.items():
        line = ax.step(y, t.marginal_rate(y), where="post", lw=2, label=f"{name}: marginal rate")[0]
        ax.plot(y, t.average_rate(y), ls="--", color=line.get_color(), label=f"{name}: average rate")
        for tau in t.thresholds[1:]:
            ax.axvline(float(tau), color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("harvest (income)")
    ax.set_ylabel("tax rate")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title("Tax schedule (grey lines: bracket thresholds)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    return fig


def plot_actions_vs_rate(
    game: CommonsGame, bracket: int, rates: npt.ArrayLike | None = None, points: int = 201
) -> Any:
    """Equilibrium actions of every agent as one bracket's rate varies (others fixed).

    Agents whose action sits on a threshold over a range of rates are *bunching*: the flat
    segments on the dotted threshold lines.
    """
    b = game.tax.n_brackets
    if isinstance(bracket, bool) or not isinstance(bracket, int | np.integer) or not 0 <= bracket < b:
        raise InvalidParameterError("bracket", bracket, f"use a bracket index in 0..{b - 1}")
    grid = np.linspace(0, 1, points) if rates is None else np.asarray(rates, dtype=float)
    base = np.repeat(game.tax.rates[None, :], grid.size, axis=0)
    base[:, bracket] = grid
    batch = policy_equilibria(game, base)
    fig, ax = _figure((7.0, 4.5))
    colors = _cmap(game.n)
    sigma = game.society.selfishness
    for i in range(game.n):
        ax.plot(
            grid,
            batch.actions[:, i],
            color=colors[i],
            lw=1.5,
            label=f"agent {i} (sigma {sigma[i]:.2f})" if game.n <= 12 else None,
        )
    for tau in game.tax.thresholds[1:]:
        ax.axhline(float(tau), color="black", ls=":", lw=1)
    lo = game.tax.thresholds[bracket]
    ax.set_xlabel(
        f"marginal rate of bracket {bracket} (harvest above {lo:g}); "
        f"other rates {np.round(game.tax.rates, 2).tolist()}"
    )
    ax.set_ylabel("equilibrium harvest")
    ax.set_title(
        "Equilibrium actions against one bracket's rate\n(dotted: thresholds; flat on a threshold = bunching)"
    )
    if game.n <= 12:
        ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def plot_social_graph(
    game: CommonsGame,
    utilities: npt.ArrayLike | None = None,
    seed: int = 0,
    title: str | None = None,
    max_nodes: int = 2000,
) -> Any:
    """The social graph: node colour = selfishness, node size = utility (if given). Above
    ``max_nodes`` agents the subgraph of the first ``max_nodes`` is drawn (a layout of 10^5 nodes
    takes hours and shows nothing); the title says so."""
    g = game.society.graph
    shown = min(game.n, max_nodes)
    if g is None:
        graph = nx.complete_graph(shown)
    else:
        graph = nx.Graph(g) if shown == game.n else nx.Graph(g.subgraph(range(shown)))
    pos = nx.circular_layout(graph) if shown <= 12 else nx.spring_layout(graph, seed=seed)
    fig, ax = _figure((6.0, 5.0))
    sigma = game.society.selfishness[:shown]
    if utilities is not None:
        utilities = np.asarray(utilities, dtype=float)[:shown]
    if shown < game.n:
        title = f"{title or 'Social graph'}\n(agents 0-{shown - 1} of {game.n})"
    if utilities is None:
        sizes = np.full(shown, 300.0)
    else:
        u = np.asarray(utilities, dtype=float)
        span = float(np.ptp(u)) or 1.0
        sizes = 150.0 + 650.0 * (u - u.min()) / span
    nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.4)
    nodes = nx.draw_networkx_nodes(
        graph,
        pos,
        ax=ax,
        node_color=sigma,
        cmap="coolwarm",
        vmin=0,
        vmax=1,
        node_size=sizes,
        edgecolors="black",
    )
    if shown <= 30:
        nx.draw_networkx_labels(graph, pos, ax=ax, font_size=8)
    fig.colorbar(nodes, ax=ax, label="selfishness sigma (0 prosocial, 1 selfish)")
    ax.set_title(title or ("Social graph (node size: utility)" if utilities is not None else "Social graph"))
    ax.set_axis_off()
    return fig


def plot_learning_curves(
    curves: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]],
    reference: float | None = None,
    ylabel: str = "welfare M_p of the played utilities",
    reference_label: str = "analytic second best",
    log: bool = False,
    title: str | None = None,
    logx: bool = False,
    xlabel: str = "round",
) -> Any:
    """Learning curves (x, y) per learner against an analytic reference line (log axes optional)."""
    if not curves:
        raise InvalidParameterError("curves", curves, "pass name -> (rounds, values)")
    fig, ax = _figure((7.5, 4.5))
    for name, (x, y) in curves.items():
        ax.plot(np.asarray(x), np.asarray(y), lw=1.5, label=name)
    if reference is not None:
        ax.axhline(reference, color="black", ls="--", label=reference_label)
    if log:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Learning against the analytic value")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_stock_paths(
    paths: Mapping[str, npt.ArrayLike], capacity: float | None = None, title: str | None = None
) -> Any:
    """Stock paths ``S_0 .. S_T`` (name -> stocks) of the dynamic commons against the step."""
    if not paths:
        raise InvalidParameterError("paths", paths, "pass name -> stocks (S_0 .. S_T)")
    fig, ax = _figure((7.5, 4.5))
    for name, stocks in paths.items():
        s = np.asarray(stocks, dtype=float)
        if s.ndim != 1 or not np.all(np.isfinite(s)):
            raise InvalidParameterError("paths", name, "each path must be a 1-D array of finite stocks")
        ax.plot(np.arange(s.size), s, marker="o", ms=3, lw=1.5, label=name)
    if capacity is not None:
        ax.axhline(capacity, color="grey", ls=":", label="capacity K")
    ax.set_xlabel("step t")
    ax.set_ylabel("stock S_t (apples)")
    ax.set_title(title or "Stock paths of the dynamic commons")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_policy_functions(game: Any, policies: npt.ArrayLike, step: int = 0, title: str | None = None) -> Any:
    """Each agent's Markov policy :math:`h_i(t, S)` at step ``step`` against the stock (a
    DynamicCommonsGame's grid), with the stock itself (demands above it empty the orchard)."""
    grid = np.asarray(getattr(game, "grid", None), dtype=float)
    a = game.check_actions(policies)
    if not 0 <= int(step) < a.shape[0]:
        raise InvalidParameterError("step", step, f"use a step in [0, {a.shape[0] - 1}]")
    fig, ax = _figure((7.5, 4.5))
    for i in range(a.shape[2]):
        ax.plot(grid, a[int(step), :, i], lw=1.2, label=f"agent {i}")
    ax.plot(grid, grid, color="black", ls="--", lw=1, label="the stock S")
    ax.set_ylim(0.0, max(float(a[int(step)].max()), 1e-9) * 1.05)
    ax.set_xlabel("stock S")
    ax.set_ylabel(f"demand h_i({int(step)}, S)")
    ax.set_title(title or "Markov perfect policies")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def plot_regrowth_map(regrowth: Any, steady: Any = None, title: str | None = None) -> Any:
    """The regrowth map :math:`G(E)` with the 45-degree line, its fixed points and the maximum
    sustainable yield; with ``steady`` (a :class:`~sedtheory.principal.SteadyStates`) also the
    stationary MPE's steady states (filled: stable) and the planner's."""
    if not callable(regrowth) or not hasattr(regrowth, "capacity"):
        raise InvalidParameterError("regrowth", regrowth, "pass a Regrowth (e.g. game.regrowth)")
    cap = float(regrowth.capacity)
    e = np.linspace(0.0, cap, 801)
    fig, ax = _figure((6.0, 5.0))
    ax.plot(e, regrowth(e), lw=2, label=f"G(E) ({regrowth.name})")
    ax.plot(e, e, color="black", ls="--", lw=1, label="45-degree line")
    msy_e, msy = regrowth.maximum_sustainable_yield()
    ax.vlines(msy_e, msy_e, msy_e + msy, color="tab:green", lw=2, label=f"max sustainable yield {msy:.3g}")
    if steady is not None:
        for k, st in enumerate(steady.mpe):
            ax.plot(
                st.stock,
                st.stock,
                "o",
                color="tab:red",
                mfc="tab:red" if st.stable else "white",
                label="MPE steady states (filled: stable)" if k == 0 else None,
            )
        ax.plot(
            steady.planner.stock,
            steady.planner.stock,
            "*",
            ms=12,
            color="tab:purple",
            label="planner steady state",
        )
    ax.set_xlabel("escapement E")
    ax.set_ylabel("next stock G(E)")
    ax.set_title(title or "Regrowth and steady states")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
