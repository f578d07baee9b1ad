"""Benchmark: submissions graded per minute, ours (--jobs 1 and --jobs 2) against nbgrader.

Grades N copies of lesson-01 submissions, half correct (the solution) and half wrong (a
model without its hidden layer), with ``python -m batch_grader grade`` at --jobs 1 and at
--jobs 2 with each submission in a bubblewrap sandbox, at --jobs 2 without isolation (warm
kernels forked from a zygote), on a local Dask cluster of two one-thread workers
(``--cluster local:2``: the same two at a time, plus the cluster's own cost), then the
same notebooks with nbgrader's ``autograde``
(which grades one at a time, without isolation). Prints wall-clock seconds, submissions
per minute, and the mean score: 7.5 for ours (the wrong model keeps the points of the
checks it passes), 5.0 for nbgrader (a graded cell that raises scores 0).

``--compare CHECKOUT`` runs each of our rows with another checkout's grader too (an older
commit's, e.g. ``git worktree add /tmp/old <commit>``), the two alternating ``--rounds``
times in the same run, and prints each one's median and the new one's change: a change of
the grader's code measured on the same machine at the same time.

Usage: python bench/grading_throughput.py [--copies 8] [--only ours2,cluster2,...]
       [--compare CHECKOUT --rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "lessons" / "solutions" / "01_sequential_basics.ipynb"
WRONG = """model = keras.Sequential(
    [keras.Input(shape=(32, 32, 3)), layers.Flatten(), layers.Dense(5, activation="softmax")]
)"""


def make_submissions(folder: Path, copies: int) -> dict[str, nbformat.NotebookNode]:
    notebooks = {}
    for index in range(copies):
        notebook = nbformat.read(SOLUTION, as_version=4)
        if index % 2:
            build = next(
                c
                for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1-build"
            )
            build.source = WRONG
        name = f"student{index:02d}"
        nbformat.write(notebook, folder / f"{name}.ipynb")
        notebooks[name] = notebook
    return notebooks


def grader_module(checkout: Path) -> str:
    """The module that runs ``checkout``'s batch grader (its older home was ``graders``)."""
    return "graders" if (checkout / "graders" / "__main__.py").is_file() else "batch_grader"


def ours(
    folder: Path, jobs: int, isolation: str = "bubblewrap", *options: str, checkout: Path = ROOT
) -> tuple[float, float]:
    """Grade ``folder`` with ``checkout``'s grader; (seconds, mean score)."""
    out = Path(tempfile.mkdtemp(prefix="bench-results-"))
    start = time.perf_counter()
    command = [sys.executable, "-m", grader_module(checkout), "grade", "--lesson", "01"]
    command += [str(folder), "--out", str(out), "--jobs", str(jobs), "--isolation", isolation]
    env = {**os.environ, "PYTHONPATH": str(checkout)}  # its packages before the installed
    subprocess.run(
        [*command, *options], check=True, stderr=subprocess.DEVNULL, cwd=checkout, env=env
    )
    seconds = time.perf_counter() - start
    with (out / "grades.csv").open() as handle:
        scores = [float(row["total"]) for row in csv.DictReader(handle)]
    shutil.rmtree(out)
    return seconds, sum(scores) / len(scores)


def nbgrader(notebooks: dict[str, nbformat.NotebookNode]) -> tuple[float, float]:
    course = Path(tempfile.mkdtemp(prefix="bench-nbgrader-"))
    (course / "source" / "lesson01").mkdir(parents=True)
    shutil.copy(SOLUTION, course / "source" / "lesson01" / SOLUTION.name)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    env = dict(os.environ, KERAS_COURSE_STRICT="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    command = [sys.executable, "-m", "nbgrader"]
    subprocess.run(
        [*command, "generate_assignment", "lesson01", "--force"],
        cwd=course,
        env=env,
        check=True,
        capture_output=True,
    )
    for name, notebook in notebooks.items():
        target = course / "submitted" / name / "lesson01"
        target.mkdir(parents=True)
        nbformat.write(notebook, target / SOLUTION.name)
    start = time.perf_counter()
    subprocess.run(
        [*command, "autograde", "lesson01", "--force"],
        cwd=course,
        env=env,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - start
    with sqlite3.connect(course / "gradebook.db") as db:
        scores = [row[0] for row in db.execute("SELECT auto_score FROM grade")]
    shutil.rmtree(course)
    return seconds, sum(scores) / len(scores)


OURS = (
    ("ours1", "ours, --jobs 1, isolated", (1,)),
    ("ours2", "ours, --jobs 2, isolated", (2,)),
    ("ours2-none", "ours, --jobs 2, no isolation", (2, "none")),
    ("cluster2", "ours, --cluster local:2", (1, "bubblewrap", "--cluster", "local:2")),
)
"""Our rows: key, name, and how :func:`ours` grades (jobs, isolation, more options)."""


def compare(args: argparse.Namespace, only: set[str]) -> int:
    """Our rows with this checkout's grader and ``args.compare``'s, alternating."""
    folder = Path(tempfile.mkdtemp(prefix="bench-submissions-"))
    make_submissions(folder, args.copies)
    other = args.compare.resolve()
    print(
        f"{os.cpu_count()} CPU cores; {args.copies} lesson-01 submissions, half of them wrong; "
        f"{args.rounds} round(s): this checkout ({ROOT}) against {other}"
    )
    print(f"  {'grader':28s} {'other s':>8s} {'this s':>8s} {'change':>7s}  (medians)")
    for key, name, how in OURS:
        if key not in only:
            continue
        seconds: dict[Path, list[float]] = {ROOT: [], other: []}
        for round_ in range(args.rounds):
            order = (other, ROOT) if round_ % 2 == 0 else (ROOT, other)
            for checkout in order:
                seconds[checkout].append(ours(folder, *how, checkout=checkout)[0])
        before, after = statistics.median(seconds[other]), statistics.median(seconds[ROOT])
        runs = " ".join(f"{s:.1f}" for s in seconds[other]) + " | "
        runs += " ".join(f"{s:.1f}" for s in seconds[ROOT])
        print(f"  {name:28s} {before:8.1f} {after:8.1f} {after / before - 1:+7.1%}  ({runs})")
    shutil.rmtree(folder)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument(
        "--only",
        default="ours1,ours2,ours2-none,cluster2,nbgrader",
        help="rows to run, comma-separated",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also run our rows with this checkout's grader, alternating with this one's",
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each with --compare")
    args = parser.parse_args()
    only = set(args.only.split(","))
    known = {key for key, _, _ in OURS} | {"nbgrader"}
    if only - known:
        parser.error(f"--only: unknown rows {sorted(only - known)}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, found {args.rounds}")
    if args.compare is not None:
        return compare(args, only)
    folder = Path(tempfile.mkdtemp(prefix="bench-submissions-"))
    notebooks = make_submissions(folder, args.copies)
    print(f"{os.cpu_count()} CPU cores; {args.copies} lesson-01 submissions, half of them wrong")
    print(f"  {'grader':28s} {'seconds':>8s} {'per minute':>11s} {'mean score':>11s}")
    rows = [
        *((key, name, functools.partial(ours, folder, *how)) for key, name, how in OURS),
        ("nbgrader", "nbgrader autograde", lambda: nbgrader(notebooks)),
    ]
    for key, name, run in rows:
        if key not in only:
            continue
        seconds, mean = run()
        print(f"  {name:28s} {seconds:8.1f} {60 * args.copies / seconds:11.2f} {mean:11.2f}")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
