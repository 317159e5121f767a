r"""Policy spaces: how a vector of numbers becomes a game the principal can evaluate.

A policy space maps a point ``x`` of a box :math:`[\ell, h] \subset \mathbb{R}^d` to a game
(``apply(game, x)``) and evaluates many points at once (``batch_equilibria(game, X)``:
certified equilibria of every induced game). :func:`~sedtheory.principal.optimal_policy`
optimises over any policy space; :class:`BracketRates` (the rates of a bracket tax with fixed
thresholds) is the space of :func:`~sedtheory.principal.optimal_tax`, and
:class:`ParametricPolicy` wraps any ``make(game, x) -> game`` (e.g. the per-unit tax of a
Cournot game).

Examples
--------
>>> from sedtheory import scenarios
>>> from sedtheory.principal import BracketRates
>>> game = scenarios.apple_picking()
>>> space = BracketRates(game.tax.thresholds)
>>> space.dim, space.bounds.tolist()
(3, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
>>> space.apply(game, [0.1, 0.2, 0.3]).tax.rates.tolist()
[0.1, 0.2, 0.3]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium.batch import (
    EquilibriumWindows,
    PolicyEvaluations,
    equilibrium_windows,
    policy_equilibria,
)
from sedtheory.equilibrium.solve import solve_equilibrium
from sedtheory.errors import CapabilityError, InvalidParameterError, SedtheoryError, ShapeError
from sedtheory.games.protocol import require_game
from sedtheory.objective import Objective
from sedtheory.principal.gradient import welfare_gradient
from sedtheory.taxes import PiecewiseLinearTax

__all__ = [
    "BracketRates",
    "ParametricPolicy",
    "PolicyEvaluations",
    "PolicySpace",
    "bracket_tax_of",
    "check_box",
    "default_space",
]


@runtime_checkable
class PolicySpace(Protocol):
    """What :func:`~sedtheory.principal.optimal_policy` needs of a space of policies.

    ``dim``; ``bounds`` (array ``(2, dim)``: lower and upper ends of the box); ``apply(game, x)``
    (the game under policy ``x``); ``batch_equilibria(game, X, tol)`` (a
    :class:`PolicyEvaluations` for the rows of ``X``).
    """

    @property
    def dim(self) -> int: ...

    @property
    def bounds(self) -> np.ndarray: ...

    def apply(self, game: Any, x: npt.ArrayLike) -> Any: ...

    def batch_equilibria(self, game: Any, points: npt.ArrayLike, tol: float = 1e-9) -> PolicyEvaluations: ...


def check_box(
    bounds: Any, dim: int, field_name: str = "bounds", inside: tuple[float, float] | None = None
) -> np.ndarray:
    """``bounds`` as a ``(2, dim)`` float array: ``(low, high)`` or per-coordinate rows.

    ``inside`` restricts the box (e.g. ``(0, 1)`` for tax rates); typed errors name the field.
    """
    try:
        arr = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            field_name, bounds, f"give (low, high) or a (2, {dim}) array of numbers"
        ) from None
    if arr.shape == (2,):
        arr = np.repeat(arr[:, None], dim, axis=1)
    if arr.shape != (2, dim):
        raise InvalidParameterError(
            field_name, bounds, f"give (low, high) or a (2, {dim}) array of per-coordinate bounds"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(field_name, bounds, "bounds must be finite numbers")
    if inside is not None and (np.any(arr[0] < inside[0]) or np.any(arr[1] > inside[1])):
        raise InvalidParameterError(
            field_name,
            bounds,
            f"the principal's instruments live in [{inside[0]:g}, {inside[1]:g}]; give bounds inside it",
        )
    if np.any(arr[0] > arr[1]):
        raise InvalidParameterError(field_name, bounds, "each lower bound must be <= its upper bound")
    arr.setflags(write=False)
    return arr


def _points(points: npt.ArrayLike, dim: int, field_name: str = "points") -> np.ndarray:
    try:
        x = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameterError(field_name, points, "give an (m, dim) array of numbers") from None
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != dim:
        raise ShapeError(field_name, points, f"give {dim} coordinates per policy, shape (m, {dim})")
    if not np.all(np.isfinite(x)):
        raise InvalidParameterError(field_name, points, "policy coordinates must be finite")
    return x


def evaluate_one_by_one(space: Any, game: Any, points: np.ndarray, tol: float) -> PolicyEvaluations:
    """The generic :meth:`batch_equilibria`: ``solve_equilibrium`` on every induced game.

    A policy whose game has no certified equilibrium is kept with ``certified=False`` (and its
    best profile), so that one bad trial policy never aborts a search.
    """
    m, n = points.shape[0], game.n
    shape = tuple(getattr(game, "strategy_shape", (n,)))  # (n,), or e.g. Markov policies (T, G, n)
    actions, utilities, payoffs = np.zeros((m, *shape)), np.zeros((m, n)), np.zeros((m, n))
    gaps, rel = np.full(m, np.inf), np.full(m, np.inf)
    certified = np.zeros(m, dtype=bool)
    for r in range(m):
        try:
            eq = solve_equilibrium(space.apply(game, points[r]), tol=tol, raise_on_failure=False)
        except SedtheoryError:
            continue
        actions[r], utilities[r], payoffs[r] = eq.actions, eq.utilities, eq.payoffs
        gaps[r], rel[r], certified[r] = eq.nash_gap, eq.relative_nash_gap, eq.converged
    return PolicyEvaluations(
        points,
        actions,
        utilities,
        payoffs,
        gaps,
        rel,
        certified,
        "solve_equilibrium per policy",
    )


class ParametricPolicy:
    """A policy space given by ``make(game, x) -> game`` on a box.

    Parameters
    ----------
    make : callable
        ``make(game, x)`` returns the game under policy ``x`` (a 1-D array of ``dim`` numbers).
    bounds : array_like
        ``(2, dim)`` array (or ``(low, high)`` with ``dim``).
    dim : int, optional
        Needed when ``bounds`` is a single ``(low, high)`` pair (default 1).
    names : tuple of str
        Coordinate names for tables.

    Examples
    --------
    >>> from sedtheory import PiecewiseLinearTax, scenarios
    >>> flat = ParametricPolicy(lambda g, x: g.with_policy(PiecewiseLinearTax([0], [x[0]])), (0, 1))
    >>> flat.dim, flat.apply(scenarios.apple_picking(), [0.25]).tax.rates.tolist()
    (1, [0.25])
    """

    def __init__(
        self,
        make: Callable[[Any, np.ndarray], Any],
        bounds: Any = (0.0, 1.0),
        dim: int = 1,
        names: tuple[str, ...] = (),
    ) -> None:
        if not callable(make):
            raise InvalidParameterError("make", make, "give a callable make(game, x) -> game")
        shape: tuple[int, ...] = np.shape(bounds) if not isinstance(bounds, str) else ()
        d = int(shape[1]) if len(shape) == 2 else int(dim)
        self.make = make
        self.box = check_box(bounds, d)
        self.dim_ = d
        self.names = tuple(names) or tuple(f"x{i}" for i in range(d))

    @property
    def dim(self) -> int:
        return self.dim_

    @property
    def bounds(self) -> np.ndarray:
        return self.box

    def apply(self, game: Any, x: npt.ArrayLike) -> Any:
        """The game under policy ``x``."""
        return require_game(self.make(game, _points(x, self.dim, "x")[0]), "make(game, x)")

    def batch_equilibria(self, game: Any, points: npt.ArrayLike, tol: float = 1e-9) -> PolicyEvaluations:
        """Certified equilibria for every row of ``points`` (one by one)."""
        return evaluate_one_by_one(self, game, _points(points, self.dim), tol)

    def __repr__(self) -> str:
        return f"ParametricPolicy(dim={self.dim_}, bounds={self.box.tolist()})"


class BracketRates:
    """The marginal rates of a bracket tax with fixed thresholds, in a box inside ``[0, 1]^B``.

    Parameters
    ----------
    thresholds : array_like, optional
        ``0 = tau_0 < tau_1 < ...``; default: the thresholds of the game it is applied to.
    bounds : (low, high) or array (2, B)
        The box of the rates (inside [0, 1]).
    brackets : int, optional
        ``B`` when ``thresholds`` is omitted and ``bounds`` is per-bracket.

    Notes
    -----
    For the commons game, :meth:`batch_equilibria` solves all policies at once
    (:func:`~sedtheory.equilibrium.batch.policy_equilibria`: vectorised aggregate roots, each row
    certified by its exact Nash gap); for other games it solves them one by one.
    """

    def __init__(self, thresholds: npt.ArrayLike | None = None, bounds: Any = (0.0, 1.0)) -> None:
        self.thresholds = (
            None
            if thresholds is None
            else PiecewiseLinearTax(thresholds, np.zeros(np.size(thresholds))).thresholds
        )
        self._raw_bounds = bounds
        self._box = (
            None if self.thresholds is None else check_box(bounds, self.thresholds.size, inside=(0.0, 1.0))
        )

    def for_game(self, game: Any) -> BracketRates:
        """This space with the game's thresholds filled in where none were given."""
        if self.thresholds is not None:
            return self
        tax = getattr(game, "tax", None)
        if not isinstance(tax, PiecewiseLinearTax):
            raise InvalidParameterError("thresholds", None, "give thresholds: the game has no bracket tax")
        return BracketRates(tax.thresholds, self._raw_bounds)

    @property
    def dim(self) -> int:
        return int(self.for_thresholds().size)

    @property
    def bounds(self) -> np.ndarray:
        self.for_thresholds()  # a typed error while the space has no thresholds
        assert self._box is not None
        return self._box

    def tax(self, x: npt.ArrayLike) -> PiecewiseLinearTax:
        """The bracket tax of rates ``x``."""
        return PiecewiseLinearTax(self.for_thresholds(), _points(x, self.dim, "rates")[0])

    def for_thresholds(self) -> np.ndarray:
        if self.thresholds is None:
            raise InvalidParameterError(
                "thresholds", None, "the space has no thresholds yet; call for_game(game)"
            )
        return self.thresholds

    def apply(self, game: Any, x: npt.ArrayLike) -> Any:
        """``game`` under the bracket tax with rates ``x``."""
        space = self.for_game(game)
        return require_game(game).with_policy(space.tax(x))

    def _game_with_thresholds(self, game: Any) -> Any:
        tax = getattr(game, "tax", None)
        if isinstance(tax, PiecewiseLinearTax) and np.array_equal(tax.thresholds, self.for_thresholds()):
            return game
        return game.with_policy(PiecewiseLinearTax(self.for_thresholds(), np.zeros(self.dim)))

    def batch_equilibria(self, game: Any, points: npt.ArrayLike, tol: float = 1e-9) -> PolicyEvaluations:
        """Certified equilibria for every row of rates (vectorised for the commons game)."""
        space = self.for_game(game)
        x = _points(points, space.dim, "rates")
        base = space._game_with_thresholds(game)
        if hasattr(base, "kernel") and hasattr(base, "uses_global_formulas"):
            return policy_equilibria(base, x, tol=tol, raise_on_failure=False)
        return evaluate_one_by_one(space, base, x, tol)

    def equilibrium_windows(
        self, game: Any, points: npt.ArrayLike, tol: float = 1e-9
    ) -> EquilibriumWindows | None:
        """Hook of the equilibrium selections: per row of rates, the interval of totals that holds
        every equilibrium, whether the equilibrium is provably unique, and the two extreme
        equilibria (global commons, vectorised; see
        :func:`~sedtheory.equilibrium.batch.equilibrium_windows`); None for other games."""
        space = self.for_game(game)
        x = _points(points, space.dim, "rates")
        base = space._game_with_thresholds(game)
        if hasattr(base, "kernel") and getattr(base, "uses_global_formulas", False):
            return equilibrium_windows(base, x, tol=tol)
        return None

    def gradient(
        self, game: Any, objective: Objective
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
        """Hook of :func:`optimal_policy` for large societies: ``(rates, actions) -> gradient`` of
        the objective at a certified equilibrium (global commons; see
        :func:`~sedtheory.principal.gradient.welfare_gradient`), None for other games."""
        base = self.for_game(game)._game_with_thresholds(game)
        if not (hasattr(base, "kernel") and getattr(base, "uses_global_formulas", False)):
            return None
        kernel = base.kernel
        return lambda x, a: welfare_gradient(kernel, objective, x, a)

    def polish(
        self,
        game: Any,
        objective: Objective,
        x: np.ndarray,
        target: np.ndarray,
        value: float,
        tol: float,
        polish: bool | None,
    ) -> Any:
        """Hook of :func:`optimal_policy`: the convex best implementation of the found outcome.

        Default: for ``p <= 1`` and ``n <= 200``, where it is one exact convex program (at
        n = 1000 Clarabel does not reach an accurate optimum of it and SCS is slow). For
        ``p > 1`` maximising ``M_p`` over the implementing rates is not convex:
        ``polish=True`` then tries the n per-agent maxima (n linear programs) and keeps the best.
        Returns a :class:`~sedtheory.principal.policy.Polished`, or a string saying why not.
        """
        from sedtheory.principal.implementation import ImplementationSolver
        from sedtheory.principal.policy import Polished

        if not hasattr(game, "kernel"):
            return "skipped: the best implementation program is written for the commons game"
        if polish is None:
            polish = game.n <= 200 and objective.p <= 1 and objective.weights is None
        if not polish:
            return "skipped (polish=False, or the default for n > 200 or p > 1)"
        base = self.for_game(game)._game_with_thresholds(game)
        try:
            impl = ImplementationSolver(base, objective.p, self.bounds, objective.of)(target)
        except SedtheoryError as exc:
            return f"skipped: {exc}"
        scale = max(1.0, abs(value))
        ok = impl.nash_gap <= tol * max(1.0, float(np.abs(impl.utilities).max()))
        improved = bool(impl.welfare > value + 1e-12 * scale and ok)
        return Polished(
            x=impl.rates if improved else x,
            actions=target,
            welfare=impl.welfare if improved else value,
            improved=improved,
            exact=impl.status == "optimal",
            method=" + convex best implementation of the outcome (cvxpy)",
            note=f"{impl.method}: {impl.status} ({impl.solver})",
            proof="no rates implementing the final outcome do better (convex program)",
        )

    def upper_bound(self, game: Any, objective: Objective) -> tuple[float, str]:
        """Hook of :func:`optimal_policy`: the tightest first best that bounds every bracket tax."""
        from sedtheory.principal.first_best import upper_bound

        shares = getattr(game, "welfare_weights", None)
        if objective.weights is not None and (
            shares is None or not np.allclose(objective.weights, shares, rtol=1e-12, atol=0.0)
        ):
            return math.inf, "no bound for weights other than the population's (the first best uses those)"
        if hasattr(game, "kernel"):
            return upper_bound(game, objective.p, objective.of)
        if hasattr(game, "regrowth") and hasattr(game, "stage"):  # the dynamic commons
            from sedtheory.principal.dynamic_plan import dynamic_first_best

            try:
                plan = dynamic_first_best(game, objective, "tax-feasible")
            except SedtheoryError as exc:
                return math.inf, f"no bound: the dynamic first best does not apply ({exc})"
            return plan.certificate.upper, "the tax-feasible dynamic first best (relaxed convex program)"
        return math.inf, "no bound for this game"

    def global_bound(
        self,
        game: Any,
        objective: Objective,
        incumbent: tuple[np.ndarray, np.ndarray, float],
        time_limit: float,
    ) -> Any:
        """Hook of :func:`optimal_policy` with ``certify=True``: a global upper bound on the second
        best over this box, or a string saying why there is none.

        The global commons first gets the branch and bound on its regimes
        (:func:`~sedtheory.principal.branch_bound.rate_box_bound`, two thirds of the time limit);
        if that does not close, or does not apply (the local commons, several agents without
        effort cost), SCIP on the single-level reformulation
        (:func:`~sedtheory.principal.global_bound.second_best_bound`) gets the rest, and the
        tighter of the two bounds is returned. Past ``REGIME_AGENTS`` agents the branch and bound
        (its boxes bounded agent by agent) gets the whole time limit and SCIP does not run."""
        from sedtheory.principal.branch_bound import REGIME_AGENTS, rate_box_bound
        from sedtheory.principal.global_bound import second_best_bound

        if not (hasattr(game, "kernel") and hasattr(game, "uses_global_formulas")):
            name = type(game).__name__
            return f"no global bound: the reformulation is written for the commons game, not {name}"
        space = self.for_game(game)
        base = space._game_with_thresholds(game)
        first = None
        large = game.n > REGIME_AGENTS  # SCIP's program grows with the agents: all time to the boxes
        relaxed = space._relaxed_share(base, objective, incumbent, time_limit / 3.0) if large else None
        try:
            first = rate_box_bound(
                base,
                objective,
                space.bounds,
                incumbent=incumbent,
                time_limit=time_limit * (2 / 3),
            )
        except CapabilityError:
            pass
        if first is not None and relaxed is not None and relaxed.upper < first.upper:
            tighter = f"{first.method}; tightened by the {relaxed.method} ({relaxed.boxes} boxes)"
            first = replace(first, upper=relaxed.upper, method=tighter)
        if first is not None and (first.status == "optimal" or large):
            return first
        left = time_limit - (0.0 if first is None else first.seconds)
        second = second_best_bound(
            base, objective, space.bounds, time_limit=max(left, 1.0), incumbent=incumbent
        )
        return second if first is None or second.upper < first.upper else first

    def relaxed_applies(self, game: Any, objective: Objective) -> bool:
        """Whether :meth:`relaxed_bound` gives a bound for this game and objective (the global
        commons, W row by row for p > 1, and at least one box in the budget)."""
        from sedtheory.principal.box_relaxation import relaxed_boxes
        from sedtheory.principal.first_best import rows_dual

        if not getattr(game, "uses_global_formulas", False) or not hasattr(game, "kernel"):
            return False
        if relaxed_boxes(game.n, self.for_game(game)._pieces(game)) == 0:
            return False
        return objective.p <= 1 or rows_dual(game, objective.of)

    def _pieces(self, game: Any) -> int:
        """Tax pieces below the harvest cap (the relaxation's cost grows with them)."""
        return int(np.sum(self.for_thresholds() < game.max_harvest))

    def relaxed_instead(self, game: Any, objective: Objective) -> bool:
        """Hook of :func:`optimal_policy` for large societies: whether the relaxed bound stands in
        for the first best, which would need a cone program (a second of CPU beside the search at
        n = 1000, and a looser bound there)."""
        from sedtheory.principal.first_best_high_p import solver_free

        return self.relaxed_applies(game, objective) and not solver_free(game, objective.p, objective.of)

    def relaxed_bound(
        self, game: Any, objective: Objective, references: list[tuple[np.ndarray, np.ndarray]]
    ) -> Any:
        """Hook of :func:`optimal_policy`: a second-best bound over this box by the relaxed planner
        (:func:`~sedtheory.principal.box_relaxation.relaxation_bound` for ``p <= 1``,
        :func:`~sedtheory.principal.box_agents.high_p_bound` for ``p > 1``; global commons) from
        reference designs ``(rates, actions)`` (the first is the design; for max-min welfare
        another reference often weighs the agents better), or None where it does not apply."""
        from sedtheory.principal.box_agents import high_p_bound
        from sedtheory.principal.box_relaxation import relaxation_bound, relaxed_boxes

        if not self.relaxed_applies(game, objective):
            return None
        space = self.for_game(game)
        base = space._game_with_thresholds(game)
        kernel = base.kernel
        values, totals = [], []
        for rates, actions in references:
            x, a = np.asarray(rates, dtype=float), np.asarray(actions, dtype=float)
            values.append(objective.values(kernel.utilities(a, x), kernel.payoffs(a, x)))
            totals.append(float(kernel.total(a)))
        boxes = relaxed_boxes(game.n, space._pieces(game))
        if objective.p > 1:  # every agent's largest utility (W row by row), a quarter of the boxes
            quarter = max(1, boxes // 4)
            return high_p_bound(base, objective, space.bounds, aggregate=totals[0], max_boxes=quarter)
        return relaxation_bound(
            base,
            objective,
            space.bounds,
            values=np.array(values),
            aggregate=np.array(totals),
            max_boxes=boxes,
        )

    def _relaxed_share(self, game: Any, objective: Objective, incumbent: Any, seconds: float) -> Any:
        """The relaxed planner's bound from the incumbent within ``seconds`` (large societies in
        :meth:`global_bound`), or None where it does not apply."""
        from sedtheory.principal.box_relaxation import relaxation_bound

        if objective.p > 1 or not getattr(game, "uses_global_formulas", False):
            return None
        x, actions, _ = incumbent
        outcome = self.apply(game, x).kernel
        rates = np.asarray(x, dtype=float)
        values = objective.values(outcome.utilities(actions, rates), outcome.payoffs(actions, rates))
        return relaxation_bound(
            game, objective, self.bounds, values=values, aggregate=float(outcome.total(actions)),
            max_boxes=10**6, time_limit=seconds,
        )  # fmt: skip

    def __repr__(self) -> str:
        t = None if self.thresholds is None else self.thresholds.tolist()
        return f"BracketRates(thresholds={t}, bounds={self._raw_bounds!r})"


def bracket_tax_of(game: Any, field_name: str = "game") -> PiecewiseLinearTax:
    """The bracket tax of ``game`` (a typed error for games without one)."""
    require_game(game, field_name)
    tax = getattr(game, "policy", None)
    if not isinstance(tax, PiecewiseLinearTax):
        raise InvalidParameterError(
            field_name,
            type(game).__name__,
            "this game's policy is not a bracket tax; use optimal_policy with a policy space",
        )
    return tax


def default_space(game: Any, space: Any = None) -> Any:
    """``space`` for ``game``, or the game's default: its bracket rates (games with a bracket tax)
    or ``game.default_policy_space()``; a typed error otherwise."""
    if space is not None:
        if isinstance(space, BracketRates):
            return space.for_game(game)
        if not isinstance(space, PolicySpace):
            raise InvalidParameterError(
                "space", space, "pass a policy space (dim, bounds, apply, batch_equilibria)"
            )
        return space
    maker = getattr(game, "default_policy_space", None)
    if callable(maker):
        return maker()
    if isinstance(getattr(game, "tax", None), PiecewiseLinearTax):
        return BracketRates(game.tax.thresholds)
    raise InvalidParameterError(
        "space", None, f"{type(game).__name__} has no default policy space; pass space=ParametricPolicy(...)"
    )
