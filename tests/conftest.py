"""Shared test setup. The repository's conftest.py turns strict grading on for notebooks;
Python tests run without it (the autouse fixture below), so they can inspect failing
reports. Every test starts with no dataset load recorded and no grader's held-out split in
use, as a fresh process would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from course_utils.lesson_files import REPO_ROOT  # noqa: F401 - re-exported for the tests
from data_loaders.sources import forget_loads
from graders.heldout import forget_grader_heldout
from graders.report import STRICT_ENV_VAR


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STRICT_ENV_VAR, raising=False)


@pytest.fixture(autouse=True)
def _no_recorded_loads() -> Iterator[None]:
    forget_loads()
    forget_grader_heldout()
    yield
    forget_grader_heldout()  # nor does a later module-scoped fixture find one


@pytest.fixture
def data_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty dataset cache directory for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("KERAS_COURSE_DATA", str(folder))
    return folder
