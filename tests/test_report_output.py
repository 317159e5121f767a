"""Where ``sedtheory run`` writes: the output place is checked first and replaced all at once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sedtheory.cli import main
from sedtheory.errors import InvalidParameterError
from sedtheory.report.output import check_output_dir, publish, staging_dir


def _run_files(folder: Path, tag: str, figures: tuple[str, ...] = ("a.png",)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in figures:
        (folder / name).write_text(tag)
    (folder / "report.md").write_text(tag)
    (folder / "results.json").write_text(json.dumps({"figures": {n[:-4]: n for n in figures}, "tag": tag}))


def test_bad_output_places_fail_before_any_work(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for bad in (a_file, a_file / "sub", Path(os.devnull)):
        with pytest.raises(InvalidParameterError, match="out"):
            check_output_dir(bad)


def test_unwritable_parent_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # root may write anywhere
    with pytest.raises(InvalidParameterError, match="not writable"):
        check_output_dir(tmp_path / "new")


def test_cli_reports_a_bad_out_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["run", "--quick", "--out", str(a_file)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_publish_swaps_a_previous_run_whole(tmp_path: Path) -> None:
    out = tmp_path / "results"
    _run_files(out, "old", ("a.png", "old_only.png"))
    staged = staging_dir(out)
    _run_files(staged, "new", ("a.png",))
    publish(staged, out)
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "report.md", "results.json"]
    assert (out / "report.md").read_text() == "new" and (out / "a.png").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]  # no staging or old folders left


def test_publish_keeps_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "results"
    _run_files(out, "old", ("a.png", "old_only.png"))
    (out / "sweep.csv").write_text("keep me")
    staged = staging_dir(out)
    _run_files(staged, "new", ("a.png",))
    publish(staged, out)
    assert (out / "sweep.csv").read_text() == "keep me"
    assert not (out / "old_only.png").exists()
    assert (out / "report.md").read_text() == "new"


def test_publish_into_a_new_place(tmp_path: Path) -> None:
    out = check_output_dir(tmp_path / "deep" / "results")
    staged = staging_dir(out)
    _run_files(staged, "new")
    publish(staged, out)
    assert (out / "report.md").read_text() == "new"
