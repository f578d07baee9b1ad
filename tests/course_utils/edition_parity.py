"""Grade fixed answers to the exercises whose checks compare with a reference (lesson 00's
functions, lesson 07's blocks and ResNet50) and print the reports as JSON.

Run as a script in the repository (the references compute the expected outputs) and in a
student edition (its stored outputs stand in for them): the test compares the two. Usage:
``python edition_parity.py SOLUTIONS_FOLDER``. The right answers are the solution
notebooks' code; each wrong one is a learner's classic mistake.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import nbformat
import numpy as np

from graders import lesson00, lesson07

WRONG_LESSON00 = """
def to_channels_first(images):
    batch, height, width, channels = images.shape
    return images.reshape(batch, channels, height, width)

def steps_per_epoch(samples, batch_size):
    return samples // batch_size

def dense_parameters(layer_sizes):
    return sum((a + 1) * b for a, b in zip(layer_sizes, layer_sizes[1:])) + layer_sizes[0]
"""
FINAL_RELU = '    X = layers.Add()([X, X_shortcut])\n    X = layers.Activation("relu")(X)\n'


def _functions(source: str) -> dict:
    namespace = {"__name__": "learner", "np": np, "keras": keras, "layers": keras.layers}
    exec(source, namespace)  # noqa: S102 - the repository's own solution code
    return namespace


def _solution_code(path: Path, names: tuple[str, ...]) -> str:
    """The code cells of the solution notebook that define ``names``, without what they
    run after the definitions."""
    cells = nbformat.read(path, as_version=4).cells
    sources = [c.source for c in cells if c.cell_type == "code" and "def " in c.source]
    chosen = [s for s in sources if any(f"def {name}(" in s for name in names)]
    return "\n\n".join(source.split("\nmodel = None")[0] for source in chosen)


def main(solutions: Path) -> None:
    lesson00_code = _solution_code(solutions / "00_tensors_and_shapes.ipynb", lesson00_names())
    right00, wrong00 = _functions("import math\n" + lesson00_code), _functions(WRONG_LESSON00)
    reports = []
    for number, check in enumerate(
        (lesson00.check_exercise_1, lesson00.check_exercise_2, lesson00.check_exercise_3)
    ):
        name = list(lesson00.FUNCTION_CASES.values())[number].name
        reports += [check(right00[name]), check(wrong00[name])]
    code07 = _solution_code(
        solutions / "07_resnet50.ipynb", ("identity_block", "convolutional_block", "ResNet50")
    )
    right07 = _functions(code07)
    no_final_relu = _functions(
        code07.replace(FINAL_RELU, "    X = layers.Add()([X, X_shortcut])\n", 1)
    )
    training_ignored = _functions(code07.replace("X, training=training", "X"))
    for namespace in (right07, no_final_relu, training_ignored):
        reports.append(lesson07.check_exercise_1(namespace["identity_block"]))
        reports.append(lesson07.check_exercise_2(namespace["convolutional_block"]))
    default_momentum = _functions(code07.replace("momentum=0.9, ", ""))
    for namespace in (right07, no_final_relu, default_momentum):
        reports.append(lesson07.check_exercise_3(namespace["ResNet50"]()))
    print(json.dumps([report.to_dict() for report in reports]))


def lesson00_names() -> tuple[str, ...]:
    return tuple(case.name for case in lesson00.FUNCTION_CASES.values())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
