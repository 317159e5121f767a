import numpy as np
import pytest
import sympy as sp

import sedtheory as sed
from sedtheory.symbolic.symmetric import symmetric_closed_forms

from ..conftest import make_graph


@pytest.fixture(scope="module", params=["sum", "mean"])
def forms(request):
    return request.param, symmetric_closed_forms(request.param)


def test_matches_numeric_symmetric_game(forms):
    weighting, f = forms
    n, sigma, theta, kappa, phi = 6, 0.7, 30.0, 0.01, 0.2
    game = sed.CommonsGame(
        sed.Society(np.full(n, sigma), theta, neighbor_weighting=weighting),
        sed.PiecewiseLinearTax([0], [phi]),
        kappa,
        10.0,
        1e3,
    )
    eq = sed.solve_equilibrium(game)
    values = {"n": n, "sigma": sigma, "theta": theta, "kappa": kappa, "phi": phi, "omega": 10.0}
    assert f.evaluate(f.equilibrium, **values) == pytest.approx(eq.actions[0], rel=1e-12)
    assert f.evaluate(f.payoff_equilibrium, **values) == pytest.approx(eq.payoffs[0], rel=1e-12)


def test_pigouvian_rate_implements_first_best_symbolically(forms):
    _, f = forms
    phi = f.symbols["phi"]
    assert sp.simplify(f.equilibrium.subs(phi, f.pigouvian_rate) - f.first_best) == 0
    assert f.limits["pigouvian_rate"] == 1 and f.limits["first_best"] == 0


def test_untaxed_selfish_tragedy_limit(forms):
    """sigma = 1, no tax, theta -> oo: the equilibrium harvest is n times the first best."""
    _, f = forms
    s = f.symbols
    ratio = (f.equilibrium / f.first_best).subs({s["sigma"]: 1, s["phi"]: 0})
    assert sp.simplify(sp.limit(ratio, s["theta"], sp.oo) - s["n"]) == 0


@pytest.mark.parametrize("family", ["complete", "ring", "star", "erdos-renyi", "directed"])
@pytest.mark.parametrize("weighting", ["sum", "mean"])
def test_pigouvian_flat_rate_numerically_on_graphs(family, weighting):
    """phi* = kappa A_fb implements the first best of the sum of own payoffs, any sigma > 0, any graph."""
    rng = np.random.default_rng(abs(hash((family, weighting))) % 2**32)
    n, kappa = 7, 0.02
    theta = rng.uniform(10, 40, n)
    soc = sed.Society(
        rng.uniform(0.05, 1, n), theta, graph=make_graph(family, n, 3), neighbor_weighting=weighting
    )
    a_fb_total = theta.sum() / (1 + kappa * theta.sum())
    game = sed.CommonsGame(soc, sed.PiecewiseLinearTax([0], [kappa * a_fb_total]), kappa, 10.0, 100.0)
    eq = sed.solve_equilibrium(game)
    np.testing.assert_allclose(eq.actions, theta * (1 - kappa * a_fb_total), rtol=1e-10)
    # and that profile maximises the sum of own payoffs (first-order condition of the planner)
    grad = 1 - eq.actions / theta - kappa * eq.aggregate
    np.testing.assert_allclose(grad, 0, atol=1e-10)


def test_comparative_statics_signs_agree_with_finite_differences(forms):
    _, f = forms
    rng = np.random.default_rng(1)
    harvest_kappa = f.sensitivity("harvest", "kappa")
    assert harvest_kappa.sign == "-" and harvest_kappa.method == "proof"
    for sens in f.sensitivities:
        if sens.sign == "depends":
            continue
        fn = sp.lambdify(list(f.symbols.values()), sens.derivative)
        for _ in range(50):
            point = [
                rng.integers(2, 50),
                rng.uniform(0.01, 0.99),
                rng.uniform(1, 50),
                rng.uniform(1e-3, 1),
                rng.uniform(0, 10),
                rng.uniform(0, 0.99),
            ]
            value = fn(*point)
            assert (value > 0) if sens.sign == "+" else (value < 0) if sens.sign == "-" else value == 0


def test_harvest_phi_sign_depends_on_concavity():
    """d a*/d phi has the sign of s/n - sigma = -k: it is "depends" under the seed's weighting."""
    f = symmetric_closed_forms("sum")
    assert f.sensitivity("harvest", "phi").sign == "depends"
    with pytest.raises(sed.errors.InvalidParameterError):
        f.sensitivity("harvest", "omega")
