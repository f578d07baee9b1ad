"""How a submission becomes the notebook the batch grader runs."""

from __future__ import annotations

import re

import nbformat
import pytest

from batch_grader.request import LESSONS as GRADED_LESSONS
from batch_grader.sandboxed.export import GradedCellError, export_call, parse_check_call
from batch_grader.trusted.prepare import InvalidSubmission, prepare, read_submission
from batch_grader.trusted.runner import lesson_datasets
from course_utils.lesson_files import LESSONS

pytestmark = pytest.mark.unit

SOURCE = nbformat.read(LESSONS / "01_sequential_basics.ipynb", as_version=4)


def _graded(notebook):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade"))


def test_graded_cells_become_exports_and_trailing_cells_are_dropped():
    """Is the graded cell replaced by an export of its check's arguments, the helper put
    first, and nothing kept after the last graded cell?"""
    prepared = prepare(SOURCE, nbformat.read(LESSONS / "01_sequential_basics.ipynb", 4))
    cells = prepared.notebook.cells
    assert "def __course_export__" in cells[0].source
    assert cells[-1].source == "__course_export__('ex1-check', ['model', 'history'])"
    assert [g.arguments for g in prepared.graded] == [["model", "history"]]
    assert not prepared.notes and not prepared.deleted


def test_an_edited_graded_cell_is_restored_and_a_deleted_one_reported():
    """Is an edited graded cell graded from its original, and a deleted one named?"""
    edited = nbformat.read(LESSONS / "01_sequential_basics.ipynb", as_version=4)
    _graded(edited).source = "print('10/10')"
    prepared = prepare(SOURCE, edited)
    assert prepared.notebook.cells[-1].source.startswith("__course_export__('ex1-check'")
    assert prepared.notes == ["the locked cell ex1-check was edited; its original was used"]
    deleted = nbformat.read(LESSONS / "01_sequential_basics.ipynb", as_version=4)
    deleted.cells.remove(_graded(deleted))
    assert prepare(SOURCE, deleted).deleted == ["ex1-check"]


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "is empty"), (b"{", "not valid notebook JSON"), (b"[1, 2]", "not a notebook")],
)
def test_unreadable_submissions_are_refused_with_the_reason(tmp_path, content, reason):
    """Does an empty, truncated or non-notebook file get a reason that says which?"""
    path = tmp_path / "alice.ipynb"
    path.write_bytes(content)
    with pytest.raises(InvalidSubmission, match=reason):
        read_submission(path)


def test_graded_cells_must_be_one_plain_check_call():
    """Is a graded cell that is not one check_*(names) call refused, naming it?"""
    assert parse_check_call("check_exercise_2(model, history, test_metrics)") == (
        "check_exercise_2",
        ["model", "history", "test_metrics"],
    )
    assert export_call("ex2", "check_exercise_2(block)") == "__course_export__('ex2', ['block'])"
    for source in ("x = 1\ncheck(model)", "check(model.layers)", "check(model=model)"):
        with pytest.raises(GradedCellError):
            parse_check_call(source)


@pytest.mark.parametrize(
    "notebook", sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name
)
def test_every_dataset_a_graded_lesson_loads_is_in_the_kernels_data(notebook):
    """Does each dataset that a student notebook's code loads (``load_<name>(``) before
    its last graded cell, the part the batch grader runs, appear in the lesson's
    :func:`lesson_datasets`, which the batch copies for its read-only kernels?"""
    import data_loaders

    lesson = notebook.name[:2]
    assert lesson in GRADED_LESSONS
    cells = nbformat.read(notebook, as_version=4).cells
    last = max(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade"))
    code = "\n".join(c.source for c in cells[: last + 1] if c.cell_type == "code")
    loaded = {name for name in re.findall(r"\bload_(\w+)\(", code) if name in data_loaders.LOADERS}
    assert loaded <= set(lesson_datasets(lesson)), (loaded, lesson_datasets(lesson))
