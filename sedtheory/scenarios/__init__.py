"""Scenarios: ready-made games by name, and scenario files (:class:`ScenarioSpec`).

``SCENARIOS`` is the registry of named scenarios (``"apple-picking"``, the seed's game);
:func:`scenario` returns the game of a name or of a ``.yaml``/``.toml`` file.

Examples
--------
>>> from sedtheory import scenarios
>>> game = scenarios.apple_picking()
>>> game.n, game.tax.thresholds.tolist()
(7, [0.0, 10.0, 20.0])
>>> scenarios.scenario("apple_picking").n
7
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sedtheory.registry import Registry
from sedtheory.scenarios.named import APPLE_PICKING_PARAMETERS, apple_picking
from sedtheory.scenarios.spec import ScenarioSpec, load_scenario, read_mapping
from sedtheory.scenarios.us_data import (
    FILING_STATUSES,
    CurrentLaw,
    TaxUnits,
    current_law,
    load_tax_units,
    stratified_sample,
)
from sedtheory.scenarios.us_incomes import (
    CAVEATS,
    Calibration,
    USIncomes,
    calibrate_productivity,
    us_incomes,
    us_incomes_data,
)

__all__ = [
    "APPLE_PICKING_PARAMETERS",
    "CAVEATS",
    "Calibration",
    "CurrentLaw",
    "FILING_STATUSES",
    "SCENARIOS",
    "TaxUnits",
    "USIncomes",
    "calibrate_productivity",
    "current_law",
    "load_tax_units",
    "stratified_sample",
    "us_incomes",
    "us_incomes_data",
    "ScenarioSpec",
    "apple_picking",
    "load_scenario",
    "read_mapping",
    "scenario",
]


@dataclass(frozen=True)
class NamedScenario:
    """A registered scenario: ``make() -> game`` and what it is."""

    name: str
    make: Callable[[], Any] = field(repr=False)
    description: str = ""


#: Named scenarios (``run_sed("apple-picking")``, ``sedtheory run --scenario apple-picking``).
SCENARIOS: Registry[NamedScenario] = Registry(
    "scenario", build=lambda name, make, **meta: NamedScenario(name, make, **meta), kind="scenarios"
)
SCENARIOS.add(
    "apple-picking",
    apple_picking,
    aliases=("apple_picking", "seed"),
    description="the seed's seven agents on a ring, brackets 0/10/20, global commons",
)
SCENARIOS.add(
    "us-incomes",
    us_incomes,
    aliases=("us_incomes",),
    description="US single filers from Tax-Calculator's CPS file under 2026 current-law brackets, "
    "calibrated to their wages (needs sedtheory[data]); `sedtheory run` reports on a 10,000-record "
    "weighted sample",
)


def scenario(name: str | Path) -> Any:
    """The game of a named scenario or of a scenario file."""
    if isinstance(name, Path) or (isinstance(name, str) and Path(name).suffix in (".yaml", ".yml", ".toml")):
        return ScenarioSpec.from_file(name).game()
    return SCENARIOS.get(name).make()
