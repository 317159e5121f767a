"""Where ``sedtheory run`` writes: checked before any work, replaced all at once after it.

:func:`check_output_dir` refuses, before the analysis starts, an ``--out`` that is a file, lies
under a file, or sits in a directory that cannot be written (a typed error naming ``out``).
:func:`publish` moves a finished run from its staging folder into place: when the target holds
only a previous run's files (or does not exist) the folder is swapped by renames, so a failed or
killed run leaves either the old report or the new one, never a mix; a folder with other files
(e.g. a sweep table beside the report) keeps them, and the run's files are replaced one by one
with the report last.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from sedtheory.errors import InvalidParameterError

__all__ = ["check_output_dir", "publish", "staging_dir"]

#: Files a run always writes (figures are listed in results.json).
_RUN_FILES = ("report.md", "results.json")


def check_output_dir(out: str | Path) -> Path:
    """``out`` as an absolute path that a run can create or replace (typed error otherwise)."""
    path = Path(out).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise InvalidParameterError(
            "out", str(out), "it exists and is not a directory; give a directory path"
        )
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise InvalidParameterError(
            "out", str(out), f"{ancestor} is a file, so nothing can be created under it"
        )
    parent = path.parent if path.exists() else ancestor
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK | os.X_OK)):
        raise InvalidParameterError("out", str(out), f"{parent} is not writable; choose another --out")
    return path


def staging_dir(out: Path) -> Path:
    """A fresh staging folder beside ``out`` (same file system, so moves are renames)."""
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=_existing_ancestor(out.parent)))


def _existing_ancestor(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _previous_run_files(out: Path) -> set[str]:
    """Names a previous run wrote into ``out`` (from its results.json), empty if none."""
    try:
        data = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return set()
    files = data.get("figures", {}) if isinstance(data, dict) else {}
    return set(_RUN_FILES) | {str(v) for v in files.values()} if isinstance(files, dict) else set(_RUN_FILES)


def publish(staged: Path, out: Path) -> None:
    """Move the finished run in ``staged`` to ``out`` (see the module docstring)."""
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, out)
        return
    present = {p.name for p in out.iterdir()}
    previous = _previous_run_files(out)
    if present <= previous:
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, aside / out.name)
        os.replace(staged, out)
        shutil.rmtree(aside, ignore_errors=True)
        return
    stale = previous - {p.name for p in staged.iterdir()}
    new = sorted(staged.iterdir(), key=lambda p: p.name in _RUN_FILES)  # report and JSON last
    for item in new:
        os.replace(item, out / item.name)
    for name in stale:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(staged, ignore_errors=True)
