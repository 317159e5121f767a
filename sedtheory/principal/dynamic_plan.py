r"""The first best of the dynamic commons: the planner's harvest paths and bounded transfers.

The planner chooses realised harvests :math:`y_{t,j} \in [0, a_{max}]`, budget-balanced
transfers :math:`t_{t,j}` (``"tax-feasible"``: :math:`-y_{t,j} \le t_{t,j} \le \bar y_t`, what a
bracket tax with rates in [0, 1] and equal redistribution can make; or ``"lump-sum"``) and stocks
:math:`S_t`, with :math:`E_t = S_t - \sum_j y_{t,j} \ge 0` and the relaxation
:math:`S_{t+1} \le G(E_t)` (DESIGN.md section 9). Payoffs
:math:`r_{t,j} = \omega + y_{t,j} + t_{t,j} - c_j y_{t,j}^2` and utilities
:math:`U = W \sum_t \beta^t r_t` are concave in the variables, so for concave :math:`G` and
:math:`p \le 1` maximising :math:`M_p(U)` is a convex program (cvxpy, Clarabel first).

Certificate: the program's optimum is an upper bound on every policy's welfare (any Markov
strategies under any such tax give a feasible point). The plan's harvests are then replayed in
the true dynamics (:math:`S_{t+1} = G(E_t)`, at least the relaxed stock, so the harvests stay
feasible) and its welfare is the lower bound; the certificate is "optimal" when they agree.
The logistic map enters exactly (a concave quadratic); another concave map enters through
tangent cuts at 257 points, which over-estimate :math:`G` and so keep the bound valid. A map that
is not concave (``"melting_pot"`` at low stocks) is refused with a :class:`DomainError`.

Examples
--------
>>> import sedtheory as sed
>>> from sedtheory.games.dynamic import DynamicCommonsGame
>>> game = DynamicCommonsGame(sed.Society([1.0, 1.0], 20.0), sed.PiecewiseLinearTax([0], [0.0]),
...                           horizon=3, discount=0.9, initial_stock=60.0, grid=21)
>>> plan = dynamic_first_best(game, 1.0)
>>> plan.certificate.status, plan.stocks.shape
('optimal', (4,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sedtheory.certificate import Certificate
from sedtheory.errors import DomainError, InvalidParameterError
from sedtheory.objective import Objective, as_objective
from sedtheory.principal.convex import as_array, concave_objective, concave_objective_inverse, cp, solve
from sedtheory.principal.first_best import TRANSFER_MODELS

__all__ = ["DynamicPlan", "dynamic_first_best"]


@dataclass(frozen=True)
class DynamicPlan:
    """The planner's plan for one objective.

    Attributes
    ----------
    objective : Objective
    harvests, transfers, payoffs : numpy.ndarray
        ``(T, n)`` realised harvests, transfers and step payoffs (replayed in the true dynamics).
    stocks : numpy.ndarray
        ``(T+1,)`` the true stock path of the plan.
    utilities : numpy.ndarray
        :math:`U_i`.
    welfare : float
        The objective at ``utilities`` (the certificate's lower bound).
    certificate : Certificate
        Lower bound = ``welfare``, upper bound = the relaxed program's optimum.
    transfers_model, method, solver : str
    """

    objective: Objective
    harvests: np.ndarray
    transfers: np.ndarray
    payoffs: np.ndarray
    stocks: np.ndarray
    utilities: np.ndarray
    welfare: float
    certificate: Certificate
    transfers_model: str
    method: str
    solver: str


def _regrowth_bound(game: Any, escapement: cp.Expression, nxt: cp.Expression) -> list[cp.Constraint]:
    """``S_{t+1} <= G(E_t)``: exact for the logistic map, tangent cuts for another concave map."""
    reg = game.regrowth
    cap = reg.capacity
    if reg.name == "logistic":
        r = float(reg.params["r"])
        return [nxt <= (1.0 + r) * escapement - (r / cap) * cp.square(escapement)]
    pts = np.linspace(0.0, cap, 257)
    values = np.asarray(reg(pts))
    if not _is_concave(reg):
        raise DomainError(
            "regrowth",
            reg.name,
            "the planner's program needs a concave regrowth map (the relaxation S' <= G(E) is then "
            "convex); this one is not concave: use a logistic or another concave map",
        )
    slopes = np.asarray(reg.slope(pts))
    return [nxt <= values[k] + slopes[k] * (escapement - pts[k]) for k in range(pts.size)]


def _program(game: Any, objective: Objective, transfers: str) -> tuple[cp.Problem, dict[str, Any]]:
    steps, n = game.steps, game.n
    model = game.stage
    y = cp.Variable((steps, n), nonneg=True, name="harvests")
    t = cp.Variable((steps, n), name="transfers")
    s = cp.Variable(steps + 1, nonneg=True, name="stocks")
    escapement = s[:-1] - cp.sum(y, axis=1)
    cons = [s[0] == game.initial_stock, y <= game.max_harvest, escapement >= 0, cp.sum(t, axis=1) == 0]
    cons += _regrowth_bound(game, escapement, s[1:])
    if transfers == "tax-feasible":
        cons += [t >= -y, t <= cp.sum(y, axis=1, keepdims=True) / n @ np.ones((1, n))]
    cost = cp.multiply(np.broadcast_to(model.cost_weights, (steps, n)), cp.square(y))
    r = model.omega + y + t - cost
    discounts = game.discount ** np.arange(steps)
    own = discounts @ r  # (n,) discounted own payoffs
    utilities = model.weights @ own
    values = utilities if objective.of == "utility" else own
    scale = max(1.0, game.initial_stock, model.omega * steps)
    return cp.Problem(concave_objective(values, objective.p, scale), cons), {"y": y, "t": t, "scale": scale}


def _replay(game: Any, harvests: np.ndarray, transfers: np.ndarray) -> tuple[np.ndarray, ...]:
    """Harvests that the true dynamics allow (at least the relaxed stock, so all of them up to
    solver rounding, which is clipped), their step payoffs and the stock path."""
    model = game.stage
    stocks = np.zeros(harvests.shape[0] + 1)
    stocks[0] = game.initial_stock
    y = np.clip(harvests, 0.0, game.max_harvest)
    for k in range(y.shape[0]):
        total = y[k].sum()
        if total > stocks[k]:
            y[k] *= stocks[k] / total
        stocks[k + 1] = float(model.regrowth(max(stocks[k] - y[k].sum(), 0.0)))  # type: ignore[operator]
    t = transfers - transfers.mean(axis=1, keepdims=True)  # exact budget balance
    payoffs = model.omega + y + t - model.cost_weights * y * y
    return y, t, payoffs, stocks


def dynamic_first_best(
    game: Any, p: float | Objective = 1.0, transfers: str = "tax-feasible", method: str = "auto"
) -> DynamicPlan:
    """The planner's optimum of a :class:`~sedtheory.games.dynamic.DynamicCommonsGame`, certified.

    ``method``: ``"convex"`` (the relaxed convex program: concave ``G`` and ``p <= 1``),
    ``"dynamic-programming"`` (``p = 1``, any increasing ``G``: :mod:`sedtheory.principal.dynamic_dp`)
    or ``"auto"`` (the convex program where it applies, else dynamic programming for ``p = 1``,
    else a :class:`DomainError` saying which applies)."""
    objective = as_objective(p)
    if transfers not in TRANSFER_MODELS:
        raise InvalidParameterError("transfers", transfers, f"use one of {sorted(TRANSFER_MODELS)}")
    if method not in ("auto", "convex", "dynamic-programming"):
        raise InvalidParameterError("method", method, "use 'auto', 'convex' or 'dynamic-programming'")
    if not all(hasattr(game, a) for a in ("stage", "steps", "regrowth", "initial_stock")):
        raise InvalidParameterError("game", type(game).__name__, "pass a DynamicCommonsGame")
    concave_map = _is_concave(game.regrowth)
    if method == "auto":
        method = "convex" if concave_map and objective.concave else "dynamic-programming"
    if method == "dynamic-programming":
        if objective.p != 1.0 or objective.weights is not None:
            raise DomainError(
                "p",
                objective.p,
                "dynamic programming is written for p = 1 (unweighted); the convex program covers "
                "p <= 1 for a concave regrowth map" + ("" if concave_map else ", which this map is not"),
            )
        return _by_dynamic_programming(game, objective, transfers)
    if not objective.concave:
        raise DomainError("p", objective.p, "the dynamic planner's program is convex for p <= 1 only")
    problem, var = _program(game, objective, transfers)
    solver = solve(problem, "the dynamic planner's program")
    shape = (game.steps, game.n)
    upper = concave_objective_inverse(problem.value, objective.p, var["scale"])
    argument = (
        f"relaxed convex program ({solver}) bounds every policy; its plan replayed in the true "
        "dynamics gives the lower bound"
    )
    return _certified(
        game,
        objective,
        transfers,
        as_array(var["y"]).reshape(shape),
        as_array(var["t"]).reshape(shape),
        upper,
        "convex",
        solver,
        argument,
    )


def _is_concave(regrowth: Any) -> bool:
    """Concave on a 257-point grid of ``[0, K]`` (second differences, to rounding)."""
    if regrowth.name == "logistic":
        return True
    values = np.asarray(regrowth(np.linspace(0.0, regrowth.capacity, 257)))
    return not bool(np.any(np.diff(values, 2) > 1e-9 * max(1.0, regrowth.capacity)))


def _by_dynamic_programming(game: Any, objective: Objective, transfers: str) -> DynamicPlan:
    from sedtheory.principal.dynamic_dp import plan_by_dynamic_programming

    harvests, transfer_plan, upper = plan_by_dynamic_programming(game, objective, transfers)
    argument = (
        f"dynamic programming on the {game.grid.size}-point stock grid: upper bound from secant bounds "
        "of the step value and the value at the next grid stock (monotone); the plan replayed in the "
        "true dynamics gives the lower bound"
    )
    return _certified(
        game,
        objective,
        transfers,
        harvests,
        transfer_plan,
        upper,
        "dynamic-programming",
        "CLARABEL",
        argument,
        rtol=1e-3,
    )


def _certified(
    game: Any,
    objective: Objective,
    transfers: str,
    harvests: np.ndarray,
    transfer_plan: np.ndarray,
    upper: float,
    method: str,
    solver: str,
    argument: str,
    rtol: float = 1e-5,
) -> DynamicPlan:
    """Replay the plan, evaluate it, and attach the certificate."""
    y, t, payoffs, stocks = _replay(game, harvests, transfer_plan)
    own = (game.discount ** np.arange(y.shape[0])) @ payoffs
    utilities = game.society.apply_weights(own)
    welfare = objective.evaluate(objective.values(utilities, own))
    cert = Certificate.from_bounds(
        welfare,
        max(welfare, upper),  # the bound can sit below the replay by solver rounding
        "dynamic first best",
        rtol=rtol,
        argument=argument,
    )
    return DynamicPlan(objective, y, t, payoffs, stocks, utilities, welfare, cert, transfers, method, solver)
