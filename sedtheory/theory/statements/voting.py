"""Statements on voting: the median voter and Gibbard-Satterthwaite."""

from __future__ import annotations

from typing import Any

import numpy as np

from sedtheory.theory.registry import Instance, statement

__all__: list[str] = []


def _gen_sp_profile(rng: np.random.Generator) -> Instance:
    from sedtheory.voting import random_profiles

    k = int(rng.integers(2, 7))
    n = int(rng.integers(1, 12))
    model = "single_peaked" if rng.random() < 0.8 else "impartial_culture"
    return {"profile": random_profiles(n, list(range(k)), 1, model=model, seed=int(rng.integers(1 << 30)))[0]}


def _cyclic_profile() -> Any:
    from sedtheory.voting import as_profile

    return as_profile([[0, 1, 2], [1, 2, 0], [2, 0, 1]])


def _median_hyp(inst: Instance) -> bool:
    from sedtheory.voting import is_single_peaked

    return inst["profile"].n_voters % 2 == 1 and is_single_peaked(inst["profile"])


@statement(
    "median_voter_theorem",
    text=(
        "If an odd number of voters have preferences single-peaked on an axis, the median of their peaks "
        "is the Condorcet winner (and the median rule is strategy-proof)."
    ),
    hypotheses=("single-peaked on the axis", "odd number of voters"),
    citation="Black (1948); Moulin, On strategy-proofness and single peakedness, Public Choice (1980)",
    generate=_gen_sp_profile,
    holds_on=_median_hyp,
    planted=lambda: {"profile": _cyclic_profile()},
    how="Condorcet winner by pairwise majorities against the median peak; single-voter manipulation search.",
    instances=300,
)
def _median_voter(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.voting import condorcet_winner, find_manipulation

    prof = inst["profile"]
    peaks = sorted(prof.candidates[c] for c in prof.tops)
    median = peaks[len(peaks) // 2]
    cw = condorcet_winner(prof)
    out = (
        [] if cw == median else [{"median_peak": median, "condorcet_winner": cw, "rankings": prof.rankings()}]
    )
    witness = find_manipulation(prof, "median")
    if witness is not None:
        out.append({"manipulation": witness})
    return out


def _gen_gs(rule: str) -> Any:
    def gen(rng: np.random.Generator) -> Instance:
        return {
            "rule": rule,
            "candidates": 3,
            "voters": int(rng.integers(3, 7)),
            "seed": int(rng.integers(1 << 30)),
        }

    return gen


def _gs_check(inst: Instance) -> list[dict[str, Any]]:
    from sedtheory.voting import find_manipulation, random_profiles

    for prof in random_profiles(inst["voters"], list(range(inst["candidates"])), 300, seed=inst["seed"]):
        if find_manipulation(prof, inst["rule"]) is not None:
            return []
    return [
        {
            "rule": inst["rule"],
            "no_witness_in": 300,
            "voters": inst["voters"],
            "candidates": inst["candidates"],
        }
    ]


def _two_candidates(rule: str) -> Any:
    def planted() -> Instance:  # dropped hypothesis: with 2 candidates these rules are strategy-proof
        return {"rule": rule, "candidates": 2, "voters": 3, "seed": 0}

    return planted


for _rule, _cite in (("plurality", "plurality"), ("borda", "Borda")):
    statement(
        f"gibbard_satterthwaite_{_rule}",
        text=(
            f"With 3 or more candidates {_cite} (onto, non-dictatorial) is manipulable: some profile admits "
            "a voter whose misreport elects a candidate it strictly prefers."
        ),
        hypotheses=("at least 3 candidates", "the rule is onto and not dictatorial"),
        citation="Gibbard, Econometrica (1973); Satterthwaite, JET (1975)",
        generate=_gen_gs(_rule),
        holds_on=lambda inst: inst["candidates"] >= 3,
        planted=_two_candidates(_rule),
        how="Up to 300 random profiles searched exhaustively for a single-voter manipulation (verified).",
        instances=40,
    )(_gs_check)
