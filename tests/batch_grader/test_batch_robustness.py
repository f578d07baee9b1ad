"""One submission cannot break the batch: odd names, forged exports, a grader error, a
second grader on the same results folder; and Ctrl-C stops it at once."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from batch_grader.cli import main
from batch_grader.request import LESSONS, find_submissions, source_notebook, student_name
from batch_grader.sandboxed.grade import grade_run
from batch_grader.sandboxed.linux import libc
from batch_grader.trusted import runner
from batch_grader.trusted.guard import lock_results
from batch_grader.trusted.prepare import graded_cells
from batch_grader.trusted.runner import grade_submission
from batch_grader.trusted.workspace import BATCH_PREFIX
from course_utils.lesson_files import REPO_ROOT
from tests.batch_grader import batch_settings

pytestmark = pytest.mark.sandbox

CORPUS = REPO_ROOT / "tests" / "fixtures" / "submissions" / "lesson01"


@pytest.mark.parametrize(
    ("parts", "name"),
    [
        (("alice",), "alice"),
        (("..",), "unnamed"),
        ((".hidden",), "hidden"),
        (("class 1", "bob smith"), "class_1__bob_smith"),
        (("a/b",), "a_b"),
        (("x.ipynb", "y"), "x.ipynb__y"),
    ],
)
def test_student_names_stay_inside_their_folder(parts, name):
    """Does every notebook path give a name that is one plain folder name?"""
    assert student_name(parts) == name


def test_odd_files_and_folders_are_found_without_a_crash_or_a_silent_collision(tmp_path):
    """Are a notebook named '...ipynb', a folder named 'x.ipynb' and two names that become
    the same each graded as a student of their own?"""
    for relative in ("...ipynb", "a b.ipynb", "a_b.ipynb", "x.ipynb/y.ipynb"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    found = find_submissions([tmp_path])
    assert sorted(found) == sorted(
        ["unnamed", "a_b", f"a_b-{_digest(tmp_path / 'a_b.ipynb')}", "x.ipynb__y"]
    )
    assert found["a_b"] == tmp_path / "a b.ipynb"
    assert all(path.is_file() for path in found.values())


def _digest(path) -> str:
    import hashlib

    return hashlib.sha256(str(path).encode()).hexdigest()[:8]


def test_a_second_grader_on_the_same_results_folder_is_refused(tmp_path, capsys):
    """While one grader holds the results folder, does a second one stop at once with
    status 2, naming the holder, and leave the folder alone?"""
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    out = tmp_path / "results"
    out.mkdir()
    with lock_results(out):
        assert main(["--lesson", "01", str(notebook), "--out", str(out)]) == 2
    assert "another grader (pid " in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [".grader.lock"]


FORGED = {
    "a file outside its folder": (
        {"model": {"kind": "model", "file": "../../../x.keras"}},
        "the export of model is malformed: expected its file 'model.keras', found "
        "'../../../x.keras'",
    ),
    "a manifest that is a list": ([1, 2], "the export manifest is malformed: found list"),
    "an unknown kind": (
        {"model": {"kind": "exploit"}},
        "the export of model is malformed: {'kind': 'exploit'}",
    ),
    "a history file that is not JSON": (
        {"model": {"kind": "none"}, "history": {"kind": "history", "file": "history.json"}},
        "the export of history is not valid JSON",
    ),
    "a model file that is missing": (
        {"model": {"kind": "model", "file": "model.keras"}},
        "the export of model is malformed: model.keras is not a plain file",
    ),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_forged_export_fails_its_cell_and_nothing_else(tmp_path, case):
    """Is a forged or broken export reported as that cell's failure, without an
    exception?"""
    manifest, message = FORGED[case]
    folder = tmp_path / "artifacts" / "ex1-check"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "history.json").write_text("{not json")
    cells = graded_cells(nbformat.read(source_notebook("01"), as_version=4))
    (report,) = grade_run("01", tmp_path, cells, [], "it did not run", tmp_path / "reruns")
    assert report.points == 0
    assert report.results[0].message.startswith(message), report.results[0].message


def test_a_grader_error_on_one_submission_becomes_its_result(tmp_path, monkeypatch):
    """When grading one submission raises inside the grader, is it recorded as that
    submission's "crashed" result instead of stopping the batch?"""

    def broken(*_args):
        raise RuntimeError("a bug the submission triggers")

    monkeypatch.setattr(runner, "_grade", broken)
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("{}")
    settings = batch_settings("01", tmp_path)
    graded = grade_submission("alice", notebook, settings)
    assert graded.result["status"] == "crashed" and graded.result["score"] == 0
    assert graded.result["reasons"] == [
        "the grader failed on this submission: RuntimeError: a bug the submission triggers"
    ]


def test_the_graded_lessons_are_those_with_a_checks_module():
    """Are the graded lessons found from graders/lessonNN.py?"""
    assert LESSONS == [f"{number:02d}" for number in range(11)]


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_every_sandbox_at_once_and_the_rerun_resumes(tmp_path):
    """Does Ctrl-C during a long submission end the grader within seconds (not when the
    submission's time is up), with exit status 130, no process of the batch left, its
    private folder removed, what was graded kept, and a rerun that grades the rest? The
    signal goes to one of the grader's worker threads: Linux may deliver a Ctrl-C there,
    and a main thread asleep until the next result would never act on it."""
    good = tmp_path / "submissions" / "good.ipynb"
    good.parent.mkdir()
    shutil.copy(CORPUS / "good_1.ipynb", good)
    sleeper = nbformat.read(CORPUS / "good_1.ipynb", as_version=4)
    sleeper.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(3600)"))
    nbformat.write(sleeper, good.parent / "sleeper.ipynb")
    out = tmp_path / "results"
    command = [sys.executable, "-m", "batch_grader", "grade", "--lesson", "01", str(good.parent)]
    command += ["--out", str(out), "--jobs", "1", "--cell-timeout", "3000"]
    # As from a terminal: a suite started in the background (`pytest &` in a script) would
    # hand the grader SIGINT ignored, and Python leaves an ignored SIGINT ignored.
    grader = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not (out / "submissions" / "good").exists():
        time.sleep(0.2)
    time.sleep(3)  # the sleeper's sandbox is running now
    tree = psutil.Process(grader.pid).children(recursive=True)
    assert tree, "the grader started nothing"
    threads = [int(t) for t in os.listdir(f"/proc/{grader.pid}/task") if int(t) != grader.pid]
    assert threads, "the grader runs no worker thread"
    assert libc().tgkill(grader.pid, max(threads), signal.SIGINT) == 0
    start = time.monotonic()
    try:
        _, log = grader.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        grader.send_signal(signal.SIGUSR1)  # where each thread of the grader is stuck
        time.sleep(2)
        for process in [*tree, psutil.Process(grader.pid)]:  # not to disturb the next tests
            with contextlib.suppress(psutil.Error):
                process.kill()
        pytest.fail(f"the grader did not stop: {grader.communicate()[1][-6000:]}")
    assert time.monotonic() - start < 30, log[-2000:]
    assert grader.returncode == 130, log[-2000:]
    assert "interrupted: every sandbox is stopped" in log
    _, alive = psutil.wait_procs(tree, timeout=10)
    assert alive == [], [process.cmdline() for process in alive]
    assert not list(Path(tempfile.gettempdir()).glob(f"{BATCH_PREFIX}{grader.pid}-*"))
    assert sorted(p.name for p in (out / "submissions").iterdir()) == ["good"]
    rerun = subprocess.run([*command[:-1], "5"], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0 and "1 already graded, 1 to grade" in rerun.stderr
    result = json.loads((out / "submissions" / "sleeper" / "result.json").read_text())
    assert "ran longer than 5 s and was stopped" in " ".join(result["reasons"])
