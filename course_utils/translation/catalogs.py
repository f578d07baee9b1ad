"""Message catalogs (gettext PO files) for the course's English sources.

Each English source has one catalog per language, under ``translations/<lang>/``:

- a student notebook ``lessons/NN_topic.ipynb`` (released from its solution notebook):
  ``translations/<lang>/lessons/NN_topic.po``, one entry per piece of each cell
  (:mod:`course_utils.translation.pieces`), its context the cell's id;
- ``README.md``: ``translations/<lang>/README.po``, one entry per block;
- a module of the learners' packages: ``course_utils/locale/<lang>/<module>.po``, one entry
  per message (:mod:`course_utils.translation.messages`).

:func:`update` brings a catalog up to date with its source the way ``msgmerge`` does: a
new piece gets an empty entry, a piece whose English changed keeps its old translation
marked fuzzy (with the English it translated, ``#| msgid``), a piece that is gone is
dropped. :func:`problems` lists what a release cannot use: an entry missing, fuzzy or
left from English that changed without an update, and translations that break a rule
(:mod:`course_utils.translation.rules`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, unescape, write_po

from course_utils.language import TRANSLATED
from course_utils.lesson_files import REPO_ROOT
from course_utils.translation.pieces import (
    COMMENT,
    MARKDOWN,
    MESSAGE,
    STRING,
    Piece,
    code_pieces,
    markdown_pieces,
)

TRANSLATIONS = REPO_ROOT / "translations"
"""The catalogs: ``translations/<lang>/...po`` and each language's glossary."""

LANGUAGES = {code: (language.locale, language.name) for code, language in TRANSLATED.items()}
"""Each language a release writes (:data:`course_utils.language.TRANSLATED`): its code in
file names and ``--lang``, its locale in the catalogs' headers, its name in English."""

_KIND_NOTES = {
    MARKDOWN: "markdown",
    COMMENT: "a comment in code",
    MESSAGE: "a message of the course's code: keep its {fields}",
    STRING: "a string in code, between {opening} and {closing}: keep its {{fields}} and "
    "escapes such as \\n",
}


@dataclass(frozen=True)
class Entry:
    """One piece of English to translate: ``text`` in ``context`` (a notebook cell's id,
    or None), of ``kind``, at ``location`` (``path:number``)."""

    text: str
    kind: str
    context: str | None
    location: str
    opening: str = ""  # a string's prefix and opening quote


def notebook_entries(notebook: nbformat.NotebookNode, name: str) -> Iterator[Entry]:
    """The entries of a student notebook ``name`` (``lessons/NN_topic.ipynb``): each
    translatable piece of each cell, in order, context the cell's id."""
    for number, cell in enumerate(notebook.cells, start=1):
        for piece in cell_pieces(cell):
            if piece.kind:
                yield Entry(piece.text, piece.kind, cell.id, f"{name}:{number}", piece.opening)


def cell_pieces(cell: nbformat.NotebookNode) -> list[Piece]:
    """A cell cut into pieces: a markdown cell into blocks, a code cell around its text."""
    if cell.cell_type == "markdown":
        return markdown_pieces(cell.source)
    if cell.cell_type == "code":
        return code_pieces(cell.source)
    return [Piece(cell.source)]


def markdown_entries(text: str, name: str) -> Iterator[Entry]:
    """The entries of a markdown file ``name``: one per block, without context."""
    line = 1
    for piece in markdown_pieces(text):
        if piece.kind:
            yield Entry(piece.text, piece.kind, None, f"{name}:{line}")
        line += piece.text.count("\n")


def template(entries: Iterator[Entry], language: str) -> Catalog:
    """A catalog of ``entries`` with no translations (what ``xgettext`` makes)."""
    catalog = Catalog(locale=LANGUAGES[language][0], fuzzy=False)
    for entry in entries:
        path, _, number = entry.location.rpartition(":")
        known = catalog.get(entry.text, entry.context)
        if known is not None:
            known.locations.append((path, int(number)))
            continue
        catalog.add(
            entry.text,
            "",
            locations=[(path, int(number))],
            auto_comments=[_note(entry)],
            context=entry.context,
        )
    return catalog


def _note(entry: Entry) -> str:
    if entry.kind != STRING:
        return _KIND_NOTES[entry.kind]
    closing = entry.opening.lstrip("rRbBuUfF")
    return _KIND_NOTES[STRING].format(opening=entry.opening, closing=closing)


def read_catalog(path: Path, language: str) -> Catalog:
    """The catalog in ``path``; an empty one when there is no such file."""
    if not path.exists():
        return Catalog(locale=LANGUAGES[language][0], fuzzy=False)
    with path.open("rb") as file:
        catalog = read_po(file, locale=LANGUAGES[language][0], abort_invalid=True)
    for message in catalog:
        _read_previous(message)
    return catalog


_PREVIOUS_ID = re.compile(r'msgid\s+((?:"(?:[^"\\]|\\.)*"\s*)+)')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _read_previous(message) -> None:
    """Babel reads ``#| msgid "..."`` (the English a fuzzy entry translated) as a comment
    and would write it back as one, forever: make it the message's ``previous_id`` again,
    or drop it from an entry that is no longer fuzzy."""
    previous = [c for c in message.user_comments if c.lstrip().startswith("|")]
    if not previous:
        return
    message.user_comments = [c for c in message.user_comments if c not in previous]
    text = " ".join(c.lstrip()[1:] for c in previous)
    match = _PREVIOUS_ID.search(text)
    if message.fuzzy and match:
        english = "".join(unescape(f'"{part}"') for part in _QUOTED.findall(match[1]))
        message.previous_id = [english]  # Babel's form: a list of the id (and its plural)
    else:
        message.previous_id = ()


def catalog_text(catalog: Catalog, language: str, source: str) -> str:
    """The PO file of ``catalog`` for the English ``source``: a fixed header (so that an
    update that changes no entry changes no byte), then the entries in the source's order,
    each with the English it translated before it became fuzzy."""
    for message in catalog:
        message.flags.discard("python-format")  # Babel's guess from a "%" in the English
        if not message.fuzzy:
            message.previous_id = ()  # the English it once translated: revised since
    buffer = io.BytesIO()
    write_po(buffer, catalog, omit_header=True, ignore_obsolete=True, include_previous=True)
    locale, name = LANGUAGES[language]
    header = (
        f"# {name} translation of {source}, from the keras-course source.\n"
        "# Update it with `make translations` after changing the English; see CONTRIBUTING.md.\n"
        'msgid ""\n'
        'msgstr ""\n'
        f'"Language: {locale}\\n"\n'
        '"MIME-Version: 1.0\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Content-Transfer-Encoding: 8bit\\n"\n'
    )
    body = buffer.getvalue().decode("utf-8").lstrip("\n")
    return header + "\n" + body


def updated(current: Catalog, fresh: Catalog) -> Catalog:
    """``current`` brought up to date with the template ``fresh`` (see the module)."""
    previous = {(m.context, m.id): m.previous_id for m in current if m.previous_id}
    current.update(fresh, update_creation_date=False)
    for message in current:  # Babel keeps a fuzzy entry, not the English it translated
        if message.fuzzy and not message.previous_id:
            message.previous_id = previous.get((message.context, message.id), ())
    return current


def relative(path: Path) -> str:
    """``path`` as the repository names it."""
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
