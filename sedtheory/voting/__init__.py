"""Voting over the principal's objective: profiles, rules, analysis, manipulation, preferences over p.

Rankings are sequences of candidates, best first. ``winners(rankings, rule)`` returns the
sorted list of tied winners of a rule registered in :data:`RULES`; see
:mod:`sedtheory.voting.rules` for the definitions and the tie-break of ``winner``.
"""

from sedtheory.voting.analysis import (
    condorcet_winner,
    is_single_peaked,
    majority_cycles,
    majority_graph,
    random_profiles,
    rule_agreement,
    single_peaked_axis,
    weak_condorcet_winners,
)
from sedtheory.voting.interop import from_pref_voting, to_pref_voting
from sedtheory.voting.manipulation import Manipulation, find_manipulation, is_manipulable
from sedtheory.voting.preferences import (
    DEFAULT_CANDIDATES,
    PreferencesOverP,
    preferences_over_p,
    rank_by_utility,
)
from sedtheory.voting.profile import Profile, as_profile, sort_candidates
from sedtheory.voting.report import VotingReport, vote_report, winner_welfare
from sedtheory.voting.rules import RULES, Ballots, VotingRule, get_rule, voting_rule
from sedtheory.voting.winners import winner, winners

__all__ = [
    "DEFAULT_CANDIDATES",
    "RULES",
    "Ballots",
    "Manipulation",
    "PreferencesOverP",
    "Profile",
    "VotingReport",
    "VotingRule",
    "as_profile",
    "condorcet_winner",
    "find_manipulation",
    "from_pref_voting",
    "get_rule",
    "is_manipulable",
    "is_single_peaked",
    "majority_cycles",
    "majority_graph",
    "preferences_over_p",
    "random_profiles",
    "rank_by_utility",
    "rule_agreement",
    "single_peaked_axis",
    "sort_candidates",
    "to_pref_voting",
    "vote_report",
    "voting_rule",
    "weak_condorcet_winners",
    "winner",
    "winner_welfare",
    "winners",
]
