"""The settled-agent root solver: the same roots as plain bracketing, independent oracles on
synthetic replies, hints that change nothing, and settled agents left alone."""

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import brentq

import sedtheory as sed
from sedtheory.equilibrium.batch_model import HINT_FROM, GlobalBatchModel
from sedtheory.equilibrium.roots import aggregate_roots
from sedtheory.equilibrium.settled import settled_roots
from sedtheory.errors import InvalidParameterError

from ..conftest import random_game, seeds


def large_game(n: int, seed: int = 0) -> sed.CommonsGame:
    """A global commons with seven brackets (the 10^5-agent benchmark's family)."""
    rng = np.random.default_rng(seed)
    soc = sed.Society(rng.uniform(0, 1, n), rng.uniform(5, 40, n))
    tax = sed.PiecewiseLinearTax([0, 5, 10, 15, 20, 25, 30], [0.0] * 7)
    return sed.CommonsGame(soc, tax, damage=0.14 / n, endowment=50.0, max_harvest=40.0)


def linear_part(high, slope, cap):
    """Synthetic replies ``clip(high_i - slope_i A, 0, cap_i)`` with their regimes (0 at the cap,
    1 inside, 2 at zero) - non-increasing and affine per regime, as settled_roots assumes."""

    def part(rows, agg, agents):
        idx = np.arange(high.size) if agents is None else agents
        raw = high[idx] - slope[idx] * agg[:, None]
        x = np.clip(raw, 0.0, cap[idx])
        regime = np.where(raw >= cap[idx], 0, np.where(raw <= 0, 2, 1))
        d = np.where(regime == 1, -slope[idx], 0.0)
        return x, d, regime

    return part


@settings(max_examples=40)
@given(seeds)
def test_matches_plain_bracketing(seed):
    rng = np.random.default_rng(seed)
    game = random_game(rng, commons="global", family="complete", n=int(rng.integers(2, 30)))
    rates = rng.uniform(0, 1, (6, game.tax.n_brackets))
    model = GlobalBatchModel(game, rates)
    new, exact_new = settled_roots(model.consistent_part, 6, game.n, 1e-12, model.mass)
    old, exact_old = aggregate_roots(model.largest, 6, game.n, stop_width=1e-12, mass=model.mass)
    scale = max(1.0, float(np.abs(old).max()))
    np.testing.assert_allclose(new.sum(axis=1), old.sum(axis=1), rtol=1e-10, atol=1e-10 * scale)
    both = exact_new & exact_old
    np.testing.assert_allclose(new[both], old[both], atol=1e-9 * scale)


@settings(max_examples=30)
@given(seeds)
def test_linear_replies_against_brentq(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    high, slope, cap = rng.uniform(0, 5, n), rng.uniform(0, 0.02, n), rng.uniform(0.5, 3, n)
    mass = rng.uniform(0.5, 2.0, n)
    prof, exact = settled_roots(linear_part(high, slope, cap), 1, n, 1e-12, mass)

    def g(a):
        return float(np.clip(high - slope * a, 0, cap) @ mass) - a

    root = brentq(g, 0.0, float(cap @ mass) + 1.0, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    assert exact[0]
    assert prof[0] @ mass == pytest.approx(root, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(prof[0], np.clip(high - slope * root, 0, cap), atol=1e-10)


def test_root_on_a_jump_mixes_only_the_jumping_agent():
    # Step replies: agent i takes 1 below A = t_i and 0 above. For A in (1.5, 2.5) three agents take
    # 1 (g > 0), from 2.5 on two (g < 0): the root is agent 2's jump at A = 2.5, where it takes 0.5.
    t = np.array([0.5, 1.5, 2.5, 3.5, 4.5])

    def part(rows, agg, agents):
        idx = np.arange(t.size) if agents is None else agents
        below = agg[:, None] < t[idx]
        return below.astype(float), np.zeros(below.shape), below.astype(np.int64)

    prof, exact = settled_roots(part, 1, t.size, 1e-12)
    assert not exact[0]
    np.testing.assert_allclose(prof[0], [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-11)


def test_hint_does_not_change_the_root():
    n = HINT_FROM
    game = large_game(n)
    rates = np.array([[0.875, 0.72, 0.75, 0.75, 0.75, 0.75, 0.75], [0.2, 0.6, 0.1, 0.9, 0.3, 0.3, 0.0]])
    model = GlobalBatchModel(game, rates)
    rows = np.arange(2)
    hint = model.root_hint(rows)
    assert hint is not None and np.all(hint[:, 0] < hint[:, 1])
    plain, exact = settled_roots(model.consistent_part, 2, n, 1e-12)
    total = plain.sum(axis=1)
    for guess in (
        hint,
        np.stack([3 * total, 4 * total], axis=1),
        np.zeros((2, 2)),
        np.array([[1.0, 2.0]] * 2),
    ):
        prof, ex = settled_roots(model.consistent_part, 2, n, 1e-12, hint=guess)
        np.testing.assert_array_equal(ex, exact)
        np.testing.assert_allclose(prof.sum(axis=1), total, rtol=1e-12)
        np.testing.assert_allclose(prof, plain, atol=1e-6)  # a collapsed row's mix, to rounding


def test_settled_agents_are_not_evaluated_again():
    n = HINT_FROM
    game = large_game(n, seed=3)
    model = GlobalBatchModel(game, np.array([[0.5, 0.5, 0.6, 0.4, 0.5, 0.5, 0.5]]))
    sizes = []

    def part(rows, agg, agents):
        sizes.append(n if agents is None else agents.size)
        return model.consistent_part(rows, agg, agents)

    prof, exact = settled_roots(part, 1, n, 1e-12, hint=model.root_hint(np.arange(1)))
    assert sum(sizes) < 4 * n  # about 2.5 evaluations of every agent
    assert sizes[-1] < n // 100
    # every agent at its largest consistent reply to the root (but the one mixed on a jump)
    direct = model.largest(np.arange(1), np.array([prof.sum()]))[0]
    assert np.sum(~np.isclose(prof, direct, rtol=1e-9, atol=1e-9)) <= (0 if exact[0] else 1)


def test_no_hint_below_the_sample_size():
    game = large_game(HINT_FROM - 1)
    assert GlobalBatchModel(game, np.zeros((1, 7))).root_hint(np.arange(1)) is None


def test_restricted_kernel_replies_are_the_agents_replies():
    game = large_game(50, seed=1)
    kernel = game.kernel
    agents = np.array([3, 7, 8, 40])
    sub = kernel.restrict(agents)
    rates = np.array([0.3, 0.1, 0.5, 0.2, 0.9, 0.0, 0.4])
    alpha = np.linspace(0.1, 0.9, 50)
    full = kernel.replies(alpha, kernel.pieces(rates), game.reply_upper_bounds)
    part = sub.replies(alpha[agents], sub.pieces(rates), game.reply_upper_bounds[agents])
    for a, b in zip(full, part, strict=True):
        np.testing.assert_array_equal(a[agents], b)
    assert sub.population == kernel.population and sub.n == agents.size


def test_restrict_needs_the_global_commons():
    rng = np.random.default_rng(0)
    game = random_game(rng, commons="local", family="ring", n=5)
    with pytest.raises(InvalidParameterError, match="global commons"):
        game.kernel.restrict(np.arange(2))


@pytest.mark.parametrize("seed", [0, 1])
def test_segment_roots_match_plain_bracketing(seed):
    # Agents held to random segments of a non-concave tax: the settled solver (from a guess near
    # the root) and plain bracketing with the jumps listed find the same unique restricted root.
    from sedtheory.equilibrium.segments import segment_bounds

    n = HINT_FROM
    rng = np.random.default_rng(seed)
    game = large_game(n, seed)
    rates = np.array([[0.9, 0.3, 0.8, 0.2, 0.7, 0.5, 0.1]])
    model = GlobalBatchModel(game, rates)
    rows = np.arange(1)
    seg_of = model.segments(rows)
    seg = np.array([rng.choice(np.unique(seg_of[0, i])) for i in range(n)])[None, :]
    lo_p, hi_p = model.pieces.lo, model.pieces.hi
    seg_lo, seg_hi = segment_bounds(seg_of, seg, lo_p, hi_p, model.upper[None, :])
    replies = model.restricted(rows, seg_lo, seg_hi)
    old, _ = aggregate_roots(
        lambda sub, agg: replies(sub, agg, None)[:2],
        1,
        n,
        stop_width=1e-11,
        jumps=model.jumps(rows, seg_lo, seg_hi),
    )
    total = old.sum(axis=1)
    for guess in (
        None,
        np.stack([total * 0.999, total * 1.001], axis=1),
        np.stack([2 * total, 3 * total], axis=1),
    ):
        new, exact = settled_roots(replies, 1, n, 1e-12, hint=guess)
        assert exact[0]
        np.testing.assert_allclose(new.sum(axis=1), total, rtol=1e-12)
        np.testing.assert_allclose(new, old, atol=1e-9)
