import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory import pmean
from sedtheory.errors import DomainError, InvalidParameterError, ShapeError
from sedtheory.welfare import pmean_or_minus_inf, pmean_rows, slide_pmean

positive = st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=12).map(np.array)
ps = st.one_of(st.floats(-50, 50), st.sampled_from([0.0, 1.0, -1.0, 2.0, 0.5]))


@given(positive, ps)
def test_matches_scipy(v, p):
    # scipy's pmean computes (mean v**p)**(1/p) directly and loses all accuracy as p -> 0
    # (it returns 1 for p = 1e-31); below |p| = 1e-3 the reference is mpmath (next test).
    assume(p == 0 or abs(p) >= 1e-3)
    if p == 0:
        expected = scipy.stats.gmean(v)
    else:
        expected = scipy.stats.pmean(v, p)
    assert pmean(v, p) == pytest.approx(expected, rel=1e-9)


@given(positive, st.floats(-20, 20), st.floats(-20, 20))
def test_monotone_in_p(v, p, q):
    lo, hi = min(p, q), max(p, q)
    assert pmean(v, lo) <= pmean(v, hi) * (1 + 1e-12)


@given(positive, ps, st.floats(1e-3, 1e3))
def test_homogeneous(v, p, c):
    assert pmean(c * v, p) == pytest.approx(c * pmean(v, p), rel=1e-9)


@given(positive)
def test_limits(v):
    assert pmean(v, -math.inf) == v.min() and pmean(v, math.inf) == v.max()
    assert pmean(v, -1e3) == pytest.approx(v.min(), rel=1e-2)
    assert pmean(v, 1e3) == pytest.approx(v.max(), rel=1e-2)
    g = scipy.stats.gmean(v)
    for p in (1e-12, -1e-12):
        assert pmean(v, p) == pytest.approx(g, rel=1e-9)
    assert min(v) <= pmean(v, 0.3) <= max(v)


def test_extreme_p_no_overflow():
    v = np.array([1e-300, 1.0, 1e300])
    for p in (-1e3, -1.0, 1e-12, 1.0, 1e3):
        assert np.isfinite(pmean(v, p))
    assert pmean(np.array([2.0, 3.0]), 1e3) == pytest.approx(3.0 * 0.5**1e-3)
    assert pmean(np.array([2.0, 3.0]), -1e3) == pytest.approx(2.0 * 0.5**-1e-3)


def test_weights_and_slide_form():
    v = np.array([1.0, 4.0, 9.0])
    w = np.array([0.5, 0.25, 0.25])
    assert pmean(v, 1, w) == pytest.approx(3.75)
    assert pmean(v, 0, w) == pytest.approx(np.exp(np.dot(w, np.log(v))))
    assert pmean(v, 2, w) == pytest.approx(scipy.stats.pmean(v, 2, weights=w))
    assert pmean(np.array([-5.0, 2.0]), -math.inf, [0.0, 1.0]) == 2.0
    assert slide_pmean(v, 2) == pytest.approx(np.sqrt(np.sum(v**2)))
    assert pmean(np.array([0.0, 2.0]), 2) == pytest.approx(np.sqrt(2))
    assert pmean(np.array([-3.0, 5.0]), 1) == 1.0


def test_domain_errors_name_agents():
    with pytest.raises(DomainError, match=r"agents \[1\].*omega"):
        pmean([1.0, 0.0, 2.0], 0)
    with pytest.raises(DomainError, match=r"agents \[0\]"):
        pmean([-1.0, 2.0], 0.5)
    with pytest.raises(DomainError, match=r"agents \[2\]"):
        pmean([1.0, 2.0, -0.5], -1)
    with pytest.raises(DomainError):
        pmean([1.0, np.nan], 1)
    with pytest.raises(InvalidParameterError, match="p"):
        pmean([1.0, 2.0], float("nan"))
    with pytest.raises(ShapeError):
        pmean([], 1)
    with pytest.raises(InvalidParameterError, match="weights"):
        pmean([1.0, 2.0], 1, [0.5, 0.6])
    with pytest.raises(ShapeError, match="weights"):
        pmean([1.0, 2.0], 1, [1.0])


@given(positive, st.sampled_from([1e-12, -1e-12, 1e-8, -1e-6, 1e-3, 7.0, -300.0, 1000.0]))
def test_high_precision_reference(v, p):
    """No cancellation for tiny |p| and no overflow for large |p|: 50-digit mpmath reference."""
    import mpmath

    with mpmath.workdps(50):
        vals = [mpmath.mpf(float(x)) for x in v]
        mean = mpmath.fsum(x ** mpmath.mpf(p) for x in vals) / len(vals)
        expected = float(mean ** (1 / mpmath.mpf(p)))
    assert pmean(v, p) == pytest.approx(expected, rel=1e-12)


def test_welfare_of_a_profile() -> None:
    game = sed.scenarios.apple_picking()
    eq = sed.solve_equilibrium(game)
    for p in (-np.inf, -1.0, 0.0, 0.5, 1.0, 2.0, np.inf):
        assert sed.welfare(game, eq.actions, p) == pytest.approx(sed.pmean(eq.utilities, p), rel=1e-12)
        assert sed.welfare(game, eq.actions, p, welfare_of="payoff") == pytest.approx(
            sed.pmean(eq.payoffs, p), rel=1e-12
        )
    # The module stays a module: its functions are attributes of the callable.
    assert sed.welfare.pmean is sed.pmean


def test_welfare_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    eq = sed.solve_equilibrium(game)
    with pytest.raises(InvalidParameterError, match="welfare_of"):
        sed.welfare(game, eq.actions, 1.0, welfare_of="income")
    with pytest.raises(InvalidParameterError, match="p"):
        sed.welfare(game, eq.actions, float("nan"))
    poor = sed.CommonsGame(game.society, game.tax, damage=1.0, endowment=0.0, max_harvest=40.0)
    actions = np.full(game.n, 40.0)  # heavy damage: utilities negative
    with pytest.raises(DomainError, match="omega"):
        sed.welfare(poor, actions, 0.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(0.01, 1e3), min_size=1, max_size=8),
    st.sampled_from([-5.0, -1.0, -0.3, 0.0, 0.4, 1.0, 2.5, 7.0]),
)
def test_pmean_rows_matches_scipy(values: list[float], p: float) -> None:
    rows = np.array([values, values[::-1]])
    out = pmean_rows(rows, p)
    ref = float(scipy.stats.pmean(np.array(values), p)) if p != 0 else float(scipy.stats.gmean(values))
    assert out == pytest.approx([ref, ref], rel=1e-10)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(-10.0, 1e3), min_size=1, max_size=6),
    st.sampled_from([-math.inf, -1.0, 0.0, 0.5, 1.0, 3.0, math.inf]),
)
def test_pmean_or_minus_inf_is_pmean_or_minus_inf(values: list[float], p: float) -> None:
    """On the domain it is scipy's p-mean (via :func:`pmean`); off it, -inf where pmean raises."""
    out = pmean_or_minus_inf(values, p)
    try:
        ref = float(sed.pmean(values, p))
    except DomainError:
        assert out == -math.inf
    else:
        assert out == pytest.approx(ref, rel=1e-10, abs=1e-12)


def test_pmean_or_minus_inf_wants_one_vector() -> None:
    with pytest.raises(ShapeError, match="values"):
        pmean_or_minus_inf([[1.0, 2.0]], 1.0)


@pytest.mark.parametrize(
    "values,p,expected",
    [
        ([math.inf, 1.0], -1.0, 2.0),  # inf^-1 = 0: (1/2 * 1)^-1
        ([math.inf, 1.0, 1.0], -1.0, 1.5),
        ([math.inf, 1.0], 0.0, math.inf),
        ([math.inf, 1.0], 0.5, math.inf),
        ([math.inf, math.inf], -2.0, math.inf),
        ([math.inf, 1.0], 1.0, math.inf),
        ([math.inf, 1.0], -math.inf, 1.0),
    ],
)
def test_pmean_with_infinite_values_follows_the_limits(values, p, expected):
    assert pmean(values, p) == pytest.approx(expected)


def test_pmean_of_plus_and_minus_infinity_is_an_error():
    with pytest.raises(DomainError, match="undefined"):
        pmean([math.inf, -math.inf], 1.0)
    assert pmean_rows([[math.inf, -math.inf]], 1.0).tolist() == [-math.inf]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=8),
    st.sampled_from([1e-300, -1e-300, 1e-12, -1e-9, 1e-4, -0.3, 0.7, 2.0, -5.0, 300.0, -1e6]),
)
def test_pmean_rows_equals_pmean_for_every_p(values, p):
    """Planted (issue 16): at p = 1e-300 the row form returned ~1 and the principal's search then
    ended 2 % below its p = 0 value; rows and the scalar form must agree everywhere."""
    row = pmean_rows([values], p)[0]
    assert row == pytest.approx(pmean(values, p), rel=1e-12)


@given(
    st.lists(st.floats(0.5, 50.0), min_size=2, max_size=8),
    st.sampled_from([-5.0, -1.0, 0.0, 0.5, 2.0, 3.0]),
)
def test_marginal_weights_are_the_gradient_of_the_p_mean(values, p):
    """marginal_weights is proportional to the gradient of M_p (central differences), mean 1."""
    from sedtheory.welfare import marginal_weights

    v = np.array(values)
    h = 1e-6
    grad = np.array([(pmean(v + h * e, p) - pmean(v - h * e, p)) / (2 * h) for e in np.eye(v.size)])
    w = marginal_weights(v, p)
    assert w.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(w, grad / grad.mean(), rtol=1e-4, atol=1e-8)


def test_marginal_weights_at_the_limits_and_with_masses():
    from sedtheory.welfare import marginal_weights

    assert marginal_weights([3.0, 1.0, 2.0], -np.inf).tolist() == [0.0, 3.0, 0.0]
    assert marginal_weights([3.0, 1.0, 2.0], np.inf).tolist() == [3.0, 0.0, 0.0]
    w = marginal_weights([1.0, 2.0], 0.0, mass=[3.0, 1.0])
    assert float(w @ [3.0, 1.0]) == pytest.approx(4.0)  # mass-weighted mean 1
    assert w[0] / w[1] == pytest.approx(2.0)
    assert marginal_weights([1e6, 2e6], -40.0).sum() > 0  # no underflow to 0/0 in dollars
