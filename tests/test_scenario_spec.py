"""ScenarioSpec: validated scenario files (YAML, TOML, dict) and the named-scenario registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError, UnknownNameError
from sedtheory.scenarios import ScenarioSpec, scenario


def test_defaults_are_the_seed_scenario() -> None:
    game = ScenarioSpec.from_dict({"selfishness": list(np.linspace(0, 1, 7))}).game()
    seed = sed.scenarios.apple_picking()
    a = sed.solve_equilibrium(game).actions
    assert np.allclose(a, sed.solve_equilibrium(seed).actions, atol=1e-12)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"selfishness": "0101"}, "selfishness"),  # a string is not a list
        ({"selfishness": [0.1, 0.2], "graph": [[0, 1.5]]}, "graph"),  # float edge index
        ({"selfishness": [0.1, 0.2], "graph": [[0, True]]}, "graph"),
        ({"selfishness": [0.1, 0.2], "thresholds": "0, 10"}, "thresholds"),
        ({"selfishness": [0.1, 0.2], "damage": "lots"}, "damage"),
        ({"selfishness": [0.1, 0.2], "damage": True}, "damage"),
        ({"selfishness": [0.1, 0.2], "commons": 3}, "commons"),
        ({"selfishness": [0.1, 0.2], "colour": "red"}, "colour"),
        ({"graph": "ring"}, "selfishness"),
        ({"selfishness": [0.1, 0.2], "graph": "torus"}, "graph"),
        ({"selfishness": [0.1, 0.2], "graph": 7}, "graph"),
    ],
)
def test_bad_values_name_the_key(data: dict, field: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        ScenarioSpec.from_dict(data).game()
    assert info.value.field == field or field in str(info.value)


def test_duplicate_yaml_keys_are_an_error(tmp_path: Path) -> None:
    f = tmp_path / "dup.yaml"
    f.write_text("selfishness: [0.1, 0.2]\ndamage: 0.1\ndamage: 0.2\n")
    with pytest.raises(InvalidParameterError, match="twice"):
        ScenarioSpec.from_file(f)


def test_files_round_trip_and_named_scenarios(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        'selfishness = [0.1, 0.5, 0.9]\ngraph = "erdos_renyi"\ngraph_seed = 3\ncandidates = ["-inf", 0, 1]\n'
    )
    spec = ScenarioSpec.from_file(f)
    assert spec.candidates == (float("-inf"), 0.0, 1.0)
    again = ScenarioSpec.from_dict(spec.to_dict())
    assert again.game().society.adjacency.nnz == spec.game().society.adjacency.nnz
    assert scenario(f).n == 3 and scenario("seed").n == 7
    with pytest.raises(UnknownNameError, match="scenarios"):
        scenario("orchard")
