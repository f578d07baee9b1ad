"""Checks for lesson 04 · Dropout."""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders import traffic_sign_models as tsm
from graders.cell_errors import watch_cells
from graders.model_exercise import ModelExercise
from graders.report import Report

DATASET = "traffic_signs"  # what the lesson's models learn from and the grader tests them on

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · Add dropout"),
    input_shape=tsm.INPUT_SHAPE,
    layers=tsm.DROPOUT_LAYERS,
    equivalents=tsm.DROPOUT_EQUIVALENTS,
    params=tsm.DROPOUT_PARAMS,
    hints={
        1: tsm.CONV_HINT,
        2: translate("MaxPooling2D((2, 2)) comes right after the convolution."),
        3: translate(
            "Dropout(0.5) comes right after the pooling. Keras's rate is the fraction of "
            "values dropped, not a keep probability."
        ),
        4: translate(
            "Apply the ReLU after the dropout (or give the convolution activation='relu')."
        ),
        5: tsm.HEAD_HINTS["flatten"],
        6: tsm.HEAD_HINTS["dense"],
        7: tsm.HEAD_HINTS["output"],
    },
    min_epochs=3,
    train_threshold=0.50,
    dataset=DATASET,
    preprocessing_hint=tsm.PREPROCESSING_HINT,
    params_hint=tsm.POOL_PARAMS_HINT,
    heldout_threshold=0.50,
)


def check_exercise_1(model, history) -> Report:
    """Grade exercise 1: Conv2D(32, 3x3) -> MaxPooling2D(2x2) -> Dropout(0.5) -> ReLU ->
    Flatten -> Dense(128) -> ReLU -> Dense(5) -> softmax, trained 3 epochs to above 0.50
    training accuracy. Worth 10 points."""
    return EXERCISE_1.grade(model, history)


watch_cells(sys.modules[__name__])
