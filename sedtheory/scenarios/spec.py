"""Scenario files: a validated :class:`ScenarioSpec` from YAML, TOML or a dict, and its game.

A scenario names the society (selfishness, productivity, graph), the tax brackets and the
commons; anything left out takes the seed scenario's value
(:data:`~sedtheory.scenarios.APPLE_PICKING_PARAMETERS`). Every key is checked: unknown keys,
strings where lists are expected, non-integer edge indices, duplicate YAML keys and malformed
numbers are typed errors naming the key.

Examples
--------
>>> from sedtheory.scenarios import ScenarioSpec
>>> spec = ScenarioSpec.from_dict({"selfishness": [1.0, 0.5, 0.0], "graph": "path"})
>>> game = spec.game()
>>> game.n, game.society.graph.number_of_edges(), game.tax.thresholds.tolist()
(3, 2, [0.0, 10.0, 20.0])
>>> ScenarioSpec.from_dict({"selfishness": "0101"})
Traceback (most recent call last):
...
sedtheory.errors.InvalidParameterError: invalid selfishness='0101': give a list of numbers (not a string)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from sedtheory.errors import InvalidParameterError, SedtheoryError
from sedtheory.families import make_graph
from sedtheory.games import CommonsGame
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax

__all__ = ["ScenarioSpec", "load_scenario", "read_mapping"]

_NUMBER_WORDS = {"inf": math.inf, "+inf": math.inf, ".inf": math.inf, "-inf": -math.inf, "-.inf": -math.inf}


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidParameterError(key, value, "give a number, not a boolean")
    if isinstance(value, str) and value.strip().lower() in _NUMBER_WORDS:
        return _NUMBER_WORDS[value.strip().lower()]
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(key, value, "malformed value: give a number") from None
    if math.isnan(x):
        raise InvalidParameterError(key, value, "give a number, not NaN")
    return x


def _numbers(key: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise InvalidParameterError(key, value, "give a list of numbers (not a string)")
    return tuple(_number(key, x) for x in value)


def _index(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
        raise InvalidParameterError(key, value, "edge ends must be integer agent indices")
    return int(value)


def _edges(value: Any) -> tuple[tuple[int, int], ...]:
    out = []
    for pair in value:
        if isinstance(pair, str) or not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InvalidParameterError("graph", pair, "give edges as [i, j] pairs of agent indices")
        out.append((_index("graph", pair[0]), _index("graph", pair[1])))
    return tuple(out)


@dataclass(frozen=True)
class ScenarioSpec:
    """A validated scenario (every field typed; see the module docstring for the keys).

    Attributes
    ----------
    selfishness : tuple of float
        One value in [0, 1] per agent (required).
    productivity : float or tuple of float
    graph : str or tuple of (int, int)
        A family of :mod:`sedtheory.families` (``ring``, ``complete``, ``star``, ``path``,
        ``erdos_renyi``, ...) or an explicit edge list.
    graph_seed, degree : int
        Seed and mean degree of random graph families.
    neighbor_weighting, commons : str
    thresholds, rates : tuple of float
        Bracket thresholds and rates (rates default to laissez-faire).
    damage, endowment, max_harvest : float
    candidates : tuple of float or None
        Candidate p values for the vote (default: the package's).
    dynamic : dict or None
        Settings of the dynamic commons section of the report (keys of
        :data:`sedtheory.scenarios.dynamic.DYNAMIC_KEYS`; checked when the game is built).
    name, source : str
    """

    selfishness: tuple[float, ...]
    productivity: float | tuple[float, ...] = 40.0
    graph: str | tuple[tuple[int, int], ...] = "ring"
    graph_seed: int = 0
    degree: int = 4
    neighbor_weighting: str = "sum"
    thresholds: tuple[float, ...] = (0.0, 10.0, 20.0)
    rates: tuple[float, ...] | None = None
    damage: float = 0.02
    endowment: float = 50.0
    max_harvest: float = 40.0
    commons: str = "global"
    candidates: tuple[float, ...] | None = None
    name: str = ""
    dynamic: dict[str, Any] | None = None
    source: str = "dict"

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys a scenario may set."""
        return tuple(k for k in cls.__dataclass_fields__ if k != "source")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "dict") -> ScenarioSpec:
        """Validate a mapping of scenario keys (typed errors name the key)."""
        if not isinstance(data, Mapping):
            raise InvalidParameterError("scenario", source, "the scenario must be a mapping of keys")
        unknown = sorted(set(data) - set(cls.keys()))
        if unknown:
            raise InvalidParameterError(
                unknown[0], data[unknown[0]], f"unknown key; use {sorted(cls.keys())}"
            )
        if "selfishness" not in data:
            raise InvalidParameterError("selfishness", None, "give one selfishness in [0, 1] per agent")
        fields: dict[str, Any] = {
            "selfishness": _numbers("selfishness", data["selfishness"]),
            "source": source,
        }
        for key in ("thresholds", "rates", "candidates"):
            if data.get(key) is not None:
                fields[key] = _numbers(key, data[key])
        for key in ("damage", "endowment", "max_harvest"):
            if key in data:
                fields[key] = _number(key, data[key])
        if "productivity" in data:
            v = data["productivity"]
            fields["productivity"] = (
                _numbers("productivity", v) if isinstance(v, list | tuple) else _number("productivity", v)
            )
        for key in ("graph_seed", "degree"):
            if key in data:
                fields[key] = _index(key, data[key])
        for key in ("neighbor_weighting", "commons", "name"):
            if key in data:
                if not isinstance(data[key], str):
                    raise InvalidParameterError(key, data[key], "give a string")
                fields[key] = data[key]
        if data.get("dynamic") is not None:
            if not isinstance(data["dynamic"], Mapping):
                raise InvalidParameterError(
                    "dynamic", data["dynamic"], "give a mapping (horizon, discount, ...)"
                )
            fields["dynamic"] = dict(data["dynamic"])
        if "graph" in data:
            g = data["graph"]
            fields["graph"] = g if isinstance(g, str) else _edges(g) if isinstance(g, list | tuple) else None
            if fields["graph"] is None:
                raise InvalidParameterError("graph", g, "give a graph family name or a list of [i, j] edges")
        return cls(**fields)

    @classmethod
    def from_file(cls, path: str | Path) -> ScenarioSpec:
        """Read and validate a ``.yaml``/``.yml``/``.toml`` scenario file."""
        return cls.from_dict(read_mapping(path), source=str(path))

    def society(self) -> Society:
        """The scenario's society (graph from :func:`sedtheory.families.make_graph` or the edges)."""
        n = len(self.selfishness)
        graph: nx.Graph | None
        if isinstance(self.graph, str):
            graph, _ = make_graph(self.graph, n, self.degree, self.graph_seed)
        else:
            graph = nx.Graph()
            graph.add_nodes_from(range(n))
            graph.add_edges_from(self.graph)
        weighting: Any = self.neighbor_weighting
        return Society(self.selfishness, self.productivity, graph=graph, neighbor_weighting=weighting)

    def game(self) -> CommonsGame:
        """The commons game of the scenario (its own validation names bad values)."""
        rates = self.rates if self.rates is not None else (0.0,) * len(self.thresholds)
        try:
            tax = PiecewiseLinearTax(self.thresholds, rates)
            commons: Any = self.commons
            return CommonsGame(
                self.society(),
                tax,
                damage=self.damage,
                endowment=self.endowment,
                max_harvest=self.max_harvest,
                commons=commons,
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SedtheoryError):
                raise
            raise InvalidParameterError("scenario", self.source, f"malformed value: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (lists, floats, strings)."""
        out = asdict(self)
        out.pop("source")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items() if v is not None}

    def dynamic_game(self) -> Any:
        """The scenario's dynamic commons (its ``dynamic:`` settings; typed errors name the key)."""
        from sedtheory.scenarios.dynamic import dynamic_game

        return dynamic_game(self.game(), self.dynamic or {})


def read_mapping(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML or TOML file (duplicate YAML keys are an error)."""
    p = Path(path)
    if not p.is_file():
        raise InvalidParameterError(
            "scenario", str(path), "give an existing .yaml/.yml/.toml file or a scenario name"
        )
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        data = _yaml(text, str(path))
    elif p.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidParameterError("scenario", str(path), f"not valid TOML: {exc}") from exc
    else:
        raise InvalidParameterError("scenario", str(path), "use a .yaml, .yml or .toml file")
    if not isinstance(data, dict):
        raise InvalidParameterError("scenario", str(path), "the file must hold a mapping of keys")
    return data


def _yaml(text: str, where: str) -> Any:
    import yaml

    class _Strict(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise InvalidParameterError(
                        str(key), where, "the key appears twice in the file; keep one"
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    try:
        return yaml.load(text, Loader=_Strict)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidParameterError("scenario", where, f"not valid YAML: {exc}") from exc


def load_scenario(path: str | Path) -> tuple[CommonsGame, dict[str, Any]]:
    """Read a scenario file: ``(game, the validated spec as a dict)``."""
    spec = ScenarioSpec.from_file(path)
    return spec.game(), spec.to_dict()
