"""The batch grader re-runs an exported function (lesson 07's blocks) in a fresh
sandboxed process and grades what it gave, in the trusted process."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import nbformat
import pytest

from batch_grader.sandboxed.export import EXPORT_HELPER
from batch_grader.sandboxed.grade import replays_from
from batch_grader.trusted.runner import _setup_source, rerun_function
from course_utils.lesson_files import LESSONS
from graders.lesson07 import FUNCTION_CASES
from graders.resnet_blocks import grade_block
from tests.batch_grader import batch_settings
from tests.graders.test_resnet_blocks import HELPER_CELLS

pytestmark = pytest.mark.sandbox

SOLUTION = nbformat.read(LESSONS / "solutions" / "07_resnet50.ipynb", as_version=4)
SOURCE = nbformat.read(LESSONS / "07_resnet50.ipynb", as_version=4)


def _solution_source(name: str) -> str:
    cell = next(c for c in SOLUTION.cells if c.source.startswith(f"def {name}("))
    return "\n".join(line for line in cell.source.splitlines() if "### " not in line)


@pytest.fixture(scope="module")
def rerun(tmp_path_factory):
    """``rerun(source, name, check)``: the replay of ``name`` re-run from ``source`` in a
    sandbox, as the batch grader gives it to the check."""
    settings = batch_settings("07", tmp_path_factory.mktemp("batch"))

    def rerun(source: str, name: str, check: str):
        folder = Path(tempfile.mkdtemp(dir=settings.work))
        (folder / "function.py").write_text(source)
        outputs = rerun_function(
            settings, _setup_source(SOURCE), folder / "function.py", name, check, folder / "run"
        )
        outputs.rename(folder / name)
        return replays_from(folder.parent, folder.name)(name)

    return rerun


def test_a_correct_block_rerun_elsewhere_gets_full_marks(rerun):
    """Does the solution's identity block, re-run from its source in a sandbox, earn 10?"""
    function = rerun(_solution_source("identity_block"), "identity_block", "check_exercise_1")
    report = grade_block("identity", FUNCTION_CASES["check_exercise_1"], function)
    assert report.points == 10, str(report)


def test_a_wrong_block_rerun_elsewhere_gets_its_specific_message(rerun):
    """Does a convolutional block without BatchNorm on its shortcut, re-run in a sandbox,
    get the message that names the mistake?"""
    lines = _solution_source("convolutional_block").splitlines()
    start = next(i for i, line in enumerate(lines) if 'name=bn_name_base + "1"' in line)
    source = "\n".join(lines[:start] + lines[start + 3 :])  # the call spans three lines
    assert 'bn_name_base + "1"' not in source and "X_shortcut, training" not in source
    function = rerun(source, "convolutional_block", "check_exercise_2")
    report = grade_block("convolutional", FUNCTION_CASES["check_exercise_2"], function)
    assert "the shortcut has no BatchNormalization" in str(report), str(report)


def test_a_function_that_raises_in_the_rerun_is_reported(rerun):
    """Does an exception in the re-run reach the report with its type and message?"""
    source = "def identity_block(X, f, filters, stage, block, initializer=None, training=None):\n"
    source += "    raise RuntimeError('not finished')\n"
    function = rerun(source, "identity_block", "check_exercise_1")
    report = grade_block("identity", FUNCTION_CASES["check_exercise_1"], function)
    assert "raised RuntimeError: not finished" in str(report), str(report)


def _export(tmp_path, monkeypatch, cells: str, name: str) -> dict:
    """Run ``cells`` as a notebook does (module __main__), then the batch grader's export of
    ``name``; returns its manifest entry (with the exported source under "source")."""
    path = tmp_path / "cells.py"
    path.write_text(cells)
    namespace = {"__name__": "__main__"}
    exec(compile(cells, str(path), "exec"), namespace)  # noqa: S102
    exec(EXPORT_HELPER, namespace)  # noqa: S102
    monkeypatch.chdir(tmp_path)
    namespace["__course_export__"]("ex1-check", [name])
    folder = tmp_path / "artifacts" / "ex1-check"
    entry = json.loads((folder / "manifest.json").read_text())[name]
    if entry["kind"] == "function":
        entry["source"] = (folder / entry["file"]).read_text()
    return entry


def test_a_block_that_calls_a_helper_gets_the_same_grade_in_the_batch(rerun, tmp_path, monkeypatch):
    """Does a block that calls a helper from another cell earn 10 in the batch grader too,
    from the same self-contained source that the notebook's check grades?"""
    entry = _export(tmp_path, monkeypatch, HELPER_CELLS, "identity_block")
    assert entry["kind"] == "function" and "def conv_bn(" in entry["source"]
    function = rerun(entry["source"], "identity_block", "check_exercise_1")
    report = grade_block("identity", FUNCTION_CASES["check_exercise_1"], function)
    assert report.points == 10, str(report)


def test_a_block_that_uses_a_notebook_object_is_refused_in_the_batch_too(tmp_path, monkeypatch):
    """Is a block using an object made in another cell refused by the export with the
    message the notebook's check gives?"""
    cells = "import keras\nseeded = keras.initializers.Zeros()\n" + HELPER_CELLS.replace(
        "kernel_initializer=initializer)", "kernel_initializer=seeded)"
    )
    entry = _export(tmp_path, monkeypatch, cells, "identity_block")
    assert entry["kind"] == "unexportable"
    assert entry["error"] == (
        "FunctionSourceError: conv_bn uses seeded, a Zeros made in the notebook, which the "
        "grader cannot receive (only code and plain numbers travel): create it inside "
        "conv_bn, or pass it as an argument"
    )
