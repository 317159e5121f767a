"""A scenario's ``dynamic:`` settings: the seed's T-step Markov game built from a static scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError
from sedtheory.games.dynamic import DynamicCommonsGame

__all__ = ["DYNAMIC_KEYS", "dynamic_game"]


#: Keys of a scenario's ``dynamic:`` mapping and their defaults.
DYNAMIC_KEYS: dict[str, Any] = {
    "horizon": 20,
    "discount": 0.95,
    "regrowth": "logistic",
    "initial_stock": None,
    "grid": 101,
    "optimise": True,
}


def dynamic_game(game: Any, settings: Mapping[str, Any]) -> DynamicCommonsGame:
    """The dynamic commons of a static scenario game (its society, tax, endowment and harvest cap)
    with the ``dynamic:`` settings (typed errors name the key)."""
    if not isinstance(settings, Mapping):
        raise InvalidParameterError("dynamic", settings, f"give a mapping with keys {sorted(DYNAMIC_KEYS)}")
    unknown = sorted(set(settings) - set(DYNAMIC_KEYS))
    if unknown:
        raise InvalidParameterError(
            f"dynamic.{unknown[0]}", settings[unknown[0]], f"use {sorted(DYNAMIC_KEYS)}"
        )
    s = {**DYNAMIC_KEYS, **settings}
    horizon = math.inf if str(s["horizon"]).lower() in ("inf", "infinity") else s["horizon"]
    if not isinstance(s["optimise"], bool):
        raise InvalidParameterError("dynamic.optimise", s["optimise"], "give true or false")
    return DynamicCommonsGame(
        game.society,
        game.tax.with_rates(np.zeros(game.tax.n_brackets)),
        s["regrowth"],
        horizon,
        s["discount"],
        s["initial_stock"],
        getattr(game, "endowment", 0.0),
        min(float(getattr(game, "max_harvest", 100.0)), 100.0),
        s["grid"],
    )
