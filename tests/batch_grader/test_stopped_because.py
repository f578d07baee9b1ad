"""Why a sandboxed runner or the checks' process stopped before writing what it owed
(batch_grader.trusted.runner.stopped_because): the exception it raised when its standard
error ends with a traceback, else the memory limit or a crash, with what it said."""

from __future__ import annotations

import pytest

from batch_grader.trusted.runner import stopped_because

pytestmark = pytest.mark.unit

TRACEBACK = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/nbformat/__init__.py", line 201, in write
    with open(fp, "w", encoding="utf8") as f:
FileNotFoundError: [Errno 2] No such file or directory: '/home/learner/executed.ipynb'
"""


def test_a_traceback_names_the_exception():
    assert stopped_because(TRACEBACK, 4096) == (
        "it raised FileNotFoundError: [Errno 2] No such file or directory: "
        "'/home/learner/executed.ipynb'"
    )


def test_an_exception_without_a_message_is_named_too():
    text = 'Traceback (most recent call last):\n  File "x", line 1\nKeyboardInterrupt\n'
    assert stopped_because(text, 4096) == "it raised KeyboardInterrupt"


def test_a_process_killed_without_a_word_is_the_memory_limit_or_a_crash():
    assert stopped_because("", 4096) == "memory limit of 4096 MiB or a crash"
    assert stopped_because("", 4096, "status -9") == (
        "memory limit of 4096 MiB or a crash: status -9"
    )


def test_a_traceback_followed_by_other_words_is_not_taken_for_the_cause():
    """A traceback the kernel printed earlier, then the sandbox's own last words: the
    cause is not the old exception."""
    text = TRACEBACK + "the sandbox did not start within 120 s\n"
    assert stopped_because(text, 2048) == (
        "memory limit of 2048 MiB or a crash: " + text.strip()[-300:]
    )
