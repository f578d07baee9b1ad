"""Checks for lesson 01 · Sequential basics."""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders import traffic_sign_models as tsm
from graders.architecture import LayerSpec
from graders.cell_errors import watch_cells
from graders.model_exercise import ModelExercise
from graders.report import Report

DATASET = "traffic_signs"  # what the lesson's models learn from and the grader tests them on

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · A dense classifier for traffic signs"),
    input_shape=(32, 32, 3),
    layers=[
        LayerSpec("Flatten", output_shape=(3072,)),
        LayerSpec("Dense", units=128, activation="relu", output_shape=(128,)),
        LayerSpec("Dense", units=5, activation="softmax", output_shape=(5,)),
    ],
    params=3072 * 128 + 128 + 128 * 5 + 5,  # 393,989
    hints={
        1: translate(
            "Start with keras.layers.Flatten() to turn each 32x32x3 image into 3072 numbers."
        ),
        2: translate("The hidden layer is Dense(128) followed by a ReLU activation."),
        3: tsm.HEAD_HINTS["output"],
    },
    min_epochs=3,
    train_threshold=0.50,
    dataset=DATASET,
    preprocessing_hint=tsm.PREPROCESSING_HINT,
    params_hint=translate(
        "Flatten has no parameters; Dense(128) on 3072 inputs has (3072 + 1) x 128 = "
        "{dense:,} and Dense(5) has (128 + 1) x 5 = {output}: check the sizes of the "
        "two Dense layers.",
        dense=3073 * 128,
        output=129 * 5,
    ),
    heldout_threshold=0.50,
)
EXERCISE_1_LAYERS = EXERCISE_1.layers


def check_exercise_1(model, history) -> Report:
    """Grade exercise 1: ``model`` is Flatten -> Dense(128) -> ReLU -> Dense(5) -> softmax
    on 32x32x3 input, and ``history`` (from ``model.fit``) shows at least 3 epochs with a
    final training accuracy above 0.50. Worth 10 points."""
    return EXERCISE_1.grade(model, history)


watch_cells(sys.modules[__name__])
