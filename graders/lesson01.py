"""Checks for lesson 01 · Sequential basics."""

from __future__ import annotations

from graders.architecture import LayerSpec, check_input_shape, check_layers, check_param_count
from graders.common import is_keras_model, not_attempted, wrong_type
from graders.heldout import traffic_sign_test_set
from graders.report import CheckResult, Report
from graders.training import (
    check_accuracy_on,
    check_epochs,
    check_final_accuracy,
    history_dict,
)

EXERCISE_1_TITLE = "Exercise 1 · A dense classifier for traffic signs"
EXERCISE_1_LAYERS = [
    LayerSpec("Flatten", output_shape=(3072,)),
    LayerSpec("Dense", units=128, activation="relu", output_shape=(128,)),
    LayerSpec("Dense", units=5, activation="softmax", output_shape=(5,)),
]
EXERCISE_1_PARAMS = 3072 * 128 + 128 + 128 * 5 + 5  # 393,989
_ITEMS = [
    ("input shape", 1),
    ("layers", 4),
    ("parameter count", 1),
    ("epochs", 1),
    ("training accuracy above 0.50", 2),
    ("accuracy on the grader's test images", 1),
]
_HINTS = {
    1: "Start with keras.layers.Flatten() to turn each 32x32x3 image into 3072 numbers.",
    2: "The hidden layer is Dense(128) followed by a ReLU activation.",
    3: "The output layer has one unit per class (5) and a softmax activation.",
}


def check_exercise_1(model, history) -> Report:
    """Grade exercise 1: ``model`` is Flatten -> Dense(128) -> ReLU -> Dense(5) -> softmax
    on 32x32x3 input, and ``history`` (from ``model.fit``) shows at least 3 epochs with a
    final training accuracy above 0.50. Worth 10 points."""
    if model is None:
        return not_attempted(EXERCISE_1_TITLE, _ITEMS, "model").finish()
    if not is_keras_model(model):
        return wrong_type(EXERCISE_1_TITLE, _ITEMS, "model", model).finish()
    results = [
        check_input_shape(model, (32, 32, 3), points=1),
        check_layers(model, EXERCISE_1_LAYERS, points=4, hints=_HINTS),
        check_param_count(model, EXERCISE_1_PARAMS, points=1),
    ]
    metrics = history_dict(history)
    if history is None:
        why = "history is still None: train the model with history = model.fit(...)"
        results += [CheckResult.not_attempted(name, pts, why) for name, pts in _ITEMS[3:]]
        return Report(EXERCISE_1_TITLE, results).finish()
    if metrics is None:
        why = f"expected the History returned by model.fit, found {type(history).__name__}"
        hint = "Keep what fit returns: history = model.fit(...)."
        results += [CheckResult.failed(name, pts, why, hint) for name, pts in _ITEMS[3:]]
        return Report(EXERCISE_1_TITLE, results).finish()
    x_test, y_test = traffic_sign_test_set()
    results += [
        check_epochs(metrics, 3, points=1),
        check_final_accuracy(metrics, 0.50, points=2),
        check_accuracy_on(
            model, x_test, y_test, 0.50, points=1, name="accuracy on the grader's test images"
        ),
    ]
    return Report(EXERCISE_1_TITLE, results).finish()
