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
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat

from data_loaders._files import remove_stale_temporaries
from graders.batch.prepare import graded_cells
from graders.batch.results import (
    feedback_html,
    finished,
    write_grades_csv,
    write_result,
)
from graders.batch.runner import Settings, grade_submission
from graders.batch.sandbox import REPO_ROOT, Limits, kill_sandbox, sandbox_popen_args
from graders.batch.warm_kernels import Zygote, ZygoteUnavailable

DATASETS = {
    **{f"{n:02d}": "load_traffic_signs" for n in range(1, 6)},
    "06": "load_happy_faces",
    "07": "load_hand_signs",
}

# Seconds one cell and one whole submission may run: (cell, submission), unless
# --cell-timeout / --timeout say otherwise. Lesson 07 trains ResNet50 for 10 epochs, 6-10
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


def find_submissions(paths: list[Path]) -> dict[str, Path]:
    """Student name -> notebook. Raises ValueError for a missing path or a name twice."""
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            notebooks = [
                p for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts
            ]
            pairs = [("__".join(p.relative_to(path).with_suffix("").parts), p) for p in notebooks]
        elif path.exists():
            pairs = [(path.stem, path)]
        else:
            raise ValueError(f"no such submission file or folder: {path}")
        for student, notebook in pairs:
            if student in found:
                raise ValueError(
                    f"two submissions for {student!r}: {found[student]} and {notebook}"
                )
            found[student] = notebook
    return found


def source_notebook(lesson: str) -> Path:
    """The lesson's released student notebook, the trusted source of its graded cells."""
    matches = sorted((REPO_ROOT / "lessons").glob(f"{lesson}_*.ipynb"))
    if not matches:
        raise ValueError(f"no lesson {lesson}: expected lessons/{lesson}_*.ipynb")
    return matches[0]


def public_data_folder(lesson: str) -> Path:
    """A fresh folder holding the lesson's dataset cache, for the kernels to read. The
    grader's own copy (and its held-out split) stays in its cache, unnamed to them."""
    import importlib

    import data_loaders
    from data_loaders._files import cache_dir

    name = DATASETS[lesson]
    getattr(data_loaders, name)()  # make sure the grader's cache holds it
    embedded = importlib.import_module(f"data_loaders.{name.removeprefix('load_')}")._EMBEDDED
    folder = Path(tempfile.mkdtemp(prefix="keras-course-public-data-"))
    # Only the current version: older caches of the same dataset are never read.
    for path in cache_dir().glob(f"{embedded.name}-v{embedded.version}-*"):
        shutil.copy2(path, folder / path.name)
    return folder


class Guard:
    """The grader's record of the files it wrote under the results folder; anything else
    that appears or changes there was written by someone else, and is undone."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: dict[Path, bytes] = {}
        for path in out.rglob("*"):
            if path.is_file():
                self.files[path] = path.read_bytes()

    def record(self, paths: list[Path]) -> None:
        for path in paths:
            self.files[path] = path.read_bytes()

    def undo_foreign_writes(self) -> list[str]:
        """Remove files the grader did not write, restore the ones it did; return the
        relative paths that had been touched."""
        touched = []
        for path in sorted(self.out.rglob("*")):
            if path.is_file() and path not in self.files:
                touched.append(str(path.relative_to(self.out)))
                path.unlink()
        for path, data in self.files.items():
            if not path.exists() or path.read_bytes() != data:
                touched.append(str(path.relative_to(self.out)))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return touched


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = width * done // max(total, 1)
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def main(argv: list[str] | None = None) -> int:
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
    parser.add_argument("--regrade", action="store_true", help="grade again what is graded")
    parser.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every kernel from scratch instead of forking it warm (slower)",
    )
    args = parser.parse_args(argv)
    try:
        lesson = f"{int(args.lesson):02d}"
        if lesson not in DATASETS:
            raise ValueError(f"no graded lesson {args.lesson!r}; lessons: {', '.join(DATASETS)}")
        source = source_notebook(lesson)
        submissions = find_submissions(args.submissions)
        if args.jobs < 1:
            raise ValueError(f"--jobs must be at least 1, found {args.jobs}")
        cell_timeout, timeout = lesson_timeouts(lesson, args.cell_timeout, args.timeout)
        if cell_timeout < 1 or timeout <= 0:
            raise ValueError(
                f"timeouts must be positive, found --cell-timeout {cell_timeout} and "
                f"--timeout {timeout}"
            )
    except ValueError as error:
        parser.error(str(error))

    columns = [c.grade_id for c in graded_cells(nbformat.read(source, as_version=4))]
    args.out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(args.out)  # half-written by a run that was killed
    guard = Guard(args.out)
    todo = {}
    for student, path in submissions.items():
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if args.regrade or finished(args.out, student, sha) is None:
            todo[student] = path
    skipped = len(submissions) - len(todo)
    print(
        f"lesson {lesson}: {len(submissions)} submission(s), {skipped} already graded, "
        f"{len(todo)} to grade with {args.jobs} job(s); timeouts {cell_timeout} s a cell, "
        f"{timeout:g} s a submission",
        file=sys.stderr,
    )
    limits = Limits(seconds=timeout, memory_mb=args.memory_mb)
    data_folder = public_data_folder(lesson)
    zygote_folder = Path(tempfile.mkdtemp(prefix="keras-course-zygote-"))
    zygote_token = uuid.uuid4().hex
    zygote = None
    if todo and not args.cold_kernels:
        try:
            zygote = Zygote(sandbox_popen_args(zygote_folder, data_folder, limits, zygote_token))
        except ZygoteUnavailable as error:
            print(f"warm kernels unavailable, starting each cold: {error}", file=sys.stderr)
    settings = Settings(
        lesson=lesson,
        source=source,
        data_folder=data_folder,
        cell_timeout=cell_timeout,
        limits=limits,
        zygote=zygote,
    )
    start = time.perf_counter()
    suspects: set[str] = set()
    try:
        done = 0
        started: set[str] = set()  # added to by the worker threads as each one starts

        def grade(student: str, path: Path):
            started.add(student)
            return grade_submission(student, path, settings)

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            running = {pool.submit(grade, s, p): s for s, p in todo.items()}
            finished_now: set[str] = set()
            for future in as_completed(running):
                student = running[future]
                graded = future.result()
                finished_now.add(student)
                touched = guard.undo_foreign_writes()
                if touched:  # one of those running since the last check wrote here
                    suspects |= (set(started) - finished_now) | {student}
                if student in suspects:
                    continue
                _store(args.out, guard, graded, columns)
                done += 1
                result = graded.result
                print(
                    f"{_bar(done, len(todo))} {student}: {result['score']:g}/"
                    f"{result['max_score']:g} {result['status']} "
                    f"({result['execution_time']:.0f} s)",
                    file=sys.stderr,
                )
        for student in sorted(suspects):  # one at a time: whoever writes now is the one
            graded = grade_submission(student, todo[student], settings)
            touched = guard.undo_foreign_writes()
            if touched:
                graded.result.update(status="tampered", score=0.0)
                graded.result["reasons"].append(
                    "it wrote into the results folder (" + ", ".join(touched[:5]) + "); "
                    "its grade is 0 and the files were removed or restored"
                )
                for exercise in graded.result["exercises"].values():
                    exercise["score"] = 0.0
                for test in graded.result["tests"]:
                    test.update(score=0.0, status="failed")
            _store(args.out, guard, graded, columns)
            done += 1
            print(f"{_bar(done, len(todo))} {student}: {graded.result['status']}", file=sys.stderr)
    finally:
        if zygote is not None:
            zygote.close()
        kill_sandbox(zygote_token)  # anything forked from it that is still running
        shutil.rmtree(zygote_folder, ignore_errors=True)
        shutil.rmtree(settings.data_folder, ignore_errors=True)
    write_grades_csv(args.out, columns)
    minutes = (time.perf_counter() - start) / 60
    rate = len(todo) / minutes if minutes > 0 else 0.0
    print(
        f"graded {len(todo)} submission(s) in {minutes * 60:.0f} s ({rate:.1f} per minute); "
        f"grades in {args.out / 'grades.csv'}",
        file=sys.stderr,
    )
    return 0


def _store(out: Path, guard: Guard, graded, columns: list[str]) -> None:
    written = write_result(
        out, graded.result, feedback_html(graded.result, graded.reports), graded.executed
    )
    guard.record(list(written))
    write_grades_csv(out, columns)
    guard.record([out / "grades.csv"])


if __name__ == "__main__":
    sys.exit(main())
