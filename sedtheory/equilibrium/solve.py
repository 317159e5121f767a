"""``solve_equilibrium`` and ``nash_gap``: certified pure equilibria of a CommonsGame."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium.global_commons import solve_global
from sedtheory.equilibrium.local_commons import solve_local
from sedtheory.equilibrium.result import Equilibrium, relative_gap_scale
from sedtheory.errors import EquilibriumNotFoundError, InvalidParameterError
from sedtheory.game import CommonsGame

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


def nash_gap(game: CommonsGame, actions: npt.ArrayLike) -> float:
    """Exact Nash gap ``max_i [max_x u_i(x, a_-i) - u_i(a)]`` of a profile.

    Best responses are exact (the best of the clipped stationary points on every bracket),
    never taken on a grid.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium, nash_gap
    >>> game = scenarios.apple_picking()
    >>> nash_gap(game, solve_equilibrium(game).actions) < 1e-9
    True
    """
    if not isinstance(game, CommonsGame):
        raise InvalidParameterError("game", type(game).__name__, "pass a sedtheory.CommonsGame")
    return game.nash_gap(actions)


def certify(
    game: CommonsGame,
    actions: npt.ArrayLike,
    method: str = "given",
    tol: float = 1e-9,
    iterations: int = 0,
    certificate: str = "",
    details: dict[str, Any] | None = None,
) -> Equilibrium:
    """Wrap a profile in an :class:`Equilibrium` with its exact Nash gap."""
    a = game.check_actions(actions, batch=False)
    verified = (details or {}).get("verified")
    if verified is not None and verified[0] is actions:
        # The solver's last step computed exactly these quantities for exactly this profile.
        gap, u = verified[1], verified[2]
    else:
        u = game.utilities(a)
        gap = game.nash_gap(a)
    rel = gap / relative_gap_scale(u)
    ok = rel <= tol
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
        selection=SELECTION_NOTE,
        certificate=f"{text}; measured exact Nash gap {gap:.3e} (relative {rel:.3e}, tol {tol:g})",
        aggregate=float(a.sum()),
        game=game,
        details={k: v for k, v in (details or {}).items() if k != "verified"},
    )


def solve_equilibrium(
    game: CommonsGame,
    method: Literal["auto", "aggregate", "active-set", "best-response"] = "auto",
    tol: float = 1e-9,
    max_iter: int = 200,
    initial: npt.ArrayLike | None = None,
    raise_on_failure: bool = True,
) -> Equilibrium:
    r"""A certified pure Nash equilibrium of ``game``.

    Parameters
    ----------
    game : CommonsGame
    method : {"auto", "aggregate", "active-set", "best-response"}
        ``"aggregate"`` (global commons, also local commons on a complete graph): exact 1-D
        search on the aggregate with segment moves for non-concave agents.
        ``"active-set"``: active-set Newton with exact replies (local commons on a graph).
        ``"best-response"``: damped simultaneous exact best responses (generic, any game;
        may fail to converge, which is then reported). ``"auto"`` picks ``"aggregate"``
        whenever the damage is global and ``"active-set"`` otherwise.
    tol : float
        Largest accepted relative Nash gap ``gap / max(1, max_i |u_i|)``.
    max_iter : int
        Outer iterations of the active-set method.
    initial : array_like, optional
        Starting profile for the active-set method.
    raise_on_failure : bool
        If True (default) raise :class:`~sedtheory.errors.EquilibriumNotFoundError` when no
        profile with gap <= tol is found; otherwise return it with ``converged=False``.

    Returns
    -------
    Equilibrium

    Notes
    -----
    Global commons: the game is aggregative with strategic substitutes
    (:math:`\partial^2 u_i/\partial a_i\partial A_{-i} = -s_i\kappa/n`) and has the weighted
    potential :math:`\Phi` of DESIGN.md section 3. Each agent's backward reply on a concave
    segment is piecewise linear and non-increasing in the aggregate, so
    :math:`\sum_i x_i(A) = A` has one root, found exactly. Non-concave agents (convex kinks:
    :math:`\sigma_i < s_i/n` with progressive rates, or regressive rates) are handled by
    potential-increasing segment moves, which terminate at a pure equilibrium because the
    potential strictly increases over finitely many segment assignments.

    Local commons: see :mod:`sedtheory.equilibrium.local_commons`.

    Every result carries its exact Nash gap; ``converged`` is true iff the relative gap is
    at most ``tol``. Which equilibrium is returned when several exist:
    :data:`SELECTION_NOTE`.

    Examples
    --------
    >>> from sedtheory import scenarios, solve_equilibrium
    >>> eq = solve_equilibrium(scenarios.apple_picking())
    >>> eq.converged, eq.method
    (True, 'aggregate-root')
    """
    if not isinstance(game, CommonsGame):
        raise InvalidParameterError("game", type(game).__name__, "pass a sedtheory.CommonsGame")
    if method not in ("auto", "aggregate", "active-set", "best-response"):
        raise InvalidParameterError(
            "method", method, 'use "auto", "aggregate", "active-set" or "best-response"'
        )
    if not tol > 0:
        raise InvalidParameterError("tol", tol, "tol must be > 0")
    if method == "auto":
        method = "aggregate" if game.uses_global_formulas else "active-set"
    if method == "aggregate" and not game.uses_global_formulas:
        raise InvalidParameterError(
            "method", method, "the aggregate method needs the global commons; use 'active-set'"
        )
    if method == "active-set" and game.uses_global_formulas:
        raise InvalidParameterError(
            "method", method, "the active-set method is for the local commons; use 'aggregate'"
        )
    if method == "aggregate":
        actions, its, name, details = solve_global(game, tol=min(tol, 1e-10) * 1e-2)
        why = "root of the aggregate equation for concave segments" + (
            " and potential-increasing segment moves" if details.get("nonconcave_agents") else ""
        )
    elif method == "active-set":
        init = None if initial is None else game.check_actions(initial, batch=False)
        actions, its, name, details = solve_local(game, tol=tol * 1e-2, max_iter=max_iter, initial=init)
        why = "regime linear systems with exact best responses"
    else:
        init = None if initial is None else game.check_actions(initial, batch=False)
        actions, its, name, details = damped_best_response(game, tol, max_iter, init)
        why = "damped exact best-response iteration"
    eq = certify(game, actions, method=name, tol=tol, iterations=its, certificate=why, details=details)
    if not eq.converged and method == "active-set":
        # The regime iteration can cycle between regimes when an agent's reply sits on a kink.
        # Damped best responses from its last profile move into the right regime; a second
        # active-set pass from there solves the regime's linear system exactly.
        br, br_its, _, _ = damped_best_response(game, tol * 1e-2, max_iter, actions)
        again, its2, _, details2 = solve_local(game, tol=tol * 1e-2, max_iter=max_iter, initial=br)
        for cand, extra in ((again, its2), (br, 0)):
            retry = certify(
                game,
                cand,
                method=f"{name}+best-response",
                tol=tol,
                iterations=its + br_its + extra,
                certificate=why + " (after damped best responses from a cycling regime iteration)",
                details={**details, **details2, "fallback": "damped-best-response"},
            )
            if retry.converged:
                eq = retry
                break
    if not eq.converged:
        status = "no-pure-equilibrium-found"
        eq = Equilibrium(**{**eq.__dict__, "status": status})
        if raise_on_failure:
            raise EquilibriumNotFoundError(
                f"{name} reached relative Nash gap {eq.relative_nash_gap:.3e} > tol {tol:g} "
                f"after {its} iterations; the profile is not certified",
                status,
                best_actions=eq.actions,
                best_gap=eq.nash_gap,
            )
    return eq


def damped_best_response(
    game: CommonsGame,
    tol: float = 1e-9,
    max_iter: int = 200,
    initial: np.ndarray | None = None,
    damping: float = 0.5,
) -> tuple[np.ndarray, int, str, dict[str, object]]:
    """Simultaneous damped exact best responses ``a <- a + damping (BR(a) - a)``.

    The generic method that works on any commons game; it converges on contractive
    instances and is reported as not converged otherwise.
    """
    a = np.zeros(game.n) if initial is None else np.asarray(initial, dtype=float).copy()
    it = 0
    for it in range(1, max_iter * 50 + 1):
        a = a + damping * (game.best_responses(a) - a)
        if it % 10 == 0 and game.nash_gap(a) / relative_gap_scale(game.utilities(a)) <= tol:
            break
    return a, it, "damped-best-response", {}
