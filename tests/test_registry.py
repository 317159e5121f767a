"""Every registry passes one contract: typed errors on unknown names, aliases resolve, every entry
carries its name and metadata; and every solver/learner/rule entry works on a game it applies to."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.equilibrium import SOLVERS
from sedtheory.errors import InvalidParameterError, UnknownNameError
from sedtheory.families import GRAPH_FAMILIES
from sedtheory.learning import LEARNERS, PRINCIPAL_LEARNERS
from sedtheory.registry import Registry, register
from sedtheory.scenarios import SCENARIOS
from sedtheory.theory import THEOREMS
from sedtheory.voting import RULES

REGISTRIES = {
    "SOLVERS": SOLVERS,
    "LEARNERS": LEARNERS,
    "PRINCIPAL_LEARNERS": PRINCIPAL_LEARNERS,
    "RULES": RULES,
    "THEOREMS": THEOREMS,
    "GRAPH_FAMILIES": GRAPH_FAMILIES,
    "SCENARIOS": SCENARIOS,
}


@pytest.mark.parametrize("name", sorted(REGISTRIES))
def test_registry_contract(name: str) -> None:
    reg = REGISTRIES[name]
    assert isinstance(reg, Registry) and len(reg) > 0
    for key, entry in reg.items():
        assert dataclasses.is_dataclass(entry) and entry.name == key
        assert reg.get(key) is entry
    for alias, target in reg.aliases.items():
        assert reg.get(alias) is reg[target]
    with pytest.raises(UnknownNameError) as info:
        reg.get("no-such-entry")
    assert info.value.field == reg.field and "no-such-entry" in str(info.value)
    assert isinstance(info.value, InvalidParameterError) and isinstance(info.value, KeyError)
    for key in reg:
        assert key in str(info.value)  # the message lists the valid names


def test_register_decorator_and_free_function() -> None:
    @dataclasses.dataclass(frozen=True)
    class Spec:
        name: str
        func: object
        colour: str = "red"

    reg: Registry[Spec] = Registry("thing", build=Spec, kind="things")

    @register(reg, "a", aliases=("alpha",), colour="blue")
    def a() -> int:
        return 1

    assert reg.get("alpha").colour == "blue" and reg["a"].func is a
    with pytest.raises(UnknownNameError, match="registered things"):
        reg.get(3)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_every_solver_certifies_the_games_it_applies_to(name: str) -> None:
    from sedtheory.games.dynamic import DynamicCommonsGame

    dynamic = DynamicCommonsGame(
        sed.Society([0.5, 1.0], 20.0),
        sed.PiecewiseLinearTax([0], [0.2]),
        horizon=2,
        initial_stock=50.0,
        grid=21,
        endowment=10.0,
        max_harvest=30.0,
    )
    games = [
        sed.scenarios.apple_picking((0.1, 0.3, 0.6)),
        sed.families.make_game(8, "ring", seed=2, commons="local"),
        dynamic,
    ]
    used = 0
    for game in games:
        if SOLVERS[name].applies(game):
            eq = sed.solve_equilibrium(game, method=name)
            assert eq.converged and eq.relative_nash_gap <= getattr(game, "default_tolerance", 1e-9)
            used += 1
    assert used > 0


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_every_learner_plays(name: str) -> None:
    game = sed.scenarios.apple_picking((0.1, 0.3, 0.6))
    res = sed.learning.learn(game, name, rounds=200, seed=0)
    assert np.all(np.isfinite(res.actions)) and res.cce_gap >= 0


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_elects_a_candidate(name: str) -> None:
    inf = float("inf")
    rankings = [[1.0, 0.0, -inf], [0.0, 1.0, -inf], [-inf, 0.0, 1.0]]
    opts = {
        "score": {"utilities": np.eye(3)[[2, 1, 0]]},
        "fork_weighted_median": {"types": [0.2, 0.5, 0.9]},
    }.get(name, {})
    assert sed.voting.winner(rankings, name, **opts) in (-inf, 0.0, 1.0)


@pytest.mark.parametrize("name", sorted(GRAPH_FAMILIES))
def test_every_graph_family_builds(name: str) -> None:
    g, split = sed.families.make_graph(name, 9, seed=1)
    assert split.shape == (9,) and (g is None or g.number_of_nodes() == 9)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_is_a_game(name: str) -> None:
    assert isinstance(sed.scenarios.scenario(name), sed.Game)
