"""Gate checks shared by every lesson: was the exercise attempted, is the object a model."""

from __future__ import annotations

from graders.report import CheckResult, Report


def not_attempted(title: str, items: list[tuple[str, float]], what: str) -> Report:
    """A report in which every result is "not attempted" because ``what`` is still None."""
    message = f"{what} is still None: complete the exercise, run its cells, then this check"
    return Report(title, [CheckResult.not_attempted(name, pts, message) for name, pts in items])


def wrong_type(title: str, items: list[tuple[str, float]], what: str, found: object) -> Report:
    """A report that fails every result because ``what`` is not a Keras model."""
    message = f"expected {what} to be a keras.Model, found {type(found).__name__}"
    hint = "Assign the model you built, e.g. model = keras.Sequential([...])."
    return Report(title, [CheckResult.failed(name, pts, message, hint) for name, pts in items])


def is_keras_model(obj: object) -> bool:
    import keras

    return isinstance(obj, keras.Model)
