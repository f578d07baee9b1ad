"""Benchmark: submissions graded per minute, ours (--jobs 1 and --jobs 2) against nbgrader.

Grades N copies of lesson-01 submissions, half correct (the solution) and half wrong (a
model without its hidden layer), with ``python -m graders grade`` at --jobs 1 and at
--jobs 2 with each submission in a bubblewrap sandbox, at --jobs 2 without isolation (warm
kernels forked from a zygote), on a local Dask cluster of two one-thread workers
(``--cluster local:2``: the same two at a time, plus the cluster's own cost), then the
same notebooks with nbgrader's ``autograde``
(which grades one at a time, without isolation). Prints wall-clock seconds, submissions
per minute, and the mean score: 7.5 for ours (the wrong model keeps the points of the
checks it passes), 5.0 for nbgrader (a graded cell that raises scores 0).

Usage: python bench/grading_throughput.py [--copies 8] [--only ours2,cluster2,...]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sqlite3
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


def ours(
    folder: Path, jobs: int, isolation: str = "bubblewrap", *options: str
) -> tuple[float, float]:
    out = Path(tempfile.mkdtemp(prefix="bench-results-"))
    start = time.perf_counter()
    command = [sys.executable, "-m", "graders", "grade", "--lesson", "01", str(folder)]
    command += ["--out", str(out), "--jobs", str(jobs), "--isolation", isolation, *options]
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument(
        "--only",
        default="ours1,ours2,ours2-none,cluster2,nbgrader",
        help="rows to run, comma-separated",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    folder = Path(tempfile.mkdtemp(prefix="bench-submissions-"))
    notebooks = make_submissions(folder, args.copies)
    print(f"{os.cpu_count()} CPU cores; {args.copies} lesson-01 submissions, half of them wrong")
    print(f"  {'grader':28s} {'seconds':>8s} {'per minute':>11s} {'mean score':>11s}")
    rows = [
        ("ours1", "ours, --jobs 1, isolated", lambda: ours(folder, 1)),
        ("ours2", "ours, --jobs 2, isolated", lambda: ours(folder, 2)),
        ("ours2-none", "ours, --jobs 2, no isolation", lambda: ours(folder, 2, "none")),
        (
            "cluster2",
            "ours, --cluster local:2",
            lambda: ours(folder, 1, "bubblewrap", "--cluster", "local:2"),
        ),
        ("nbgrader", "nbgrader autograde", lambda: nbgrader(notebooks)),
    ]
    unknown = only - {key for key, _, _ in rows}
    if unknown:
        parser.error(f"--only: unknown rows {sorted(unknown)}")
    for key, name, run in rows:
        if key not in only:
            continue
        seconds, mean = run()
        print(f"  {name:28s} {seconds:8.1f} {60 * args.copies / seconds:11.2f} {mean:11.2f}")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
