"""What a translation must keep of its English, and the glossary's terms.

- Code stays code: every ``code span`` and every link target of the English is in the
  translation as it is (Keras and Python names stay in English).
- A string from a code cell stays a string literal that parses, with the same
  ``{fields}`` when it is an f-string.
- A term of the language's glossary (``translations/<lang>/glossary.tsv``) in the English
  prose is translated as the glossary says.
"""

from __future__ import annotations

import ast
import csv
import re
import string
from dataclasses import dataclass
from pathlib import Path

from course_utils.translation.pieces import MESSAGE, STRING, string_literal

CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
FIELD = re.compile(r"\{[^{}]*\}")  # an f-string's {field}
CODE_LIKE = re.compile(r"\w+(?=\s*=)|[\w.]+(?=\()|\w*\.\w+|'[^'\s]*'")
"""Code in a message or a string, which has no backticks: ``activation='relu'``,
``Dense(``, ``model.fit``, ``'layers'``."""


@dataclass(frozen=True)
class Term:
    """A glossary row: English forms (``english``, a regular expression matched as whole
    words, case ignored) and the translations any of which the text must use."""

    english: re.Pattern
    translations: tuple[str, ...]
    shown: str  # the English as the glossary writes it

    def applies(self, english_prose: str) -> bool:
        return bool(self.english.search(english_prose))

    def kept(self, translation: str) -> bool:
        return any(word in translation for word in self.translations)


def read_glossary(path: Path) -> list[Term]:
    """The terms of a glossary file: a tab-separated table with the columns ``english``
    (forms separated by ``|``, e.g. ``axis|axes``), ``translation`` (the term; forms it
    may also take separated by ``|``) and ``note``."""
    terms = []
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file, delimiter="\t"):
            forms = [re.escape(form.strip()) for form in row["english"].split("|")]
            pattern = re.compile(r"\b(" + "|".join(forms) + r")\b", re.IGNORECASE)
            translations = tuple(t.strip() for t in row["translation"].split("|"))
            terms.append(Term(pattern, translations, row["english"]))
    return terms


def prose(text: str) -> str:
    """``text`` without its code spans and link targets."""
    return LINK_TARGET.sub("]", CODE_SPAN.sub(" ", text))


def broken_rules(
    english: str, translation: str, kind: str, glossary: list[Term], opening: str = ""
) -> list[str]:
    """What ``translation`` of ``english`` (a piece of ``kind``; for a string, the
    literal's ``opening``) breaks, one phrase each (empty when it keeps every rule)."""
    broken = []
    for span in dict.fromkeys(match.group(0) for match in CODE_SPAN.finditer(english)):
        if span not in translation:
            broken.append(f"it lacks the code {span}")
    for target in dict.fromkeys(LINK_TARGET.findall(english)):
        if f"]({target})" not in translation:
            broken.append(f"it lacks the link to {target}")
    if kind == STRING:
        broken += _literal_problems(english, translation, opening)
    if kind == MESSAGE:
        broken += _format_problems(english, translation)
    english_prose = prose(english)
    if kind in (STRING, MESSAGE):
        english_prose = CODE_LIKE.sub(" ", FIELD.sub(" ", english_prose))
    for term in glossary:
        if term.applies(english_prose) and not term.kept(translation):
            broken.append(
                f"the glossary translates {term.shown!r} as {' or '.join(term.translations)}"
            )
    return broken


def _literal_problems(english: str, translation: str, opening: str) -> list[str]:
    try:
        after = ast.parse(string_literal(translation, opening), mode="eval").body
    except SyntaxError as error:
        return [f"between the quotes {opening}...{opening[-1]} it does not parse ({error.msg})"]
    before = ast.parse(string_literal(english, opening), mode="eval").body
    if _fields(before) != _fields(after):
        return [f"its {{fields}} are not the English's: {', '.join(_fields(before))}"]
    return []


def _format_problems(english: str, translation: str) -> list[str]:
    """A message's ``{fields}`` (``str.format``'s: name, conversion and format) must be the
    English's; an English that is no format string (a static message) is not checked."""
    try:
        before = _format_fields(english)
    except ValueError:
        return []
    try:
        after = _format_fields(translation)
    except ValueError as error:
        return [f"it is no format string ({error})"]
    if before != after:
        return [f"its {{fields}} are not the English's: {', '.join(before) or 'none'}"]
    return []


def _format_fields(text: str) -> list[str]:
    fields = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            fields.append(
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
    return sorted(fields)


def _fields(node: ast.AST) -> list[str]:
    return sorted(
        ast.unparse(value) for value in ast.walk(node) if isinstance(value, ast.FormattedValue)
    )
