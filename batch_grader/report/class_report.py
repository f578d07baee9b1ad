"""``python -m batch_grader report RESULTS/``: the report of a graded class, from its results
folder (:mod:`batch_grader.report.summary`), written beside ``grades.csv``:

- ``report.html`` and its figures in ``report_figures/`` (:mod:`batch_grader.report.page`);
- ``grades_canvas.csv`` and ``grades_moodle.csv``, the grades in the layouts that Canvas's
  and Moodle's gradebooks import (:mod:`batch_grader.report.gradebooks`).

The lesson is the one every result names; ``--lesson NN`` names it for results that do
not (graded before the grader recorded it, or of several lessons), and must be the
results' own when they name one.

It takes the results folder's lock, as the grader does, so that it never writes into a
folder that a batch is still grading. Exit status: 0, or 2 for a folder that is not a
results folder (or is locked), for results whose lesson is neither named by them nor by
``--lesson``, and for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from batch_grader.report.gradebooks import write_gradebooks
from batch_grader.report.page import write_report
from batch_grader.report.summary import (
    NotAResultsFolder,
    check_results_folder,
    lesson_of,
    read_results,
    summarize,
)
from batch_grader.trusted.guard import OutLocked, lock_results


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m batch_grader report",
        description="Write report.html (score distributions, the most frequent failing "
        "messages, statuses, grading times, the students to look at) with its figures, and "
        "the grades in Canvas's and Moodle's gradebook CSV layouts, into a results folder "
        "that `python -m batch_grader grade` wrote.",
    )
    parser.add_argument("results", type=Path, help="the results folder (grade's --out)")
    parser.add_argument(
        "--lesson",
        help="the lesson graded, e.g. 01, for results that do not name theirs (graded "
        "before result.json recorded it); where they name one, it must be that one "
        "(default: the results' own)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Write the report and the gradebook files; 2 for a folder that is not a results
    folder or is being graded, and for results whose lesson neither they nor ``--lesson``
    name, or a ``--lesson`` that does not fit them."""
    args = parse_arguments(argv)
    folder = args.results
    try:
        check_results_folder(folder)
        lock = lock_results(folder)
    except (NotAResultsFolder, OutLocked, OSError) as error:
        print(f"python -m batch_grader report: {error}", file=sys.stderr)
        return 2
    with lock:
        classed = read_results(folder)
        try:
            lesson = lesson_of(classed, args.lesson)
        except ValueError as error:
            print(f"python -m batch_grader report: {error}", file=sys.stderr)
            return 2
        summary = summarize(classed, lesson)
        written = write_report(summary, folder)
        written += write_gradebooks(summary, folder)
    print(
        f"{len(classed.results)} result(s) of {summary.heading}; wrote "
        + ", ".join(str(path) for path in written)
    )
    return 0
