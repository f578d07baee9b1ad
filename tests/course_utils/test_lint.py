"""Tests of the notebook lint: the real lessons pass, and each template rule bites."""

from __future__ import annotations

import copy

import nbformat
import pytest

from course_utils.lint import OLD_SPELLING_TAG, lint_all, lint_notebook
from course_utils.student_notebooks import solution_paths

pytestmark = pytest.mark.unit


def test_every_solution_notebook_follows_the_template():
    """Does every lesson follow the template of CONTRIBUTING.md?"""
    assert lint_all() == []


def _mutated(tmp_path, change):
    path = next(p for p in solution_paths() if p.name.startswith("01_"))  # the rules' example
    notebook = copy.deepcopy(nbformat.read(path, as_version=4))
    change(notebook)
    target = tmp_path / path.name
    nbformat.write(notebook, target)
    return lint_notebook(target)


def _replace_in(cell_filter, old, new):
    def change(notebook):
        for cell in notebook.cells:
            if cell_filter(cell) and old in cell.source:
                cell.source = cell.source.replace(old, new)
                return
        raise AssertionError(f"{old!r} not found")

    return change


def _markdown(cell):
    return cell.cell_type == "markdown"


def _code(cell):
    return cell.cell_type == "code"


def _graded(cell):
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_replace_in(_markdown, "# 01 · ", "# "), "must start with '# NN · Title'"),
        (_replace_in(_markdown, "Estimated run time", "Time"), "estimated run time"),
        (_replace_in(_markdown, "## Summary", "## Recap"), "missing the heading '## Summary'"),
        (
            _replace_in(_markdown, "(10 points)", "(8 points)"),
            "worth 8 points but its graded cell gives 10",
        ),
        (
            _replace_in(_markdown, "## Exercise 1 (10 points)", "## Exercise one"),
            "must read '## Exercise N (P points)'",
        ),
        (_replace_in(_code, "\nprint_device_banner()", "\n"), "must call seed_everything"),
        (
            _replace_in(
                _code, 'optimizer="adam", loss', "optimizer=keras.optimizers.Adam(lr=0.001), loss"
            ),
            "learning_rate= instead of lr=",
        ),
        (
            _replace_in(
                _code,
                "keras.Input(shape=(32, 32, 3)),\n        layers.Flatten(),\n",
                "layers.Flatten(input_shape=(32, 32, 3)),\n",
            ),
            "keras.Input(shape=...) instead of input_shape=",
        ),
        (
            _replace_in(_code, "model.summary()", 'model.save("model.h5")\nmodel.summary()'),
            'model.save("model.keras") instead of an .h5 model file',
        ),
        (
            _replace_in(
                _code,
                "model.summary()",
                'keras.callbacks.CSVLogger("log.csv")\nmodel.summary()',
            ),
            "writes 'log.csv' beside the lessons; lessons write into their own folder, "
            "'saved/log.csv'",
        ),
        (
            _replace_in(
                _graded,
                "check_exercise_1(model, history)",
                "check_exercise_1(model, history)\ncheck_exercise_1(model, history)",
            ),
            "exactly one check_* call",
        ),
        (
            _replace_in(_code, "model.summary()", "import os\nmodel.summary()"),
            "every import belongs in the setup cell",
        ),
        (
            _replace_in(
                _markdown, "## Summary", "Older versions of this lesson used Theano.\n\n## Summary"
            ),
            "tells the history of the course ('Older versions of this lesson')",
        ),
    ],
    ids=[
        "title",
        "run time",
        "summary",
        "points",
        "exercise heading",
        "banner",
        "lr=",
        "input_shape=",
        ".h5 model",
        "a file beside the lessons",
        "two checks",
        "stray import",
        "history of the course",
    ],
)
def test_each_template_rule_is_enforced(tmp_path, change, expected):
    """Does breaking one template rule produce a lint problem that names it?"""
    problems = _mutated(tmp_path, change)
    assert any(expected in p for p in problems), problems


def test_data_files_and_parameters_named_like_keras_2_are_not_flagged(tmp_path):
    """Are an .h5 data file and a function parameter called input_shape left alone?"""
    problems = _mutated(
        tmp_path,
        _replace_in(
            _code,
            "model.summary()",
            "def build(input_shape=(32, 32, 3)):\n    return input_shape\n\n\n"
            'print(Path("train_happy.h5"), build(input_shape=(8, 8, 3)))\nmodel.summary()',
        ),
    )
    assert not any("Keras 2 spelling" in p for p in problems), problems


def test_learning_objectives_need_three_to_five_bullets(tmp_path):
    """Are 2 learning objectives too few?"""

    def change(notebook):
        cell = next(c for c in notebook.cells if "## Learning objectives" in c.source)
        lines = cell.source.splitlines()
        bullets = [i for i, line in enumerate(lines) if line.startswith("- ")]
        cell.source = "\n".join(line for i, line in enumerate(lines) if i not in bullets[2:])

    assert any("has 2 bullets, expected 3-5" in p for p in _mutated(tmp_path, change))


@pytest.mark.parametrize(
    ("old_line", "advice"),
    [
        (
            "try:\n    model.fit(x, y, nb_epoch=2)\nexcept TypeError as error:\n    print(error)",
            "uses Keras 2 spelling; use epochs= instead of nb_epoch=",
        ),
        (
            "try:\n    from keras.preprocessing.image import ImageDataGenerator\n"
            "except ImportError as error:\n    print(error)",
            "uses Keras 2 spelling; use preprocessing layers (layers.RandomRotation, ...)",
        ),
    ],
    ids=["nb_epoch", "ImageDataGenerator import"],
)
def test_an_old_line_is_allowed_only_in_a_cell_tagged_to_show_it(tmp_path, old_line, advice):
    """Is a Keras 2 line (a removed argument, an import of a removed class) flagged in an
    ordinary code cell, and left alone in a cell tagged keras-2-spelling, which runs it to
    show what Keras 3 does with it?"""

    def add_cell(tagged):
        def change(notebook):
            cell = nbformat.v4.new_code_cell(old_line)
            if tagged:
                cell.metadata["tags"] = [OLD_SPELLING_TAG]
            summary = next(i for i, c in enumerate(notebook.cells) if "## Summary" in c.source)
            notebook.cells.insert(summary, cell)

        return change

    untagged = _mutated(tmp_path, add_cell(tagged=False))
    assert any(advice in p for p in untagged), untagged
    tagged = _mutated(tmp_path, add_cell(tagged=True))
    assert not tagged, tagged
