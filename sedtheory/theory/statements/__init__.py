r"""The registered statements: p-means, taxes, the SED game, voting, learning, findings, and
the dynamic commons.

One module per topic; each function there is the check of one statement, and its decorator
registers it with its text, hypotheses, citation, instance generator and planted violation.
Tolerances are relative (``1e-9`` unless said otherwise) and every counterexample records the
numbers that violate the statement. Importing this package registers them all.
"""

# registration order (the order of THEOREMS): p-means, taxes, the game, voting, learning, findings
from sedtheory.theory.statements import means, taxes, game, masses, voting, learning, findings, dynamic  # noqa: I001

__all__ = ["dynamic", "findings", "game", "learning", "masses", "means", "taxes", "voting"]
