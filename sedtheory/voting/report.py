r"""The vote over p on a game, summarised: who prefers what, who wins under each rule, and what it gives.

:func:`vote_report` is the notebook-ready entry point: for a game (the seed's apple-picking
scenario by default) it computes each agent's preferences over the candidate p (at the
principal's optimum for each), the winner under every registered rule, the policy and welfare
that winner brings, the Condorcet winner or cycles, single-peakedness and whether a single
agent can manipulate each rule.

Examples
--------
>>> import sedtheory as sed
>>> report = sed.voting.vote_report(candidates=[float("-inf"), 0.0, 1.0], manipulation=False)
>>> float(report.winners.loc["condorcet", "winner"])
0.0
>>> sorted(report.winners.columns)[:3]
['M_-inf', 'M_0', 'M_1']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sedtheory.games.protocol import Game
from sedtheory.markdown import table
from sedtheory.scenarios import apple_picking
from sedtheory.voting.analysis import condorcet_winner, majority_cycles
from sedtheory.voting.manipulation import Manipulation, find_manipulation
from sedtheory.voting.preferences import DEFAULT_CANDIDATES, PreferencesOverP, preferences_over_p
from sedtheory.voting.rules import RULES, get_rule
from sedtheory.voting.winners import winner, winners
from sedtheory.welfare import format_p

__all__ = ["VotingReport", "vote_report", "winner_welfare", "default_rule_options"]


def default_rule_options(
    prefs: PreferencesOverP, types: npt.ArrayLike | None = None, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Options that make every registered rule runnable on ``prefs``' profile.

    ``score`` gets the agents' utilities, ``fork_weighted_median`` the (sincerely) reported
    ``types`` (by default, when known, each agent's selfishness), ``seed_threshold`` the seed
    and its two choices: p = 1 (or the candidate nearest to it) and the smallest candidate.
    """
    cands = prefs.candidates
    utilitarian = 1.0 if 1.0 in cands else min(cands, key=lambda c: abs(c - 1.0))
    choices = (utilitarian, min(cands))  # the seed's utilitarian / egalitarian, or the nearest
    opts: dict[str, dict[str, Any]] = {
        "score": {"utilities": prefs.utilities},
        "seed_threshold": {"seed": seed, "choices": choices},
    }
    if types is not None:
        opts["fork_weighted_median"] = {"types": np.asarray(types, dtype=float)}
    return opts


def winner_welfare(
    prefs: PreferencesOverP,
    rules: Sequence[str] | None = None,
    tie_break: Sequence[Any] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """Each rule's winner and the welfare of the policy it brings under every candidate p.

    Returns
    -------
    pandas.DataFrame
        Indexed by rule: ``winners`` (tied), ``winner`` (tie-broken), ``rates`` of the
        principal's optimum for the winner, and ``M_q`` for every candidate q: the q-mean of
        the agents' utilities under that policy. Rules needing options missing from
        ``rule_options`` are skipped.
    """
    import pandas as pd

    opts = dict(rule_options or {})
    names = list(rules) if rules is not None else [n for n, r in RULES.items() if not r.required or n in opts]
    rows = []
    for name in names:
        get_rule(name)
        o = dict(opts.get(name, {}))
        tied = winners(prefs.rankings, name, weights=prefs.weights, **o)
        w = winner(prefs.rankings, name, tie_break=tie_break, weights=prefs.weights, **o)
        k = prefs.candidates.index(w)
        row: dict[str, Any] = {
            "rule": name,
            "winners": ", ".join(format_p(c) for c in tied),
            "winner": w,
            "rates": tuple(round(float(r), 4) for r in prefs.designs[k].x),
        }
        for q in prefs.candidates:
            row[f"M_{format_p(q)}"] = prefs.welfare(q)[k]
        rows.append(row)
    return pd.DataFrame(rows).set_index("rule")


@dataclass(frozen=True)
class VotingReport:
    """The vote over p on one game (see :func:`vote_report`).

    Attributes
    ----------
    preferences : PreferencesOverP
    winners : pandas.DataFrame
        :func:`winner_welfare` for every rule.
    condorcet_winner : float or None
    cycles : list of tuples
        Cycles of the strict majority relation (empty when it is acyclic).
    manipulations : dict
        Rule name -> a single-agent :class:`Manipulation` witness or None (not searched: absent).
    rule_options : dict
        The options each rule was run with.
    """

    preferences: PreferencesOverP
    winners: Any
    condorcet_winner: Any
    cycles: list[tuple[Any, ...]]
    manipulations: dict[str, Manipulation | None] = field(default_factory=dict)
    rule_options: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_markdown(self) -> str:
        """The report as Markdown tables (agents' preferences; winners and their welfare)."""
        prefs = self.preferences
        frame = prefs.to_frame()
        lines = ["### Preferences over p (utility at the principal's optimum for each p)", ""]
        flat = frame.reset_index()
        lines += table(flat.columns, flat.itertuples(index=False))
        sp = "yes" if prefs.single_peaked else f"no (agents {list(prefs.violators)})"
        lines += [
            "",
            f"Single-peaked on the p axis: {sp}. Condorcet winner: "
            f"{'none' if self.condorcet_winner is None else format_p(self.condorcet_winner)}"
            + (f"; majority cycles: {self.cycles}" if self.cycles else "")
            + ".",
            "",
            "### Winner under each rule and the welfare of the policy it brings",
            "",
        ]
        winners = self.winners.reset_index()
        if self.manipulations:
            winners["manipulable"] = [
                "-" if r not in self.manipulations else ("yes" if self.manipulations[r] else "no")
                for r in winners["rule"]
            ]
        lines += table(winners.columns, winners.itertuples(index=False))
        return "\n".join(lines) + "\n"


def vote_report(
    game: Game | None = None,
    candidates: Sequence[float] = DEFAULT_CANDIDATES,
    rules: Sequence[str] | None = None,
    tie_break: Sequence[Any] | None = None,
    types: Sequence[float] | None = None,
    seed: int = 0,
    manipulation: bool = True,
    **optimal_tax_options: Any,
) -> VotingReport:
    """Preferences over p, each rule's winner and its welfare, Condorcet analysis, manipulability.

    Parameters
    ----------
    game : Game, optional
        Default: :func:`sedtheory.scenarios.apple_picking`.
    candidates : sequence of float
        Candidate p values.
    rules : sequence of str, optional
        Default: every registered rule.
    tie_break : sequence, optional
        Single-winner tie-break (default: the smallest p).
    types : sequence of float, optional
        Types reported to ``fork_weighted_median`` (default: the agents' selfishness).
    seed : int
        Seed of ``seed_threshold``'s random numbers.
    manipulation : bool
        Search single-agent manipulations of every rule (exhaustive; a few seconds). A
        manipulation must raise the agent's utility: outcomes tied in utility with the sincere
        one (two p with the same optimal policy) do not count, whatever the ranking's tie-break.
    **optimal_tax_options
        Passed to :func:`~sedtheory.principal.optimal_tax`.
    """
    g = apple_picking() if game is None else game
    prefs = preferences_over_p(g, candidates, **optimal_tax_options)
    reported = g.society.selfishness if types is None else types
    opts = default_rule_options(prefs, reported, seed)
    names = list(rules) if rules is not None else list(RULES)
    table = winner_welfare(prefs, names, tie_break, opts)
    found: dict[str, Manipulation | None] = {}
    if manipulation:
        for name in names:
            found[name] = find_manipulation(
                prefs.rankings,
                name,
                tie_break=tie_break,
                sincere_utilities=prefs.utilities,
                **opts.get(name, {}),
            )
    return VotingReport(
        preferences=prefs,
        winners=table,
        condorcet_winner=condorcet_winner(prefs.rankings, prefs.weights),
        cycles=majority_cycles(prefs.rankings),
        manipulations=found,
        rule_options=opts,
    )
