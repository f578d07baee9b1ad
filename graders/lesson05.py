"""Checks for lesson 05 · Testing."""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders import traffic_sign_models as tsm
from graders.cell_errors import watch_cells
from graders.lesson04 import EXERCISE_1 as DROPOUT_EXERCISE
from graders.model_exercise import ModelExercise
from graders.report import Report

DATASET = "traffic_signs"  # what the lesson's models learn from and the grader tests them on

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · Train the final model and test it once"),
    input_shape=tsm.INPUT_SHAPE,
    layers=tsm.DROPOUT_LAYERS,
    equivalents=tsm.DROPOUT_EQUIVALENTS,
    params=tsm.DROPOUT_PARAMS,
    hints=DROPOUT_EXERCISE.hints,
    min_epochs=8,
    train_threshold=0.50,
    dataset=DATASET,
    preprocessing_hint=tsm.PREPROCESSING_HINT,
    params_hint=tsm.POOL_PARAMS_HINT,
    heldout_threshold=0.90,
    test_threshold=0.90,
    points={
        "input shape": 1,
        "layers": 2,
        "parameter count": 1,
        "epochs": 1,
        "training accuracy": 1,
        "held-out accuracy": 2,
        "reported test accuracy": 2,
    },
)


def check_exercise_1(model, history, test_metrics) -> Report:
    """Grade exercise 1: the lesson-04 model trained for at least 8 epochs, and
    ``test_metrics`` from ``model.evaluate(x_test, y_test, return_dict=True)`` with test
    accuracy of at least 0.90; the grader also re-evaluates the model on its own copy of
    the test split. Worth 10 points."""
    return EXERCISE_1.grade(model, history, test_metrics)


watch_cells(sys.modules[__name__])
