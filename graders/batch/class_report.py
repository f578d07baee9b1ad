"""``python -m graders report RESULTS/``: what a graded class did, from its results folder.

The report reads every ``submissions/<student>/result.json`` of a results folder that
``python -m graders grade`` wrote (see :mod:`graders.batch.results`) into typed records
(:func:`read_results`), sums them up (:func:`summarize`: the score distribution per
exercise and per check item, the most frequent failing messages in the checks' own words,
the statuses, the grading times and the students to look at), and writes beside
``grades.csv``:

- ``report.html`` and its figures in ``report_figures/`` (:mod:`graders.batch.report_page`);
- ``grades_canvas.csv`` and ``grades_moodle.csv``, the grades in the layouts that Canvas's
  and Moodle's gradebooks import (:mod:`graders.batch.gradebooks`).

It takes the results folder's lock, as the grader does, so that it never writes into a
folder that a batch is still grading. Exit status: 0, or 2 for a folder that is not a
results folder (or is locked) and for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat

from graders.batch.guard import OutLocked, lock_results
from graders.batch.results import RESULT, SUBMISSIONS
from graders.training import UNLIKELY_LEAD

STATUSES = {
    "graded": "ran to the end; the checks gave their points",
    "cell timed out": "a cell ran past --cell-timeout and was stopped; the rest ran",
    "invalid": "not a notebook that can be run",
    "timed out": "the notebook ran past --timeout and was stopped",
    "kernel died": "its kernel died (a crash, os._exit(), or the memory limit)",
    "crashed": "the grader failed on it: not a grade of the student's work",
    "tampered": "it wrote into the results folder: 0 points",
}
"""Each status a result can have (``result.json``'s ``status``), in the order the report
lists them, and what it means."""

LOOK_AT = {
    "tampered": "read its notebook: it wrote into the results folder",
    "crashed": "grade it again (--regrade), and report the grader's error if it stays",
    "timed out": "grade it again with a longer --timeout if the machine was busy",
    "kernel died": "its executed.ipynb shows the last cell that ran",
    "cell timed out": "grade it again with a longer --cell-timeout if the machine was busy",
    "invalid": "the wrong file handed in?",
}
"""The statuses that put a student on the list to look at, most serious first, and what
to make of each. A lead on the test split (:data:`LEAD`) comes right after tampering."""

LEAD = "a lead on the test split"
"""Why a student whose check says :data:`graders.training.UNLIKELY_LEAD` is looked at."""

UNREADABLE = "unreadable result"
"""The status the report gives a ``result.json`` it cannot read."""

_FIGURES = re.compile(r"\d+(?:[.,]\d+)*")


class NotAResultsFolder(ValueError):
    """The folder given is not what ``python -m graders grade --out`` writes."""


@dataclass(frozen=True)
class Item:
    """One result of a check (``exercises.<grade id>.items[]`` of ``result.json``)."""

    name: str
    status: str
    points: float
    max_points: float
    message: str


@dataclass(frozen=True)
class Exercise:
    """One graded cell's score and its check's items."""

    grade_id: str
    title: str
    score: float
    max_score: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class StudentResult:
    """What ``submissions/<student>/result.json`` says of one submission. ``seconds`` is
    the wall time of its grading; ``peak_memory_mb`` is None where it was not measured."""

    student: str
    status: str
    score: float
    max_score: float
    seconds: float
    reasons: tuple[str, ...]
    exercises: tuple[Exercise, ...]
    peak_memory_mb: float | None = None


@dataclass(frozen=True)
class ClassResults:
    """Every result of a results folder, by student name, and the result files it could
    not read (student -> why)."""

    folder: Path
    results: tuple[StudentResult, ...]
    unreadable: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ExerciseColumn:
    """An exercise of the lesson, as the results name it, with every student's score."""

    grade_id: str
    title: str
    max_score: float
    scores: tuple[float, ...]


@dataclass(frozen=True)
class ItemTally:
    """How many students passed, failed and did not attempt one check item."""

    grade_id: str
    exercise: str
    name: str
    max_points: float
    passed: int
    failed: int
    not_attempted: int


@dataclass(frozen=True)
class FailingMessage:
    """A failing message of an exercise's check, the items that gave it (in the check's
    order; one message can fail several items, such as "expected model to be a
    keras.Model"), and how many students got it. Messages that differ only in their figures
    (an accuracy, a count) count as one: ``message`` is the most frequent wording, and
    ``wordings`` says how many there were."""

    grade_id: str
    exercise: str
    items: tuple[str, ...]
    message: str
    students: int
    wordings: int


@dataclass(frozen=True)
class LookAt:
    """A student to look at: the status, the score, and each reason, in words."""

    student: str
    status: str
    score: float
    max_score: float
    why: tuple[str, ...]
    has_feedback: bool


@dataclass(frozen=True)
class ClassSummary:
    """What the report shows: ``lesson`` (such as ``"01"``) and its title when known, the
    results, each exercise's scores, the check items, the failing messages (most
    frequent first), the statuses (count by status, in :data:`STATUSES`' order, unknown
    ones after), and the students to look at."""

    folder: Path
    lesson: str | None
    lesson_title: str | None
    results: tuple[StudentResult, ...]
    exercises: tuple[ExerciseColumn, ...]
    items: tuple[ItemTally, ...]
    failing: tuple[FailingMessage, ...]
    statuses: tuple[tuple[str, int], ...]
    look_at: tuple[LookAt, ...]

    @property
    def totals(self) -> tuple[float, ...]:
        return tuple(r.score for r in self.results)

    @property
    def max_total(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def seconds(self) -> tuple[float, ...]:
        return tuple(r.seconds for r in self.results)

    @property
    def heading(self) -> str:
        """``Lesson 01 · Sequential basics``, or what is known of it."""
        if self.lesson is None:
            return "Lesson not named (give --lesson NN)"
        return f"Lesson {self.lesson}" + (f" · {self.lesson_title}" if self.lesson_title else "")


# -- reading ---------------------------------------------------------------------------


def _field(data: dict, key: str, kind, where: str):
    value = data.get(key)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is not float and isinstance(value, kind):
        return value
    name = "a number" if kind is float else f"a {kind.__name__}"
    raise ValueError(f"{where}: expected {key!r} to be {name}, found {value!r:.80}")


def result_from_json(data: object, where: str) -> StudentResult:
    """The typed record of one ``result.json``'s content; raises ValueError naming
    ``where`` and the field that is missing or of the wrong kind."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, found {type(data).__name__}")
    exercises = []
    for grade_id, exercise in _field(data, "exercises", dict, where).items():
        place = f"{where}: exercises.{grade_id}"
        if not isinstance(exercise, dict):
            raise ValueError(f"{place}: expected an object, found {exercise!r:.80}")
        items = []
        for index, item in enumerate(_field(exercise, "items", list, place)):
            if not isinstance(item, dict):
                raise ValueError(f"{place}.items[{index}]: expected an object, found {item!r:.80}")
            spot = f"{place}.items[{index}]"
            items.append(
                Item(
                    name=_field(item, "name", str, spot),
                    status=_field(item, "status", str, spot),
                    points=_field(item, "points", float, spot),
                    max_points=_field(item, "max_points", float, spot),
                    message=_field(item, "message", str, spot),
                )
            )
        exercises.append(
            Exercise(
                grade_id=str(grade_id),
                title=_field(exercise, "title", str, place),
                score=_field(exercise, "score", float, place),
                max_score=_field(exercise, "max_score", float, place),
                items=tuple(items),
            )
        )
    memory = data.get("peak_memory_mb")
    reasons = _field(data, "reasons", list, where)
    return StudentResult(
        student=_field(data, "student", str, where),
        status=_field(data, "status", str, where),
        score=_field(data, "score", float, where),
        max_score=_field(data, "max_score", float, where),
        seconds=_field(data, "execution_time", float, where),
        reasons=tuple(str(reason) for reason in reasons),
        exercises=tuple(exercises),
        peak_memory_mb=float(memory) if isinstance(memory, int | float) else None,
    )


def _found(folder: Path) -> str:
    """What is at ``folder``, in a few words, for the error that refuses it."""
    if not folder.exists():
        return "nothing: no such file or folder"
    if not folder.is_dir():
        return "a file, not a folder"
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    if not names:
        return "an empty folder"
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return f"a folder holding {shown}"


def check_results_folder(folder: Path) -> list[Path]:
    """The result files of ``folder``; raises :class:`NotAResultsFolder`, saying what was
    expected and what was found, when it holds none."""
    paths = sorted((folder / SUBMISSIONS).glob(f"*/{RESULT}")) if folder.is_dir() else []
    if not paths:
        raise NotAResultsFolder(
            f"{folder} is not a results folder: expected what `python -m graders grade --out "
            f"{folder}` writes (grades.csv and {SUBMISSIONS}/<student>/{RESULT}), found "
            f"{_found(folder)}"
        )
    return paths


def read_results(folder: Path) -> ClassResults:
    """Every result of the results folder ``folder``, sorted by student. A result file
    that cannot be read or is not a result is kept aside with the reason, not skipped in
    silence. Raises :class:`NotAResultsFolder` for a folder without results."""
    results, unreadable = [], []
    for path in check_results_folder(folder):
        student = path.parent.name
        where = f"{SUBMISSIONS}/{student}/{RESULT}"
        try:
            results.append(result_from_json(json.loads(path.read_text()), where))
        except (OSError, ValueError) as error:  # JSONDecodeError is a ValueError
            unreadable.append((student, str(error)[:300]))
    results.sort(key=lambda r: r.student)
    return ClassResults(folder, tuple(results), tuple(unreadable))


# -- the lesson ------------------------------------------------------------------------


def lesson_title(lesson: str) -> str | None:
    """The title of lesson ``lesson`` from its student notebook's first heading
    (``# 01 · Sequential basics`` -> ``Sequential basics``), or None."""
    from graders.batch.cli import source_notebook

    try:
        notebook = nbformat.read(source_notebook(lesson), as_version=4)
    except (ValueError, OSError):
        return None
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            match = re.match(r"#\s*\d+\s*·\s*(.+)", cell.source.strip().splitlines()[0])
            return match[1].strip() if match else None
    return None


def _graded_cells(lesson: str) -> list[tuple[str, float]]:
    from graders.batch.cli import source_notebook
    from graders.batch.prepare import graded_cells

    source = nbformat.read(source_notebook(lesson), as_version=4)
    return [(cell.grade_id, cell.points) for cell in graded_cells(source)]


def _exercises_of(results: ClassResults) -> list[tuple[str, float]]:
    seen: dict[str, float] = {}
    for result in results.results:
        for exercise in result.exercises:
            seen.setdefault(exercise.grade_id, exercise.max_score)
    return list(seen.items())


def infer_lesson(results: ClassResults) -> str | None:
    """The lesson the results are of: the one lesson whose graded cells (grade ids and
    points) are the results' and whose checks module spells every exercise title they
    show. None when no lesson, or more than one, fits."""
    from graders.batch.cli import LESSONS
    from graders.batch.sandbox import REPO_ROOT

    exercises = _exercises_of(results)
    titles = {e.title for r in results.results for e in r.exercises if e.title != e.grade_id}
    fitting = []
    for lesson in LESSONS:
        try:
            if _graded_cells(lesson) != exercises:
                continue
            checks = (REPO_ROOT / "graders" / f"lesson{lesson}.py").read_text()
        except (ValueError, OSError):
            continue
        if all(title in checks for title in titles):
            fitting.append(lesson)
    return fitting[0] if len(fitting) == 1 else None


def check_lesson(lesson: str, results: ClassResults) -> None:
    """Raise ValueError unless ``lesson`` is a graded lesson whose graded cells are the
    results' exercises."""
    from graders.batch.cli import LESSONS

    if lesson not in LESSONS:
        raise ValueError(f"--lesson: no graded lesson {lesson!r}; lessons: {', '.join(LESSONS)}")
    expected, found = _graded_cells(lesson), _exercises_of(results)
    if expected != found:

        def words(cells):
            return ", ".join(f"{grade_id} ({points:g} points)" for grade_id, points in cells)

        raise ValueError(
            f"--lesson {lesson}: these results are not of lesson {lesson}: its graded cells "
            f"are {words(expected)}, the results' are {words(found) or 'none'}"
        )


# -- summing up ------------------------------------------------------------------------


def is_lead(item: Item) -> bool:
    """Whether ``item`` is a check's failure for a lead on the public test split."""
    return item.status == "failed" and UNLIKELY_LEAD in item.message


def _failing_messages(
    results: tuple[StudentResult, ...], titles, tallies: list[ItemTally]
) -> list[FailingMessage]:
    students: dict[tuple[str, str], set[str]] = defaultdict(set)
    wordings: dict[tuple[str, str], Counter] = defaultdict(Counter)
    items: dict[tuple[str, str], set[str]] = defaultdict(set)
    for result in results:
        for exercise in result.exercises:
            for item in exercise.items:
                if item.status != "failed":
                    continue
                key = (exercise.grade_id, _FIGURES.sub("#", item.message))
                students[key].add(result.student)
                wordings[key][item.message] += 1
                items[key].add(item.name)
    place = {(t.grade_id, t.name): index for index, t in enumerate(tallies)}
    failing = [
        FailingMessage(
            grade_id=key[0],
            exercise=titles.get(key[0], key[0]),
            items=tuple(sorted(items[key], key=lambda name: place[key[0], name])),
            message=wordings[key].most_common(1)[0][0],
            students=len(names),
            wordings=len(wordings[key]),
        )
        for key, names in students.items()
    ]
    failing.sort(key=lambda f: (-f.students, place[f.grade_id, f.items[0]], f.message))
    return failing


def _item_tallies(results: tuple[StudentResult, ...], titles) -> list[ItemTally]:
    """Each exercise's items in its check's order (that of the result listing the most of
    them), then any other item a result has (such as a whole cell's failure)."""
    counts: dict[tuple[str, str], Counter] = {}
    max_points: dict[tuple[str, str], float] = {}
    fullest: dict[str, list[str]] = {}
    for result in results:
        for exercise in result.exercises:
            names = [item.name for item in exercise.items]
            if len(names) > len(fullest.get(exercise.grade_id, [])):
                fullest[exercise.grade_id] = names
            for item in exercise.items:
                key = (exercise.grade_id, item.name)
                counts.setdefault(key, Counter())[item.status] += 1
                max_points.setdefault(key, item.max_points)
    order = {grade_id: index for index, grade_id in enumerate(titles)}

    def place(key: tuple[str, str]) -> tuple[int, int]:
        names = fullest.get(key[0], [])
        return order.get(key[0], len(order)), names.index(key[1]) if key[1] in names else len(names)

    keys = sorted(counts, key=place)  # stable: first seen among the others
    return [
        ItemTally(
            grade_id=grade_id,
            exercise=titles.get(grade_id, grade_id),
            name=name,
            max_points=max_points[grade_id, name],
            passed=counts[grade_id, name]["passed"],
            failed=counts[grade_id, name]["failed"],
            not_attempted=counts[grade_id, name]["not attempted"],
        )
        for grade_id, name in keys
    ]


def _look_at(classed: ClassResults) -> list[LookAt]:
    order = ["tampered", LEAD, *(status for status in LOOK_AT if status != "tampered")]
    rank = {status: index for index, status in enumerate(order)}
    rows = []
    for result in classed.results:
        why, first = [], None
        if result.status in LOOK_AT:
            first = result.status
            detail = "; ".join(result.reasons[:3])[:400]
            advice = LOOK_AT[result.status]
            why.append(f"{detail} — {advice}" if detail else advice)
        for exercise in result.exercises:
            for item in exercise.items:
                if is_lead(item):
                    first = first if first == "tampered" else LEAD
                    why.append(f"{LEAD} ({exercise.title}, {item.name}): {item.message}")
        if why:
            rows.append((rank[first], result.student, result, tuple(why)))
    folder = classed.folder / SUBMISSIONS
    looked = [
        LookAt(
            student=result.student,
            status=result.status,
            score=result.score,
            max_score=result.max_score,
            why=why,
            has_feedback=(folder / result.student / "feedback.html").is_file(),
        )
        for _, _, result, why in sorted(rows, key=lambda row: row[:2])
    ]
    looked += [
        LookAt(student, UNREADABLE, 0.0, 0.0, (f"its {RESULT} cannot be read: {why}",), False)
        for student, why in classed.unreadable
    ]
    return looked


def summarize(classed: ClassResults, lesson: str | None = None) -> ClassSummary:
    """Sum up ``classed`` for the report (``lesson``: such as ``"01"``, when known)."""
    results = classed.results
    titles: dict[str, str] = {}
    max_scores: dict[str, float] = {}
    for result in results:
        for exercise in result.exercises:
            if exercise.title != exercise.grade_id or exercise.grade_id not in titles:
                titles[exercise.grade_id] = exercise.title
            max_scores.setdefault(exercise.grade_id, exercise.max_score)
    columns = []
    for grade_id, title in titles.items():
        scores = []
        for result in results:
            found = [e.score for e in result.exercises if e.grade_id == grade_id]
            scores.append(found[0] if found else 0.0)
        columns.append(ExerciseColumn(grade_id, title, max_scores[grade_id], tuple(scores)))
    counted = Counter(result.status for result in results)
    if classed.unreadable:
        counted[UNREADABLE] += len(classed.unreadable)
    statuses = [(status, counted.get(status, 0)) for status in STATUSES]
    statuses += sorted((s, n) for s, n in counted.items() if s not in STATUSES)
    tallies = _item_tallies(results, titles)
    return ClassSummary(
        folder=classed.folder,
        lesson=lesson,
        lesson_title=lesson_title(lesson) if lesson is not None else None,
        results=results,
        exercises=tuple(columns),
        items=tuple(tallies),
        failing=tuple(_failing_messages(results, titles, tallies)),
        statuses=tuple(statuses),
        look_at=tuple(_look_at(classed)),
    )


# -- the command -----------------------------------------------------------------------


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m graders report",
        description="Write report.html (score distributions, the most frequent failing "
        "messages, statuses, grading times, the students to look at) with its figures, and "
        "the grades in Canvas's and Moodle's gradebook CSV layouts, into a results folder "
        "that `python -m graders grade` wrote.",
    )
    parser.add_argument("results", type=Path, help="the results folder (grade's --out)")
    parser.add_argument(
        "--lesson",
        help="the lesson graded, e.g. 01 (default: found from the results when only one "
        "lesson fits them)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Write the report and the gradebook files; 2 for a folder that is not a results
    folder or is being graded, or a ``--lesson`` that does not fit it."""
    from graders.batch.gradebooks import write_gradebooks
    from graders.batch.report_page import write_report

    args = parse_arguments(argv)
    folder = args.results
    try:
        check_results_folder(folder)
        lock = lock_results(folder)
    except (NotAResultsFolder, OSError) as error:
        print(f"python -m graders report: {error}", file=sys.stderr)
        return 2
    except OutLocked:
        print(
            f"python -m graders report: a grader is still writing to {folder} (it holds "
            f"{folder / '.grader.lock'}): run the report when its batch has finished",
            file=sys.stderr,
        )
        return 2
    with lock:
        classed = read_results(folder)
        try:
            lesson = args.lesson
            if lesson is not None:
                lesson = f"{int(lesson):02d}" if lesson.isdigit() else lesson
                check_lesson(lesson, classed)
            else:
                lesson = infer_lesson(classed)
        except ValueError as error:
            print(f"python -m graders report: {error}", file=sys.stderr)
            return 2
        summary = summarize(classed, lesson)
        written = write_report(summary, folder)
        written += write_gradebooks(summary, folder)
    print(
        f"{len(classed.results)} result(s) of {summary.heading}; wrote "
        + ", ".join(str(path) for path in written)
    )
    return 0
