"""The results folder: one subfolder per submission and a class-wide ``grades.csv``.

``submissions/<student>/result.json`` is written last and atomically, so its presence
means that submission is graded; a rerun skips it while the submission file is unchanged
(same sha256). ``feedback.html`` and ``executed.ipynb`` sit beside it. ``grades.csv`` is
rebuilt from the result files after every submission, atomically, so an interrupted batch
loses nothing and a resumed one duplicates nothing.

``result.json`` follows Gradescope's results format where it fits (``score``,
``execution_time``, ``tests`` with ``name``, ``score``, ``max_score``, ``status``,
``output``), with the batch's own fields beside it (``student``, ``lesson``, the lesson
graded, such as ``"01"``; ``status``, one of :data:`STATUSES`; ``reasons``,
``exercises``: each graded cell's title, score, status and ``items``, the check's results as
the notebook shows them, each with ``name``, ``status``, ``points``, ``max_points``,
``message`` and ``hint``; ``worker``, the machine, or the Dask worker, that graded it; and
``peak_memory_mb``, the most memory one of its sandboxes held at once, null where the
machine does not measure it). ``execution_time`` is the wall time of its grading, which
ended at ``finished_at`` (UTC).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from course_utils.language import SOURCE
from data_loaders.cache import atomic_write_bytes
from graders.report import Report

SUBMISSIONS = "submissions"
RESULT = "result.json"
FEEDBACK = "feedback.html"
GRADES = "grades.csv"

GRADED = "graded"
CELL_TIMED_OUT = "cell timed out"
INVALID = "invalid"
TIMED_OUT = "timed out"
KERNEL_DIED = "kernel died"
CRASHED = "crashed"
TAMPERED = "tampered"
STATUSES: dict[str, str] = {
    GRADED: "ran to the end; the checks gave their points",
    CELL_TIMED_OUT: "a cell ran past --cell-timeout and was stopped; the rest ran",
    INVALID: "not a notebook that can be run",
    TIMED_OUT: "the notebook ran past --timeout and was stopped",
    KERNEL_DIED: "its kernel died (a crash, os._exit(), or the memory limit)",
    CRASHED: "the grader failed on it: not a grade of the student's work",
    TAMPERED: "it wrote into the results folder: 0 points",
}
"""Every status a result can have (``result.json``'s ``status``) and what it means, in
the order the class report lists them."""


def student_folder(out: Path, student: str) -> Path:
    """The folder of ``student``'s files under the results folder ``out``."""
    return out / SUBMISSIONS / student


def result_paths(out: Path) -> list[Path]:
    """The ``result.json`` of every student of the results folder ``out``, by student."""
    return sorted((out / SUBMISSIONS).glob(f"*/{RESULT}"))


def finished(
    out: Path, student: str, submission_sha256: str, language: str = SOURCE
) -> dict | None:
    """The stored result of ``student`` when it grades this very submission file, in the
    current format (each exercise with its check items; an older result is graded again)
    and with its feedback in ``language`` (a results folder keeps one language)."""
    path = student_folder(out, student) / RESULT
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if result.get("submission_sha256") != submission_sha256:
        return None
    if result.get("language", SOURCE) != language:
        return None
    exercises = result.get("exercises")
    current = isinstance(exercises, dict) and all("items" in e for e in exercises.values())
    return result if current else None


def result_record(
    student: str,
    lesson: str,
    submission: Path,
    submission_sha256: str,
    status: str,
    reasons: list[str],
    reports: list[tuple[str, float, Report | None]],
    seconds: float,
) -> dict:
    """The result of one submission of lesson ``lesson`` (such as ``"01"``); ``status``:
    one of :data:`STATUSES`; ``reports``: (grade_id, points, report or None)."""
    exercises, tests = {}, []
    for grade_id, points, report in reports:
        score = report.points if report is not None else 0.0
        exercises[grade_id] = {
            "title": report.title if report is not None else grade_id,
            "score": score,
            "max_score": points,
            "status": report.status if report is not None else "failed",
            "items": report.to_dict()["results"] if report is not None else [],
        }
        output = str(report) if report is not None else "; ".join(reasons)
        tests.append(
            {
                "name": exercises[grade_id]["title"],
                "score": score,
                "max_score": points,
                "status": "passed" if report is not None and score == points else "failed",
                "output": output,
            }
        )
    return {
        "student": student,
        "lesson": lesson,
        "submission": str(submission),
        "submission_sha256": submission_sha256,
        "status": status,
        "reasons": reasons,
        "score": round(sum(e["score"] for e in exercises.values()), 4),
        "max_score": sum(e["max_score"] for e in exercises.values()),
        "execution_time": round(seconds, 2),
        "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "exercises": exercises,
        "tests": tests,
    }


def feedback_html(result: dict, reports: list[Report]) -> str:
    """A self-contained page: the status, the reasons, then every check's report."""
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in result["reasons"])
    body = "".join(report._repr_html_() for report in reports)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Feedback for {html.escape(result['student'])}</title></head>"
        "<body style='font-family: sans-serif; max-width: 60em; margin: 2em auto'>"
        f"<h1>{html.escape(result['student'])}: {result['score']:g} / {result['max_score']:g}</h1>"
        f"<p>Status: <b>{html.escape(result['status'])}</b></p>"
        + (f"<ul>{reasons}</ul>" if reasons else "")
        + body
        + "</body></html>"
    )


def write_result(out: Path, result: dict, feedback: str, executed: bytes | None) -> dict:
    """Write a submission's files, ``result.json`` last. Returns path -> sha256 of what
    was written (the grader's record of its own files)."""
    folder = student_folder(out, result["student"])
    files = {folder / FEEDBACK: feedback.encode()}
    if executed is not None:
        files[folder / "executed.ipynb"] = executed
    files[folder / RESULT] = json.dumps(result, indent=2).encode()
    for path, data in files.items():
        atomic_write_bytes(path, data)
    return {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}


def write_grades_csv(out: Path, columns: list[str]) -> bytes:
    """Rebuild ``grades.csv`` from every result file: one row per student, one column per
    exercise (by grade id), then total, max and status. Returns the bytes written."""
    rows = []
    for path in result_paths(out):
        try:
            rows.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *columns, "total", "max", "status"])
    for result in rows:
        scores = [f"{result['exercises'].get(c, {}).get('score', 0):g}" for c in columns]
        writer.writerow(
            [
                result["student"],
                *scores,
                f"{result['score']:g}",
                f"{result['max_score']:g}",
                result["status"],
            ]
        )
    data = buffer.getvalue().encode()
    atomic_write_bytes(out / GRADES, data)
    return data


class WriteRecorder(Protocol):
    """What is told of the grader's own writes to the results folder (its
    :class:`~batch_grader.trusted.guard.Guard`), so that it does not take them for a
    sandbox's."""

    def record(self, paths: list[Path]) -> None: ...


def store(
    out: Path,
    guard: WriteRecorder,
    result: dict,
    feedback: str,
    executed: bytes | None,
    columns: list[str],
) -> None:
    """Write one submission's ``result``, ``feedback`` page and ``executed`` notebook, then
    grades.csv (``columns``: the graded cells' ids), each atomically, and tell ``guard``
    they are the grader's own writes."""
    written = write_result(out, result, feedback, executed)
    guard.record(list(written))
    write_grades_csv(out, columns)
    guard.record([out / GRADES])


def store_graded(out: Path, guard: WriteRecorder, graded, columns: list[str]) -> None:
    """:func:`store` a :class:`~batch_grader.trusted.runner.Graded` submission, with its
    feedback page."""
    feedback = feedback_html(graded.result, graded.reports)
    store(out, guard, graded.result, feedback, graded.executed, columns)


def progress_bar(done: int, total: int, width: int = 24) -> str:
    """``[######..........] 3/8``: ``done`` of ``total`` submissions."""
    filled = width * done // max(total, 1)
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def progress_line(done: int, total: int, result: dict, where: str = "") -> str:
    """The progress line of one finished submission (``where``: the worker, if any)."""
    place = f", {where}" if where else ""
    return (
        f"{progress_bar(done, total)} {result['student']}: {result['score']:g}/"
        f"{result['max_score']:g} {result['status']} ({result['execution_time']:.0f} s{place})"
    )
