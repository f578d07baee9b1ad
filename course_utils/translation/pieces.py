"""A source cut into pieces: the English a translator sees, and everything around it.

A markdown text (a notebook's markdown cell, ``README.md``) is cut into *blocks*, the text
between blank lines: a heading, a paragraph, a list, a table. Each is one piece to
translate; a fenced code block is not, and neither are the blank lines.

A code cell is cut around the text a learner reads in it, and nothing else of the code:

- a comment, after its ``#`` and spaces (not the solution markers, not ``noqa`` and the
  like);
- the body (what stands between the quotes, escapes as written) of a string literal with
  words in it (``"same as by hand:"``, a docstring, an f-string with its ``{fields}``),
  except a string given by keyword, which names an option (``show="mistakes only"``), and
  a string compared with something, which matches text from elsewhere.

Joining the pieces gives the source back; joining them with each translatable piece
replaced by its translation gives the translated source (:func:`join`).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MARKDOWN = "markdown"
COMMENT = "comment"
STRING = "string"
MESSAGE = "message"  # a message of the code (course_utils.translation.messages)

PROSE = re.compile(r"[A-Za-z]{2,}\s+\(?[A-Za-z]|\b[A-Za-z]\s+[A-Za-z]{2,}")
"""Two words with a space between (one of them longer than a letter, the second maybe in
brackets): a comment or a string with this in it is text to read. A string of one word
(``"relu"``, ``"samples"``) is not: it may name something in code."""

_NOT_TEXT_COMMENT = re.compile(
    r"^(#+ (BEGIN|END) SOLUTION|# YOUR CODE HERE|#.*\b(noqa|type:|pragma|fmt:))"
)
_FENCE = re.compile(r"^\s*(```|~~~)")
_STRING_START = re.compile(r"^(?P<prefix>[A-Za-z]*)(?P<quote>'''|\"\"\"|'|\")")


@dataclass(frozen=True)
class Piece:
    """``text`` of a source; ``kind`` is :data:`MARKDOWN`, :data:`COMMENT` or
    :data:`STRING` for a piece to translate, None for one kept as it is."""

    text: str
    kind: str | None = None
    opening: str = ""  # a string's prefix and opening quote, e.g. 'f"'


def join(pieces: list[Piece], replacement: Callable[[Piece], str | None] | None = None) -> str:
    """The source again; with ``replacement``, each translatable piece for which it returns
    a string is replaced by that string."""
    parts = []
    for piece in pieces:
        translated = replacement(piece) if replacement is not None and piece.kind else None
        parts.append(piece.text if translated is None else translated)
    return "".join(parts)


def markdown_pieces(text: str) -> list[Piece]:
    """``text`` (markdown) cut into its blocks (:data:`MARKDOWN` pieces), fenced code
    blocks and the blank lines between blocks (kept pieces)."""
    pieces: list[Piece] = []
    block: list[str] = []
    fenced = False

    def close() -> None:
        if block:
            content = "".join(block)
            body = content.rstrip("\n")
            kind = None if _FENCE.match(body) else MARKDOWN
            pieces.append(Piece(body, kind))
            if content != body:
                pieces.append(Piece(content[len(body) :]))
            block.clear()

    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            if not fenced:
                close()
            fenced = not fenced
            block.append(line)
            if not fenced:
                close()
        elif fenced or line.strip():
            block.append(line)
        else:
            close()
            pieces.append(Piece(line))
    close()
    return _merged(pieces)


def code_pieces(source: str) -> list[Piece]:
    """``source`` (a code cell's Python) cut around its comments (:data:`COMMENT`) and
    the bodies of its string literals with words in them (:data:`STRING`). A cell that
    does not parse (IPython magics) gives its comments only."""
    lines = _lines(source)
    offsets = _line_offsets(lines)
    spans: list[tuple[int, int, str, str]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return [Piece(source)]
    for token in tokens:
        if token.type == tokenize.COMMENT and not _NOT_TEXT_COMMENT.match(token.string):
            text = token.string.lstrip("#").lstrip()
            if PROSE.search(text):
                end = offsets[token.end[0] - 1] + token.end[1]
                spans.append((end - len(text), end, COMMENT, ""))
    for start, end, opening in _string_bodies(source, tokens, lines):
        if PROSE.search(source[start:end]):
            spans.append((start, end, STRING, opening))
    pieces, position = [], 0
    for start, end, kind, opening in sorted(spans):
        pieces += [Piece(source[position:start]), Piece(source[start:end], kind, opening)]
        position = end
    pieces.append(Piece(source[position:]))
    return _merged(pieces)


def string_literal(body: str, opening: str) -> str:
    """The literal that ``opening`` (a prefix and a quote, e.g. ``f"``) starts, with
    ``body`` between its quotes."""
    quote = _STRING_START.match(opening)["quote"]
    return f"{opening}{body}{quote}"


def _string_bodies(source: str, tokens: list, lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """The (start, end) offsets of the body of each string literal that is text to read,
    and its opening (prefix and quote)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    offsets = _line_offsets(lines)
    excluded: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        parts = []
        if isinstance(node, ast.keyword):
            parts = [node.value]
        elif isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
        for part in parts:
            excluded.append(_node_span(part, lines, offsets))
    literals = []
    depth = 0
    for token in tokens:
        name = tokenize.tok_name[token.type]
        start = offsets[token.start[0] - 1] + token.start[1]
        end = offsets[token.end[0] - 1] + token.end[1]
        if token.type == tokenize.STRING and depth == 0:  # not one inside an f-string's field
            literals.append((start, end))
        elif name == "FSTRING_START":  # Python 3.12 and later
            if depth == 0:
                literal_start = start
            depth += 1
        elif name == "FSTRING_END":
            depth -= 1
            if depth == 0:
                literals.append((literal_start, end))
    for start, end in literals:
        if any(low <= start and end <= high for low, high in excluded):
            continue
        match = _STRING_START.match(source[start:end])
        body_start = start + match.end()
        body_end = end - len(match["quote"])
        if body_end > body_start:
            yield body_start, body_end, source[start:body_start]


def _node_span(node: ast.AST, lines: list[str], offsets: list[int]) -> tuple[int, int]:
    """Where ``node`` is in the source, in characters (ast's columns count UTF-8 bytes)."""

    def at(line: int, column: int) -> int:
        return offsets[line - 1] + len(lines[line - 1].encode()[:column].decode())

    return at(node.lineno, node.col_offset), at(node.end_lineno, node.end_col_offset)


def _lines(source: str) -> list[str]:
    """The source's lines as tokenize reads them (split at ``\n`` only), ends kept."""
    return list(iter(io.StringIO(source).readline, "")) or [""]


def _line_offsets(lines: list[str]) -> list[int]:
    """The offset of each line's start (tokenize's columns count characters)."""
    offsets, total = [], 0
    for line in lines:
        offsets.append(total)
        total += len(line)
    offsets.append(total)
    return offsets


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Adjacent kept pieces joined, empty ones dropped."""
    merged: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if merged and piece.kind is None and merged[-1].kind is None:
            merged[-1] = Piece(merged[-1].text + piece.text)
        else:
            merged.append(piece)
    return merged
