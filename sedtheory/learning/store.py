"""A crash-safe store for sweep results: a journal of cells, a lock, atomic tables.

Every finished cell is appended to a journal beside the table (``<out>.cells.jsonl``) as one
JSON line written with a single ``write`` and ``fsync``: each record carries its own fields, so
there is no CSV header to get wrong (an error row first no longer strips the result columns), and
a crash or a full disk can only tear the last line, which :meth:`CellStore.open` cuts off before
anything is appended (a torn line is never glued to the next row nor counted as done). The table
(``.csv`` or ``.parquet``) is rewritten from all records through a temporary file and
``os.replace`` (so it is always a complete table, old or new), every ``flush_every`` cells and at
the end; the journal is then removed. A lock file (``<out>.lock``, ``fcntl.flock``) keeps a
second sweep off the same table: it fails at once with a typed error instead of computing
everything twice. On resume a table that cannot be read (truncated parquet, torn CSV) is set
aside and the journal is used; a table without the ``cell`` column is refused.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sedtheory.errors import InvalidParameterError

__all__ = ["CellStore", "merge_records"]


def _plain(value: Any) -> Any:
    """JSON-ready values (numpy scalars to Python; other objects as text)."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


class CellStore:
    """The journal, lock and table of one sweep output ``path`` (a context manager).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> with CellStore(out) as store:
    ...     store.append({"cell": "a", "x": 1.0})
    ...     store.append({"cell": "b", "status": "error"})
    ...     store.write_table(store.load())
    >>> sorted(pd.read_csv(out).columns)
    ['cell', 'status', 'x']
    """

    def __init__(self, path: Path, flush_every: int = 25) -> None:
        self.path = Path(path)
        self.journal = self.path.with_name(self.path.name + ".cells.jsonl")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.flush_every = flush_every
        self._lock: Any = None
        self._since_flush = 0

    # ------------------------------------------------------------------ lock
    def __enter__(self) -> CellStore:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+")  # noqa: SIM115 - held for the sweep's lifetime
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise InvalidParameterError(
                "out",
                str(self.path),
                f"another sweep is writing it (lock {self.lock_path}); wait or choose another --out",
            ) from None
        self._lock = handle
        self._repair()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None
            self.lock_path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ journal
    def _repair(self) -> None:
        """Cut a torn last line off the journal (a crash in the middle of a write)."""
        if not self.journal.exists():
            return
        data = self.journal.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            with open(self.journal, "r+b") as f:
                f.truncate(end)

    def append(self, row: Mapping[str, Any]) -> None:
        """Journal one finished cell (one write, then fsync)."""
        line = (json.dumps(dict(row), default=_plain) + "\n").encode()
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._since_flush += 1

    def _journal_records(self) -> list[dict[str, Any]]:
        out = []
        if self.journal.exists():
            for line in self.journal.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a torn line (only the last can be)
                if isinstance(record, dict) and "cell" in record:
                    out.append(record)
        return out

    # ------------------------------------------------------------------ table
    def _table(self) -> pd.DataFrame | None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        try:
            table = pd.read_parquet(self.path) if self.path.suffix == ".parquet" else pd.read_csv(self.path)
        except Exception as exc:  # pandas/pyarrow raise many types for a damaged file
            warnings.warn(f"{self.path} cannot be read ({exc}); resuming from its journal", stacklevel=3)
            return None
        if "cell" not in table.columns:
            raise InvalidParameterError(
                "out", str(self.path), "it is not a sweep table (no 'cell' column); choose another --out"
            )
        return table

    def load(self) -> pd.DataFrame | None:
        """Every finished cell (table, then journal; the last record of a cell wins)."""
        records = self._journal_records()
        return merge_records(self._table(), pd.DataFrame(records) if records else None)

    def due(self) -> bool:
        """Whether ``flush_every`` cells were journalled since the table was last written."""
        return self._since_flush >= self.flush_every

    def write_table(self, table: pd.DataFrame | None) -> None:
        """Replace the table atomically with ``table`` (no-op for None)."""
        self._since_flush = 0
        if table is None:
            return
        table = _uniform(table)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        os.close(fd)
        try:
            if self.path.suffix == ".parquet":
                table.to_parquet(tmp, index=False)
            else:
                table.to_csv(tmp, index=False)
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def finish(self, table: pd.DataFrame | None) -> None:
        """The final table, then the journal is no longer needed."""
        self.write_table(table)
        if table is not None:
            self.journal.unlink(missing_ok=True)

    def reset(self) -> None:
        """Forget earlier results (``resume=False``)."""
        for f in (self.path, self.journal):
            f.unlink(missing_ok=True)


def merge_records(*frames: pd.DataFrame | None) -> pd.DataFrame | None:
    """The frames' rows in order, the latest record of each cell winning (None if all empty)."""
    present = [f for f in frames if f is not None and len(f)]
    if not present:
        return None
    return pd.concat(present, ignore_index=True).drop_duplicates("cell", keep="last").reset_index(drop=True)


def _uniform(table: pd.DataFrame) -> pd.DataFrame:
    """Text columns hold text or None (never NaN beside strings: Parquet refuses the mix)."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = [None if isinstance(v, float) and math.isnan(v) else v for v in out[col]]
    return out
