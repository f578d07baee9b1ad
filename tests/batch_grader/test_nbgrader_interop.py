"""Can a course that uses nbgrader take a lesson's solution notebook as a source
assignment, and does nbgrader's autograder score it as our checks do?"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.lesson_files import REPO_ROOT

pytestmark = pytest.mark.notebook

SOLUTION = REPO_ROOT / "lessons" / "solutions" / "01_sequential_basics.ipynb"
WRONG = REPO_ROOT / "tests" / "fixtures" / "submissions" / "lesson01" / "monkeypatch.ipynb"


def _nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, KERAS_COURSE_STRICT="1")  # a failed check raises
    # nbgrader runs its database migrations with the `alembic` program of this environment.
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment["PATH"]])
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *arguments, "--ExecutePreprocessor.timeout=300"],
        cwd=course,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _submit(course: Path, student: str, notebook: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / "lesson01"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "01_sequential_basics.ipynb")


def test_nbgrader_generates_and_autogrades_a_lesson(tmp_path):
    """Do nbgrader's generate_assignment and autograde steps give the solution 10 of 10
    and a wrong model 0 of 10?"""
    course = tmp_path / "course"
    (course / "source" / "lesson01").mkdir(parents=True)
    shutil.copy(SOLUTION, course / "source" / "lesson01" / SOLUTION.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'keras-course'\n"
    )
    generated = _nbgrader(course, "generate_assignment", "lesson01", "--force")
    assert generated.returncode == 0, generated.stderr[-3000:]
    release = course / "release" / "lesson01" / SOLUTION.name
    student_version = nbformat.read(release, as_version=4)
    assert "### BEGIN SOLUTION" not in json.dumps(student_version)

    _submit(course, "correct", nbformat.read(SOLUTION, as_version=4))
    wrong = nbformat.read(WRONG, as_version=4)
    wrong.cells = [c for c in wrong.cells if "graders.lesson01" not in c.source]  # no patching
    _submit(course, "wrong", wrong)
    graded = _nbgrader(course, "autograde", "lesson01", "--force")
    assert graded.returncode == 0, graded.stderr[-3000:]

    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(
            "SELECT submitted_assignment.student_id, SUM(grade.auto_score) "
            "FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment "
            "ON submitted_notebook.assignment_id = submitted_assignment.id "
            "GROUP BY submitted_assignment.student_id"
        ).fetchall()
    assert dict(rows) == {"correct": 10.0, "wrong": 0.0}
