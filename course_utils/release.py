"""The release step: solution notebooks in, student notebooks out.

``lessons/solutions/NN_topic.ipynb`` is the single source of truth. Releasing it

1. canonicalizes the solution itself (outputs and execution counts stripped, cell metadata
   that execution adds dropped, ``nbgrader`` and ``tags`` kept, nbformat's JSON layout), and
2. writes ``lessons/NN_topic.ipynb``, where every ``### BEGIN SOLUTION`` ...
   ``### END SOLUTION`` region in a solution cell is replaced by ``# YOUR CODE HERE`` at the
   region's indentation. Code before the region stays, so a solution cell that starts
   with ``model = None`` gives the student a name that the graded check reports as
   "not attempted".

This is a small function rather than nbgrader's ``generate_assignment``: it needs no
nbgrader database or course directory, runs in milliseconds in ``make check``, and produces
the same cell metadata, so the solutions remain valid nbgrader source notebooks.

3. writes each translation (:mod:`course_utils.translation`): ``lessons/<lang>/NN_topic.ipynb``
   from the student notebook and ``README.<lang>.md`` from the README, through the catalogs
   in ``translations/<lang>/``.

Usage: ``python -m course_utils.release`` (write) or ``python -m course_utils.release
--check`` (exit 1 and list the notebooks that are not canonical or out of sync, and the
catalog entries that are missing, stale or break a rule).
``--student OUT`` writes the student edition, what a class gets, into the new folder OUT
instead (:mod:`course_utils.student_edition`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from course_utils.lesson_files import LESSONS
from course_utils.student_notebooks import (
    canonical_text,
    solution_paths,
    strip_notebook,
    student_version,
)
from course_utils.translation import LANGUAGES, README, release_translations


def release(
    lessons: Path = LESSONS,
    *,
    check: bool = False,
    languages: tuple[str, ...] = tuple(LANGUAGES),
    readme: Path | None = README,
) -> list[str]:
    """Canonicalize every solution notebook, regenerate its student notebook, and write
    the translations into ``languages`` of the student notebooks and of ``readme``.

    With ``check=True`` nothing is written; returns one line per notebook that is not
    canonical or whose student version or translation is out of sync, and per catalog
    entry that keeps a translation from release (empty when all is well). Without, it
    returns the catalog entries that kept a piece in English.
    """
    problems = []
    students = {}
    for path in solution_paths(lessons):
        original = path.read_text(encoding="utf-8")
        solution = strip_notebook(nbformat.reads(original, as_version=4))
        solution_text = canonical_text(solution)
        student_path = lessons / path.name
        students[student_path] = student_version(solution, path.name)
        student_text = canonical_text(students[student_path])
        current_student = student_path.read_text("utf-8") if student_path.exists() else None
        if check:
            if original != solution_text:
                problems.append(f"{path}: not stripped/canonical; run `make release`")
            if current_student != student_text:
                problems.append(f"{student_path}: out of sync with {path}; run `make release`")
            continue
        if original != solution_text:
            path.write_text(solution_text, encoding="utf-8")
        if current_student != student_text:
            student_path.write_text(student_text, encoding="utf-8")
    for language in languages:
        problems += release_translations(language, students, lessons, readme, check=check)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; report drift")
    parser.add_argument("--lessons", type=Path, default=LESSONS, help="the lessons folder")
    parser.add_argument(
        "--student",
        type=Path,
        metavar="OUT",
        help="write the student edition (no solutions) into the new folder OUT",
    )
    args = parser.parse_args(argv)
    if args.student is not None:
        from course_utils.student_edition import EditionError, describe, write_student_edition

        try:
            files = write_student_edition(args.student)
        except EditionError as error:
            parser.error(str(error))
        print(describe(args.student, files))
        return 0
    problems = release(args.lessons, check=args.check)
    for line in problems:
        print(line, file=sys.stderr)
    if args.check:
        return 1 if problems else 0
    print(f"released {len(solution_paths(args.lessons))} notebook(s) in {args.lessons}")
    if problems:
        print("the translations keep the English of the entries above", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
