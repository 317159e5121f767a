r"""Batches of policies split over the cores that the running searches leave free.

The large-society principal (:func:`~sedtheory.principal.optimal_policy` with the gradient ascent)
runs its two ascent starts on two threads (numpy releases the GIL inside the batched equilibrium
solves). While both run, each batch is solved whole on its own thread; when one start has ended,
or outside the ascent (the scan, the re-selection's equilibrium windows), a batch is split into
row blocks solved on the free threads and stacked back in order. The rows of a batch are solved
independently, so the result is the same bit for bit as the batch solved whole (tested); only
the wall time changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from sedtheory.equilibrium.batch import PolicyEvaluations, stack_evaluations
from sedtheory.validate import count

__all__ = ["THREADS", "SharedCores", "split_evaluations"]

#: Threads of the large-society search (the ascent's two starts; the machine's two cores).
THREADS = 2

T = TypeVar("T")


class SharedCores:
    """Counts the searches running on threads and splits batches over the threads left free.

    Parameters
    ----------
    threads : int
        Threads the searches share (default :data:`THREADS`).

    Examples
    --------
    >>> import numpy as np
    >>> cores = SharedCores(2)
    >>> cores.free()
    2
    >>> with cores.search():
    ...     cores.free()
    2
    >>> parts = cores.map(lambda rows: rows.sum(axis=1), np.ones((5, 3)))
    >>> [p.tolist() for p in parts]
    [[3.0, 3.0, 3.0], [3.0, 3.0]]
    """

    def __init__(self, threads: int = THREADS) -> None:
        self.threads = count("threads", threads)
        self._lock = threading.Lock()
        self._searches = 0
        self._local = threading.local()

    @contextmanager
    def search(self) -> Iterator[None]:
        """Hold one thread for a search while inside (other threads' batches do not split
        onto it)."""
        with self._lock:
            self._searches += 1
        self._local.inside = True
        try:
            yield
        finally:
            self._local.inside = False
            with self._lock:
                self._searches -= 1

    def free(self) -> int:
        """Threads a batch from the calling thread may use: its own and those no other search
        holds (at least one)."""
        own = 1 if getattr(self._local, "inside", False) else 0
        with self._lock:
            others = self._searches - own
        return max(1, self.threads - others)

    def map(self, solve: Callable[[np.ndarray], T], points: np.ndarray) -> list[T]:
        """``solve`` of consecutive row blocks of ``points``, one block per free thread (the
        first on the calling thread), in row order."""
        blocks = min(self.free(), points.shape[0])
        if blocks <= 1:
            return [solve(points)]
        rows = np.array_split(np.arange(points.shape[0]), blocks)
        with ThreadPoolExecutor(max_workers=blocks - 1) as pool:
            rest = [pool.submit(solve, points[r]) for r in rows[1:]]
            first = solve(points[rows[0]])
            return [first, *(f.result() for f in rest)]


def split_evaluations(
    cores: SharedCores | None, solve: Callable[[np.ndarray], PolicyEvaluations]
) -> Callable[[np.ndarray], PolicyEvaluations]:
    """``solve`` with its batches split over ``cores``'s free threads and stacked back in row
    order (``solve`` itself without ``cores``)."""
    if cores is None:
        return solve
    return lambda points: stack_evaluations(cores.map(solve, points))
