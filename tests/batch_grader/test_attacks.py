"""Hostile submissions graded in batches beside correct ones (tests/fixtures/submissions/
attacks, written by tests/fixtures/make_submissions.py).

Each attack adds one cell to a lesson's solution: lesson 00's, which trains nothing, for
every attack that needs no model; lesson 01's for the two that do, beside a correct
lesson-01 pair. It spies on the machine, leaves a daemon
that rewrites results, poisons the dataset, stops every process it can reach, signals the
sandbox's first process, fills the disk, exports a model that asks for 40 GB, forks without
end, starts processes that together take more memory than the sandbox has, writes into
the results folder, knocks on every local port for a Dask scheduler that would run its
code, makes each system call the sandbox's filter refuses, or plants a link where its
runner writes. The sandbox must stop each one: the correct submissions keep full marks, no
process of the batch outlives it, no file outside the results changes, and a clean batch
afterwards grades the same.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
import pytest

from batch_grader.trusted.isolation import SANDBOX_HOME
from batch_grader.trusted.memory_groups import MemoryGroupError, MemoryGroups
from batch_grader.trusted.results import CRASHED
from batch_grader.trusted.sandbox import PROCESS_LIMIT
from batch_grader.trusted.syscall_filter import REFUSED, architecture
from batch_grader.trusted.workspace import BATCH_PREFIX, public_data_folder
from course_utils.lesson_files import REPO_ROOT
from data_loaders.cache import CACHE_ENV_VAR
from tests.batch_grader import (
    attack_report,
    check_items,
    full_marks,
    grade_command,
    grade_notebooks,
    graded_results,
    isolation_here,
)

pytestmark = pytest.mark.sandbox

CORPORA = REPO_ROOT / "tests" / "fixtures" / "submissions" / "attacks"
# lesson -> its corpus: lesson 00's graded first, then lesson 01's
LESSONS = {lesson: CORPORA / f"lesson{lesson}" for lesson in ("00", "01")}
FULL_MARKS = {"00": 30, "01": 10}
MARKER = "keras-course-attack-daemon"
DISK_MB = 256
MEMORY_MB = 4096
OPTIONS = {
    "jobs": 2,
    "cell_timeout": 60,
    "timeout": 300,
    "memory_mb": MEMORY_MB,
    "disk_mb": DISK_MB,
    "isolation": "bubblewrap",
}

if not isolation_here().isolated:
    if os.geteuid() == 0 and sys.platform.startswith("linux"):
        raise RuntimeError(f"bubblewrap must work for root on Linux: {isolation_here().detail}")
    pytest.skip(f"no isolation here: {isolation_here().detail}", allow_module_level=True)


def _fingerprint(*folders: Path) -> dict[str, str]:
    """sha256 of every file under ``folders``."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _of_a_batch(cmdline: list[str] | None) -> bool:
    return any(MARKER in part or "batch_grader" in part for part in cmdline or [])


def _left_behind() -> list[psutil.Process]:
    """The batch processes and attack daemons that nothing alive owns: the root of each
    one's process tree (its topmost ancestor below PID 1) is a batch process itself, not a
    grader or a test. Another test's batch, running beside this one, is not counted."""
    left = []
    ancestors = {os.getpid()} | {parent.pid for parent in psutil.Process().parents()}
    for process in psutil.process_iter(["cmdline"]):
        if not _of_a_batch(process.info["cmdline"]):
            continue
        try:
            chain = [process, *process.parents()]
            if process.pid in ancestors or any(m.pid == os.getpid() for m in chain):
                continue  # this test, what it runs, what runs it (it may name batch_grader)
            root = chain[-2] if len(chain) > 1 and chain[-1].pid == 1 else chain[-1]
            if _of_a_batch(root.cmdline()):
                left.append(process)
        except psutil.Error:  # ended meanwhile
            continue
    return left


@dataclass
class Hostile:
    """What grading the corpora left: each lesson's results folder, the files that
    changed outside the results, the processes left behind, the secret."""

    out: dict[str, Path]
    changed: list[str]
    left: list[psutil.Process]
    secret: Path

    def result(self, lesson: str, student: str) -> dict:
        return graded_results(self.out[lesson])[student]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Hostile:
    """Grade each lesson's corpus in a batch of its own, one after the other."""
    secret = tmp_path_factory.mktemp("secret") / "secret"
    secret.write_text("the instructor's secret for this test\n")
    watched = [REPO_ROOT / p for p in ("graders", "data_loaders")]
    folders = {}
    for lesson, corpus in LESSONS.items():
        submissions = tmp_path_factory.mktemp(f"attacks{lesson}")
        shutil.copytree(corpus, submissions, dirs_exist_ok=True)
        # The grader's dataset cache, its own: other tests write to the shared one meanwhile.
        cache = public_data_folder(lesson, tmp_path_factory.mktemp("cache") / "data")
        folders[lesson] = submissions, cache
        watched += [submissions, cache]
    before = _fingerprint(*watched)
    out = {}
    for lesson, (submissions, cache) in folders.items():
        out[lesson] = tmp_path_factory.mktemp(f"results{lesson}")
        done = subprocess.run(
            [
                *grade_command(lesson, **OPTIONS),
                str(submissions),
                "--out",
                str(out[lesson]),
                "--heldout-secret",
                str(secret),
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            env={**os.environ, CACHE_ENV_VAR: str(cache)},
        )
        assert done.returncode == 0, done.stderr[-3000:]
    left = _left_behind()
    changed = sorted(
        path for path, digest in _fingerprint(*watched).items() if before.get(path) != digest
    )
    return Hostile(out, changed, left, secret)


def test_the_correct_submissions_keep_full_marks_beside_the_attacks(hostile):
    """Are the correct submissions of each lesson, graded after its attacks, at full
    marks, and is every result recorded as isolated by bubblewrap?"""
    for lesson, corpus in LESSONS.items():
        results = graded_results(hostile.out[lesson])
        assert sorted(results) == sorted(p.stem for p in corpus.glob("*.ipynb"))
        for student in ("good_1", "good_2"):
            assert full_marks(results[student]), (lesson, student, results[student]["reasons"])
        assert {result["isolation"] for result in results.values()} == {"bubblewrap"}
        assert results["good_1"]["max_score"] == FULL_MARKS[lesson]


def test_a_spy_sees_nothing_of_the_grader_or_the_others(hostile):
    """Does a notebook that searches the machine find only its own sandbox: its own
    processes (the holder, its runner, its kernel), no other process's environment,
    nothing to trace, no submission, result, secret or dataset file, no network, and no
    writable folder but its own? In both lessons: lesson 01's batch also holds a held-out
    split and exported models."""
    for lesson in LESSONS:
        found = attack_report(hostile.out[lesson], "attack_spy")
        assert len(found["processes"]) == 3, (lesson, found["processes"])
        assert "batch_grader.sandboxed.holder" in found["processes"]["1"]
        others = [command for pid, command in found["processes"].items() if pid != "1"]
        assert all("batch_grader.trusted.warm_kernels" in command for command in others)  # forked
        assert found["uid"] == 1000
        assert found["environments"] == [] and found["traced"] == []
        assert found["files"] == [] and found["network"] == [], (lesson, found)
        assert found["writable"] == [SANDBOX_HOME]
        # started with nothing of the grader's: no batch folder, no home but the sandbox's
        started = found["start_environment"]
        assert not [entry for entry in started if BATCH_PREFIX in entry], (lesson, started)
        assert {e for e in started if e.startswith("HOME=")} <= {f"HOME={SANDBOX_HOME}"}
        assert full_marks(hostile.result(lesson, "attack_spy"))


def test_a_runner_stopped_by_a_planted_link_says_what_it_raised(hostile):
    """A kernel that plants a link where its runner writes the executed notebook stops
    the runner: is the reason the exception it raised, not "memory limit or a crash"?"""
    result = hostile.result("00", "attack_plant_a_link")
    assert result["status"] == CRASHED
    assert result["reasons"] == [
        "the runner stopped before finishing (it raised FileNotFoundError: [Errno 2] No such "
        f"file or directory: '{SANDBOX_HOME}/executed.ipynb')"
    ]


def test_every_forbidden_system_call_is_refused(hostile):
    """Does each call the sandbox's system-call filter names fail with EPERM in a kernel,
    those too that succeed without it (tracing itself, the session keyring, an empty
    unshare, a user-mode userfaultfd, an io_uring), while the submission keeps full
    marks?"""
    found = attack_report(hostile.out["00"], "attack_forbidden_calls")
    named = [name for name in REFUSED if name in architecture().numbers]
    assert found == dict.fromkeys(named, "EPERM")
    assert full_marks(hostile.result("00", "attack_forbidden_calls"))


def test_a_daemon_dies_with_its_sandbox_and_rewrites_nothing(hostile):
    """Does a double-forked daemon with a clean environment (the old sweep's blind spot)
    end with its sandbox, before it can rewrite anyone's result?"""
    assert attack_report(hostile.out["00"], "attack_daemon") == {"daemon": "started"}
    assert hostile.left == [], [process.info["cmdline"] for process in hostile.left]
    time.sleep(5)  # a survivor would have rewritten the results by now
    assert full_marks(hostile.result("00", "good_1"))
    assert not [p for p in psutil.process_iter(["cmdline"]) if MARKER in str(p.info["cmdline"])]


def test_the_dataset_cannot_be_poisoned(hostile):
    """Is every write into the dataset the kernels read refused (read-only), so that the
    students graded after keep their marks?"""
    found = attack_report(hostile.out["01"], "attack_poison_data")
    assert found["poisoned"] == [] and len(found["refused"]) >= 2
    assert full_marks(hostile.result("01", "attack_poison_data"))


def test_stopping_every_process_reaches_only_its_own_sandbox(hostile):
    """Does SIGSTOP sent to every process id reach only the processes (and threads) of
    the notebook's own sandbox, so that nothing else stops?"""
    found = attack_report(hostile.out["00"], "attack_stop_every_process")
    stopped, visible = set(found["stopped"]), set(found["visible"])
    assert stopped - {1} and stopped <= visible, found  # its runner at least; nothing else
    assert full_marks(hostile.result("00", "attack_stop_every_process"))


def test_signals_to_the_sandboxs_first_process_change_nothing(hostile):
    """Do SIGINT, SIGTERM, SIGHUP and SIGUSR1 sent to the holder (PID 1, which hands the
    results back) leave it running, so that the notebook is graded as usual?"""
    found = attack_report(hostile.out["00"], "attack_signal_the_holder")
    assert found["sent"] == ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1"]
    result = hostile.result("00", "attack_signal_the_holder")
    assert full_marks(result), result["reasons"]


def test_the_disk_quota_holds(hostile):
    """Does writing without end stop at the sandbox's quota with "No space left on
    device", without taking the grade down?"""
    found = attack_report(hostile.out["00"], "attack_fill_the_disk")
    assert found["error"] == "No space left on device"
    assert DISK_MB - 64 <= found["written_mb"] <= DISK_MB, found
    assert full_marks(hostile.result("00", "attack_fill_the_disk"))


def test_a_model_that_asks_for_40_gb_fails_in_its_own_sandbox(hostile):
    """Is an exported model whose config asks for 40 GB of weights refused by the memory
    limit of the checks' own sandbox, as that student's failure, while the grader goes on?"""
    result = hostile.result("01", "attack_model_bomb")
    assert result["score"] == 0
    messages = [item["message"] for item in check_items(result, "ex1-check").values()]
    assert any("the model in model could not be loaded safely" in m for m in messages), messages


@pytest.mark.skipif(
    not isolation_here().throwaway, reason="no throwaway identity here (needs root)"
)
def test_a_fork_bomb_stops_at_the_sandboxs_process_limit(hostile):
    """Does a process that forks without end get "try again" (EAGAIN) before the
    sandbox's process limit, so that the machine keeps process ids for the others, and
    does the notebook go on to full marks?"""
    found = attack_report(hostile.out["00"], "attack_fork_bomb")
    assert found["error"] == "EAGAIN", found
    assert PROCESS_LIMIT // 2 < found["forked"] < PROCESS_LIMIT, found
    assert full_marks(hostile.result("00", "attack_fork_bomb"))


def _memory_groups_here() -> str | None:
    """The version of control groups the grader's sandboxes get here, or None."""
    try:
        groups = MemoryGroups.start()
    except MemoryGroupError:
        return None
    groups.close()
    return groups.version.name


@pytest.mark.skipif(not _memory_groups_here(), reason="no memory groups here")
def test_processes_that_together_want_more_memory_than_the_sandbox_lose_their_own(hostile):
    """Do six processes of 1 GiB each, each under the per-process limit, lose some of
    their own to the out-of-memory killer once the sandbox as a whole reaches its
    limit, rather than the machine's memory and someone else's kernel, while the
    notebook's own kernel lives on to full marks?"""
    found = attack_report(hostile.out["00"], "attack_memory_hog")
    assert found["alive"] < found["hogs"] and found["alive"] * 1024 < MEMORY_MB, found
    result = hostile.result("00", "attack_memory_hog")
    assert f"{MEMORY_MB} MiB of memory" in result["isolation_detail"]
    assert result["sandbox_limits"] == _memory_groups_here()
    assert full_marks(result)


def test_no_port_outside_the_sandbox_answers(hostile):
    """Does a notebook that knocks on every port of 127.0.0.1, to run code through a
    Dask scheduler there, find no port but its own kernel's (and so no scheduler)?
    (test_cluster.py grades it beside a real scheduler.)"""
    found = attack_report(hostile.out["00"], "attack_reach_the_scheduler")
    assert found == {"environment": [], "ports": [], "ran_on": [], "schedulers": []}
    assert full_marks(hostile.result("00", "attack_reach_the_scheduler"))


def test_nothing_outside_the_results_changes(hostile):
    """Are the submitted notebooks, the grader's dataset cache and the course's packages
    byte for byte as before the batch?"""
    assert hostile.changed == []


def test_the_results_folder_is_out_of_reach(hostile):
    """Does the notebook that looks for the grader's --out find none, and keep its own
    grade (nothing was written there, so nobody is marked tampered)?"""
    out = hostile.out["00"]
    notebook = nbformat.read(out / "submissions" / "attack_write_results" / "executed.ipynb", 4)
    assert any(
        "results folder: None" in o.get("text", "")
        for c in notebook.cells
        for o in c.get("outputs", [])
    )
    for results in hostile.out.values():
        statuses = {s: r["status"] for s, r in graded_results(results).items()}
        statuses.pop("attack_plant_a_link", None)  # stops its own runner, on purpose
        assert set(statuses.values()) == {"graded"}, statuses


def test_a_clean_batch_after_the_hostile_one_grades_the_same(hostile, tmp_path):
    """Does a correct lesson-01 submission graded alone, after the hostile batches, get
    the same result as in its batch (same held-out secret)?"""
    clean = tmp_path / "clean"
    done = subprocess.run(
        [
            *grade_command("01", **OPTIONS),
            str(LESSONS["01"] / "good_1.ipynb"),
            "--out",
            str(clean),
            "--heldout-secret",
            str(hostile.secret),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    alone, beside = graded_results(clean)["good_1"], hostile.result("01", "good_1")
    assert (alone["score"], alone["status"], alone["exercises"]) == (
        beside["score"],
        beside["status"],
        beside["exercises"],
    )


def test_a_kernel_cannot_trace_a_runner_started_cold(tmp_path):
    """With cold kernels (as where warm jobs cannot be forked in), can the spy's kernel
    attach to its runner, the process that drives it, and stall the job until the
    submission's timeout? It must find nothing to trace, and the notebook keep full marks."""
    spy = nbformat.read(LESSONS["00"] / "attack_spy.ipynb", as_version=4)
    good = nbformat.read(LESSONS["00"] / "good_1.ipynb", as_version=4)
    # A stalled runner shows as a timed-out submission, not as a test that waits 30 min.
    students = {"attack_spy": spy, "good_1": good}
    out, _ = grade_notebooks("00", students, tmp_path, cold_kernels=True, timeout=300)
    results = graded_results(out)
    executed = out / "submissions" / "attack_spy" / "executed.ipynb"
    assert executed.is_file(), {k: results["attack_spy"].get(k) for k in ("status", "reasons")}
    found = attack_report(out, "attack_spy")
    runners = [c for c in found["processes"].values() if "batch_grader.sandboxed.execute" in c]
    assert runners, found["processes"]  # it saw its cold runner
    assert found["traced"] == [], found["traced"]
    assert full_marks(results["attack_spy"]) and full_marks(results["good_1"]), results
