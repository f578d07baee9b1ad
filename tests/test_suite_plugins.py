"""The suite's own machinery: the schedule from stored durations, the tiers, the figure
check (tests/plugins/)."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import nbformat
import pytest

from tests.conftest import REPO_ROOT
from tests.plugins.durations import (
    runs_whole_files,
    schedule,
    store_durations,
    stored_durations,
)
from tests.plugins.figures import missing_figure
from tests.plugins.tiers import SLOW_TIERS

pytestmark = pytest.mark.unit


def test_files_start_longest_first_and_an_unmeasured_file_before_all():
    """Are files ordered by their stored seconds, longest first, an unmeasured file before
    every measured one, and do the tests of one file keep their order?"""
    names = ["a.py::x", "b.py::x", "a.py::y", "new.py::x", "c.py::x", "b.py::y"]
    items = [SimpleNamespace(nodeid=name) for name in names]
    schedule(items, {"a.py": 3.0, "b.py": 40.0, "c.py": 12.5})
    assert [item.nodeid for item in items] == [
        "new.py::x",
        "b.py::x",
        "b.py::y",
        "c.py::x",
        "a.py::x",
        "a.py::y",
    ]


def test_storing_durations_keeps_the_figures_of_files_not_measured_and_drops_files_gone(
    tmp_path,
):
    """Does measuring one file replace its figure and keep every other file's, longest
    first, and is a file that is gone dropped?"""
    path = tmp_path / "durations.json"
    for name in ("a.py", "b.py", "c.py", "gone.py"):
        (tmp_path / name).write_text("")
    store_durations({"a.py": 3.04, "b.py": 40.0, "gone.py": 9.0}, path, tmp_path)
    (tmp_path / "gone.py").unlink()
    stored = store_durations({"a.py": 50.0, "c.py": 1.0}, path, tmp_path)
    assert list(stored.items()) == [("a.py", 50.0), ("b.py", 40.0), ("c.py", 1.0)]
    assert stored_durations(path) == stored


@pytest.mark.parametrize(
    ("options", "arguments", "whole"),
    [
        ({}, ["tests"], True),
        ({}, ["tests/test_a.py"], True),
        ({"keyword": "fast"}, ["tests"], False),
        ({"markexpr": "unit"}, ["tests"], False),
        ({"quick": True}, ["tests"], False),
        ({}, ["tests/test_a.py::test_one"], False),
    ],
)
def test_durations_are_stored_only_from_runs_of_whole_files(options, arguments, whole):
    """Is a run with -k, -m, --quick or a test id told apart from one of whole files?"""
    config = SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    config.args = arguments
    assert runs_whole_files(config) is whole


def test_a_test_without_a_tier_stops_the_run_and_quick_leaves_out_the_slow_tiers(tmp_path):
    """Does a test with no tier marker stop collection with its file named, does an unknown
    marker stop it too (--strict-markers), and does --quick deselect the slow tiers?"""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_untiered.py").write_text("def test_a():\n    pass\n")
    (tests / "test_tiered.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.unit\n\n"
        "def test_unit():\n    pass\n\n"
        + "".join(f"@pytest.mark.{tier}\ndef test_{tier}():\n    pass\n\n" for tier in SLOW_TIERS)
    )
    (tests / "test_unknown.py").write_text(
        "import pytest\n\n@pytest.mark.unit\n@pytest.mark.slowish\ndef test_a():\n    pass\n"
    )

    def collect(*arguments: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        command += ["-c", "/dev/null", "--rootdir", str(tmp_path), "--strict-markers"]
        command += ["-p", "tests.plugins.tiers", "-p", "no:nbval", *arguments]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)

    untiered = collect(str(tests / "test_untiered.py"), str(tests / "test_tiered.py"))
    assert untiered.returncode != 0
    assert "every test needs a tier" in untiered.stderr + untiered.stdout
    assert "test_untiered.py" in untiered.stderr + untiered.stdout
    unknown = collect(str(tests / "test_unknown.py"))
    assert unknown.returncode != 0 and "'slowish' not found in `markers`" in unknown.stdout
    everything = collect(str(tests / "test_tiered.py"))
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert everything.stdout.count("test_tiered.py::") == 1 + len(SLOW_TIERS)
    quick = collect(str(tests / "test_tiered.py"), "--quick")
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert [line for line in quick.stdout.splitlines() if "::" in line] == [
        f"{tests / 'test_tiered.py'}::test_unit".replace(str(tmp_path) + "/", "")
    ]


@pytest.mark.parametrize(
    ("source", "outputs", "problem"),
    [
        (
            "plot_history(history)",
            [{"output_type": "display_data", "data": {"image/png": ""}}],
            None,
        ),
        ("print(1)", [], None),
        ("# show_images(x, y, names)\nprint(1)", [], None),
        (
            "plot_history(history)",
            [{"output_type": "display_data", "data": {"text/plain": "<Figure size 640x480>"}}],
            "the cell calls plot_history but shows no image (its outputs: display_data); "
            "is Matplotlib's backend inline?",
        ),
        (
            "show_images(x, y, names, n=8)\nshow_images(x, y, names)",
            [],
            "the cell calls show_images but shows no image (its outputs: none); "
            "is Matplotlib's backend inline?",
        ),
    ],
    ids=["shown", "no-helper", "in-a-comment", "text-only", "no-output"],
)
def test_a_cell_that_calls_a_figure_helper_must_show_an_image(source, outputs, problem):
    """Is a cell that calls a figure helper without showing an image named, with the helper,
    and are cells that show one, call none, or mention one in a comment left alone?"""
    assert missing_figure(source, outputs) == problem


@pytest.mark.notebook
def test_nbval_fails_a_notebook_cell_whose_figure_goes_nowhere(tmp_path):
    """Run by nbval in the learner's kernel with Matplotlib's backend forced to agg (which
    draws nothing), does a cell that calls a figure helper fail, naming the helper?"""
    cell = nbformat.v4.new_code_cell(
        "import numpy as np\n"
        "from course_utils import show_images\n"
        "show_images(np.zeros((2, 8, 8, 3), 'uint8'), np.array([0, 1]), ['a', 'b'])"
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "figure.ipynb")
    command = [sys.executable, "-m", "pytest", "-c", "/dev/null", "--rootdir", str(tmp_path)]
    command += ["-p", "no:cacheprovider", "-p", "tests.plugins.figures", "--nbval-lax"]
    command += ["--nbval-kernel-name=python3", str(tmp_path / "figure.ipynb")]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "MPLBACKEND": "agg"},
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert "the cell calls show_images but shows no image" in done.stdout, done.stdout[-2000:]
