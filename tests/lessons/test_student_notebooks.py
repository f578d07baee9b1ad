"""Every student notebook, executed in a real kernel as a student would first meet it."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.release import LESSONS, is_solution_cell, solution_paths

STUDENT_NOTEBOOKS = [LESSONS / path.name for path in solution_paths()]


def _errors(cell) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for o in cell.get("outputs", [])
        if o.output_type == "error"
    ]


def _rendered(cell) -> str:
    texts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        texts.append(data.get("text/html", "") + data.get("text/plain", ""))
        texts.append(output.get("text", ""))
    return "\n".join(texts)


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=[p.name for p in STUDENT_NOTEBOOKS])
def test_student_notebook_runs_cleanly_and_reports_not_attempted(path):
    """Does the untouched student notebook run to its first exercise without an error, does
    every graded check report "not attempted" rather than crash, and does every later cell
    that fails for want of an exercise name the exercise to complete?"""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    cells = notebook.cells
    first_exercise = next(i for i, c in enumerate(cells) if is_solution_cell(c))
    for index, cell in enumerate(cells[:first_exercise]):
        assert not _errors(cell), f"cell {index} failed before the first exercise: {_errors(cell)}"
    graded = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    for cell in graded:
        assert not _errors(cell), f"graded cell crashed: {_errors(cell)}\n{cell.source}"
        rendered = _rendered(cell)
        assert 'data-status="not attempted"' in rendered, rendered
        assert "Traceback" not in rendered
    # A cell that fails because an exercise is not done yet says which exercise to do.
    for index, cell in enumerate(cells[first_exercise:], start=first_exercise):
        if _errors(cell):
            rendered = _rendered(cell)
            assert re.search(r"keras-course: .*\bcomplete (it in )?exercise \d+", rendered), (
                f"cell {index} failed without naming the exercise to complete: "
                f"{_errors(cell)}\n{cell.source}"
            )
