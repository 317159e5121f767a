"""Welfare frontiers: the first best bounds every tax policy in every direction."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.principal import pareto_front, welfare_frontier


@pytest.fixture(scope="module")
def front() -> sed.WelfareFrontier:
    return welfare_frontier(sed.scenarios.apple_picking(), ps=(-math.inf, 0.0, 1.0), points=11, resolution=6)


def test_first_best_frontier_supports_every_policy(front: sed.WelfareFrontier) -> None:
    # Each first-best point maximises a weighted sum; no policy beats it in that direction.
    lam = np.linspace(0, 1, front.first_best.shape[0])
    for point in front.policies:
        for weight in lam:
            best = np.max(weight * front.first_best[:, 0] + (1 - weight) * front.first_best[:, 1])
            assert weight * point[0] + (1 - weight) * point[1] <= best + 1e-6


def test_second_best_front_is_pareto_efficient(front: sed.WelfareFrontier) -> None:
    sb = front.second_best
    for i in range(sb.shape[0]):
        dominated = np.all(front.policies >= sb[i], axis=1) & np.any(front.policies > sb[i], axis=1)
        assert not dominated.any()


def test_marks_and_laissez_faire(front: sed.WelfareFrontier) -> None:
    game = sed.scenarios.apple_picking()
    g1, g2 = front.groups
    assert sorted(np.concatenate([g1, g2]).tolist()) == list(range(game.n))
    lf = sed.solve_equilibrium(game)
    assert front.laissez_faire == pytest.approx([lf.utilities[g1].mean(), lf.utilities[g2].mean()])
    for p in (-math.inf, 0.0, 1.0):
        assert front.optima[p]["second_best"].shape == (2,)
        assert front.optima[p]["first_best"].shape == (2,)


def test_pareto_front_planted() -> None:
    pts = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [0.5, 2.0], [1.0, 0.9]])
    assert pareto_front(pts).tolist() == [3, 1, 2]


def test_groups_validation() -> None:
    game = sed.scenarios.apple_picking()
    with pytest.raises(InvalidParameterError, match="groups"):
        welfare_frontier(game, groups=([0, 1], [1, 2]), ps=(), points=2, resolution=3)
    with pytest.raises(InvalidParameterError, match="groups"):
        welfare_frontier(game, groups=([0], [99]), ps=(), points=2, resolution=3)
    two = welfare_frontier(game, groups=(0, 6), ps=(), points=3, resolution=3)
    assert two.labels == ("group [0]", "group [6]")


def test_frontier_of_one_agent_is_a_typed_error_not_nan():
    """Issue 16: n = 1 returned NaN coordinates (an empty second group)."""
    import sedtheory as sed
    from sedtheory.errors import InvalidParameterError

    game = sed.CommonsGame(
        sed.Society([0.5], [10.0]),
        sed.PiecewiseLinearTax([0.0, 10.0], [0.0, 0.0]),
        damage=0.02,
        endowment=50.0,
    )
    with pytest.raises(InvalidParameterError, match="groups"):
        sed.welfare_frontier(game)


def test_frontier_optima_say_which_equilibrium_counts():
    import sedtheory as sed

    front = sed.welfare_frontier(sed.scenarios.apple_picking(), ps=(-float("inf"),), points=3, resolution=5)
    entry = front.optima[-float("inf")]
    assert entry["selection"] == "optimistic"
    assert entry["equilibria_found"] >= 1 and isinstance(entry["equilibria_complete"], bool)
