"""Tests of the release step and of the committed notebooks' hygiene."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils.lesson_files import REPO_ROOT
from course_utils.release import release
from course_utils.student_notebooks import (
    ReleaseError,
    canonical_text,
    clear_solutions,
    solution_paths,
    student_version,
)
from course_utils.translation import LANGUAGES

pytestmark = pytest.mark.unit

SOLUTION_META = {
    "nbgrader": {
        "solution": True,
        "grade": False,
        "grade_id": "a",
        "locked": False,
        "schema_version": 3,
        "task": False,
    }
}


def test_every_committed_notebook_is_stripped_canonical_and_in_sync():
    """Are the committed solutions canonical and every student notebook generated from them?"""
    assert solution_paths(), "no solution notebooks found"
    assert release(check=True) == []


def test_no_committed_notebook_carries_outputs():
    """Does every committed .ipynb have no outputs and no execution counts?"""
    notebooks = list((REPO_ROOT / "lessons").rglob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        for cell in json.loads(path.read_text())["cells"]:
            assert not cell.get("outputs") and not cell.get("execution_count"), path


def test_every_solution_has_a_student_notebook_with_stubs_and_no_solution_code():
    """Does each student notebook keep the stubs but none of the solution lines?"""
    for path in solution_paths():
        student = nbformat.read(REPO_ROOT / "lessons" / path.name, as_version=4)
        text = "\n".join(c.source for c in student.cells)
        assert "### BEGIN SOLUTION" not in text and "# YOUR CODE HERE" in text


def test_clear_solutions_keeps_code_around_the_region_and_its_indentation():
    """Is only the region replaced, at its own indentation?"""
    source = "x = None\nif True:\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\nprint(x)"
    assert clear_solutions(source) == "x = None\nif True:\n    # YOUR CODE HERE\nprint(x)"


def test_unbalanced_markers_and_misplaced_regions_are_refused():
    """Are unbalanced markers, unmarked solution cells and regions in plain cells refused?"""
    with pytest.raises(ReleaseError, match="1 '### BEGIN SOLUTION' but 0"):
        clear_solutions("### BEGIN SOLUTION\nx = 1")
    no_region = new_notebook(cells=[new_code_cell("x = 1", metadata=SOLUTION_META)])
    with pytest.raises(ReleaseError, match="has no '### BEGIN SOLUTION'"):
        student_version(no_region)
    unmarked = new_notebook(cells=[new_code_cell("### BEGIN SOLUTION\nx=1\n### END SOLUTION")])
    with pytest.raises(ReleaseError, match="outside a code cell marked"):
        student_version(unmarked)


def test_release_strips_outputs_keeps_nbgrader_metadata_and_detects_drift(tmp_path):
    """Does release strip outputs, keep nbgrader/tags metadata, and --check catch hand edits?"""
    cell = new_code_cell(
        "y = None\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION",
        metadata={**SOLUTION_META, "tags": ["t"], "scrolled": True},
    )
    cell.outputs = [nbformat.v4.new_output("stream", text="2\n")]
    cell.execution_count = 3
    notebook = new_notebook(cells=[new_markdown_cell("# 99 · T"), cell])
    (tmp_path / "solutions").mkdir()
    source = tmp_path / "solutions" / "99_demo.ipynb"
    nbformat.write(notebook, source)
    untranslated = {"languages": ()}  # the demo has no catalogs
    assert release(tmp_path, check=True, **untranslated)  # not canonical, no student notebook
    release(tmp_path, **untranslated)
    assert release(tmp_path, check=True, **untranslated) == []
    solution = nbformat.read(source, as_version=4)
    assert solution.cells[1].outputs == [] and solution.cells[1].execution_count is None
    assert set(solution.cells[1].metadata) == {"nbgrader", "tags"}
    student = tmp_path / "99_demo.ipynb"
    assert nbformat.read(student, as_version=4).cells[1].source == "y = None\n# YOUR CODE HERE"
    student.write_text(student.read_text().replace("YOUR CODE HERE", "y = 2"))
    assert release(tmp_path, check=True, **untranslated) == [
        f"{student}: out of sync with {source}; run `make release`"
    ]


def test_canonical_text_is_stable():
    """Is canonical text a fixed point (writing it twice changes nothing)?"""
    for path in solution_paths():
        text = path.read_text()
        assert canonical_text(nbformat.reads(text, as_version=4)) == text


def test_lessons_folder_can_be_copied_and_released(tmp_path):
    """Does releasing a copy of the real lessons reproduce the committed student notebooks
    and their translations?"""
    copy = tmp_path / "lessons"
    shutil.copytree(REPO_ROOT / "lessons", copy, symlinks=True)
    for student in [*copy.glob("*.ipynb"), *copy.glob("*/[0-9]*.ipynb")]:
        if student.parent.name != "solutions":
            student.unlink()
    release(copy, readme=None)
    for path in solution_paths():
        for language in ("", *LANGUAGES):
            released = copy / language / path.name
            assert (
                released.read_text() == (REPO_ROOT / "lessons" / language / path.name).read_text()
            )
