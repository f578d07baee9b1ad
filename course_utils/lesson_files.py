"""Where the lessons are, and where they write their files."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The course's folder: the repository, or a student edition written from it."""
LESSONS = REPO_ROOT / "lessons"

SAVED_FOLDER = "saved"
"""The folder, next to each notebook, where lessons write their files (checkpoints, logs,
saved models), so that the file browser keeps the lessons apart from what they made. A
lesson's setup cell makes it: Keras's writers do not make folders."""


def lesson_paths(lessons: Path = LESSONS) -> list[Path]:
    """The student notebooks, ``NN_topic.ipynb``, in lesson order."""
    return sorted(lessons.glob("[0-9][0-9]_*.ipynb"))
