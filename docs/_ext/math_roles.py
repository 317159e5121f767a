"""A griffe extension for the API reference: the docstrings' reST markup as Markdown.

mkdocstrings renders numpydoc docstrings as Markdown, which does not know reST's
``:math:`...``` role nor the ``.. math::`` directive; this extension rewrites them, when the
package is loaded for the docs, into arithmatex's ``$...$`` and ``$$...$$`` (the source keeps
the reST form that numpydoc, Sphinx and ``help()`` read). Cross-reference roles
(``:func:``, ``:class:``, ...) become code spans.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":math:`([^`]+)`")
#: Sphinx cross-reference roles: shown as code (the last component for a ``~`` target).
_XREF = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|ref|doc):`~?([^`]+)`")


def _xref(match: re.Match[str]) -> str:
    target = match.group(1)
    shown = target.rsplit(".", 1)[-1] if match.group(0).split("`")[1].startswith("~") else target
    return f"`{shown}`"


def convert(text: str) -> str:
    """reST math (roles and ``.. math::`` directives) in ``text`` as ``$...$`` / ``$$...$$``."""
    text = _ROLE.sub(lambda m: "$" + " ".join(m.group(1).split()) + "$", text)
    text = _XREF.sub(_xref, text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped.startswith(".. math::"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        body = [stripped[len(".. math::") :].strip()]
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
        ):
            body.append(lines[i].strip())
            i += 1
        formula = " ".join(b for b in body if b)
        out += ["", f"{indent}$$", f"{indent}{formula}", f"{indent}$$", ""]
    return "\n".join(out)


class MathRoles(griffe.Extension):
    """Rewrite every docstring's reST mathematics when griffe loads an object."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        doc = getattr(obj, "docstring", None)
        if doc is not None and (":" in doc.value or ".. math::" in doc.value):
            doc.value = convert(doc.value)
