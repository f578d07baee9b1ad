"""Lesson 10 graded by the batch grader: the learner's augmentation block travels as a
model file, and the checks run it on MNIST's test digits, with training=False and True,
in a sandbox of their own. A block that carries Python code (a Lambda layer) is refused
when loaded, so its code never runs in the checks."""

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

NAME = "10_augmentation.ipynb"
LAMBDA_BLOCK = """
augmentation = keras.Sequential(
    [
        layers.RandomRotation(0.05),
        layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, 0.1),
        layers.Lambda(lambda x: x * 1.0),
    ],
    name="augmentation",
)
"""


def _exercise_1_only(block_source: str | None = None):
    """The student notebook with exercise 1 solved (as the solution does, or with
    ``block_source``) and exercise 2 untouched: the augmented convnet is never trained."""
    block = block_source or solution_sources(NAME)["ex1-build"]
    return student_notebook_with(NAME, {"ex1-build": block})


def test_the_batch_runs_the_block_and_refuses_one_that_carries_code(tmp_path):
    """Does the lesson's block get 10/10 on exercise 1, measured in the checks' sandbox on
    the test digits, while a block with a Lambda layer is refused by safe_mode with a
    message that says why, and exercise 2 is "not attempted" in both?"""
    notebooks = {
        "block_only": _exercise_1_only(),
        "lambda_block": _exercise_1_only(LAMBDA_BLOCK),
    }
    out, rows = grade_notebooks("10", notebooks, tmp_path)
    points = {s: [rows[s]["ex1-check"], rows[s]["ex2-check"]] for s in rows}
    assert points == {"block_only": ["10", "0"], "lambda_block": ["0", "0"]}
    for student in rows:
        result = json.loads((out / "submissions" / student / "result.json").read_text())
        assert result["status"] == "graded", result
        # Only exercise 2's cells failed (it is untouched): the traffic signs loaded too.
        assert all("augmented_" in reason for reason in result["reasons"]), result["reasons"]
        convnet = result["exercises"]["ex2-check"]
        assert convnet["title"] == "Exercise 2 · Train the convnet with augmentation"
        assert convnet["status"] == "not attempted"
        block = " ".join(item["message"] for item in check_items(result, "ex1-check").values())
        if student == "block_only":
            assert "training=False leaves all 32 test digits exactly as they are" in block
        else:
            assert "safe_mode" in block and "Lambda" in block, block
