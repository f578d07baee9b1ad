"""From a solution notebook to its student notebook: each ``### BEGIN SOLUTION`` ...
``### END SOLUTION`` region of a solution cell replaced by ``# YOUR CODE HERE`` at the
region's indentation, outputs stripped, nbformat's canonical JSON. The release step
(:mod:`course_utils.release`) and the student edition (:mod:`course_utils.student_edition`)
both write notebooks with it."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from course_utils.lesson_files import LESSONS, lesson_paths

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "# YOUR CODE HERE"
_KEPT_CELL_METADATA = ("nbgrader", "tags")
_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")
_REGION = re.compile(
    r"^(?P<indent>[ \t]*)" + re.escape(BEGIN) + r"[^\n]*\n.*?^[ \t]*" + re.escape(END) + r"[^\n]*$",
    re.MULTILINE | re.DOTALL,
)


class ReleaseError(ValueError):
    """A solution notebook cannot be released (an unbalanced or misplaced region)."""


def canonical_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as committed: nbformat v4 JSON (indent 1, sorted keys), newline-ended."""
    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"


def strip_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without outputs, execution counts, or metadata other than nbgrader and tags."""
    result = copy.deepcopy(notebook)
    result.metadata = nbformat.from_dict(
        {k: v for k, v in result.metadata.items() if k in _KEPT_NOTEBOOK_METADATA}
    )
    for cell in result.cells:
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in _KEPT_CELL_METADATA}
        )
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return result


def clear_solutions(source: str, where: str = "cell") -> str:
    """Replace every solution region in ``source`` with the stub, keeping indentation."""
    begins, ends = source.count(BEGIN), source.count(END)
    if begins != ends:
        raise ReleaseError(f"{where}: {begins} '{BEGIN}' but {ends} '{END}' lines.")
    return _REGION.sub(lambda m: m.group("indent") + STUB, source)


def is_solution_cell(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def student_version(
    solution: nbformat.NotebookNode, name: str = "notebook"
) -> nbformat.NotebookNode:
    """The student notebook for a solution notebook (stripped here)."""
    student = strip_notebook(solution)
    for index, cell in enumerate(student.cells):
        has_region = BEGIN in cell.source or END in cell.source
        if has_region and not (cell.cell_type == "code" and is_solution_cell(cell)):
            raise ReleaseError(
                f"{name}, cell {index}: a solution region outside a code cell marked "
                "nbgrader solution: true."
            )
        if cell.cell_type == "code" and is_solution_cell(cell):
            if BEGIN not in cell.source:
                raise ReleaseError(
                    f"{name}, cell {index}: marked as a solution cell but has no '{BEGIN}'."
                )
            cell.source = clear_solutions(cell.source, f"{name}, cell {index}")
    return student


def student_notebooks(into: Path, lessons: Path = LESSONS) -> dict[Path, nbformat.NotebookNode]:
    """The student notebook of each solution notebook in ``lessons``, by where the release
    writes it (``into/NN_topic.ipynb``), in lesson order."""
    return {
        into / path.name: student_version(
            strip_notebook(nbformat.read(path, as_version=4)), path.name
        )
        for path in solution_paths(lessons)
    }


def solution_paths(lessons: Path = LESSONS) -> list[Path]:
    """The solution notebooks, ``solutions/NN_topic.ipynb``, in lesson order."""
    return lesson_paths(lessons / "solutions")
