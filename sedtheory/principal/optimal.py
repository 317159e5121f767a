r"""The principal's second best: the welfare-maximising bracket rates, with a certificate.

``optimal_tax`` maximises :math:`M_p(u(a^*(\phi), \phi))` over rates
:math:`\phi \in [\ell, h]^B \subseteq [0, 1]^B` (DESIGN.md section 6) in three stages:

1. **Scan.** Every rate vector of a grid (by default the seed's 0.1 grid or finer for
   ``B <= 4``) is solved at once by :func:`policy_equilibria` (vectorised exact equilibria,
   each certified by its exact Nash gap).
2. **Refine.** A compass (pattern) search from the best grid points: each round evaluates
   the ``2B`` neighbours at steps ``h/16, h/4, h, 2h`` of every start in one batch, moves to
   the best improvement (the step becomes the one that won) and divides ``h`` by 64
   otherwise, down to ``h_min``.
3. **Polish** (``p <= 1``). For the best outcome found, :func:`best_implementation` solves
   the convex program over all rates that implement that same outcome (utilities are
   affine in the rates, the implementing set is convex): no rates implementing it do better.

The certificate: the returned welfare is exact at a certified equilibrium (a lower bound
on the optimum); the tax-feasible first best is a proven upper bound; their difference is
the remaining gap. Every grid policy and every search point was evaluated exactly, so the
result is at least as good as each of them (in particular the seed's 1331-policy grid).
Equilibrium selection is optimistic where it matters: the outcome reported after the
polish is an equilibrium of the returned rates, verified with exact best responses.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sedtheory.equilibrium import Equilibrium, certify, solve_equilibrium
from sedtheory.errors import DomainError, InvalidParameterError, SedtheoryError
from sedtheory.game import CommonsGame
from sedtheory.principal.batch import policy_equilibria
from sedtheory.principal.first_best import first_best
from sedtheory.principal.implementation import ImplementationSolver, check_bounds
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.welfare import _check_p, _check_welfare_of, pmean

__all__ = ["TaxDesign", "optimal_tax", "scan_points", "upper_bound"]


@dataclass(frozen=True)
class TaxDesign:
    """The principal's optimal bracket tax for one p, with its certificate.

    Attributes
    ----------
    rates : numpy.ndarray
    tax : PiecewiseLinearTax
    equilibrium : Equilibrium
        Certified equilibrium of the induced game (exact Nash gap).
    welfare : float
        ``M_p`` of the equilibrium's utilities (or payoffs): a lower bound on the optimum.
    upper_bound : float
        A proven upper bound on every tax policy's welfare (the first best).
    p : float
    method, status, certificate : str
        ``status`` is ``"optimal"`` when the bound is attained (gap <= 1e-6 relative) and
        ``"best-found"`` otherwise; ``certificate`` says how each bound was established.
    welfare_of : str
    evaluations : int
        Policies whose equilibrium was computed.
    details : dict
        Scan size and best grid welfare, polish status, bound sources, timings.
    """

    rates: np.ndarray
    tax: PiecewiseLinearTax
    equilibrium: Equilibrium
    welfare: float
    upper_bound: float
    p: float
    method: str
    status: str
    certificate: str
    welfare_of: str
    evaluations: int
    details: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def gap(self) -> float:
        """``upper_bound - welfare``: how far from the first best the policy can be at most."""
        return float(self.upper_bound - self.welfare)

    @property
    def relative_gap(self) -> float:
        return self.gap / max(1.0, abs(self.upper_bound))


def scan_points(bk: int, n: int, resolution: int | None = None) -> int:
    """Grid points per bracket: the seed's 0.1 grid (11) or finer for small B, fewer for large n."""
    if resolution is not None:
        if int(resolution) < 2:
            raise InvalidParameterError("resolution", resolution, "give at least 2 points per bracket")
        return int(resolution)
    default = {1: 1001, 2: 101, 3: 11, 4: 11}.get(bk, 5)
    budget = 2e6 if n <= 20 else 3e5  # agent-policy pairs in the scan
    fit = int(math.floor((budget / max(n, 1)) ** (1.0 / bk)))
    return max(3, min(default, fit))


def _grid(lo: np.ndarray, hi: np.ndarray, points: int) -> np.ndarray:
    axes = [np.linspace(a, b, points) if b > a else np.array([a]) for a, b in zip(lo, hi, strict=True)]
    return np.array(list(itertools.product(*axes)), dtype=float)


def upper_bound(game: CommonsGame, p: float, welfare_of: str = "utility") -> tuple[float, str]:
    """The tightest available proven upper bound on every tax policy's ``M_p`` and its source."""
    pf = _check_p(p)
    bounds: list[tuple[float, str]] = []
    if pf <= 1 or pf == math.inf or game.n <= 50:
        fb = first_best(game, pf, transfers="tax-feasible", welfare_of=welfare_of)  # type: ignore[arg-type]
        bounds.append((fb.upper_bound, f"first best with tax-feasible transfers ({fb.status}, {fb.method})"))
    try:
        fb_ls = first_best(game, pf, transfers="lump-sum", welfare_of=welfare_of)  # type: ignore[arg-type]
        bounds.append((fb_ls.upper_bound, f"first best with lump-sum transfers ({fb_ls.status})"))
    except SedtheoryError as exc:  # singular W for the exact p > 1 method: the other bound stands
        bounds.append((math.inf, f"lump-sum first best unavailable: {exc}"))
    return min(bounds, key=lambda b: b[0])


def _starts(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, points: int, count: int) -> np.ndarray:
    """The best grid points that are local maxima of the scan (one per basin), best first.

    Top-k points of a grid cluster in one basin; local maxima over the axis neighbours spread
    the compass search over the basins the scan saw.
    """
    shape = tuple(points if b > a else 1 for a, b in zip(lo, hi, strict=True))
    grid_w = np.where(np.isfinite(w), w, -np.inf).reshape(shape)
    peak = np.isfinite(grid_w)
    for axis in range(grid_w.ndim):
        if grid_w.shape[axis] < 2:
            continue
        pad = [(0, 0)] * grid_w.ndim
        pad[axis] = (1, 1)
        padded = np.pad(grid_w, pad, constant_values=-np.inf)
        before = np.take(padded, np.arange(0, grid_w.shape[axis]), axis=axis)
        after = np.take(padded, np.arange(2, grid_w.shape[axis] + 2), axis=axis)
        peak &= (grid_w >= before) & (grid_w >= after)
    flat = np.flatnonzero(peak.ravel())
    flat = flat[np.argsort(-w[flat])][:count]
    if flat.size == 0:
        flat = np.argsort(-w)[:1]
    return flat


_MULTIPLES = np.array([1.0 / 16.0, 0.25, 1.0, 2.0])


def _compass(
    game: CommonsGame,
    p: float,
    welfare_of: str,
    starts: np.ndarray,
    values: np.ndarray,
    actions: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    step: float,
    min_step: float,
    max_rounds: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Batched compass search from several starts: (points, values, equilibria, evaluations, rounds).

    Each round tries every coordinate direction at the multiples ``_MULTIPLES`` of the current
    step of every live start in one batch: the best improving trial is taken and the step
    becomes the multiple used (capped at ``step``); when nothing improves the step shrinks
    below the smallest multiple tried. One batch thus does the work of several rounds of the
    textbook compass search (whose step only halves or quarters) at nearly the same cost.
    """
    bk = lo.size
    free = hi > lo
    dirs = np.concatenate([np.eye(bk)[free], -np.eye(bk)[free]])
    if dirs.size == 0:
        return starts, values, actions, 0, 0
    moves = (_MULTIPLES[:, None, None] * dirs[None, :, :]).reshape(-1, bk)
    mult = np.repeat(_MULTIPLES, dirs.shape[0])
    x, v, acts = starts.copy(), values.copy(), actions.copy()
    h = np.full(x.shape[0], step)
    evaluations = rounds = 0
    while rounds < max_rounds:
        live = np.flatnonzero(h >= min_step)
        if live.size == 0:
            break
        rounds += 1
        trial = (x[live, None, :] + h[live, None, None] * moves[None, :, :]).reshape(-1, bk)
        trial = np.clip(trial, lo, hi)
        batch = policy_equilibria(game, trial)
        evaluations += trial.shape[0]
        w = batch.welfare(p, welfare_of).reshape(live.size, moves.shape[0])
        best = np.argmax(w, axis=1)
        gain = w[np.arange(live.size), best]
        better = gain > v[live] + 1e-13 * np.maximum(1.0, np.abs(v[live]))
        moved = live[better]
        x[moved] = trial.reshape(live.size, moves.shape[0], bk)[better, best[better]]
        acts[moved] = batch.actions.reshape(live.size, moves.shape[0], -1)[better, best[better]]
        v[moved] = gain[better]
        h[moved] = np.minimum(h[moved] * mult[best[better]], step)
        h[live[~better]] *= 0.25 * _MULTIPLES[0]
    return x, v, acts, evaluations, rounds


def optimal_tax(
    game: CommonsGame,
    p: float,
    *,
    bounds: tuple[float, float] | npt.ArrayLike = (0.0, 1.0),
    welfare_of: Literal["utility", "payoff"] = "utility",
    resolution: int | None = None,
    starts: int = 8,
    min_step: float = 1e-5,
    polish: bool | None = None,
    optimize_thresholds: bool = False,
    tol: float = 1e-9,
    bound: bool = True,
) -> TaxDesign:
    r"""The welfare-maximising bracket rates for ``M_p`` and how optimality was established.

    Parameters
    ----------
    game : CommonsGame
        Its thresholds are kept (unless ``optimize_thresholds``); its rates are ignored.
    p : float
        The objective's p, in ``[-inf, +inf]``.
    bounds : (low, high) or array (2, B)
        Box for the rates, inside [0, 1] (typed error otherwise).
    welfare_of : {"utility", "payoff"}
    resolution : int, optional
        Grid points per bracket for the scan (default :func:`scan_points`: 1001 / 101 / 11 / 11
        for B = 1..4, fewer for large n; each contains the seed's 0.1 grid).
    starts : int
        At most this many compass searches, from the best local maxima of the scan.
    min_step : float
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
    tol : float
        Relative Nash-gap tolerance of the reported equilibrium.
    bound : bool
        Compute the first-best upper bound (a convex program; ``False`` skips it and
        reports ``inf``).

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
    t0 = time.perf_counter()
    pf = _check_p(p)
    _check_welfare_of(welfare_of)
    lo, hi = check_bounds(game, bounds)
    if optimize_thresholds:
        return _with_thresholds(
            game, pf, lo, hi, welfare_of, resolution, starts, min_step, polish, tol, bound
        )
    points = scan_points(game.tax.n_brackets, game.n, resolution)
    grid = _grid(lo, hi, points)
    scan = policy_equilibria(game, grid, tol=tol)
    w = scan.welfare(pf, welfare_of)
    if not np.any(np.isfinite(w)):
        values = scan.utilities[0] if welfare_of == "utility" else scan.payoffs[0]
        pmean(values, pf)  # raises the DomainError naming the agents
        raise DomainError("p", pf, "no scanned policy gives values inside the p-mean's domain")
    order = np.argsort(-w)
    # Local maxima of the scan (one per basin it resolved) and the best points overall (a basin
    # narrower than the grid spacing shows up as a high point that is not a grid peak).
    peaks = _starts(w, lo, hi, points, max(1, starts))
    top = order[: max(1, starts)]
    chosen = np.unique(np.concatenate([peaks, top[np.isfinite(w[top])]]))
    spacing = float(np.max((hi - lo) / max(points - 1, 1))) if np.any(hi > lo) else 0.0
    x, v, acts, evals, rounds = _compass(
        game, pf, welfare_of, grid[chosen], w[chosen], scan.actions[chosen], lo, hi,
        0.5 * spacing, min_step, 200,
    )
    t_search = time.perf_counter() - t0
    best = int(np.argmax(v))
    rates, welfare_value = x[best], float(v[best])
    target = acts[best]
    details: dict[str, Any] = {
        "scan_points_per_bracket": points,
        "scan_size": int(grid.shape[0]),
        "scan_best_welfare": float(w[order[0]]),
        "scan_best_rates": grid[order[0]].copy(),
        "compass_rounds": rounds,
        "compass_evaluations": evals,
        "search_seconds": t_search,
    }
    method = f"batched scan ({points}^{game.tax.n_brackets} grid) + compass search (step >= {min_step:g})"
    polished = proven_outcome = False
    if polish is None:
        polish = game.n <= 200 and pf <= 1
    if not polish:
        details["polish"] = "skipped (polish=False, or the default for n > 200 or p > 1)"
    if polish:
        try:
            impl = ImplementationSolver(game, pf, np.vstack([lo, hi]), welfare_of)(target)
        except SedtheoryError as exc:
            details["polish"] = f"skipped: {exc}"
        else:
            details["polish"] = f"{impl.method}: {impl.status} ({impl.solver})"
            proven_outcome = impl.status == "optimal"
            scale = max(1.0, abs(welfare_value))
            if impl.welfare > welfare_value + 1e-12 * scale and impl.nash_gap <= tol * max(
                1.0, float(np.abs(impl.utilities).max())
            ):
                rates, welfare_value, polished = impl.rates, impl.welfare, True
                method += " + convex best implementation of the outcome (cvxpy)"
    g_final = game.with_tax(game.tax.with_rates(rates))
    eq = certify(
        g_final,
        target,
        method="batched aggregate root" if not polished else "implemented target",
        tol=tol,
        certificate="exact best responses of every agent under the returned rates",
    )
    if not eq.converged:  # defensive: fall back to the scalar solver's certified equilibrium
        eq = solve_equilibrium(g_final, tol=tol)
    values = eq.utilities if welfare_of == "utility" else eq.payoffs
    welfare_value = pmean(values, pf)
    evaluations = int(grid.shape[0] + evals + 1)
    if bound:
        ub, source = upper_bound(game, pf, welfare_of)
    else:
        ub, source = math.inf, "not computed (bound=False)"
    ub = max(ub, welfare_value)  # the solver's tolerance must not put the bound below a real policy
    attained = math.isfinite(ub) and ub - welfare_value <= 1e-6 * max(1.0, abs(ub))
    status = "optimal" if attained else "best-found"
    certificate = (
        f"lower bound {welfare_value:.10g}: M_{pf:g} at an equilibrium with exact Nash gap "
        f"{eq.nash_gap:.2e}; upper bound {ub:.10g}: {source}; remaining gap {ub - welfare_value:.4g}. "
        f"At least as good as all {grid.shape[0]} scanned policies "
        f"(best {details['scan_best_welfare']:.10g}) "
        f"and {evals} compass points"
        + ("; no rates implementing the final outcome do better (convex program)" if proven_outcome else "")
    )
    details.update({"bound_source": source, "seconds": time.perf_counter() - t0, "polished": polished})
    return TaxDesign(
        rates=np.array(rates, dtype=float),
        tax=g_final.tax,
        equilibrium=eq,
        welfare=welfare_value,
        upper_bound=ub,
        p=pf,
        method=method,
        status=status,
        certificate=certificate,
        welfare_of=welfare_of,
        evaluations=evaluations,
        details=details,
    )


def _with_thresholds(
    game: CommonsGame,
    pf: float,
    lo: np.ndarray,
    hi: np.ndarray,
    welfare_of: Any,
    resolution: int | None,
    starts: int,
    min_step: float,
    polish: bool | None,
    tol: float,
    bound: bool,
) -> TaxDesign:
    """Compass search on the interior thresholds, each trial an inner optimal_tax."""
    tau = game.tax.thresholds.astype(float)
    inner_res = resolution or max(3, scan_points(tau.size, game.n) // 2 + 1)

    def design(thresholds: np.ndarray, final: bool = False) -> TaxDesign:
        g = game.with_tax(PiecewiseLinearTax(thresholds, game.tax.rates))
        return optimal_tax(
            g,
            pf,
            bounds=np.vstack([lo, hi]),
            welfare_of=welfare_of,
            resolution=resolution if final else inner_res,
            starts=starts,
            min_step=min_step if final else 1e-3,
            polish=polish if final else False,
            tol=tol,
            bound=bound and final,
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
    return TaxDesign(
        out.rates,
        out.tax,
        out.equilibrium,
        out.welfare,
        out.upper_bound,
        out.p,
        out.method + " + compass search on the thresholds",
        out.status,
        out.certificate + f"; thresholds from a compass search ({trials} trials, local optimum)",
        out.welfare_of,
        out.evaluations,
        details,
    )
