"""The submission corpora under tests/fixtures/submissions are generated from the solution
notebooks by tests/fixtures/make_submissions.py: a lesson or an attack that changes without
them being written again fails here, before a batch test grades a stale corpus."""

from __future__ import annotations

import pytest

from tests.fixtures.make_submissions import SUBMISSIONS, write_corpora

pytestmark = pytest.mark.unit


def test_the_committed_corpora_are_what_make_submissions_writes(tmp_path):
    """Is every committed submission byte for byte what the generator writes today, with
    none missing and none left over?"""
    expected = {path.relative_to(tmp_path): path.read_bytes() for path in write_corpora(tmp_path)}
    committed = {
        path.relative_to(SUBMISSIONS): path.read_bytes() for path in SUBMISSIONS.rglob("*.ipynb")
    }
    stale = sorted(
        str(path)
        for path in expected.keys() | committed.keys()
        if expected.get(path) != committed.get(path)
    )
    assert not stale, (
        f"these submissions differ from what the generator writes: {stale}; "
        "run `python tests/fixtures/make_submissions.py` and commit the result"
    )
