"""Atomic writes and the temporaries a killed writer leaves behind."""

from __future__ import annotations

import pytest

from data_loaders.cache import atomic_write_bytes, remove_stale_temporaries

pytestmark = pytest.mark.unit


def test_a_killed_writers_temporaries_are_found_and_only_they_are_removed(tmp_path):
    """Does remove_stale_temporaries delete the half-written temporaries of
    atomic_write_bytes, at any depth, and leave finished files (even hidden ones) alone?"""
    atomic_write_bytes(tmp_path / "a" / "result.json", b"{}")
    (tmp_path / ".hidden").write_bytes(b"kept")
    stale = [tmp_path / ".grades.csv.k2j3h4.tmp", tmp_path / "a" / ".result.json.x9y8.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    assert remove_stale_temporaries(tmp_path) == 2
    assert not any(path.exists() for path in stale)
    assert (tmp_path / "a" / "result.json").read_bytes() == b"{}"
    assert (tmp_path / ".hidden").read_bytes() == b"kept"
    assert remove_stale_temporaries(tmp_path) == 0
