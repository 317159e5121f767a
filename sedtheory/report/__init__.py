r"""The main job: a full SED analysis of one scenario, as stages, written as a report.

``run_report(scenario, out)`` (``sedtheory run``) runs three stages on the seed's
apple-picking scenario by default or on a scenario file (:class:`~sedtheory.scenarios.ScenarioSpec`):

1. :func:`analyse` ``(game, config) -> Analysis``: the certified laissez-faire equilibrium; the
   SED round (:func:`~sedtheory.run_sed`: preferences over p, the vote, the principal's optimal
   tax with its certificate); the vote under the main rules; the first best and the seed's
   1331-policy grid principal per candidate p; learning agents and learning principals under
   the elected objective; the theorem registry; the welfare frontier;
2. :func:`figures` ``(analysis) -> {name: Figure}``;
3. :func:`to_json` and :func:`to_markdown`;

prints a summary table, and writes ``report.md`` (tables and figures inline),
``results.json`` (all numbers) and the figures as PNG into ``out``.

Scenario files (YAML or TOML) have the keys below; every key but ``selfishness`` is optional
(defaults: the seed scenario's parameters)::

    name: my-scenario
    selfishness: [0.0, 0.5, 1.0]     # one value in [0, 1] per agent
    productivity: 40.0               # scalar or one per agent
    graph: ring                      # a family of sedtheory.families, or a list of [i, j] edges
    graph_seed: 0                    # seed of random graph families
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
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sedtheory.report.analysis import MAIN_RULES, Analysis, ReportConfig, analyse
from sedtheory.report.economy import (
    EconomyConfig,
    analyse_economy,
    economy_figures,
    economy_json,
    economy_markdown,
)
from sedtheory.report.figures import figures
from sedtheory.report.output import check_output_dir, publish, staging_dir
from sedtheory.report.writers import print_summary, to_json, to_markdown
from sedtheory.scenarios import APPLE_PICKING_PARAMETERS, SCENARIOS, ScenarioSpec, load_scenario

__all__ = [
    "MAIN_RULES",
    "Analysis",
    "EconomyConfig",
    "ReportConfig",
    "analyse",
    "figures",
    "load_scenario",
    "run_report",
    "to_json",
    "to_markdown",
]


def _load(scenario: str | Path) -> tuple[Any, dict[str, Any], str]:
    """(game, spec as data, name) of a scenario name or file."""
    if SCENARIOS.knows(scenario):
        name = SCENARIOS.resolve(scenario)
        return SCENARIOS[name].make(), {"name": name, **APPLE_PICKING_PARAMETERS}, name
    spec = ScenarioSpec.from_file(scenario)
    data = spec.to_dict()
    name = spec.name or Path(scenario).stem
    data.setdefault("name", name)
    return spec.game(), data, name


def run_report(
    scenario: str | Path = "apple-picking",
    out: str | Path = "results",
    progress: bool = True,
    quick: bool = False,
    save: Callable[[Any, Path], None] | None = None,
    economy: EconomyConfig | None = None,
) -> dict[str, Any]:
    """Run the whole analysis and write ``report.md``, ``results.json`` and the figures.

    Parameters
    ----------
    scenario : str or path
        ``"apple-picking"`` or a YAML/TOML scenario file.
    out : path
        Output directory (created; checked before the analysis starts). The run is written to a
        staging folder beside it and moved into place at the end
        (:mod:`sedtheory.report.output`): a failed or killed run never mixes old and new files.
    progress : bool
        Print progress lines and the summary table.
    quick : bool
        Smaller learning runs and theorem counts (for tests).
    save : callable, optional
        ``save(figure, path)`` instead of ``figure.savefig(path, dpi=110)``.
    economy : EconomyConfig, optional
        For ``scenario="us-incomes"``: year, filing status, sample size (default a 10,000-record
        weighted sample; ``sample=None`` is the full file) - the report of
        :mod:`sedtheory.report.economy` instead of the SED analysis.

    Returns
    -------
    dict
        Everything written to ``results.json``.
    """
    import matplotlib

    matplotlib.use("Agg")
    out_dir = check_output_dir(out)  # before any work: a bad --out fails in milliseconds
    if SCENARIOS.knows(scenario) and SCENARIOS.resolve(scenario) == "us-incomes":
        config = replace(economy or EconomyConfig(), quick=quick)
        found = analyse_economy(config, progress=progress)
        results = _write(
            out_dir,
            economy_figures(found),
            lambda f: economy_json(found, f),
            lambda f: economy_markdown(found, f),
            save,
            progress,
        )
        return results
    game, spec, name = _load(scenario)
    analysis = analyse(game, ReportConfig(quick=quick), spec=spec, name=name, progress=progress)
    results = _write(
        out_dir,
        figures(analysis),
        lambda f: to_json(analysis, f),
        lambda f: to_markdown(analysis, f),
        save,
        progress,
    )
    if progress:
        print_summary(analysis)
    return results


def _write(
    out_dir: Path,
    figs: dict[str, Any],
    as_json: Callable[[dict[str, str]], dict[str, Any]],
    as_markdown: Callable[[dict[str, str]], str],
    save: Callable[[Any, Path], None] | None,
    progress: bool,
) -> dict[str, Any]:
    """Write figures, ``results.json`` and ``report.md`` into a staging folder, then publish it."""
    staged = staging_dir(out_dir)
    try:
        files: dict[str, str] = {}
        for key, fig in figs.items():
            path = staged / f"{key}.png"
            if save is None:
                fig.savefig(path, dpi=110)
            else:
                save(fig, path)
            files[key] = path.name
        results = as_json(files)
        (staged / "results.json").write_text(json.dumps(results, indent=2))
        (staged / "report.md").write_text(as_markdown(files))
        publish(staged, out_dir)
    finally:
        shutil.rmtree(staged, ignore_errors=True)  # gone after publish; a failed run leaves nothing
    if progress:
        print(
            f"wrote {out_dir / 'report.md'}, {out_dir / 'results.json'} and {len(files)} figures", flush=True
        )
    return results
