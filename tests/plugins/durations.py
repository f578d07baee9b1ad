"""The suite's schedule, from measured durations.

The suite runs one test file per process at a time (``--dist loadfile``), in the order
collected (``--no-loadscope-reorder``). A long file that started last would leave the other
process idle at the end, so files start longest first, by the seconds each took in a
measured run, stored in :data:`DURATIONS` (test file or notebook -> seconds, summed over its
tests' set-up, call and tear-down). A file with no stored figure starts before all others:
it may be long.

``make test-durations`` runs the whole suite and, when it passes, stores what each file
took;
``make test-durations PYTEST_ARGS=tests/x/test_new.py`` measures one file and keeps the
others' figures. ``python -m tests.plugins.durations`` prints the stored figures.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import pytest

from course_utils.lesson_files import REPO_ROOT
from data_loaders.cache import atomic_write_bytes

DURATIONS = REPO_ROOT / "tests" / "durations.json"
"""Seconds each test file (or solution notebook) took, by its path from the repository."""

_measured: defaultdict[str, float] = defaultdict(float)


def file_of(nodeid: str) -> str:
    """The test file (or notebook) of a test's node id."""
    return nodeid.split("::", 1)[0]


def stored_durations(path: Path = DURATIONS) -> dict[str, float]:
    """The stored seconds of each file, longest first; empty when none are stored."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def store_durations(
    measured: dict[str, float], path: Path = DURATIONS, root: Path = REPO_ROOT
) -> dict[str, float]:
    """Store ``measured`` over the stored figures (a file measured again replaces its
    figure, the others keep theirs, a file no longer under ``root`` loses its own), longest
    first, atomically; returns what was stored."""
    merged = {**stored_durations(path), **{name: round(s, 1) for name, s in measured.items()}}
    merged = {name: seconds for name, seconds in merged.items() if (root / name).is_file()}
    ordered = dict(sorted(merged.items(), key=lambda pair: (-pair[1], pair[0])))
    atomic_write_bytes(path, (json.dumps(ordered, indent=1) + "\n").encode())
    return ordered


def schedule(items: list, durations: dict[str, float]) -> None:
    """Sort ``items`` (pytest items) in place: files longest first, a file with no stored
    duration before all; the tests of one file keep their order."""
    unknown = max(durations.values(), default=0.0) + 1.0
    items.sort(key=lambda item: -durations.get(file_of(item.nodeid), unknown))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-durations",
        action="store_true",
        help=f"store the seconds each test file took in {DURATIONS.relative_to(REPO_ROOT)}",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    schedule(items, stored_durations())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _measured[file_of(report.nodeid)] += report.duration


def runs_whole_files(config: pytest.Config) -> bool:
    """Whether the run leaves no test of a file it runs out: no ``-k``, ``-m``,
    ``--quick`` or test id (``FILE::TEST``)."""
    options = ("keyword", "markexpr", "quick")
    return not any(config.getoption(name, None) for name in options) and not any(
        "::" in argument for argument in config.args
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Store the figures of a run that passed and ran whole files: a failed or filtered
    file's figure would not be what the file takes."""
    config = session.config
    if not config.getoption("store_durations") or hasattr(config, "workerinput"):
        return
    if exitstatus != 0 or not runs_whole_files(config):
        print("\ndurations not stored: the run failed, or -k, -m, --quick or a test id left out")
        return
    store_durations(dict(_measured))


def main(argv: list[str] | None = None) -> None:
    """Print the stored figures, longest first, and their sum."""
    argparse.ArgumentParser(
        prog="python -m tests.plugins.durations",
        description=f"Print the seconds each test file took in the last stored run "
        f"({DURATIONS.relative_to(REPO_ROOT)}), longest first; `make test-durations` "
        "measures them again.",
    ).parse_args(argv)
    durations = stored_durations()
    for name, seconds in durations.items():
        print(f"{seconds:8.1f} s  {name}")
    print(f"{sum(durations.values()):8.1f} s  in all, {len(durations)} files")


if __name__ == "__main__":
    main()
