"""``python -m graders grade --lesson NN SUBMISSIONS... --out RESULTS/``: grade a class.

SUBMISSIONS are notebooks or folders searched for notebooks. A notebook given by path is
graded as the student named by its file name; one found in a folder as its path inside
that folder. Results go to RESULTS/ (see :mod:`graders.batch.results`); a rerun skips what
is already graded unless ``--regrade``. Exit status: 0 when every submission got a result
(whatever its grade), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from data_loaders import RENDERED, DataFileError
from data_loaders.cache import remove_stale_temporaries
from graders.batch.cluster import ClusterError
from graders.batch.guard import Guard, OutLocked, lock_results, mark_tampered
from graders.batch.isolation import NONE_REQUESTED, Isolation, gpu_devices, probe
from graders.batch.memory_groups import MemoryGroupError, MemoryGroups, sweep_stale_groups
from graders.batch.prepare import graded_cells
from graders.batch.reaper import start as start_reaper
from graders.batch.reaper import stop as stop_reaper
from graders.batch.results import (
    GRADES,
    feedback_html,
    finished,
    write_grades_csv,
    write_result,
)
from graders.batch.runner import Settings, grade_submission, lesson_dataset
from graders.batch.sandbox import (
    REPO_ROOT,
    RUNNING,
    Limits,
    kill_sandbox,
    new_batch_tag,
    new_token,
    readable_by_all,
    sandbox_popen_args,
)
from graders.batch.warm_kernels import Zygote, ZygoteUnavailable
from graders.batch.workspace import (
    BATCH_PREFIX,
    grader_data_folder,
    heldout_secret,
    public_data_folder,
    sweep_stale_batches,
)
from graders.heldout import secret_seed

LESSONS = sorted(
    match[1]
    for path in (REPO_ROOT / "graders").glob("lesson*.py")
    if (match := re.fullmatch(r"lesson(\d\d)\.py", path.name))
)
"""The graded lessons: those with a checks module ``graders.lessonNN``."""


# Seconds one cell and one whole submission may run: (cell, submission), unless
# --cell-timeout / --timeout say otherwise. Lesson 07 trains ResNet50 for 6 epochs, 4-10
# minutes on 2 cores alone and about twice that while another submission shares them.
TIMEOUTS = {"07": (2400, 3600)}
DEFAULT_TIMEOUTS = (600, 1800)


def lesson_timeouts(
    lesson: str, cell_timeout: int | None, timeout: float | None
) -> tuple[int, float]:
    """The per-cell and per-submission timeouts in seconds: those given, else the lesson's."""
    cell_default, submission_default = TIMEOUTS.get(lesson, DEFAULT_TIMEOUTS)
    return (
        cell_default if cell_timeout is None else cell_timeout,
        submission_default if timeout is None else timeout,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def student_name(parts: tuple[str, ...]) -> str:
    """A student's name from the parts of a notebook's path (folders, then the file name
    without ``.ipynb``): joined by ``__``, every character outside letters, digits, ``.``,
    ``_`` and ``-`` replaced by ``_``, no leading dot, so that it names one folder under
    the results and nothing else (``..`` becomes ``unnamed``)."""
    name = _UNSAFE.sub("_", "__".join(parts)).lstrip(".")
    return name or "unnamed"


def find_submissions(paths: list[Path]) -> dict[str, Path]:
    """Student name -> notebook file (see :func:`student_name`). Two notebooks whose names
    become the same get the second one's name suffixed with a hash of its path, so none is
    lost. Raises ValueError for a missing path, or for the same notebook name given twice."""
    found: dict[str, Path] = {}
    raw: dict[tuple[str, ...], Path] = {}
    for path in paths:
        if path.is_dir():
            notebooks = [
                p
                for p in sorted(path.rglob("*.ipynb"))
                if ".ipynb_checkpoints" not in p.parts and p.is_file()
            ]
            pairs = [(p.relative_to(path).with_suffix("").parts, p) for p in notebooks]
        elif path.is_file():
            pairs = [((path.stem,), path)]
        else:
            raise ValueError(f"no such submission file or folder: {path}")
        for parts, notebook in pairs:
            if parts in raw:
                raise ValueError(
                    f"two submissions named {'/'.join(parts)!r}: {raw[parts]} and {notebook}"
                )
            raw[parts] = notebook
            student = student_name(parts)
            if student in found:
                digest = hashlib.sha256(str(notebook).encode()).hexdigest()[:8]
                student = f"{student}-{digest}"
            found[student] = notebook
    return found


def source_notebook(lesson: str) -> Path:
    """The lesson's released student notebook, the trusted source of its graded cells."""
    matches = sorted((REPO_ROOT / "lessons").glob(f"{lesson}_*.ipynb"))
    if not matches:
        raise ValueError(f"no lesson {lesson}: expected lessons/{lesson}_*.ipynb")
    return matches[0]


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = width * done // max(total, 1)
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


@dataclass(frozen=True)
class Batch:
    """What one run grades: the lesson, its trusted source notebook and graded cells, the
    submissions by student, and the timeouts."""

    lesson: str
    source: Path
    columns: list[str]
    submissions: dict[str, Path]
    cell_timeout: int
    timeout: float


def parse_arguments(argv: list[str] | None) -> tuple[argparse.Namespace, Batch]:
    """The options, checked; exits with status 2 and the reason for bad ones."""
    parser = argparse.ArgumentParser(
        prog="python -m graders grade", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--lesson", required=True, help="lesson number, e.g. 01")
    parser.add_argument("submissions", nargs="+", type=Path)
    parser.add_argument("--out", required=True, type=Path, help="results folder")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument(
        "--cell-timeout", type=int, help="seconds per cell (default 600; 2400 for lesson 07)"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds per submission (default 1800; 3600 for lesson 07)"
    )
    parser.add_argument("--memory-mb", type=int, default=6144, help="memory per submission")
    parser.add_argument(
        "--disk-mb", type=int, default=2048, help="disk space per sandbox (its quota)"
    )
    parser.add_argument(
        "--isolation",
        choices=("auto", "bubblewrap", "none"),
        default="auto",
        help="isolate each submission with bubblewrap (auto: when it works here)",
    )
    parser.add_argument(
        "--heldout-secret",
        type=Path,
        help="file with the secret the held-out images are rendered from (default: "
        "~/.config/keras-course/heldout-secret, made on the first batch)",
    )
    parser.add_argument("--regrade", action="store_true", help="grade again what is graded")
    parser.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every kernel and check from scratch instead of forking it warm (slower)",
    )
    parser.add_argument(
        "--gpu-lessons",
        default=",".join(GPU_LESSONS),
        help="lessons whose submissions get a GPU: its device nodes here, a worker with "
        f"the GPU resource on a cluster (default {','.join(GPU_LESSONS)}; '' for none)",
    )
    parser.add_argument(
        "--gpu-wait",
        type=float,
        default=GPU_WAIT_SECONDS,
        metavar="SECONDS",
        help="on a cluster: how long the GPU lessons' submissions wait when every GPU "
        f"worker has left mid-batch, before the batch stops (default {GPU_WAIT_SECONDS:g})",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the Dask cluster of this scheduler (tls://HOST:PORT, with the three "
        "--tls options), one task per submission",
    )
    where.add_argument(
        "--cluster",
        metavar="local[:WORKERS]",
        help="grade on a Dask cluster started here on 127.0.0.1 (default: 2 workers)",
    )
    for option, what in TLS_FILES.items():
        parser.add_argument(
            f"--tls-{option}", type=Path, metavar="FILE", help=f"with --scheduler: {what}"
        )
    args = parser.parse_args(argv)
    try:
        lesson = f"{int(args.lesson):02d}"
        if lesson not in LESSONS:
            raise ValueError(f"no graded lesson {args.lesson!r}; lessons: {', '.join(LESSONS)}")
        source = source_notebook(lesson)
        submissions = find_submissions(args.submissions)
        for option in ("jobs", "memory_mb", "disk_mb"):
            if getattr(args, option) < 1:
                flag = "--" + option.replace("_", "-")
                raise ValueError(f"{flag} must be at least 1, found {getattr(args, option)}")
        if not args.gpu_wait >= 0:  # also refuses nan
            raise ValueError(f"--gpu-wait must be 0 or more seconds, found {args.gpu_wait:g}")
        args.gpu_lessons = _lesson_list(args.gpu_lessons, "--gpu-lessons")
        args.local_workers = _local_workers(args.cluster)
        check_tls_options(
            args.scheduler, {o: getattr(args, "tls_" + o.replace("-", "_")) for o in TLS_FILES}
        )
        cell_timeout, timeout = lesson_timeouts(lesson, args.cell_timeout, args.timeout)
        if cell_timeout < 1 or timeout <= 0:
            raise ValueError(
                f"timeouts must be positive, found --cell-timeout {cell_timeout} and "
                f"--timeout {timeout}"
            )
    except ValueError as error:
        parser.error(str(error))
    columns = [c.grade_id for c in graded_cells(nbformat.read(source, as_version=4))]
    return args, Batch(lesson, source, columns, submissions, cell_timeout, timeout)


TLS_FILES = {
    "ca-file": "the certificate of the authority that signed the cluster's certificates (PEM)",
    "cert": "this client's certificate (PEM)",
    "key": "this client's private key (PEM), readable by its owner only",
}
"""The TLS options of --scheduler, as Dask's own command lines name them."""


def check_tls_options(scheduler: str | None, files: dict[str, Path | None]) -> None:
    """Refuse a scheduler that is not reached over TLS with the three files, and files
    that are missing, or a key that other users can read. Raises ValueError saying why."""
    given = [f"--tls-{option}" for option, path in files.items() if path is not None]
    if scheduler is None:
        if given:
            raise ValueError(f"{' and '.join(given)} go with --scheduler tls://HOST:PORT")
        return
    if not scheduler.startswith("tls://"):
        raise ValueError(
            f"--scheduler {scheduler}: expected a tls:// address. Whoever reaches a scheduler "
            "over plain TCP can run code on its workers, as the user that runs them (root, "
            "for the sandboxes): start the scheduler and workers with TLS (the README, 'On a "
            "cluster', says how) and pass tls://HOST:PORT with --tls-ca-file, --tls-cert "
            "and --tls-key"
        )
    missing = [f"--tls-{option}" for option, path in files.items() if path is None]
    if missing:
        raise ValueError(f"--scheduler {scheduler} needs {' and '.join(missing)} too")
    for option, path in files.items():
        if not path.is_file():
            raise ValueError(f"--tls-{option} {path}: no such file")
    mode = files["key"].stat().st_mode & 0o777
    if mode & 0o077:
        raise ValueError(
            f"--tls-key {files['key']}: other users can read it (mode {mode:04o}), and with it "
            f"run code on the cluster: chmod 600 {files['key']}"
        )


def _lesson_list(text: str, flag: str) -> tuple[str, ...]:
    """``"07,8"`` -> ``("07", "08")``; raises ValueError naming ``flag`` for a non-number."""
    lessons = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if not part.isdigit():
            raise ValueError(f"{flag}: expected lesson numbers such as 07,08, found {part!r}")
        lessons.append(f"{int(part):02d}")
    return tuple(lessons)


def _local_workers(cluster: str | None) -> int | None:
    """``--cluster local[:N]`` -> N (2 when not given); None without ``--cluster``."""
    if cluster is None:
        return None
    kind, _, count = cluster.partition(":")
    if kind != "local" or (count and (not count.isdigit() or int(count) < 1)):
        raise ValueError(
            f"--cluster: expected local or local:WORKERS (1 or more), found {cluster!r}"
        )
    return int(count) if count else DEFAULT_LOCAL_WORKERS


def still_to_grade(batch: Batch, out: Path, regrade: bool) -> dict[str, Path]:
    """The submissions without a result for their current file (all with ``regrade``)."""
    todo = {}
    for student, path in batch.submissions.items():
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if regrade or finished(out, student, sha) is None:
            todo[student] = path
    return todo


GPU_LESSONS = ("07",)
"""Lessons whose sandboxes get the machine's GPU device nodes, when it has any, unless
``--gpu-lessons`` says otherwise (on a cluster: whose submissions go to GPU workers)."""
DEFAULT_LOCAL_WORKERS = 2  # the workers of --cluster local
GPU_WAIT_SECONDS = 30.0
"""How long, by default, a cluster batch's GPU submissions may wait while no worker of the
cluster has a GPU (they all left mid-batch), before the batch stops (``--gpu-wait``)."""
CHECK_SECONDS = {"07": 1200}
DEFAULT_CHECK_SECONDS = 300
"""Seconds the checks of one submission may take (loading and measuring its model)."""


ON_EACH_WORKER = Isolation("bubblewrap", "required on each worker of the cluster")
"""A cluster batch's isolation as the client sees it: the workers probe their own (see
:func:`graders.batch.cluster.batch_spec`); the client runs no submission and probes none."""


def choose_isolation(requested: str) -> Isolation:
    """The isolation to use: bubblewrap when it works here (``auto``; required with
    ``bubblewrap``, else ValueError), or none when asked."""
    if requested == "none":
        return NONE_REQUESTED
    found = probe()
    if requested == "bubblewrap" and not found.isolated:
        raise ValueError(f"--isolation bubblewrap: {found.detail}")
    return found


def run_cleanups(cleanups) -> None:
    """Run every cleanup in order, each even if one before it failed (the first error is
    raised at the end)."""
    failed = None
    for cleanup in cleanups:
        try:
            cleanup()
        except Exception as error:  # noqa: BLE001 - the others must still run
            failed = failed or error
    if failed is not None:
        raise failed


def heldout_seed(lesson: str, secret: bytes) -> int | None:
    """The seed that renders ``lesson``'s held-out split from the instructor's ``secret``;
    None when its dataset is a real one, whose held-out split is its public test split."""
    dataset = lesson_dataset(lesson)
    return secret_seed(secret, dataset) if dataset in RENDERED else None


def start_batch(
    batch: Batch, args: argparse.Namespace, isolation: Isolation, work: Path, seed: int | None
) -> tuple[Settings, list]:
    """The grading settings: the public dataset copy, the grader's held-out split, and
    (unless ``--cold-kernels``) the zygote that kernels and sandboxed jobs fork from; the
    reaper (:mod:`graders.batch.reaper`) that cleans up should this grader be killed; and
    the cleanups to run when the batch ends."""
    limits = Limits(seconds=batch.timeout, memory_mb=args.memory_mb, disk_mb=args.disk_mb)
    check_limits = Limits(
        seconds=CHECK_SECONDS.get(batch.lesson, DEFAULT_CHECK_SECONDS),
        memory_mb=args.memory_mb,
        disk_mb=args.disk_mb,
    )
    data_folder = public_data_folder(batch.lesson, work / "public-data")
    dataset = lesson_dataset(batch.lesson)
    grader_data = grader_data_folder(batch.lesson, data_folder, work / "grader-data", seed)
    devices = tuple(gpu_devices()) if batch.lesson in args.gpu_lessons else ()
    tag = new_batch_tag()
    reaper = start_reaper(tag)  # first: it cleans up after a grader killed from now on
    zygote_token = new_token(tag)
    cleanups = []
    zygote = None
    try:
        if not args.cold_kernels:
            zygote_folder = work / "zygote"
            zygote_folder.mkdir()
            try:
                popen_args = sandbox_popen_args(
                    zygote_folder, data_folder, limits, zygote_token, gpu=bool(devices)
                )
                zygote = Zygote(popen_args, preload=(f"graders.lesson{batch.lesson}",))
                cleanups.append(zygote.close)
            except ZygoteUnavailable as error:
                print(f"warm kernels unavailable, starting each cold: {error}", file=sys.stderr)
        cleanups.append(lambda: kill_sandbox(zygote_token))  # what was forked from it
        if isolation.throwaway:  # read by each sandbox's throwaway user
            readable_by_all(data_folder)
            readable_by_all(grader_data)
        groups = None
        if isolation.isolated:
            try:
                groups = MemoryGroups.start(tag=tag)
                cleanups.append(groups.close)  # after the sandboxes have ended
                detail = f"{isolation.detail}; {args.memory_mb} MiB of memory a whole sandbox"
            except MemoryGroupError as error:
                detail = f"{isolation.detail}; memory limited per process only ({error})"
            isolation = replace(isolation, detail=detail)
    except BaseException:  # what started is stopped
        run_cleanups([*cleanups, lambda: stop_reaper(reaper)])
        raise
    cleanups.append(lambda: stop_reaper(reaper))  # last: its sweep comes after all the rest
    settings = Settings(
        lesson=batch.lesson,
        dataset=dataset,
        source=batch.source,
        data_folder=data_folder,
        grader_data=grader_data,
        heldout_seed=seed,
        cell_timeout=batch.cell_timeout,
        limits=limits,
        check_limits=check_limits,
        isolation=isolation,
        work=work,
        devices=devices,
        zygote=zygote,
        memory_groups=groups,
        tag=tag,
    )
    return settings, cleanups


WAKE_SECONDS = 0.5
"""How often the main thread wakes while it waits for results. Linux may hand Ctrl-C or
SIGTERM to any thread of the grader, and Python runs the handler only in the main thread,
once it is awake: a main thread asleep until the next result (a submission may take an
hour) would not stop."""


def _as_completed_awake(futures) -> Iterator:
    """``futures`` as they complete, like ``concurrent.futures.as_completed``, waking every
    :data:`WAKE_SECONDS` meanwhile (so that a signal is acted on at once)."""
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED)
        yield from finished


def grade_all(
    todo: dict[str, Path], settings: Settings, jobs: int, out: Path, guard: Guard, columns
) -> None:
    """Grade ``todo`` on ``jobs`` threads, storing each result as it comes. Whoever was
    running when a foreign write appeared in ``out`` is graded again alone afterwards,
    and marked tampered if it writes again."""
    done = 0
    started: set[str] = set()  # added to by the worker threads as each one starts
    suspects: set[str] = set()

    def grade(student: str, path: Path):
        started.add(student)
        return grade_submission(student, path, settings)

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        running = {pool.submit(grade, s, p): s for s, p in todo.items()}
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
            _store(out, guard, graded, columns)
            done += 1
            print(progress(done, len(todo), graded.result), file=sys.stderr)
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
        _store(out, guard, graded, columns)
        done += 1
        print(f"{_bar(done, len(todo))} {student}: {graded.result['status']}", file=sys.stderr)


def _interrupt_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C: stop at once, clean up, keep what is graded."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    args, batch = parse_arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        lock = lock_results(args.out)
    except OutLocked as error:
        print(f"python -m graders grade: {error}", file=sys.stderr)
        return 2
    on_cluster = bool(args.scheduler or args.local_workers)
    with lock:
        try:
            if on_cluster:
                isolation = NONE_REQUESTED if args.isolation == "none" else ON_EACH_WORKER
            else:
                isolation = choose_isolation(args.isolation)
            secret = heldout_secret(args.heldout_secret)
        except (ValueError, OSError) as error:
            print(f"python -m graders grade: {error}", file=sys.stderr)
            return 2
        if not isolation.isolated:
            print(
                "WARNING: submissions are NOT isolated from each other or from this grader "
                f"({isolation.detail}); every result records isolation: none",
                file=sys.stderr,
            )
        remove_stale_temporaries(args.out)  # half-written by a run that was killed
        sweep_stale_batches()
        sweep_stale_groups()
        RUNNING.reset()
        guard = Guard(args.out, active=not isolation.isolated)  # no sandbox reaches --out
        todo = still_to_grade(batch, args.out, args.regrade)
        if args.scheduler:
            where = f"on the Dask cluster at {args.scheduler}"
        elif args.local_workers:
            where = f"on a local Dask cluster of {args.local_workers} worker(s)"
        else:
            where = f"with {args.jobs} job(s)"
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
        try:
            cleanups = [lambda: shutil.rmtree(work, ignore_errors=True)]
            seed = heldout_seed(batch.lesson, secret) if todo else None
            if todo and on_cluster:
                from graders.batch.cluster import grade_on_cluster

                grade_on_cluster(todo, batch, args, seed, args.out, guard)
            elif todo:
                settings, more = start_batch(batch, args, isolation, work, seed)
                cleanups[:0] = more
                grade_all(todo, settings, args.jobs, args.out, guard, batch.columns)
        except DataFileError as error:  # the lesson's dataset is not on this machine
            print(f"python -m graders grade: {error}", file=sys.stderr)
            return 2
        except ClusterError as error:
            print(f"python -m graders grade: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            stopped = (
                "the cluster drops the submissions not started, and the submissions grading "
                "on the workers are stopped"
                if on_cluster
                else "every sandbox is stopped"
            )
            print(
                f"interrupted: {stopped}; what was graded is kept, and the same command resumes",
                file=sys.stderr,
            )
            return 130
        finally:
            run_cleanups(cleanups)
            write_grades_csv(args.out, batch.columns)
    seconds = time.perf_counter() - start
    rate = len(todo) / (seconds / 60) if seconds > 0 else 0.0
    print(
        f"graded {len(todo)} submission(s) in {seconds:.0f} s ({rate:.1f} per minute); "
        f"grades in {args.out / GRADES}",
        file=sys.stderr,
    )
    return 0


def store(out: Path, guard: Guard, result: dict, feedback: str, executed, columns) -> None:
    """Write one submission's ``result``, ``feedback`` page and ``executed`` notebook, then
    grades.csv, each atomically, and tell ``guard`` they are the grader's own writes."""
    written = write_result(out, result, feedback, executed)
    guard.record(list(written))
    write_grades_csv(out, columns)
    guard.record([out / GRADES])


def progress(done: int, total: int, result: dict, where: str = "") -> str:
    """The progress line of one finished submission (``where``: the worker, if any)."""
    place = f", {where}" if where else ""
    return (
        f"{_bar(done, total)} {result['student']}: {result['score']:g}/"
        f"{result['max_score']:g} {result['status']} ({result['execution_time']:.0f} s{place})"
    )


def _store(out: Path, guard: Guard, graded, columns: list[str]) -> None:
    feedback = feedback_html(graded.result, graded.reports)
    store(out, guard, graded.result, feedback, graded.executed, columns)


if __name__ == "__main__":
    sys.exit(main())
