"""Issue 16's generic exceptions: every public parameter gets a typed error naming it.

Strings, mappings, complex numbers and None used to reach ``np.array``/``float`` and raise bare
TypeError/ValueError; resource requests far beyond memory used to start allocating."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import SedtheoryError
from sedtheory.learning.play import learn

GAME = sed.scenarios.apple_picking()

CASES = {
    "society selfishness text": (lambda: sed.Society("0101", 1.0), "selfishness"),
    "society selfishness dict": (lambda: sed.Society({"a": 1}, 1.0), "selfishness"),
    "society selfishness complex": (lambda: sed.Society([1 + 2j, 0.5], 1.0), "selfishness"),
    "society selfishness None": (lambda: sed.Society(None, 1.0), "selfishness"),
    "society productivity text": (lambda: sed.Society([0.5], "x"), "productivity"),
    "tax thresholds text": (lambda: sed.PiecewiseLinearTax("abc", [0.1]), "thresholds"),
    "tax rates None": (lambda: sed.PiecewiseLinearTax([0], None), "rates"),
    "tax rates complex": (lambda: sed.PiecewiseLinearTax([0], [1j]), "rates"),
    "pmean text": (lambda: sed.pmean("abc", 1), "values"),
    "pmean None": (lambda: sed.pmean(None, 1), "values"),
    "pmean dict": (lambda: sed.pmean({"a": 1}, 1), "values"),
    "pmean complex": (lambda: sed.pmean([1j, 2], 1), "values"),
    "pmean p text": (lambda: sed.pmean([1, 2], "x"), "p"),
    "nash_gap text": (lambda: sed.nash_gap(GAME, "abc"), "actions"),
    "nash_gap None": (lambda: sed.nash_gap(GAME, None), "actions"),
    "bounds text": (lambda: sed.optimal_tax(GAME, 1, bounds="ab"), "bounds"),
    "resolution text": (lambda: sed.optimal_tax(GAME, 1, resolution="5"), "resolution"),
    "resolution beyond memory": (lambda: sed.optimal_tax(GAME, 1, resolution=10**6), "resolution"),
    "starts text": (lambda: sed.optimal_tax(GAME, 1, starts="3"), "starts"),
    "min_step NaN": (lambda: sed.optimal_tax(GAME, 1, min_step=math.nan), "min_step"),
    "tol text": (lambda: sed.solve_equilibrium(GAME, tol="x"), "tol"),
    "tol inf": (lambda: sed.solve_equilibrium(GAME, tol=math.inf), "tol"),
    "certify tol inf": (lambda: sed.equilibrium.certify(GAME, [1.0] * 7, tol=math.inf), "tol"),
    "max_iter 2.5": (lambda: sed.solve_equilibrium(GAME, max_iter=2.5), "max_iter"),
    "initial NaN": (lambda: sed.solve_equilibrium(GAME, initial=[math.nan] * 7), "actions"),
    "initial shape": (lambda: sed.solve_equilibrium(GAME, initial=[1.0] * 3), "actions"),
    "optimal_tax None": (lambda: sed.optimal_tax(None, 1), "game"),
    "learn seed -1": (lambda: learn(GAME, "gradient", rounds=10, seed=-1), "seed"),
    "learn rounds beyond memory": (lambda: learn(GAME, "gradient", rounds=10**9, seed=0), "rounds"),
    "first_best p None": (lambda: sed.first_best(GAME, None), "p"),
    "frontier ps text": (lambda: sed.welfare_frontier(GAME, ps="ab"), "p"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gets_a_typed_error_naming_the_field(name: str) -> None:
    call, field = CASES[name]
    with pytest.raises(SedtheoryError) as info:
        call()
    assert field in str(info.value)


def test_good_input_still_works() -> None:
    assert sed.Society(np.array([0.5, 1]), [1, 2]).n == 2
    assert sed.pmean((1, 4), 0) == pytest.approx(2.0)
    assert sed.PiecewiseLinearTax((0, 10), (0.1, 0.2))(20.0) == pytest.approx(3.0)
