"""The course's translated documents: which English source, which catalog, which output.

For each language of :data:`~course_utils.translation.catalogs.LANGUAGES`:

- each student notebook ``lessons/NN_topic.ipynb`` becomes ``lessons/<lang>/NN_topic.ipynb``
  (beside ``lessons/<lang>/images``, a link to the lessons' pictures, so that a lesson's
  code finds what it reads by the same relative path);
- ``README.md`` becomes ``README.<lang>.md``.

A piece whose entry is missing or fuzzy stays English in the output, so that a maintainer
can release while a translation is in progress; :func:`problems` (the release's
``--check``, which CI runs) fails until every entry is there.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog

from course_utils.lesson_files import LESSONS, REPO_ROOT
from course_utils.translation.catalogs import (
    TRANSLATIONS,
    Entry,
    catalog_text,
    cell_pieces,
    markdown_entries,
    notebook_entries,
    read_catalog,
    relative,
    template,
    updated,
)
from course_utils.translation.messages import catalog_path, message_entries, message_modules
from course_utils.translation.pieces import STRING, Piece, join, markdown_pieces
from course_utils.translation.rules import Term, broken_rules, read_glossary

README = REPO_ROOT / "README.md"
PICTURES = "images"
"""The lessons' picture folder, which each language's folder links to."""


@dataclass(frozen=True)
class Document:
    """An English ``source`` (its text, or for a notebook the student notebook the
    release makes), translated into ``output`` through ``catalog``; a module's messages
    have no output (the code reads its catalog)."""

    source: Path
    catalog: Path
    output: Path | None
    language: str

    @property
    def is_notebook(self) -> bool:
        return self.source.suffix == ".ipynb"

    @property
    def is_module(self) -> bool:
        return self.source.suffix == ".py"

    def entries(self, english: str | nbformat.NotebookNode) -> Iterator[Entry]:
        name = relative(self.source)
        if self.is_notebook:
            return notebook_entries(english, name)
        if self.is_module:
            return message_entries(english, name)
        return markdown_entries(english, name)


def documents(
    language: str, student_notebooks: list[Path], lessons: Path = LESSONS
) -> list[Document]:
    """The documents of ``language``: one per student notebook (``lessons/NN_topic.ipynb``,
    given, since the release makes them), the README, then each module with messages."""
    folder = TRANSLATIONS / language
    found = [
        Document(
            path, folder / "lessons" / f"{path.stem}.po", lessons / language / path.name, language
        )
        for path in student_notebooks
    ]
    found.append(
        Document(README, folder / "README.po", README.with_suffix(f".{language}.md"), language)
    )
    found += [
        Document(module, catalog_path(module, language), None, language)
        for module in message_modules()
    ]
    return found


def glossary(language: str) -> list[Term]:
    """The glossary's terms for ``language`` (none when it has no glossary)."""
    path = TRANSLATIONS / language / "glossary.tsv"
    return read_glossary(path) if path.exists() else []


def lookup(catalog: Catalog) -> Callable[[str | None], Callable[[Piece], str | None]]:
    """For a context, a function from a piece to its translation in ``catalog``: None when
    its entry is missing, empty or fuzzy."""

    def in_context(context: str | None) -> Callable[[Piece], str | None]:
        def translation(piece: Piece) -> str | None:
            message = catalog.get(piece.text, context)
            if message is None or not message.string or message.fuzzy:
                return None
            return message.string

        return translation

    return in_context


def translated(
    document: Document, english: str | nbformat.NotebookNode
) -> str | nbformat.NotebookNode:
    """``english`` (the document's text, or its student notebook) in the document's
    language, as far as its catalog goes."""
    find = lookup(read_catalog(document.catalog, document.language))
    if not document.is_notebook:
        return join(markdown_pieces(english), find(None))
    notebook = copy.deepcopy(english)
    for cell in notebook.cells:
        cell.source = join(cell_pieces(cell), find(cell.id))
    return notebook


def updated_catalog_text(document: Document, english: str | nbformat.NotebookNode) -> str:
    """The document's catalog brought up to date with ``english`` (see
    :func:`course_utils.translation.catalogs.updated`), as its PO file's text."""
    fresh = template(document.entries(english), document.language)
    current = read_catalog(document.catalog, document.language)
    return catalog_text(updated(current, fresh), document.language, relative(document.source))


def problems(
    document: Document, english: str | nbformat.NotebookNode, terms: list[Term]
) -> list[str]:
    """What keeps the document's catalog from a release, one line each: an entry missing
    (or left from English that changed since), fuzzy, or no longer in the English, and a
    translation that breaks a rule (:mod:`course_utils.translation.rules`)."""
    catalog = read_catalog(document.catalog, document.language)
    where = relative(document.catalog)
    entries = list({(e.context, e.text): e for e in document.entries(english)}.values())
    wanted = {(entry.context, entry.text) for entry in entries}
    left_over = {(m.context, m.id) for m in catalog if m.id} - wanted
    changed_cells = {context for context, _ in left_over}
    found = []
    for entry in entries:
        message = catalog.get(entry.text, entry.context)
        quoted = _short(entry.text)
        if message is None and entry.context in changed_cells:
            found.append(
                f"{where}: {entry.location}: {quoted}: its English changed after it was translated"
            )
        elif message is None or not message.string:
            found.append(f"{where}: {entry.location}: {quoted}: it has no translation")
        elif message.fuzzy:
            found.append(f"{where}: {entry.location}: {quoted}: fuzzy (its English changed)")
        else:
            for broken in broken_rules(
                entry.text, message.string, entry.kind, terms, entry.opening
            ):
                found.append(f"{where}: {entry.location}: {quoted}: {broken}")
    for _, text in sorted(left_over, key=lambda key: (key[0] or "", key[1])):
        found.append(f"{where}: {_short(text)}: no longer in {relative(document.source)}")
    found += [f"{where}: {line}" for line in _strings_translated_apart(entries, catalog)]
    if found:
        found.append(
            f"{where}: run `make translations`, translate its empty and fuzzy entries, "
            "then `make release`"
        )
    return found


def _strings_translated_apart(entries: list[Entry], catalog: Catalog) -> list[str]:
    """A string of the code that two cells translate differently: one cell may look up
    what another made with it (a dict's key), which the translation would break."""
    translations: dict[str, dict[str, list[str]]] = {}
    for entry in entries:
        message = catalog.get(entry.text, entry.context)
        if entry.kind == STRING and message is not None and message.string and not message.fuzzy:
            where = translations.setdefault(entry.text, {}).setdefault(message.string, [])
            where.append(entry.location)
    return [
        f"{_short(text)} is translated differently in "
        f"{', '.join(locations[0] for locations in found.values())}: the code may look one "
        "up by the other; translate it the same way everywhere"
        for text, found in translations.items()
        if len(found) > 1
    ]


def picture_link(language: str, lessons: Path = LESSONS) -> Path:
    """``lessons/<lang>/images``, the link to the lessons' pictures."""
    return lessons / language / PICTURES


def _short(text: str, length: int = 60) -> str:
    line = " ".join(text.split())
    return repr(line if len(line) <= length else line[: length - 1] + "…")
