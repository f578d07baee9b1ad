"""The student edition (``./course release --student OUT``): what a class gets, without
solutions, whose checks and commands work on their own."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from course_utils.lesson_files import LESSONS, REPO_ROOT, lesson_paths
from course_utils.release import main
from course_utils.student_edition import write_student_edition
from course_utils.student_notebooks import BEGIN, END, is_solution_cell, solution_paths
from course_utils.translation import LANGUAGES
from graders import lesson00, lesson07
from tests.lab_server import running_lab

pytestmark = pytest.mark.notebook

PARITY_SCRIPT = Path(__file__).with_name("edition_parity.py")
SHORTEST_LINE = 20
"""Solution lines shorter than this (``return X``, ``(1, 1),``) are too common to tell
anything; longer ones are the solution's own."""


# The repository is installed into .venv for editing: a finder on sys.meta_path that
# finds any module of its packages, those the edition leaves out too. Started with this
# sitecustomize on PYTHONPATH, Python (and every kernel it starts) has no such finder, so
# that the edition's packages are all there is, as in an edition's own installation.
WITHOUT_THE_REPOSITORY = """
import sys
sys.meta_path[:] = [
    finder for finder in sys.meta_path
    if not getattr(finder, "__module__", "").startswith("__editable__")
]
"""


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("class") / "keras-course-student"
    write_student_edition(out)
    site = out.parent / SITE
    site.mkdir()
    (site / "sitecustomize.py").write_text(WITHOUT_THE_REPOSITORY)
    return out


SITE = "site-without-the-repository"


def _edition_env(edition: Path, root: Path | None = None) -> dict[str, str]:
    """The environment in which Python, and the kernels it starts, import the course's
    packages from ``root`` (the repository, or by default the student ``edition``) and
    nowhere else."""
    site = edition.parent / SITE
    path = [str(site), str(root or edition)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def _solution_lines() -> dict[str, str]:
    """Every line of a solution region that the lessons' student notebooks do not have,
    stripped, at least :data:`SHORTEST_LINE` long: line -> where it is."""
    student_lines = {
        line.strip()
        for path in lesson_paths(LESSONS)
        for cell in nbformat.read(path, as_version=4).cells
        for line in cell.source.splitlines()
    }
    lines = {}
    for path in solution_paths(LESSONS):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if not is_solution_cell(cell):
                continue
            for region in re.findall(
                rf"{re.escape(BEGIN)}(.*?){re.escape(END)}", cell.source, re.S
            ):
                for line in region.splitlines():
                    text = line.strip()
                    if len(text) >= SHORTEST_LINE and not text.startswith("#"):
                        if text not in student_lines:
                            lines[text] = f"{path.name}, cell {index}"
    return lines


def _text_lines(root: Path) -> set[str]:
    """Every stripped line of every text file under ``root``, notebooks' cells included."""
    lines = set()
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix in {".png", ".pyc"}:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            cells = nbformat.reads(text, as_version=4).cells
            text = "\n".join(cell.source for cell in cells)
        lines.update(line.strip() for line in text.splitlines())
    return lines


def _reference_function_names() -> set[str]:
    """The functions that implement an exercise: those of the repository's reference
    modules, and each graded function's own name."""
    names = {case.name for case in lesson00.FUNCTION_CASES.values()}
    names |= {case.name for case in lesson07.FUNCTION_CASES.values()}
    for module in ("reference_models.py", "reference_values.py"):
        tree = ast.parse((REPO_ROOT / "graders" / module).read_text(encoding="utf-8"))
        names |= {
            node.name.lstrip("_") for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
        }
    return names - {"compute", "compute_all", "computations"}


def test_the_edition_holds_the_student_notebooks_the_packages_and_its_commands(edition):
    """Does the edition hold the eleven student notebooks (as the repository releases
    them), the course's packages and its own commands, and none of the instructor's
    machinery?"""
    assert [p.name for p in lesson_paths(edition / "lessons")] == [
        p.name for p in lesson_paths(LESSONS)
    ]
    for path in lesson_paths(LESSONS):
        assert (edition / "lessons" / path.name).read_bytes() == path.read_bytes(), path.name
        for language in LANGUAGES:  # the translations, as the repository releases them
            translated = LESSONS / language / path.name
            assert (
                edition / "lessons" / language / path.name
            ).read_bytes() == translated.read_bytes()
    assert sorted(p.name for p in (edition / "lessons").iterdir() if p.is_dir()) == sorted(
        ["images", *LANGUAGES]
    )
    for present in (
        "course",
        "Makefile",
        "README.md",
        "pyproject.toml",
        "scripts/setup.mk",
        "graders/reference_outputs.json",
        "graders/lesson07.py",
        "data_loaders/mnist.py",
        "course_utils/progress.py",
    ):
        assert (edition / present).is_file(), present
    assert os.access(edition / "course", os.X_OK)
    for absent in (
        "lessons/solutions",
        "batch_grader",
        "graders/reference_models.py",
        "graders/reference_values.py",
        "course_utils/release.py",
        "course_utils/lint.py",
        "course_utils/translation",
        "tests",
        "bench",
    ):
        assert not (edition / absent).exists(), absent
    pyproject = (edition / "pyproject.toml").read_text()
    for instructors_only in ("nbgrader", "distributed", "psutil", "batch_grader", "instructor"):
        assert instructors_only not in pyproject, instructors_only
    assert "tensorflow-cpu" in pyproject and '"reference_outputs.json"' in pyproject


def test_no_line_of_a_solution_is_in_the_edition(edition):
    """Is every line of every solution region missing from the edition, its packages,
    notebooks and README included?"""
    solution_lines = _solution_lines()
    assert len(solution_lines) > 50  # the regions were found
    found = {line: where for line, where in solution_lines.items() if line in _text_lines(edition)}
    assert found == {}


def test_no_reference_implementation_is_in_the_edition(edition):
    """Does no module of the edition define a reference implementation or a function an
    exercise asks for, and does importing the reference modules fail there?"""
    names = _reference_function_names()
    assert {"residual_block", "resnet50", "identity_block", "steps_per_epoch"} <= names
    defined = {}
    for path in edition.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in names:
                defined[node.name] = str(path.relative_to(edition))
    assert defined == {}
    probe = (
        "import importlib\n"
        "for name in ('graders.reference_models', 'graders.reference_values'):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError:\n"
        "        print(name, 'missing')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=edition,
        env=_edition_env(edition),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split("\n")[:2] == [
        "graders.reference_models missing",
        "graders.reference_values missing",
    ], result.stderr


def test_the_editions_checks_give_the_repositorys_reports_from_the_stored_outputs(edition):
    """Do the checks that compare with a reference (lesson 00's functions, lesson 07's
    blocks and ResNet50) give, in the edition, from its stored outputs, the very reports
    they give in the repository, for right answers and for classic mistakes alike?"""
    runs = {}
    for name, root in (("repository", REPO_ROOT), ("edition", edition)):
        result = subprocess.run(
            [sys.executable, str(PARITY_SCRIPT), str(LESSONS / "solutions")],
            cwd=root,
            env=_edition_env(edition, root),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        runs[name] = json.loads(result.stdout)
    assert runs["edition"] == runs["repository"]
    statuses = [report["status"] for report in runs["edition"]]
    assert statuses.count("passed") == 7 and statuses.count("failed") == 8, statuses


def _progress(edition: Path, *lessons: str) -> subprocess.CompletedProcess:
    """``./course test LESSONS`` in the edition, its make and setup left out: the command
    that its Makefile's test target runs."""
    return subprocess.run(
        [sys.executable, "-m", "course_utils.progress", *lessons],
        cwd=edition,
        env=_edition_env(edition),
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_editions_test_command_reports_not_attempted_then_passed(edition, tmp_path):
    """Does the edition's test command run lesson 00 as handed out, every check "not
    attempted", and, once the learner has solved it, every check passed?"""
    result = _progress(edition, "00")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("00 · Tensors and shapes: 0/30 points"), result.stdout
    assert [line.split()[-2:] for line in lines[1:4]] == [["attempted", "0/10"]] * 3
    assert lines[-1] == "0/30 points in 1 lesson(s): 0 passed, 0 failed, 3 not attempted"

    solved = edition / "lessons" / "00_tensors_and_shapes.ipynb"
    handed_out = tmp_path / solved.name
    shutil.copy2(solved, handed_out)
    try:
        shutil.copy2(LESSONS / "solutions" / solved.name, solved)
        result = _progress(edition, "0")
    finally:
        shutil.copy2(handed_out, solved)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == (
        "30/30 points in 1 lesson(s): 3 passed, 0 failed, 0 not attempted"
    ), result.stdout


OUTSIDE_SETTINGS = ("PYTHONPATH", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
"""What the suite's own run (``make test`` in the repository's .venv) sets, which a learner
typing ``./course test`` in a terminal has not: a sub-make would name its folders."""


def test_the_editions_own_course_test_installs_it_and_runs_lesson_00(edition, tmp_path):
    """Does ``./course test 00`` in a fresh copy of the edition set it up (its own .venv,
    with the learner's packages only) and report lesson 00 as handed out?"""
    fresh = tmp_path / "keras-course-student"
    shutil.copytree(edition, fresh)
    result = subprocess.run(
        ["./course", "test", "00"],
        cwd=fresh,
        env={k: v for k, v in os.environ.items() if k not in OUTSIDE_SETTINGS},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert result.stdout.splitlines()[-1] == (
        "0/30 points in 1 lesson(s): 0 passed, 0 failed, 3 not attempted"
    ), result.stdout[-3000:]
    installed = subprocess.run(
        [str(fresh / ".venv" / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.lower()
    assert "keras-course-student==" in installed and "tensorflow" in installed
    assert "nbgrader" not in installed and "distributed" not in installed


def test_the_editions_test_command_refuses_an_unknown_lesson(edition):
    result = _progress(edition, "11")
    assert result.returncode == 2
    assert "no lesson 11: expected one of 00, 01, 02, 03, 04, 05, 06, 07, 08, 09, 10" in (
        result.stderr
    )


def test_the_editions_lab_serves_its_lessons_and_opens_lesson_00(edition, tmp_path):
    """Does the edition's lab command serve its lessons folder, with no solutions, and
    open lesson 00?"""
    env = {**_edition_env(edition), "JUPYTER_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    with running_lab(tmp_path / "lab.log", env=env, cwd=edition) as server:
        token = f"token={server.token}"
        with urllib.request.urlopen(f"{server.base}/api/contents?{token}", timeout=5) as reply:
            names = {item["name"] for item in json.loads(reply.read())["content"]}
        assert "00_tensors_and_shapes.ipynb" in names and "solutions" not in names
        with urllib.request.urlopen(f"{server.base}/?{token}", timeout=5) as reply:
            assert reply.url.split("?")[0].endswith("/lab/tree/00_tensors_and_shapes.ipynb")


def test_the_edition_is_refused_over_an_existing_folder_or_inside_the_repository(tmp_path, capsys):
    """Is an edition written only into a new folder outside the repository, and does the
    refusal say why (exit status 2)?"""
    (tmp_path / "old").mkdir()
    for where, expected in (
        (tmp_path / "old", f"{tmp_path / 'old'} exists: expected a new folder for the edition"),
        (REPO_ROOT / "edition", f"is inside the repository ({REPO_ROOT})"),
    ):
        with pytest.raises(SystemExit) as stop:
            main(["--student", str(where)])
        assert stop.value.code == 2
        assert expected in capsys.readouterr().err
    assert not (REPO_ROOT / "edition").exists()
    assert list((tmp_path / "old").iterdir()) == []
