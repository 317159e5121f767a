r"""A real economy: US tax units under current-law brackets, calibrated to their observed wages.

Each CPS tax unit (:mod:`sedtheory.scenarios.us_data`) is an agent whose population mass is its
weight; its income is its wage; the principal's brackets are current law's seven; the commons
damage is off by default (``damage=0``: the pure labour-supply economy). Productivities are
calibrated so that the equilibrium under current law reproduces every observed wage.

Notes
-----
*Calibration.* In the global commons a member of agent i earning :math:`y` strictly inside
bracket b (rate :math:`\phi_b`) is at an interior optimum iff

.. math:: \sigma_i - \sigma_i y/\theta_i - k_i \phi_b - c_i A = 0,
   \qquad\text{so}\qquad \theta_i = \frac{\sigma_i\, y}{\sigma_i - k_i\phi_b - c_i A},

with :math:`k_i = \sigma_i - s_i/N`, :math:`c_i = s_i\kappa/N` and :math:`A = \sum_j m_j y_j` the
observed aggregate (for a selfish agent without damage, :math:`y = \theta(1 - k\phi(y))`: the
issue's :math:`y = \theta(1 - \tau(y))` with the own lump-sum share :math:`1/N` kept exact). A
wage exactly at a threshold :math:`\tau_b` (a *buncher*) is optimal for every
:math:`\theta` between the values of the two adjacent rates; the midpoint is taken, so it
stays at the kink. Zero wages cannot be produced by a positive productivity; they get
``zero_wage_productivity`` (default: the smallest calibrated productivity, so in equilibrium
they earn about what the lowest-paid worker earns, not zero), and :class:`Calibration` lists
them; the round trip holds for every other unit. (A productivity near 0 would reproduce the
zero exactly but spreads the effort-cost coefficients over twelve orders of magnitude, which
the planner's conic programs cannot solve accurately.)

*What the model leaves out* (said in every report): utility is quasi-linear in money with a
quadratic effort cost, so the elasticity of income with respect to the net-of-tax rate is 1
for every interior unit (estimates are 0.1-0.5); wages are the only income and current-law
brackets are applied to wages (no deductions, credits, payroll tax or filing-status
differences beyond the chosen schedule); revenue comes back as an equal lump sum per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import formulas as F
from sedtheory.scenarios.us_data import (
    CurrentLaw,
    TaxUnits,
    current_law,
    load_tax_units,
    stratified_sample,
)
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.validate import positive_float

__all__ = ["CAVEATS", "Calibration", "USIncomes", "calibrate_productivity", "us_incomes", "us_incomes_data"]

#: Where the model is a caricature of the US economy (shown by reports and the notebook).
CAVEATS = (
    "quasi-linear utility with a quadratic effort cost: the elasticity of taxable income is 1 for "
    "every interior unit (empirical estimates are about 0.1-0.5)",
    "wages are the only income and the seven current-law brackets apply to wages directly: no "
    "standard deduction, credits, payroll tax or capital income",
    "revenue comes back as an equal lump sum per person; nothing is spent on public goods",
    "one filing status's schedule for everyone in the sample; a tax unit is one agent",
)


@dataclass(frozen=True)
class Calibration:
    """Calibrated productivities and which units could not be matched exactly.

    Attributes
    ----------
    productivity : numpy.ndarray
    bunchers : numpy.ndarray of bool
        Wages exactly at a threshold (kept at the kink).
    zero_wage : numpy.ndarray of bool
        Zero wages (given ``zero_wage_productivity``).
    marginal_rates : numpy.ndarray
        The current-law rate each interior unit faces.
    """

    productivity: np.ndarray
    bunchers: np.ndarray
    zero_wage: np.ndarray
    marginal_rates: np.ndarray


def calibrate_productivity(
    society: Society,
    wages: npt.ArrayLike,
    tax: PiecewiseLinearTax,
    damage: float = 0.0,
    zero_wage_productivity: float | None = None,
) -> Calibration:
    r"""Productivities under which ``tax``'s equilibrium wages are ``wages`` (see the module Notes).

    Examples
    --------
    >>> soc = Society([1.0, 1.0, 1.0], 1.0)
    >>> tax = PiecewiseLinearTax([0.0, 10.0], [0.1, 0.3])
    >>> cal = calibrate_productivity(soc, [5.0, 10.0, 20.0], tax)
    >>> cal.bunchers.tolist()
    [False, True, False]
    """
    y = np.asarray(wages, dtype=float)
    if y.shape != (society.n,) or not np.all(np.isfinite(y)) or np.any(y < 0):
        raise InvalidParameterError("wages", wages, f"give {society.n} finite non-negative wages")
    sigma, s, big_n = society.selfishness, society.weight_sums, society.population
    if np.any(sigma <= 0):
        raise InvalidParameterError(
            "selfishness", sigma[sigma <= 0][:5].tolist(), "calibration needs selfishness > 0 (effort cost)"
        )
    k = F.own_tax_weight(sigma, s, big_n)
    c = F.global_damage_curvature(s, damage, big_n)
    zero = y == 0
    observed = float(society.masses @ y)
    agg = observed
    for _ in range(200):  # zero-wage units earn something in the model: A solves a fixed point
        theta, kink = _invert(sigma, k, c * agg, y, tax)
        bad = np.flatnonzero(~zero & ~(theta > 0))
        if bad.size:
            raise InvalidParameterError(
                "wages",
                y[bad][:5].tolist(),
                f"units {bad[:10].tolist()} cannot earn their wage at any productivity (the marginal "
                "rate and the damage take all of a unit's marginal product); lower damage or rates",
            )
        floor = float(np.min(theta[~zero])) if np.any(~zero) else 1.0
        fill = (
            floor
            if zero_wage_productivity is None
            else positive_float("zero_wage_productivity", zero_wage_productivity)
        )
        earn = np.maximum(fill * (sigma - k * tax.rates[0] - c * agg) / sigma, 0.0)
        new = observed + float(society.masses[zero] @ earn[zero])
        if not np.any(c) or abs(new - agg) <= 1e-15 * max(1.0, new):
            break
        agg = new
    theta = np.where(zero, fill, theta)
    piece = np.clip(np.searchsorted(tax.thresholds, y, side="right") - 1, 0, tax.rates.size - 1)
    return Calibration(theta, kink, zero, np.where(zero, tax.rates[0], tax.rates[piece]))


def _invert(
    sigma: np.ndarray, k: np.ndarray, pressure: np.ndarray, y: np.ndarray, tax: PiecewiseLinearTax
) -> tuple[np.ndarray, np.ndarray]:
    """Productivities of the module Notes at damage pressure ``c_i A`` (NaN where impossible) and
    the bunchers (wages at a concave kink)."""
    tau, rates = tax.thresholds, tax.rates
    piece = np.clip(np.searchsorted(tau, y, side="right") - 1, 0, tau.size - 1)
    at_kink = (piece > 0) & (y == tau[piece])
    below = rates[np.maximum(piece - 1, 0)]
    denom = sigma - k * rates[piece] - pressure
    denom_below = sigma - k * below - pressure
    theta = np.divide(sigma * y, denom, out=np.full(y.size, np.nan), where=denom > 0)
    concave_kink = at_kink & (k * below < k * rates[piece]) & (denom_below > 0)
    lo = np.divide(sigma * y, denom_below, out=np.zeros(y.size), where=denom_below > 0)
    theta = np.where(concave_kink, 0.5 * (lo + np.where(denom > 0, theta, lo)), theta)
    return np.where(at_kink & ~concave_kink, lo, theta), concave_kink


@dataclass(frozen=True)
class USIncomes:
    """The US scenario's data, law, calibration and game."""

    units: TaxUnits
    law: CurrentLaw
    calibration: Calibration
    game: CommonsGame


def us_incomes_data(
    year: int = 2026,
    filing_status: str = "single",
    sample: int | None = None,
    seed: int | None = 0,
    selfishness: float | npt.ArrayLike = 1.0,
    damage: float = 0.0,
    endowment: float = 1000.0,
    uprate: bool = False,
    zero_wage_productivity: float | None = None,
) -> USIncomes:
    """Everything :func:`us_incomes` builds: units, current law, calibration and the game."""
    law = current_law(year, filing_status)
    units = load_tax_units(year if uprate else None, filing_status)
    if sample is not None:
        units = stratified_sample(units, sample, seed)
    sigma = np.broadcast_to(np.asarray(selfishness, dtype=float), units.wages.shape).copy()
    base = Society(sigma, 1.0, masses=units.masses)
    tax = PiecewiseLinearTax(law.thresholds, law.rates)
    cal = calibrate_productivity(base, units.wages, tax, damage, zero_wage_productivity)
    game = CommonsGame(
        base.with_types(productivity=cal.productivity), tax, damage=damage, endowment=endowment
    )
    return USIncomes(units, law, cal, game)


def us_incomes(
    year: int = 2026,
    filing_status: str = "single",
    sample: int | None = None,
    seed: int | None = 0,
    **options: Any,
) -> CommonsGame:
    r"""US tax units as a commons game under current law, calibrated to their observed wages.

    Parameters
    ----------
    year : int
        The year of the current-law brackets (the years ``policy_current_law.json`` lists).
    filing_status : {"single", "joint", "separate", "head_of_household", "all"}
        Which units, and whose schedule (``"all"``: every record under the single schedule).
    sample : int, optional
        ``None``: every record; otherwise a stratified weighted sample of that many records
        (:func:`~sedtheory.scenarios.us_data.stratified_sample`; the top 1 % keeps its mass).
    seed : int, optional
        The sample's seed.
    **options
        ``selfishness`` (default 1: the labour-supply limit), ``damage`` (default 0: commons
        damage off; in dollars, :math:`\kappa A^2/(2N)` per person), ``endowment`` (default 1000
        dollars of non-wage resources, which keeps every p-mean defined when a policy collects
        nothing), ``uprate`` (wages and weights moved to ``year`` by Tax-Calculator's factors),
        ``zero_wage_productivity``. See :func:`us_incomes_data`.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> game = scenarios.us_incomes(2024, sample=2000, seed=1)
    >>> game.n, game.tax.rates.tolist()
    (2000, [0.1, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37])
    >>> eq = solve_equilibrium(game)  # reproduces the sample's wages (zero wages aside)
    >>> eq.nash_gap, round(float(game.kernel.total(eq.actions)) / game.population)
    (0.0, 19775)
    """
    return us_incomes_data(year, filing_status, sample, seed, **options).game
