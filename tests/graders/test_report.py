"""Tests of the report: text, HTML, JSON, overall status and strict mode."""

from __future__ import annotations

import json

import pytest

from graders.report import CheckResult, GradingFailed, Report

pytestmark = pytest.mark.unit


def _report() -> Report:
    return Report(
        "Exercise 9 · <demo>",
        [
            CheckResult.passed("shape", 1, "shape (None, 5) as expected"),
            CheckResult.failed("units", 3, "expected 128 units, found 100", "Use Dense(128)."),
        ],
    )


def test_points_and_status_sum_the_results():
    """Do points, max points and status follow the results?"""
    report = _report()
    assert (report.points, report.max_points, report.status) == (1, 4, "failed")
    passing = Report("t", [CheckResult.passed("a", 2, "ok")])
    assert passing.status == "passed"
    untouched = Report("t", [CheckResult.not_attempted("a", 2, "still None")])
    assert untouched.status == "not attempted"


def test_text_rendering_shows_every_result_with_its_hint():
    """Does the terminal text name each result, its points, message and hint?"""
    text = str(_report())
    assert text.splitlines() == [
        "Exercise 9 · <demo>: failed (1/4)",
        "  ✔ shape [1/1]: shape (None, 5) as expected",
        "  ✘ units [0/3]: expected 128 units, found 100",
        "      hint: Use Dense(128).",
    ]


def test_html_rendering_escapes_and_tags_the_status():
    """Is the HTML escaped and marked with the overall status?"""
    page = _report()._repr_html_()
    assert 'data-status="failed"' in page
    assert "&lt;demo&gt;" in page and "<demo>" not in page
    assert "Hint: Use Dense(128)." in page


def test_json_round_trips():
    """Does the JSON carry title, status, points and every result?"""
    data = json.loads(_report().to_json())
    assert data["status"] == "failed" and data["points"] == 1 and data["max_points"] == 4
    assert [r["name"] for r in data["results"]] == ["shape", "units"]
    assert data["results"][1]["hint"] == "Use Dense(128)."


def test_strict_mode_raises_only_below_full_marks(monkeypatch):
    """In strict mode, does a report below full marks raise and a full one pass through?"""
    monkeypatch.setenv("KERAS_COURSE_STRICT", "1")
    with pytest.raises(GradingFailed, match="expected 128 units"):
        _report().finish()
    full = Report("t", [CheckResult.passed("a", 2, "ok")])
    assert full.finish() is full


def test_a_result_worth_no_points_says_so_instead_of_zero_out_of_zero():
    """A result an exercise shows for information only (lesson 09's epochs, which the early
    stopping decides): does it read "no points, for information" in the text and the HTML,
    never "0/0"?"""
    report = Report(
        "Exercise 1",
        [
            CheckResult.passed("layers", 2, "as expected"),
            CheckResult.failed("epochs", 0, "expected at least 2 epochs, found 1"),
        ],
    )
    assert str(report).splitlines()[2] == (
        "  ✘ epochs [no points, for information]: expected at least 2 epochs, found 1"
    )
    assert "<td>no points, for information</td>" in report._repr_html_()
    assert "0/0" not in str(report) + report._repr_html_()
    assert report.points == report.max_points == 2
