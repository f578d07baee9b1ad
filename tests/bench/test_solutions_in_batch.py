"""bench/solutions_in_batch.py: what it reports of a solution that lost points, and the
lessons it refuses (no grading here: that trains every lesson's models)."""

from __future__ import annotations

import pytest

from bench.solutions_in_batch import main, not_passed

pytestmark = pytest.mark.unit


def test_only_the_checks_that_cost_points_are_reported():
    """From a result.json: the heading and the ✘ lines of each exercise short of full
    marks, none of a full one, then the submission's reasons."""
    result = {
        "tests": [
            {"score": 10.0, "max_score": 10.0, "output": "Exercise 1 · A: passed (10/10)\n  ✔ x"},
            {
                "score": 6.0,
                "max_score": 10.0,
                "output": "Exercise 2 · B: failed (6/10)\n  ✔ epochs [2/2]: ok\n"
                "  ✘ reported [0/4]: does not match\n      hint: evaluate once",
            },
        ],
        "reasons": ["cell 12 raised ValueError"],
    }
    assert not_passed(result) == [
        "Exercise 2 · B: failed (6/10)",
        "  ✘ reported [0/4]: does not match",
        "reason: cell 12 raised ValueError",
    ]


def test_a_lesson_without_checks_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["07", "99"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "expected graded lessons among 00, 01, 02," in error and "found ['99']" in error


def test_a_grader_that_fails_is_reported_with_its_reason(tmp_path, capsys):
    """When the grader itself fails (here on a secret too short to use), is the lesson
    reported with the grader's own message, the run's status 1 and its folder kept?"""
    secret = tmp_path / "secret"
    secret.write_text("short\n")
    out = tmp_path / "out"
    assert main(["--secret", str(secret), "--out", str(out), "01"]) == 1
    printed = capsys.readouterr().out
    assert "01" in printed and "grader failed" in printed
    assert "the grader exited with 2 and wrote no result.json:" in printed
    assert f"the held-out secret in {secret} is too short" in printed
    assert f"results kept in {out}" in printed


def test_an_out_folder_with_files_is_refused(tmp_path, capsys):
    (tmp_path / "old").write_text("")
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "01"])
    assert f"expected a new or empty folder for --out, found files in {tmp_path}" in (
        capsys.readouterr().err
    )
