"""Lesson 08 graded by the batch grader: the kernels read real MNIST from the batch's copy
of the data cache, and the checks measure each model on MNIST's test digits, reshaped to
its input, in a sandbox of their own."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from batch_grader.cli import main
from course_utils.lesson_files import LESSONS
from tests.batch_grader import (
    check_items,
    grade_notebooks,
    solution_sources,
    student_notebook_with,
)

pytestmark = pytest.mark.sandbox

NAME = "08_mnist_mlp_vs_cnn.ipynb"
MLP_CELLS = ("ex1-build", "ex1-train", "ex1-test")


def _mlp_only():
    """The student notebook with exercise 1 solved as the solution does and exercise 2
    left untouched: the convnet, the slow half of the lesson, is never trained."""
    solution = solution_sources(NAME)
    return student_notebook_with(NAME, {grade_id: solution[grade_id] for grade_id in MLP_CELLS})


def test_the_batch_grades_the_mlp_on_mnist_test_digits(tmp_path):
    """A notebook with the MLP trained and the convnet untouched: does the MLP get 10/10,
    measured on the 10,000 MNIST test digits, and the convnet "not attempted", next to an
    untouched notebook that gets 0?"""
    untouched = nbformat.read(LESSONS / NAME, as_version=4)
    out, rows = grade_notebooks("08", {"mlp_only": _mlp_only(), "untouched": untouched}, tmp_path)
    points = {s: [rows[s]["ex1-check"], rows[s]["ex2-check"]] for s in rows}
    assert points == {"mlp_only": ["10", "0"], "untouched": ["0", "0"]}
    result = json.loads((out / "submissions" / "mlp_only" / "result.json").read_text())
    mlp = check_items(result, "ex1-check").values()
    assert any("on 10000 images (MNIST's test digits)" in item["message"] for item in mlp), mlp
    convnet = result["exercises"]["ex2-check"]
    assert (convnet["title"], convnet["status"]) == (
        "Exercise 2 · A convnet on MNIST",
        "not attempted",
    )


def test_without_mnist_installed_the_batch_stops_at_once_and_says_how_to_install_it(
    tmp_path, monkeypatch, capsys
):
    """On a machine where MNIST is neither installed nor in Keras's cache, does
    ``--lesson 08`` stop before grading anyone, with exit status 2 and the command that
    installs it, and leave no result behind?"""
    monkeypatch.setenv("KERAS_COURSE_DATA", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras"))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copyfile(LESSONS / NAME, submissions / "alice.ipynb")
    out = tmp_path / "out"
    status = main(["--lesson", "08", str(submissions), "--out", str(out), "--cold-kernels"])
    assert status == 2
    error = capsys.readouterr().err
    assert "MNIST is not on this machine" in error, error
    assert "python -m data_loaders install" in error, error
    assert not list(out.glob("submissions/*/result.json"))
