"""``solve_equilibrium``, ``certify`` and ``nash_gap``: certified pure equilibria of any game."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium.result import Equilibrium, relative_gap_scale
from sedtheory.equilibrium.solvers import SOLVERS, SolverOutput, applicable_solvers, damped_best_response
from sedtheory.errors import CapabilityError, EquilibriumNotFoundError, InvalidParameterError
from sedtheory.games.protocol import Game, action_summary, require_game
from sedtheory.validate import positive_float

__all__ = ["solve_equilibrium", "nash_gap", "certify", "damped_best_response", "SELECTION_NOTE"]

SELECTION_NOTE = (
    "With effort costs and concave utilities the equilibrium is unique. Where several exist "
    "(no effort cost, or agents with sigma_i = 0 whose backward reply is a whole bracket at "
    "the equilibrium aggregate), the aggregate is still the unique root of the aggregate "
    "equation and the slack is shared by one common fraction lambda of every indifferent "
    "agent's reply interval (agents of equal type get equal actions). Agents with s_i = 0 put "
    "no weight on any payoff; they are indifferent and play 0. Best-response ties go to the "
    "smaller action. With non-concave utilities the equilibrium is the first one reached by "
    "potential-increasing segment moves from the largest backward replies."
)


def nash_gap(game: Game, actions: npt.ArrayLike) -> float:
    """Exact Nash gap ``max_i [max_x u_i(x, a_-i) - u_i(a)]`` of a profile of any game.

    Best responses are exact (for the commons: the best of the clipped stationary points on
    every bracket), never taken on a grid.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium, nash_gap
    >>> game = scenarios.apple_picking()
    >>> nash_gap(game, solve_equilibrium(game).actions) < 1e-9
    True
    """
    require_game(game)
    a = game.check_actions(actions, batch=False)
    return float(np.max(game.deviation_gains(a)))


def certify(
    game: Game,
    actions: npt.ArrayLike,
    method: str = "given",
    tol: float = 1e-9,
    iterations: int = 0,
    certificate: str = "",
    details: dict[str, Any] | None = None,
    verified: tuple[float, np.ndarray] | None = None,
) -> Equilibrium:
    """Wrap a profile of any game in an :class:`Equilibrium` with its exact Nash gap.

    ``verified = (gap, utilities)`` may pass what a solver's last step computed for exactly
    this profile, so that it is not recomputed.
    """
    require_game(game)
    tol = positive_float("tol", tol)  # tol = inf labelled a gap of 6.5e-4 "optimal"
    a = game.check_actions(actions, batch=False)
    if verified is not None:
        gap, u = verified
    else:
        u = game.utilities(a)
        gap = float(np.max(game.deviation_gains(a)))
    rel = gap / relative_gap_scale(u)
    ok = bool(rel <= tol and np.all(np.isfinite(u)))  # inf/NaN utilities certify nothing
    text = certificate or "exact best responses of every agent"
    return Equilibrium(
        actions=a,
        utilities=u,
        payoffs=game.payoffs(a),
        nash_gap=gap,
        relative_nash_gap=rel,
        method=method,
        converged=bool(ok),
        iterations=iterations,
        status="optimal" if ok else "gap-above-tolerance",
        selection=str(getattr(game, "selection_note", SELECTION_NOTE)),
        certificate=f"{text}; measured exact Nash gap {gap:.3e} (relative {rel:.3e}, tol {tol:g})",
        aggregate=float(np.sum(action_summary(game, a))),
        game=game,
        details=dict(details or {}),
    )


def _pick_method(game: Game, method: str) -> str:
    """The registered solver to use: the first that applies for ``"auto"``, else ``method`` checked."""
    if method == "auto":
        return applicable_solvers(game)[0]
    name = SOLVERS.resolve(method)
    if not SOLVERS[name].applies(game):
        raise CapabilityError(
            "method",
            method,
            f"the {name} solver needs the {SOLVERS[name].capability!r} capability, which this "
            f"{type(game).__name__} lacks; use one of {applicable_solvers(game)} or method='auto'",
        )
    return name


def solve_equilibrium(
    game: Game,
    method: str = "auto",
    tol: float | None = None,
    max_iter: int = 200,
    initial: npt.ArrayLike | None = None,
    raise_on_failure: bool = True,
) -> Equilibrium:
    r"""A certified pure Nash equilibrium of ``game`` (any :class:`~sedtheory.games.Game`).

    Parameters
    ----------
    game : Game
    method : str
        A name in :data:`~sedtheory.equilibrium.SOLVERS`: ``"aggregate"`` (global commons, also
        local commons on a complete graph: exact 1-D search on the aggregate with segment moves
        for non-concave agents), ``"active-set"`` (active-set Newton with exact replies, local
        commons on a graph), ``"best-response"`` (damped simultaneous exact best responses, any
        game; may fail to converge, which is then reported). ``"auto"`` (default) takes the
        first registered solver that applies to the game.
    tol : float, optional
        Largest accepted relative Nash gap ``gap / max(1, max_i |u_i|)``; default the game's
        ``default_tolerance`` if it has one (the dynamic commons: its grid error is inside the
        gap), else ``1e-9``.
    max_iter : int
        Outer iterations of the iterative methods.
    initial : array_like, optional
        Starting profile of the iterative methods (validated for every method; the aggregate
        method is exact and does not need one).
    raise_on_failure : bool
        If True (default) raise :class:`~sedtheory.errors.EquilibriumNotFoundError` when no
        profile with gap <= tol is found; otherwise return it with ``converged=False``. With
        ``method="auto"`` on a global commons an uncertified search first falls back to the
        enumeration on the aggregate (:func:`~sedtheory.equilibrium.enumeration.equilibria`;
        the method then ends in ``"+enumeration"``).

    Returns
    -------
    Equilibrium

    Notes
    -----
    Global commons: the game is aggregative with strategic substitutes
    (:math:`\partial^2 u_i/\partial a_i\partial A_{-i} = -s_i\kappa/n`) and has a weighted
    potential :math:`\Phi`. Each agent's backward reply on a concave segment is piecewise linear
    and non-increasing in the aggregate, so :math:`\sum_i x_i(A) = A` has one root, found
    exactly. Non-concave agents (convex kinks: :math:`\sigma_i < s_i/n` with progressive rates,
    or regressive rates) are handled by potential-increasing segment moves, which terminate at a
    pure equilibrium because the potential strictly increases over finitely many segment
    assignments.

    Local commons: see :mod:`sedtheory.equilibrium.local_commons`.

    Every result carries its exact Nash gap; ``converged`` is true iff the relative gap is
    at most ``tol``. Which equilibrium is returned when several exist:
    :data:`SELECTION_NOTE`.

    References
    ----------
    .. [1] D. Monderer, L. S. Shapley, "Potential games", *Games and Economic Behavior* 14 (1996)
       124-143.
    .. [2] M. K. Jensen, "Aggregative games and best-reply potentials", *Economic Theory* 43
       (2010) 45-66.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> eq = solve_equilibrium(scenarios.apple_picking())
    >>> eq.converged, eq.method
    (True, 'aggregate-root')
    """
    require_game(game)
    if tol is None:
        tol = float(getattr(game, "default_tolerance", 1e-9))
    if not isinstance(method, str):
        raise InvalidParameterError("method", method, f"use 'auto' or one of {sorted(SOLVERS)}")
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not (0 < tol < float("inf")):
        raise InvalidParameterError("tol", tol, "tol must be a finite number > 0")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 0:
        raise InvalidParameterError("max_iter", max_iter, "max_iter must be a non-negative integer")
    name = _pick_method(game, method)
    init = None if initial is None else game.check_actions(initial, batch=False)
    out: SolverOutput = SOLVERS[name].solve(game, tol, int(max_iter), init)
    verified = None
    if out.verified_gap is not None and out.verified_utilities is not None:
        verified = (out.verified_gap, out.verified_utilities)
    eq = certify(
        game,
        out.actions,
        method=out.method,
        tol=tol,
        iterations=out.iterations,
        certificate=out.argument,
        details=out.details,
        verified=verified,
    )
    if not eq.converged and raise_on_failure and method == "auto":  # a named solver's failure is its own
        listed = _listed(game, tol, out)
        eq = eq if listed is None else listed
    if not eq.converged:
        status = "no-pure-equilibrium-found"
        eq = Equilibrium(**{**eq.__dict__, "status": status})
        if raise_on_failure:
            raise EquilibriumNotFoundError(
                f"{out.method} reached relative Nash gap {eq.relative_nash_gap:.3e} > tol {tol:g} "
                f"after {out.iterations} iterations; the profile is not certified",
                status,
                best_actions=eq.actions,
                best_gap=eq.nash_gap,
            )
    return eq


def _listed(game: Any, tol: float, out: SolverOutput) -> Equilibrium | None:
    """Where the solver's search ends uncertified on a global commons (with population masses
    its segment search can cycle), the sweep of the aggregate in
    :func:`~sedtheory.equilibrium.enumeration.equilibria` may still list equilibria: the one with
    the smallest total is returned, certified by its exact gap (None when the list is empty). The
    enumeration runs the solver with ``raise_on_failure=False``, which never comes here."""
    if not getattr(game, "uses_global_formulas", False):
        return None
    from sedtheory.equilibrium.enumeration import equilibria

    found = equilibria(game, tol=tol)
    if found.count == 0:
        return None
    eq = certify(
        game,
        found.actions[0],
        method=out.method + "+enumeration",
        tol=tol,
        iterations=out.iterations,
        certificate=out.argument + "; the search ended uncertified, so the equilibrium with the smallest "
        "total of the enumeration on the aggregate (equilibria) is returned",
        details={**out.details, "fallback": "equilibria"},
    )
    return eq if eq.converged else None
