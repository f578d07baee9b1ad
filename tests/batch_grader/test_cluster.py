"""The batch grader on a real Dask cluster on 127.0.0.1, started as an instructor would
(``dask scheduler``, ``dask worker``): a worker with the GPU label takes the GPU lesson's
submissions, one at a time, a batch that no worker can take says so (at once, or after
``--gpu-wait`` when the GPU workers leave), a worker killed while it grades loses
nothing, a client killed mid-batch resumes without duplicates, a submission removed
mid-batch is reported, a submission cannot reach the scheduler (and unsandboxed, TLS
keeps it out), and ``--cluster local`` starts its workers with ``dask_workers.yaml`` and
refuses a client without its credential. (That a cluster
grades as this machine does is in test_lesson00_batch.py.)"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from argparse import Namespace
from datetime import datetime
from pathlib import Path

import dask
import nbformat
import psutil
import pytest

from batch_grader.cluster import IN_FLIGHT_PER_SLOT, _connect, tls_security
from course_utils.lesson_files import REPO_ROOT
from tests.batch_grader import (
    attack_report,
    full_marks,
    grade_command,
    graded_results,
    isolation_here,
)

pytestmark = pytest.mark.cluster

SOLUTION = REPO_ROOT / "lessons" / "solutions" / "00_tensors_and_shapes.ipynb"
CORPUS = REPO_ROOT / "tests" / "fixtures" / "submissions" / "lesson01"
ATTACKS = REPO_ROOT / "tests" / "fixtures" / "submissions" / "attacks" / "lesson00"
ATTACK = ATTACKS / "attack_reach_the_scheduler.ipynb"
README = REPO_ROOT / "README.md"
TLS_NAMES = {"--tls-ca-file": "ca.pem", "--tls-cert": "cluster.pem", "--tls-key": "cluster.key"}
"""The files the README's commands make, by the option of Dask and of the grader that
takes each."""
SCHEDULER = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]
START_SECONDS = 60


def _start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,
        cwd=REPO_ROOT,
    )


def _stop(process: subprocess.Popen) -> None:
    for member in [process, *_children(process)]:
        try:
            os.killpg(member.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    process.wait()


def _children(process: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        return []


def _address(log: Path, pattern: str) -> str:
    """The first tls:// address the line matching ``pattern`` in ``log`` names."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        found = re.search(pattern + r".*?(tls://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return found[1]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in {log}: {log.read_text()[-2000:]}")


class Cluster:
    """A scheduler and its workers, each a process of its own, all on 127.0.0.1, talking
    TLS with the files that the README's commands make (:func:`tls_files`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.workers: dict[str, subprocess.Popen] = {}
        self.tls = tls_files(folder / "tls")
        log = folder / "scheduler.log"
        self.scheduler = _start(
            [*SCHEDULER, "--host", "127.0.0.1", "--port", "0", "--no-dashboard", *self.tls],
            log,
        )
        self.address = _address(log, "Scheduler at")

    def add_worker(self, name: str, *options: str) -> str:
        """Start worker ``name`` (one thread, no nanny); returns its address."""
        log = self.folder / f"{name}.log"
        command = [*WORKER, self.address, "--nthreads", "1", "--no-nanny", *self.tls]
        command += ["--host", "127.0.0.1", "--no-dashboard", "--name", name, *options]
        command += ["--local-directory", str(self.folder / f"{name}-scratch")]
        self.workers[name] = _start(command, log)
        return _address(log, "Start worker at")

    def grader_options(self) -> list[str]:
        """What the grader is given to reach this cluster."""
        return ["--scheduler", self.address, *self.tls]

    def client(self):
        """An observer's Dask client, with the cluster's credential."""
        from distributed import Client

        return Client(self.address, timeout=30, security=tls_security(*self.tls[1::2]))

    def close(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            _stop(process)


def tls_files(folder: Path) -> list[str]:
    """The README's commands for a cluster's TLS files, run in ``folder``; returns the
    options that give them to ``dask scheduler``, ``dask worker`` and the grader."""
    commands = re.search(r"```bash\n# the cluster's TLS files.*?```", README.read_text(), re.DOTALL)
    assert commands, "the README's 'On a cluster' has no commands that make the TLS files"
    folder.mkdir(mode=0o700)
    subprocess.run(
        ["bash", "-euc", commands[0].split("\n", 1)[1].rsplit("```", 1)[0]],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    files = {option: folder / name for option, name in TLS_NAMES.items()}
    return [item for option, path in files.items() for item in (option, str(path))]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler, a plain worker and a worker of two threads labelled GPU=1 (no GPU
    needed: resources are labels)."""
    started = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        started.plain = started.add_worker("plain")
        started.gpu = started.add_worker("gpu", "--nthreads", "2", "--resources", "GPU=1")
        yield started
    finally:
        started.close()


def _submissions(folder: Path, count: int, sleep: float | tuple[float, ...] = 0) -> Path:
    """``count`` copies of lesson 00's solution (student_0, ...), each sleeping ``sleep``
    seconds (or its own of them) in its first code cell, to be caught while it grades."""
    folder.mkdir()
    sleeps = sleep if isinstance(sleep, tuple) else (sleep,) * count
    for index, seconds in zip(range(count), sleeps, strict=True):
        notebook = nbformat.read(SOLUTION, as_version=4)
        if seconds:
            cell = nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})")
            notebook.cells.insert(1, cell)
        nbformat.write(notebook, folder / f"student_{index}.ipynb")
    return folder


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "grades.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_the_gpu_lessons_submissions_go_to_the_gpu_worker(cluster, tmp_path):
    """With lesson 01 named a GPU lesson, does every submission run on the worker
    labelled GPU=1, and get full marks there (measured on the held-out images that the
    worker renders from the seed the client sends)?"""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for student in ("good_1", "good_2"):
        shutil.copyfile(CORPUS / f"{student}.ipynb", submissions / f"{student}.ipynb")
    out = tmp_path / "out"
    command = [*grade_command("01"), str(submissions), "--out", str(out)]
    command += [*cluster.grader_options(), "--gpu-lessons", "01"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = graded_results(out)
    assert {r["worker"] for r in results.values()} == {cluster.gpu}
    assert [r["score"] for r in results.values()] == [10, 10]
    held_out = "accuracy on the grader's test images"
    assert all(held_out in json.dumps(r["tests"]) for r in results.values())


def test_the_gpu_worker_grades_one_gpu_submission_at_a_time(cluster, tmp_path):
    """The GPU worker has two threads but one GPU: are three GPU submissions (sleeping 2 s
    each) graded one after the other there, never side by side? And does the client keep
    no more of them on the cluster at once than IN_FLIGHT_PER_SLOT (the rest wait on its
    disk), submitting the next as one finishes?"""
    submissions = _submissions(tmp_path / "submissions", 3, sleep=2)
    out = tmp_path / "out"
    command = [*grade_command("00"), str(submissions), "--out", str(out)]
    command += [*cluster.grader_options(), "--gpu-lessons", "00"]
    log = tmp_path / "grader.log"
    with log.open("w") as stderr:
        grader = subprocess.Popen(command, stderr=stderr)
    on_the_cluster, deadline = [], time.monotonic() + 300
    try:
        with cluster.client() as observer:
            while grader.poll() is None:
                on_the_cluster.append(observer.run_on_scheduler(_batch_tasks))
                assert time.monotonic() < deadline, "the batch never ended"
                time.sleep(0.2)
    finally:
        if grader.poll() is None:
            grader.kill()
    assert grader.returncode == 0, log.read_text()[-3000:]
    assert max(on_the_cluster) == IN_FLIGHT_PER_SLOT, on_the_cluster
    spans = []
    for result in graded_results(out).values():
        assert result["worker"] == cluster.gpu
        end = datetime.fromisoformat(result["finished_at"]).timestamp()
        spans.append((end - result["execution_time"], end))
    spans.sort()
    for (_, first_end), (second_start, _) in zip(spans, spans[1:], strict=False):
        assert first_end <= second_start + 0.05, spans


def _batch_tasks(dask_scheduler) -> int:
    """How many grading tasks the scheduler holds (run on the scheduler)."""
    return sum(str(key).startswith("grade-") for key in dask_scheduler.tasks)


def test_gpu_submissions_that_no_worker_can_take_are_refused_at_once(tmp_path):
    """A cluster without a GPU worker: does a GPU lesson's batch stop with status 2 and
    say what to start, instead of waiting forever?"""
    plain = Cluster(tmp_path)
    try:
        plain.add_worker("plain")
        submissions = _submissions(tmp_path / "submissions", 1)
        command = [*grade_command("00"), str(submissions), "--out", str(tmp_path / "out")]
        command += [*plain.grader_options(), "--gpu-lessons", "00"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        plain.close()
    assert done.returncode == 2, done.stderr[-3000:]
    assert (
        "lesson 00's submissions need a worker with a GPU (the resource GPU), and none of "
        "the cluster's 1 worker(s) has one: start one with `dask worker ADDRESS --resources "
        "\"GPU=1\"`, or grade this lesson on CPUs with --gpu-lessons ''"
    ) in done.stderr


@pytest.mark.skipif(not isolation_here().isolated, reason="bubblewrap does not work here")
def test_a_submission_cannot_reach_the_scheduler_that_sent_it(cluster, tmp_path):
    """A notebook knocks on every port of 127.0.0.1, where this cluster's scheduler and
    workers listen, to run code on the workers through the scheduler (which it does when
    graded with --isolation none). Graded on the cluster beside a correct submission, does
    it find no port but its own kernel's, and do both keep full marks?"""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copyfile(ATTACK, submissions / ATTACK.name)
    shutil.copyfile(ATTACKS / "good_1.ipynb", submissions / "good_1.ipynb")
    out = tmp_path / "out"
    command = [*grade_command("00"), str(submissions), "--out", str(out)]
    command += cluster.grader_options()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = attack_report(out, ATTACK.stem)
    assert found == {"environment": [], "ports": [], "ran_on": [], "schedulers": []}
    results = graded_results(out)
    assert sorted(results) == [ATTACK.stem, "good_1"]
    assert all(full_marks(r) for r in results.values()), results
    assert {r["isolation"] for r in results.values()} == {"bubblewrap"}


def test_unsandboxed_the_same_submission_finds_the_scheduler_and_tls_keeps_it_out(
    cluster, tmp_path
):
    """The control for the test above: graded with --isolation none, does the same
    notebook find this cluster's scheduler's port open, and yet run no code through it,
    lacking the cluster's certificate?"""
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copyfile(ATTACK, submissions / ATTACK.name)
    out = tmp_path / "out"
    command = [*grade_command("00"), str(submissions), "--out", str(out)]
    command += [*cluster.grader_options(), "--isolation", "none"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = attack_report(out, ATTACK.stem)
    port = int(cluster.address.rsplit(":", 1)[1])
    assert port in found["ports"], found
    assert port not in found["schedulers"], found
    ours = {worker.pid for worker in cluster.workers.values()}
    assert not ours & set(found["ran_on"]), (ours, found)


def test_a_batch_whose_gpu_workers_leave_stops_after_its_gpu_wait(tmp_path):
    """The only GPU worker is killed after the first of two GPU submissions, while it
    holds the second. Does the batch stop with status 2 once --gpu-wait (2 s) has passed
    without a GPU worker, say what to start, keep the first result, and never hand the
    second to the plain worker meanwhile?"""
    own, grader = Cluster(tmp_path), None
    try:
        gpu = own.add_worker("gpu", "--resources", "GPU=1")
        plain = own.add_worker("plain")
        submissions = _submissions(tmp_path / "submissions", 2, sleep=(0, 60))
        out = tmp_path / "out"
        command = [*grade_command("00"), str(submissions), "--out", str(out)]
        command += [*own.grader_options(), "--gpu-lessons", "00", "--gpu-wait", "2"]
        grader = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        with own.client() as observer:
            deadline = time.monotonic() + 300
            while not (graded_results(out) and observer.processing(workers=[gpu])[gpu]):
                assert time.monotonic() < deadline and grader.poll() is None, "never graded"
                time.sleep(0.1)
            _stop(own.workers["gpu"])
            held_by_plain, stopped_by = [], time.monotonic() + 60
            while grader.poll() is None:
                held_by_plain += observer.processing(workers=[plain])[plain]
                assert time.monotonic() < stopped_by, "the batch waits on without a GPU"
                time.sleep(0.1)
        _, stderr = grader.communicate(timeout=60)
    finally:
        if grader is not None and grader.poll() is None:
            grader.kill()
        own.close()
    assert grader.returncode == 2, stderr[-3000:]
    assert (
        "1 submission(s) need a worker with a GPU (the resource GPU) and the cluster has "
        "had none for 2 s (--gpu-wait): start one with `dask worker ADDRESS --resources "
        '"GPU=1"` and run the same command again to grade them (what was graded is kept)'
    ) in stderr
    assert held_by_plain == []
    results = graded_results(out)
    assert list(results) == ["student_0"] and results["student_0"]["worker"] == gpu
    assert [row["student"] for row in _rows(out)] == ["student_0"]


@pytest.mark.skipif(not isolation_here().isolated, reason="bubblewrap does not work here")
def test_a_worker_killed_while_grading_loses_nothing(tmp_path):
    """Two workers grade three submissions that each sleep 4 s first; one worker is killed
    while a sandbox of its own runs a submission. Does the batch complete, with every
    submission graded once, and those the killed worker held graded on the other?"""
    own = Cluster(tmp_path)
    try:
        doomed = own.add_worker("doomed")
        survivor = own.add_worker("survivor")
        submissions = _submissions(tmp_path / "submissions", 3, sleep=4)
        out = tmp_path / "out"
        command = [*grade_command("00"), str(submissions), "--out", str(out)]
        command += own.grader_options()
        grader = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        with own.client() as observer:
            deadline = time.monotonic() + 300
            while True:  # a sandbox of the doomed worker runs the submission it holds
                held = observer.processing(workers=[doomed])[doomed]
                sandboxed = any(
                    "batch_grader.sandboxed.holder" in " ".join(p.cmdline())
                    for p in _children(own.workers["doomed"])
                )
                if held and sandboxed:
                    break
                assert time.monotonic() < deadline and grader.poll() is None, "never graded"
                time.sleep(0.1)
            _stop(own.workers["doomed"])
        _, stderr = grader.communicate(timeout=600)
    finally:
        own.close()
    assert grader.returncode == 0, stderr[-3000:]
    results = graded_results(out)
    assert sorted(results) == [f"student_{i}" for i in range(3)]
    assert {r["score"] for r in results.values()} == {30}
    assert sorted(row["student"] for row in _rows(out)) == sorted(results)
    held_students = [key.rsplit("-", 1)[-1] for key in held]  # grade-<batch>-<student>
    assert {results[s]["worker"] for s in held_students} == {survivor}, held_students


def test_submissions_removed_before_their_turn_are_reported_and_the_rest_graded(tmp_path):
    """On a local cluster of one worker (which the client gives two submissions at a
    time), the last two of four submission files are removed once the batch has started,
    before the client reads them. Are both reported, with the reason, while the other two
    are graded, and does the command exit with status 2?"""
    submissions = _submissions(tmp_path / "submissions", 4)
    out = tmp_path / "out"
    command = [*grade_command("00"), str(submissions), "--out", str(out)]
    command += ["--cluster", "local:1"]
    grader = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        started = grader.stderr.readline()
        assert started.startswith("lesson 00: 4 submission(s)"), started
        removed = [submissions / f"student_{index}.ipynb" for index in (2, 3)]
        for path in removed:
            path.unlink()
        _, stderr = grader.communicate(timeout=300)
    finally:
        if grader.poll() is None:
            grader.kill()
    assert grader.returncode == 2, stderr[-3000:]
    why = [f"{path} could not be read: No such file or directory" for path in removed]
    assert f"student_2: not graded: {why[0]}" in stderr
    assert f"student_3: not graded: {why[1]}" in stderr
    assert (
        f"2 submission file(s) could not be read once the batch had started ({why[0]}; "
        f"{why[1]}): check them, then run the same command again; the others are written"
    ) in stderr
    assert sorted(graded_results(out)) == ["student_0", "student_1"]


def test_a_client_killed_mid_batch_resumes_without_duplicates(cluster, tmp_path):
    """The grader (the Dask client) is killed after its first result, while the other
    submission (7 s longer) still grades; the same command again grades the rest. Is
    each submission graded once, the first result untouched?"""
    submissions = _submissions(tmp_path / "submissions", 2, sleep=(1, 8))
    out = tmp_path / "out"
    command = [*grade_command("00"), str(submissions), "--out", str(out)]
    command += cluster.grader_options()
    first = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not graded_results(out) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    before = {
        student: (out / "submissions" / student / "result.json").stat().st_mtime_ns
        for student in graded_results(out)
    }
    assert len(before) == 1, before
    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"{len(before)} already graded" in second.stderr
    for student, mtime in before.items():
        assert (out / "submissions" / student / "result.json").stat().st_mtime_ns == mtime
    assert sorted(row["student"] for row in _rows(out)) == ["student_0", "student_1"]


def _sandboxes(cluster: Cluster) -> list[psutil.Process]:
    """The bubblewrap sandboxes (and their holders) running under the cluster's workers
    (not one that has just ended, a zombie until its parent reaps it)."""
    found = []
    for worker in cluster.workers.values():
        for child in _children(worker):
            try:
                command = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if re.search(r"bwrap|batch_grader\.sandboxed\.holder", command):
                found.append(child)
    return found


def test_ctrl_c_on_the_client_stops_the_submissions_grading_on_the_workers(cluster, tmp_path):
    """A submission sleeps 300 s in a sandbox of a worker when the grader (the client) gets
    Ctrl-C. Does the grader exit with status 130 at once, saying so, and its sandbox stop
    on the worker, for good, rather than run on, unwritten, to the end?"""
    submissions = _submissions(tmp_path / "submissions", 1, sleep=300)
    out = tmp_path / "out"
    command = [*grade_command("00"), str(submissions), "--out", str(out)]
    grader = subprocess.Popen(
        [*command, *cluster.grader_options()], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while not any(
        "batch_grader.sandboxed.holder" in " ".join(p.cmdline()) for p in _sandboxes(cluster)
    ):
        assert time.monotonic() < deadline and grader.poll() is None, "never graded"
        time.sleep(0.2)
    time.sleep(3)  # the kernel is in the sleeping cell
    grader.send_signal(signal.SIGINT)
    _, stderr = grader.communicate(timeout=60)
    assert grader.returncode == 130, stderr[-3000:]
    assert "the submissions grading on the workers are stopped" in stderr, stderr[-3000:]
    deadline = time.monotonic() + 30
    while (running := _sandboxes(cluster)) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(10)  # nothing starts again
    running = _sandboxes(cluster)
    assert running == [], [" ".join(p.cmdline()) for p in running]
    assert graded_results(out) == {}


def test_a_local_cluster_s_workers_take_the_settings_of_dask_workers_yaml():
    """``--cluster local``: do its workers run without Dask's profiler, with a slow
    event-loop watchdog, and without the nanny's memory-trimming variable (Dask's defaults:
    True, "20ms", "65536")? And does its scheduler leave Dask's usual port 8787 alone, so
    that a second batch at the same time starts without a warning?"""
    with socket.socket() as usual_port, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(OSError):  # taken already: the check holds all the same
            usual_port.bind(("127.0.0.1", 8787))
        client, local = _connect(Namespace(scheduler=None, local_workers=1))
        try:
            seen = client.run(
                lambda: (
                    dask.config.get("distributed.worker.profile.enabled"),
                    dask.config.get("distributed.admin.tick.interval"),
                    os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                )
            )
        finally:
            client.close()
            local.close()
    assert list(seen.values()) == [(False, "1s", None)]
    assert not [str(w.message) for w in caught if "already in use" in str(w.message)]


def test_a_local_cluster_refuses_a_client_without_its_credential():
    """``--cluster local``: can a client that lacks the batch's credential (another user
    of this machine, who finds the port) reach the scheduler, with no TLS, plain TCP, or
    a credential of its own? And are the cluster's scratch folders gone once it closes?"""
    from distributed import Client, Security

    client, local = _connect(Namespace(scheduler=None, local_workers=1))
    try:
        address = local.cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:"), address
        assert list(client.run(os.getpid).values()), "the grader's own client is refused"
        attempts = {
            "no TLS": (address, None),
            "plain TCP": (address.replace("tls://", "tcp://"), None),
            "a credential of its own": (address, Security.temporary()),
        }
        for attempt, (where, security) in attempts.items():
            with pytest.raises((OSError, TypeError, TimeoutError)):
                intruder = Client(where, timeout=5, security=security)
                intruder.run(os.getpid)  # what the attack did, as root on every worker
                pytest.fail(f"{attempt}: connected to the local cluster")
    finally:
        client.close()
        local.close()
    assert not Path(local.scratch).exists()
