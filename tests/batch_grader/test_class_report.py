"""The class report (``python -m batch_grader report``) on a results folder written by the batch
grader's own writers: what it counts, the gradebook files it writes, what it escapes and
refuses, and the page in Chromium."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from batch_grader.__main__ import main as batch_grader_main
from batch_grader.report.class_report import main
from batch_grader.report.gradebooks import CANVAS, MOODLE, canvas_csv, moodle_csv
from batch_grader.report.page import FIGURES, PAGE
from batch_grader.report.summary import (
    LEAD,
    LOOK_AT,
    UNKNOWN,
    UNREADABLE,
    lesson_of,
    masked_figures,
    read_results,
    summarize,
)
from batch_grader.trusted.guard import lock_results, mark_tampered
from batch_grader.trusted.results import (
    GRADED,
    GRADES,
    RESULT,
    STATUSES,
    feedback_html,
    result_paths,
    result_record,
    write_grades_csv,
    write_result,
)
from graders.report import CheckResult, Report
from graders.training import lead_words

pytestmark = pytest.mark.unit

GRADE_ID = "ex1-check"
TITLE = "Exercise 1 · A dense classifier for traffic signs"  # lesson 01's, as its checks say
ITEMS = {"input shape": 2.0, "layers": 4.0, "training accuracy": 2.0, "test accuracy": 2.0}
WRONG_UNITS = "layer 2: expected Dense(128, activation='relu'), found Dense({units})"
LEAD_MESSAGE = (
    "this model scores 0.990 on the test split but 0.640 on the held-out images, "
    f"{lead_words()[0]}: it was likely trained on the test images"
)
SCRIPT = "<script>alert('pwned')</script>"


def _report(failures: dict[str, str] | None = None, not_attempted: bool = False) -> Report:
    """Lesson 01's check as it reports: every item passed but those in ``failures``
    (item -> message), or every item not attempted."""
    results = []
    for name, points in ITEMS.items():
        if not_attempted:
            results.append(CheckResult.not_attempted(name, points, "model is still None"))
        elif name in (failures or {}):
            results.append(CheckResult.failed(name, points, failures[name], "a hint"))
        else:
            results.append(CheckResult.passed(name, points, f"{name} as expected"))
    return Report(TITLE, results)


def _store(out: Path, student: str, status: str, report: Report, seconds: float, **extra):
    """Write one student's files with the batch grader's own writers."""
    reasons = list(extra.pop("reasons", []))
    result = result_record(
        student, extra.pop("lesson", "01"), Path(f"in/{student}.ipynb"), "0" * 64, status,
        reasons, [(GRADE_ID, 10.0, report)], seconds,
    )  # fmt: skip
    result.update(isolation="bubblewrap", isolation_detail="test", worker="here")
    result["peak_memory_mb"] = extra.pop("memory", 300.0)
    if extra.pop("tampered", False):
        mark_tampered(result, ["grades.csv"])
    write_result(out, result, feedback_html(result, [report]), None)


@pytest.fixture
def results_folder(tmp_path: Path) -> Path:
    """A class of ten: two with the same wrong layer (different figures), one with a lead on
    the test split, one tampered, one the grader crashed on, one timed out, one untouched,
    one whose message carries learner text, a good one, and an unreadable result."""
    out = tmp_path / "results"
    _store(out, "ana", "graded", _report(), 4.0)
    _store(out, "ben", "graded", _report({"layers": WRONG_UNITS.format(units=64)}), 5.0)
    _store(out, "chloe", "graded", _report({"layers": WRONG_UNITS.format(units=32)}), 6.0)
    _store(out, "dan", "graded", _report({"test accuracy": LEAD_MESSAGE}), 7.0)
    _store(out, "eve", "graded", _report(), 3.0, tampered=True)
    crash = "the grader failed on this submission: RuntimeError: boom"
    crashed = Report(GRADE_ID, [CheckResult.failed("graded cell", 10.0, crash)])
    _store(out, "finn", "crashed", crashed, 2.0, reasons=[crash])
    stopped = "the notebook ran longer than 300 s and was stopped"
    _store(out, "gus", "timed out", _report(not_attempted=True), 300.0, reasons=[stopped])
    _store(out, "hal", "graded", _report(not_attempted=True), 1.0, memory=None)
    raised = f"print('{SCRIPT}') raised NameError: {SCRIPT}"
    _store(out, "ivy", "cell timed out", _report({"layers": SCRIPT}), 8.0, reasons=[raised])
    (out / "submissions" / "zed").mkdir()
    (out / "submissions" / "zed" / "result.json").write_text("{not json")
    write_grades_csv(out, [GRADE_ID])
    return out


def _rewrite(folder: Path, change) -> None:
    """Call ``change`` on every readable result of ``folder``, and write it back."""
    for path in result_paths(folder):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        change(data)
        path.write_text(json.dumps(data))


def test_the_summary_counts_statuses_scores_items_and_messages(results_folder):
    """Are the statuses, each exercise's scores, each check item's tallies and the failing
    messages (figures apart, counted once a student) what the class did?"""
    summary = summarize(read_results(results_folder), "01")
    assert [r.student for r in summary.results] == [
        "ana", "ben", "chloe", "dan", "eve", "finn", "gus", "hal", "ivy",
    ]  # fmt: skip
    assert dict(summary.statuses) == {
        "graded": 5,
        "cell timed out": 1,
        "invalid": 0,
        "timed out": 1,
        "kernel died": 0,
        "crashed": 1,
        "tampered": 1,
        UNREADABLE: 1,
    }
    [exercise] = summary.exercises
    assert (exercise.grade_id, exercise.title, exercise.max_score) == (GRADE_ID, TITLE, 10.0)
    assert exercise.scores == (10, 6, 6, 8, 0, 0, 0, 0, 6)
    assert summary.totals == exercise.scores and summary.max_total == 10
    tallies = {item.name: (item.passed, item.failed, item.not_attempted) for item in summary.items}
    assert list(tallies) == [*ITEMS, "graded cell"]  # the check's order, then the cell's failure
    assert tallies["layers"] == (3, 3, 2)  # eve's items passed: tampering zeroes her score
    assert tallies["test accuracy"] == (5, 1, 2)
    assert tallies["graded cell"] == (0, 1, 0)
    failing = [(f.items, f.students, f.wordings, f.message) for f in summary.failing]
    assert failing == [
        (("layers",), 2, 2, WRONG_UNITS.format(units=64)),  # and chloe's Dense(32)
        (("layers",), 1, 1, SCRIPT),  # then in the check's order
        (("test accuracy",), 1, 1, LEAD_MESSAGE),
        (("graded cell",), 1, 1, "the grader failed on this submission: RuntimeError: boom"),
    ]


def test_one_message_of_several_items_is_one_row_and_exercises_stay_apart(results_folder):
    """Is a message that fails every item of a student's check ("expected model to be a
    keras.Model") one row naming the items, and the same message of another exercise a row
    of its own?"""
    wrong_type = "expected model to be a keras.Model, found str"
    path = results_folder / "submissions" / "hal" / "result.json"
    data = json.loads(path.read_text())
    for item in data["exercises"][GRADE_ID]["items"]:
        item.update(status="failed", message=wrong_type)
    data["exercises"]["ex2-check"] = data["exercises"][GRADE_ID]
    path.write_text(json.dumps(data))
    summary = summarize(read_results(results_folder), "01")
    rows = [(f.grade_id, f.items, f.students) for f in summary.failing if f.message == wrong_type]
    assert rows == [(GRADE_ID, tuple(ITEMS), 1), ("ex2-check", tuple(ITEMS), 1)]


def test_the_students_to_look_at_and_why(results_folder):
    """Are the tampered, the lead on the test split, the crashed, the timed out and the
    unreadable listed, most serious first, with why; and no one graded cleanly?"""
    summary = summarize(read_results(results_folder), "01")
    rows = [(row.student, row.status) for row in summary.look_at]
    assert rows == [
        ("eve", "tampered"),
        ("dan", "graded"),
        ("finn", "crashed"),
        ("gus", "timed out"),
        ("ivy", "cell timed out"),
        ("zed", UNREADABLE),
    ]
    why = {row.student: " ".join(row.why) for row in summary.look_at}
    assert why["dan"].startswith(f"{LEAD} ({TITLE}, test accuracy): this model scores 0.990")
    assert why["eve"].startswith("it wrote into the results folder (grades.csv); its grade")
    assert why["finn"] == (
        "the grader failed on this submission: RuntimeError: boom — grade it again "
        "(--regrade), and report the grader's error if it stays"
    )
    assert why["gus"].startswith("the notebook ran longer than 300 s and was stopped — grade")
    assert "result.json cannot be read" in why["zed"]
    assert [row.has_feedback for row in summary.look_at] == [True] * 5 + [False]


def test_a_status_the_report_does_not_know_is_looked_at_and_named_so(results_folder):
    """Is a student whose status is none of the grader's (a newer grader's) among the
    students to look at, after the known ones, and is the status shown as unknown rather
    than as an unreadable result file?"""
    path = results_folder / "submissions" / "hal" / RESULT
    data = json.loads(path.read_text())
    data["status"] = "out of disk"
    path.write_text(json.dumps(data))
    summary = summarize(read_results(results_folder), "01")
    rows = [(row.student, row.status, row.why) for row in summary.look_at]
    assert rows[-2:] == [("hal", "out of disk", (UNKNOWN,)), ("zed", UNREADABLE, rows[-1][2])]
    assert dict(summary.statuses)["out of disk"] == 1
    assert main([str(results_folder)]) == 0
    page = (results_folder / PAGE).read_text()
    assert "<td>out of disk</td><td class='n'>1</td><td>a status this report does not know" in page
    assert f"<td>{UNREADABLE}</td><td class='n'>1</td><td>its {RESULT} could not be read" in page


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "layer 2: expected Dense with 128 units, found Dense with 64 units",
            "layer 4: expected Dense with 128 units, found Dense with 64 units",
        ),
        (
            "layer 1: expected Conv2D with 32 filters, found Conv1D with 32 filters",
            "layer 1: expected Conv2D with 32 filters, found Conv3D with 32 filters",
        ),
        (
            "expected 4 layers, found 5; extra: layer 2: Dropout",
            "expected 4 layers, found 5; extra: layer 3: Dropout",
        ),
    ],
)
def test_different_mistakes_stay_apart(first, second):
    """Do two failing messages that name different layers or different kinds of layer stay
    two mistakes, whatever their figures?"""
    assert masked_figures(first) != masked_figures(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "expected test accuracy of at least 0.80, found 0.264",
            "expected test accuracy of at least 0.80, found 0.713",
        ),
        ("expected 101,770 parameters, found 196,997", "expected 101,770 parameters, found 50"),
        (
            "expected at least 5 epochs of training, found 2",
            "expected at least 5 epochs of training, found 3",
        ),
        (
            "layer 2: expected Dense with 128 units, found Dense with 64 units; layer 4: missing",
            "layer 2: expected Dense with 128 units, found Dense with 32 units; layer 4: missing",
        ),
        (LEAD_MESSAGE, LEAD_MESSAGE.replace("0.990", "0.975").replace("0.640", "0.412")),
        ("应有 8 层，实际为 7 层", "应有 8 层，实际为 6 层"),  # a batch graded with --lang zh
        (
            "至少应训练 5 轮，实际只有 2 轮；另见 'epochs'",
            "至少应训练 5 轮，实际只有 3 轮；另见 'epochs'",
        ),
    ],
)
def test_the_same_mistake_with_other_figures_is_one(first, second):
    """Do two failing messages that differ only in what was measured (an accuracy, a
    parameter count, a number of epochs, a found layer's units) count as one mistake?"""
    assert masked_figures(first) == masked_figures(second)


def test_the_lesson_is_found_from_the_results(results_folder):
    """Without --lesson, is the lesson the one every result names, with its notebook's
    title?"""
    classed = read_results(results_folder)
    assert {result.lesson for result in classed.results} == {"01"}
    assert lesson_of(classed) == "01" and lesson_of(classed, "1") == "01"
    assert summarize(classed, "01").heading == "Lesson 01 · Sequential basics"
    assert summarize(classed, None).heading == "Lesson not named (give --lesson NN)"


def test_results_without_one_lesson_need_lesson_and_a_wrong_one_is_refused(results_folder, capsys):
    """Are results that name no lesson (graded before it was recorded), or several, refused
    with status 2 and the reason until --lesson names it; and is a --lesson other than the
    one the results name refused?"""
    _rewrite(
        results_folder, lambda data: data.update(lesson="00" if data["student"] == "ana" else "01")
    )
    assert main([str(results_folder)]) == 2
    error = capsys.readouterr().err
    assert "the results are not all of one lesson (1 of lesson 00, 8 of lesson 01): give" in error
    assert not (results_folder / PAGE).exists()

    _rewrite(results_folder, lambda data: data.pop("lesson"))
    assert main([str(results_folder)]) == 2
    error = capsys.readouterr().err
    assert f"the results do not name their lesson (graded before {RESULT} recorded it)" in error
    assert "give the lesson graded with --lesson NN" in error
    assert main([str(results_folder), "--lesson", "1"]) == 0
    assert "9 result(s) of Lesson 01 · Sequential basics" in capsys.readouterr().out

    _rewrite(results_folder, lambda data: data.update(lesson="02"))
    with pytest.raises(ValueError, match=r"--lesson 01: these results are of lesson 02, as"):
        lesson_of(read_results(results_folder), "01")


def test_the_gradebook_files_follow_canvas_and_moodle_layouts(results_folder):
    """Are the Canvas and Moodle files exactly the documented layouts: Canvas's student
    columns and Points Possible row, Moodle's Username column; the total as the grade, and
    a row without a grade for the result the grader crashed on and the unreadable one?"""
    summary = summarize(read_results(results_folder), "01")
    assert canvas_csv(summary).decode() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,Lesson 01: Sequential basics\n"
        "Points Possible,,,,,10\n"
        "ana,,,ana,,10\n"
        "ben,,,ben,,6\n"
        "chloe,,,chloe,,6\n"
        "dan,,,dan,,8\n"
        "eve,,,eve,,0\n"
        "finn,,,finn,,\n"
        "gus,,,gus,,0\n"
        "hal,,,hal,,0\n"
        "ivy,,,ivy,,6\n"
        "zed,,,zed,,\n"
    )
    assert moodle_csv(summary).decode() == (
        "Username,Lesson 01: Sequential basics\n"
        "ana,10\nben,6\nchloe,6\ndan,8\neve,0\nfinn,-\ngus,0\nhal,0\nivy,6\nzed,-\n"
    )


def test_the_command_writes_the_page_its_figures_and_the_gradebooks(results_folder, capsys):
    """Does ``python -m batch_grader report RESULTS`` write report.html, three PNG figures with
    alt text, the feedback links and both gradebook files, leaving grades.csv as it was?"""
    grades = (results_folder / GRADES).read_bytes()
    assert batch_grader_main(["report", str(results_folder)]) == 0
    assert "9 result(s) of Lesson 01 · Sequential basics" in capsys.readouterr().out
    page = (results_folder / PAGE).read_text()
    for name in ("scores.png", "check_items.png", "grading_time.png"):
        assert (results_folder / FIGURES / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f'<img src="{FIGURES}/{name}" alt="' in page
    assert 'alt="Histograms of the students&#x27; points. Exercise 1' in page
    assert '<a href="submissions/dan/feedback.html">dan</a>' in page
    assert "Class report · Lesson 01 · Sequential basics" in page
    assert "Median 5 s a submission, the longest 300 s (gus)" in page
    assert (results_folder / CANVAS).read_text().startswith("Student,ID,")
    assert (results_folder / MOODLE).read_text().startswith("Username,")
    assert (results_folder / GRADES).read_bytes() == grades
    assert not list(results_folder.rglob(".*.tmp*"))  # no temporary left behind


def test_learner_text_is_escaped_on_the_page(results_folder):
    """Does a message or a reason carrying ``<script>`` reach the page as text, never as a
    tag?"""
    assert main([str(results_folder)]) == 0
    page = (results_folder / PAGE).read_text()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("make", "found"),
    [
        (lambda root: root / "missing", "found nothing: no such file or folder"),
        (lambda root: _file(root / "grades.csv"), "found a file, not a folder"),
        (lambda root: _folder(root / "empty"), "found an empty folder"),
        (lambda root: _submissions(root / "class"), "found a folder holding alice.ipynb, "),
    ],
)
def test_a_folder_that_is_not_a_results_folder_is_refused(tmp_path, capsys, make, found):
    """Is a missing path, a file, an empty folder or a folder of submissions refused with
    status 2, saying what a results folder holds and what was found, writing nothing?"""
    path = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    assert batch_grader_main(["report", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"python -m batch_grader report: {path} is not a results folder: ")
    assert "expected what `python -m batch_grader grade --out" in error
    assert "(grades.csv and submissions/<student>/result.json)" in error
    assert found in error, error
    assert sorted(tmp_path.rglob("*")) == before


def _file(path: Path) -> Path:
    path.write_text("student,total\n")
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _submissions(path: Path) -> Path:
    path.mkdir()
    (path / "alice.ipynb").write_text("{}")
    (path / "submissions").mkdir()
    return path


def test_a_folder_still_being_graded_is_left_alone(results_folder, capsys):
    """While a grader holds the results folder's lock, does the report stop with status 2
    and write nothing (a grader without isolation would take a new file for tampering)?"""
    with lock_results(results_folder):
        assert main([str(results_folder)]) == 2
    holder = f"another grader (pid {os.getpid()}) is writing to {results_folder}"
    assert holder in capsys.readouterr().err
    assert not (results_folder / PAGE).exists()
    assert not (results_folder / CANVAS).exists()


def test_a_lesson_that_does_not_fit_the_results_is_refused(results_folder, capsys):
    """Is ``--lesson 00``, whose three graded cells are not these results' one, refused
    with both lists, and ``--lesson 42`` with the lessons there are?"""
    assert main([str(results_folder), "--lesson", "00"]) == 2
    error = capsys.readouterr().err
    assert "these results are not of lesson 00: its graded cells are ex1-check (10 points)" in error
    assert "the results' are ex1-check (10 points)" in error
    assert main([str(results_folder), "--lesson", "42"]) == 2
    assert "no graded lesson '42'; lessons: 00, 01" in capsys.readouterr().err


def test_a_result_file_that_is_not_a_result_is_reported_not_skipped(results_folder):
    """Is a result.json missing a field named with its path and the field, among the
    students to look at?"""
    path = results_folder / "submissions" / "ana" / "result.json"
    data = json.loads(path.read_text())
    del data["exercises"]["ex1-check"]["items"][0]["points"]
    path.write_text(json.dumps(data))
    summary = summarize(read_results(results_folder), "01")
    [ana] = [row for row in summary.look_at if row.student == "ana"]
    assert ana.status == UNREADABLE
    where = "submissions/ana/result.json: exercises.ex1-check"
    assert ana.why[0].startswith(
        f"its result.json cannot be read: {where}: a result lacks 'points'"
    )


def test_python_m_graders_lists_both_commands(capsys):
    """Does ``python -m batch_grader --help`` list grade and report?"""
    with pytest.raises(SystemExit) as stopped:
        batch_grader_main(["--help"])
    assert stopped.value.code == 0
    usage = capsys.readouterr().out
    words = " ".join(usage.split())
    assert "{grade,report}" in words and "grade: grade a class's submissions" in words
    assert "report: write a graded class's report.html" in words


@pytest.mark.browser
def test_the_page_shows_its_figures_and_tables_in_chromium(results_folder):
    """Opened in Chromium, does every figure load, and are the tables there: the students
    to look at (with a working feedback link), the statuses and the failing messages?"""
    from tests.lessons.test_browser import ARTIFACTS as artifacts
    from tests.lessons.test_browser import chromium_page

    assert main([str(results_folder)]) == 0
    artifacts.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        page.goto((results_folder / PAGE).as_uri())
        page.wait_for_load_state("load")
        try:
            images = page.evaluate(
                "() => Array.from(document.images).map(i => [i.getAttribute('src'), "
                "i.complete, i.naturalWidth, i.alt.length])"
            )
            assert len(images) == 3
            for src, complete, width, alt in images:
                assert complete and width > 0 and alt > 40, (src, complete, width, alt)
            headings = page.locator("h2").all_inner_texts()
            assert headings == [
                "Students to look at",
                "Statuses",
                "Scores",
                "Check items",
                "Most frequent failing messages",
                "Grading time",
            ]
            assert page.locator("#look-at + table tbody tr").count() == 6
            assert page.locator("#statuses + table tbody tr").count() == 8
            assert "Dense(64)" in page.locator("#messages ~ table").first.inner_text()
            assert page.evaluate("() => document.querySelectorAll('script').length") == 0
            page.screenshot(path=str(artifacts / "class_report.png"), full_page=True)
            page.click('a[href="submissions/dan/feedback.html"]')
            page.wait_for_load_state("load")
            assert page.url.endswith("submissions/dan/feedback.html")
            assert "dan: 8 / 10" in page.locator("h1").inner_text()
        except Exception:
            page.screenshot(path=str(artifacts / "class_report_failure.png"), full_page=True)
            raise


def test_every_status_but_graded_has_its_advice_in_the_report():
    """Does the report say what to make of every status the grader writes (a status added
    to results.STATUSES without its advice would be called one the report does not know)?"""
    assert set(LOOK_AT) == set(STATUSES) - {GRADED}
