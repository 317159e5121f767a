"""The docs site check finds raw reST markup and unrendered formulas (planted pages)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_check_finds_planted_raw_markup(tmp_path: Path) -> None:
    check = _module("check_site")
    (tmp_path / "a.html").write_text("<p>the bound :math:`M_p` and :func:`~x.y`</p>")
    (tmp_path / "b.html").write_text("<p>.. math:: x = 1</p><p>$x^2$ left raw</p>")
    clean = '<p>fine <span class="arithmatex">\\(x^2\\)</span> and <code>:math:`x`</code></p>'
    (tmp_path / "c.html").write_text(clean)
    found = check.problems(tmp_path)
    assert len([f for f in found if f.startswith("a.html")]) == 2
    assert len([f for f in found if f.startswith("b.html")]) == 2
    assert not [f for f in found if f.startswith("c.html")]


def test_docstring_roles_become_markdown_math() -> None:
    roles = _module("math_roles")
    text = (
        "Intro :math:`k_i = \\sigma_i\n - s_i/n` see :func:`~sedtheory.pmean`."
        "\n\n.. math:: a = b\n   + c\n\nEnd"
    )
    out = roles.convert(text)
    assert "$k_i = \\sigma_i - s_i/n$" in out and "`pmean`" in out
    assert "$$\na = b + c\n$$" in out and ":math:" not in out and ".. math::" not in out
