"""Warm kernels: forked from a zygote that has imported Keras, each in its own folder,
environment, session and limits, driven by nbclient like any kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from batch_grader.sandboxed import execute
from batch_grader.sandboxed.forked_kernels import (
    forked_kernel_manager,
    kill_tree,
)
from batch_grader.trusted.sandbox import (
    Limits,
    kill_sandbox,
    limited_start,
    sandbox_environment,
)
from batch_grader.trusted.warm_kernels import (
    Zygote,
    ZygoteUnavailable,
)
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.sandbox

MEMORY_MB = 4096

PROBE = """
import json, os, resource, subprocess, sys
from course_utils.tensorflow_settings import onednn_enabled
json.dump({
    "warm": "keras" in sys.modules,
    "onednn": [os.environ.get("TF_ENABLE_ONEDNN_OPTS"), onednn_enabled()],
    "cwd": os.getcwd(),
    "home": os.environ.get("HOME"),
    "grader_secret": os.environ.get("GRADER_SECRET"),
    "own_session": os.getsid(0) == os.getpid(),
    "memory_limit": resource.getrlimit(resource.RLIMIT_AS)[0],
    "subprocess": subprocess.run([sys.executable, "-c", "print(6 * 7)"],
                                 capture_output=True, text=True).stdout.strip(),
}, open("probe.json", "w"))
"""


PRELOADED = ("graders.lesson01",)


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    """A zygote under the sandbox's limits, with lesson 01's checks imported (as a batch of
    lesson 01 has them) and a secret in the test's own environment that no kernel may see."""
    os.environ["GRADER_SECRET"] = "s3cret"
    folder = tmp_path_factory.mktemp("zygote")
    token = uuid.uuid4().hex
    limits = Limits(seconds=300, memory_mb=MEMORY_MB)
    started = Zygote(limited_start(folder, folder, limits, token).popen, preload=PRELOADED)
    yield started
    started.close()
    kill_sandbox(token)
    del os.environ["GRADER_SECRET"]


def _run(zygote: Zygote, folder: Path, sources: list[str], cell_timeout: int = 60):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(notebook, folder / "prepared.ipynb")
    env = sandbox_environment(folder, folder, uuid.uuid4().hex)
    manager = forked_kernel_manager(zygote, folder, env)
    record = execute.run(folder / "prepared.ipynb", folder, cell_timeout, kernel_manager=manager)
    return record, manager.forked_pid


def test_a_forked_kernel_is_warm_and_sandboxed(zygote, tmp_path):
    """Does the kernel start with Keras imported (oneDNN on, as in the learner's kernel), in
    its own folder, HOME and session, under the memory limit, without the grader's
    environment, and able to run programs?"""
    record, pid = _run(zygote, tmp_path, [PROBE])
    assert record["errors"] == [] and not record["kernel_died"], record
    probe = json.loads((tmp_path / "probe.json").read_text())
    assert probe == {
        "warm": True,
        "onednn": ["1", True],  # the course's setting, in the zygote that loaded TensorFlow
        "cwd": str(tmp_path),
        "home": str(tmp_path),
        "grader_secret": None,
        "own_session": True,
        "memory_limit": MEMORY_MB * 1024 * 1024,
        "subprocess": "42",
    }
    assert pid is not None and _gone(pid)  # stopped once the run ended


def _gone(pid: int, wait: float = 10.0) -> bool:
    """Whether the process has ended (waiting up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_a_cell_past_its_timeout_is_interrupted_and_the_next_cell_runs(zygote, tmp_path):
    """Does the cell timeout interrupt a forked kernel (by signal) and go on, with the
    cell recorded as stopped and holding an error even when the kernel answers late?"""
    record, _ = _run(
        zygote, tmp_path, ["while True:\n    pass", "open('after.txt', 'w').write('ran')"], 5
    )
    assert record["timed_out"] == [0], record
    # the kernel's KeyboardInterrupt, or the grader's own error when it came too late
    assert [e["ename"] for e in record["errors"]] in (["KeyboardInterrupt"], ["CellTimeout"])
    assert (tmp_path / "after.txt").read_text() == "ran"


def test_a_forked_kernel_remembers_failed_cells_for_checks_imported_before_it(zygote, tmp_path):
    """The zygote imported lesson 01's checks before any kernel existed: does a kernel
    forked from it still remember a failed cell (for the export) and explain its error
    under the cell, as a kernel that imports the checks itself does?"""
    cells = [
        "import keras\nfrom keras import layers\nfrom graders.lesson01 import check_exercise_1",
        "model = None\nmodel = keras.Sequential([keras.Input(shape=(32, 32, 3)), "
        "layers.Flatten(), layers.Conv2D(8, 3)])",
        "import json\nfrom graders.cell_errors import exported_failures\n"
        "json.dump(exported_failures(), open('failures.json', 'w'))",
    ]
    record, _ = _run(zygote, tmp_path, cells)
    assert [error["cell"] for error in record["errors"]] == [1], record
    failures = json.loads((tmp_path / "failures.json").read_text())
    assert failures["model"]["error"] == "ValueError", failures
    assert "a Conv2D or pooling layer must come before Flatten" in failures["model"]["hint"]
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    shown = json.dumps(executed.cells[1].outputs)
    assert "keras-course: Layer" in shown, shown


def test_a_kernel_that_exits_is_reported_dead(zygote, tmp_path):
    """Is os._exit() in a forked kernel seen as a dead kernel, not a hang?"""
    record, _ = _run(zygote, tmp_path, ["import os\nos._exit(3)", "print('never')"])
    assert record["kernel_died"]


def test_kill_tree_stops_a_kernel_and_what_it_started(zygote, tmp_path):
    """Does killing a forked kernel also kill the processes it started?"""
    env = sandbox_environment(tmp_path, tmp_path, uuid.uuid4().hex)
    manager = forked_kernel_manager(zygote, tmp_path, env)
    from jupyter_core.utils import run_sync

    run_sync(manager.start_kernel)()
    client = manager.blocking_client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    client.execute_interactive(
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "open('child.pid', 'w').write(str(child.pid))",
        timeout=60,
    )
    client.stop_channels()
    child = int((tmp_path / "child.pid").read_text())
    kill_tree(manager.forked_pid)
    assert _gone(child) and _gone(manager.forked_pid)


def _stub_zygote(tmp_path: Path, answer: str) -> Zygote:
    """A stand-in zygote that says ready, then answers each request with ``answer``
    (nothing at all when it is empty)."""
    token = uuid.uuid4().hex
    limits = Limits(seconds=60, memory_mb=MEMORY_MB)
    script = (
        "import sys\nprint('ready', flush=True)\nfor line in sys.stdin:\n"
        f"    if {answer!r}: print({answer!r}, flush=True)\n"
    )
    return Zygote(
        limited_start(tmp_path, tmp_path, limits, token).popen, [sys.executable, "-c", script]
    )


def test_a_stopped_zygote_is_reported_so_the_grader_can_start_cold(tmp_path):
    """After its zygote stops, does asking for a kernel raise ZygoteUnavailable?"""
    zygote = _stub_zygote(tmp_path, "")
    zygote.close()
    with pytest.raises(ZygoteUnavailable, match="exited"):
        zygote.spawn(["-f", "x.json"], tmp_path, {})


def test_a_zygote_that_cannot_fork_or_does_not_answer_is_reported(tmp_path):
    """Is a failed fork reported for that kernel only, and a silent zygote stopped (so
    that a late answer is never taken for the next kernel's)?"""
    failing = _stub_zygote(tmp_path, '{"error": "Resource temporarily unavailable"}')
    for _ in range(2):
        with pytest.raises(ZygoteUnavailable, match="could not fork: Resource"):
            failing.spawn(["-f", "x.json"], tmp_path, {})
    failing.close()
    silent = _stub_zygote(tmp_path, "")
    silent.answer_timeout = 0.5
    with pytest.raises(ZygoteUnavailable, match="did not answer"):
        silent.spawn(["-f", "x.json"], tmp_path, {})
    with pytest.raises(ZygoteUnavailable, match="exited"):
        silent.spawn(["-f", "x.json"], tmp_path, {})


def test_cold_kernels_grade_as_the_warm_ones_do(tmp_path):
    """Does --cold-kernels (a fresh Python for each kernel and each sandboxed job) give
    the grade that warm kernels give the same submission in test_batch_grader.py: good_1
    10/10? (How a notebook's errors are reported does not depend on how its kernel
    started: the same runner reads them.)"""
    corpus = REPO_ROOT / "tests" / "fixtures" / "submissions" / "lesson01"
    out = tmp_path / "cold"
    command = [sys.executable, "-m", "batch_grader", "grade", "--lesson", "01"]
    command += [str(corpus / "good_1.ipynb"), "--out", str(out), "--cold-kernels"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "good_1,10,10,10,graded" in (out / "grades.csv").read_text()
    result = json.loads((out / "submissions" / "good_1" / "result.json").read_text())
    assert result["status"] == "graded" and result["reasons"] == [], result["reasons"]
