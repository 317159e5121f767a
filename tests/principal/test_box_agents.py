"""Every agent's largest utility over a box of rates, and the p > 1 second-best bound from it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sedtheory as sed
from sedtheory.errors import CapabilityError, InvalidParameterError
from sedtheory.principal.box_agents import agent_box_maxima, high_p_bound
from sedtheory.welfare import pmean
from tests.conftest import random_game
from tests.principal.test_box_relaxation import equilibria_in, random_box
from tests.principal.test_planner_dual import massed_game

HIGH = (1.5, 2.0, 4.0, math.inf)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), massed=st.booleans(), payoff=st.booleans())
def test_every_agent_is_below_its_bound(seed: int, massed: bool, payoff: bool) -> None:
    rng = np.random.default_rng(seed)
    game = massed_game(seed) if massed else random_game(rng)
    box = random_box(rng, game.tax.thresholds.size)
    of = "payoff" if payoff else "utility"
    upper, _ = agent_box_maxima(game, box, aggregate=rng.uniform(0, 100), welfare_of=of, max_boxes=5)
    for rates, found in equilibria_in(game, box, rng):
        for u, a in zip(found.utilities, found.actions, strict=True):
            values = game.kernel.payoffs(a, rates) if payoff else u
            assert np.all(values <= upper + 1e-7 * np.maximum(1.0, np.abs(values)))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.sampled_from(HIGH))
def test_bound_holds_at_every_equilibrium(seed: int, p: float) -> None:
    rng = np.random.default_rng(seed)
    game = random_game(rng)
    box = random_box(rng, game.tax.thresholds.size)
    res = high_p_bound(game, sed.Objective(p), box, aggregate=rng.uniform(0, 100), max_boxes=5)
    for _, found in equilibria_in(game, box, rng):
        for u in found.utilities:
            if math.isfinite(p) and np.any(u < 0):
                continue  # outside the p-mean's domain
            assert pmean(u, p) <= res.upper + 1e-7 * max(1.0, abs(res.upper))


@pytest.mark.parametrize("p", [2.0, math.inf])
def test_seed_scenario_below_the_first_best(p: float) -> None:
    game = sed.scenarios.apple_picking()
    design = sed.optimal_tax(game, p)
    fb = sed.first_best(game, p, transfers="tax-feasible").upper_bound
    assert design.welfare <= design.upper_bound < fb
    assert "per agent" in design.certificate.source
    box = np.stack([np.zeros(3), np.ones(3)])
    res = high_p_bound(game, sed.Objective(p), box, aggregate=float(design.equilibrium.actions.sum()))
    if math.isfinite(p):  # never looser than Hölder with the mean's bound
        top, mean = res.details["largest agent bound"], res.details["mean bound"]
        assert res.upper <= math.sqrt(top * mean) * (1 + 1e-12) < top
    else:
        assert res.upper == res.details["largest agent bound"]


def test_more_boxes_never_loosen() -> None:
    game = sed.scenarios.apple_picking()
    box = np.stack([np.zeros(3), np.ones(3)])
    tops = [agent_box_maxima(game, box, aggregate=100.0, max_boxes=m)[0] for m in (1, 5, 13)]
    assert np.all(tops[0] >= tops[1] - 1e-12) and np.all(tops[1] >= tops[2] - 1e-12)


def test_bad_input() -> None:
    game = sed.scenarios.apple_picking()
    box = np.stack([np.zeros(3), np.ones(3)])
    with pytest.raises(CapabilityError, match="p <= 1"):
        high_p_bound(game, sed.Objective(1.0), box, aggregate=1.0)
    with pytest.raises(InvalidParameterError, match="box"):
        agent_box_maxima(game, box[:, :1], aggregate=1.0)
    local = sed.CommonsGame(game.society, game.tax, damage=0.01, commons="local", endowment=50.0)
    with pytest.raises(CapabilityError, match="global commons"):
        agent_box_maxima(local, box, aggregate=1.0)
