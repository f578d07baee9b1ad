"""Grade a class: :func:`grade` runs one :class:`~batch_grader.request.GradeRequest`, here
on worker threads (:func:`grade_all`) or on a Dask cluster
(:func:`batch_grader.cluster.grade_on_cluster`), writing each result as it comes. A rerun
skips what is already graded (unless the request says ``regrade``); Ctrl-C or SIGTERM ends
every sandbox and keeps what was graded."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from batch_grader.cluster import ClusterError, grade_on_cluster
from batch_grader.request import Batch, GradeRequest
from batch_grader.session import choose_isolation, heldout_seed, run_cleanups, start_session
from batch_grader.trusted.guard import Guard, OutLocked, lock_results, mark_tampered
from batch_grader.trusted.isolation import NONE_REQUESTED, Isolation
from batch_grader.trusted.memory_groups import sweep_stale_groups
from batch_grader.trusted.results import (
    GRADES,
    finished,
    progress_bar,
    progress_line,
    store_graded,
    write_grades_csv,
)
from batch_grader.trusted.runner import Settings, grade_submission
from batch_grader.trusted.sandbox import RUNNING
from batch_grader.trusted.workspace import BATCH_PREFIX, heldout_secret, sweep_stale_batches
from data_loaders import DataFileError
from data_loaders.cache import remove_stale_temporaries

PROGRAM = "python -m batch_grader grade"
"""How the grader names itself in what it says."""

ON_EACH_WORKER = Isolation("bubblewrap", "required on each worker of the cluster")
"""A cluster batch's isolation as the client sees it: the workers probe their own (see
:func:`batch_grader.cluster.batch_spec`); the client runs no submission and probes none."""

WAKE_SECONDS = 0.5
"""How often the main thread wakes while it waits for results. Linux may hand Ctrl-C or
SIGTERM to any thread of the grader, and Python runs the handler only in the main thread,
once it is awake: a main thread asleep until the next result (a submission may take an
hour) would not stop."""


def still_to_grade(batch: Batch, out: Path, regrade: bool, language: str) -> dict[str, Path]:
    """The submissions without a result for their current file with feedback in
    ``language`` (all with ``regrade``)."""
    todo = {}
    for student, path in batch.submissions.items():
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if regrade or finished(out, student, sha, language) is None:
            todo[student] = path
    return todo


def _as_completed_awake(futures) -> Iterator:
    """``futures`` as they complete, like ``concurrent.futures.as_completed``, waking every
    :data:`WAKE_SECONDS` meanwhile (so that a signal is acted on at once)."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED)
        yield from done


def grade_all(
    todo: dict[str, Path], settings: Settings, jobs: int, out: Path, guard: Guard, columns
) -> None:
    """Grade ``todo`` on ``jobs`` threads, storing each result as it comes. Whoever was
    running when a foreign write appeared in ``out`` is graded again alone afterwards,
    and marked tampered if it writes again."""
    done = 0
    started: set[str] = set()  # added to by the worker threads as each one starts
    suspects: set[str] = set()

    def grade_one(student: str, path: Path):
        started.add(student)
        return grade_submission(student, path, settings)

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        running = {pool.submit(grade_one, s, p): s for s, p in todo.items()}
        finished_now: set[str] = set()
        for future in _as_completed_awake(running):
            student = running[future]
            graded = future.result()
            finished_now.add(student)
            touched = guard.undo_foreign_writes()
            if touched:  # one of those running since the last check wrote here
                suspects |= (set(started) - finished_now) | {student}
            if student in suspects:
                continue
            store_graded(out, guard, graded, columns)
            done += 1
            print(progress_line(done, len(todo), graded.result), file=sys.stderr)
    except BaseException:  # Ctrl-C (or a grader bug): end every sandbox now, keep results
        RUNNING.stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    for student in sorted(suspects):  # one at a time: whoever writes now is the one
        graded = grade_submission(student, todo[student], settings)
        touched = guard.undo_foreign_writes()
        if touched:
            mark_tampered(graded.result, touched)
        store_graded(out, guard, graded, columns)
        done += 1
        print(
            f"{progress_bar(done, len(todo))} {student}: {graded.result['status']}", file=sys.stderr
        )


def _interrupt_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C: stop at once, clean up, keep what is graded."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _refuse(error: object) -> int:
    print(f"{PROGRAM}: {error}", file=sys.stderr)
    return 2


def grade(request: GradeRequest) -> int:
    """Grade ``request``'s batch into its results folder, saying on standard error what
    it does. Returns the exit status: 0 when every submission got a result (whatever its
    grade), 2 when the batch could not be graded (the folder is another grader's, the
    dataset or the cluster is missing, bubblewrap was required and does not work), 130
    when interrupted."""
    batch, out = request.batch, request.out
    out.mkdir(parents=True, exist_ok=True)
    try:
        lock = lock_results(out)
    except OutLocked as error:
        return _refuse(error)
    with lock:
        try:
            if request.cluster is not None:
                isolation = NONE_REQUESTED if request.isolation == "none" else ON_EACH_WORKER
            else:
                isolation = choose_isolation(request.isolation)
            secret = heldout_secret(request.heldout_secret)
        except (ValueError, OSError) as error:
            return _refuse(error)
        if not isolation.isolated:
            print(
                "WARNING: submissions are NOT isolated from each other or from this grader "
                f"({isolation.detail}); every result records isolation: none",
                file=sys.stderr,
            )
        remove_stale_temporaries(out)  # half-written by a run that was killed
        sweep_stale_batches()
        sweep_stale_groups()
        RUNNING.reset()
        guard = Guard(out, active=not isolation.isolated)  # no sandbox reaches the results
        todo = still_to_grade(batch, out, request.regrade, request.language)
        where = request.cluster.where if request.cluster else f"with {request.jobs} job(s)"
        print(
            f"lesson {batch.lesson}: {len(batch.submissions)} submission(s), "
            f"{len(batch.submissions) - len(todo)} already graded, {len(todo)} to grade "
            f"{where}; timeouts {batch.cell_timeout} s a cell, {batch.timeout:g} s a "
            f"submission; isolation: {isolation.kind}",
            file=sys.stderr,
        )
        _interrupt_on_sigterm()
        work = Path(tempfile.mkdtemp(prefix=f"{BATCH_PREFIX}{os.getpid()}-"))
        start = time.perf_counter()
        cleanups = [lambda: shutil.rmtree(work, ignore_errors=True)]
        try:
            seed = heldout_seed(batch.lesson, secret) if todo else None
            if todo and request.cluster is not None:
                grade_on_cluster(todo, request, seed, guard)
            elif todo:
                session = start_session(
                    lesson=batch.lesson,
                    source=batch.source,
                    cell_timeout=batch.cell_timeout,
                    timeout=batch.timeout,
                    machine=request.machine,
                    isolation=isolation,
                    work=work,
                    seed=seed,
                    language=request.language,
                )
                cleanups.insert(0, session.close)
                grade_all(todo, session.settings, request.jobs, out, guard, batch.columns)
        except (DataFileError, ClusterError) as error:  # no dataset here; no cluster to use
            return _refuse(error)
        except KeyboardInterrupt:
            stopped = (
                "the cluster drops the submissions not started, and the submissions grading "
                "on the workers are stopped"
                if request.cluster is not None
                else "every sandbox is stopped"
            )
            print(
                f"interrupted: {stopped}; what was graded is kept, and the same command resumes",
                file=sys.stderr,
            )
            return 130
        finally:
            run_cleanups(cleanups)
            write_grades_csv(out, batch.columns)
    seconds = time.perf_counter() - start
    rate = len(todo) / (seconds / 60) if seconds > 0 else 0.0
    print(
        f"graded {len(todo)} submission(s) in {seconds:.0f} s ({rate:.1f} per minute); "
        f"grades in {out / GRADES}",
        file=sys.stderr,
    )
    return 0
