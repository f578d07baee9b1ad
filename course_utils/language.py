"""The learner's language, and the course's messages in it.

Every message a learner reads from the course's code (a check's report and hints, the
explanation of an error, a widget's label, a quiz's feedback) is written in English where
it is made, through :func:`translate`::

    translate("expected {expected} epochs, found {found}", expected=3, found=epochs)

which gives it in the learner's language (:func:`learner_language`) from the message
catalogs ``course_utils/locale/<lang>/<module>.po``, with its fields filled in. A message
without a translation stays English. The maintainers' side (which messages there are,
which catalog entries are missing or stale) is :mod:`course_utils.translation`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import FrameType

LANGUAGE_ENV_VAR = "KERAS_COURSE_LANG"
"""The learner's language: ``en`` or one of :data:`TRANSLATED`, set by ``./course lab --lang``
and by the batch grader's ``--lang``."""
SESSION_ENV_VAR = "JPY_SESSION_NAME"
"""Where Jupyter Server tells a kernel which notebook it runs (the notebook's path): a
kernel of ``.../zh/03_pooling.ipynb`` speaks Chinese unless told otherwise."""

SOURCE = "en"


@dataclass(frozen=True)
class Language:
    """A language the course is translated into: its ``locale``, as in the catalogs'
    headers, and its ``name`` in English."""

    locale: str
    name: str


TRANSLATED = {"zh": Language("zh_Hans", "Simplified Chinese")}
"""Each language the course is translated into (besides English), by its code, as in
``--lang`` and ``lessons/<code>/``."""

CATALOGS = Path(__file__).resolve().parent / "locale"


def learner_language() -> str:
    """``KERAS_COURSE_LANG`` when it names a language of the course; else the language
    folder of the notebook this kernel runs (``zh/...``), when it has one; else English."""
    chosen = os.environ.get(LANGUAGE_ENV_VAR, "").strip()
    if chosen:
        return chosen if chosen in TRANSLATED else SOURCE
    folder = PurePosixPath(os.environ.get(SESSION_ENV_VAR, "")).parent.name
    return folder if folder in TRANSLATED else SOURCE


def translate(english: str, /, **fields: object) -> str:
    """``english`` in the learner's language, then, when ``fields`` are given, formatted
    with them (``str.format``: a literal brace in such a message is written twice). The
    translation is the calling module's catalog's, else any catalog's (the same English in
    two modules may read differently: a report's "Check" column, a quiz's "Check" button);
    the English is returned as it is when none has it."""
    return _translated(learner_language(), english, sys._getframe(1), fields)


def listed(items: Iterable[str]) -> str:
    """``a, b and c`` in the learner's language (``items`` are already in it)."""
    items = list(items)
    if not items:
        return ""
    text = items[0]
    for item in items[1:-1]:
        text = translate("{list}, {item}", list=text, item=item)
    return text if len(items) == 1 else translate("{list} and {last}", list=text, last=items[-1])


def semicolons(items: Iterable[str]) -> str:
    """``a; b; c`` in the learner's language (``items`` are already in it)."""
    items = list(items)
    if not items:
        return ""
    text = items[0]
    for item in items[1:]:
        text = translate("{list}; {item}", list=text, item=item)
    return text


def translate_into(language: str, english: str, /, **fields: object) -> str:
    """:func:`translate` into ``language`` rather than the learner's: for a process that
    writes another's feedback (the batch grader, for its ``--lang``)."""
    return _translated(language, english, sys._getframe(1), fields)


def _translated(language: str, english: str, caller: FrameType, fields: dict[str, object]) -> str:
    """``english`` in ``language`` (the catalog of ``caller``'s module first), filled."""
    text = english
    if language != SOURCE:
        module = caller.f_globals.get("__name__", "")
        text = module_translations(language).get(module, {}).get(english)
        text = text or translations(language).get(english, english)
    if not fields:
        return text
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError):  # a translation that lost a field
        return english.format(**fields)


@functools.cache
def translations(language: str) -> dict[str, str]:
    """Every translated message of ``language``: English to translation, from all its
    catalogs (the first, by module name, where two translate the same English)."""
    found: dict[str, str] = {}
    for messages in module_translations(language).values():
        for english, translation in messages.items():
            found.setdefault(english, translation)
    return found


@functools.cache
def module_translations(language: str) -> dict[str, dict[str, str]]:
    """The translated messages of ``language`` by module (``graders.report``): English to
    translation, from ``locale/<language>/<module>.po`` (entries that are empty or marked
    fuzzy left out); none where Babel is missing (an environment older than the course's
    dependencies), which leaves every message English."""
    try:
        from babel.messages.pofile import read_po
    except ImportError:
        return {}

    found: dict[str, dict[str, str]] = {}
    for path in sorted((CATALOGS / language).glob("*.po")):
        with path.open("rb") as file:
            catalog = read_po(file, locale=TRANSLATED[language].locale)
        found[path.stem] = {
            message.id: message.string
            for message in catalog
            if message.id and message.string and not message.fuzzy
        }
    return found
