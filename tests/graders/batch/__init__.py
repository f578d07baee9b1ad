"""Tests of the batch grader; :func:`batch_settings` builds a batch's settings for them."""

from __future__ import annotations

import functools
import sys
from dataclasses import replace
from pathlib import Path

from graders.batch.cli import source_notebook
from graders.batch.isolation import Isolation, probe
from graders.batch.runner import Settings, lesson_dataset
from graders.batch.sandbox import Limits


def grade_command(lesson: str = "01", **options: object) -> list[str]:
    """``python -m graders grade --lesson LESSON`` with ``options`` (``cell_timeout=20``
    becomes ``--cell-timeout 20``); the submissions and ``--out`` are the caller's."""
    command = [sys.executable, "-m", "graders", "grade", "--lesson", lesson]
    for name, value in options.items():
        command += ["--" + name.replace("_", "-"), str(value)]
    return command


@functools.cache
def isolation_here() -> Isolation:
    """The isolation the batch grader finds on this machine (probed once)."""
    return probe()


def batch_settings(lesson: str, work: Path, **changes) -> Settings:
    """Settings for grading ``lesson`` with ``work`` as the batch's folder (also its
    dataset caches, unless given) and this machine's isolation; ``changes`` override."""
    limits = Limits(seconds=300, memory_mb=4096)
    settings = Settings(
        lesson=lesson,
        dataset=lesson_dataset(lesson),
        source=source_notebook(lesson),
        data_folder=work,
        grader_data=work,
        heldout_seed=None,
        cell_timeout=120,
        limits=limits,
        check_limits=limits,
        isolation=isolation_here(),
        work=work,
    )
    return replace(settings, **changes)
