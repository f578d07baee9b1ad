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
from dataclasses import dataclass
from pathlib import Path

from course_utils.translation.pieces import STRING, string_literal

CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
FIELD = re.compile(r"\{[^{}]*\}")  # an f-string's {field}


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
    english_prose = prose(english)
    if kind == STRING:
        english_prose = FIELD.sub(" ", english_prose)
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


def _fields(node: ast.AST) -> list[str]:
    return sorted(
        ast.unparse(value) for value in ast.walk(node) if isinstance(value, ast.FormattedValue)
    )
