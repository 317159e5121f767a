"""Every plotting function returns a labelled matplotlib Figure; bad input gets typed errors."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import sedtheory as sed  # noqa: E402
from sedtheory import plotting  # noqa: E402
from sedtheory.errors import InvalidParameterError  # noqa: E402


def _labelled(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title()
    if ax.axison:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_every_plot() -> None:
    game = sed.scenarios.apple_picking()
    lf = sed.solve_equilibrium(game)
    opt = sed.optimal_tax(game, 0.0, bound=False)
    frontier = sed.welfare_frontier(game, ps=(-math.inf, 1.0), points=5, resolution=6)
    figs = [
        plotting.plot_welfare_frontier(frontier),
        plotting.plot_welfare_vs_p(
            {"laissez-faire": lf.utilities, "p = 0": opt.equilibrium.utilities}, bound={0.0: 80.0}
        ),
        plotting.plot_tax_schedule(opt.tax),
        plotting.plot_actions_vs_rate(game.with_tax(opt.tax), 1, points=21),
        plotting.plot_social_graph(game, lf.utilities),
        plotting.plot_learning_curves(
            {"x": (np.arange(5), np.arange(5.0))}, reference=2.0, log=True, logx=True
        ),
    ]
    for fig in figs:
        _labelled(fig)
    # The frontier plot marks each p's optimum and the laissez-faire point.
    labels = figs[0].axes[0].get_legend_handles_labels()[1]
    assert "laissez-faire" in labels and any("egalitarian" in t for t in labels)
    assert plotting.p_label(0.0) == "p = 0 (Nash)"


def test_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    with pytest.raises(InvalidParameterError, match="frontier"):
        plotting.plot_welfare_frontier("frontier")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="policies"):
        plotting.plot_welfare_vs_p({})
    with pytest.raises(InvalidParameterError, match="tax"):
        plotting.plot_tax_schedule({"x": 3})  # type: ignore[dict-item]
    with pytest.raises(InvalidParameterError, match="bracket"):
        plotting.plot_actions_vs_rate(game, 5)
    with pytest.raises(InvalidParameterError, match="curves"):
        plotting.plot_learning_curves({})


def test_dynamic_plots() -> None:
    from sedtheory.games.dynamic import DynamicCommonsGame
    from sedtheory.principal import dynamic_first_best, steady_states

    game = DynamicCommonsGame(
        sed.Society([1.0, 1.0], 40.0), sed.PiecewiseLinearTax([0], [0.0]), horizon=4, discount=0.9, grid=41
    )
    eq = sed.solve_equilibrium(game, raise_on_failure=False)
    steady = steady_states(game)
    plan = dynamic_first_best(game, 1.0)
    figs = [
        plotting.plot_stock_paths(
            {"MPE": game.path(eq.actions).stocks, "planner": plan.stocks}, capacity=100
        ),
        plotting.plot_policy_functions(game, eq.actions, step=1),
        plotting.plot_regrowth_map(game.regrowth, steady),
    ]
    for fig in figs:
        _labelled(fig)
    labels = figs[2].axes[0].get_legend_handles_labels()[1]
    assert "planner steady state" in labels and any("MPE steady" in t for t in labels)
    with pytest.raises(InvalidParameterError, match="paths"):
        plotting.plot_stock_paths({})
    with pytest.raises(InvalidParameterError, match="step"):
        plotting.plot_policy_functions(game, eq.actions, step=9)
    with pytest.raises(InvalidParameterError, match="regrowth"):
        plotting.plot_regrowth_map("logistic")


def test_welfare_vs_p_leaves_out_undefined_means() -> None:
    """Planted: a negative utility makes M_p undefined for p <= 0 (and non-integer p); the curve
    skips those points instead of raising, and its label says so."""
    import matplotlib

    matplotlib.use("Agg")
    from sedtheory.plotting import plot_welfare_vs_p

    fig = plot_welfare_vs_p({"laissez-faire": np.array([-1.0, 2.0, 3.0]), "taxed": np.array([1.0, 2.0, 2.0])})
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["laissez-faire (drawn only where M_p is defined)", "taxed"]
