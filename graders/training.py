"""Training checks: read a History with thresholds, and re-evaluate a model on data the
grader holds. Never compares exact floating-point values."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from graders.report import CheckResult

_ACCURACY_KEYS = ("accuracy", "acc")


def history_dict(history) -> dict[str, list[float]] | None:
    """The metrics of a ``keras.callbacks.History`` (or of its ``.history`` dict), or None
    when ``history`` is neither."""
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        return None
    return {str(k): [float(v) for v in values] for k, values in data.items()}


def check_epochs(history: dict[str, list[float]], minimum: int, *, points: float) -> CheckResult:
    """At least ``minimum`` epochs recorded in the history."""
    epochs = len(history.get("loss", []))
    if epochs < minimum:
        return CheckResult.failed(
            "epochs",
            points,
            f"expected at least {minimum} epochs of training, found {epochs}",
            f"Pass epochs={minimum} to model.fit.",
        )
    return CheckResult.passed("epochs", points, f"trained for {epochs} epochs")


def check_final_accuracy(
    history: dict[str, list[float]], threshold: float, *, points: float, key_prefix: str = ""
) -> CheckResult:
    """The last epoch's accuracy (``accuracy`` or ``acc``, optionally ``val_``-prefixed)
    is above ``threshold``, and the loss never became NaN."""
    label = "validation accuracy" if key_prefix == "val_" else "training accuracy"
    name = f"{label} above {threshold:.2f}"
    losses = history.get(f"{key_prefix}loss", [])
    if any(math.isnan(v) or math.isinf(v) for v in losses):
        return CheckResult.failed(
            name,
            points,
            f"the {key_prefix}loss became {losses[-1]} during training",
            "A NaN loss usually means unscaled inputs or a too-large learning rate.",
        )
    key = next((key_prefix + k for k in _ACCURACY_KEYS if key_prefix + k in history), None)
    if key is None:
        return CheckResult.failed(
            name,
            points,
            f"expected a '{key_prefix}accuracy' entry in the history, found keys {sorted(history)}",
            'Compile with metrics=["accuracy"]'
            + (" and train with validation_split." if key_prefix else "."),
        )
    final = history[key][-1]
    if not final > threshold:
        return CheckResult.failed(
            name,
            points,
            f"expected final {label} above {threshold:.2f}, found {final:.3f}",
            "Check the preprocessing (scale to [-0.5, 0.5], one-hot labels) and the layers.",
        )
    return CheckResult.passed(name, points, f"final {label} {final:.3f} > {threshold:.2f}")


def check_accuracy_on(
    model,
    x: np.ndarray,
    y: np.ndarray,
    threshold: float,
    *,
    points: float,
    name: str,
    batch_size: int = 256,
) -> CheckResult:
    """Predict ``x`` (preprocessed, float32) with ``model`` and check that the accuracy
    against integer labels ``y`` (shape (N,)) reaches ``threshold``."""
    try:
        probabilities = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    except Exception as error:  # the student's model may fail in any way
        return CheckResult.failed(
            name,
            points,
            f"the model could not predict on {x.shape} inputs: {type(error).__name__}: {error}",
            "Check the input shape and that the model was built.",
        )
    if probabilities.ndim == 2 and probabilities.shape[1] > 1:
        predicted = probabilities.argmax(axis=-1)
    else:  # one sigmoid unit
        predicted = (probabilities.reshape(-1) > 0.5).astype(np.int64)
    accuracy = float((predicted == y).mean())
    if not accuracy >= threshold:
        return CheckResult.failed(
            name,
            points,
            f"expected accuracy of at least {threshold:.2f} on {len(y)} images the grader "
            f"holds, found {accuracy:.3f}",
            "Train longer or check that the inputs were preprocessed as in the lesson.",
        )
    return CheckResult.passed(
        name, points, f"accuracy {accuracy:.3f} >= {threshold:.2f} on {len(y)} grader images"
    )


def check_reported_accuracy(
    test_metrics, threshold: float, *, points: float, name: str
) -> CheckResult:
    """The ``accuracy`` in the dict that ``model.evaluate(..., return_dict=True)`` returned
    reaches ``threshold``; None means the learner has not evaluated yet."""
    if test_metrics is None:
        return CheckResult.not_attempted(
            name, points, "test_metrics is still None: evaluate the model on the test split"
        )
    if not isinstance(test_metrics, Mapping) or "accuracy" not in test_metrics:
        found = (
            sorted(test_metrics)
            if isinstance(test_metrics, Mapping)
            else type(test_metrics).__name__
        )
        return CheckResult.failed(
            name,
            points,
            "expected the dict from model.evaluate(x_test, y_test, return_dict=True) with an "
            f"'accuracy' entry, found {found}",
            "Pass return_dict=True to evaluate, and compile with metrics=['accuracy'].",
        )
    accuracy = float(test_metrics["accuracy"])
    if not accuracy >= threshold:
        return CheckResult.failed(
            name,
            points,
            f"expected test accuracy of at least {threshold:.2f}, found {accuracy:.3f}",
            "Train for more epochs, or check the layers and preprocessing.",
        )
    return CheckResult.passed(name, points, f"test accuracy {accuracy:.3f} >= {threshold:.2f}")
