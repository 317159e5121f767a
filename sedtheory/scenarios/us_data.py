r"""US tax units and current-law brackets from Tax-Calculator's public data files.

Tax-Calculator (the ``taxcalc`` package, public domain; optional extra ``sedtheory[data]``)
ships a CPS-based file of 280,005 US tax units (``cps.csv.gz``: wages ``e00200`` in dollars,
weights ``s006`` in hundredths of units, filing status ``MARS``) and the current-law policy
(``policy_current_law.json``: the seven income-tax brackets ``II_brk1..7`` by year and filing
status and the rates ``II_rt1..7``). This module reads those files from the installed package's
directory *without importing* ``taxcalc`` (its import compiles numba code); the numbers are the
file's own, nothing is fitted here.

Examples
--------
>>> units = load_tax_units(None, "single")
>>> units.n, round(float(units.masses.sum()) / 1e6, 1)
(146758, 94.5)
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sedtheory.errors import DataUnavailableError, InvalidParameterError
from sedtheory.validate import count

__all__ = [
    "FILING_STATUSES",
    "CurrentLaw",
    "TaxUnits",
    "current_law",
    "load_tax_units",
    "stratified_sample",
    "taxcalc_directory",
]

#: Filing statuses: name -> (MARS code in the CPS file, label in the policy file). ``"all"``
#: keeps every record and uses the schedule of ``schedule_status`` (single by default).
FILING_STATUSES: dict[str, tuple[int | None, str]] = {
    "single": (1, "single"),
    "joint": (2, "mjoint"),
    "separate": (3, "mseparate"),
    "head_of_household": (4, "headhh"),
    "all": (None, "single"),
}

#: Tax-Calculator's first data year (the CPS file's wages and ``s006`` weights are for it).
DATA_YEAR = 2014


def taxcalc_directory() -> Path:
    """The installed ``taxcalc`` package's directory (its data files live there).

    Raises
    ------
    DataUnavailableError
        ``taxcalc`` is not installed: ``pip install "sedtheory[data]"``.
    """
    spec = importlib.util.find_spec("taxcalc")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError(
            "taxcalc", None, 'the US data need Tax-Calculator: pip install "sedtheory[data]"'
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _status(filing_status: str) -> tuple[int | None, str]:
    if filing_status not in FILING_STATUSES:
        raise InvalidParameterError("filing_status", filing_status, f"use one of {sorted(FILING_STATUSES)}")
    return FILING_STATUSES[filing_status]


@dataclass(frozen=True)
class CurrentLaw:
    """The current-law income-tax schedule of one year and filing status.

    Attributes
    ----------
    year : int
    filing_status : str
    thresholds : numpy.ndarray
        ``(7,)``: 0 and the upper ends ``II_brk1..6`` (dollars of income).
    rates : numpy.ndarray
        ``(7,)``: ``II_rt1..7``.
    """

    year: int
    filing_status: str
    thresholds: np.ndarray
    rates: np.ndarray


def _policy(directory: Path) -> dict:  # type: ignore[type-arg]
    with open(directory / "policy_current_law.json", encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def _value(entries: list, year: int, mars: str | None) -> float | None:  # type: ignore[type-arg]
    """The parameter's value in ``year``: the latest entry at or before it (rates are carried
    forward; indexed thresholds must be listed for the year itself)."""
    rows = [e for e in entries if mars is None or e.get("MARS") == mars]
    rows = [e for e in rows if int(e["year"]) <= year]
    if not rows:
        return None
    return float(max(rows, key=lambda e: int(e["year"]))["value"])


def _listed_years(policy: dict, label: str) -> list[int]:  # type: ignore[type-arg]
    years = [
        {int(e["year"]) for e in policy[f"II_brk{b}"]["value"] if e.get("MARS") == label} for b in range(1, 7)
    ]
    return sorted(set.intersection(*years))


def current_law(year: int = 2026, filing_status: str = "single") -> CurrentLaw:
    """The seven brackets of ``year`` for ``filing_status`` from ``policy_current_law.json``.

    Only years whose thresholds the file lists explicitly are accepted (Tax-Calculator
    inflation-indexes later years itself; that projection is not reproduced here).

    Examples
    --------
    >>> law = current_law(2024, "single")
    >>> law.thresholds.tolist()[:3], law.rates.tolist()[:3]
    ([0.0, 11600.0, 47150.0], [0.1, 0.12, 0.22])
    """
    _, label = _status(filing_status)
    policy = _policy(taxcalc_directory())
    years = _listed_years(policy, label)
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or int(year) not in years:
        raise InvalidParameterError(
            "year", year, f"use a year the current-law file lists brackets for: {years[0]}..{years[-1]}"
        )
    y = int(year)
    brk = [_value(policy[f"II_brk{b}"]["value"], y, label) for b in range(1, 7)]
    rt = [_value(policy[f"II_rt{b}"]["value"], y, None) for b in range(1, 8)]
    thresholds = np.array([0.0, *[float(v) for v in brk if v is not None]])
    rates = np.array([float(v) for v in rt if v is not None])
    if thresholds.size != 7 or rates.size != 7 or np.any(np.diff(thresholds) <= 0):
        raise DataUnavailableError(
            "policy_current_law.json", y, "the file's brackets are incomplete for this year"
        )
    return CurrentLaw(y, filing_status, thresholds, rates)


@dataclass(frozen=True)
class TaxUnits:
    """Tax units of the CPS file (or a weighted sample of them).

    Attributes
    ----------
    wages : numpy.ndarray
        ``e00200`` in dollars (uprated when asked).
    masses : numpy.ndarray
        Units each record stands for (``s006 / 100``; sample weights in a sample).
    records : numpy.ndarray
        ``RECID`` of each row.
    filing_status : str
    year : int
        The year of the weights (``DATA_YEAR`` unless uprated).
    note : str
        How the units were selected.
    """

    wages: np.ndarray
    masses: np.ndarray
    records: np.ndarray
    filing_status: str
    year: int
    note: str

    @property
    def n(self) -> int:
        """Number of records."""
        return int(self.wages.size)


def load_tax_units(year: int | None = None, filing_status: str = "single") -> TaxUnits:
    """Read the CPS file's tax units of one filing status (``"all"``: every record).

    Parameters
    ----------
    year : int, optional
        ``None`` (default): the file's own wages and weights (``DATA_YEAR``). A later year
        uprates wages by Tax-Calculator's wage growth factors (``AWAGE``) and takes that year's
        weights from ``cps_weights.csv.gz``.
    filing_status : {"single", "joint", "separate", "head_of_household", "all"}
    """
    import pandas as pd  # heavy; only when data are loaded

    mars, _ = _status(filing_status)
    d = taxcalc_directory()
    frame = pd.read_csv(d / "cps.csv.gz", usecols=["RECID", "MARS", "e00200", "s006"])
    wages = frame["e00200"].to_numpy(dtype=float)
    masses = frame["s006"].to_numpy(dtype=float) / 100.0
    note = f"CPS file, {DATA_YEAR} wages and weights"
    y = DATA_YEAR
    if year is not None and int(year) != DATA_YEAR:
        y = int(year)
        growth = pd.read_csv(d / "growfactors.csv", usecols=["YEAR", "AWAGE"]).set_index("YEAR")["AWAGE"]
        weights = pd.read_csv(d / "cps_weights.csv.gz")
        if f"WT{y}" not in weights.columns or y < DATA_YEAR:
            raise InvalidParameterError(
                "year", year, f"use None or a year in {DATA_YEAR}..{weights.columns[-1][2:]}"
            )
        wages = wages * float(np.prod(growth.loc[DATA_YEAR + 1 : y].to_numpy()))
        masses = weights[f"WT{y}"].to_numpy(dtype=float) / 100.0
        note = f"CPS file, wages uprated to {y} by AWAGE, {y} weights"
    keep = np.ones(wages.size, dtype=bool) if mars is None else frame["MARS"].to_numpy() == mars
    keep &= masses > 0
    return TaxUnits(wages[keep], masses[keep], frame["RECID"].to_numpy()[keep], filing_status, y, note)


def stratified_sample(units: TaxUnits, size: int, seed: int | None = 0, strata: int = 20) -> TaxUnits:
    r"""A weighted sample of ``size`` records that keeps every stratum's mass.

    The top 1 % of units by wage (by mass) is one stratum, kept whole when it has at most a
    quarter of ``size`` records; zero wages are another; the rest is cut into ``strata``
    wage quantile strata of equal mass. Each stratum gets records in proportion to its mass (at
    least one), drawn without replacement with probability proportional to weight, and each
    drawn record stands for an equal share of its stratum's mass (the self-weighting design):
    the population, the top 1 %'s mass and the wage quantiles at the strata's edges are exact.
    """
    size = count("sample", size, minimum=2)
    if size >= units.n:
        return units
    rng = np.random.default_rng(seed)
    order = np.argsort(units.wages, kind="stable")
    cum = np.cumsum(units.masses[order]) / units.masses.sum()
    label = np.empty(units.n, dtype=np.int64)
    top = order[cum > 0.99]
    zero = units.wages == 0
    label[order] = 1 + np.minimum((cum * strata / 0.99).astype(np.int64), strata - 1)
    label[zero] = 0
    label[top] = strata + 1
    whole = top.size <= size // 4  # the top 1 % kept record by record
    budget = size - (top.size if whole else 0)
    rest_mass = units.masses[label != strata + 1].sum() if whole else units.masses.sum()
    out: list[np.ndarray] = []
    mass_out: list[np.ndarray] = []
    for s in np.unique(label):
        members = np.flatnonzero(label == s)
        mass = units.masses[members]
        if s == strata + 1 and whole:
            out.append(members)
            mass_out.append(mass)
            continue
        k = int(min(members.size, max(1, round(budget * mass.sum() / rest_mass))))
        out.append(rng.choice(members, size=k, replace=False, p=mass / mass.sum()))
        mass_out.append(np.full(k, mass.sum() / k))
    idx = np.concatenate(out)
    return TaxUnits(
        units.wages[idx],
        np.concatenate(mass_out),
        units.records[idx],
        units.filing_status,
        units.year,
        units.note + f"; stratified sample of {idx.size} records (seed {seed})",
    )
