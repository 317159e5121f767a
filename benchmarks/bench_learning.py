"""Learning agents: sedtheory's vectorised learners against generic gradient play (same run).

Run ``python benchmarks/bench_learning.py`` (about a minute); ``--quick`` for a smoke test.

Target (issue 6): 100 agents x 1e4 rounds of gradient play in under 2 s, history included
(actions, utilities and the exact Nash gap of every round).

Baselines, what a user writes without the library's per-agent structure:

* ``finite-difference (vectorised)``: each round, every agent's own-utility derivative by
  central differences, all 2n perturbed profiles evaluated in one batched ``game.utilities``
  call (O(n^2) per round), then a projected step;
* ``finite-difference (loop)``: the same with a Python loop over agents (timed on fewer rounds
  and reported per 1e4 rounds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sedtheory as sed
from sedtheory.families import make_game
from sedtheory.learning import learn


def fd_vectorised(game: sed.CommonsGame, rounds: int, lr: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = game.n
    a = np.zeros(n)
    eye = np.eye(n)
    for _ in range(rounds):
        up = np.clip(a[None, :] + h * eye, 0, game.max_harvest)
        down = np.clip(a[None, :] - h * eye, 0, game.max_harvest)
        u_up = game.utilities(up)[np.arange(n), np.arange(n)]
        u_down = game.utilities(down)[np.arange(n), np.arange(n)]
        grad = (u_up - u_down) / np.maximum(np.diag(up) - np.diag(down), 1e-300)
        a = np.clip(a + lr * grad, 0, game.max_harvest)
    return a


def fd_loop(game: sed.CommonsGame, rounds: int, lr: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = game.n
    a = np.zeros(n)
    for _ in range(rounds):
        grad = np.empty(n)
        for i in range(n):
            up, down = a.copy(), a.copy()
            up[i] = min(a[i] + h, game.max_harvest)
            down[i] = max(a[i] - h, 0.0)
            grad[i] = (game.utilities(up)[i] - game.utilities(down)[i]) / (up[i] - down[i])
        a = np.clip(a + lr * grad, 0, game.max_harvest)
    return a


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 1000 if args.quick else 10_000
    sizes = (100,) if args.quick else (100, 1000)
    print(
        f"\n### Gradient play, {rounds} rounds "
        "(Watts-Strogatz graph, bimodal selfishness, rates 0.1/0.3/0.6)\n"
    )
    print(
        "| n | commons | sedtheory learn s | final Nash gap | FD vectorised s | FD loop s (per run) "
        "| speed-up vs FD vec |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        for commons in ("global", "local"):
            game = make_game(n, "watts_strogatz", "bimodal", seed=1, rates=(0.1, 0.3, 0.6), commons=commons)
            t0 = time.perf_counter()
            res = learn(game, "gradient", rounds)
            t_ours = time.perf_counter() - t0
            lr = 1.0 / (game.own_curvature + game.own_damage_curvature * n)
            fd_rounds = rounds if n <= 100 else max(rounds // 100, 10)
            t0 = time.perf_counter()
            fd_vectorised(game, fd_rounds, lr)
            t_vec = (time.perf_counter() - t0) * rounds / fd_rounds
            loop_rounds = max(rounds // (100 if n <= 100 else 2000), 5)
            t0 = time.perf_counter()
            fd_loop(game, loop_rounds, lr)
            t_loop = (time.perf_counter() - t0) * rounds / loop_rounds
            print(
                f"| {n} | {commons} | {t_ours:.2f} | {res.nash_gap:.1e} | {t_vec:.1f} | {t_loop:.0f} | "
                f"{t_vec / t_ours:.0f}x |"
            )
    print(f"\n### Every learner, n = 100, {rounds} rounds (global commons; history included)\n")
    print("| learner | seconds | distance to equilibrium | final Nash gap | CCE gap |")
    print("|---|---|---|---|---|")
    game = make_game(100, "watts_strogatz", "bimodal", seed=1, rates=(0.1, 0.3, 0.6))
    eq = sed.solve_equilibrium(game)
    for learner in ("gradient", "best_response", "hedge", "policy_gradient"):
        t0 = time.perf_counter()
        res = learn(game, learner, rounds, seed=0)
        dt = time.perf_counter() - t0
        dist = float(np.abs(res.actions - eq.actions).max())
        print(f"| {learner} | {dt:.2f} | {dist:.2e} | {res.nash_gap:.1e} | {res.cce_gap:.1e} |")


if __name__ == "__main__":
    main()
