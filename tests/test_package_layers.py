"""How the course's packages may import each other: no import circles (counting imports
inside functions too), nothing of the learners' packages reaches the instructor's batch
grader, and the batch grader's sandboxed part imports nothing of the grader's own side
(a sandbox sees only that part, :data:`batch_grader.trusted.isolation.SANDBOX_SOURCES`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from batch_grader.trusted.isolation import SANDBOX_SOURCES
from course_utils.lesson_files import REPO_ROOT

pytestmark = pytest.mark.unit

PACKAGES = ("batch_grader", "course_utils", "data_loaders", "graders")
LEARNERS_PACKAGES = ("course_utils", "data_loaders", "graders")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
    }


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The course's modules that module ``name`` imports, anywhere in it: ``import a.b``
    and ``from a.b import c`` name ``a.b`` (and ``a.b.c`` when that is a module), ``from a
    import b`` the package ``a`` only when ``b`` is no module of it. (A package's
    ``__init__`` runs before its modules, whatever they import.)"""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            found |= submodules
            if len(submodules) < len(node.names):
                found.add(base)
    return (found & known) - {name}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, set(known)) for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph``: one cycle per strongly connected component of more
    than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph.get(module, ())):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


LEFT_CIRCLES = [
    [
        "graders.lesson00",
        "graders.reference_outputs",
        "graders.reference_values",
        "graders.resnet_blocks",
        "graders.resnet_model",
    ]
]
"""Circles not yet taken apart: in the repository, ``reference_output`` computes a key with
:mod:`graders.reference_values`, which takes the fixed inputs from the checks' modules
that ask for it (they would move to modules of their own)."""


def test_no_module_of_the_course_imports_itself_in_a_circle():
    assert circles(import_graph()) == LEFT_CIRCLES


def test_the_learners_packages_import_nothing_of_the_batch_grader():
    reaching = {
        name: sorted(m for m in imports if m.startswith("batch_grader"))
        for name, imports in import_graph().items()
        if name.startswith(LEARNERS_PACKAGES)
    }
    assert {name: found for name, found in reaching.items() if found} == {}


def test_the_sandboxed_part_imports_nothing_of_the_graders_side():
    grader_side = {
        name: sorted(
            m for m in imports if m.startswith("batch_grader.") and not m.startswith(SANDBOXED)
        )
        for name, imports in import_graph().items()
        if name.startswith(SANDBOXED)
    }
    assert {name: found for name, found in grader_side.items() if found} == {}


SANDBOXED = "batch_grader.sandboxed"


def test_a_sandbox_sees_the_sandboxed_part_and_no_more_of_the_batch_grader():
    seen = [source for source in SANDBOX_SOURCES if source.startswith("batch_grader")]
    assert seen == ["batch_grader/__init__.py", "batch_grader/sandboxed"]
    assert ast.parse((REPO_ROOT / "batch_grader" / "__init__.py").read_text()).body[1:] == []
