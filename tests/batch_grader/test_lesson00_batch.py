"""Lesson 00 graded by the batch grader: its three function exercises re-run in a sandbox
on the checks' fixed calls give the same grades and messages as in the notebook, here and
on a Dask cluster of two local workers."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from course_utils.language import LANGUAGE_ENV_VAR
from course_utils.lesson_files import LESSONS, REPO_ROOT
from graders import lesson00
from tests.batch_grader import check_items, grade_command

pytestmark = pytest.mark.sandbox

SOLUTION = REPO_ROOT / "lessons" / "solutions" / "00_tensors_and_shapes.ipynb"
WRONG = {
    "ex1-convert": (
        "def to_channels_first(images):\n"
        "    batch, height, width, channels = images.shape\n"
        "    return images.reshape(batch, channels, height, width)"
    ),
    # rounding: its explanation needs every call's answer, which the batch has too
    "ex2-steps": (
        "def steps_per_epoch(samples, batch_size):\n    return round(samples / batch_size)"
    ),
    "ex3-params": (
        "def dense_parameters(layer_sizes):\n"
        "    return sum(a * b for a, b in zip(layer_sizes, layer_sizes[1:], strict=False))"
    ),
}


def _in_the_notebook() -> dict[str, list[str]]:
    """The check items (as result.json holds them) each wrong answer gets from the checks
    in this process."""
    namespace: dict = {}
    for source in WRONG.values():
        exec(source, namespace)  # noqa: S102 - the test's own code
    reports = {
        "ex1-check": lesson00.check_exercise_1(namespace["to_channels_first"]),
        "ex2-check": lesson00.check_exercise_2(namespace["steps_per_epoch"]),
        "ex3-check": lesson00.check_exercise_3(namespace["dense_parameters"]),
    }
    return {cell: report.to_dict()["results"] for cell, report in reports.items()}


def _grades(out) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _grade(submissions, out, *options: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        [*grade_command("00", jobs=2), str(submissions), "--out", str(out), *options],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The solution, the untouched student notebook, one classic mistake per exercise and
    a file cut mid-way, graded here with two jobs: (submissions folder, results folder)."""
    submissions = tmp_path_factory.mktemp("submissions")
    shutil.copyfile(SOLUTION, submissions / "good.ipynb")
    shutil.copyfile(LESSONS / SOLUTION.name, submissions / "untouched.ipynb")
    wrong = nbformat.read(SOLUTION, as_version=4)
    for cell in wrong.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = WRONG.get(grade_id, cell.source)
    nbformat.write(wrong, submissions / "wrong.ipynb")
    text = SOLUTION.read_text()
    (submissions / "cut.ipynb").write_text(text[: len(text) // 2])
    out = tmp_path_factory.mktemp("out")
    _grade(submissions, out)
    return submissions, out


def test_the_batch_grades_lesson_00_as_the_notebook_does(graded):
    """The solution 30/30, the untouched student notebook 0 (not attempted), and a
    notebook with one classic mistake per exercise 6 + 5 + 4, with the very messages the
    checks give in the notebook?"""
    _, out = graded
    rows = _grades(out)
    points = {s: [rows[s][f"ex{n}-check"] for n in (1, 2, 3)] for s in rows}
    assert points == {
        "good": ["10"] * 3,
        "untouched": ["0"] * 3,
        "wrong": ["6", "5", "4"],
        "cut": ["0"] * 3,
    }
    assert rows["cut"]["status"] == "invalid"
    result = json.loads((out / "submissions" / "wrong" / "result.json").read_text())
    untouched = json.loads((out / "submissions" / "untouched" / "result.json").read_text())
    not_done = [item["message"] for item in check_items(untouched, "ex1-check").values()]
    assert any("to_channels_first returned None" in m for m in not_done), not_done
    for cell, items in _in_the_notebook().items():
        assert result["exercises"][cell]["items"] == items, cell


def test_a_local_dask_cluster_grades_as_this_machine_does(graded, tmp_path):
    """Does --cluster local:2 (a Dask cluster of two workers on 127.0.0.1, each grading
    the submissions it is given as bytes) write the same grades.csv as grading here, and
    name the worker of each result, and leave nothing in the temporary folder (Dask's
    scratch folders included)?"""
    submissions, here = graded
    out, temporary = tmp_path / "cluster", tmp_path / "tmp"
    temporary.mkdir()
    _grade(submissions, out, "--cluster", "local:2", env={**os.environ, "TMPDIR": str(temporary)})
    assert list(temporary.iterdir()) == []
    assert (out / "grades.csv").read_text() == (here / "grades.csv").read_text()
    for student in _grades(out):
        result = json.loads((out / "submissions" / student / "result.json").read_text())
        assert result["worker"].startswith("tls://127.0.0.1:"), result
        assert result["submission"] == str(submissions / f"{student}.ipynb")


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_lang_zh_writes_the_same_grades_with_the_notebooks_chinese_feedback(graded, tmp_path):
    """Graded with --lang zh, does every submission get the same items, statuses and
    points as in English, each failed or unattempted item's message in Chinese, and the
    very words the checks give in a Chinese notebook (a kernel with KERAS_COURSE_LANG=zh)?"""
    submissions, english = graded
    chinese = tmp_path / "zh"
    _grade(submissions, chinese, "--lang", "zh")
    assert (chinese / "grades.csv").read_text() == (english / "grades.csv").read_text()
    in_the_notebook = json.loads(
        subprocess.run(
            [sys.executable, "-c", NOTEBOOK_ITEMS],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, LANGUAGE_ENV_VAR: "zh"},
            cwd=REPO_ROOT,
            check=True,
        ).stdout
    )
    for student in ("wrong", "untouched"):
        ours = json.loads((english / "submissions" / student / "result.json").read_text())
        theirs = json.loads((chinese / "submissions" / student / "result.json").read_text())
        assert (ours["language"], theirs["language"]) == ("en", "zh")
        for cell in ("ex1-check", "ex2-check", "ex3-check"):
            before, after = check_items(ours, cell), check_items(theirs, cell)
            assert [(i["name"], i["status"], i["points"]) for i in before.values()] == [
                (i["name"], i["status"], i["points"]) for i in after.values()
            ]
            for item in after.values():
                if item["status"] != "passed":
                    assert CJK.search(item["message"]), item
            if student == "wrong":
                assert theirs["exercises"][cell]["items"] == in_the_notebook[cell], cell


NOTEBOOK_ITEMS = """
import json
from tests.batch_grader.test_lesson00_batch import _in_the_notebook
print(json.dumps(_in_the_notebook()))
"""
