"""Tests of the translations: cutting sources into pieces, the catalogs' life cycle (new,
translated, stale, fuzzy, gone), the rules a translation keeps, and the committed
translated lessons."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from course_utils.lesson_files import LESSONS, REPO_ROOT, lesson_heading, lesson_paths
from course_utils.translation import LANGUAGES
from course_utils.translation.catalogs import read_catalog
from course_utils.translation.documents import (
    Document,
    problems,
    translated,
    updated_catalog_text,
)
from course_utils.translation.pieces import (
    COMMENT,
    MARKDOWN,
    MESSAGE,
    STRING,
    Piece,
    code_pieces,
    join,
    markdown_pieces,
)
from course_utils.translation.rules import Term, broken_rules, prose, read_glossary

pytestmark = pytest.mark.unit

TERMS = [Term(re.compile(r"\b(pooling)\b", re.IGNORECASE), ("池化",), "pooling")]


def _kinds(pieces: list[Piece]) -> list[tuple[str, str]]:
    return [(piece.kind, piece.text) for piece in pieces if piece.kind]


def test_markdown_is_cut_into_blocks_and_fenced_code_is_kept():
    """Is each heading, paragraph, list and table one piece, a fenced code block (blank
    lines and all) none, and does joining give the text back?"""
    text = (
        "# 03 · Pooling\n\nA paragraph\non two lines.\n\n- one\n- two\n\n"
        "```python\nx = 1\n\ny = 2\n```\n\n| a | b |\n|---|---|\n"
    )
    pieces = markdown_pieces(text)
    assert join(pieces) == text
    assert _kinds(pieces) == [
        (MARKDOWN, "# 03 · Pooling"),
        (MARKDOWN, "A paragraph\non two lines."),
        (MARKDOWN, "- one\n- two"),
        (MARKDOWN, "| a | b |\n|---|---|"),
    ]


def test_code_gives_its_comments_and_the_strings_a_learner_reads_and_no_code():
    """Are comments with words, and strings with words, pieces, but not the solution
    markers, a pragma, a string given by keyword, one compared with something, or code?"""
    source = (
        "# Scale the pixels to 0..1\n"
        "x = x / 255.0  # noqa: E501 keep this line long\n"
        "model = None\n"
        "# YOUR CODE HERE\n"
        'print("same as by hand:", f"{accuracy:.1%} of the test set")\n'
        'dataset_browser(x, y, names, show="mistakes only")\n'
        'found = next(line for line in lines if "expected axis" in line)\n'
        'compile(optimizer="adam")\n'
    )
    pieces = code_pieces(source)
    assert join(pieces) == source
    assert _kinds(pieces) == [
        (COMMENT, "Scale the pixels to 0..1"),
        (STRING, "same as by hand:"),
        (STRING, "{accuracy:.1%} of the test set"),
    ]
    assert [p.opening for p in pieces if p.kind == STRING] == ['"', 'f"']


@pytest.mark.parametrize(
    ("source", "pieces"),
    [
        # a string inside an f-string's field is its own token from Python 3.12 on
        ("""print(f"{'model':8s} {'test accuracy':>14s} and more words")\n""", 1),
        # ast counts a column in UTF-8 bytes, tokenize in characters
        ('print("18° turn"); dataset_browser(x, show="mistakes only")\n', 0),
        # a line break that str.splitlines sees and tokenize does not
        ('x = "line one\u2028same string with words"\nprint("other words here")\n', 2),
    ],
)
def test_code_with_nested_strings_wide_characters_and_odd_line_breaks_is_cut_right(source, pieces):
    cut = code_pieces(source)
    assert join(cut) == source
    assert len([piece for piece in cut if piece.kind]) == pieces, cut


def test_a_translation_replaces_only_its_pieces_and_the_code_still_parses():
    source = 'def f():\n    """Return the number of pooled maps."""\n    print(\'done with it\')\n'
    translations = {
        "Return the number of pooled maps.": "返回池化后的特征图个数。",
        "done with it": "完成",
    }
    result = join(code_pieces(source), lambda piece: translations.get(piece.text))
    assert result == 'def f():\n    """返回池化后的特征图个数。"""\n    print(\'完成\')\n'
    ast.parse(result)


def _notebook(*sources: str) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[new_markdown_cell(source) for source in sources])
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell{number}"
    return notebook


def _document(tmp_path: Path) -> Document:
    return Document(
        tmp_path / "lessons" / "99_demo.ipynb",
        tmp_path / "zh" / "99_demo.po",
        tmp_path / "lessons" / "zh" / "99_demo.ipynb",
        "zh",
    )


def _update(document: Document, english) -> None:
    document.catalog.parent.mkdir(parents=True, exist_ok=True)
    document.catalog.write_text(updated_catalog_text(document, english), "utf-8")


def _translate(document: Document, translations: dict[str, str]) -> None:
    from course_utils.translation.catalogs import catalog_text

    catalog = read_catalog(document.catalog, "zh")
    for message in catalog:
        if message.id in translations:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
    document.catalog.write_text(catalog_text(catalog, "zh", "lessons/99_demo.ipynb"), "utf-8")


def test_a_catalog_lives_through_new_translated_changed_updated_and_removed_english(tmp_path):
    """New English is missing; translated, it is used and nothing is reported; English
    changed without an update is reported as changed and stays English; after the update
    the old translation is fuzzy beside the English it translated; a removed cell's entry
    is reported until the update drops it."""
    document = _document(tmp_path)
    english = _notebook("## Pooling", "Max pooling keeps the largest value.")
    _update(document, english)
    assert [line.split(": ")[-1] for line in problems(document, english, TERMS)] == [
        "it has no translation",
        "it has no translation",
        "run `make translations`, translate its empty and fuzzy entries, then `make release`",
    ]
    _translate(
        document,
        {"## Pooling": "## 池化", "Max pooling keeps the largest value.": "最大池化保留最大值。"},
    )
    assert problems(document, english, TERMS) == []
    assert [c.source for c in translated(document, english).cells] == [
        "## 池化",
        "最大池化保留最大值。",
    ]

    changed = _notebook("## Pooling", "Max pooling keeps the largest value of each window.")
    found = problems(document, changed, TERMS)
    assert "its English changed after it was translated" in found[0], found
    assert "'Max pooling keeps the largest value.': no longer in" in found[1], found
    assert translated(document, changed).cells[1].source == changed.cells[1].source

    _update(document, changed)
    text = document.catalog.read_text("utf-8")
    assert '#| msgid "Max pooling keeps the largest value."' in text and "#, fuzzy" in text
    _update(document, changed)  # Babel reads #| as a comment: nothing may pile up
    assert document.catalog.read_text("utf-8") == text
    assert "fuzzy (its English changed)" in problems(document, changed, TERMS)[0]
    assert translated(document, changed).cells[1].source == changed.cells[1].source

    revised = "最大池化保留每个窗口中的最大值。"
    _translate(document, {"Max pooling keeps the largest value of each window.": revised})
    assert "#|" not in document.catalog.read_text("utf-8")
    _update(document, changed)
    assert "#|" not in document.catalog.read_text("utf-8")
    assert translated(document, changed).cells[1].source == revised

    shorter = _notebook("## Pooling")
    assert "no longer in" in problems(document, shorter, TERMS)[0]
    _update(document, shorter)
    assert problems(document, shorter, TERMS) == []
    _update(document, shorter)
    assert document.catalog.read_text("utf-8").count("msgid") == 2  # header and one entry


def test_an_update_that_changes_no_entry_changes_no_byte(tmp_path):
    document = _document(tmp_path)
    english = _notebook("## Pooling")
    _update(document, english)
    first = document.catalog.read_bytes()
    _update(document, english)
    assert document.catalog.read_bytes() == first


@pytest.mark.parametrize(
    ("english", "translation", "kind", "opening", "broken"),
    [
        (
            "Call `model.fit` now.",
            "现在调用 model.fit。",
            MARKDOWN,
            "",
            "it lacks the code `model.fit`",
        ),
        (
            "See [lesson 02](02_convolutions.ipynb).",
            "见第 02 课。",
            MARKDOWN,
            "",
            "it lacks the link to 02_convolutions.ipynb",
        ),
        (
            "same as by hand:",
            '与手算"相同：',
            STRING,
            '"',
            'between the quotes "..." it does not parse',
        ),
        (
            "{accuracy:.1%} of the test set",
            "测试集的 {acc:.1%}",
            STRING,
            'f"',
            "its {fields} are not the English's: {accuracy:.1%}",
        ),
        (
            "Pooling halves the maps.",
            "汇聚使特征图减半。",
            MARKDOWN,
            "",
            "the glossary translates 'pooling' as 池化",
        ),
    ],
)
def test_a_translation_that_breaks_a_rule_says_which(english, translation, kind, opening, broken):
    found = broken_rules(english, translation, kind, TERMS, opening)
    assert len(found) == 1 and found[0].startswith(broken), found


def test_a_translation_that_keeps_the_rules_passes():
    assert (
        broken_rules("Pooling in `MaxPooling2D`.", "`MaxPooling2D` 中的池化。", MARKDOWN, TERMS)
        == []
    )
    assert broken_rules("{n} maps pooled", "池化了 {n} 张特征图", STRING, TERMS, 'f"') == []
    assert broken_rules("`pooling` stays code", "`pooling` 是代码", MARKDOWN, TERMS) == []


def test_the_glossary_reads_forms_and_alternatives():
    terms = read_glossary(REPO_ROOT / "translations" / "zh" / "glossary.tsv")
    by_name = {term.shown: term for term in terms}
    for english, chinese in [("tensor|tensors", "张量"), ("pooling", "池化"), ("dropout", "丢弃")]:
        assert chinese in by_name[english].translations
    epoch = by_name["epoch|epochs"]
    assert epoch.applies(prose("train for 3 epochs"))
    assert not epoch.applies(prose("pass `epochs=3` to `fit`"))  # code, not prose


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_a_translated_lesson_has_the_english_code_its_heading_and_its_pictures(language):
    """Is every translated lesson there, with the English lesson's cells, ids and code
    (every token but comments and strings), the same heading number, and a link to the
    pictures that its code reads by relative path?"""
    english_paths = lesson_paths(LESSONS)
    translated_paths = lesson_paths(LESSONS / language)
    assert [p.name for p in translated_paths] == [p.name for p in english_paths]
    for english_path, translated_path in zip(english_paths, translated_paths, strict=True):
        english = nbformat.read(english_path, as_version=4)
        other = nbformat.read(translated_path, as_version=4)
        assert lesson_heading(other)[0] == lesson_heading(english)[0]
        assert [(c.id, c.cell_type, c.metadata) for c in other.cells] == [
            (c.id, c.cell_type, c.metadata) for c in english.cells
        ]
        for cell, theirs in zip(english.cells, other.cells, strict=True):
            if cell.cell_type == "code":
                assert _code_tokens(theirs.source) == _code_tokens(cell.source), cell.id
    assert (LESSONS / language / "images").resolve() == (LESSONS / "images").resolve()


def _code_tokens(source: str) -> list[tuple[int, str]]:
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        name = tokenize.tok_name[token.type]
        if token.type in (tokenize.COMMENT, tokenize.STRING) or name.startswith("FSTRING"):
            continue
        kept.append((token.type, token.string))
    return kept


def test_every_english_source_is_cut_and_joined_back_unchanged():
    for path in lesson_paths(LESSONS):
        for cell in nbformat.read(path, as_version=4).cells:
            cut = markdown_pieces if cell.cell_type == "markdown" else code_pieces
            assert join(cut(cell.source)) == cell.source, (path.name, cell.id)
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    assert join(markdown_pieces(readme)) == readme


def test_messages_are_found_as_literals_or_module_constants_and_anything_else_is_named():
    from course_utils.translation.messages import message_entries, misplaced_calls

    source = (
        'LEAD = "{found}, a lead: {cause}"\n'
        "def f(x, name):\n"
        '    a = translate("expected {n} epochs", n=x)\n'
        "    b = translate(LEAD, found=1, cause=2)\n"
        '    c = translate(f"made {name}")\n'
        "    return text.translate(table)\n"
    )
    assert [(e.text, e.location) for e in message_entries(source, "m.py")] == [
        ("expected {n} epochs", "m.py:3"),
        ("{found}, a lead: {cause}", "m.py:4"),
    ]
    assert misplaced_calls(source, "m.py") == [
        "m.py:5: translate() needs its English as a string literal, found f'made {name}'"
    ]


def test_a_message_keeps_its_fields():
    assert broken_rules("found {n:,} layers", "找到 {n:,} 层", MESSAGE, []) == []
    assert broken_rules("found {n:,} layers", "找到 {n} 层", MESSAGE, []) == [
        "its {fields} are not the English's: {n:,}"
    ]


def test_a_string_two_cells_translate_differently_is_named(tmp_path):
    """A dict's key made in one cell and looked up in another must read the same."""
    from nbformat.v4 import new_code_cell

    document = _document(tmp_path)
    english = new_notebook(
        cells=[
            new_code_cell('shapes = {"a batch of images": (8, 32, 32, 3)}'),
            new_code_cell('print(shapes["a batch of images"])'),
        ]
    )
    for number, cell in enumerate(english.cells):
        cell.id = f"cell{number}"
    _update(document, english)
    catalog = read_catalog(document.catalog, "zh")
    for message, words in zip(list(catalog)[1:], ("一批图像", "一个批量的图像"), strict=True):
        message.string = words
    from course_utils.translation.catalogs import catalog_text

    document.catalog.write_text(catalog_text(catalog, "zh", "lessons/99_demo.ipynb"), "utf-8")
    found = problems(document, english, TERMS)
    assert "'a batch of images' is translated differently in" in found[0], found
    assert translated(document, english).cells[1].source == 'print(shapes["一个批量的图像"])'
