"""The SED loop: vote -> principal -> play -> record."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sedtheory as sed
from sedtheory.errors import InvalidParameterError
from sedtheory.voting import winner

CANDS = [-math.inf, 0.0, 1.0]


def test_rounds_on_the_default_scenario() -> None:
    run = sed.run_sed("apple-picking", rounds=3, rule="copeland", candidates=CANDS, seed=0)
    h = run.history
    assert isinstance(run, pd.DataFrame) and len(run) == 3 and type(h) is pd.DataFrame
    assert list(h["round"]) == [0, 1, 2] == list(run["round"])
    assert len(run.agents) == 3 * 7
    for rec in run.rounds:
        assert rec.p == winner(rec.preferences.rankings, "copeland")
        assert rec.nash_gap <= 1e-8 * max(1.0, np.abs(rec.utilities).max())
        assert rec.welfare == pytest.approx(rec.design.welfare, rel=1e-12)
        np.testing.assert_allclose(rec.actions, rec.design.equilibrium.actions)
    # The game does not change: the principal's optima are computed once.
    assert all(
        a is b
        for a, b in zip(run.rounds[0].preferences.designs, run.rounds[2].preferences.designs, strict=True)
    )
    assert h["p"].nunique() == 1 and h["utilitarian"].iloc[0] == pytest.approx(run.rounds[0].utilities.mean())


def test_hook_changes_types_and_play() -> None:
    def hook(record: sed.SEDRound, rng: np.random.Generator):
        sigma = np.clip(record.game.society.selfishness + 0.1, 0.0, 1.0)
        game = record.game.with_society(record.game.society.with_types(selfishness=sigma))
        if record.index == 0:
            return game
        return {"game": game, "play": lambda g, r: np.zeros(g.n)}

    run = sed.run_sed(sed.scenarios.apple_picking(), rounds=3, rule="median", candidates=CANDS, hook=hook)
    sig = run.agents.groupby("round")["selfishness"].mean().to_numpy()
    assert sig[1] > sig[0] and sig[2] > sig[1]
    assert run.rounds[1].preferences.designs[0] is not run.rounds[0].preferences.designs[0]
    # Round 2 plays nothing (a user "learner"): its Nash gap is recorded, not hidden.
    assert run.rounds[2].actions.sum() == 0 and run.rounds[2].nash_gap > 1.0
    assert run.history["nash_gap"].iloc[2] == run.rounds[2].nash_gap


def test_score_and_fork_rules_get_their_options() -> None:
    run = sed.run_sed(rounds=1, rule="score", candidates=CANDS)
    assert run.history["p"].iloc[0] in CANDS
    run = sed.run_sed(rounds=1, rule="fork_weighted_median", candidates=CANDS)
    assert run.history["p"].iloc[0] in CANDS


def test_bad_input() -> None:
    with pytest.raises(InvalidParameterError, match="scenario"):
        sed.run_sed("harvest-world")
    with pytest.raises(InvalidParameterError, match="rounds"):
        sed.run_sed(rounds=0)
    with pytest.raises(InvalidParameterError, match="registered rules"):
        sed.run_sed(rule="dictator")
    with pytest.raises(InvalidParameterError, match="game_or_scenario"):
        sed.run_sed(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="hook"):
        sed.run_sed(rounds=2, candidates=CANDS, hook=lambda rec, rng: 3)
    with pytest.raises(InvalidParameterError, match="hook"):
        sed.run_sed(rounds=2, candidates=CANDS, hook=lambda rec, rng: {"types": 1})
