"""Fixtures of the loaders' tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_sources(tmp_path, monkeypatch):
    """Keras's cache and the course's data cache, both empty, under ``tmp_path``."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("KERAS_COURSE_DATA", str(tmp_path / "course-data"))
    return tmp_path
