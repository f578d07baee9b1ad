"""Tests of the package itself: what `import course_utils` loads, and what each name gives."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import types

import pytest

import course_utils

pytestmark = pytest.mark.unit

HEAVY_MODULES = ("keras", "tensorflow", "matplotlib", "ipywidgets")


def test_importing_the_package_and_its_command_line_tools_loads_no_heavy_library():
    """Do `import course_utils`, the lint and the release step run without Keras, TensorFlow,
    Matplotlib or ipywidgets (what `make check` installs is ruff and nbformat only)?"""
    probe = (
        "import json, sys\n"
        "import course_utils, course_utils.lint, course_utils.release\n"
        f"print(json.dumps(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(loaded) == []


def test_every_helper_name_gives_the_helper_whichever_module_was_imported_first():
    """Does `from course_utils import NAME` give the helper, never a module of the same name,
    even after every module of the package has been imported another way?"""
    for module in pkgutil.iter_modules(course_utils.__path__):
        importlib.import_module(f"course_utils.{module.name}")
    for name in course_utils.__all__:
        helper = getattr(course_utils, name)
        assert not isinstance(helper, types.ModuleType), f"course_utils.{name} is a module"
        assert callable(helper), f"course_utils.{name} is {helper!r}"
    assert set(course_utils.__all__) <= set(dir(course_utils))


def test_every_figure_helper_is_a_helper_of_the_package():
    """Does FIGURE_HELPERS, the list the figure check of the tests reads, name only helpers
    that course_utils exports (a renamed helper would silently escape the check)?"""
    assert set(course_utils.FIGURE_HELPERS) <= set(course_utils.__all__)
