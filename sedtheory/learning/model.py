r"""The stage game as learners see it: own-action payoffs, gradients, exact replies, vectorised.

For every agent the utility, as a function of its own action with the others' fixed, is

.. math:: u_i(x, a_{-i}) = f_i(x; \alpha_i(a_{-i})) + h_i(a_{-i}), \qquad
          f_i(x; \alpha) = \alpha x - k_i T(x) - \tfrac12 \beta_i x^2,

with the reply intercept :math:`\alpha_i` affine in the others' actions (global and local
commons alike; :meth:`~sedtheory.games.commons.CommonsKernel.intercepts`). Learners only need
:math:`f_i` (the constant :math:`h_i` cancels from every comparison of own actions), so this
module computes intercepts, :math:`f_i`, its (right) derivative, and exact maximisers of
:math:`f_i` plus a proximal term, for a profile or a batch of profiles at once.

Because :math:`u_i` is affine in :math:`\alpha_i`, the average over rounds of
:math:`u_i(x, a^t_{-i})` is :math:`f_i(x; \bar\alpha_i)` plus a constant: the best fixed
deviation against a whole history is one exact best reply to the mean intercept. That makes
the coarse-correlated-equilibrium gap of a history exact over the continuous action space
(:func:`cce_gaps`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.games import CommonsGame
from sedtheory.games.commons.formulas import own_objective
from sedtheory.games.commons.replies import best_replies
from sedtheory.games.protocol import PiecewiseQuadraticGame, require_game

__all__ = ["GameModel", "StageModel", "cce_gaps", "stage_model"]


class GameModel:
    """What learners see of a game without the piecewise-quadratic capability: best responses,
    utilities and the action bounds (``max_action`` / ``max_harvest`` when the game has one)."""

    def __init__(self, game: Any) -> None:
        self.game = game
        self.n = game.n
        amax = getattr(game, "max_action", getattr(game, "max_harvest", np.inf))
        self.amax = float(amax)
        self.upper = np.full(self.n, self.amax)

    def responses(self, actions: np.ndarray) -> np.ndarray:
        """Exact best responses to a profile (the game's own)."""
        return np.asarray(self.game.best_responses(actions), dtype=float)


def stage_model(game: Any) -> StageModel | GameModel:
    """The fast kernel-backed model for piecewise-quadratic games, the generic one otherwise."""
    require_game(game)
    if isinstance(game, PiecewiseQuadraticGame) and hasattr(game, "tax_pieces"):
        return StageModel(game)  # type: ignore[arg-type]
    return GameModel(game)


class StageModel:
    """Precomputed per-agent constants of ``game`` for fast per-round learner updates."""

    def __init__(self, game: CommonsGame) -> None:
        self.game = game
        self.n = game.n
        self.amax = float(game.max_harvest)
        self.beta = game.own_curvature
        self.k = game.own_tax_weight
        self.sigma = game.society.selfishness
        self.c = game.own_damage_curvature
        self.upper = np.minimum(game.reply_upper_bounds, self.amax)
        self.cap = np.full(self.n, self.amax)
        self.pieces = game.kernel.pieces(game.tax.rates)
        self.lo, self.hi, self.rate, self.base = game.tax_pieces
        self.global_ = game.uses_global_formulas

    def intercepts(self, actions: np.ndarray) -> np.ndarray:
        """``alpha_i(a_-i)`` for a profile (n,) or a batch (m, n)."""
        return self.game.kernel.intercepts(actions)

    def taxes(self, x: np.ndarray) -> np.ndarray:
        """``T(x)`` elementwise (x inside ``[0, max_harvest]``)."""
        return self.pieces.taxes(x)

    def marginal_rates(self, x: np.ndarray) -> np.ndarray:
        """``T'(x)`` from the right (the rate of the bracket ``x`` lies in)."""
        piece = np.clip(np.searchsorted(self.lo, x, side="right") - 1, 0, self.lo.size - 1)
        return self.rate[piece]

    def own(self, x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """``f_i(x; alpha_i)``, broadcasting ``x`` and ``alpha`` against the agents (last axis)."""
        beta = self.beta if x.ndim <= 1 else self.beta.reshape((1,) * (x.ndim - 1) + (-1,))
        return own_objective(x, alpha, self.k_like(x), self.taxes(x), beta)

    def k_like(self, x: np.ndarray) -> np.ndarray:
        return self.k if x.ndim <= 1 else self.k.reshape((1,) * (x.ndim - 1) + (-1,))

    def gradient(self, actions: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
        """``df_i/dx`` at each agent's own action (right derivative at thresholds)."""
        al = self.intercepts(actions) if alpha is None else alpha
        return al - self.k * self.marginal_rates(actions) - self.beta * actions

    def responses(self, actions: np.ndarray) -> np.ndarray:
        """Exact best responses to a profile."""
        return self.best_replies(self.intercepts(actions))

    def best_replies(self, alpha: np.ndarray) -> np.ndarray:
        """Exact maximisers of ``f_i(.; alpha_i)`` on ``[0, upper_i]``."""
        x, _ = best_replies(alpha, self.beta, self.k, self.lo, self.hi, self.rate, self.base, self.upper)
        return x

    def prox_step(self, actions: np.ndarray, alpha: np.ndarray, step: np.ndarray) -> np.ndarray:
        r"""Proximal gradient step with the tax handled exactly.

        ``argmax_x (alpha - beta a) x - k T(x) - (x - a)^2 / (2 step)`` on ``[0, upper]``: a
        gradient step on the smooth part of :math:`f_i` and the exact proximal map of the
        piecewise-linear tax (so iterates settle on a threshold where the equilibrium bunches,
        instead of oscillating around it).
        """
        lin = alpha - self.beta * actions + actions / step
        inv = 1.0 / step
        x, _ = best_replies(lin, inv, self.k, self.lo, self.hi, self.rate, self.base, self.cap)
        return x


def cce_gaps(model: StageModel, played: np.ndarray) -> np.ndarray:
    r"""Per agent: the exact coarse-correlated-equilibrium gap of the empirical distribution.

    ``max_x mean_t u_i(x, a^t_-i) - mean_t u_i(a^t)`` over the continuous action space, for
    the uniform distribution over the rows of ``played`` (T, n).
    """
    alpha = model.intercepts(played)
    realised = model.own(played, alpha).mean(axis=0)
    mean_alpha = alpha.mean(axis=0)
    x = model.best_replies(mean_alpha)
    best = model.own(x, mean_alpha)
    return np.maximum(best - realised, 0.0)
