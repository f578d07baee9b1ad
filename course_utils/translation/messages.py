"""The messages of the learners' packages, one catalog per module.

A message is the English of a call ``translate("...", ...)`` or ``translate_into(language,
"...", ...)`` (:mod:`course_utils.language`)
in a module of :data:`PACKAGES`. Each module with messages has one catalog per language,
``course_utils/locale/<lang>/<package.module>.po``, which the learners' install carries and
:func:`course_utils.language.translate` reads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from course_utils.language import CATALOGS
from course_utils.lesson_files import REPO_ROOT
from course_utils.translation.catalogs import Entry
from course_utils.translation.pieces import MESSAGE

PACKAGES = ("batch_grader", "course_utils", "data_loaders", "graders")
"""The packages whose messages a learner reads: those a learner installs, and the batch
grader, which writes feedback."""
FUNCTIONS = {"translate": 0, "translate_into": 1}
"""The functions of :mod:`course_utils.language` that take a message: the position of its
English among their arguments."""


def module_name(path: Path) -> str:
    """``graders/report.py`` -> ``graders.report``."""
    return ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)


def message_modules() -> list[Path]:
    """The modules of :data:`PACKAGES` that call one of :data:`FUNCTIONS`, sorted."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            if "translate" in source and any(map(_is_translate, ast.walk(ast.parse(source)))):
                found.append(path)
    return found


def catalog_path(module: Path, language: str) -> Path:
    return CATALOGS / language / f"{module_name(module)}.po"


def message_entries(source: str, name: str) -> Iterator[Entry]:
    """The messages of a module's ``source`` (named ``name`` in locations), in order."""
    tree = ast.parse(source)
    constants = _text_constants(tree)
    calls = [node for node in ast.walk(tree) if _is_translate(node)]
    for node in sorted(calls, key=lambda call: (call.lineno, call.col_offset)):
        english = _english(node, constants)
        if english is not None:
            yield Entry(english, MESSAGE, None, f"{name}:{node.lineno}")


def misplaced_calls(source: str, name: str) -> list[str]:
    """The calls of :data:`FUNCTIONS` in ``source`` whose English is neither a string
    literal nor a module constant holding one, which no catalog can list, one line each."""
    tree = ast.parse(source)
    constants = _text_constants(tree)
    found = []
    for node in ast.walk(tree):
        if _is_translate(node) and _english(node, constants) is None:
            position = FUNCTIONS[node.func.id]
            given = node.args[position] if len(node.args) > position else None
            found.append(
                f"{name}:{node.lineno}: {node.func.id}() needs its English as a string "
                f"literal, found {ast.unparse(given) if given is not None else 'no argument'}"
            )
    return found


def _text_constants(tree: ast.Module) -> dict[str, str]:
    """The module's ``NAME = "literal"`` assignments (a message another module matches
    against, such as the wording of a lead on the test split)."""
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and _is_text(node.value)
    }


def _english(call: ast.Call, constants: dict[str, str]) -> str | None:
    """The English a call of one of :data:`FUNCTIONS` takes; None when it is no literal."""
    position = FUNCTIONS[call.func.id]
    if len(call.args) <= position:
        return None
    given = call.args[position]
    if _is_text(given):
        return given.value
    if isinstance(given, ast.Name):
        return constants.get(given.id)
    return None


def _is_translate(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
    )


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)
