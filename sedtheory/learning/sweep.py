r"""Sweeps of learned-versus-analytic comparisons over graphs, types, objectives, learners and seeds.

``sweep(grid)`` runs :func:`~sedtheory.learning.compare` on every cell of the product of the
grid's lists (graph family x selfishness profile x p x learner x seed, plus any of n, rounds,
commons, principal), on a local process pool by default, in this process with
``processes=1``, or on a Dask distributed cluster when given a scheduler address. Results
come back as a pandas DataFrame, one row per cell; with ``out=`` every finished cell is
appended to a CSV file at once (or collected and written as Parquet at the end, with a CSV
checkpoint beside it), and a re-run skips the cells already in the file (resumable).

A cell whose computation raises is kept as a row with ``status`` "error: ..." (the sweep goes
on); ``status`` is "ok" otherwise. ``learned_equilibrium`` says whether the learned profile is
within ``tolerance`` of the analytic equilibrium; a learned profile with a small Nash gap but a
large distance reached *another* equilibrium (non-concave games have several).

Examples
--------
>>> from sedtheory.learning import sweep
>>> table = sweep({"graph": ["ring", "star"], "p": [1.0], "learner": ["best_response"], "seed": [0]},
...               n=6, rounds=200, processes=1, progress=False)
>>> table[["graph", "learner", "status"]].values.tolist()
[['ring', 'best_response', 'ok'], ['star', 'best_response', 'ok']]
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sedtheory.errors import InvalidParameterError
from sedtheory.families import GRAPH_FAMILIES, SELFISHNESS_PROFILES, make_game
from sedtheory.learning.agents import LEARNERS
from sedtheory.learning.compare import compare
from sedtheory.learning.principal import PRINCIPAL_LEARNERS
from sedtheory.learning.store import CellStore, merge_records
from sedtheory.validate import count
from sedtheory.welfare import check_p

__all__ = ["DEFAULT_GRID", "sweep", "run_cell", "cells"]

#: The default sweep: every graph family and selfishness profile, three objectives, the two
#: deterministic learners and one seed.
DEFAULT_GRID: dict[str, list[Any]] = {
    "graph": list(GRAPH_FAMILIES),
    "selfishness": list(SELFISHNESS_PROFILES),
    "p": [-math.inf, 0.0, 1.0],
    "learner": ["gradient", "best_response", "hedge", "policy_gradient"],
    "seed": [0],
}

_KEYS = ("graph", "selfishness", "p", "learner", "seed", "n", "rounds", "commons", "principal")


def _check_grid(grid: Mapping[str, Sequence[Any]], defaults: Mapping[str, Any]) -> dict[str, list[Any]]:
    unknown = sorted(set(grid) - set(_KEYS))
    if unknown:
        raise InvalidParameterError(unknown[0], grid[unknown[0]], f"grid keys are {list(_KEYS)}")
    full: dict[str, list[Any]] = {}
    for key in _KEYS:
        values = grid.get(key, [defaults[key]])
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise InvalidParameterError(key, values, "give a list of values for each grid key")
        values = list(values)
        if not values:
            raise InvalidParameterError(key, values, "give at least one value")
        full[key] = values
    checks: dict[str, Mapping[str, Any]] = {
        "graph": GRAPH_FAMILIES,
        "selfishness": SELFISHNESS_PROFILES,
        "learner": LEARNERS,
    }
    for key, registry in checks.items():
        bad = [v for v in full[key] if v not in registry]
        if bad:
            raise InvalidParameterError(key, bad, f"use values from {sorted(registry)}")
    bad = [v for v in full["principal"] if v is not None and v not in PRINCIPAL_LEARNERS]
    if bad:
        raise InvalidParameterError("principal", bad, f"use None or one of {sorted(PRINCIPAL_LEARNERS)}")
    _check_numbers(full)
    return full


def _check_numbers(full: Mapping[str, list[Any]]) -> None:
    """Up front, not as error rows that resume never retries: n >= 2 and rounds >= 1 integers,
    seeds non-negative integers, p real or +-inf (never NaN)."""
    for key, low in {"n": 2, "rounds": 1, "seed": 0}.items():
        for v in full[key]:
            count(key, v, low, f"use integers >= {low}")
    for v in full["p"]:
        try:
            check_p(v)
        except InvalidParameterError:
            raise InvalidParameterError("p", v, "use real numbers or +-inf (not NaN)") from None


def _key(cell: Mapping[str, Any]) -> str:
    def norm(v: Any) -> Any:
        if isinstance(v, float) and math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if isinstance(v, np.generic):
            return v.item()
        return v

    return json.dumps({k: norm(cell[k]) for k in _KEYS}, sort_keys=True)


def cells(grid: Mapping[str, Sequence[Any]], **defaults: Any) -> list[dict[str, Any]]:
    """The cells of ``grid`` (product of its lists; missing keys take ``defaults``), each with its key."""
    base = {"n": 12, "rounds": 2000, "commons": "global", "principal": None, "seed": 0}
    base.update({k: v for k, v in defaults.items() if k in _KEYS})
    for k in ("graph", "selfishness", "p", "learner"):
        base.setdefault(k, DEFAULT_GRID[k][0])
    full = _check_grid(grid, base)
    out = []
    for values in itertools.product(*(full[k] for k in _KEYS)):
        cell = dict(zip(_KEYS, values, strict=True))
        cell["cell"] = _key(cell)
        out.append(cell)
    return out


def run_cell(cell: Mapping[str, Any], tolerance: float = 1e-3, epochs: int = 300) -> dict[str, Any]:
    """Run one cell: build the game, compare learned with analytic; a flat result row."""
    t0 = time.perf_counter()
    row: dict[str, Any] = {k: cell[k] for k in (*_KEYS, "cell")}
    row["principal"] = cell["principal"] or ""
    try:
        game = make_game(
            int(cell["n"]),
            cell["graph"],
            cell["selfishness"],
            seed=int(cell["seed"]),
            commons=cell["commons"],
        )
        c = compare(
            game,
            float(cell["p"]),
            cell["learner"],
            rounds=int(cell["rounds"]),
            seed=int(cell["seed"]),
            principal=cell["principal"] or None,
            epochs=epochs,
        )
        result = c.row()
        result["rates"] = str(result["rates"])
        result.pop("learner")
        result.pop("principal")
        result.pop("p")
        row.update(result)
        row["concave"] = bool(game.with_tax(game.tax.with_rates(c.rates)).is_concave.all())
        row["learned_equilibrium"] = bool(c.distance <= tolerance * game.max_harvest)
        row["cce_gap"] = c.details.get("cce_gap", math.nan)
        row["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a failed cell is reported, the sweep goes on
        row["status"] = f"error: {type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=3)
    row["seconds"] = time.perf_counter() - t0
    return row


def sweep(
    grid: Mapping[str, Sequence[Any]] | None = None,
    out: str | Path | None = None,
    scheduler: str | None = None,
    processes: int | None = None,
    resume: bool = True,
    progress: bool = True,
    tolerance: float = 1e-3,
    epochs: int = 300,
    **defaults: Any,
) -> pd.DataFrame:
    """Compare learned with analytic on every cell of ``grid``.

    Parameters
    ----------
    grid : mapping of lists, optional
        Keys among graph, selfishness, p, learner, seed, n, rounds, commons, principal;
        default :data:`DEFAULT_GRID`.
    out : path, optional
        ``.csv`` or ``.parquet``: every finished cell is journalled at once (crash-safe) and the
        table is replaced atomically every 25 cells and at the end; a lock keeps a second sweep
        off the same file (:class:`~sedtheory.learning.store.CellStore`).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); needs ``dask[distributed]``.
    processes : int, optional
        Local worker processes (default: the CPU count); 1 runs in this process.
    resume : bool
        Skip cells already in ``out``.
    progress : bool
        Show a progress bar (tqdm) on stderr.
    tolerance : float
        ``learned_equilibrium`` means distance <= tolerance * max_harvest.
    epochs : int
        Epochs of a learning principal (cells with ``principal``).
    **defaults
        Values for grid keys not in ``grid`` (e.g. ``n=20, rounds=5000``).

    Returns
    -------
    pandas.DataFrame
        One row per cell (finished earlier or now), in grid order.
    """
    todo = cells(DEFAULT_GRID if grid is None else grid, **defaults)
    path = None if out is None else Path(out)
    if path is not None:
        if path.suffix not in (".csv", ".parquet"):
            raise InvalidParameterError("out", str(out), "use a .csv or .parquet path")
        if path.suffix == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError as exc:
                raise InvalidParameterError(
                    "out", str(out), "Parquet needs pyarrow (pip install pyarrow), or use .csv"
                ) from exc
    store = None if path is None else CellStore(path)
    with store if store is not None else contextlib.nullcontext():
        if store is not None and not resume:
            store.reset()
        old = store.load() if store is not None else None
        finished = set() if old is None else set(old["cell"])
        pending = [c for c in todo if c["cell"] not in finished]
        rows: list[dict[str, Any]] = []
        bar = _progress(len(pending), progress)
        try:
            for row in _execute(pending, scheduler, processes, tolerance, epochs):
                rows.append(row)
                if store is not None:
                    store.append(row)
                    if store.due():
                        store.write_table(_combined(old, rows))
                bar.update(1)
        finally:
            bar.close()
        everything = _combined(old, rows)
        if store is not None:
            store.finish(everything)
    table = everything if everything is not None else pd.DataFrame(columns=["cell"])
    order = {c["cell"]: i for i, c in enumerate(todo)}
    table = table[table["cell"].isin(order)].copy()
    table["_order"] = table["cell"].map(order)
    return table.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def _combined(old: pd.DataFrame | None, rows: list[dict[str, Any]]) -> pd.DataFrame | None:
    """Earlier results and this run's rows (the latest record of a cell wins)."""
    return merge_records(old, pd.DataFrame(rows) if rows else None)


def _die_with_parent() -> None:
    """Pool workers end with the sweep (Linux ``PR_SET_PDEATHSIG``): a killed sweep left them
    running as orphans. Elsewhere a no-op."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc="sweep", unit="cell")


def _execute(
    pending: list[dict[str, Any]], scheduler: str | None, processes: int | None, tolerance: float, epochs: int
) -> Iterable[dict[str, Any]]:
    if not pending:
        return
    if scheduler is not None:
        try:
            from dask.distributed import Client
            from dask.distributed import as_completed as dask_completed
        except ImportError as exc:
            raise InvalidParameterError(
                "scheduler",
                scheduler,
                "the Dask path needs dask[distributed] (pip install 'sedtheory[sweep]')",
            ) from exc
        client = Client(scheduler)
        try:
            remote = [client.submit(run_cell, c, tolerance, epochs, pure=False) for c in pending]
            for done in dask_completed(remote):
                yield done.result()
        finally:
            client.close()
        return
    workers = (os.cpu_count() or 1) if processes is None else processes
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError("processes", processes, "use a positive integer (1: in this process)")
    if workers == 1:
        for c in pending:
            yield run_cell(c, tolerance, epochs)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent) as pool:
        futures = [pool.submit(run_cell, c, tolerance, epochs) for c in pending]
        for fut in as_completed(futures):
            yield fut.result()
