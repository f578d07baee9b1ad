"""Lesson 00 graded by the batch grader: its three function exercises re-run in a sandbox
on the checks' fixed calls give the same grades and messages as in the notebook."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import nbformat

from course_utils.release import LESSONS, REPO_ROOT
from graders import lesson00
from tests.graders.batch import grade_command

SOLUTION = REPO_ROOT / "lessons" / "solutions" / "00_tensors_and_shapes.ipynb"
WRONG = {
    "ex1-convert": (
        "def to_channels_first(images):\n"
        "    batch, height, width, channels = images.shape\n"
        "    return images.reshape(batch, channels, height, width)"
    ),
    "ex2-steps": "def steps_per_epoch(samples, batch_size):\n    return samples // batch_size",
    "ex3-params": (
        "def dense_parameters(layer_sizes):\n"
        "    return sum(a * b for a, b in zip(layer_sizes, layer_sizes[1:], strict=False))"
    ),
}


def _in_the_notebook() -> dict[str, list[str]]:
    """The messages each wrong answer gets from the checks in this process."""
    namespace: dict = {}
    for source in WRONG.values():
        exec(source, namespace)  # noqa: S102 - the test's own code
    reports = {
        "ex1-check": lesson00.check_exercise_1(namespace["to_channels_first"]),
        "ex2-check": lesson00.check_exercise_2(namespace["steps_per_epoch"]),
        "ex3-check": lesson00.check_exercise_3(namespace["dense_parameters"]),
    }
    return {cell: [r.message for r in report.results] for cell, report in reports.items()}


def test_the_batch_grades_lesson_00_as_the_notebook_does(tmp_path):
    """The solution 30/30, the untouched student notebook 0 (not attempted), and a
    notebook with one classic mistake per exercise 6 + 5 + 4, with the very messages the
    checks give in the notebook?"""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copyfile(SOLUTION, submissions / "good.ipynb")
    shutil.copyfile(LESSONS / SOLUTION.name, submissions / "untouched.ipynb")
    wrong = nbformat.read(SOLUTION, as_version=4)
    for cell in wrong.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = WRONG.get(grade_id, cell.source)
    nbformat.write(wrong, submissions / "wrong.ipynb")
    out = tmp_path / "out"
    done = subprocess.run(
        [*grade_command("00", jobs=2), str(submissions), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with (out / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    points = {s: [rows[s][f"ex{n}-check"] for n in (1, 2, 3)] for s in rows}
    assert points == {"good": ["10"] * 3, "untouched": ["0"] * 3, "wrong": ["6", "5", "4"]}
    result = json.loads((out / "submissions" / "wrong" / "result.json").read_text())
    untouched = json.loads((out / "submissions" / "untouched" / "result.json").read_text())
    assert "to_channels_first returned None" in untouched["tests"][0]["output"]
    outputs = "\n".join(test["output"] for test in result["tests"])
    for cell, messages in _in_the_notebook().items():
        for message in messages:
            assert message in outputs, (cell, message)
