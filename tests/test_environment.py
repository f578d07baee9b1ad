"""environment.yml (conda) and pyproject.toml (pip) must describe the same environment."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

EXTRAS_IN_CONDA = ("cpu", "instructor", "test", "check")


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def _conda() -> dict:
    return yaml.safe_load((REPO_ROOT / "environment.yml").read_text())


def _pip_section(conda: dict) -> list[str]:
    return next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict) and "pip" in d)


def test_pip_section_lists_exactly_the_pyproject_requirements():
    """Does environment.yml's pip section list pyproject's dependencies and extras, each
    once (the check extra repeats nbformat, a dependency, for `make check` alone), no more?"""
    project = _pyproject()["project"]
    expected = list(project["dependencies"])
    for extra in EXTRAS_IN_CONDA:
        expected += project["optional-dependencies"][extra]
    listed = [r for r in _pip_section(_conda()) if not r.startswith("-")]
    assert sorted(listed) == sorted(set(expected))


def test_pip_section_installs_the_course_package_itself():
    """Does the conda environment install the course's own packages (editable)?"""
    assert "--editable ." in _pip_section(_conda())


def test_python_version_and_graphviz_agree():
    """Is conda's Python allowed by requires-python, and is graphviz there for plot_model?"""
    conda_deps = [d for d in _conda()["dependencies"] if isinstance(d, str)]
    python = next(d for d in conda_deps if d.startswith("python="))
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", _pyproject()["project"]["requires-python"])
    version = tuple(int(v) for v in python.split("=")[1].split("."))
    assert minimum and version >= (int(minimum.group(1)), int(minimum.group(2)))
    assert "graphviz" in conda_deps


def test_makefile_installs_the_same_extras_as_conda():
    """Does `make` install the extras that environment.yml lists (with the CPU or GPU build)?"""
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "EXTRAS := $(TF_EXTRA),instructor,test,check\n" in makefile
    assert set(_pyproject()["project"]["optional-dependencies"]) == {
        "cpu",
        "gpu",
        "test",
        "check",
        "instructor",
    }
