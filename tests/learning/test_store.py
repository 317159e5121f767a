"""The sweep store is crash-safe: journal, lock, atomic tables, SIGKILL at random points."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sedtheory.errors import InvalidParameterError
from sedtheory.learning import store as store_module
from sedtheory.learning.store import CellStore
from sedtheory.learning.sweep import sweep

sweep_module = importlib.import_module("sedtheory.learning.sweep")  # the name sweep is the function

GRID = {
    "graph": ["ring", "star"],
    "selfishness": ["uniform", "bimodal"],
    "p": [1.0, -float("inf")],
    "learner": ["best_response"],
    "seed": [0],
}
OPTIONS = {"n": 5, "rounds": 150, "processes": 1, "progress": False}


def _results(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["seconds"]).sort_values("cell").reset_index(drop=True)


def test_an_error_row_first_keeps_every_later_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: the CSV header came from the first row, so an error row first dropped the
    result columns of every later row."""
    real = sweep_module.run_cell
    calls = {"n": 0}

    def flaky(cell, tolerance, epochs):
        calls["n"] += 1
        if calls["n"] == 1:
            return {
                **{k: cell[k] for k in ("graph", "selfishness", "p", "learner", "seed", "cell")},
                "status": "error",
            }
        return real(cell, tolerance, epochs)

    monkeypatch.setattr(sweep_module, "run_cell", flaky)
    out = tmp_path / "s.csv"
    sweep(dict(GRID, selfishness=["uniform"], p=[1.0]), out=out, **OPTIONS)
    back = pd.read_csv(out)
    assert list(back["status"]) == ["error", "ok"]
    assert np.isfinite(back["distance"].iloc[1])


def test_a_torn_last_line_is_cut_not_glued(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    first = sweep(dict(GRID, graph=["ring"], selfishness=["uniform"]), out=out, **OPTIONS)
    journal = out.with_name(out.name + ".cells.jsonl")
    rows = first.to_dict("records")
    journal.write_text(json.dumps(rows[0], default=str) + "\n" + json.dumps(rows[1], default=str)[:40])
    out.unlink()
    again = sweep(dict(GRID, graph=["ring"], selfishness=["uniform"]), out=out, **OPTIONS)
    assert len(again) == 2 and set(again["status"]) == {"ok"}
    assert again["seconds"].iloc[0] == pytest.approx(first["seconds"].iloc[0])  # read back
    assert not journal.exists()


def test_a_second_sweep_on_the_same_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    with CellStore(out), pytest.raises(InvalidParameterError, match="another sweep"):
        sweep(GRID, out=out, **OPTIONS)


def test_a_truncated_parquet_table_resumes_from_the_journal(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "s.parquet"
    grid = dict(GRID, graph=["ring"], p=[1.0])
    first = sweep(grid, out=out, **OPTIONS)
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="cannot be read"):
        again = sweep(grid, out=out, **OPTIONS)
    pd.testing.assert_frame_equal(_results(again), _results(first))
    assert len(pd.read_parquet(out)) == 2


def test_error_rows_and_text_columns_round_trip_through_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "s.parquet"
    with CellStore(out) as store:
        store.append({"cell": "a", "status": "ok", "rates": "[0.1]", "distance": 0.5})
        store.append({"cell": "b", "status": "error", "error": "boom"})
        store.finish(store.load())
    back = pd.read_parquet(out)
    assert back["rates"].iloc[0] == "[0.1]" and pd.isna(back["rates"].iloc[1])
    assert pd.isna(back["error"].iloc[0]) and back["error"].iloc[1] == "boom"


def test_not_a_sweep_table_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    out.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidParameterError, match="not a sweep table"):
        sweep(GRID, out=out, **OPTIONS)


_CHILD = textwrap.dedent(
    """
    import json
    import sys
    from sedtheory.learning.sweep import sweep
    grid = json.loads({grid!r})
    sweep(grid, out=sys.argv[1], n=5, rounds=150, processes=1, progress=False)
    """
)


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing(tmp_path: Path) -> None:
    """Kill a sweep with SIGKILL at random moments, resume each time: every cell exactly once,
    results identical to an uninterrupted run."""
    clean = sweep(GRID, **OPTIONS)
    out = tmp_path / "s.csv"
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(grid=json.dumps(GRID)))
    journal = out.with_name(out.name + ".cells.jsonl")
    rng = np.random.default_rng(0)
    killed_with_progress = 0
    for _ in range(3):
        child = subprocess.Popen([sys.executable, str(script), str(out)])
        deadline = time.time() + 60
        while child.poll() is None and not journal.exists() and time.time() < deadline:
            time.sleep(0.05)  # until the first cell is journalled, then a random moment
        time.sleep(float(rng.uniform(0.0, 2.5)))
        running = child.poll() is None
        if running:
            os.kill(child.pid, signal.SIGKILL)
        assert child.wait() in (0, -signal.SIGKILL)  # the child ran (no crash of its own)
        killed_with_progress += running and journal.exists()
        if out.exists():  # whatever is on disk is a complete, readable table
            assert "cell" in pd.read_csv(out).columns
    assert killed_with_progress >= 1  # at least one kill landed in the middle of the work
    resumed = sweep(GRID, out=out, **OPTIONS)
    assert len(resumed) == len(clean) and resumed["cell"].is_unique
    pd.testing.assert_frame_equal(_results(resumed), _results(clean))
    assert len(pd.read_csv(out)) == len(clean)


def test_store_module_documents_itself() -> None:
    assert "fsync" in (store_module.__doc__ or "")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_pool_workers_do_not_outlive_a_killed_sweep(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(grid=json.dumps(GRID)).replace("processes=1", "processes=2"))
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path / "s.csv")])
    workers: list[int] = []
    for _ in range(100):
        time.sleep(0.1)
        workers = [w for w in _children(child.pid) if _alive(w)]
        if len(workers) >= 2:
            break
    assert workers, "the sweep started no pool workers"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
