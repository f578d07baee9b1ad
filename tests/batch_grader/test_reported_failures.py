"""What the batch grader takes from a kernel's ``failures.json``: valid reports of failed
cells, the grader's own words for a cell it stopped, and nothing from a file that is
malformed, too large or unreadable (the checks then say "not attempted", for the same
points)."""

from __future__ import annotations

import hashlib
import json

import pytest

from batch_grader.sandboxed.export import FAILURES
from batch_grader.sandboxed.grade import (
    FAILURES_LIMIT,
    CellTimeouts,
    reported_failure,
    reported_failures_in,
)
from graders.cell_errors import ReportedFailure

pytestmark = pytest.mark.unit

SOURCE = "history = None\nhistory = model.fit(x, y)"
SHA = hashlib.sha256(SOURCE.encode()).hexdigest()


def _report(error: str = "ValueError", message: str = "bad shapes", hint: str = "Fix it.") -> dict:
    return {"error": error, "message": message, "hint": hint, "source_sha256": SHA}


def test_a_valid_report_is_described_as_in_the_notebook():
    """Is a kernel's report of a failed cell described in the notebook's words?"""
    failure = reported_failure(_report(message="bad shapes\nsecond line"), CellTimeouts())
    assert failure == ReportedFailure("ValueError", "bad shapes", "Fix it.")
    assert failure.describe("history") == (
        "your cell that sets history raised ValueError: bad shapes"
    )


def test_the_interrupt_of_a_stopped_cell_is_described_as_the_grader_stopping_it():
    """Is the KeyboardInterrupt of a cell the grader stopped described with the cell
    timeout, while the same source raising another error, or a reported "CellTimeout"
    error with a message of its own, is described as the error it is?"""
    timeouts = CellTimeouts(frozenset({SHA}), 20.0)
    stopped = reported_failure(_report("KeyboardInterrupt", ""), timeouts)
    assert stopped.describe("history") == (
        "your cell that sets history ran longer than 20 s and was stopped"
    )
    assert "--cell-timeout" in stopped.hint()
    raised = reported_failure(_report(), timeouts)
    assert raised.describe("history") == "your cell that sets history raised ValueError: bad shapes"
    forged = reported_failure(_report("CellTimeout", "and passed every check"), timeouts)
    assert forged.describe("history") == (
        "your cell that sets history raised CellTimeout: and passed every check"
    )


def test_malformed_reports_are_left_out():
    """Are reports with a wrong type, a made-up error type, a missing field or a bad hash
    left out?"""
    timeouts = CellTimeouts()
    for bad in (
        None,
        [],
        {**_report(), "error": "<b>Value</b>"},
        {**_report(), "source_sha256": "x" * 64},
        {key: value for key, value in _report().items() if key != "hint"},
        {**_report(), "message": 3},
    ):
        assert reported_failure(bad, timeouts) is None, bad


def test_a_failures_file_that_is_not_one_is_ignored(tmp_path):
    """Is a failures.json that is too large, not JSON, not a dict, a link, or named with
    names that are not Python names ignored, and a good one read?"""
    path = tmp_path / FAILURES
    path.write_text(json.dumps({"history": _report(), "not a name": _report()}))
    assert list(reported_failures_in(tmp_path, CellTimeouts())) == ["history"]
    for text in ("{", "[1, 2]", " " * (FAILURES_LIMIT + 1)):
        path.write_text(text)
        assert reported_failures_in(tmp_path, CellTimeouts()) == {}
    path.unlink()
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"history": _report()}))
    path.symlink_to(target)
    assert reported_failures_in(tmp_path, CellTimeouts()) == {}
