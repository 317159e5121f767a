import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sedtheory import PiecewiseLinearTax
from sedtheory.errors import DomainError, InvalidParameterError, ShapeError


@st.composite
def taxes(draw, progressive=None):
    b = draw(st.integers(1, 5))
    gaps = draw(st.lists(st.floats(0.5, 20), min_size=b - 1, max_size=b - 1))
    thresholds = np.concatenate([[0.0], np.cumsum(gaps)])
    rates = np.array(draw(st.lists(st.floats(0, 1), min_size=b, max_size=b)))
    if progressive is True:
        rates = np.sort(rates)
    return PiecewiseLinearTax(thresholds, rates)


def slide_formula(tax, y):
    tau = list(tax.thresholds) + [np.inf]
    total = 0.0
    for b, phi in enumerate(tax.rates):
        if y > tau[b + 1]:
            total += phi * (tau[b + 1] - tau[b])
        elif tau[b] < y <= tau[b + 1]:
            total += phi * (y - tau[b])
    return total


def test_known_values():
    tax = PiecewiseLinearTax([0, 10, 20], [0.1, 0.2, 0.5])
    assert tax(0.0) == 0.0
    assert tax(10.0) == pytest.approx(1.0)
    assert tax(25.0) == pytest.approx(1 + 2 + 2.5)
    np.testing.assert_allclose(tax(np.array([[5.0, 15.0]])), [[0.5, 2.0]])
    assert tax.marginal_rate(10.0) == 0.2 and tax.marginal_rate(10.0, side="left") == 0.1
    assert tax.marginal_rate(0.0, side="left") == 0.1


@given(taxes(), st.floats(0, 200))
def test_matches_slide_indicator_formula(tax, y):
    assert tax(y) == pytest.approx(slide_formula(tax, y), abs=1e-9)


@given(taxes(), st.floats(0, 150), st.floats(1e-7, 1e-3))
def test_continuous_and_zero_at_zero(tax, y, h):
    assert tax(0.0) == 0.0
    assert abs(tax(y + h) - tax(y)) <= h * np.max(np.abs(tax.rates)) + 1e-12


@given(taxes(), st.lists(st.floats(0, 120), min_size=3, max_size=3))
def test_convex_iff_progressive(tax, ys):
    """Midpoint convexity on every triple of points; a planted violation when regressive."""
    y = np.linspace(0, tax.thresholds[-1] + 10, 400)
    t = tax(y)
    second = t[2:] - 2 * t[1:-1] + t[:-2]
    if tax.is_progressive:
        assert np.all(second >= -1e-9)
        a, b, _ = ys
        assert tax((a + b) / 2) <= (tax(a) + tax(b)) / 2 + 1e-9
    else:
        # Planted violation: at a threshold where the rate drops, midpoint convexity fails.
        drops = np.flatnonzero(np.diff(tax.rates) < -1e-9)
        assume(drops.size > 0)
        b = int(drops[0]) + 1
        tau, h = tax.thresholds[b], 0.25
        assert tax(tau) > (tax(tau - h) + tax(tau + h)) / 2


@given(taxes(), st.lists(st.floats(0, 100), min_size=1, max_size=20))
def test_budget_balance(tax, incomes):
    y = np.array(incomes)
    taxed = y - tax(y) + tax(y).sum() / y.size
    assert taxed.sum() == pytest.approx(y.sum(), rel=1e-12, abs=1e-9)


@settings(max_examples=30)
@given(taxes(), st.floats(0, 100))
def test_symbolic_agrees(tax, y):
    ysym = sp.Symbol("y", real=True)
    expr = tax.symbolic(ysym)
    assert isinstance(expr, sp.Piecewise)
    assert float(expr.subs(ysym, y)) == pytest.approx(tax(y), abs=1e-9)
    sym = tax.symbolic(ysym, parameters="symbols")
    subs = {sp.Symbol(f"phi_{b}", real=True): r for b, r in enumerate(tax.rates)}
    subs.update({sp.Symbol(f"tau_{b}", positive=True): t for b, t in enumerate(tax.thresholds) if b})
    assert float(sym.subs(subs).subs(ysym, y)) == pytest.approx(tax(y), abs=1e-9)


def test_pieces_and_average_rate():
    tax = PiecewiseLinearTax([0, 10, 20], [0.0, 0.5, 1.0])
    lo, hi, rate, base = tax.pieces(15.0)
    assert lo.tolist() == [0, 10] and hi.tolist() == [10, 15] and base.tolist() == [0, 0]
    assert tax.average_rate(0.0) == 0.0 and tax.average_rate(20.0) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("thresholds", "rates", "error", "field"),
    [
        ([1, 10], [0.1, 0.2], InvalidParameterError, "thresholds"),
        ([0, 10, 10], [0.1, 0.2, 0.3], InvalidParameterError, "thresholds"),
        ([0, 20, 10], [0.1, 0.2, 0.3], InvalidParameterError, "thresholds"),
        ([0, 10], [0.1], ShapeError, "rates"),
        ([0, 10], [0.1, np.nan], InvalidParameterError, "rates"),
        ([0, np.inf], [0.1, 0.2], InvalidParameterError, "thresholds"),
        ([], [], InvalidParameterError, "thresholds"),
    ],
)
def test_bad_input(thresholds, rates, error, field):
    with pytest.raises(error, match=field):
        PiecewiseLinearTax(thresholds, rates)


def test_bad_income():
    tax = PiecewiseLinearTax.flat(0.2)
    with pytest.raises(DomainError, match="y"):
        tax(-1.0)
    with pytest.raises(DomainError):
        tax(np.nan)


@given(st.floats(-1.0, 2.0), st.lists(st.floats(0.0, 500.0), min_size=1, max_size=9))
def test_flat_rate_pieces_match_the_slide_formula(rate, incomes):
    """The one-bracket shortcut of RatePieces.taxes agrees with the slide formula."""
    tax = PiecewiseLinearTax([0.0], [rate])
    from sedtheory.taxes import RatePieces

    pieces = RatePieces.of(tax.thresholds, tax.rates, np.inf)
    y = np.array(incomes)
    np.testing.assert_allclose(pieces.taxes(y), [slide_formula(tax, v) for v in y], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(pieces.taxes(y), tax(y))
