r"""Every pure equilibrium of the global commons, by an exact 1-D analysis of the aggregate.

Agent i's own payoff, given the others' total :math:`R = A_{-i}`, is concave on each of its
*segments* (runs of tax pieces joined by concave kinks; see
:mod:`sedtheory.equilibrium.segments`). With strategic substitutes (the cross partial
:math:`-s_i\kappa/n \le 0`), the advantage :math:`v_{j'}(R) - v_j(R)` of a higher segment
:math:`j' > j` (the best value on it minus the best on :math:`j`) is non-increasing in ``R``, so
segment j holds a global best reply exactly on an interval :math:`[\underline r_{ij}, \bar r_{ij}]`
of ``R`` (crossings found by bisection to the last float). On a segment the backward reply
:math:`x_{ij}(A)` (the reply consistent with the total ``A``) is unique and non-increasing, so
:math:`A - x_{ij}(A)` is increasing and the interval maps to an interval of totals ``A``.

Between consecutive interval ends, each agent has a fixed set of valid segments (one, or two
where its backward reply correspondence is multi-valued - that is where several equilibria
come from). For each combination of valid segments the equation
:math:`\sum_i x_{i s_i}(A) = A` is strictly decreasing, so its root is unique: it is solved
exactly (the restricted concave potential game) and kept if it lies in the interval, which the
exact Nash gap of the profile confirms. Every equilibrium has its total in some interval (or at
an end point, checked on its own) with every agent on a valid segment, so the enumeration is
complete unless the number of combinations at one place exceeds ``max_combinations`` or some
agents' best replies are not unique (flat own payoffs, agents who care about nobody): the result
says so.

Examples
--------
>>> import sedtheory as sed
>>> game = sed.CommonsGame(sed.Society([0.05, 0.05, 1.0], 10.0), sed.PiecewiseLinearTax([0, 4], [0.0, 0.9]),
...                        damage=0.05, endowment=20.0)
>>> found = equilibria(game)
>>> found.complete, found.count >= 1, bool(found.gaps.max() <= 1e-8)
(True, True, True)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from sedtheory.equilibrium.batch import equilibrium_windows
from sedtheory.equilibrium.global_commons import (
    reply_caps,
    restricted_equilibrium,
    segment_replies,
    segment_structure,
)
from sedtheory.equilibrium.regimes import intercept_map, polish, regime_candidates
from sedtheory.equilibrium.result import relative_gap_scale
from sedtheory.games import AggregativeGame, CommonsGame
from sedtheory.welfare import pmean

__all__ = ["EquilibriumSet", "equilibria"]


@dataclass(frozen=True)
class EquilibriumSet:
    """Pure equilibria of one game.

    Attributes
    ----------
    actions : numpy.ndarray
        ``(m, n)``, one equilibrium per row, by increasing total action (``(m, *strategy_shape)``
        for games whose strategies are not one action per agent).
    gaps : numpy.ndarray
        ``(m,)``: each profile's exact Nash gap.
    utilities : numpy.ndarray
        ``(m, n)``.
    complete : bool
        True only when the enumeration is proven complete (see the module notes). With
        population masses the enumeration covers the equilibria in which the members of each
        agent act alike.
    method : str
    note : str
        Why the enumeration is (or is not) complete.
    weights : numpy.ndarray or None
        The game's p-mean weights (population shares :math:`m_i/N`; ``None``: equal weights),
        used by :meth:`welfare` and :meth:`select`.
    """

    actions: np.ndarray
    gaps: np.ndarray
    utilities: np.ndarray
    complete: bool
    method: str
    note: str
    weights: np.ndarray | None = None

    @property
    def count(self) -> int:
        """Number of equilibria found."""
        return int(self.actions.shape[0])

    @property
    def aggregates(self) -> np.ndarray:
        """Total action of each equilibrium (summed over every axis of a strategy)."""
        return self.actions.reshape(self.actions.shape[0], -1).sum(axis=1)  # type: ignore[no-any-return]

    def index_of(self, profile: np.ndarray) -> int | None:
        """Row of the listed equilibrium ``profile`` is (to the merge tolerance of the
        enumeration: 1e-6 relative), or None."""
        rows = [r for r, a in enumerate(self.actions) if _near(np.asarray(profile, dtype=float), a)]
        return rows[0] if rows else None

    def welfare(self, p: float) -> np.ndarray:
        """:math:`M_p` of each equilibrium's utilities."""
        return np.array([pmean(u, p, self.weights) for u in self.utilities])

    def select(self, p: float, selection: str = "optimistic") -> int:
        """Row of the best (``"optimistic"``) or worst (``"pessimistic"``) equilibrium for
        :math:`M_p`; ties go to the first row."""
        values = self.welfare(p)
        return int(np.argmax(values) if selection == "optimistic" else np.argmin(values))


def _segment_values(
    game: CommonsGame, idx: np.ndarray, seg_of: np.ndarray, upper: np.ndarray, r: np.ndarray
) -> np.ndarray:
    """Best own payoff (up to constants) of agents ``idx`` on each of their segments ``(q, S)``
    when the others take ``r`` in total (``-inf`` on segments an agent does not have)."""
    lo, hi, rate, base = game.tax_pieces
    sigma = game.society.selfishness[idx]
    alpha = sigma - game.own_damage_curvature[idx] * r
    beta, k, up = game.own_curvature[idx], game.own_tax_weight[idx], upper[idx]
    n_seg = int(seg_of[idx].max()) + 1
    out = np.full((idx.size, n_seg), -np.inf)
    for p in range(lo.size):
        a, b = np.minimum(lo[p], up), np.minimum(hi[p], up)
        x = np.clip((alpha - k * rate[p]) / beta, a, b)
        v = alpha * x - k * (base[p] + rate[p] * (x - lo[p])) - 0.5 * beta * x * x
        v = np.where((lo[p] < up) | (p == 0), v, -np.inf)
        seg = seg_of[idx, p]
        rows = np.arange(idx.size)
        out[rows, seg] = np.maximum(out[rows, seg], v)
    return out


def _crossings(
    game: CommonsGame, idx: np.ndarray, seg_of: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each agent of ``idx`` and segment j: the interval of the others' total ``R`` on which
    segment j holds a global best reply, ``(r_lo, r_hi)`` of shape ``(q, S)`` (empty: lo > hi)."""
    r_max = float(game.kernel.total(upper)) - upper[idx]
    n_seg = int(seg_of[idx].max()) + 1
    r_lo, r_hi = np.zeros((idx.size, n_seg)), np.tile(r_max[:, None], (1, n_seg))
    for j, jj in itertools.combinations(range(n_seg), 2):

        def ahead(r: np.ndarray, j: int = j, jj: int = jj) -> np.ndarray:
            v = _segment_values(game, idx, seg_of, upper, r)
            return v[:, jj] > v[:, j]  # type: ignore[no-any-return]

        lo, hi = np.zeros(idx.size), r_max.copy()
        at_lo, at_hi = ahead(lo), ahead(hi)
        scale = float(np.max(r_max, initial=1.0))
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _converged(lo, hi, scale):
                break
            up = ahead(mid)
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        t = np.where(~at_lo, 0.0, np.where(at_hi, np.inf, hi))  # segment jj ahead below t
        r_lo[:, j] = np.maximum(r_lo[:, j], t)
        r_hi[:, jj] = np.minimum(r_hi[:, jj], t)
    return r_lo, r_hi


def _converged(lo: np.ndarray, hi: np.ndarray, scale: float) -> bool:
    """Every bracket is down to a few ulps of the problem's scale (a crossing at 0 would
    otherwise halve through the subnormals)."""
    return bool(np.all(hi - lo <= 4.0 * np.finfo(float).eps * np.maximum(np.abs(hi), scale)))


def _to_totals(models: list, r: np.ndarray) -> np.ndarray:
    """The totals ``A`` with ``A - x_ij(A) = r[i, j]`` (each increasing in ``A``), ``(q, S)``."""
    out = np.full(r.shape, np.inf)
    for j, model in enumerate(models):
        target = r[:, j]
        finite = np.isfinite(target)
        lo = np.where(finite, target + model.lower, 0.0)
        hi = np.where(finite, target + model.upper, 0.0)
        scale = float(np.max(hi, initial=1.0))
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _converged(lo, hi, scale):
                break
            above = mid - model.replies(mid)[0] < target  # the root lies above mid
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        out[:, j] = np.where(finite, hi, np.inf)
    return out


def _places(a_lo: np.ndarray, a_hi: np.ndarray, window: tuple[float, float]) -> list[tuple[float, float]]:
    """The places to examine: every interval end ``(p, p)`` and every open interval ``(p, p')``
    between consecutive ends, within ``window`` (where every equilibrium total lies)."""
    first, last = window
    ends = np.concatenate([a_lo[np.isfinite(a_lo)], a_hi[np.isfinite(a_hi)], [first, last]])
    ends = np.unique(np.clip(ends, first, last))
    out = [(float(p), float(p)) for p in ends]
    out += [(float(a), float(b)) for a, b in zip(ends[:-1], ends[1:], strict=True)]
    return out


def _combinations(valid: np.ndarray, limit: int) -> np.ndarray | None:
    """Every choice of one valid segment per agent ``(C, q)``, or None beyond ``limit``."""
    options = [np.flatnonzero(row) for row in valid]
    size = 1
    for o in options:
        size *= o.size
        if size > limit:
            return None
    if size == 0:
        return np.zeros((0, valid.shape[0]), dtype=np.int64)
    return np.array(list(itertools.product(*options)), dtype=np.int64).reshape(size, valid.shape[0])


def _candidates(
    game: CommonsGame,
    seg_of: np.ndarray,
    n_segs: np.ndarray,
    upper: np.ndarray,
    limit: int,
    window: tuple[float, float],
) -> tuple[list[np.ndarray], bool]:
    """Segment assignments (n,) whose restricted equilibrium may be an equilibrium, and whether
    every place stayed within ``limit`` combinations."""
    idx = np.flatnonzero(n_segs > 1)
    r_lo, r_hi = _crossings(game, idx, seg_of, upper)
    n_seg = r_lo.shape[1]
    models = [segment_replies(game, seg_of, np.minimum(j, n_segs[idx] - 1), upper, idx) for j in range(n_seg)]
    has = np.arange(n_seg)[None, :] < n_segs[idx][:, None]
    ok = has & (r_lo <= r_hi)
    a_lo, a_hi = _to_totals(models, r_lo), _to_totals(models, r_hi)
    a_lo, a_hi = np.where(ok, a_lo, np.nan), np.where(ok, a_hi, np.nan)
    concave = np.flatnonzero(n_segs == 1)
    mass = game.kernel.mass
    base = segment_replies(game, seg_of, np.zeros(concave.size, dtype=np.int64), upper, concave)
    within, seen, out = True, set(), []
    for first, last in _places(a_lo, a_hi, window):
        mid = 0.5 * (first + last)
        near = 16.0 * np.finfo(float).eps * max(1.0, mid)  # ends found by separate bisections
        valid = ok & (a_lo - near <= mid) & (mid <= a_hi + near)
        combos = _combinations(valid, limit)
        if combos is None:
            within = False
            continue
        if combos.shape[0] > 1:  # keep the combinations whose root can lie in [first, last]

            def residual(z: float, side: int, combos: np.ndarray = combos) -> np.ndarray:
                x = np.stack([m.replies(z)[side] for m in models], axis=1)  # (q, S)
                if mass is not None:
                    x = x * mass[idx, None]
                own = base.replies(z)[side]
                rest = own.sum() if mass is None else own @ mass[concave]
                return rest + x[np.arange(idx.size), combos].sum(axis=1) - z

            slack = 1e-9 * max(1.0, last)  # largest replies at the left end, smallest at the right
            step = 16.0 * np.finfo(float).eps * max(1.0, last)  # ends found by bisection
            combos = combos[(residual(first - step, 1) >= -slack) & (residual(last + step, 0) <= slack)]
        for combo in combos:
            key = combo.tobytes()
            if key not in seen:
                seen.add(key)
                seg = np.zeros(game.n, dtype=np.int64)
                seg[idx] = combo
                out.append(seg)
    return out, within


def equilibria(
    game: Any,
    tol: float = 1e-12,
    max_combinations: int = 4096,
    max_regimes: int = 200_000,
    *,
    known: np.ndarray | None = None,
    window: tuple[float, float] | None = None,
) -> EquilibriumSet:
    """Every pure Nash equilibrium of a commons game, with ``complete=True`` only when the
    enumeration is proven complete.

    Parameters
    ----------
    game : Game
        The global commons is enumerated on the aggregate (any ``n``; see the module notes); the
        local commons regime by regime (:mod:`sedtheory.equilibrium.regimes`, small ``n``); any
        other game gets the solver's equilibrium with ``complete=False``.
    tol : float
        Relative Nash gap below which a profile counts as an equilibrium (the gap is exact, and
        every candidate is the exact solution of its regime, so a larger tolerance only admits
        near-equilibria of very flat payoffs, not more equilibria).
    max_combinations : int
        Global commons: largest number of segment combinations examined at one total (many
        agents with a multi-valued backward reply there); beyond it the result is incomplete.
    max_regimes : int
        Local commons: largest number of regime combinations; beyond it the result is incomplete.
    known : numpy.ndarray, optional
        An equilibrium already computed (e.g. by a batched solver); it is included, and the
        solver is not run again (default: :func:`~sedtheory.solve_equilibrium`'s is included).
    window : (float, float), optional
        Global commons: the totals of the smallest and the largest consistent replies'
        equilibria, when the caller has them (e.g. from
        :func:`~sedtheory.equilibrium.batch.equilibrium_windows`); every equilibrium total lies
        in between. Default: computed here (and when they coincide the equilibrium is unique).

    Returns
    -------
    EquilibriumSet
        Equilibria by increasing total action, each with its exact Nash gap.
    """
    from sedtheory.equilibrium.solve import solve_equilibrium  # the solver's own pick, always included

    own = (
        _Known(np.asarray(known, dtype=float))
        if known is not None
        else solve_equilibrium(game, raise_on_failure=False)
    )
    if not isinstance(game, AggregativeGame):
        note = "no enumeration for this game: the solver's equilibrium only"
        return _collect(game, [own.actions], tol, False, "solver", note)
    game = cast(CommonsGame, game)  # the aggregative commons (global or local)
    if not game.uses_global_formulas:
        return _local(game, own, tol, max_regimes)
    seg_of, n_segs, _ = segment_structure(game)
    upper = reply_caps(game)
    idle = (game.own_curvature == 0) & (upper > 0)
    if np.any(idle):
        note = (
            f"agents {np.flatnonzero(idle)[:10].tolist()} have flat own payoffs (best replies are "
            "intervals), so equilibria form a continuum; the solver's equilibrium is returned"
        )
        return _collect(game, [own.actions], tol, False, "solver", note)
    if not np.any(n_segs > 1):
        found = _collect(game, [own.actions], tol, True, "aggregate-root", "")
        proof = "every own payoff is concave, so the aggregate equation has one root"
        notes: list[str] = []
    elif (roots := _window(game) if window is None else (*window, False))[2]:
        found = _collect(game, [own.actions], tol, True, "selection-roots", "")
        proof = (
            "the smallest and the largest consistent replies give the same equilibrium total, with "
            "single-valued replies there, so the equilibrium is unique"
        )
        notes = []
    else:
        slack = 1e-9 * max(1.0, roots[1])
        window = (max(0.0, roots[0] - slack), min(float(game.kernel.total(upper)), roots[1] + slack))
        assignments, within = _candidates(game, seg_of, n_segs, upper, max_combinations, window)
        profiles = [restricted_equilibrium(game, seg_of, seg, upper).actions for seg in assignments]
        found = _collect(game, [*profiles, own.actions], tol, within, "segment-enumeration", "")
        proof = "every total examined with every combination of valid segments"
        notes = [] if within else [f"more than {max_combinations} segment combinations at one total"]
    pinned = _pinned(game, found.actions, upper)
    if pinned >= 2:
        notes.append(
            f"{pinned} agents without private effort cost (or with selfishness 0) sit strictly inside a "
            "tax bracket (or on a kink beside one) at one equilibrium: their actions can trade off at "
            "the same total, a continuum of equilibria of which one is listed"
        )
    return _finish(game, found, own, notes, proof)


def _window(game: CommonsGame) -> tuple[float, float, bool]:
    """The totals of the smallest and largest consistent replies' equilibria and the uniqueness
    proof, by the batched computation the principal's selections use (one row)."""
    win = equilibrium_windows(game, game.tax.rates[None])
    return float(win.low[0]), float(win.high[0]), bool(win.unique[0])


@dataclass(frozen=True)
class _Known:
    """An equilibrium handed in by the caller (certified again by :func:`_collect`)."""

    actions: np.ndarray
    converged: bool = True


def _local(game: Any, own: Any, tol: float, max_regimes: int) -> EquilibriumSet:
    """The local commons, regime by regime."""
    out = regime_candidates(game, max_regimes)
    if out is None:
        note = f"more than {max_regimes} regime combinations: the solver's equilibrium only"
        return _collect(game, [own.actions], tol, False, "solver", note)
    candidates, why = out
    found = _collect(game, [*candidates, own.actions], tol, True, "regime-enumeration", "")
    return _finish(game, found, own, [why] if why else [], "every regime combination solved")


def _finish(game: Any, found: EquilibriumSet, own: Any, notes: list[str], proof: str) -> EquilibriumSet:
    """The set with its completeness: no caveat, and the solver's own equilibrium among those found."""
    mine = [
        np.asarray(own.actions, dtype=float),
        *(_polished(game, [own.actions]) or []),
    ]  # exact in its regime
    missed = not any(_near(b, a) for a in found.actions for b in mine)
    if missed:
        notes.append("the solver's equilibrium was not among the enumerated ones")
    complete = found.complete and not notes and own.converged
    note = (
        f"complete: {proof}"
        if complete
        else "incomplete: " + "; ".join(notes or ["the solver did not converge"])
    )
    return replace(found, complete=complete, note=note)


def _pinned(game: CommonsGame, actions: np.ndarray, upper: np.ndarray) -> int:
    """The largest number, over the profiles, of agents whose own first-order condition pins the
    total only (:math:`\\sigma_i/\\theta_i = 0`) and who sit inside a tax piece or on a kink
    between two (from a kink the agent can move into the piece beside it: with another such
    agent inside that piece, the two trade off at the same total - measured: two selfishness-0
    agents at (2.43, 2.0) and (2.21, 2.21), both equilibria)."""
    soc = game.society
    level = np.flatnonzero((soc.selfishness / soc.productivity == 0) & (upper > 0))
    if level.size < 2 or actions.shape[0] == 0:
        return 0
    lo, hi, _, _ = game.tax_pieces
    x = actions[:, level, None]
    eps = 1e-9 * np.maximum(1.0, x)
    top = np.minimum(hi, upper[level][:, None])
    inside = (x > lo + eps) & (x < top - eps)
    kink = (np.abs(x - lo) <= eps) & (lo > 0) & (lo < top)  # the lower end of an inner piece
    return int((inside | kink).any(axis=-1).sum(axis=1).max())


def _near(a: np.ndarray, b: np.ndarray) -> bool:
    """Two certified profiles this close are one equilibrium found twice (a root located to the
    solvers' tolerance next to the exact one; distinct equilibria differ by far more)."""
    return bool(np.max(np.abs(a - b)) <= _MERGE * (1.0 + float(np.max(np.abs(b)))))


#: Relative distance below which two certified profiles are merged (the more exact one is kept).
_MERGE = 1e-6


def _polished(game: Any, profiles: list[np.ndarray]) -> list[np.ndarray] | None:
    """The exact solution of each profile's regime (small commons games; see
    :func:`~sedtheory.equilibrium.regimes.polish`), which may certify with a smaller gap; None
    where there is no polish. The intercept map is read off the game once for all profiles."""
    if not isinstance(game, AggregativeGame) or game.n > _POLISH_MAX_N or not profiles:
        return None
    commons = cast(CommonsGame, game)
    affine = intercept_map(commons)
    return [polish(commons, np.asarray(a, dtype=float), affine=affine) for a in profiles]


#: Largest ``n`` for the dense regime polish.
_POLISH_MAX_N = 500


def _collect(
    game: Any, profiles: list[np.ndarray], tol: float, complete: bool, method: str, note: str
) -> EquilibriumSet:
    """The distinct profiles whose exact relative Nash gap is within ``tol``, by total action
    (of two near-identical profiles the one with the smaller gap is kept)."""
    scored = []
    exact = _polished(game, profiles)
    for r, a in enumerate(profiles):  # each profile, or the exact solution of its regime where better
        candidates = [np.asarray(a, dtype=float)] + ([] if exact is None else [exact[r]])
        versions = [(float(np.max(game.deviation_gains(b))), b) for b in candidates]
        gap, best = min(versions, key=lambda item: item[0])
        u = np.asarray(game.utilities(best), dtype=float)
        if gap <= tol * relative_gap_scale(u):
            scored.append((gap, best, u))
    scored.sort(key=lambda item: item[0])
    kept: list[tuple[float, np.ndarray, np.ndarray]] = []
    for gap, a, u in scored:
        if not any(_near(a, b) for _, b, _ in kept):
            kept.append((gap, a, u))
    n = game.n
    shape = np.shape(profiles[0]) if profiles else (n,)
    actions = np.array([a for _, a, _ in kept]).reshape((-1, *shape))
    order = np.argsort(actions.reshape(actions.shape[0], int(np.prod(shape))).sum(axis=1), kind="stable")
    return EquilibriumSet(
        actions[order],
        np.array([g for g, _, _ in kept])[order],
        np.array([u for _, _, u in kept]).reshape(-1, n)[order],
        complete,
        method,
        note,
        getattr(game, "welfare_weights", None),
    )
