r"""The principal's second best over bracket rates: ``optimal_tax`` and ``TaxDesign``.

``optimal_tax(game, p)`` is :func:`~sedtheory.principal.optimal_policy` over the space
:class:`~sedtheory.principal.BracketRates` (the game's thresholds, rates in a box inside
``[0, 1]^B``), maximising :math:`M_p(u(a^*(\phi), \phi))` in three stages:

1. **Scan.** Every rate vector of a grid (by default the seed's 0.1 grid or finer for
   ``B <= 4``) is solved at once by :func:`~sedtheory.equilibrium.batch.policy_equilibria`
   (vectorised exact equilibria, each certified by its exact Nash gap).
2. **Refine.** A batched compass search from the best local maxima of the scan
   (:mod:`sedtheory.principal.search`).
3. **Polish** (``p <= 1``). For the best outcome found, the best implementation (a convex
   program over all rates that implement that same outcome: utilities are affine in the rates,
   the implementing set is convex): no rates implementing it do better.

The certificate (:class:`~sedtheory.Certificate`): the returned welfare is exact at a certified
equilibrium (a lower bound on the optimum); the tax-feasible first best is a proven upper bound;
with ``certify=True`` a global bound on the second best itself (the branch and bound on the
regimes, :mod:`sedtheory.principal.branch_bound`, then SCIP, :mod:`sedtheory.principal.global_bound`)
is one too, and the status is ``"optimal"`` when it
meets the welfare. Every grid policy and every search point was evaluated exactly, so the result
is at least as good as each of them (in particular the seed's 1331-policy grid). Where several
equilibria exist at a policy, ``selection`` decides which one counts (default: the best for the
principal, :mod:`sedtheory.principal.selection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sedtheory.errors import InvalidParameterError
from sedtheory.objective import Objective, as_objective
from sedtheory.principal.policy import PolicyDesign, optimal_policy
from sedtheory.principal.search import scan_points
from sedtheory.principal.spaces import BracketRates, bracket_tax_of, default_space
from sedtheory.taxes import PiecewiseLinearTax

__all__ = ["TaxDesign", "optimal_design", "optimal_tax", "scan_points"]


@dataclass(frozen=True)
class TaxDesign(PolicyDesign):
    """The principal's optimal bracket tax for one p, with its certificate.

    A :class:`~sedtheory.principal.PolicyDesign` whose point ``x`` is the rate vector and whose
    policy is the tax.

    Attributes
    ----------
    rates : numpy.ndarray
        ``x``.
    tax : PiecewiseLinearTax
        ``policy``.
    equilibrium : Equilibrium
        Certified equilibrium of the induced game (exact Nash gap).
    welfare : float
        ``M_p`` of the equilibrium's utilities (or payoffs): a lower bound on the optimum.
    upper_bound : float
        A proven upper bound on every tax policy's welfare (the first best).
    p, welfare_of : float, str
        From ``objective``.
    method, status : str
        ``status`` is ``"optimal"`` when the bound is attained (gap <= 1e-6 relative) and
        ``"best-found"`` otherwise.
    certificate : Certificate
        Lower and upper bounds, the bound's source, status, gap and the argument in words.
    evaluations : int
        Policies whose equilibrium was computed.
    details : dict
        Scan size and best grid welfare, polish status, timings.
    """

    @property
    def rates(self) -> np.ndarray:
        """The optimal marginal rates (``x``)."""
        return self.x

    @property
    def tax(self) -> PiecewiseLinearTax:
        """The optimal tax (``policy``)."""
        return self.policy  # type: ignore[no-any-return]

    @classmethod
    def of(cls, design: PolicyDesign, **changes: Any) -> TaxDesign:
        """A TaxDesign with the fields of ``design`` (and ``changes``)."""
        fields = {name: getattr(design, name) for name in design.__dataclass_fields__}
        fields.update(changes)
        return cls(**fields)


def optimal_tax(
    game: Any,
    p: float | Objective,
    *,
    bounds: tuple[float, float] | npt.ArrayLike = (0.0, 1.0),
    welfare_of: Literal["utility", "payoff"] = "utility",
    resolution: int | None = None,
    starts: int | None = None,
    min_step: float | None = None,
    polish: bool | None = None,
    optimize_thresholds: bool = False,
    tol: float | None = None,
    bound: bool = True,
    selection: str = "optimistic",
    certify: bool = False,
    time_limit: float = 60.0,
    progress: bool = False,
    start: npt.ArrayLike | None = None,
    start_step: float = 0.05,
) -> TaxDesign:
    r"""The welfare-maximising bracket rates for ``M_p`` and how optimality was established.

    Parameters
    ----------
    game : CommonsGame or another game with a bracket tax (e.g. DynamicCommonsGame)
        Its thresholds are kept (unless ``optimize_thresholds``); its rates are ignored.
    p : float or Objective
        The objective's p, in ``[-inf, +inf]`` (or an :class:`~sedtheory.Objective`).
    bounds : (low, high) or array (2, B)
        Box for the rates, inside [0, 1] (typed error otherwise).
    welfare_of : {"utility", "payoff"}
    resolution : int, optional
        Grid points per bracket for the scan (default :func:`scan_points`: 1001 / 101 / 11 / 11
        for B = 1..4, fewer for large n; each contains the seed's 0.1 grid).
    starts : int, optional
        At most this many compass searches, from the best local maxima of the scan.
    min_step : float, optional
        Smallest compass step.
    polish : bool, optional
        Run the convex best implementation of the best outcome. Default: for ``p <= 1`` and
        n <= 200, where it is one exact convex program (at n = 1000 Clarabel does not reach an
        accurate optimum of it and SCS is slow). For ``p > 1`` maximising ``M_p`` over the
        implementing rates is not convex: ``polish=True`` then tries the n per-agent maxima
        (n linear programs) and keeps the best, which costs more than the search itself on
        small games and is therefore opt-in.
    optimize_thresholds : bool
        Also move the interior thresholds (compass search on them, each trial an inner
        ``optimal_tax`` with a coarser scan).
    tol : float, optional
        Relative Nash-gap tolerance of the reported equilibrium.
        ``starts``, ``min_step``, ``tol`` (and the scan size when ``resolution`` is omitted)
        default to the game's :class:`~sedtheory.games.SearchHints`: 8, 1e-5 and 1e-9 for the
        commons; for a :class:`~sedtheory.games.dynamic.DynamicCommonsGame` (rates constant over
        the episode, welfare at the Markov perfect equilibrium from ``S_0``) a 16-policy scan, 2
        starts, steps down to 1e-3 and the game's tolerance 1e-4, since each evaluation is a
        backward induction.
    bound : bool
        Compute the first-best upper bound (a convex program; ``False`` skips it and
        reports ``inf``). For the dynamic commons: the tax-feasible dynamic first best
        (:func:`~sedtheory.principal.dynamic_first_best`) where it applies (concave regrowth,
        ``p <= 1``, unweighted objective), else ``inf`` with the reason.
    selection : {"optimistic", "pessimistic", "solver"}
        Which equilibrium counts where the rates induce several (DESIGN section 6): the best
        for ``M_p`` among all pure equilibria (default), the worst, or the solver's. The result
        says which (``selection``), how many equilibria the returned rates have
        (``equilibria_found``) and whether that list is complete (``equilibria_complete``).
    certify : bool
        Prove global optimality over the rate box, every equilibrium of every rate vector
        included: the branch and bound on the global commons' regimes
        (:func:`~sedtheory.principal.branch_bound.rate_box_bound`) and, where it does not close or
        apply, SCIP (bundled with PySCIPOpt) on the single-level reformulation
        (:mod:`sedtheory.principal.global_bound`), both starting from the searched design.
        Status ``"optimal"`` only when the bound meets the design's welfare within
        ``1e-6`` relative; otherwise ``"best-found"`` with that second-best bound and the gap.
        A better point the solver finds is verified exactly (every equilibrium, tie repair) and
        kept. Commons games only; not with ``optimize_thresholds``.
    time_limit : float
        Seconds for the global bound (``certify=True``; default 60): two thirds for the branch
        and bound, the rest for SCIP if it has not closed.
    progress : bool
        Show the search's stages on stderr (tqdm; off by default, on in ``sedtheory run``).
    start : array_like, optional
        Search from these rates instead of the scan (a warm start, e.g. the optimum of a
        weighted sample of the same economy); the compass's first step is ``start_step``.

    Returns
    -------
    TaxDesign

    Raises
    ------
    DomainError
        If no scanned policy gives utilities inside the p-mean's domain (e.g. ``p <= 0``
        with non-positive utilities): the message names the agents; raise ``omega``.

    Examples
    --------
    >>> from sedtheory import scenarios
    >>> game = scenarios.apple_picking()
    >>> design = optimal_tax(game, p=1)
    >>> design.equilibrium.relative_nash_gap <= 1e-9
    True
    >>> bool(design.welfare <= design.upper_bound)
    True
    """
    obj = as_objective(p, None if isinstance(p, Objective) and welfare_of == "utility" else welfare_of)
    space = BracketRates(bracket_tax_of(game).thresholds, bounds)
    if optimize_thresholds and certify:
        raise InvalidParameterError(
            "certify", certify, "the certificate covers rates at fixed thresholds; drop optimize_thresholds"
        )
    if optimize_thresholds:
        return _with_thresholds(
            game, obj, space.bounds, resolution, starts, min_step, polish, tol, bound, selection
        )
    design = optimal_policy(
        game,
        obj,
        space,
        resolution=resolution,
        starts=starts,
        min_step=min_step,
        tol=tol,
        polish=polish,
        bound=bound,
        selection=selection,
        certify=certify,
        time_limit=time_limit,
        progress=progress,
        start=start,
        start_step=start_step,
    )
    return TaxDesign.of(design)


def _with_thresholds(
    game: Any,
    obj: Objective,
    box: np.ndarray,
    resolution: int | None,
    starts: int | None,
    min_step: float | None,
    polish: bool | None,
    tol: float | None,
    bound: bool,
    selection: str,
) -> TaxDesign:
    """Compass search on the interior thresholds, each trial an inner optimal_tax."""
    tau = game.tax.thresholds.astype(float)
    inner_res = resolution or max(3, scan_points(tau.size, game.n) // 2 + 1)

    def design(thresholds: np.ndarray, final: bool = False) -> TaxDesign:
        g = game.with_policy(PiecewiseLinearTax(thresholds, game.tax.rates))
        return optimal_tax(
            g,
            obj,
            bounds=box,
            resolution=resolution if final else inner_res,
            starts=starts,
            min_step=min_step if final else max(1e-3, min_step or 0.0),
            polish=polish if final else False,
            tol=tol,
            bound=bound and final,
            selection=selection if final else "solver",
        )

    if tau.size < 2:  # no interior threshold to move
        return design(tau, final=True)
    best = design(tau)
    span = float(max(tau[-1], 1.0))
    step = 0.25 * span / tau.size
    current = tau.copy()
    trials = 0
    while step >= 1e-2 * span / tau.size:
        improved = False
        for j in range(1, tau.size):
            for sign in (1.0, -1.0):
                cand = current.copy()
                cand[j] += sign * step
                if not (cand[j] > cand[j - 1] and (j + 1 >= tau.size or cand[j] < cand[j + 1])):
                    continue
                trials += 1
                res = design(cand)
                if res.welfare > best.welfare + 1e-12 * max(1.0, abs(best.welfare)):
                    best, current, improved = res, cand, True
        if not improved:
            step *= 0.5
    out = design(current, final=True)
    details = dict(out.details)
    details["threshold_trials"] = trials
    note = f"; thresholds from a compass search ({trials} trials, local optimum)"
    argument = out.certificate.argument + note
    cert = type(out.certificate)(**{**out.certificate.__dict__, "argument": argument})
    return TaxDesign.of(
        out, method=out.method + " + compass search on the thresholds", certificate=cert, details=details
    )


def optimal_design(game: Any, objective: Any, space: Any = None, **options: Any) -> PolicyDesign:
    """The principal's optimum in ``game``: :func:`optimal_tax` for a game with a bracket tax and
    no ``space`` (its options: ``bounds``, ``optimize_thresholds``, ...), otherwise
    :func:`~sedtheory.principal.optimal_policy` over ``space`` (default: the game's own)."""
    obj = as_objective(objective)
    if space is None and isinstance(getattr(game, "policy", None), PiecewiseLinearTax):
        return optimal_tax(game, obj, **options)
    return optimal_policy(game, obj, default_space(game, space), **options)


_MOVED = frozenset({"upper_bound"})


def __getattr__(name: str) -> object:
    """Names that moved to sedtheory.principal.first_best stay importable from here (deprecated location)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module("sedtheory.principal.first_best"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
