"""Each lesson's check on one classic mistake, in English and in Chinese: the same items,
statuses and points, every message that is not a pass in Chinese."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.language import LANGUAGE_ENV_VAR, TRANSLATED
from course_utils.lesson_files import REPO_ROOT
from data_loaders.small import SMALL_ENV_VAR
from graders.report import STRICT_ENV_VAR

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).with_name("mistakes_in_a_language.py")
SCRIPTS = {"zh": re.compile(r"[\u4e00-\u9fff]")}
"""A character of each translated language's script."""


def _reports(language: str) -> dict:
    learner = {k: v for k, v in os.environ.items() if k != STRICT_ENV_VAR}  # reports, not raises
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO_ROOT,
        env={**learner, LANGUAGE_ENV_VAR: language, SMALL_ENV_VAR: "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def english() -> dict:
    return _reports("en")


@pytest.mark.parametrize("language", sorted(TRANSLATED))
def test_a_mistake_in_each_lesson_gets_the_same_items_and_points_in_both_languages(
    english, language
):
    """Does each lesson's mistake get the same items, statuses and points in ``language``
    as in English (a translation changes words, never a grade), with the title, and each
    failed or unattempted item's message and hint, in that language and not English?"""
    translated = _reports(language)
    assert sorted(translated) == sorted(english) == [f"{n:02d}" for n in range(11)]
    script = SCRIPTS[language]
    for lesson, report in english.items():
        other = translated[lesson]
        shape = [(r["name"], r["status"], r["points"], r["max_points"]) for r in report["results"]]
        assert shape == [
            (r["name"], r["status"], r["points"], r["max_points"]) for r in other["results"]
        ], lesson
        assert report["status"] != "passed", f"lesson {lesson}: the mistake passed"
        assert script.search(other["title"]), (lesson, other["title"])
        for before, after in zip(report["results"], other["results"], strict=True):
            if after["status"] == "passed":
                continue
            assert script.search(after["message"]) and after["message"] != before["message"], (
                lesson,
                after,
            )
            if before["hint"]:
                assert script.search(after["hint"]), (lesson, after)
