"""The course in other languages, from its one English source.

Translations live in gettext message catalogs: ``translations/<lang>/``, one per student
notebook and one for the README (:mod:`~course_utils.translation.catalogs`), with a glossary
of terms (:mod:`~course_utils.translation.rules`); ``course_utils/locale/<lang>/``, one per
module of the learners' packages with messages (:mod:`~course_utils.translation.messages`,
read by :func:`course_utils.language.translate`). Code is never translated: only a code
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

from course_utils.language import CATALOGS
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
from course_utils.translation.messages import catalog_path, misplaced_calls

__all__ = [
    "LANGUAGES",
    "README",
    "release_translations",
    "update_catalogs",
    "update_module_catalog",
]


def _english(document: Document, students: dict[Path, nbformat.NotebookNode]):
    """The document's English: its student notebook, or its text (a module's source)."""
    if document.is_notebook:
        return students[document.source]
    return document.source.read_text(encoding="utf-8")


def _documents(
    language: str,
    students: dict[Path, nbformat.NotebookNode],
    lessons: Path,
    readme: Path | None,
    modules: bool,
) -> list[Document]:
    """The documents to release: the notebooks, the README when ``readme`` is given, and
    the modules' messages when ``modules``."""
    return [
        document
        for document in documents(language, sorted(students), lessons)
        if document.is_notebook
        or (document.is_module and modules)
        or (readme is not None and document.source == readme)
    ]


def release_translations(
    language: str,
    students: dict[Path, nbformat.NotebookNode],
    lessons: Path = LESSONS,
    readme: Path | None = README,
    *,
    messages: bool = True,
    check: bool = False,
) -> list[str]:
    """Write ``language``'s translation of each student notebook (``students``: path to
    notebook, as the release makes them) and of ``readme``, and the folder's link to the
    pictures. With ``check``, write nothing and say what is out of sync. Either way,
    return the catalogs' problems too (:func:`~course_utils.translation.documents.problems`),
    those of the modules' messages when ``messages``.
    """
    found = []
    terms = glossary(language)
    released = _documents(language, students, lessons, readme, modules=messages)
    for document in released:
        english = _english(document, students)
        found += problems(document, english, terms)
        if document.output is None:
            continue
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
    if messages:
        found += _message_problems(language, [d for d in released if d.is_module])
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
    found = _documents(language, students, lessons, README, modules=True)
    for document in found:
        if _update(document, _english(document, students)):
            changed.append(document.catalog)
    for orphan in _orphan_catalogs(language, found):
        orphan.unlink()
        changed.append(orphan)
    return changed


def update_module_catalog(language: str, module: Path) -> Path | None:
    """Bring the catalog of ``module``'s messages in ``language`` up to date; returns it
    when it changed."""
    document = Document(module, catalog_path(module, language), None, language)
    return document.catalog if _update(document, module.read_text(encoding="utf-8")) else None


def _update(document: Document, english) -> bool:
    """Write the document's catalog brought up to date with ``english``; False when that
    changes nothing."""
    text = updated_catalog_text(document, english)
    current = document.catalog.read_text("utf-8") if document.catalog.exists() else None
    if text == current:
        return False
    document.catalog.parent.mkdir(parents=True, exist_ok=True)
    document.catalog.write_text(text, encoding="utf-8")
    return True


def _orphan_catalogs(language: str, found: list[Document]) -> list[Path]:
    """The message catalogs of ``language`` that no module has messages for any more."""
    kept = {document.catalog for document in found}
    return sorted(path for path in (CATALOGS / language).glob("*.po") if path not in kept)


def _message_problems(language: str, modules: list[Document]) -> list[str]:
    """A call of ``modules`` (the documents of the modules with messages) whose English is
    no literal, and a catalog of a module without messages."""
    found = []
    for module in modules:
        source = module.source.read_text(encoding="utf-8")
        found += misplaced_calls(source, relative(module.source))
    for orphan in _orphan_catalogs(language, modules):
        found.append(f"{relative(orphan)}: no module has its messages; run `make translations`")
    return found
