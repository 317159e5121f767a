"""Winners of a registered voting rule on a profile: tie-breaking, batching, the front doors.

Examples
--------
>>> from sedtheory.voting import winners, winner
>>> winners([["a", "b"], ["b", "a"], ["a", "b"]], "plurality")
['a']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sedtheory.errors import InvalidParameterError, ProfileError
from sedtheory.voting.profile import Profile, as_profile
from sedtheory.voting.rules import Ballots, VotingRule, get_rule

__all__ = ["prepare", "tie_break_order", "voter_weights", "winner", "winner_masks", "winners"]


def tie_break_order(profile: Profile, tie_break: Sequence[Any] | None) -> np.ndarray:
    """Priority of every candidate index (lower wins the tie): sorted order, or ``tie_break``."""
    k = profile.n_candidates
    if tie_break is None:
        return np.arange(k)
    items = list(tie_break)
    idx = [profile.index(c) for c in items]
    if sorted(idx) != list(range(k)):
        raise InvalidParameterError(
            "tie_break", items, f"list every candidate exactly once, e.g. {list(profile.candidates)}"
        )
    priority = np.empty(k, dtype=np.int64)
    priority[idx] = np.arange(k)
    return priority


def prepare(
    profile: Profile, rule: VotingRule, options: Mapping[str, Any]
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """Validate a rule's options against a profile: (utilities (n, K), types (n,), kernel options)."""
    unknown = sorted(set(options) - set(rule.options))
    if unknown:
        raise InvalidParameterError(
            unknown[0], options[unknown[0]], f"rule {rule.name!r} accepts the options {list(rule.options)}"
        )
    missing = [o for o in rule.required if options.get(o) is None]
    if missing:
        raise InvalidParameterError(missing[0], None, f"rule {rule.name!r} needs {missing[0]}=...")
    n, k = profile.n_voters, profile.n_candidates
    rest = {key: val for key, val in options.items() if key not in ("utilities", "types")}
    utilities = types = None
    if "utilities" in options and options["utilities"] is not None:
        utilities = np.asarray(options["utilities"], dtype=float)
        if utilities.shape != (n, k) or not np.all(np.isfinite(utilities)):
            raise InvalidParameterError(
                "utilities",
                options["utilities"],
                f"pass finite utilities of shape (voters, candidates) = ({n}, {k}), columns in the "
                f"sorted candidate order {list(profile.candidates)}",
            )
    if "types" in options and options["types"] is not None:
        types = np.asarray(options["types"], dtype=float)
        if types.shape != (n,) or not np.all((types >= 0) & (types <= 1)):
            raise InvalidParameterError("types", options["types"], f"pass {n} reported types in [0, 1]")
    if rule.name == "fork_weighted_median":
        try:
            values = np.asarray(profile.candidates, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ProfileError("candidates", list(profile.candidates), "this rule needs numeric p") from exc
        if np.any(np.isnan(values)):
            raise ProfileError("candidates", list(profile.candidates), "this rule needs numeric p")
        groups = rest.get("groups")
        if groups is not None:
            arr = np.asarray(groups)
            if arr.shape != (n,):
                raise InvalidParameterError("groups", groups, f"pass one group label per voter ({n})")
            rest["groups"] = np.unique(arr, return_inverse=True)[1]
    if rule.name == "median" and rest.get("axis") is not None:
        axis = list(rest["axis"])
        idx = [profile.index(c) for c in axis]
        if sorted(idx) != list(range(k)):
            raise InvalidParameterError(
                "axis", axis, f"order every candidate once, e.g. {list(profile.candidates)}"
            )
        place = np.empty(k, dtype=np.int64)
        place[idx] = np.arange(k)
        rest["axis"] = place
    return utilities, types, rest


def winner_masks(
    profile: Profile,
    rule: VotingRule,
    orders: np.ndarray,
    utilities: np.ndarray | None,
    types: np.ndarray | None,
    options: Mapping[str, Any],
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Winner masks (m, K) of a batch of ballots (orders (m, n, K), utilities (m, n, K), types
    (m, n), voter weights (n,))."""
    return rule.kernel(Ballots(profile.candidates, orders, utilities, types, weights), **options)


def voter_weights(profile: Profile, weights: Any) -> np.ndarray | None:
    """Validated voter weights (n,), finite and > 0; ``None`` passes through (one vote each)."""
    if weights is None:
        return None
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        w = np.full(0, np.nan)
    if w.shape != (profile.n_voters,) or not np.all(np.isfinite(w) & (w > 0)):
        raise InvalidParameterError(
            "weights", weights, f"pass one finite weight > 0 per voter ({profile.n_voters})"
        )
    return w


def _run(
    rankings: Any, rule: str | VotingRule, options: Mapping[str, Any], weights: Any = None
) -> tuple[Profile, VotingRule, np.ndarray]:
    r = get_rule(rule)
    profile = as_profile(rankings)
    utilities, types, rest = prepare(profile, r, options)
    mask = winner_masks(
        profile,
        r,
        profile.order[None],
        None if utilities is None else utilities[None],
        None if types is None else types[None],
        rest,
        voter_weights(profile, weights),
    )[0]
    return profile, r, mask


def winners(rankings: Any, rule: str | VotingRule, weights: Any = None, **options: Any) -> list[Any]:
    """The tied winners of ``rule`` on ``rankings``, in sorted candidate order.

    Parameters
    ----------
    rankings : sequence of rankings (best first) or Profile
    rule : str
        A name in :data:`RULES`.
    weights : array_like, optional
        One weight > 0 per voter (population masses): a voter of weight w counts as w identical
        voters. Default: one vote each.
    **options
        The rule's options (see :data:`RULES` ``[rule].options``), e.g. ``utilities=`` for
        ``score``, ``types=`` for ``fork_weighted_median``, ``k=`` for ``approval``.

    Raises
    ------
    ProfileError
        Empty profile, repeated candidates, voters ranking different candidate sets.
    InvalidParameterError
        Unknown rule (the message lists the valid ones), unknown or missing options.
    """
    profile, _, mask = _run(rankings, rule, options, weights)
    return [profile.candidates[c] for c in np.flatnonzero(mask)]


def winner(
    rankings: Any,
    rule: str | VotingRule,
    tie_break: Sequence[Any] | None = None,
    weights: Any = None,
    **options: Any,
) -> Any:
    """The single winner: the first of :func:`winners` in ``tie_break`` order (default: sorted
    order); ``weights`` as in :func:`winners`."""
    profile, _, mask = _run(rankings, rule, options, weights)
    priority = tie_break_order(profile, tie_break)
    return profile.candidates[int(np.argmin(np.where(mask, priority, np.iinfo(np.int64).max)))]
