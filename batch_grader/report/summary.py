"""What a graded class did, read from a results folder and summed up.

:func:`read_results` reads every ``submissions/<student>/result.json`` of a results folder
that ``python -m batch_grader grade`` wrote (see :mod:`batch_grader.trusted.results`) into
typed records; :func:`summarize` sums them up: the score distribution per exercise and per
check item, the most frequent failing messages in the checks' own words, the statuses, the
grading times and the students to look at. The lesson is the one every result names
(``result.json``'s ``lesson``), or the one the caller names for results that do not
(:func:`lesson_of`).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat

from batch_grader.trusted.results import (
    CELL_TIMED_OUT,
    CRASHED,
    FEEDBACK,
    GRADED,
    GRADES,
    INVALID,
    KERNEL_DIED,
    RESULT,
    STATUSES,
    SUBMISSIONS,
    TAMPERED,
    TIMED_OUT,
    result_paths,
    student_folder,
)
from course_utils.lesson_files import lesson_heading, lesson_paths
from graders.report import CheckResult, Report
from graders.training import lead_words

LOOK_AT = {
    TAMPERED: "read its notebook: it wrote into the results folder",
    CRASHED: "grade it again (--regrade), and report the grader's error if it stays",
    TIMED_OUT: "grade it again with a longer --timeout if the machine was busy",
    KERNEL_DIED: "its executed.ipynb shows the last cell that ran",
    CELL_TIMED_OUT: "grade it again with a longer --cell-timeout if the machine was busy",
    INVALID: "the wrong file handed in?",
}
"""The statuses of :data:`batch_grader.trusted.results.STATUSES` that put a student on the list to
look at (all but ``graded``), most serious first, and what to make of each. A lead on the
test split (:data:`LEAD`) comes right after tampering; a status the report does not know
comes last (:data:`UNKNOWN`)."""

LEAD = "a lead on the test split"
"""Why a student whose check reports a lead on the test split
(:data:`graders.training.LEAD_MESSAGE`, in any language) is looked at."""

UNREADABLE = "unreadable result"
"""The status the report gives a ``result.json`` it cannot read."""

UNKNOWN = f"a status this report does not know: read its {RESULT}"
"""What the report makes of a status that is not in :data:`STATUSES` (a newer grader's)."""


def status_meaning(status: str) -> str:
    """What ``status`` means: :data:`STATUSES`' words, or the report's own for a result
    file it could not read and for a status it does not know."""
    if status == UNREADABLE:
        return f"its {RESULT} could not be read"
    return STATUSES.get(status, UNKNOWN)


class NotAResultsFolder(ValueError):
    """The folder given is not what ``python -m batch_grader grade --out`` writes."""


@dataclass(frozen=True)
class Exercise:
    """One graded cell's score and its check's items."""

    grade_id: str
    title: str
    score: float
    max_score: float
    items: tuple[CheckResult, ...]


@dataclass(frozen=True)
class StudentResult:
    """What ``submissions/<student>/result.json`` says of one submission. ``lesson`` is
    the lesson graded (None in a result written before the grader recorded it);
    ``seconds`` is the wall time of its grading; ``peak_memory_mb`` is None where it was
    not measured."""

    student: str
    lesson: str | None
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
    passed: int
    failed: int
    not_attempted: int


@dataclass(frozen=True)
class FailingMessage:
    """A failing message of an exercise's check, the items that gave it (in the check's
    order; one message can fail several items, such as "expected model to be a
    keras.Model"), and how many students got it. Messages that differ only in their
    measured figures (:func:`masked_figures`: an accuracy, a count) count as one:
    ``message`` is the most frequent wording, and ``wordings`` says how many there were."""

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
    results and the result files that could not be read (student -> why), each exercise's
    scores, the check items, the failing messages (most frequent first), the statuses
    (count by status, in :data:`STATUSES`' order, others after), and the students to look
    at."""

    folder: Path
    lesson: str | None
    lesson_title: str | None
    results: tuple[StudentResult, ...]
    unreadable: tuple[tuple[str, str], ...]
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
    def score_columns(self) -> tuple[ExerciseColumn, ...]:
        """Each exercise's column, then the total's when there are several exercises."""
        if len(self.exercises) < 2:
            return self.exercises
        return (*self.exercises, ExerciseColumn("total", "Total", self.max_total, self.totals))

    @property
    def seconds(self) -> tuple[float, ...]:
        return tuple(r.seconds for r in self.results)

    def lesson_name(self, separator: str = " · ") -> str | None:
        """``Lesson 01`` and its title after ``separator`` (``Lesson 01 · Sequential
        basics``) when known; None when the lesson is not."""
        if self.lesson is None:
            return None
        return f"Lesson {self.lesson}" + (
            f"{separator}{self.lesson_title}" if self.lesson_title else ""
        )

    @property
    def heading(self) -> str:
        """``Lesson 01 · Sequential basics``, or what is known of it."""
        return self.lesson_name() or "Lesson not named (give --lesson NN)"


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
    ``where`` and the field that is missing or of the wrong kind (for a check's items,
    :meth:`graders.report.Report.from_dict`'s reason)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, found {type(data).__name__}")
    exercises = []
    for grade_id, exercise in _field(data, "exercises", dict, where).items():
        place = f"{where}: exercises.{grade_id}"
        if not isinstance(exercise, dict):
            raise ValueError(f"{place}: expected an object, found {exercise!r:.80}")
        title = _field(exercise, "title", str, place)
        items = _field(exercise, "items", list, place)
        try:
            report = Report.from_dict({"title": title, "results": items})
        except ValueError as error:
            raise ValueError(f"{place}: {error}") from error
        exercises.append(
            Exercise(
                grade_id=str(grade_id),
                title=title,
                score=_field(exercise, "score", float, place),
                max_score=_field(exercise, "max_score", float, place),
                items=tuple(report.results),
            )
        )
    memory = data.get("peak_memory_mb")
    reasons = _field(data, "reasons", list, where)
    return StudentResult(
        student=_field(data, "student", str, where),
        lesson=_field(data, "lesson", str, where) if data.get("lesson") is not None else None,
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


def check_results_folder(folder: Path) -> None:
    """Raise :class:`NotAResultsFolder`, saying what was expected and what was found,
    unless ``folder`` holds result files."""
    if not (folder.is_dir() and result_paths(folder)):
        raise NotAResultsFolder(
            f"{folder} is not a results folder: expected what `python -m batch_grader grade --out "
            f"{folder}` writes ({GRADES} and {SUBMISSIONS}/<student>/{RESULT}), found "
            f"{_found(folder)}"
        )


def read_results(folder: Path) -> ClassResults:
    """Every result of the results folder ``folder`` (see :func:`check_results_folder`),
    sorted by student. A result file that cannot be read or is not a result is kept aside
    with the reason, not skipped in silence."""
    results, unreadable = [], []
    for path in result_paths(folder):
        student = path.parent.name
        where = path.relative_to(folder).as_posix()
        try:
            results.append(result_from_json(json.loads(path.read_text()), where))
        except (OSError, ValueError) as error:  # JSONDecodeError is a ValueError
            unreadable.append((student, str(error)[:300]))
    results.sort(key=lambda r: r.student)
    return ClassResults(folder, tuple(results), tuple(unreadable))


# -- the lesson ------------------------------------------------------------------------


@cache
def lesson_notebook(lesson: str) -> nbformat.NotebookNode:
    """The student notebook of lesson ``lesson`` (``"01"``), read once; raises ValueError
    when there is none or it cannot be read."""
    for path in lesson_paths():
        if path.name.startswith(f"{lesson}_"):
            try:
                return nbformat.read(path, as_version=4)
            except (OSError, ValueError) as error:
                raise ValueError(f"{path} cannot be read: {error}") from error
    raise ValueError(f"no lesson {lesson}: expected lessons/{lesson}_*.ipynb")


def lesson_title(lesson: str) -> str | None:
    """The title of lesson ``lesson`` from its student notebook's heading
    (``# 01 · Sequential basics`` -> ``Sequential basics``), or None."""
    try:
        heading = lesson_heading(lesson_notebook(lesson))
    except ValueError:
        return None
    return heading[1] if heading else None


def check_lesson(lesson: str, results: ClassResults) -> None:
    """Raise ValueError unless ``lesson`` is a graded lesson whose graded cells are the
    results' exercises."""
    from batch_grader.request import LESSONS
    from batch_grader.trusted.prepare import graded_cells

    if lesson not in LESSONS:
        raise ValueError(f"--lesson: no graded lesson {lesson!r}; lessons: {', '.join(LESSONS)}")
    expected = [(cell.grade_id, cell.points) for cell in graded_cells(lesson_notebook(lesson))]
    found = [(column.grade_id, column.max_score) for column in _columns(results.results)]
    if expected != found:

        def words(cells):
            return ", ".join(f"{grade_id} ({points:g} points)" for grade_id, points in cells)

        raise ValueError(
            f"--lesson {lesson}: these results are not of lesson {lesson}: its graded cells "
            f"are {words(expected)}, the results' are {words(found) or 'none'}"
        )


def lesson_of(results: ClassResults, given: str | None = None) -> str:
    """The lesson ``results`` grade: the one every result names (``result.json``'s
    ``lesson``). ``given`` (``--lesson``, such as ``"1"`` or ``"01"``) names it when they
    do not all name the same one, and must fit them (:func:`check_lesson`) and be theirs
    when they do. Raises ValueError saying what is missing or does not fit."""
    named = Counter(result.lesson for result in results.results)
    recorded = next(iter(named)) if len(named) == 1 else None
    if given is None:
        if recorded is not None:
            return recorded
        if set(named) <= {None}:
            why = f"the results do not name their lesson (graded before {RESULT} recorded it)"
        else:
            counts = ", ".join(
                f"{count} of lesson {lesson}" if lesson else f"{count} naming none"
                for lesson, count in sorted(named.items(), key=lambda pair: pair[0] or "")
            )
            why = f"the results are not all of one lesson ({counts})"
        raise ValueError(f"{why}: give the lesson graded with --lesson NN")
    lesson = f"{int(given):02d}" if given.isdigit() else given
    check_lesson(lesson, results)
    if recorded not in (None, lesson):
        raise ValueError(
            f"--lesson {lesson}: these results are of lesson {recorded}, as each {RESULT} "
            "says: leave --lesson out"
        )
    return lesson


# -- summing up ------------------------------------------------------------------------


_MEASURED = re.compile(r"(?<![\d,])(?:\d+\.\d+|\d{1,3}(?:,\d{3})+)(?![\d,])")
_FOUND = re.compile(r"(\bfound\b|实际)[^;；]*")
"""What was found, up to the next semicolon: after "found", or after 实际 (实际为, 实际是,
...), the word the Chinese catalogs give it (a batch graded with --lang zh)."""
_NUMBER = re.compile(r"\b\d+\b")


def masked_figures(message: str) -> str:
    """``message`` with each measured figure as ``#``: decimals (an accuracy such as
    0.264), numbers with thousands separators (a parameter count such as 196,997), and the
    numbers of what was found (from ``found`` up to the next ``;``: ``found Dense(64)``,
    ``found 3``; the same in Chinese, :data:`_FOUND`). Other numbers tell one mistake from
    another and stay: a layer's position (``layer 2: ...``), a number within a name
    (``Conv1D``, ``Conv2D``). Two failing messages with the same masked text are the same
    mistake."""
    masked = _MEASURED.sub("#", message)
    return _FOUND.sub(lambda found: _NUMBER.sub("#", found[0]), masked)


def is_lead(item: CheckResult) -> bool:
    """Whether ``item`` is a check's failure for a lead on the public test split, in the
    language the batch was graded in."""
    return item.status == "failed" and any(words in item.message for words in lead_words())


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
                key = (exercise.grade_id, masked_figures(item.message))
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
    fullest: dict[str, list[str]] = {}
    for result in results:
        for exercise in result.exercises:
            names = [item.name for item in exercise.items]
            if len(names) > len(fullest.get(exercise.grade_id, [])):
                fullest[exercise.grade_id] = names
            for item in exercise.items:
                counts.setdefault((exercise.grade_id, item.name), Counter())[item.status] += 1
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
            passed=counts[grade_id, name]["passed"],
            failed=counts[grade_id, name]["failed"],
            not_attempted=counts[grade_id, name]["not attempted"],
        )
        for grade_id, name in keys
    ]


def _look_at(classed: ClassResults) -> list[LookAt]:
    """Every student whose status is not ``graded``, or whose model leads on the test
    split, most serious first (:data:`LOOK_AT`'s order, unknown statuses after), then the
    result files that cannot be read."""
    order = [TAMPERED, LEAD, *(status for status in LOOK_AT if status != TAMPERED)]
    rank = {status: index for index, status in enumerate(order)}
    rows = []
    for result in classed.results:
        why, first = [], None
        if result.status != GRADED:
            first = result.status
            detail = "; ".join(result.reasons[:3])[:400]
            advice = LOOK_AT.get(result.status, UNKNOWN)
            why.append(f"{detail} — {advice}" if detail else advice)
        for exercise in result.exercises:
            for item in exercise.items:
                if is_lead(item):
                    first = first if first == TAMPERED else LEAD
                    why.append(f"{LEAD} ({exercise.title}, {item.name}): {item.message}")
        if why:
            rows.append((rank.get(first, len(order)), result.student, result, tuple(why)))
    looked = [
        LookAt(
            student=result.student,
            status=result.status,
            score=result.score,
            max_score=result.max_score,
            why=why,
            has_feedback=(student_folder(classed.folder, result.student) / FEEDBACK).is_file(),
        )
        for _, _, result, why in sorted(rows, key=lambda row: row[:2])
    ]
    looked += [
        LookAt(student, UNREADABLE, 0.0, 0.0, (f"its {RESULT} cannot be read: {why}",), False)
        for student, why in classed.unreadable
    ]
    return looked


def _columns(results: tuple[StudentResult, ...]) -> list[ExerciseColumn]:
    """Each exercise the results show, in the order they first show it, with its title
    (a check's own where one gave it, not the grade id), its points and every student's
    score (0 where a result lacks it)."""
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
    return columns


def summarize(classed: ClassResults, lesson: str | None = None) -> ClassSummary:
    """Sum up ``classed`` for the report (``lesson``: such as ``"01"``, when known)."""
    results = classed.results
    columns = _columns(results)
    titles = {column.grade_id: column.title for column in columns}
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
        unreadable=classed.unreadable,
        exercises=tuple(columns),
        items=tuple(tallies),
        failing=tuple(_failing_messages(results, titles, tallies)),
        statuses=tuple(statuses),
        look_at=tuple(_look_at(classed)),
    )
