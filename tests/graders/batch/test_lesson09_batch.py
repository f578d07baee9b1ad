"""Lesson 09 graded by the batch grader: the checks load the files the notebook wrote (the
checkpoint of the best epoch, the saved model), which travel as copies next to the
callbacks' settings and are put back at the learner's paths for the checks. A saved model
that carries Python code (a Lambda layer) is refused by safe_mode there, as in the
notebook."""

from __future__ import annotations

import json
import subprocess

import nbformat

from tests.graders.batch import grade_command, solution_sources, student_notebook_with

NAME = "09_whole_workflow.ipynb"
SHORT = ("epochs=15", "epochs=3")
"""Three epochs keep the test short; the checks of the files do not depend on them."""
LAMBDA_FILE = """
model_path = "fashion_model.keras"
keras.Sequential([keras.Input(shape=(784,)), layers.Lambda(lambda x: x[:, :10])]).save(model_path)
model.save("real.keras")
reloaded = keras.saving.load_model("real.keras")
"""
"""Exercise 2 with model_path naming a file whose Lambda layer would run code."""


def _solved(save_source: str | None = None):
    """The student notebook with both exercises solved as the solution does (training for
    3 epochs), exercise 2's saving cell replaced by ``save_source`` when given."""
    sources = {
        grade_id: source.replace(*SHORT) for grade_id, source in solution_sources(NAME).items()
    }
    if save_source is not None:
        sources["ex2-save"] = save_source
    return student_notebook_with(NAME, sources)


def _items(output: str) -> dict[str, str]:
    """Each item of a report's text (``  ✔ name [p/m]: message``) by name: its line."""
    items = {}
    for line in output.splitlines():
        if line.startswith(("  ✔ ", "  ✘ ")):
            items[line[4:].split(" [")[0]] = line
    return items


def test_the_batch_grades_the_files_the_notebook_wrote(tmp_path):
    """Do the checkpoint and the saved model reach the checks: the checkpoint loads and
    holds the best epoch, the saved file predicts as the model does, while a saved file
    holding a Lambda layer is refused by safe_mode with the reason?"""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    nbformat.write(_solved(), submissions / "saved.ipynb")
    nbformat.write(_solved(LAMBDA_FILE), submissions / "lambda_file.ipynb")
    out = tmp_path / "out"
    done = subprocess.run(
        [*grade_command("09", jobs=2), str(submissions), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = {
        student: json.loads((out / "submissions" / student / "result.json").read_text())
        for student in ("saved", "lambda_file")
    }
    for student, result in results.items():
        assert result["status"] == "graded", (student, result["reasons"])
        callbacks = _items(result["tests"][0]["output"])
        for item in ("validation data", "early stopping", "checkpoint", "best weights kept"):
            assert callbacks[item].startswith("  ✔"), (student, callbacks[item])
        assert (
            "fashion_best.keras holds a model that loads with safe_mode=True"
            in callbacks["checkpoint"]
        )
    saved = _items(results["saved"]["tests"][1]["output"])
    assert all(line.startswith("  ✔") for line in saved.values()), saved
    assert "fashion_model.keras predicts what the model predicts" in saved["same predictions"]
    refused = _items(results["lambda_file"]["tests"][1]["output"])["saved file"]
    assert refused.startswith("  ✘"), refused
    assert "refused by keras.saving.load_model(..., safe_mode=True)" in refused, refused
