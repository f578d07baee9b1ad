"""Lesson 09 graded by the batch grader: the checks load the files the notebook wrote (the
checkpoint of the best epoch, the saved model), which travel as copies next to the
callbacks' settings and are put back at the learner's paths for the checks. (The checks
refuse a file holding a Lambda layer there as in the notebook: tests/graders/
test_lesson09.py; a forged export: test_file_exports.py.)"""

from __future__ import annotations

import json

import pytest

from tests.batch_grader import (
    check_items,
    grade_notebooks,
    solution_sources,
    student_notebook_with,
)

pytestmark = pytest.mark.sandbox

NAME = "09_whole_workflow.ipynb"
SHORT = ("epochs=15", "epochs=3")
"""Three epochs keep the test short; the checks of the files do not depend on them."""


def _solved():
    """The student notebook with both exercises solved as the solution does, training for
    3 epochs."""
    sources = {
        grade_id: source.replace(*SHORT) for grade_id, source in solution_sources(NAME).items()
    }
    return student_notebook_with(NAME, sources)


def test_the_batch_grades_the_files_the_notebook_wrote(tmp_path):
    """Do the checkpoint and the saved model reach the checks: the callbacks are rebuilt,
    the checkpoint loads and holds the best epoch, and the saved file predicts as the
    model does?"""
    out, rows = grade_notebooks("09", {"saved": _solved()}, tmp_path, jobs=1)
    assert rows["saved"]["status"] == "graded"
    result = json.loads((out / "submissions" / "saved" / "result.json").read_text())
    assert result["status"] == "graded", result["reasons"]
    callbacks = check_items(result, "ex1-check")
    for item in ("validation data", "early stopping", "checkpoint", "best weights kept"):
        assert callbacks[item]["status"] == "passed", callbacks[item]
    assert (
        "saved/fashion_best.keras holds a model that loads with safe_mode=True"
        in callbacks["checkpoint"]["message"]
    )
    saved = check_items(result, "ex2-check")
    assert list(saved) == ["saved file", "same predictions", "loaded back"]
    assert all(item["status"] == "passed" for item in saved.values()), saved
    assert (
        "the file saved/fashion_model.keras predicts what the model predicts"
        in saved["same predictions"]["message"]
    )
