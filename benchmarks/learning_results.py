"""The learning results page: a sweep of learned vs analytic, its tables and figures.

Run ``python benchmarks/learning_results.py`` (a few minutes on 2 cores; resumable: the sweep is
stored in ``results/learning_sweep.csv``). Prints the Markdown tables of ``docs/learning.md`` and
writes its figures to ``docs/figures/``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import sedtheory as sed  # noqa: E402
from sedtheory.learning import DEFAULT_GRID, learn_principal, sweep  # noqa: E402
from sedtheory.welfare import format_p  # noqa: E402

FIG = Path(__file__).resolve().parent.parent / "docs" / "figures"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="results/learning_sweep.csv")
    parser.add_argument("--n", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    table = sweep(DEFAULT_GRID, out=args.out, n=args.n, rounds=args.rounds, processes=2)
    ok = table[table["status"] == "ok"].copy()
    print(f"\n{len(table)} cells, {len(ok)} ok, n = {args.n}, {args.rounds} rounds\n")
    ok["p_label"] = ok["p"].map(format_p)

    print("### Welfare of the learned profile / second best (mean over selfishness profiles)\n")
    pivot = ok.pivot_table(
        index=["graph"], columns=["learner", "p_label"], values="ratio_second_best", aggfunc="mean"
    )
    print(pivot.round(4).to_markdown() if hasattr(pivot, "to_markdown") else pivot.round(4).to_string())

    print(
        "\n### Share of cells where the learner reached the analytic equilibrium (distance <= 1e-3 a_max)\n"
    )
    share = ok.pivot_table(index="graph", columns="learner", values="learned_equilibrium", aggfunc="mean")
    print(share.round(2).to_string())

    print("\n### Median distance to the equilibrium and Nash gap of the learned profile, per learner\n")
    summary = ok.groupby("learner")[
        ["distance", "nash_gap", "cce_gap", "ratio_second_best", "ratio_first_best"]
    ].median()
    print(summary.to_string(float_format=lambda x: f"{x:.3g}"))

    other = ok[(~ok["learned_equilibrium"]) & (ok["nash_gap"] <= 1e-6)]
    print(f"\nCells that converged to another equilibrium (gap <= 1e-6, distance > tolerance): {len(other)}")
    if len(other):
        print(
            other[
                ["graph", "selfishness", "p_label", "learner", "distance", "nash_gap", "concave"]
            ].to_string(index=False)
        )

    FIG.mkdir(parents=True, exist_ok=True)
    learners = list(DEFAULT_GRID["learner"])
    graphs = list(DEFAULT_GRID["graph"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True)
    for ax, p in zip(axes, DEFAULT_GRID["p"], strict=True):
        sub = ok[ok["p"] == p]
        width = 0.8 / len(learners)
        for j, learner in enumerate(learners):
            vals = [
                sub[(sub["graph"] == g) & (sub["learner"] == learner)]["ratio_second_best"].mean()
                for g in graphs
            ]
            ax.bar(np.arange(len(graphs)) + (j - (len(learners) - 1) / 2) * width, vals, width, label=learner)
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_title(f"p = {format_p(p)}")
        ax.set_xticks(np.arange(len(graphs)), graphs, rotation=35, ha="right")
        ax.set_ylim(0.9, 1.01)
    axes[0].set_ylabel("learned welfare / second best")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(learners), fontsize=9, frameon=False)
    fig.suptitle(
        "What learning agents reach under the optimal tax, by graph family (mean over selfishness profiles)"
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(FIG / "learning_welfare_ratio.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.2))
    for learner in learners:
        vals = [ok[(ok["graph"] == g) & (ok["learner"] == learner)]["distance"].median() for g in graphs]
        ax.semilogy(graphs, np.maximum(vals, 1e-16), marker="o", label=learner)
    ax.axhline(1e-3 * 40, color="grey", ls="--", lw=0.8, label="tolerance (1e-3 a_max)")
    ax.set_ylabel("max_i |a_i - a*_i| (median over cells)")
    ax.set_xlabel("graph family")
    ax.set_title("Distance of the learned actions to the analytic equilibrium")
    ax.legend(fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    fig.tight_layout()
    fig.savefig(FIG / "learning_distance.png", dpi=110)
    plt.close(fig)

    print(
        "\n### Learning principals on the seed scenario (agents: damped best response, 30 rounds per epoch)\n"
    )
    print(
        "| p | principal | epochs | final rates | final welfare | second best "
        "| average regret (first 10 %, last) |"
    )
    print("|---|---|---|---|---|---|---|")
    game = sed.scenarios.apple_picking()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for p in (-math.inf, 0.0, 1.0):
        ref = sed.optimal_tax(game, p)
        for name, kw, epochs in (("ucb", {}, 4000), ("spsa", {}, 400)):
            res = learn_principal(game, p, name, epochs=epochs, seed=0, reference=ref, **kw)
            ar = res.average_regret
            rates = tuple(round(float(r), 3) for r in res.final_rates)
            print(
                f"| {format_p(p)} | {name} | {epochs} | {rates} | {res.final_welfare:.4f} | "
                f"{ref.welfare:.4f} | {ar[epochs // 10 - 1]:.3f}, {ar[-1]:.3f} |"
            )
            if p == 1.0:
                ax.loglog(np.arange(1, epochs + 1), np.maximum(ar, 1e-6), label=f"{name} (p = 1)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("average regret against optimal_tax")
    ax.set_title("Learning principals: average regret (seed scenario, p = 1)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(FIG / "learning_principal_regret.png", dpi=110)
    plt.close(fig)
    _ = pd


if __name__ == "__main__":
    main()
