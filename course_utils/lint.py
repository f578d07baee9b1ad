"""Notebook lint: does a solution notebook follow the lesson template of CONTRIBUTING.md?

Checked per notebook: the title cell (``# NN · Title``, a description, an estimated CPU run
time), ``## Learning objectives`` with 3-5 bullets, ``## Setup`` followed by exactly one
code cell that seeds and prints the device banner, exercises headed ``## Exercise N (P
points)`` with at least one solution cell and exactly one graded cell worth P points that
makes one ``check_*`` call, ``## Summary`` then ``## Going further`` at the end, no Keras 2
spelling in code cells and no imports outside the setup cell (except in a cell tagged
``keras-2-spelling``, which runs an old line to show what Keras 3 does with it), and no
history of earlier versions of the course in learner text.

Usage: ``python -m course_utils.lint [NOTEBOOK ...]`` (default: every solution notebook).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from course_utils.lesson_files import SAVED_FOLDER, lesson_heading
from course_utils.student_notebooks import is_solution_cell, solution_paths

_EXERCISE = re.compile(r"^## Exercise (\d+) \((\d+) points?\)\s*$", re.MULTILINE)
_RUN_TIME = re.compile(r"run time[^\n]*\d+\s*(s|seconds?|min|minutes?)\b", re.IGNORECASE)
_OLD_KERAS = {
    # input_shape= on a layer; a function's own parameter of that name is fine.
    r"\b(layers|Sequential)\.?\w*\([^()]*\binput_shape\s*=": (
        "keras.Input(shape=...) instead of input_shape="
    ),
    r"\blr\s*=": "learning_rate= instead of lr=",
    r"\bnb_epoch\b": "epochs= instead of nb_epoch=",
    r"\bpredict_classes\b": "np.argmax(model.predict(x), axis=-1) instead of predict_classes",
    r"\bnp_utils\b": "keras.utils.to_categorical instead of keras.utils.np_utils",
    r"\bkeras\.layers\.core\b": "keras.layers instead of keras.layers.core",
    r"\bset_learning_phase\b": "the training= argument instead of K.set_learning_phase",
    r"\bscipy\.misc\.imread\b": "keras.utils.load_img instead of scipy.misc.imread",
    r"\bImageDataGenerator\b|\bfit_generator\b": (
        "preprocessing layers (layers.RandomRotation, ...) inside the model instead of "
        "ImageDataGenerator and fit_generator"
    ),
    r"\b(save|save_model|load_model)\(\s*[^)]*\.h5['\"]": (
        'model.save("model.keras") instead of an .h5 model file'
    ),
}

_WRITES_FILE = re.compile(
    r"\b(save|save_weights|ModelCheckpoint|CSVLogger|BackupAndRestore|savefig|to_csv|savez?)"
    r"\(\s*(['\"])([^'\"]*)\2"
)


# Learner text speaks to learners: what the lesson is, not what it or its data once was.
_HISTORY = re.compile(
    r"\b(older|earlier|previous|former|old) versions? of (this|the) "
    r"(lesson|course|dataset|notebook)"
    r"|\bthis (lesson|course|dataset|notebook) (used to|previously|formerly)\b",
    re.IGNORECASE,
)


OLD_SPELLING_TAG = "keras-2-spelling"
"""The tag of a code cell that runs an old Keras 2 line on purpose, to show what Keras 3
does with it (its error or warning); only there may old spellings appear."""


def _shows_old_spelling(cell) -> bool:
    return OLD_SPELLING_TAG in cell.metadata.get("tags", [])


def _headings(cell) -> list[str]:
    return [line for line in cell.source.splitlines() if line.startswith("## ")]


def lint_notebook(path: Path) -> list[str]:
    """Every template problem in the notebook at ``path``, one line each."""
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    problems: list[str] = []

    def problem(text: str) -> None:
        problems.append(f"{path.name}: {text}")

    if not cells or cells[0].cell_type != "markdown":
        return [f"{path.name}: the first cell must be the markdown title cell"]
    heading = lesson_heading(notebook)
    if heading is None:
        problem("the first cell must start with '# NN · Title'")
    elif heading[0] != path.name[:2]:
        problem(f"the title number {heading[0]} does not match the file name")
    if len([line for line in cells[0].source.splitlines() if line.strip()]) < 2:
        problem("the title cell needs a one-line description under the title")
    if not _RUN_TIME.search(cells[0].source):
        problem("the title cell must state the estimated run time on CPU")

    heading_cells = [
        (i, h) for i, c in enumerate(cells) if c.cell_type == "markdown" for h in _headings(c)
    ]
    order = [h for _, h in heading_cells]
    required = ["## Learning objectives", "## Setup", "## Summary", "## Going further"]
    for heading in required:
        if heading not in order:
            problem(f"missing the heading '{heading}'")
    if all(h in order for h in required):
        if order.index("## Learning objectives") > order.index("## Setup"):
            problem("'## Learning objectives' must come before '## Setup'")
        if order[-2:] != ["## Summary", "## Going further"]:
            problem("the last two headings must be '## Summary' then '## Going further'")

    for index, heading in heading_cells:
        if heading == "## Learning objectives":
            text = cells[index].source.split(heading, 1)[1].split("\n## ", 1)[0]
            bullets = [line for line in text.splitlines() if re.match(r"^\s*[-*] ", line)]
            if not 3 <= len(bullets) <= 5:
                problem(f"'## Learning objectives' has {len(bullets)} bullets, expected 3-5")
        if heading == "## Setup":
            following = cells[index + 1 : index + 3]
            if not following or following[0].cell_type != "code":
                problem("'## Setup' must be followed by its code cell")
            else:
                setup = following[0].source
                if "seed_everything(" not in setup or "print_device_banner()" not in setup:
                    problem(
                        "the setup cell must call seed_everything(...) and print_device_banner()"
                    )
                if len(following) > 1 and following[1].cell_type == "code":
                    problem("'## Setup' must have exactly one code cell")

    problems += _lint_exercises(path.name, cells, heading_cells)

    for index, cell in enumerate(cells):
        history = _HISTORY.search(cell.source)
        if history:
            problem(
                f"cell {index} tells the history of the course ({history.group(0)!r}); learner "
                "text says what is, see CONTRIBUTING.md"
            )
        if cell.cell_type != "code":
            continue
        for pattern, advice in _OLD_KERAS.items():
            if re.search(pattern, cell.source) and not _shows_old_spelling(cell):
                problem(f"cell {index} uses Keras 2 spelling; use {advice}")
        for written in _WRITES_FILE.finditer(cell.source):
            if not written.group(3).startswith(f"{SAVED_FOLDER}/"):
                problem(
                    f"cell {index} writes {written.group(3)!r} beside the lessons; lessons "
                    f"write into their own folder, {SAVED_FOLDER + '/' + written.group(3)!r}"
                )
        # A tagged cell may import what Keras 3 no longer has, to show the ImportError.
        if (
            re.search(r"^\s*(import|from)\s+\S", cell.source, re.MULTILINE)
            and index != _setup_index(heading_cells)
            and not _shows_old_spelling(cell)
        ):
            problem(f"cell {index} imports; every import belongs in the setup cell")
    return problems


def _setup_index(heading_cells: list[tuple[int, str]]) -> int | None:
    return next((i + 1 for i, h in heading_cells if h == "## Setup"), None)


def _lint_exercises(name: str, cells, heading_cells) -> list[str]:
    problems = []
    starts = [(i, h) for i, h in heading_cells if h.startswith("## Exercise")]
    if not starts:
        return [f"{name}: no '## Exercise N (P points)' section"]
    numbers = []
    for start, heading in starts:
        match = _EXERCISE.match(heading)
        if not match:
            problems.append(f"{name}: '{heading}' must read '## Exercise N (P points)'")
            continue
        number, points = int(match.group(1)), int(match.group(2))
        numbers.append(number)
        end = next((i for i, h in heading_cells if i > start and h.startswith("## ")), len(cells))
        section = cells[start + 1 : end]
        solutions = [c for c in section if c.cell_type == "code" and is_solution_cell(c)]
        graded = [c for c in section if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        if not solutions:
            problems.append(f"{name}: exercise {number} has no solution cell")
        if len(graded) != 1:
            problems.append(f"{name}: exercise {number} has {len(graded)} graded cells, expected 1")
            continue
        cell = graded[0]
        meta = cell.metadata["nbgrader"]
        if meta.get("points") != points:
            problems.append(
                f"{name}: exercise {number} is worth {points} points but its graded cell "
                f"gives {meta.get('points')}"
            )
        if not meta.get("locked"):
            problems.append(f"{name}: exercise {number}'s graded cell must be locked")
        calls = re.findall(r"\bcheck_\w+\(", cell.source)
        if len(calls) != 1:
            problems.append(
                f"{name}: exercise {number}'s graded cell must make exactly one check_* call"
            )
        previous = cells[cells.index(cell) - 1]
        if previous.cell_type != "code" or is_solution_cell(previous):
            problems.append(
                f"{name}: exercise {number} needs a visible sanity check (a code cell) right "
                "before its graded cell"
            )
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"{name}: exercises are numbered {numbers}, expected 1..{len(numbers)}")
    return problems


def lint_all(paths: list[Path] | None = None) -> list[str]:
    """Lint every solution notebook (or ``paths``)."""
    return [p for path in (paths or solution_paths()) for p in lint_notebook(Path(path))]


def main(argv: list[str] | None = None) -> int:
    """Print every problem of the notebooks named in ``argv`` (every lesson notebook when
    none is named) to stderr; returns 1 when there is one."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.lint",
        description="Check the lesson notebooks against the course's rules "
        "(CONTRIBUTING.md); exit status 1 when one breaks a rule.",
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="the notebooks to check (default: every lesson)"
    )
    problems = lint_all(parser.parse_args(argv).notebooks or None)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
