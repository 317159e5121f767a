"""The report's dynamic section: scenario settings, numbers, Markdown, JSON and figures."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sedtheory.errors import InvalidParameterError  # noqa: E402
from sedtheory.report.dynamic import (  # noqa: E402
    analyse_dynamic,
    dynamic_figures,
    dynamic_json,
    dynamic_markdown,
)
from sedtheory.report.writers import jsonable  # noqa: E402
from sedtheory.scenarios import ScenarioSpec  # noqa: E402


def _spec(**dynamic: object) -> ScenarioSpec:
    data = {"selfishness": [1.0, 1.0], "graph": "complete", "productivity": 20.0, "dynamic": dynamic}
    return ScenarioSpec.from_dict(data)


def test_scenario_dynamic_settings_build_the_game() -> None:
    game = _spec(horizon=4, discount=0.9, grid=41, initial_stock=60).dynamic_game()
    assert game.horizon == 4 and game.discount == 0.9 and game.initial_stock == 60.0
    assert np.all(game.tax.rates == 0.0) and game.n == 2
    assert _spec(horizon="inf", discount=0.9, grid=41).dynamic_game().stationary
    for settings, field in (
        ({"horizn": 3}, "dynamic.horizn"),
        ({"discount": 1.5}, "discount"),
        ({"grid": 5}, "grid"),
        ({"optimise": "yes"}, "dynamic.optimise"),
    ):
        with pytest.raises(InvalidParameterError) as info:
            _spec(**settings).dynamic_game()
        assert info.value.field == field
    with pytest.raises(InvalidParameterError) as info:
        ScenarioSpec.from_dict({"selfishness": [1.0], "dynamic": [3]})
    assert info.value.field == "dynamic"
    assert _spec(horizon=3).to_dict()["dynamic"] == {"horizon": 3}


def test_section_numbers_text_and_figures() -> None:
    game = _spec(horizon=3, discount=0.9, grid=41, initial_stock=60).dynamic_game()
    a = analyse_dynamic(game, 1.0, optimise=True, quick=True)
    assert a.laissez_faire.actions.shape == game.strategy_shape
    assert a.design is not None and a.plan is not None and a.plan.objective.p == 1.0
    mean = float(np.mean(a.laissez_faire.utilities))
    assert a.design.welfare >= mean - 1e-9 and a.plan.certificate.upper >= a.design.welfare - 1e-9
    paths = a.stock_paths()
    assert len(paths) == 3 and all(v[0] == 60.0 for v in paths.values())
    text = "\n".join(dynamic_markdown(a, {"dynamic_stock_paths": "s.png"}))
    assert "laissez-faire MPE" in text and "planner (first best, p = 1)" in text and "](s.png)" in text
    data = json.loads(json.dumps(jsonable(dynamic_json(a))))
    assert data["first_best"]["method"] == "convex" and len(data["stock_paths"]) == 3
    assert set(dynamic_figures(a)) == {"dynamic_stock_paths", "dynamic_policies", "dynamic_regrowth"}


def test_no_certified_planner_falls_back_to_p_one() -> None:
    game = _spec(horizon=2, discount=0.9, grid=41, initial_stock=60).dynamic_game()
    a = analyse_dynamic(game, 2.0, optimise=False, quick=True)
    assert a.design is None and a.plan.objective.p == 1.0
    assert any("p = 1" in note for note in a.notes)
