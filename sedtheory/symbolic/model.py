"""The commons game's primitives as sympy expressions in the model's symbols.

The expressions come from :mod:`sedtheory.games.commons.formulas`, the same functions the numeric
kernel evaluates, applied to sympy symbols.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import sympy as sp

from sedtheory.errors import InvalidParameterError
from sedtheory.games import CommonsGame
from sedtheory.games.commons import formulas as F
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax, to_rational

__all__ = ["SymbolicModel", "GROUPS"]

#: Parameter groups that can be made numeric with ``numeric=...``.
GROUPS = ("sigma", "theta", "kappa", "omega", "n", "phi", "tau", "a_max")


class SymbolicModel:
    """Symbols of a concrete game, their values, and the symbolic primitives.

    Parameters
    ----------
    game : CommonsGame
    numeric : iterable of str
        Parameter groups (``"sigma"``, ``"theta"``, ``"kappa"``, ``"omega"``, ``"n"``, ``"phi"``,
        ``"tau"``, ``"a_max"``) or single symbol names (``"sigma_2"``) to insert as exact
        rationals instead of symbols (keeps expressions small).
    """

    def __init__(self, game: CommonsGame, numeric: Iterable[str] = ()) -> None:
        numeric = set(numeric)
        unknown = {x for x in numeric if x.split("_")[0] not in GROUPS and x not in GROUPS}
        if unknown:
            raise InvalidParameterError("numeric", sorted(unknown), f"use groups {GROUPS} or symbol names")
        self.game = game
        soc, tax = game.society, game.tax
        n, nb = game.n, tax.n_brackets
        self.symbols: dict[str, sp.Symbol] = {}
        self.values: dict[sp.Symbol, float] = {}
        self._numeric = numeric

        def make(name: str, value: float, **assumptions: bool) -> sp.Expr:
            group = name.split("_")[0] if name != "a_max" else "a_max"
            if group in numeric or name in numeric:
                return to_rational(value)
            sym = sp.Symbol(name, **assumptions)
            self.symbols[name] = sym
            self.values[sym] = float(value)
            return sym

        self.sigma = [make(f"sigma_{i}", s, nonnegative=True) for i, s in enumerate(soc.selfishness)]
        self.theta: list[sp.Expr | None] = [
            None if np.isinf(t) else make(f"theta_{i}", t, positive=True)
            for i, t in enumerate(soc.productivity)
        ]
        self.kappa = make("kappa", game.damage, nonnegative=True)
        self.omega = make("omega", game.endowment, nonnegative=True)
        self.n = make("n", n, positive=True, integer=True)
        self.phi = [make(f"phi_{b}", r, real=True) for b, r in enumerate(tax.rates)]
        self.tau: list[sp.Expr] = [sp.Integer(0)] + [
            make(f"tau_{b}", t, positive=True) for b, t in enumerate(tax.thresholds) if b > 0
        ]
        self.a_max = (
            make("a_max", game.max_harvest, positive=True) if np.isfinite(game.max_harvest) else sp.oo
        )
        deg = soc.degrees
        nu = [1 if soc.neighbor_weighting == "sum" else (sp.Rational(1, int(d)) if d else 0) for d in deg]
        self.neighbors = _neighbors(soc)
        self.offdiag = [(1 - self.sigma[i]) * nu[i] for i in range(n)]
        self.s = [self.sigma[i] + self.offdiag[i] * int(deg[i]) for i in range(n)]
        self.k = [F.own_tax_weight(self.sigma[i], self.s[i], self.n) for i in range(n)]
        self.m = [sp.Integer(0) if t is None else self.sigma[i] / t for i, t in enumerate(self.theta)]
        self.local = not game.uses_global_formulas
        if self.local:
            w, q, d = game.local_operators()
            self.closed = [q.indices[q.indptr[j] : q.indptr[j + 1]].tolist() for j in range(n)]
            self.d = [int(x) for x in d]
            self.c = [self.kappa * self._wsum(i, lambda j: sp.Rational(1, self.d[j])) for i in range(n)]
        else:
            self.c = [F.global_damage_curvature(self.s[i], self.kappa, self.n) for i in range(n)]
        self.nb = nb

    # ------------------------------------------------------------------ helpers
    def _wsum(self, i: int, f) -> sp.Expr:
        """``sum_j W_ij f(j)``."""
        return self.sigma[i] * f(i) + self.offdiag[i] * sp.Add(*[f(j) for j in self.neighbors[i]])

    def tax_base(self, b: int) -> sp.Expr:
        """``T(tau_b)``."""
        return sp.Add(*[self.phi[q] * (self.tau[q + 1] - self.tau[q]) for q in range(b)])

    def tax_on(self, b: int, x: sp.Expr) -> sp.Expr:
        """``T(x)`` for ``x`` in bracket ``b``."""
        return self.tax_base(b) + self.phi[b] * (x - self.tau[b])

    def bracket_upper(self, b: int) -> sp.Expr:
        """Upper end of bracket ``b`` (``oo`` for the last)."""
        return self.tau[b + 1] if b + 1 < self.nb else sp.oo

    def cap_bracket(self) -> int:
        """The bracket that contains ``max_harvest`` from the left."""
        return int(np.searchsorted(self.game.tax.thresholds, self.game.max_harvest, side="left") - 1)

    def pressure(self, i: int, a: list[sp.Expr]) -> sp.Expr:
        """Marginal damage on agent i's utility from its own action, ``D_i``."""
        if not self.local:
            return self.s[i] * self.kappa * sp.Add(*a) / self.n
        agg = [sp.Add(*[a[k] for k in self.closed[j]]) for j in range(self.game.n)]
        return self.kappa * self._wsum(i, lambda j: agg[j] / self.d[j])

    def marginal(self, i: int, a: list[sp.Expr], rate: sp.Expr) -> sp.Expr:
        """``du_i/da_i`` on a piece with marginal rate ``rate``."""
        return self.sigma[i] * (1 - rate) - self.m[i] * a[i] + self.s[i] * rate / self.n - self.pressure(i, a)

    def payoffs(self, a: list[sp.Expr], brackets: list[int]) -> list[sp.Expr]:
        """Own payoffs ``r_j`` with agent j's tax taken on bracket ``brackets[j]``."""
        n = self.game.n
        taxes = [self.tax_on(brackets[j], a[j]) for j in range(n)]
        lump = sp.Add(*taxes) / self.n
        if self.local:
            agg = [sp.Add(*[a[k] for k in self.closed[j]]) for j in range(n)]
            damage = [self.kappa * agg[j] ** 2 / (2 * self.d[j]) for j in range(n)]
        else:
            total = sp.Add(*a)
            damage = [self.kappa * total**2 / (2 * self.n)] * n
        cost = [_cost(a[j], self.theta[j]) for j in range(n)]
        return [
            F.payoff(self.omega, a[j], F.tax_transfer(taxes[j], lump), cost[j], damage[j]) for j in range(n)
        ]

    def utilities(self, r: list[sp.Expr]) -> list[sp.Expr]:
        """``u_i = sum_j W_ij r_j``."""
        return [self._wsum(i, lambda j: r[j]) for i in range(self.game.n)]

    def own_problem(self, i: int, a: list[sp.Expr]) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
        """``(alpha_i, beta_i, k_i)``: agent i's utility is ``alpha x - k T(x) - beta x^2/2`` + const."""
        beta = F.own_curvature(self.m[i], self.c[i])
        if not self.local:
            alpha = self.sigma[i] - self.c[i] * (sp.Add(*a) - a[i])
        else:
            others = list(a)
            others[i] = sp.Integer(0)
            alpha = self.sigma[i] - self.pressure(i, others)
        return alpha, beta, self.k[i]

    # ------------------------------------------------------------------ games at other values
    def game_at(self, **overrides: float) -> CommonsGame:
        """The numeric game with some symbols given other values (by symbol name)."""
        game = self.game
        soc, tax = game.society, game.tax
        sigma = soc.selfishness.copy()
        theta = soc.productivity.copy()
        rates = tax.rates.copy()
        thresholds = tax.thresholds.copy()
        params = {"kappa": game.damage, "omega": game.endowment, "a_max": game.max_harvest}
        for name, value in overrides.items():
            group, _, idx = name.rpartition("_") if name not in params else (name, "", "")
            if name in params:
                params[name] = value
            elif group == "sigma":
                sigma[int(idx)] = value
            elif group == "theta":
                theta[int(idx)] = value
            elif group == "phi":
                rates[int(idx)] = value
            elif group == "tau":
                thresholds[int(idx)] = value
            else:
                raise InvalidParameterError(name, value, "n cannot change: it is the number of agents")
        society = Society(sigma, theta, soc.graph, soc.neighbor_weighting)  # type: ignore[arg-type]
        return CommonsGame(
            society,
            PiecewiseLinearTax(thresholds, rates),
            params["kappa"],
            params["omega"],
            params["a_max"],
            game.commons,  # type: ignore[arg-type]
        )


def _cost(a: sp.Expr, theta: sp.Expr | None) -> sp.Expr:
    """``a^2 / (2 theta)``, zero without effort cost (``theta = inf``)."""
    return sp.Integer(0) if theta is None else F.effort_cost(a, 1 / (2 * theta))


def _neighbors(soc: Society) -> list[list[int]]:
    n = soc.n
    if soc.is_complete:
        return [[j for j in range(n) if j != i] for i in range(n)]
    adj = soc.adjacency
    return [adj.indices[adj.indptr[i] : adj.indptr[i + 1]].tolist() for i in range(n)]
