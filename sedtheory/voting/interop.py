r"""Conversion to and from `pref_voting <https://pref-voting.readthedocs.io>`_ profiles.

pref_voting names candidates ``0 .. K-1``; sedtheory's candidates are arbitrary sortable
values (the p of the objectives). ``to_pref_voting`` uses the index of each candidate in the
sorted candidate list and records the candidates' names in the profile's ``cmap``;
``from_pref_voting`` maps indices back through ``candidates`` when given (otherwise the
integers are kept). pref_voting is an optional dependency (``pip install sedtheory[voting]``).

Examples
--------
>>> from sedtheory.voting import to_pref_voting, from_pref_voting
>>> prof = to_pref_voting([[1.0, 0.0, -1.0], [0.0, -1.0, 1.0]])
>>> [tuple(int(c) for c in r) for r in prof.rankings]
[(2, 1, 0), (1, 0, 2)]
>>> from_pref_voting(prof, candidates=(-1.0, 0.0, 1.0))
[(1.0, 0.0, -1.0), (0.0, -1.0, 1.0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sedtheory.errors import InvalidParameterError, ProfileError
from sedtheory.voting.profile import as_profile

__all__ = ["to_pref_voting", "from_pref_voting"]


def _pref_voting() -> Any:
    try:
        from pref_voting import profiles
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise InvalidParameterError(
            "pref_voting", None, "install the optional dependency: pip install 'sedtheory[voting]'"
        ) from exc
    return profiles


def to_pref_voting(rankings: Any) -> Any:
    """A ``pref_voting`` ``Profile`` of ``rankings`` (sorted indices as candidates, names in ``cmap``)."""
    profiles = _pref_voting()
    prof = as_profile(rankings)
    cmap = {i: (c if isinstance(c, str) else repr(c)) for i, c in enumerate(prof.candidates)}
    return profiles.Profile([list(map(int, row)) for row in prof.order], cmap=cmap)


def from_pref_voting(profile: Any, candidates: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """The rankings (one per voter, counts expanded) of a pref_voting ``Profile``.

    ``candidates[i]`` replaces pref_voting's candidate ``i`` when given; it must list one
    candidate per pref_voting candidate.
    """
    profiles = _pref_voting()
    if not isinstance(profile, profiles.Profile):
        raise ProfileError(
            "profile",
            profile,
            "pass a pref_voting.profiles.Profile of linear orders (ProfileWithTies is not supported)",
        )
    names = list(profile.candidates)
    if candidates is not None:
        cands = list(candidates)
        if len(cands) != len(names) or len(set(cands)) != len(cands):
            raise ProfileError(
                "candidates",
                cands,
                f"give {len(names)} distinct candidates, one per pref_voting candidate {names}",
            )
        mapping = dict(zip(names, cands, strict=True))
    else:
        mapping = {c: int(c) for c in names}
    out = [tuple(mapping[int(c)] for c in r) for r in profile.rankings]
    as_profile(out)  # validates (e.g. a profile with zero voters)
    return out
