"""Architecture contract: layers, module and function sizes, no private imports across modules,
no commons-specific type checks outside the commons package, lazy cvxpy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "sedtheory"

#: Each top-level module or package of sedtheory and its layer; a module may import only from
#: its own layer or lower ones (core < games < equilibrium < principal < sed/learning < report/cli).
LAYERS = {
    "errors": 0,
    "registry": 0,
    "validate": 0,
    "markdown": 0,
    "taxes": 0,
    "welfare": 0,
    "objective": 0,
    "certificate": 0,
    "society": 0,
    "games": 1,
    "game": 1,
    "families": 1,
    "scenarios": 1,
    "equilibrium": 2,
    "symbolic": 2,
    "principal": 3,
    "loop": 4,
    "voting": 4,
    "learning": 4,
    "envs": 4,
    "theory": 4,
    "plotting": 4,
    "report": 5,
    "cli": 5,
}
NAMES = ["core", "games", "equilibrium", "principal", "sed/learning", "report/cli"]


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if p != ROOT / "__init__.py")


def _top(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.lineno not in skip:
            out.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import) and node.lineno not in skip:
            out += [(node.lineno, a.name, []) for a in node.names]
    return out


def test_every_module_has_a_layer() -> None:
    assert {_top(p) for p in _modules()} <= set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_respect_the_layers(path: Path) -> None:
    mine = LAYERS[_top(path)]
    for line, module, _ in _imports(path):
        parts = module.split(".")
        if parts[0] != "sedtheory" or len(parts) < 2:
            continue
        theirs = LAYERS[parts[1]]
        assert theirs <= mine, (
            f"{path.name}:{line} ({NAMES[mine]}) imports {module} ({NAMES[theirs]}), a higher layer"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_across_modules(path: Path) -> None:
    for line, module, names in _imports(path):
        if module.startswith("sedtheory"):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            assert not private, f"{path.name}:{line} imports private {private} from {module}"
            assert not any(p.startswith("_") for p in module.split(".")), f"{path.name}:{line}: {module}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_sizes(path: Path) -> None:
    text = path.read_text()
    lines = text.splitlines()
    assert len(lines) <= 600, f"{path.name} has {len(lines)} lines (at most 600)"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            first = body[0]
            docstring = isinstance(first, ast.Expr) and isinstance(
                getattr(first, "value", None), ast.Constant
            )
            start = (first.end_lineno or first.lineno) + 1 if docstring and len(body) > 1 else first.lineno
            code = [
                ln
                for ln in lines[start - 1 : node.end_lineno]
                if ln.strip() and not ln.strip().startswith("#")
            ]
            assert len(code) <= 80, f"{path.name}:{node.lineno} {node.name} has {len(code)} code lines"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_commons_checks_stay_in_the_commons_package(path: Path) -> None:
    if "games/commons" in path.as_posix():
        return
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "isinstance"
            and len(node.args) == 2
        ):
            assert "CommonsGame" not in ast.unparse(node.args[1]), f"{path.name}:{node.lineno}"


def test_voting_does_not_import_cvxpy() -> None:
    code = "import sys, sedtheory.voting, sedtheory; print('cvxpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_planted_violation_is_caught(tmp_path: Path) -> None:
    """The layer check fails on a core module importing the principal (a planted violation)."""
    bad = tmp_path / "welfare.py"
    bad.write_text("from sedtheory.principal import optimal_tax\n")
    ((line, module, _),) = _imports(bad)
    assert LAYERS[module.split(".")[1]] > LAYERS["welfare"]
