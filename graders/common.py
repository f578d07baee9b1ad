"""Gate checks shared by every lesson: was the exercise attempted, is the object a model."""

from __future__ import annotations

from course_utils.language import translate
from graders.cell_errors import failure_for
from graders.report import CheckResult, Report

OUTPUT_PROBABILITIES = translate(
    "The model itself must output probabilities, also when you compile it with "
    "from_logits=True (which trains the same classifier on raw scores): predict, the "
    "lesson's explorers and the grader's accuracy read its outputs as probabilities."
)
"""Why an exercise's model ends in its softmax or sigmoid (a hint of its output layer)."""


def missing_output_activation_hint(activation: str) -> str:
    """The hint of an accuracy check that failed for a model whose output layer lacks its
    ``activation`` (softmax or sigmoid), which the layers check names."""
    return translate(
        "Add the missing {activation} first (see 'layers'): without it the outputs are not "
        "probabilities, yet the loss (unless from_logits=True) and the grader's accuracy "
        "read them as such, so this figure says little. Then train again: "
        "Dense(..., activation='{activation}') as the output layer.",
        activation=activation,
    )


def still_none(items: list[tuple[str, float]], what: str, todo: str) -> list[CheckResult]:
    """The results for ``items`` when ``what`` is still None: failed, with the error and
    its explanation, when the learner's cell that sets ``what`` raised (in this kernel);
    else "not attempted", with ``todo``."""
    failure = failure_for(what)
    if failure is not None:
        (first, points), rest = items[0], items[1:]
        results = [CheckResult.failed(first, points, failure.describe(what), failure.hint())]
        later = translate(
            "not checked: your cell that sets {what} did not finish (see {first!r})",
            what=what,
            first=first,
        )
        return results + [CheckResult.failed(name, pts, later) for name, pts in rest]
    message = translate("{what} is still None: {todo}", what=what, todo=todo)
    return [CheckResult.not_attempted(name, pts, message) for name, pts in items]


def not_attempted(title: str, items: list[tuple[str, float]], what: str) -> Report:
    """The report of an exercise whose ``what`` is still None (see :func:`still_none`)."""
    return Report(
        title,
        still_none(items, what, translate("complete the exercise, run its cells, then this check")),
    )


def not_a_model(what: str, found: object) -> str:
    """The message for a notebook name ``what`` that holds ``found``, not a Keras model."""
    return translate(
        "expected {what} to be a keras.Model, found {found}", what=what, found=type(found).__name__
    )


def wrong_type(title: str, items: list[tuple[str, float]], what: str, found: object) -> Report:
    """A report that fails every result because ``what`` is not a Keras model."""
    message = not_a_model(what, found)
    hint = translate("Assign the model you built, e.g. model = keras.Sequential([...]).")
    return Report(title, [CheckResult.failed(name, pts, message, hint) for name, pts in items])


def is_keras_model(obj: object) -> bool:
    import keras

    return isinstance(obj, keras.Model)
