"""The batch grader tells a learner what the notebook told them: for one mistake per lesson
whose cell raises, the check's report in the learner's kernel and the batch's report
(``result.json``, ``feedback.html`` and the executed notebook in the results) have the same
items, word for word, explanations included. A cell stopped at the grader's cell timeout
is named as such in the status, the reasons and the check's items."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course_utils.lesson_files import LESSONS
from graders.report import STRICT_ENV_VAR, Report
from tests.batch_grader import grade_command, solution_sources, student_notebook_with

pytestmark = pytest.mark.sandbox


@dataclass(frozen=True)
class Mistake:
    """A submission of lesson ``notebook``: the student notebook with ``solved`` cells
    (grade ids) given the solution's source and ``wrong`` cells given a source that
    raises. The check must say ``described`` (what raised) and ``explained`` (a phrase
    of the explanation)."""

    notebook: str
    wrong: dict[str, str]
    explained: str
    solved: tuple[str, ...] = ()
    described: str = "your cell that sets"

    @property
    def lesson(self) -> str:
        return self.notebook[:2]

    def submission(self) -> nbformat.NotebookNode:
        solutions = solution_sources(self.notebook)
        sources = {grade_id: solutions[grade_id] for grade_id in self.solved}
        return student_notebook_with(self.notebook, {**sources, **self.wrong})


FLATTEN_THEN_CONV = """model = None
model = keras.Sequential(
    [
        keras.Input(shape=(32, 32, 3)),
        layers.Flatten(),
        layers.{layer},
        layers.Dense(5, activation="softmax"),
    ]
)
"""

POOLING_THEN_FLATTEN = (
    '    X = layers.AveragePooling2D((2, 2), name="avg_pool")(X)\n    X = layers.Flatten()(X)\n'
)
FLATTEN_BEFORE_POOLING = solution_sources("07_resnet50.ipynb")["ex3-assemble"].replace(
    POOLING_THEN_FLATTEN, "".join(reversed(POOLING_THEN_FLATTEN.splitlines(keepends=True)))
)

MISTAKES = [
    Mistake(
        "00_tensors_and_shapes.ipynb",
        {
            "ex1-convert": (
                "def to_channels_first(images):\n    return np.transpose(images, (0, 3, 1))"
            )
        },
        "axes don't match array",
        described="calling to_channels_first(a batch of shape (2, 3, 4, 5)) raised ValueError",
    ),
    Mistake(
        "01_sequential_basics.ipynb",
        {
            "ex1-train": (
                "history = None\n"
                'model.compile(optimizer="adam", loss="categorical_crossentropy", '
                'metrics=["accuracy"])\n'
                "history = model.fit(x_train_scaled, y_train, epochs=3, validation_split=0.2)"
            )
        },
        "The labels are integers, one class number per image",
        solved=("ex1-build",),
    ),
    Mistake(
        "02_convolutions.ipynb",
        {"ex1-build": FLATTEN_THEN_CONV.format(layer='Conv2D(32, (3, 3), activation="relu")')},
        "a Conv2D or pooling layer must come before Flatten",
    ),
    Mistake(
        "03_pooling.ipynb",
        {"ex1-build": FLATTEN_THEN_CONV.format(layer="MaxPooling2D((2, 2))")},
        "a Conv2D or pooling layer must come before Flatten",
    ),
    Mistake(
        "04_dropout.ipynb",
        {"ex1-build": FLATTEN_THEN_CONV.format(layer="Dropout(1.5)")},
        "Read the error under that cell, fix the code",
    ),
    Mistake(
        "05_testing.ipynb",
        {"ex1-build": FLATTEN_THEN_CONV.format(layer='Conv2D(32, (3, 3), activation="rleu")')},
        "Read the error under that cell, fix the code",
    ),
    Mistake(
        "06_happy_model.ipynb",
        {
            "ex1-train": (
                "history = None\n"
                'model.compile(optimizer="adam", loss="binary_crossentropy", '
                'metrics=["accuracy"])\n'
                "history = model.fit(x_train_scaled, keras.utils.to_categorical(y_train, 2), "
                "epochs=20, batch_size=16)"
            )
        },
        "The model ends in one sigmoid unit, but the labels have 2 columns",
        solved=("ex1-build",),
    ),
    Mistake(
        "07_resnet50.ipynb",
        {"ex3-assemble": FLATTEN_BEFORE_POOLING},
        "Layer 'avg_pool' works on images",
        solved=("ex1-identity", "ex2-convolutional"),
    ),
    Mistake(
        "08_mnist_mlp_vs_cnn.ipynb",
        {
            "ex2-train": (
                "convnet_history = None\n"
                'convnet.compile(optimizer="adam", loss="sparse_categorical_crossentropy", '
                'metrics=["accuracy"])\n'
                "convnet_history = convnet.fit(x_train_flat, y_train, epochs=2, batch_size=128)"
            )
        },
        "reshape the data for this model, x.reshape(-1, 28, 28, 1)",
        solved=("ex2-build",),
    ),
    Mistake(
        "09_whole_workflow.ipynb",
        {
            "ex1-build": (
                "model = None\nmodel = dense_network('softmax')\n"
                "model.compile('adam', 'sparse_categorical_crossentropy', ['accuracy'])"
            )
        },
        "the third positional argument of compile is loss_weights",
        solved=("ex1-train",),
    ),
    Mistake(
        "10_augmentation.ipynb",
        {
            "ex1-build": (
                "augmentation = None\naugmentation = keras.Sequential("
                "[layers.RandomRotation(18)], name='augmentation')"
            )
        },
        "RandomRotation's factor is a fraction of a full turn",
    ),
]


SLEEPER_CELL_TIMEOUT = 30
"""The cell timeout of the sleeper's batch: room for lesson 01's other cells on a loaded
machine; its training cell sleeps far longer."""


def _sleeping_fit() -> nbformat.NotebookNode:
    """Lesson 01 solved, with a training cell that sleeps for an hour before it trains."""
    solutions = solution_sources("01_sequential_basics.ipynb")
    train = solutions["ex1-train"].replace(
        "history = None\n", "history = None\nimport time\n\ntime.sleep(3600)\n", 1
    )
    return student_notebook_with(
        "01_sequential_basics.ipynb", {"ex1-build": solutions["ex1-build"], "ex1-train": train}
    )


def _executed_in_the_learners_kernel(notebook: Path) -> None:
    """Run ``notebook`` in place in the learner's kernel, as Run All does, errors and
    all, from its own folder; its checks report, as for a learner (not in strict mode)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "execute",
            "--inplace",
            "--allow-errors",
            "--kernel_name=python3",
            "--timeout=600",
            str(notebook),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={name: value for name, value in os.environ.items() if name != STRICT_ENV_VAR},
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _graded_by_the_batch(lesson: str, submissions: Path, out: Path, *options: str) -> None:
    done = subprocess.run(
        [*grade_command(lesson, jobs=2), str(submissions), "--out", str(out), *options],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _until_last_graded(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` without the cells after its last graded one (the batch runs none)."""
    graded = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.metadata.get("nbgrader", {}).get("grade")
    ]
    notebook.cells = notebook.cells[: graded[-1] + 1]
    return notebook


def _reports_shown(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The text each graded cell of an executed notebook shows (its report), by grade id."""
    shown = {}
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader", {})
        if metadata.get("grade"):
            texts = [o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])]
            shown[metadata["grade_id"]] = "\n".join(text for text in texts if text)
    return shown


@pytest.fixture(scope="module")
def graded_both_ways(tmp_path_factory):
    """Each mistake run in the learner's kernel and graded by the batch (two at a time):
    mistake -> (the executed notebook, the batch's results folder)."""
    root = tmp_path_factory.mktemp("parity")
    (root / "images").symlink_to(LESSONS / "images")
    tasks = []
    for mistake in MISTAKES:
        submission = _until_last_graded(mistake.submission())
        notebook = root / f"{mistake.lesson}.ipynb"
        nbformat.write(submission, notebook)
        submissions = root / f"submissions-{mistake.lesson}"
        submissions.mkdir()
        nbformat.write(submission, submissions / "learner.ipynb")
        tasks.append(lambda n=notebook: _executed_in_the_learners_kernel(n))
        tasks.append(
            lambda m=mistake, s=submissions: _graded_by_the_batch(m.lesson, s, root / m.lesson)
        )
    sleeper = root / "submissions-sleeper"
    sleeper.mkdir()
    nbformat.write(_sleeping_fit(), sleeper / "sleeper.ipynb")
    cell_timeout = ("--cell-timeout", str(SLEEPER_CELL_TIMEOUT))
    tasks.append(lambda: _graded_by_the_batch("01", sleeper, root / "sleeper", *cell_timeout))
    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()
    graded = {
        mistake.lesson: (
            nbformat.read(root / f"{mistake.lesson}.ipynb", as_version=4),
            root / mistake.lesson / "submissions" / "learner",
        )
        for mistake in MISTAKES
    }
    return graded, root / "sleeper" / "submissions" / "sleeper"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.lesson for m in MISTAKES])
def test_the_batch_says_what_the_notebook_says_when_a_cell_raises(graded_both_ways, mistake):
    """Does every graded cell give the same report, item for item and word for word, in
    the learner's kernel and in the batch's result.json, feedback.html and executed
    notebook, with the explanation of the error that the learner's cell raised?"""
    executed, folder = graded_both_ways[0][mistake.lesson]
    in_the_notebook = _reports_shown(executed)
    result = json.loads((folder / "result.json").read_text())
    feedback = (folder / "feedback.html").read_text()
    in_the_results = _reports_shown(nbformat.read(folder / "executed.ipynb", as_version=4))
    assert sorted(in_the_notebook) == sorted(result["exercises"]), result["exercises"]
    for grade_id, shown in in_the_notebook.items():
        exercise = result["exercises"][grade_id]
        batch = Report.from_dict({"title": exercise["title"], "results": exercise["items"]})
        assert str(batch) == shown, (grade_id, str(batch), shown)
        assert in_the_results[grade_id] == shown
        assert batch._repr_html_() in feedback
    text = "\n".join(in_the_notebook.values())
    assert mistake.described in text and mistake.explained in text, text


def test_a_cell_stopped_at_the_cell_timeout_is_named_in_the_status_reasons_and_items(
    graded_both_ways,
):
    """When the training cell runs past the cell timeout (it sleeps, whatever the
    machine's speed), does the result say so: status "cell timed out", a first reason naming
    the cell, history's items saying that its cell ran too long and was stopped (not "still
    None"), the same in feedback.html, and an error under that cell in the executed
    notebook? The model, built before, keeps its points."""
    _, folder = graded_both_ways
    result = json.loads((folder / "result.json").read_text())
    assert result["status"] == "cell timed out", result
    stopped = f"ran longer than {SLEEPER_CELL_TIMEOUT} s and was stopped"
    assert result["reasons"][0] == f"the cell starting 'history = None' {stopped}", result
    items = result["exercises"]["ex1-check"]["items"]
    failed = [item for item in items if item["status"] != "passed"]
    assert failed and all("history" in item["message"] for item in failed), items
    first = failed[0]
    assert first["message"] == f"your cell that sets history {stopped}", first
    assert f"stops every cell after {SLEEPER_CELL_TIMEOUT} s" in first["hint"], first
    assert all(item["message"] != "history is still None" for item in items)
    assert html.escape(first["message"]) in (folder / "feedback.html").read_text()
    assert any(item["status"] == "passed" for item in items), items
    executed = nbformat.read(folder / "executed.ipynb", as_version=4)
    train = next(c for c in executed.cells if c.source.startswith("history = None"))
    assert [o["output_type"] for o in train.outputs if o["output_type"] == "error"] == ["error"]
