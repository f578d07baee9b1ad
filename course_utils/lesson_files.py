"""Where the lessons are, and where they write their files."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The course's folder: the repository, or a student edition written from it."""
LESSONS = REPO_ROOT / "lessons"

SAVED_FOLDER = "saved"
"""The folder, next to each notebook, where lessons write their files (checkpoints, logs,
saved models), so that the file browser keeps the lessons apart from what they made. A
lesson's setup cell makes it: Keras's writers do not make folders."""


def lesson_paths(lessons: Path = LESSONS) -> list[Path]:
    """The notebooks ``NN_topic.ipynb`` of the folder ``lessons`` (the student notebooks,
    by default), in lesson order."""
    return sorted(lessons.glob("[0-9][0-9]_*.ipynb"))


LESSON_HEADING = re.compile(r"^# (?P<number>\d\d) · (?P<topic>\S.*)$", re.MULTILINE)
"""A lesson's first cell starts with its heading, ``# NN · Topic``."""


def lesson_heading(notebook) -> tuple[str, str] | None:
    """The number and topic of a lesson notebook (an nbformat notebook) from its first
    cell's heading, e.g. ``("01", "Sequential basics")``; None when it has none."""
    if not notebook.cells or not notebook.cells[0].source.startswith("# "):
        return None
    match = LESSON_HEADING.match(notebook.cells[0].source)
    return (match["number"], match["topic"].strip()) if match else None
