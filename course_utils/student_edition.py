"""The student edition: what a class is handed (``./course release --student OUT``).

It holds the student notebooks, the data loaders, the helpers and the in-notebook checks,
with its own ``./course lab`` and ``./course test`` (:mod:`course_utils.progress`), and no
solution code: no solution notebooks, no batch grader, no reference implementation of any
exercise. Where a check compares with a reference implementation, the edition carries the
reference's outputs on the check's fixed inputs, computed while the edition is written and
stored as data (``graders/reference_outputs.json``, :mod:`graders.reference_outputs`), and
the check gives the same messages from them.

The student notebooks are written from the solution notebooks, as ``./course release``
writes them into the repository. The edition's README takes its feedback and lesson
sections from the repository's README; its Makefile shares ``scripts/setup.mk`` with the
repository's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

from course_utils.lesson_files import LESSONS, REPO_ROOT, SAVED_FOLDER
from course_utils.student_notebooks import canonical_text, student_notebooks
from course_utils.translation import LANGUAGES, release_translations

TEMPLATES = Path(__file__).resolve().parent / "edition"
PACKAGES = ("course_utils", "data_loaders", "graders")
REPOSITORY_ONLY = {
    "course_utils": {
        "release.py",
        "student_notebooks.py",
        "lint.py",
        "student_edition.py",
        "edition",
        "translation",
    },
    "data_loaders": set(),
    "graders": {"reference_models.py", "reference_values.py"},
}
"""What of each package stays in the repository: the maintainers' tools and the reference
implementations with what computes from them. The instructor's batch grader
(``batch_grader``) is not one of :data:`PACKAGES`: it stays whole."""
SCRIPTS = ("ensure-make.sh", "setup.mk", "install-system-packages.sh")
README_SECTIONS = ("Feedback", "Lesson map")
"""The repository README's sections that the edition's README repeats, by heading."""
GITIGNORE = f".venv/\n*.egg-info/\n__pycache__/\nlessons/{SAVED_FOLDER}/\n"


class EditionError(ValueError):
    """The edition cannot be written where it was asked for."""


def write_student_edition(out: Path) -> list[Path]:
    """Write the student edition into the new folder ``out`` and return its files
    (relative paths, sorted). The folder appears whole or not at all; an existing ``out``,
    or one inside the repository, is refused with :class:`EditionError`."""
    out = Path(os.path.abspath(out))
    if out.exists():
        raise EditionError(f"{out} exists: expected a new folder for the edition")
    if out == REPO_ROOT or REPO_ROOT in out.parents:
        raise EditionError(
            f"{out} is inside the repository ({REPO_ROOT}): write the edition elsewhere"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _write(staging)
        staging.chmod(0o755)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(path.relative_to(out) for path in out.rglob("*") if path.is_file())


def _write(root: Path) -> None:
    for package in PACKAGES:
        _copy_package(package, root, REPOSITORY_ONLY[package])
    _write_lessons(root / "lessons")
    for name in SCRIPTS:
        _copy(REPO_ROOT / "scripts" / name, root / "scripts" / name)
    _copy(TEMPLATES / "course", root / "course")
    _copy(TEMPLATES / "Makefile", root / "Makefile")
    (root / "README.md").write_text(_readme(), encoding="utf-8")
    (root / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    from graders.reference_outputs import STORE, encode
    from graders.reference_values import compute_all

    (root / "graders" / STORE.name).write_text(encode(compute_all()), encoding="utf-8")


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def _copy_package(package: str, root: Path, left_out: set[str]) -> None:
    source = REPO_ROOT / package
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative.parts[0] in left_out or "__pycache__" in relative.parts:
            continue
        if path.is_file() and path.suffix != ".pyc":
            _copy(path, root / package / relative)


def _write_lessons(lessons: Path) -> None:
    """The student notebooks, written from the solution notebooks, their translations
    (``lessons/<lang>/``, as the release writes them) and their images."""
    lessons.mkdir(parents=True)
    students = student_notebooks(lessons)
    for path, student in students.items():
        path.write_text(canonical_text(student), encoding="utf-8")
    for image in sorted((LESSONS / "images").iterdir()):
        _copy(image, lessons / "images" / image.name)
    for language in LANGUAGES:
        release_translations(language, students, lessons, readme=None, messages=False)


def _readme() -> str:
    """The edition's README: its template, with the repository README's sections."""
    template = (TEMPLATES / "README.md").read_text(encoding="utf-8")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for heading in README_SECTIONS:
        match = re.search(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", readme, re.M | re.S)
        if match is None:
            raise EditionError(f"README.md has no section '## {heading}' for the edition")
        template = template.replace("{" + heading + "}", match.group(0).strip())
    return template


def _pyproject() -> str:
    """The edition's pyproject.toml: the repository's package, with only what learners
    install (the dependencies and the TensorFlow builds)."""
    from graders.reference_outputs import STORE

    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    extras = project["optional-dependencies"]

    def strings(values: list[str]) -> str:
        return "[" + ", ".join(json.dumps(value) for value in values) + "]"

    lines = [
        "[build-system]",
        f"requires = {strings(data['build-system']['requires'])}",
        f"build-backend = {json.dumps(data['build-system']['build-backend'])}",
        "",
        "[project]",
        'name = "keras-course-student"',
        f"version = {json.dumps(project['version'])}",
        f"description = {json.dumps(project['description'] + ' The student edition.')}",
        'readme = "README.md"',
        f"requires-python = {json.dumps(project['requires-python'])}",
        f"license = {json.dumps(project['license'])}",
        "dependencies = [",
        *(f"    {json.dumps(dependency)}," for dependency in project["dependencies"]),
        "]",
        "",
        "[project.optional-dependencies]",
        f"cpu = {strings(extras['cpu'])}",
        f"gpu = {strings(extras['gpu'])}",
        "",
        "[tool.setuptools.packages.find]",
        f"include = {strings([package + '*' for package in PACKAGES])}",
        "",
        "[tool.setuptools.package-data]",
        f"course_utils = {strings(data['tool']['setuptools']['package-data']['course_utils'])}",
        f"graders = {strings([STORE.name])}",
    ]
    return "\n".join(lines) + "\n"


def describe(out: Path, files: list[Path]) -> str:
    """What ``write_student_edition`` wrote: where, how many files, how large, by folder."""
    sizes: dict[str, list[int]] = {}
    for path in files:
        folder = path.parts[0] if len(path.parts) > 1 else "."
        sizes.setdefault(folder, []).append((out / path).stat().st_size)
    total = sum(sum(values) for values in sizes.values())
    lines = [f"wrote the student edition to {out}: {len(files)} files, {total / 1e6:.1f} MB"]
    for folder, values in sorted(sizes.items()):
        name = f"{folder}/" if folder != "." else "(top)"
        lines.append(f"  {name:<14} {len(values):>4} files  {sum(values) / 1e3:>8.0f} kB")
    return "\n".join(lines)
