"""Statements on p-means: the power-mean inequality, limits, concavity, Pigou-Dalton, Atkinson."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from sedtheory.theory.registry import Instance, statement
from sedtheory.theory.statements.common import P_GRID, close
from sedtheory.welfare import pmean

__all__: list[str] = []


def _values(rng: np.random.Generator, positive: bool = True) -> Instance:
    n = int(rng.integers(1, 9))
    v = np.exp(rng.normal(0.0, 1.5, n))
    if rng.random() < 0.2:
        v[:] = v[0]
    w = None if rng.random() < 0.5 else rng.dirichlet(np.ones(n))
    return {"values": v, "weights": w}


def _gen_pm_pair(rng: np.random.Generator) -> Instance:
    inst = _values(rng)
    inst["ps"] = sorted(rng.choice(P_GRID, size=4, replace=False).tolist())
    return inst


def _pm_reversed(inst: Instance) -> list[dict[str, Any]]:
    """False variant: M_p >= M_q for p < q."""
    m = [pmean(inst["values"], p, inst["weights"]) for p in inst["ps"]]
    return [
        {"p": p, "q": q, "M_p": a, "M_q": b}
        for (p, a), (q, b) in itertools.combinations(zip(inst["ps"], m, strict=True), 2)
        if a < b * (1 - 1e-12)
    ]


@statement(
    "power_mean_inequality",
    text="For v > 0 and weights w (sum 1), p < q implies M_p(v) <= M_q(v), with equality iff v is constant.",
    hypotheses=("v_i > 0", "w_i >= 0, sum w_i = 1"),
    citation="Hardy, Littlewood and Polya, Inequalities (1934), Thm 16",
    generate=_gen_pm_pair,
    holds_on=lambda inst: bool(np.all(inst["values"] > 0)),
    planted=lambda: {"values": np.array([1.0, 4.0]), "weights": None, "ps": [-1.0, 1.0]},
    planted_check=_pm_reversed,
    how="M_p at 4 random p in [-inf, inf] (0 and +-1e-3 included); every ordered pair compared.",
    instances=400,
)
def _power_mean_inequality(inst: Instance) -> list[dict[str, Any]]:
    v, w, ps = inst["values"], inst["weights"], inst["ps"]
    m = [pmean(v, p, w) for p in ps]
    constant = bool(np.all(v == v[0]))
    out = []
    for (p, a), (q, b) in itertools.combinations(zip(ps, m, strict=True), 2):
        if a > b * (1 + 1e-12):
            out.append({"p": p, "q": q, "M_p": a, "M_q": b, "values": v.tolist()})
        if constant and not close(a, b, 1e-12):
            out.append({"p": p, "q": q, "M_p": a, "M_q": b, "equality_expected": True})
    return out


def _limits_false(inst: Instance) -> list[dict[str, Any]]:
    """False variant: M_50(v) equals max(v)."""
    v = inst["values"]
    m = pmean(v, 50.0)
    return [] if close(m, float(v.max()), 1e-12) else [{"M_50": m, "max": float(v.max())}]


@statement(
    "power_mean_limits",
    text=(
        "M_p(v) -> max v as p -> +inf, -> min v as p -> -inf and -> the geometric mean as p -> 0; "
        "quantitatively w_k^(1/p) max v <= M_p <= max v for p > 0 (k the argmax), "
        "min v <= M_p <= w_k^(1/p) min v for p < 0, and |log M_p - sum w log v| <= |p| (range log v)^2."
    ),
    hypotheses=("v_i > 0", "w_i > 0, sum w_i = 1"),
    citation="Hardy, Littlewood and Polya (1934), Thms 3-4",
    generate=_values,
    holds_on=lambda inst: bool(np.all(inst["values"] > 0)),
    planted=lambda: {"values": np.array([1.0, 2.0, 3.0]), "weights": None},
    planted_check=_limits_false,
    how="The sandwich bounds at p = +-20, +-100, +-1000 and the logarithmic bound at p = +-1e-6.",
    instances=400,
)
def _power_mean_limits(inst: Instance) -> list[dict[str, Any]]:
    v = inst["values"]
    n = v.size
    w = np.full(n, 1.0 / n) if inst["weights"] is None else np.maximum(inst["weights"], 1e-300)
    w = w / w.sum()
    out = []
    hi, lo = float(v.max()), float(v.min())
    w_hi, w_lo = float(w[int(np.argmax(v))]), float(w[int(np.argmin(v))])
    tol = 1e-12
    for p in (20.0, 100.0, 1000.0):
        m = pmean(v, p, w)
        if not (w_hi ** (1 / p) * hi * (1 - tol) <= m <= hi * (1 + tol)):
            out.append({"p": p, "M_p": m, "bounds": (w_hi ** (1 / p) * hi, hi)})
        m = pmean(v, -p, w)
        if not (lo * (1 - tol) <= m <= w_lo ** (-1 / p) * lo * (1 + tol)):
            out.append({"p": -p, "M_p": m, "bounds": (lo, w_lo ** (-1 / p) * lo)})
    if pmean(v, math.inf, w) != hi or pmean(v, -math.inf, w) != lo:
        out.append({"limits": (pmean(v, -math.inf, w), pmean(v, math.inf, w)), "min_max": (lo, hi)})
    logs = np.log(v)
    geo = float(w @ logs)
    spread = float(logs.max() - logs.min())
    for p in (1e-6, -1e-6):
        gap = abs(math.log(pmean(v, p, w)) - geo)
        if gap > abs(p) * spread**2 + 1e-12:
            out.append({"p": p, "log_gap": gap, "bound": abs(p) * spread**2})
    return out


def _gen_concave_pm(rng: np.random.Generator) -> Instance:
    inst = _values(rng)
    n = inst["values"].size
    inst["other"] = np.exp(rng.normal(0.0, 1.5, n))
    inst["p"] = float(rng.choice([-math.inf, -10.0, -2.0, -1.0, -0.3, 0.0, 0.3, 0.7, 1.0]))
    inst["lam"] = float(rng.uniform(0.05, 0.95))
    return inst


@statement(
    "pmean_concave",
    text="For p <= 1, M_p is concave on the positive orthant: M_p(l u + (1-l) v) >= l M_p(u) + (1-l) M_p(v).",
    hypotheses=("p <= 1", "u, v > 0"),
    citation="Bullen, Handbook of Means and Their Inequalities (2003), Ch. III",
    generate=_gen_concave_pm,
    holds_on=lambda inst: inst["p"] <= 1,
    planted=lambda: {
        "values": np.array([1.0, 1e-3]),
        "other": np.array([1e-3, 1.0]),
        "weights": None,
        "p": 2.0,
        "lam": 0.5,
    },
    how="Jensen's inequality for random pairs and mixing weights.",
    instances=400,
)
def _pmean_concave(inst: Instance) -> list[dict[str, Any]]:
    u, v, lam, p, w = inst["values"], inst["other"], inst["lam"], inst["p"], inst["weights"]
    mid = pmean(lam * u + (1 - lam) * v, p, w)
    chord = lam * pmean(u, p, w) + (1 - lam) * pmean(v, p, w)
    return [] if mid >= chord * (1 - 1e-12) else [{"p": p, "M(mix)": mid, "mix of M": chord}]


def _gen_transfer(rng: np.random.Generator) -> Instance:
    n = int(rng.integers(2, 9))
    v = np.exp(rng.normal(0.0, 1.0, n))
    i, j = int(np.argmin(v)), int(np.argmax(v))
    if v[i] == v[j]:
        v[j] *= 2.0
    delta = float(rng.uniform(0.1, 1.0)) * (v[j] - v[i]) / 2.0
    return {
        "values": v,
        "from": j,
        "to": i,
        "delta": delta,
        "p": float(rng.choice([-20.0, -3.0, -1.0, 0.0, 0.5, 0.9])),
    }


@statement(
    "pigou_dalton",
    text=(
        "For p < 1 (finite), a transfer delta in (0, (v_j - v_i)/2] from a richer agent j to a poorer "
        "agent i strictly increases M_p."
    ),
    hypotheses=("p < 1, finite", "v > 0", "v_i < v_j"),
    citation="Pigou (1912); Dalton (1920); Atkinson (1970)",
    generate=_gen_transfer,
    holds_on=lambda inst: inst["p"] < 1 and math.isfinite(inst["p"]),
    planted=lambda: {"values": np.array([1.0, 3.0]), "from": 1, "to": 0, "delta": 0.5, "p": 1.0},
    how="A random rank-preserving transfer between the poorest and the richest agent.",
    instances=400,
)
def _pigou_dalton(inst: Instance) -> list[dict[str, Any]]:
    v = inst["values"].copy()
    before = pmean(v, inst["p"])
    v[inst["from"]] -= inst["delta"]
    v[inst["to"]] += inst["delta"]
    after = pmean(v, inst["p"])
    return [] if after > before else [{"p": inst["p"], "before": before, "after": after}]


def _gen_atkinson(rng: np.random.Generator) -> Instance:
    inst = _values(rng)
    inst["p"], inst["q"] = sorted(
        rng.choice([-math.inf, -5.0, -1.0, 0.0, 0.5, 0.9], size=2, replace=False).tolist()
    )
    return inst


@statement(
    "atkinson_index",
    text=(
        "The Atkinson index A_p = 1 - M_p(v)/M_1(v) satisfies 0 <= A_p < 1 for p < 1, A_p = 0 iff v is "
        "constant, and A_p >= A_q for p < q < 1 (more inequality aversion, larger index)."
    ),
    hypotheses=("p, q < 1", "v > 0"),
    citation="Atkinson, On the measurement of inequality, JET (1970)",
    generate=_gen_atkinson,
    holds_on=lambda inst: inst["q"] < 1 and bool(np.all(inst["values"] > 0)),
    planted=lambda: {"values": np.array([1.0, 3.0]), "weights": None, "p": 1.5, "q": 2.0},
    how="A_p and A_q on random positive vectors (some constant).",
    instances=400,
)
def _atkinson(inst: Instance) -> list[dict[str, Any]]:
    v, w = inst["values"], inst["weights"]
    mean = pmean(v, 1.0, w)
    a_p = 1 - pmean(v, inst["p"], w) / mean
    a_q = 1 - pmean(v, inst["q"], w) / mean
    out = []
    constant = bool(np.all(v == v[0]))
    for p, a in ((inst["p"], a_p), (inst["q"], a_q)):
        if not (-1e-12 <= a < 1) or (constant and abs(a) > 1e-12) or (not constant and a <= 0):
            out.append({"p": p, "A_p": a, "constant": constant})
    if a_p < a_q - 1e-12:
        out.append({"p": inst["p"], "q": inst["q"], "A_p": a_p, "A_q": a_q})
    return out
