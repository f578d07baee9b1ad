"""The batch grader on a corpus of lesson-01 submissions, interrupted and resumed.

One batch grades every notebook in tests/fixtures/submissions/lesson01 (two good ones and
one for each way a submission can go wrong) with two jobs. It is killed with SIGKILL after
its first results are written, then run again: the second run must finish the rest, keep
the first results untouched and write each student once.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import psutil
import pytest

from batch_grader.trusted.memory_groups import MemoryGroupError, MemoryGroups
from course_utils.lesson_files import REPO_ROOT
from tests.batch_grader import grade_command, graded_results

pytestmark = pytest.mark.sandbox

CORPUS = REPO_ROOT / "tests" / "fixtures" / "submissions" / "lesson01"
# A cell timeout with room for lesson 01's training (a few seconds) on a loaded machine:
# only the infinite loop may reach it.
CELL_TIMEOUT = 60
COMMAND = grade_command(jobs=2, cell_timeout=CELL_TIMEOUT, timeout=300, memory_mb=4096)

# student -> (status or statuses, points, a phrase its reasons or feedback must contain)
EXPECTED = {
    "good_1": ("graded", 10, None),
    "good_2": ("graded", 10, None),
    "corrupt": ("invalid", 0, "is not valid notebook JSON"),
    "empty": ("invalid", 0, "is empty (0 bytes)"),
    "syntax_error": ("graded", 0, "raised SyntaxError"),
    "exception": ("graded", 0, "raised ZeroDivisionError"),
    "model_missing": ("graded", 0, "model is not defined when the graded cell runs"),
    "model_wrong_type": ("graded", 0, "expected model to be a keras.Model, found str"),
    "untouched": ("graded", 0, "model is still None"),
    "nan_loss": ("graded", None, "training accuracy"),
    "infinite_loop": ("cell timed out", 10, f"ran longer than {CELL_TIMEOUT} s and was stopped"),
    # The hog keeps what it got, up to the limit: whether the kernel survives the cells after
    # its MemoryError (exporting the model needs memory too) depends on the last few MiB.
    "memory_hog": (("graded", "kernel died"), None, "raised MemoryError"),
    "sys_exit": ("graded", 10, "raised SystemExit"),
    "os_exit": ("kernel died", 0, "the kernel died"),
    "kernel_crash": ("kernel died", 0, "the kernel died"),
    "huge_output": ("graded", 10, "was cut (too long)"),
    "edited_graded_cell": ("graded", 10, "ex1-check was edited; its original was used"),
    "deleted_graded_cell": ("graded", 0, "ex1-check was deleted"),
    "monkeypatch": ("graded", None, "layers"),
    "read_heldout": ("graded", 10, None),
    # In a sandbox the results folder is out of reach: it is graded as it deserves.
    "write_results": ("graded", 10, None),
    "forged_history": ("graded", 7, "this history does not come from training this model"),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Run the batch, kill it after its first two results, and run it again."""
    submissions = tmp_path_factory.mktemp("submissions") / "lesson01"
    shutil.copytree(CORPUS, submissions)
    text = (submissions / "good_1.ipynb").read_text()
    (submissions / "corrupt.ipynb").write_text(text[: len(text) // 2])  # cut mid-file
    (submissions / "empty.ipynb").write_text("")
    command = [*COMMAND, str(submissions)]
    out = tmp_path_factory.mktemp("results")
    first = subprocess.Popen(
        [*command, "--out", str(out)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while len(graded_results(out)) < 2 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    tree = psutil.Process(first.pid).children(recursive=True)  # zygote, kernels, runners
    os.killpg(first.pid, signal.SIGKILL)  # the grader's group (forked kernels have their own)
    first.wait()
    _, leaked = psutil.wait_procs(tree, timeout=20)
    before = {
        student: (out / "submissions" / student / "result.json").stat().st_mtime_ns
        for student in graded_results(out)
    }
    second = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, timeout=1200
    )
    assert second.returncode == 0, second.stderr[-3000:]
    return out, before, second.stderr, leaked


def test_every_submission_gets_a_status_and_a_clear_reason(batch):
    """Does every broken submission get its status, its points and a reason that says
    what went wrong, while the good ones in the same batch get full marks?"""
    out, _, _, _ = batch
    results = graded_results(out)
    assert sorted(results) == sorted(EXPECTED)
    for student, (status, points, phrase) in EXPECTED.items():
        result = results[student]
        text = json.dumps(result) + (out / "submissions" / student / "feedback.html").read_text()
        allowed = status if isinstance(status, tuple) else (status,)
        assert result["status"] in allowed, (student, result["status"], result["reasons"])
        if points is not None:
            assert result["score"] == points, (student, result["score"], result["reasons"])
        else:
            assert 0 <= result["score"] < result["max_score"], (student, result["score"])
        if phrase is not None:
            assert phrase in text, (student, phrase, result["reasons"])


def test_an_interrupted_batch_resumes_without_regrading_or_duplicates(batch):
    """After kill -9 and a rerun, are the results written before the kill untouched, is
    every student graded once, and does grades.csv have one row each?"""
    out, before, log, _ = batch
    assert len(before) >= 2
    for student, mtime in before.items():
        assert (out / "submissions" / student / "result.json").stat().st_mtime_ns == mtime
    assert f"{len(before)} already graded" in log
    with (out / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["student"] for row in rows) == sorted(EXPECTED)
    assert not list(out.rglob("*.tmp"))


def test_nothing_the_killed_grader_started_outlives_it(batch):
    """After kill -9 of the grader, does every process it had started (the warm-kernel
    zygote, the kernels forked from it into sessions of their own, runners) die too?"""
    leaked = batch[3]
    assert not leaked, [(process.pid, process.cmdline()) for process in leaked]


def test_results_are_gradescope_shaped(batch):
    """Does each result carry Gradescope's fields (score, execution_time, tests with name,
    score, max_score, status, output)?"""
    out, _, _, _ = batch
    result = graded_results(out)["good_1"]
    assert {"score", "execution_time", "tests"} <= set(result)
    (test,) = result["tests"]
    assert set(test) == {"name", "score", "max_score", "status", "output"}
    assert test["status"] == "passed" and test["score"] == test["max_score"] == 10


def test_results_name_their_machine_and_their_peak_memory(batch):
    """Does each result say which machine graded it and, where memory groups measure it,
    the most memory one of its sandboxes held (a kernel with TensorFlow: hundreds of MiB,
    under the 4096 MiB limit)?"""
    out, _, _, _ = batch
    result = graded_results(out)["good_1"]
    assert result["worker"] == socket.gethostname()
    try:
        MemoryGroups.start().close()
    except MemoryGroupError:
        assert result["peak_memory_mb"] is None
    else:
        assert 200 < result["peak_memory_mb"] < 4096, result["peak_memory_mb"]
