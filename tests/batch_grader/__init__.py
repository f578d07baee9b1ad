"""Tests of the batch grader; :func:`batch_settings` builds a batch's settings for them."""

from __future__ import annotations

import csv
import functools
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat

from batch_grader.request import source_notebook
from batch_grader.trusted.isolation import Isolation, probe
from batch_grader.trusted.runner import Settings, lesson_dataset
from batch_grader.trusted.sandbox import Limits
from course_utils.lesson_files import LESSONS, REPO_ROOT


def grade_command(lesson: str = "01", **options: object) -> list[str]:
    """``python -m batch_grader grade --lesson LESSON`` with ``options`` (``cell_timeout=20``
    becomes ``--cell-timeout 20``); the submissions and ``--out`` are the caller's."""
    command = [sys.executable, "-m", "batch_grader", "grade", "--lesson", lesson]
    for name, value in options.items():
        command += ["--" + name.replace("_", "-"), str(value)]
    return command


@functools.cache
def isolation_here() -> Isolation:
    """The isolation the batch grader finds on this machine (probed once)."""
    return probe()


def batch_settings(lesson: str, work: Path, **changes) -> Settings:
    """Settings for grading ``lesson`` with ``work`` as the batch's folder (also its
    dataset caches, unless given) and this machine's isolation; ``changes`` override."""
    limits = Limits(seconds=300, memory_mb=4096)
    settings = Settings(
        lesson=lesson,
        dataset=lesson_dataset(lesson),
        source=source_notebook(lesson),
        data_folder=work,
        grader_data=work,
        heldout_seed=None,
        cell_timeout=120,
        limits=limits,
        check_limits=limits,
        isolation=isolation_here(),
        work=work,
    )
    return replace(settings, **changes)


def solution_sources(name: str) -> dict[str, str]:
    """The source of each solution cell of lesson notebook ``name`` (such as
    ``"08_mnist_mlp_vs_cnn.ipynb"``), by its nbgrader grade id."""
    notebook = nbformat.read(REPO_ROOT / "lessons" / "solutions" / name, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def student_notebook_with(name: str, sources: dict[str, str]) -> nbformat.NotebookNode:
    """Lesson ``name``'s student notebook with the cells of the grade ids in ``sources``
    given those sources (a submission that solved those cells), the others untouched."""
    notebook = nbformat.read(LESSONS / name, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    return notebook


def grade_notebooks(
    lesson: str,
    notebooks: dict[str, nbformat.NotebookNode],
    folder: Path,
    jobs: int = 2,
    cold_kernels: bool = False,
    **options: object,
) -> tuple[Path, dict[str, dict[str, str]]]:
    """Write ``notebooks`` (student -> notebook) to ``folder/submissions`` and grade them
    with ``python -m batch_grader grade --lesson LESSON --jobs JOBS``, which must succeed: the
    results folder, and grades.csv's row of each student. ``cold_kernels``: start every
    kernel and job cold (``--cold-kernels``); ``options`` as :func:`grade_command`'s."""
    submissions = folder / "submissions"
    submissions.mkdir()
    for student, notebook in notebooks.items():
        nbformat.write(notebook, submissions / f"{student}.ipynb")
    out = folder / "out"
    done = subprocess.run(
        [
            *grade_command(lesson, jobs=jobs, **options),
            *(["--cold-kernels"] if cold_kernels else []),
            str(submissions),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with (out / "grades.csv").open() as handle:
        return out, {row["student"]: row for row in csv.DictReader(handle)}


def attack_report(out: Path, student: str) -> dict:
    """What ``student``'s hostile cell reported (the ``ATTACK {...}`` line that the attack
    corpus of tests/fixtures/make_submissions.py prints) in its executed notebook under
    the results folder ``out``."""
    notebook = nbformat.read(out / "submissions" / student / "executed.ipynb", as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("text", "").startswith("ATTACK "):
                return json.loads(output["text"][len("ATTACK ") :])
    raise AssertionError(f"{student} reported nothing")


def graded_results(out: Path) -> dict[str, dict]:
    """Every ``result.json`` under the results folder ``out``, by student."""
    return {
        path.parent.name: json.loads(path.read_text())
        for path in (out / "submissions").glob("*/result.json")
    }


def full_marks(result: dict) -> bool:
    """Whether a ``result.json`` is graded at its full, non-zero score."""
    return result["status"] == "graded" and result["score"] == result["max_score"] > 0


def check_items(result: dict, grade_id: str) -> dict[str, dict]:
    """The check items of graded cell ``grade_id`` in a ``result.json`` (name, status,
    points, max_points, message, hint), by name."""
    return {item["name"]: item for item in result["exercises"][grade_id]["items"]}
