"""Checks for lesson 02 · Convolutions."""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders import traffic_sign_models as tsm
from graders.cell_errors import watch_cells
from graders.model_exercise import ModelExercise
from graders.report import Report

DATASET = "traffic_signs"  # what the lesson's models learn from and the grader tests them on

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · Add a convolution"),
    input_shape=tsm.INPUT_SHAPE,
    layers=tsm.CONV_LAYERS,
    params=tsm.CONV_PARAMS,
    hints={
        1: translate("{conv} Follow it with a ReLU activation.", conv=tsm.CONV_HINT),
        2: tsm.HEAD_HINTS["flatten"],
        3: tsm.HEAD_HINTS["dense"],
        4: tsm.HEAD_HINTS["output"],
    },
    min_epochs=3,
    train_threshold=0.50,
    dataset=DATASET,
    preprocessing_hint=tsm.PREPROCESSING_HINT,
    params_hint=tsm.CONV_PARAMS_HINT,
    heldout_threshold=0.50,
)


def check_exercise_1(model, history) -> Report:
    """Grade exercise 1: Conv2D(32, 3x3, valid) -> ReLU -> Flatten -> Dense(128) -> ReLU ->
    Dense(5) -> softmax on 32x32x3 input, trained 3 epochs to above 0.50 training accuracy.
    Worth 10 points."""
    return EXERCISE_1.grade(model, history)


watch_cells(sys.modules[__name__])
