"""Run the lesson notebooks and print what each exercise's check says: ``./course test`` in
the student edition.

Usage: ``python -m course_utils.progress [NN ...]``: every lesson, or the lessons numbered
NN; with ``KERAS_COURSE_LANG=zh``, the Chinese lessons (``lessons/zh/``), whose checks then
speak Chinese. Each notebook runs from the top in a fresh kernel (the one ``./course lab``
starts, in the notebook's folder), as Run All would, except that a cell that raises does
not stop the run: the cells after it run, and the checks of what it should have set say
so. The notebook on disk is not changed. Exit status 0 when every notebook ran to its end, 1 when
one could not (its kernel died, or a cell ran past ``--cell-timeout``), 2 for an unknown
lesson.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import nbformat

from course_utils.lab import kernel_environment
from course_utils.language import SOURCE, learner_language, translate
from course_utils.lesson_files import LESSONS, lesson_heading, lesson_paths
from graders.report import REPORT_MIME, Report, Status, status_label

CELL_TIMEOUT = 2400
"""Seconds a cell may run: lesson 07 trains ResNet50 for 4-10 minutes on 2 cores."""


@dataclass
class LessonRun:
    """What running one lesson notebook gave: its title, each check's report in order,
    the cells that raised (as "cell N raised Type: message"), and why it could not run to
    its end (empty when it did)."""

    title: str
    reports: list[Report] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)
    stopped: str = ""
    seconds: float = 0.0


def lesson_title(notebook: nbformat.NotebookNode, path: Path) -> str:
    """The notebook's heading, e.g. "00 · Tensors and shapes", else its file name."""
    heading = lesson_heading(notebook)
    return " · ".join(heading) if heading else path.stem


def run_lesson(path: Path, cell_timeout: int = CELL_TIMEOUT) -> LessonRun:
    """Execute the notebook at ``path`` in the kernel named python3 and collect its
    reports (:func:`main` makes that the learner's kernel)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    run = LessonRun(lesson_title(notebook, path))
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=cell_timeout,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    try:
        client.execute()
    except CellTimeoutError:
        run.stopped = translate(
            "a cell ran longer than {seconds} s and was stopped", seconds=cell_timeout
        )
    except DeadKernelError as error:
        run.stopped = translate("the kernel died ({error})", error=error)
    run.seconds = time.monotonic() - started
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if REPORT_MIME in output.get("data", {}):
                run.reports.append(Report.from_dict(output["data"][REPORT_MIME]))
            elif output.get("output_type") == "error":
                text = str(output.get("evalue", "")).strip().splitlines()
                run.raised.append(
                    translate(
                        "cell {index} raised {error}: {message}",
                        index=index,
                        error=output.get("ename"),
                        message=(text or [""])[0][:200],
                    )
                )
    return run


def _points(value: float) -> str:
    return f"{value:g}"


def summary_lines(run: LessonRun) -> list[str]:
    """What the command prints for one lesson."""
    points = sum(report.points for report in run.reports)
    most = sum(report.max_points for report in run.reports)
    lines = [
        translate(
            "{title}: {points}/{most} points ({seconds:.0f} s)",
            title=run.title,
            points=_points(points),
            most=_points(most),
            seconds=run.seconds,
        )
    ]
    width = max((len(report.title) for report in run.reports), default=0)
    for report in run.reports:
        score = f"{_points(report.points)}/{_points(report.max_points)}"
        lines.append(f"  {report.title:<{width}}  {status_label(report.status):<13}  {score}")
        for result in report.results:
            if result.status == "failed":
                lines.append(f"      ✘ {result.name}: {result.message}")
    lines += [f"  {line}" for line in run.raised]
    if run.stopped:
        lines.append("  " + translate("not run to the end: {why}", why=run.stopped))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="./course test", description=__doc__.split("\n\n")[0].replace("\n", " ")
    )
    parser.add_argument(
        "lessons", nargs="*", metavar="NN", help=translate("lesson numbers, e.g. 00 03")
    )
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT, metavar="S")
    args = parser.parse_args(argv)
    os.environ.update(kernel_environment(dict(os.environ)))  # python3: the learner's kernel
    language = learner_language()  # KERAS_COURSE_LANG=zh ./course test: lessons/zh/
    paths = lesson_paths(LESSONS if language == SOURCE else LESSONS / language)
    if args.lessons:
        wanted, known = {n.zfill(2) for n in args.lessons}, {path.name[:2] for path in paths}
        if unknown := sorted(wanted - known):
            choices = ", ".join(sorted(known))
            parser.error(
                translate(
                    "no lesson {unknown}: expected one of {choices}",
                    unknown=", ".join(unknown),
                    choices=choices,
                )
            )
        paths = [path for path in paths if path.name[:2] in wanted]
    runs = []
    for path in paths:
        print(translate("running {name} ...", name=path.name), file=sys.stderr, flush=True)
        run = run_lesson(path, args.cell_timeout)
        runs.append(run)
        print("\n".join(summary_lines(run)), flush=True)
    reports = [report for run in runs for report in run.reports]
    counts = {status: sum(r.status == status for r in reports) for status in get_args(Status)}
    total = sum(r.points for r in reports)
    most = sum(r.max_points for r in reports)
    summary = translate(
        "{points}/{most} points in {lessons} lesson(s): {counts}",
        points=_points(total),
        most=_points(most),
        lessons=len(runs),
        counts=", ".join(f"{count} {status_label(status)}" for status, count in counts.items()),
    )
    print(f"\n{summary}")
    return 1 if any(run.stopped for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
