"""Fail when the built docs site shows raw reST markup or unrendered mathematics.

Usage: ``python docs/_ext/check_site.py SITE_DIR``. Looks at the visible text of every page
(outside code blocks) for reST roles and directives (``:math:``, ``:func:``, ``.. math::``) and
``$`` signs that arithmatex did not turn into MathJax input; exits 1 listing them.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

_RAW = re.compile(r":(?:math|func|class|mod|meth|attr|data|exc|obj|ref|doc):`|\.\. math::|\$\$?[^$\s][^$]*\$")


class _Text(HTMLParser):
    """Visible text outside <pre>, <code> and MathJax spans."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("pre", "code", "script", "style") or ("class", "arithmatex") in attrs:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("pre", "code", "script", "style", "span", "div") and self.skip:
            self.skip -= 1 if tag in ("pre", "code", "script", "style") else 0

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def problems(site: Path) -> list[str]:
    found = []
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(errors="replace")
        html = re.sub(r'<(span|div) class="arithmatex">.*?</\1>', " ", html, flags=re.S)
        parser = _Text()
        parser.feed(html)
        text = " ".join(parser.chunks)
        for match in _RAW.finditer(text):
            found.append(f"{page.relative_to(site)}: {match.group(0)[:60]!r}")
    return found


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "site")
    if not site.is_dir():
        print(f"no site at {site}; build it first (mkdocs build)", file=sys.stderr)
        return 2
    found = problems(site)
    for line in found[:50]:
        print(line)
    print(f"{len(found)} raw markup or unrendered formulas in {site}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
