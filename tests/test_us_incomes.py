"""US tax units (scenarios.us_data, scenarios.us_incomes): loader, law, sample, calibration."""

import importlib.util
import json
import math

import numpy as np
import pytest

from sedtheory import CommonsGame, PiecewiseLinearTax, Society, scenarios, solve_equilibrium
from sedtheory.errors import DataUnavailableError, InvalidParameterError
from sedtheory.principal import saez_top_rate
from sedtheory.scenarios import us_data

HAVE_TAXCALC = importlib.util.find_spec("taxcalc") is not None
needs_data = pytest.mark.skipif(not HAVE_TAXCALC, reason="the [data] extra (taxcalc) is not installed")


@pytest.fixture(scope="module")
def cps():
    import pandas as pd

    return pd.read_csv(us_data.taxcalc_directory() / "cps.csv.gz", usecols=["MARS", "e00200", "s006"])


@needs_data
@pytest.mark.parametrize(
    ("status", "mars"), [("single", 1), ("joint", 2), ("head_of_household", 4), ("all", None)]
)
def test_loader_counts_and_weighted_totals(cps, status, mars):
    units = scenarios.load_tax_units(None, status)
    rows = cps if mars is None else cps[cps.MARS == mars]
    assert units.n == len(rows)
    if mars is None:
        assert units.n == 280_005
    assert units.masses.sum() == pytest.approx(rows.s006.sum() / 100, rel=1e-12)
    assert units.wages @ units.masses == pytest.approx((rows.e00200 * rows.s006 / 100).sum(), rel=1e-12)


@needs_data
def test_current_law_matches_the_policy_file():
    with open(us_data.taxcalc_directory() / "policy_current_law.json") as fh:
        policy = json.load(fh)
    for year, status, label in [
        (2018, "single", "single"),
        (2024, "joint", "mjoint"),
        (2026, "single", "single"),
    ]:
        law = scenarios.current_law(year, status)
        brk = [
            next(
                e["value"] for e in policy[f"II_brk{b}"]["value"] if e["year"] == year and e["MARS"] == label
            )
            for b in range(1, 7)
        ]
        assert law.thresholds.tolist() == [0.0, *brk]
        assert law.rates.tolist() == [0.1, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37]
    assert scenarios.current_law(2017).rates[-1] == 0.396  # before the 2018 law


@needs_data
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"year": 2040}, "year"),
        ({"year": 1999}, "year"),
        ({"year": "2024"}, "year"),
        ({"filing_status": "married"}, "filing_status"),
    ],
)
def test_bad_year_and_status_are_typed_errors(kwargs, field):
    with pytest.raises(InvalidParameterError, match=field):
        scenarios.us_incomes(**kwargs)


def test_missing_package_is_a_typed_error(monkeypatch):
    monkeypatch.setattr(us_data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataUnavailableError, match=r"sedtheory\[data\]"):
        scenarios.current_law(2024)


@needs_data
def test_calibration_round_trips_the_full_file():
    data = scenarios.us_incomes_data(2026, "single")
    eq = solve_equilibrium(data.game)
    y = data.units.wages
    ok = ~data.calibration.zero_wage
    assert eq.nash_gap == 0.0
    assert np.max(np.abs(eq.actions[ok] - y[ok]) / y[ok]) <= 1e-9
    # zero wages are said so and get the smallest calibrated productivity
    assert data.calibration.zero_wage.sum() == np.sum(y == 0) > 0
    assert np.all(data.calibration.productivity[~ok] == data.calibration.productivity[ok].min())


def test_calibration_keeps_bunchers_at_the_kink_and_handles_damage():
    tax = PiecewiseLinearTax([0.0, 10.0, 30.0], [0.1, 0.3, 0.5])
    wages = np.array([5.0, 10.0, 20.0, 30.0, 45.0, 0.0])
    for sigma, damage in [(1.0, 0.0), (0.8, 0.0), (1.0, 1e-3)]:
        soc = Society(np.full(6, sigma), 1.0, masses=[2.0, 1.0, 3.0, 1.0, 1.0, 4.0])
        cal = scenarios.calibrate_productivity(soc, wages, tax, damage)
        assert cal.bunchers.tolist() == [False, True, False, True, False, False]
        game = CommonsGame(soc.with_types(productivity=cal.productivity), tax, damage, 10.0)
        eq = solve_equilibrium(game)
        np.testing.assert_allclose(eq.actions[:5], wages[:5], rtol=1e-9)


def test_calibration_refuses_impossible_wages():
    tax = PiecewiseLinearTax([0.0], [0.5])  # the damage takes the whole marginal product
    with pytest.raises(InvalidParameterError, match="wages"):
        scenarios.calibrate_productivity(Society([1.0, 1.0], 1.0), [5.0, 5.0], tax, damage=10.0)
    with pytest.raises(InvalidParameterError, match="wages"):
        scenarios.calibrate_productivity(Society([1.0], 1.0), [-5.0], PiecewiseLinearTax([0.0], [0.1]))


@needs_data
def test_stratified_sample_keeps_masses():
    units = scenarios.load_tax_units(None, "single")
    s = scenarios.stratified_sample(units, 5000, seed=3)
    assert s.n == pytest.approx(5000, abs=25)
    assert s.masses.sum() == pytest.approx(units.masses.sum(), rel=1e-12)
    order = np.argsort(units.wages)
    cum = np.cumsum(units.masses[order]) / units.masses.sum()
    cut = units.wages[order][np.searchsorted(cum, 0.99, side="right")]
    top = units.masses[units.wages >= cut].sum()
    assert s.masses[s.wages >= cut].sum() == pytest.approx(top, rel=1e-9)
    assert s.masses[s.wages == 0].sum() == pytest.approx(units.masses[units.wages == 0].sum(), rel=1e-12)
    again = scenarios.stratified_sample(units, 5000, seed=3)
    np.testing.assert_array_equal(s.records, again.records)
    mean_full = units.wages @ units.masses / units.masses.sum()
    assert s.wages @ s.masses / s.masses.sum() == pytest.approx(mean_full, rel=0.02)


def test_saez_top_rate_limits_and_masses():
    soc = Society([1.0] * 4, [10.0, 20.0, 40.0, 80.0], masses=[1.0, 2.0, 1.0, 1.0])
    game = CommonsGame(soc, PiecewiseLinearTax([0, 20], [0.2, 0.4]), 0.0, 5.0)
    top = saez_top_rate(game, -math.inf)
    assert top.mean_weight == 0.0 and top.rate == pytest.approx(1 / (1 + top.pareto))
    assert saez_top_rate(game, 1.0).rate == 0.0
    # the top members' mean income over its excess is a: compare with the members written out
    a = solve_equilibrium(game).actions
    z = np.repeat(a, [1, 2, 1, 1])
    z_top = z[z > 20].mean()
    assert top.pareto == pytest.approx(z_top / (z_top - 20))
    mid = saez_top_rate(game, 0.0)
    assert 0 < mid.mean_weight < 1 and 0 < mid.rate < top.rate
    with pytest.raises(InvalidParameterError):
        saez_top_rate(game, 0.0, elasticity=-1.0)
