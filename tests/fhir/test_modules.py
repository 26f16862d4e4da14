"""The product's modules: no import cycle anywhere in ``conformance`` (lazy imports
included), no module over ~600 lines without a reason at its top, and each FHIR engine
module importable on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import conformance
import conformance.fhir

ROOT = Path(conformance.__file__).parent
PACKAGE = Path(conformance.fhir.__file__).parent


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("conformance", *parts))


def _imports(path: Path) -> set[str]:
    """The conformance modules a module imports, at any level (lazy imports in functions
    too), except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    package = _module_of(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up) + ("." + base if base else "")
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m.startswith("conformance")}


def test_no_import_cycle() -> None:
    files = {_module_of(p): p for p in ROOT.rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}
    # a package's __init__ importing its own submodules is not a cycle of concern
    for m in graph:
        graph[m] = {i for i in graph[m] if not i.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for i in sorted(graph[m]):
            if state.get(i) == 1:
                cycle = [*stack[stack.index(i) :], i]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if i not in state:
                walk(i)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m)


@pytest.mark.parametrize(
    "module",
    sorted({_module_of(p) for p in PACKAGE.glob("*.py")} | {"conformance.fhir.data"}),
)
def test_each_module_imports_alone(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_no_module_over_600_lines_without_a_reason() -> None:
    for path in ROOT.rglob("*.py"):
        lines = path.read_text().splitlines()
        if len(lines) > 600:
            head = "\n".join(lines[:15]).lower()
            assert "longer than" in head or "lines because" in head, str(path)
