"""Sweeps: serial, process pool, Dask (in-process cluster), resume, CSV/Parquet, CLI."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sedtheory.cli import main
from sedtheory.errors import InvalidParameterError
from sedtheory.learning import cells, run_cell, sweep

GRID = {
    "graph": ["ring", "star"],
    "selfishness": ["uniform"],
    "p": [1.0],
    "learner": ["best_response"],
    "seed": [0],
}


def test_serial_and_pool_agree(tmp_path: Path) -> None:
    a = sweep(GRID, n=5, rounds=150, processes=1, progress=False)
    b = sweep(GRID, n=5, rounds=150, processes=2, progress=False)
    assert list(a["status"]) == ["ok", "ok"] and list(a["graph"]) == ["ring", "star"]
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"))
    assert set(a["learned_equilibrium"]) == {True}


def test_resume_skips_finished_cells(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    first = sweep(GRID, out=out, n=5, rounds=150, processes=1, progress=False)
    stamp = first["seconds"].tolist()
    grid = dict(GRID, graph=["ring", "star", "sbm"])
    second = sweep(grid, out=out, n=5, rounds=150, processes=1, progress=False)
    assert list(second["graph"]) == ["ring", "star", "sbm"]
    assert second["seconds"].tolist()[:2] == pytest.approx(stamp)  # read back, not recomputed
    assert len(pd.read_csv(out)) == 3
    fresh = sweep(grid, out=out, n=5, rounds=150, processes=1, progress=False, resume=False)
    assert len(fresh) == 3 and len(pd.read_csv(out)) == 3


def test_parquet_output(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "sweep.parquet"
    table = sweep(dict(GRID, p=[-math.inf, 1.0]), out=out, n=5, rounds=100, processes=1, progress=False)
    back = pd.read_parquet(out)
    assert len(back) == len(table) == 4
    assert not (tmp_path / "sweep.parquet.partial.csv").exists()
    again = sweep(dict(GRID, p=[-math.inf, 1.0]), out=out, n=5, rounds=100, processes=1, progress=False)
    assert again["seconds"].tolist() == pytest.approx(table["seconds"].tolist())


def test_dask_local_cluster() -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as cl:
        table = sweep(GRID, n=5, rounds=150, scheduler=cl.scheduler_address, progress=False)
    serial = sweep(GRID, n=5, rounds=150, processes=1, progress=False)
    pd.testing.assert_frame_equal(table.drop(columns="seconds"), serial.drop(columns="seconds"))


def test_failed_cells_are_rows_not_crashes() -> None:
    cell = cells({"graph": ["ring"], "p": [0.0]}, n=5, rounds=10)[0]
    cell = dict(cell, n=1)  # too few agents: make_game raises
    row = run_cell(cell)
    assert row["status"].startswith("error: InvalidParameterError")


def test_bad_grids() -> None:
    with pytest.raises(InvalidParameterError, match="graph"):
        cells({"graph": ["hypercube"]})
    with pytest.raises(InvalidParameterError, match="grid keys"):
        cells({"temperature": [1.0]})
    with pytest.raises(InvalidParameterError, match="out"):
        sweep(GRID, out="results.xlsx", progress=False)
    with pytest.raises(InvalidParameterError, match="principal"):
        cells({"principal": ["ppo"]})


def test_cli_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.csv"
    code = main(
        [
            "sweep",
            "--graphs",
            "ring",
            "--selfishness",
            "bimodal",
            "--ps=-inf,1",
            "--learners",
            "gradient",
            "--n",
            "5",
            "--rounds",
            "200",
            "--processes",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert len(pd.read_csv(out)) == 2
    assert "wrote" in capsys.readouterr().out
    assert main(["sweep", "--graphs", "hypercube", "--out", str(out)]) == 2
