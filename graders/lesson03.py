"""Checks for lesson 03 · Pooling."""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders import traffic_sign_models as tsm
from graders.cell_errors import watch_cells
from graders.model_exercise import ModelExercise
from graders.report import Report

DATASET = "traffic_signs"  # what the lesson's models learn from and the grader tests them on

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · Add max pooling"),
    input_shape=tsm.INPUT_SHAPE,
    layers=tsm.POOL_LAYERS,
    equivalents=tsm.POOL_EQUIVALENTS,
    params=tsm.POOL_PARAMS,
    hints={
        1: tsm.CONV_HINT,
        2: translate(
            "Put MaxPooling2D((2, 2)) right after the convolution: it halves 30x30 to 15x15."
        ),
        3: translate(
            "Apply the ReLU after the pooling (or give the convolution activation='relu')."
        ),
        4: tsm.HEAD_HINTS["flatten"],
        5: tsm.HEAD_HINTS["dense"],
        6: tsm.HEAD_HINTS["output"],
    },
    min_epochs=3,
    train_threshold=0.50,
    dataset=DATASET,
    preprocessing_hint=tsm.PREPROCESSING_HINT,
    params_hint=tsm.POOL_PARAMS_HINT,
    heldout_threshold=0.50,
)


def check_exercise_1(model, history) -> Report:
    """Grade exercise 1: Conv2D(32, 3x3) -> MaxPooling2D(2x2) -> ReLU -> Flatten ->
    Dense(128) -> ReLU -> Dense(5) -> softmax (ReLU before or after the pooling), trained 3
    epochs to above 0.50 training accuracy. Worth 10 points."""
    return EXERCISE_1.grade(model, history)


watch_cells(sys.modules[__name__])
