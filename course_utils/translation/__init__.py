"""The course in other languages, from its one English source.

Translations live in gettext message catalogs, ``translations/<lang>/``: one per student
notebook and one for the README (:mod:`~course_utils.translation.catalogs`), a glossary of
terms (:mod:`~course_utils.translation.rules`). Code is never translated: only a code
cell's comments and the strings a learner reads (:mod:`~course_utils.translation.pieces`).

The release step (:mod:`course_utils.release`) writes the translated notebooks and README
(:func:`release_translations`) and, with ``--check``, fails on a missing or stale entry.
``python -m course_utils.translation`` (``make translations``) updates the catalogs after
the English changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

from course_utils.lesson_files import LESSONS
from course_utils.student_notebooks import canonical_text
from course_utils.translation.catalogs import LANGUAGES, relative
from course_utils.translation.documents import (
    PICTURES,
    README,
    Document,
    documents,
    glossary,
    picture_link,
    problems,
    translated,
    updated_catalog_text,
)

__all__ = ["LANGUAGES", "README", "release_translations", "update_catalogs"]


def _english(document: Document, students: dict[Path, nbformat.NotebookNode]):
    if document.is_notebook:
        return students[document.source]
    return document.source.read_text(encoding="utf-8")


def _documents(
    language: str, students: dict[Path, nbformat.NotebookNode], lessons: Path, readme: Path | None
) -> list[Document]:
    found = documents(language, sorted(students), lessons)
    return [d for d in found if d.is_notebook or (readme is not None and d.source == readme)]


def release_translations(
    language: str,
    students: dict[Path, nbformat.NotebookNode],
    lessons: Path = LESSONS,
    readme: Path | None = README,
    *,
    check: bool = False,
) -> list[str]:
    """Write ``language``'s translation of each student notebook (``students``: path to
    notebook, as the release makes them) and of ``readme``, and the folder's link to the
    pictures. With ``check``, write nothing and say what is out of sync. Either way,
    return the catalogs' problems too (:func:`~course_utils.translation.documents.problems`).
    """
    found = []
    terms = glossary(language)
    for document in _documents(language, students, lessons, readme):
        english = _english(document, students)
        result = translated(document, english)
        text = canonical_text(result) if document.is_notebook else result
        current = document.output.read_text("utf-8") if document.output.exists() else None
        if current != text:
            if check:
                found.append(
                    f"{relative(document.output)}: out of sync with "
                    f"{relative(document.source)} and {relative(document.catalog)}; "
                    "run `make release`"
                )
            else:
                document.output.parent.mkdir(parents=True, exist_ok=True)
                document.output.write_text(text, encoding="utf-8")
        found += problems(document, english, terms)
    link = picture_link(language, lessons)
    target = os.path.join("..", PICTURES)
    if not (link.is_symlink() and os.readlink(link) == target):
        if check:
            found.append(f"{relative(link)}: not a link to {target}; run `make release`")
        else:
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_symlink():
                link.unlink()
            link.symlink_to(target)
    return found


def update_catalogs(
    language: str, students: dict[Path, nbformat.NotebookNode], lessons: Path = LESSONS
) -> list[Path]:
    """Bring ``language``'s catalogs up to date with the English (see
    :func:`~course_utils.translation.catalogs.updated`); returns the catalogs changed."""
    changed = []
    for document in _documents(language, students, lessons, README):
        text = updated_catalog_text(document, _english(document, students))
        current = document.catalog.read_text("utf-8") if document.catalog.exists() else None
        if text != current:
            document.catalog.parent.mkdir(parents=True, exist_ok=True)
            document.catalog.write_text(text, encoding="utf-8")
            changed.append(document.catalog)
    return changed
