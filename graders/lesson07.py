"""Checks for lesson 07 · ResNet50."""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders.cell_errors import watch_cells
from graders.common import is_keras_model, not_attempted, wrong_type
from graders.recipes import RESNET50_EPOCHS
from graders.report import CheckResult, Report
from graders.resnet_blocks import CONVOLUTIONAL_CASE, IDENTITY_CASE, grade_block
from graders.resnet_model import check_resnet50
from graders.training import check_epochs, check_measured_accuracies, history_dict

MODEL_POINTS = {"input and output": 1, "named layers": 3, "parameter count": 2, "same function": 4}
TRAINING_POINTS = {
    "epochs": 2,
    "accuracy on the grader's test images": 4,
    "reported test accuracy at least 0.80": 4,
}
# The function exercises, for the batch grader's re-run: check name -> the fixed call.
FUNCTION_CASES = {"check_exercise_1": IDENTITY_CASE, "check_exercise_2": CONVOLUTIONAL_CASE}
DATASET = "hand_signs"  # what the lesson's models learn from and the grader tests them on
MIN_EPOCHS = RESNET50_EPOCHS
TEST_THRESHOLD = 0.80


def check_exercise_1(identity_block) -> Report:
    """Grade exercise 1: the learner's ``identity_block`` function, run on a fixed input
    with a fixed initializer in inference and training mode, against the reference.
    Worth 10 points."""
    return grade_block(translate("Exercise 1 · The identity block"), IDENTITY_CASE, identity_block)


def check_exercise_2(convolutional_block) -> Report:
    """Grade exercise 2: the learner's ``convolutional_block`` function (stride s = 2), run
    like exercise 1. Worth 10 points."""
    return grade_block(
        translate("Exercise 2 · The convolutional block"), CONVOLUTIONAL_CASE, convolutional_block
    )


def check_exercise_3(model) -> Report:
    """Grade exercise 3: ``model``, ResNet50 for 64x64x3 input and 6 classes assembled from
    the blocks (named layers, 23,600,006 parameters, the reference's function).
    Worth 10 points."""
    title = translate("Exercise 3 · Assemble ResNet50")
    items = list(MODEL_POINTS.items())
    if model is None:
        return not_attempted(title, items, "model").finish()
    if not is_keras_model(model):
        return wrong_type(title, items, "model", model).finish()
    return Report(title, check_resnet50(model, MODEL_POINTS)).finish()


def check_exercise_4(model, history, test_metrics) -> Report:
    """Grade exercise 4: ResNet50 trained for 6 epochs, with test accuracy of at least
    0.80 reported by ``model.evaluate(..., return_dict=True)`` and measured again by the
    grader. Worth 10 points."""
    title = translate("Exercise 4 · Train and test ResNet50")
    items = list(TRAINING_POINTS.items())
    if model is None or history is None:
        return not_attempted(title, items, "model" if model is None else "history").finish()
    if not is_keras_model(model):
        return wrong_type(title, items, "model", model).finish()
    metrics = history_dict(history)
    if metrics is None:
        why = translate(
            "expected the History returned by model.fit, found {found}",
            found=type(history).__name__,
        )
        hint = translate("Keep what fit returns: history = model.fit(...).")
        return Report(title, [CheckResult.failed(n, p, why, hint) for n, p in items]).finish()
    names = list(TRAINING_POINTS)
    results = [
        check_epochs(metrics, MIN_EPOCHS, points=TRAINING_POINTS[names[0]]),
        *check_measured_accuracies(
            model,
            test_metrics,
            DATASET,
            heldout=(names[1], TRAINING_POINTS[names[1]], TEST_THRESHOLD),
            reported=(names[2], TRAINING_POINTS[names[2]], TEST_THRESHOLD),
            history=metrics,
        ),
    ]
    return Report(title, results).finish()


watch_cells(sys.modules[__name__])
