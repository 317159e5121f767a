r"""Regrowth maps :math:`G`: the orchard's stock next period as a function of the escapement.

After harvesting, :math:`E_t = S_t - \text{harvest}` apples remain and the next stock is
:math:`S_{t+1} = G(E_t)`, with :math:`G` increasing and :math:`G(0) = 0` (an empty orchard never
regrows: collapse is absorbing). Two maps are named (:data:`REGROWTH`), and any callable with
those properties is accepted (checked on a grid by :func:`regrowth_map`):

* ``logistic``: :math:`G(E) = E + rE(1 - E/K)` (defaults ``r = 0.25``, ``K = 100``; ``r`` in (0, 1]
  keeps :math:`G` increasing on :math:`[0, K]`); maximum sustainable yield :math:`rK/4` at
  :math:`E = K/2`.
* ``melting_pot``: the mean field of Melting Pot's Commons Harvest rule. The orchard has ``K``
  cells; an empty cell regrows with probability :math:`P[\min(m, 3)]`,
  :math:`P = (0, 0.0025, 0.005, 0.025)` per step, where ``m`` is the number of apples within
  radius 2 (the 12 cells at Euclidean distance at most 2). With apples placed independently with
  probability :math:`q = E/K` per cell, :math:`m \sim \mathrm{Binomial}(12, q)` and the expected
  next stock is exactly

  .. math:: G(E) = E + (K - E) \sum_{m=0}^{12} P[\min(m, 3)] \binom{12}{m} q^m (1-q)^{12-m},

  applied ``steps_per_period`` times. :func:`simulate_orchard` runs the stochastic cell orchard
  (a torus, so that every cell has 12 neighbours) to check it.

References
----------
.. [1] C. W. Clark, *Mathematical Bioeconomics*, 3rd ed., Wiley, 2010 (surplus production,
   maximum sustainable yield).
.. [2] J. Z. Leibo et al., "Scalable evaluation of multi-agent reinforcement learning with
   Melting Pot", ICML 2021 (the Commons Harvest substrate).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from sedtheory.errors import InvalidParameterError
from sedtheory.registry import Registry
from sedtheory.validate import count, positive_float

__all__ = [
    "MELTING_POT_PROBABILITIES",
    "REGROWTH",
    "Regrowth",
    "logistic",
    "melting_pot",
    "orchard_step",
    "regrowth_map",
    "simulate_orchard",
]

#: Melting Pot's Commons Harvest regrowth probabilities by the number of nearby apples (0, 1, 2, 3+).
MELTING_POT_PROBABILITIES = (0.0, 0.0025, 0.005, 0.025)

#: The 12 offsets within Euclidean radius 2 (the neighbourhood of the regrowth rule).
NEIGHBOURHOOD = tuple((dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if 0 < dx * dx + dy * dy <= 4)


@dataclass(frozen=True)
class Regrowth:
    """A validated regrowth map on the stock range ``[0, capacity]``.

    Attributes
    ----------
    name : str
    func : callable
        Vectorised ``G(E)``.
    capacity : float
        ``K``: stocks live in ``[0, K]`` and ``G`` maps it into itself.
    params : dict
        The map's parameters (for reports).
    scalar : bool
        Whether ``func`` also takes a Python float (the built-in maps; a user's callable is
        always given arrays).
    """

    name: str
    func: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    capacity: float
    params: dict[str, Any] = field(default_factory=dict)
    scalar: bool = False

    def __call__(self, escapement: npt.ArrayLike) -> Any:
        """``G(E)`` elementwise."""
        if self.scalar and type(escapement) is float:  # one stock (the environment's step): no arrays
            return float(self.func(escapement))
        e = np.asarray(escapement, dtype=float)
        out = np.asarray(self.func(e), dtype=float)
        return out[()] if out.ndim == 0 else out

    def slope(self, escapement: npt.ArrayLike) -> np.ndarray:
        """``G'(E)`` by central differences (one-sided at the ends of ``[0, K]``); exact to
        rounding for the quadratic logistic map."""
        e = np.asarray(escapement, dtype=float)
        step = 1e-6 * self.capacity
        lo = np.clip(e - step, 0.0, self.capacity)
        hi = np.clip(e + step, 0.0, self.capacity)
        return np.asarray((self(hi) - self(lo)) / (hi - lo))

    def surplus(self, escapement: npt.ArrayLike) -> Any:
        """``G(E) - E``: the yield that keeps the stock at ``G(E)`` forever."""
        e = np.asarray(escapement, dtype=float)
        return self(e) - e

    def maximum_sustainable_yield(self, points: int = 4001) -> tuple[float, float]:
        """``(E*, G(E*) - E*)``: the escapement maximising the sustainable yield and that yield
        (the yield to rounding; ``E*`` to about 1e-8 relative, the flatness of a maximum)."""
        best = self.best_escapement(1.0, points)
        return best, float(self.surplus(best))

    def best_escapement(self, discount: float = 1.0, points: int = 4001) -> float:
        """The escapement maximising :math:`\beta G(E) - E` on ``[0, K]`` (``beta = 1``: the
        maximum sustainable yield; ``beta < 1``: the modified golden rule).

        A dense scan of ``[0, K]`` followed by a bounded scalar refinement around the best point.
        """
        grid = np.linspace(0.0, self.capacity, points)
        s = discount * self(grid) - grid
        k = int(np.argmax(s))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, points - 1)]
        res = optimize.minimize_scalar(
            lambda e: -(discount * float(self(e)) - e),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-12 * self.capacity},
        )
        return float(res.x) if -res.fun >= s[k] else float(grid[k])

    def steady_states(
        self, harvest: Callable[[np.ndarray], np.ndarray] | None = None, points: int = 4001
    ) -> np.ndarray:
        """Fixed points of ``S -> G(S - h(S))`` in ``[0, K]`` (``h = 0`` by default), ascending.

        Found as sign changes of ``G(S - h(S)) - S`` on a grid refined by Brent's method; ``0``
        is always one (collapse is absorbing).
        """
        h = (lambda s: np.zeros_like(s)) if harvest is None else harvest

        def excess(s: Any) -> Any:
            s = np.asarray(s, dtype=float)
            return self(np.clip(s - h(s), 0.0, None)) - s

        grid = np.linspace(0.0, self.capacity, points)
        f = excess(grid)
        roots = [0.0]
        for a, b, fa, fb in zip(grid[:-1], grid[1:], f[:-1], f[1:], strict=True):
            if a == 0.0:
                continue
            if fa == 0.0:
                roots.append(float(a))
            elif fa * fb < 0:
                roots.append(float(optimize.brentq(lambda s: float(excess(s)), a, b, xtol=1e-13)))
        if f[-1] == 0.0:
            roots.append(float(grid[-1]))
        return np.unique(np.round(roots, 12))


def regrowth_map(regrowth: Any, capacity: float | None = None, points: int = 1001) -> Regrowth:
    """A :class:`Regrowth` from a name in :data:`REGROWTH`, a Regrowth, or a callable ``G``.

    A callable is checked on ``points`` points of ``[0, capacity]``: finite, ``G(0) = 0``,
    non-decreasing, and mapping the range into itself; typed errors name ``regrowth``.
    """
    if isinstance(regrowth, Regrowth):
        return regrowth
    if isinstance(regrowth, str):
        spec = REGROWTH.get(regrowth)
        return spec.make() if capacity is None else spec.make(K=capacity)
    if not callable(regrowth):
        raise InvalidParameterError("regrowth", regrowth, f"use one of {sorted(REGROWTH)} or a callable G(E)")
    cap = positive_float("capacity", 100.0 if capacity is None else capacity)
    grid = np.linspace(0.0, cap, count("points", points, 3))
    try:
        g = np.asarray(regrowth(grid), dtype=float)
    except Exception as exc:  # noqa: BLE001 - any failure of user code is reported as bad input
        raise InvalidParameterError("regrowth", regrowth, f"G must accept an array of stocks: {exc}") from exc
    if g.shape != grid.shape or not np.all(np.isfinite(g)):
        raise InvalidParameterError("regrowth", regrowth, "G must return one finite value per stock")
    if abs(g[0]) > 1e-12:
        raise InvalidParameterError(
            "regrowth", regrowth, f"G(0) must be 0 (an empty orchard never regrows), got {g[0]:g}"
        )
    if np.any(np.diff(g) < -1e-12 * max(1.0, cap)):
        bad = float(grid[int(np.argmax(np.diff(g) < 0))])
        raise InvalidParameterError(
            "regrowth", regrowth, f"G must be non-decreasing; it decreases after E = {bad:g}"
        )
    if np.any(g < 0) or np.any(g > cap * (1 + 1e-12)):
        raise InvalidParameterError(
            "regrowth", regrowth, f"G must map [0, {cap:g}] into itself (raise capacity)"
        )
    return Regrowth(getattr(regrowth, "__name__", "callable"), regrowth, cap, {})


def logistic(r: float = 0.25, K: float = 100.0) -> Regrowth:  # noqa: N803 - the textbook's K
    """``G(E) = E + r E (1 - E / K)`` with ``r`` in (0, 1] (increasing on ``[0, K]``).

    >>> g = logistic()
    >>> float(g(50.0)), [round(x, 4) for x in g.maximum_sustainable_yield()]
    (56.25, [50.0, 6.25])
    """
    rate = positive_float("r", r)
    if rate > 1:
        raise InvalidParameterError("r", r, "use r in (0, 1]: larger r makes G decrease before K (overshoot)")
    cap = positive_float("K", K)

    def g(e: np.ndarray) -> np.ndarray:
        return e + rate * e * (1.0 - e / cap)

    return Regrowth("logistic", g, cap, {"r": rate, "K": cap}, scalar=True)


def _melting_pot_once(e: np.ndarray, cap: float, probs: np.ndarray) -> np.ndarray:
    q = np.clip(e / cap, 0.0, 1.0)
    m = np.arange(13)
    weights = probs[np.minimum(m, 3)]
    pmf = stats.binom.pmf(m[None, :], 12, np.ravel(q)[:, None])
    regrow = (pmf @ weights).reshape(np.shape(q))
    return e + (cap - e) * regrow


def melting_pot(
    K: float = 100.0,
    steps_per_period: int = 1,  # noqa: N803
    probabilities: tuple[float, ...] = MELTING_POT_PROBABILITIES,
) -> Regrowth:
    """The mean field of Melting Pot's Commons Harvest regrowth (see the module docstring).

    >>> g = melting_pot(K=100.0)
    >>> float(g(0.0)), round(float(g(50.0)), 4)
    (0.0, 51.2303)
    """
    cap = positive_float("K", K)
    steps = count("steps_per_period", steps_per_period)
    probs = np.asarray(probabilities, dtype=float)
    if probs.shape != (4,) or np.any(probs < 0) or np.any(probs > 1) or probs[0] != 0:
        raise InvalidParameterError(
            "probabilities", probabilities, "give 4 probabilities in [0, 1], the first 0"
        )

    def g(e: np.ndarray) -> np.ndarray:
        out = np.asarray(e, dtype=float)
        for _ in range(steps):
            out = _melting_pot_once(out, cap, probs)
        return out

    return Regrowth(
        "melting_pot", g, cap, {"K": cap, "steps_per_period": steps, "probabilities": tuple(probs)}
    )


def orchard_step(
    occupied: np.ndarray,
    rng: np.random.Generator,
    probabilities: tuple[float, ...] = MELTING_POT_PROBABILITIES,
) -> np.ndarray:
    """One step of the stochastic cell orchard on a torus: every empty cell regrows with
    probability ``P[min(m, 3)]``, ``m`` the apples within radius 2; apples stay."""
    near = sum(np.roll(occupied, (dx, dy), axis=(-2, -1)).astype(np.int64) for dx, dy in NEIGHBOURHOOD)
    probs = np.asarray(probabilities, dtype=float)[np.minimum(near, 3)]
    grow = ~occupied & (rng.random(occupied.shape) < probs)
    return occupied | grow


def simulate_orchard(
    stock: float,
    side: int = 40,
    runs: int = 2000,
    steps: int = 1,
    seed: int | np.random.Generator | None = None,
) -> tuple[float, float, float]:
    """The stochastic cell orchard from ``stock`` apples: ``(mean, standard error, capacity)`` of the
    stock after ``steps`` steps, over ``runs`` runs (vectorised over runs).

    Apples start independently in each of the ``side**2`` cells with probability
    ``stock / side**2``, the placement under which :func:`melting_pot` is the exact expected
    next stock.
    """
    n_side = count("side", side, 5, "use a side of at least 5 cells (the neighbourhood has radius 2)")
    n_runs = count("runs", runs, 2)
    cap = float(n_side * n_side)
    if not 0.0 <= float(stock) <= cap:
        raise InvalidParameterError("stock", stock, f"use a stock in [0, side**2 = {cap:g}]")
    rng = np.random.default_rng(seed)
    occupied = rng.random((n_runs, n_side, n_side)) < float(stock) / cap
    for _ in range(count("steps", steps)):
        occupied = orchard_step(occupied, rng)
    totals = occupied.sum(axis=(1, 2)).astype(float)
    return float(totals.mean()), float(totals.std(ddof=1) / math.sqrt(n_runs)), cap


@dataclass(frozen=True)
class RegrowthSpec:
    """A named regrowth map: ``make(**params) -> Regrowth``."""

    name: str
    make: Callable[..., Regrowth] = field(repr=False)
    description: str = ""


#: Named regrowth maps.
REGROWTH: Registry[RegrowthSpec] = Registry(
    "regrowth", build=lambda name, make, **meta: RegrowthSpec(name, make, **meta), kind="regrowth maps"
)
REGROWTH.add("logistic", logistic, description="E + r E (1 - E/K)")
REGROWTH.add(
    "melting_pot",
    melting_pot,
    aliases=("melting-pot", "commons_harvest"),
    description="mean field of Melting Pot's Commons Harvest cell regrowth",
)
