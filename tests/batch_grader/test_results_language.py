"""A results folder keeps one language of feedback: a result written in another is graded
again, as an older format is."""

from __future__ import annotations

import json

import pytest

from batch_grader.trusted.results import RESULT, finished, student_folder

pytestmark = pytest.mark.unit


def test_a_result_in_another_language_is_graded_again(tmp_path):
    """Resumed with --lang zh, is a result graded in English (or without a language, as
    results were before the option) graded again, and one graded in Chinese kept?"""
    exercises = {"ex1-check": {"items": []}}
    for student, language in (("ana", "en"), ("bo", "zh"), ("cy", None)):
        folder = student_folder(tmp_path, student)
        folder.mkdir(parents=True)
        result = {"submission_sha256": "abc", "exercises": exercises}
        if language is not None:
            result["language"] = language
        (folder / RESULT).write_text(json.dumps(result))
    assert finished(tmp_path, "ana", "abc", "zh") is None
    assert finished(tmp_path, "bo", "abc", "zh") is not None
    assert finished(tmp_path, "cy", "abc", "zh") is None
    assert finished(tmp_path, "cy", "abc") is not None  # English, the default
    assert finished(tmp_path, "bo", "abc") is None
