"""Argument checks shared by the helpers that take a learner's model."""

from __future__ import annotations

from course_utils.language import translate


def require_model(model: object, helper: str) -> None:
    """Raise ``TypeError`` naming ``helper`` and what it got when ``model`` is not a Keras
    model (typically None: the exercise that builds it is not done yet)."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            translate(
                "{helper} needs a Keras model, found {found}.",
                helper=helper,
                found=type(model).__name__,
            )
        )
