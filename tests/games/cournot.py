"""A second game, written only for the tests: Cournot oligopoly with a per-unit tax.

Firms choose quantities ``q_i in [0, q_max]``; inverse demand ``P(Q) = a - b Q``; own payoff
``r_j = omega + (P(Q) - c_j - t) q_j + t Q / n`` (the tax revenue is returned equally); the
utility is ``u_i = sum_j W_ij r_j`` with the society's social weights. As a function of its own
quantity ``x`` agent i's utility is, up to a constant,

    f_i(x) = (sigma_i (a - b Q_-i - c_i - t) - b O_i + s_i t / n) x - b sigma_i x^2,

with ``O_i = sum_{j != i} W_ij q_j``: a concave quadratic for ``sigma_i > 0`` (linear otherwise), so
best responses are exact clipped stationary points. It knows nothing of sedtheory's kernels; it
satisfies only the ``Game`` protocol.
"""

from __future__ import annotations

import numpy as np

import sedtheory as sed
from sedtheory.errors import ActionError, ShapeError


class CournotGame:
    def __init__(
        self,
        society: sed.Society,
        tax: float = 0.0,
        a: float = 10.0,
        b: float = 1.0,
        costs: np.ndarray | None = None,
        endowment: float = 20.0,
        max_action: float = 10.0,
    ) -> None:
        self.society_ = society
        self.tax = float(tax)
        self.a, self.b, self.omega, self.max_action = a, b, endowment, max_action
        self.costs = np.zeros(society.n) if costs is None else np.asarray(costs, dtype=float)

    @property
    def n(self) -> int:
        return self.society_.n

    @property
    def society(self) -> sed.Society:
        return self.society_

    @property
    def policy(self) -> float:
        return self.tax

    def with_policy(self, policy: float) -> CournotGame:
        return CournotGame(
            self.society_, float(policy), self.a, self.b, self.costs, self.omega, self.max_action
        )

    def check_actions(self, actions, batch: bool = True) -> np.ndarray:
        q = np.asarray(actions, dtype=float)
        if not (q.shape == (self.n,) or (batch and q.ndim == 2 and q.shape[1] == self.n)):
            raise ShapeError("actions", q.shape, f"give shape ({self.n},)")
        if np.any(~((q >= 0) & (q <= self.max_action))):
            raise ActionError("actions", q, f"quantities lie in [0, {self.max_action}]")
        return q

    def payoffs(self, actions) -> np.ndarray:
        q = self.check_actions(actions)
        total = q.sum(axis=-1, keepdims=True)
        price = self.a - self.b * total
        return self.omega + (price - self.costs - self.tax) * q + self.tax * total / self.n

    def utilities(self, actions) -> np.ndarray:
        return self.society_.apply_weights(self.payoffs(actions))

    def _own(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Linear and quadratic coefficients of f_i(x) = lin_i x - quad_i x^2."""
        sigma, s = self.society_.selfishness, self.society_.weight_sums
        others = self.society_.apply_weights(q) - sigma * q  # O_i
        lin = (
            sigma * (self.a - self.b * (q.sum() - q) - self.costs - self.tax)
            - self.b * others
            + s * self.tax / self.n
        )
        return lin, self.b * sigma

    def best_responses(self, actions) -> np.ndarray:
        q = self.check_actions(actions, batch=False)
        lin, quad = self._own(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = np.where(
                quad > 0, lin / (2 * np.where(quad > 0, quad, 1.0)), np.where(lin > 0, np.inf, 0.0)
            )
        return np.clip(stat, 0.0, self.max_action)

    def deviation_gains(self, actions) -> np.ndarray:
        q = self.check_actions(actions, batch=False)
        lin, quad = self._own(q)
        x = self.best_responses(q)
        return np.maximum(lin * (x - q) - quad * (x * x - q * q), 0.0)


def cournot(n: int = 4, seed: int = 0, tax: float = 0.0) -> CournotGame:
    """A small Cournot game with mixed selfishness on a ring."""
    import networkx as nx

    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0.5, 1.0, n)
    soc = sed.Society(sigma, np.full(n, np.inf), graph=nx.cycle_graph(n))
    return CournotGame(soc, tax=tax, costs=rng.uniform(0.0, 2.0, n))
