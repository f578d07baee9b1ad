"""The grades of a results folder in the CSV layouts that learning platforms import.

Both files hold one row per student, named as the batch grader names a student (from the
submission's path, see :func:`batch_grader.request.student_name`: only letters, digits, ``.``,
``_`` and ``-`` are kept, so an email address's ``@`` becomes ``_``), and one grade column,
the lesson's total, headed by :func:`assignment_name`. A student whose score is no grade
has a row without one: a ``crashed`` result (the grader's failure, not the student's work)
and a ``result.json`` the report cannot read. Its cell is left empty (Canvas keeps the
grade it had) or ``-`` (Moodle's "no grade"), and the class report lists it among the
students to look at.

``grades_canvas.csv``, for Canvas's Gradebook import, follows the layout Canvas's importer
reads (``app/models/gradebook_importer.rb`` in instructure/canvas-lms): a header row
``Student, ID, SIS User ID, SIS Login ID, Section`` then one column per assignment, and a
``Points Possible`` row. Canvas finds a row's student by ``ID`` (its own user id), then
``SIS User ID``, then ``SIS Login ID``, then by name; the course knows none of Canvas's ids,
so ``ID`` and ``SIS User ID`` are left empty and the student's name is given as ``Student``
and ``SIS Login ID`` (a login with other characters, such as an email address, matches no
name: edit those rows before importing). An assignment column whose title matches no
assignment of the course becomes a new assignment with the points of the ``Points
Possible`` row.

``grades_moodle.csv``, for Moodle's "Import grades: CSV file", is a header row and one row
per student: ``Username`` and the grade. On import, the instructor maps the ``Username``
column to the user field the names are (username or ID number; never email address, which
no name can match) and the grade column to a grade item, or to a new one (Moodle's
importer, ``grade/import/csv/classes/load_data.php`` in moodle/moodle). A username with
other characters (an email address used as username) matches no name: edit those rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from batch_grader.report.summary import ClassSummary
from batch_grader.trusted.results import CRASHED
from data_loaders.cache import atomic_write_bytes

CANVAS = "grades_canvas.csv"
MOODLE = "grades_moodle.csv"
CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"
NOT_A_GRADE = (CRASHED,)
"""The statuses whose score is no grade of the student's work: exported as no grade."""


def assignment_name(summary: ClassSummary) -> str:
    """The grade column's heading: ``Lesson 01: Sequential basics``, or ``keras-course
    lesson`` when the lesson is not known (rename it on import)."""
    return summary.lesson_name(": ") or "keras-course lesson"


def grades(summary: ClassSummary) -> list[tuple[str, str | None]]:
    """Every student of ``summary``, by name, with the total as the grade, or None for no
    grade: a status of :data:`NOT_A_GRADE`, or a result file that cannot be read."""
    rows = [
        (result.student, None if result.status in NOT_A_GRADE else f"{result.score:g}")
        for result in summary.results
    ]
    rows += [(student, None) for student, _ in summary.unreadable]
    return sorted(rows)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def canvas_csv(summary: ClassSummary) -> bytes:
    """The Canvas gradebook import file of ``summary`` (UTF-8)."""
    empty = [""] * (len(CANVAS_STUDENT_COLUMNS) - 1)
    rows = [
        [*CANVAS_STUDENT_COLUMNS, assignment_name(summary)],
        [POINTS_POSSIBLE, *empty, f"{summary.max_total:g}"],
    ]
    for student, grade in grades(summary):
        rows.append([student, "", "", student, "", "" if grade is None else grade])
    return _csv(rows)


def moodle_csv(summary: ClassSummary) -> bytes:
    """The Moodle grade import file of ``summary`` (UTF-8)."""
    rows = [["Username", assignment_name(summary)]]
    rows += [[student, "-" if grade is None else grade] for student, grade in grades(summary)]
    return _csv(rows)


def write_gradebooks(summary: ClassSummary, folder: Path) -> list[Path]:
    """Write both files beside ``grades.csv`` in ``folder``, atomically; returns their
    paths."""
    written = []
    for name, data in ((CANVAS, canvas_csv(summary)), (MOODLE, moodle_csv(summary))):
        atomic_write_bytes(folder / name, data)
        written.append(folder / name)
    return written
