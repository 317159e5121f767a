r"""The commons stage game: one tax period of the apple-picking game.

Examples
--------
>>> from sedtheory import CommonsGame, PiecewiseLinearTax, Society
>>> game = CommonsGame(Society([1.0, 1.0]), PiecewiseLinearTax([0], [0.0]), damage=0.1,
...                    endowment=10.0, max_harvest=20.0)
>>> game.payoffs([1.0, 1.0]).tolist()
[10.4, 10.4]
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sps

from sedtheory.errors import (
    ActionError,
    InvalidParameterError,
    ShapeError,
    UnboundedBestResponseError,
)
from sedtheory.games.commons.kernel import CommonsKernel
from sedtheory.society import Society
from sedtheory.taxes import PiecewiseLinearTax
from sedtheory.validate import real_array

__all__ = ["CommonsGame"]


class CommonsGame:
    r"""The induced game of one tax period with a (global or local) commons.

    Parameters
    ----------
    society : Society
        Types and social graph.
    tax : PiecewiseLinearTax
        The principal's bracket tax; revenue is returned as an equal lump sum.
    damage : float
        :math:`\kappa \ge 0`, the curvature of the commons damage.
    endowment : float, default 0
        :math:`\omega \ge 0`, added to every payoff (keeps utilities positive so that every
        p-mean is defined).
    max_harvest : float, default inf
        :math:`a_{max} > 0`; actions lie in ``[0, max_harvest]``. May be infinite when every
        agent's best response is bounded (effort costs or damage make it so); otherwise
        :class:`~sedtheory.errors.UnboundedBestResponseError` is raised.
    commons : {"global", "local"}
        ``"global"``: damage :math:`\kappa A^2/2` shared equally, :math:`A = \sum_j a_j`.
        ``"local"``: agent j bears :math:`\kappa S_j^2 / (2|N[j]|)` with
        :math:`S_j = \sum_{k \in N[j]} a_k` over its closed neighbourhood in the undirected
        view of the graph (on a complete graph this equals the global commons).

    Notes
    -----
    Own payoff and utility:

    .. math::
        r_j(a) = \omega + a_j - T(a_j) + R(a)/n - \frac{a_j^2}{2\theta_j} - \mathrm{damage}_j(a),
        \qquad u_i(a) = \sum_j W_{ij} r_j(a),

    with :math:`R(a) = \sum_k T(a_k)` (budget balance: :math:`\sum_j (a_j - T(a_j) + R/n)
    = \sum_j a_j`). As a function of its own action ``x`` agent i's utility is, up to a
    constant, :math:`\alpha_i x - k_i T(x) - \beta_i x^2/2` with
    :math:`k_i = \sigma_i - s_i/n`, :math:`\beta_i = \sigma_i/\theta_i + c_i` and, for the
    global commons, :math:`c_i = s_i\kappa/n`, :math:`\alpha_i = \sigma_i - c_i A_{-i}`
    (for the local commons :math:`c_i = \kappa\sum_j W_{ij}/|N[j]|` and
    :math:`\alpha_i = \sigma_i - \kappa\sum_j W_{ij} S^{-i}_j/|N[j]|`). So
    :math:`u_i` is concave in :math:`a_i` iff :math:`k_i(\phi_b - \phi_{b-1}) \ge 0` at
    every threshold; with progressive rates iff :math:`\sigma_i \ge s_i/n`.

    Examples
    --------
    >>> game = CommonsGame(Society([1.0, 0.0], float("inf")), PiecewiseLinearTax([0], [0.5]),
    ...                    damage=0.0, max_harvest=4.0)
    >>> game.utilities([2.0, 0.0]).tolist()   # agent 1 cares only about agent 0
    [1.5, 1.5]
    """

    def __init__(
        self,
        society: Society,
        tax: PiecewiseLinearTax,
        damage: float,
        endowment: float = 0.0,
        max_harvest: float = np.inf,
        commons: Literal["global", "local"] = "global",
    ) -> None:
        if not isinstance(society, Society):
            raise InvalidParameterError("society", type(society).__name__, "pass a sedtheory.Society")
        if not isinstance(tax, PiecewiseLinearTax):
            raise InvalidParameterError("tax", type(tax).__name__, "pass a sedtheory.PiecewiseLinearTax")
        kappa = _nonneg_float("damage", damage, allow_inf=False)
        omega = _nonneg_float("endowment", endowment, allow_inf=False)
        amax = _nonneg_float("max_harvest", max_harvest, allow_inf=True)
        if amax == 0:
            raise InvalidParameterError("max_harvest", max_harvest, "max_harvest must be > 0")
        if commons not in ("global", "local"):
            raise InvalidParameterError("commons", commons, 'use "global" or "local"')
        self._society = society
        self._tax = tax
        self._kappa = kappa
        self._omega = omega
        self._amax = amax
        self._commons = commons
        self._local = commons == "local" and not society.is_complete
        if commons == "local" and society.has_masses:
            raise InvalidParameterError(
                "commons",
                commons,
                "population masses are defined for the global commons only (DESIGN section 1); "
                'use commons="global" or unit masses',
            )
        local = None
        if self._local:
            q = society.closed_neighborhoods()
            d = np.asarray(q.sum(axis=1), dtype=float).reshape(-1)
            local = (society.weights, q, d)
        self._kernel = CommonsKernel(
            society.selfishness,
            society.productivity,
            society.weight_sums,
            society.apply_weights,
            tax.thresholds,
            kappa,
            omega,
            amax,
            local,
            society.masses if society.has_masses else None,
        )
        self._k, self._c, self._beta, self._d = (
            self._kernel.k,
            self._kernel.c,
            self._kernel.beta,
            self._kernel.d,
        )
        self._rate_pieces = self._kernel.pieces(tax.rates)
        rp = self._rate_pieces
        self._pieces = (rp.lo, rp.hi, rp.rate, rp.base)
        self._upper = self._reply_bounds()
        self._upper.setflags(write=False)
        self._check_magnitudes()

    # ---------------------------------------------------------------- set-up
    def _reply_bounds(self) -> np.ndarray:
        """Per-agent upper bound on every best response (exact, see Notes of the class)."""
        sigma, k, rates = self._society.selfishness, self._k, self._tax.rates
        upper = self._kernel.reply_bound(float(np.max(np.abs(rates))))
        flat = ~(self._beta > 0)
        if np.isinf(self._amax) and np.any(flat):
            last_slope = sigma - k * rates[-1]
            unbounded = flat & (last_slope > 0)
            if np.any(unbounded):
                bad = np.flatnonzero(unbounded)
                raise UnboundedBestResponseError(
                    "max_harvest",
                    self._amax,
                    f"agents {bad[:10].tolist()} have no effort cost and no damage on their own "
                    "action, so their best response is unbounded; give a finite max_harvest",
                )
            upper[flat] = float(self._tax.thresholds[-1])
        return upper

    def _check_magnitudes(self) -> None:
        """Every payoff term must stay far from float overflow (squares of actions and totals
        are formed): a typed error naming the largest term instead of inf/NaN utilities."""
        up = self._upper
        with np.errstate(over="ignore", invalid="ignore"):
            total = float(self._kernel.total(up))
            terms = {
                "endowment": self._omega,
                "max_harvest": float(np.max(up, initial=0.0)),
                "productivity": float(np.max(self._kernel.cost_weights * up * up, initial=0.0)),
                "damage": self._kappa * total * total,
            }
        field, worst = max(terms.items(), key=lambda kv: kv[1] if np.isfinite(kv[1]) else np.inf)
        if not np.isfinite(worst) or worst > _MAGNITUDE_LIMIT:
            given = {
                "endowment": self._omega,
                "max_harvest": self._amax,
                "productivity": float(np.max(self._society.productivity)),
                "damage": self._kappa,
            }
            raise InvalidParameterError(
                field,
                given[field],
                f"payoff terms reach {worst:.3g} (limit {_MAGNITUDE_LIMIT:.0e}, beyond which squares "
                "overflow); rescale the units (e.g. apples in thousands)",
            )

    # ---------------------------------------------------------------- properties
    @property
    def society(self) -> Society:
        """The society."""
        return self._society

    @property
    def tax(self) -> PiecewiseLinearTax:
        """The tax schedule."""
        return self._tax

    @property
    def damage(self) -> float:
        r""":math:`\kappa`."""
        return self._kappa

    @property
    def endowment(self) -> float:
        r""":math:`\omega`."""
        return self._omega

    @property
    def max_harvest(self) -> float:
        r""":math:`a_{max}`."""
        return self._amax

    @property
    def commons(self) -> str:
        """``"global"`` or ``"local"``."""
        return self._commons

    @property
    def uses_global_formulas(self) -> bool:
        """True when the damage is the global one (global commons, or local on a complete graph)."""
        return not self._local

    @property
    def n(self) -> int:
        """Number of agents."""
        return self._society.n

    @property
    def population(self) -> float:
        r""":math:`N = \sum_i m_i`: the number of members (``n`` without population masses)."""
        return self._kernel.population

    @property
    def welfare_weights(self) -> np.ndarray | None:
        r"""The p-mean weights of the agents, :math:`m_i/N`; ``None`` (equal weights) without masses."""
        return self._society.mass_shares

    @property
    def own_tax_weight(self) -> np.ndarray:
        r""":math:`k_i = \sigma_i - s_i/n`: the weight of ``-T(a_i)`` in ``u_i``."""
        return self._k

    @property
    def own_damage_curvature(self) -> np.ndarray:
        r""":math:`c_i`: the curvature of agent i's damage in its own action."""
        return self._c

    @property
    def own_curvature(self) -> np.ndarray:
        r""":math:`\beta_i = \sigma_i/\theta_i + c_i`."""
        return self._beta

    @property
    def reply_upper_bounds(self) -> np.ndarray:
        """An upper bound on each agent's best response to any profile."""
        return self._upper

    @property
    def tax_pieces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(lo, hi, rate, tax_at_lo)``: the tax's linear pieces on ``[0, max_harvest]``."""
        return self._pieces

    def local_operators(self) -> tuple[sps.csr_matrix, sps.csr_matrix, np.ndarray]:
        """``(W, Q, d)`` of the local commons: weights, closed neighbourhoods, their sizes."""
        if self._kernel.local is None:
            raise InvalidParameterError(
                "commons", self._commons, "local operators exist for the local commons on a graph"
            )
        return self._kernel.local

    @property
    def kernel(self) -> CommonsKernel:
        """The game's vectorised kernel (every formula of the model, for profiles and batches)."""
        return self._kernel

    @property
    def policy(self) -> PiecewiseLinearTax:
        """The principal's instrument: the tax schedule (the :class:`~sedtheory.games.Game` protocol)."""
        return self._tax

    def with_policy(self, policy: PiecewiseLinearTax) -> CommonsGame:
        """The same game under another tax (the :class:`~sedtheory.games.Game` protocol)."""
        return self.with_tax(policy)

    @property
    def is_concave(self) -> np.ndarray:
        """Per agent: is ``u_i`` concave in its own action (no convex kink)?"""
        jumps = np.diff(self._pieces[2])
        return np.all(self._k[:, None] * jumps[None, :] >= 0, axis=1)

    def with_tax(self, tax: PiecewiseLinearTax) -> CommonsGame:
        """The same game under another tax."""
        return CommonsGame(self._society, tax, self._kappa, self._omega, self._amax, self._commons)  # type: ignore[arg-type]

    def with_society(self, society: Society) -> CommonsGame:
        """The same game with other agents."""
        return CommonsGame(society, self._tax, self._kappa, self._omega, self._amax, self._commons)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return (
            f"CommonsGame({self._society!r}, {self._tax!r}, damage={self._kappa}, "
            f"endowment={self._omega}, max_harvest={self._amax}, commons={self._commons!r})"
        )

    # ---------------------------------------------------------------- evaluation
    def check_actions(self, actions: npt.ArrayLike, batch: bool = True) -> np.ndarray:
        """Validate an action profile ``(n,)`` (or a batch ``(m, n)``) and return it as floats."""
        a = real_array("actions", np.empty(0) if actions is None else actions, f"give {self.n} real actions")
        ok_shape = a.shape == (self.n,) or (batch and a.ndim == 2 and a.shape[1] == self.n)
        if not ok_shape:
            want = f"({self.n},)" + (f" or (m, {self.n})" if batch else "")
            raise ShapeError("actions", f"array of shape {a.shape}", f"give shape {want}")
        bad = ~((a >= 0) & (a <= self._amax))
        if np.any(bad):
            where = np.argwhere(bad)[:5].tolist()
            raise ActionError(
                "actions",
                a[bad][:5].tolist(),
                f"actions must lie in [0, max_harvest={self._amax}] (bad entries at {where})",
            )
        return a

    def local_aggregates(self, actions: npt.ArrayLike) -> np.ndarray:
        """``S_j = sum_{k in N[j]} a_k`` (global commons: ``A`` for everyone)."""
        return np.array(self._kernel.aggregates(np.asarray(actions, dtype=float)))

    def damages(self, actions: npt.ArrayLike) -> np.ndarray:
        """Each agent's share of the commons damage."""
        return self._kernel.damages(self.check_actions(actions))

    def payoffs(self, actions: npt.ArrayLike) -> np.ndarray:
        """Own payoffs ``r_j(a)`` for a profile ``(n,)`` or a batch ``(m, n)``."""
        return self._kernel.payoffs(self.check_actions(actions), self._tax.rates)

    def utilities(self, actions: npt.ArrayLike) -> np.ndarray:
        """Utilities ``u_i(a) = sum_j W_ij r_j(a)`` for a profile or a batch."""
        return self._society.apply_weights(self.payoffs(actions))

    def reply_intercepts(self, actions: npt.ArrayLike) -> np.ndarray:
        r""":math:`\alpha_i(a_{-i})`, the linear coefficient of agent i's own-action problem."""
        return self._kernel.intercepts(self.check_actions(actions, batch=False))

    def best_responses(self, actions: npt.ArrayLike) -> np.ndarray:
        """Every agent's exact best response to ``actions`` (ties: the smaller action)."""
        alpha = self.reply_intercepts(actions)
        return self._kernel.replies(alpha, self._rate_pieces, self._upper)[0]

    def best_response(self, i: int, actions: npt.ArrayLike) -> float:
        """Agent ``i``'s exact best response to the others' actions in ``actions``.

        The maximum of ``u_i(., a_-i)`` over ``[0, max_harvest]``, taken over the smooth
        pieces between thresholds (never a grid).
        """
        idx = _agent_index(i, self.n)
        return float(self.best_responses(actions)[idx])

    def deviation_gains(self, actions: npt.ArrayLike) -> np.ndarray:
        """``max_x u_i(x, a_-i) - u_i(a)`` for every agent (exact, >= 0)."""
        a = self.check_actions(actions, batch=False)
        return self._kernel.gains(a, self._tax.rates, self._upper)

    def nash_gap(self, actions: npt.ArrayLike) -> float:
        """``max_i [max_x u_i(x, a_-i) - u_i(a)]`` with exact best responses."""
        return float(self.deviation_gains(actions).max())

    def potential(self, actions: npt.ArrayLike) -> Any:
        r"""The weighted potential :math:`\Phi` of the global commons (Monderer and Shapley 1996).

        .. math:: \Phi(a) = \sum_{i: s_i > 0} \frac{n}{s_i}\Big[\sigma_i a_i - k_i T(a_i)
                  - \sigma_i \frac{a_i^2}{2\theta_i}\Big] - \frac{\kappa A^2}{2},

        so that :math:`u_i(x, a_{-i}) - u_i(a) = (s_i/n)[\Phi(x, a_{-i}) - \Phi(a)]`.
        Accepts a profile or a batch. With population masses the own terms carry
        :math:`m_i N/s_i` and :math:`A = \sum_i m_i a_i`: its gradient in :math:`a_i` is
        :math:`m_i N/s_i` times a member's marginal utility (the potential of the type-symmetric
        first-order conditions; a unilateral move of one member is then no longer a move of
        :math:`a_i`).
        """
        if self._local:
            raise InvalidParameterError(
                "commons", self._commons, "the weighted potential exists for the global commons only"
            )
        a = self.check_actions(actions)
        sigma, theta, s = self._society.selfishness, self._society.productivity, self._society.weight_sums
        scale = self._society.masses * np.divide(
            self._kernel.population, s, out=np.zeros(self.n), where=s > 0
        )
        own = sigma * a - self._k * self._kernel.taxes(a, self._tax.rates) - sigma * 0.5 * a * a / theta
        total = self._kernel.total(a)
        out = (scale * own).sum(axis=-1) - 0.5 * self._kappa * total * total
        return float(out) if np.ndim(out) == 0 else out


#: Largest payoff term accepted: squares of larger values overflow double precision.
_MAGNITUDE_LIMIT = 1e150


def _nonneg_float(field: str, value: Any, allow_inf: bool) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(field, value, f"{field} must be a number") from None
    if np.isnan(x) or x < 0 or (np.isinf(x) and not allow_inf):
        rng = "[0, inf]" if allow_inf else "[0, inf)"
        raise InvalidParameterError(field, value, f"{field} must be a number in {rng}")
    return x


def _agent_index(i: Any, n: int) -> int:
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n:
        raise InvalidParameterError("i", i, f"the agent index must be an integer in 0..{n - 1}")
    return int(i)
