"""Checks for lesson 00 · Tensors and shapes.

Every exercise is a function, graded by calling it on fixed inputs
(:mod:`graders.function_exercise`): the batch grader re-runs it on the same calls. What each
call should give is the reference implementation's answer
(:mod:`graders.reference_outputs`, key ``lesson00/<function name>``).
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable

import numpy as np

from course_utils.language import translate
from graders.cell_errors import error_line, watch_cells
from graders.function_exercise import (
    CallFailed,
    FunctionCase,
    gradable_function,
    run_calls,
)
from graders.reference_outputs import reference_output
from graders.report import CheckResult, Report

DATASET = None  # the lesson's exercises learn from no dataset

AXES = ("batch", "height", "width", "channels")
TRANSPOSE_HINT = translate(
    "Move the channels axis (axis 3) to position 1 and keep the others in order: "
    "np.transpose(images, (0, 3, 1, 2)), or keras.ops.transpose with the same axes."
)


def _image_batch(shape: tuple[int, ...]) -> np.ndarray:
    """A float32 batch of ``shape`` whose every value tells where it sits."""
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)


# Every axis a different size, so that a wrong order shows in the shape.
CHANNELS_CASE = FunctionCase(
    "to_channels_first",
    "to_channels_first(images)",
    lambda: [((_image_batch((2, 3, 4, 5)),), {}), ((_image_batch((1, 28, 28, 1)),), {})],
)
STEPS_CASE = FunctionCase(
    "steps_per_epoch",
    "steps_per_epoch(samples, batch_size)",
    lambda: [((1000, 32), {}), ((60000, 128), {}), ((64, 64), {}), ((10, 32), {})],
)
PARAMS_CASE = FunctionCase(
    "dense_parameters",
    "dense_parameters(layer_sizes)",
    lambda: [(([784, 512, 512, 10],), {}), (([3072, 128, 5],), {}), (([4, 3],), {})],
)
# The function exercises, for the batch grader's re-run: check name -> its fixed calls.
FUNCTION_CASES = {
    "check_exercise_1": CHANNELS_CASE,
    "check_exercise_2": STEPS_CASE,
    "check_exercise_3": PARAMS_CASE,
}

CHANNELS_POINTS = {"runs": 2, "output shape": 4, "values moved, not re-cut": 4}
STEPS_POINTS = {"runs": 2, "a whole number of steps": 3, "steps per epoch": 5}
PARAMS_POINTS = {"runs": 2, "a whole number": 2, "parameter counts": 6}


def expected_answers(case: FunctionCase) -> list:
    """The reference's answer to each of ``case``'s calls, in order."""
    return reference_output(f"lesson00/{case.name}")


def _array(value) -> np.ndarray | None:
    """``value`` as a NumPy array (from a NumPy array or a Keras/TensorFlow tensor), or
    None when it is neither."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        import keras

        return np.asarray(keras.ops.convert_to_numpy(value))
    return None


def _raised(title: str, items, case: FunctionCase, failure: CallFailed, hint: str) -> Report:
    shown = ", ".join(
        translate("a batch of shape {shape}", shape=a.shape)
        if isinstance(a, np.ndarray)
        else repr(a)
        for a in failure.arguments
    )
    message = translate(
        "calling {function}({arguments}) raised {error}",
        function=case.name,
        arguments=shown,
        error=error_line(failure.error),
    )
    results = [CheckResult.failed(items[0][0], items[0][1], message, hint)]
    later = translate("not checked: the function raised")
    results += [CheckResult.failed(n, p, later) for n, p in items[1:]]
    return Report(title, results).finish()


def _returned_none(title: str, items, case: FunctionCase) -> Report:
    message = translate(
        "{function} returned None: complete its body and return the result", function=case.name
    )
    return Report(title, [CheckResult.not_attempted(n, p, message) for n, p in items]).finish()


def _answers(
    title: str, items, case: FunctionCase, function, hint: str
) -> tuple[list[tuple[tuple, object]], Report | None]:
    """The learner's ``function`` called on each of the case's calls, as (arguments, what
    it returned); or, instead, the finished report when it cannot be graded further: not
    attempted, not a function, raised (with ``hint``), or returned None."""
    function, report = gradable_function(title, items, case, function)
    if report is not None:
        return [], report
    try:
        outcomes = run_calls(case, function)
    except CallFailed as failure:
        return [], _raised(title, items, case, failure, hint)
    if any(value is None for _, value in outcomes):
        return [], _returned_none(title, items, case)
    return outcomes, None


def _axis_names(found: tuple[int, ...], given: tuple[int, ...]) -> str | None:
    """The found shape read as axes of the given batch, e.g. "(batch, channels, width,
    height)", when it is a reordering of the given axes (all of different sizes); else
    None."""
    if sorted(found) != sorted(given) or len(set(given)) != len(given):
        return None
    return "(" + ", ".join(AXES[given.index(size)] for size in found) + ")"


def check_exercise_1(to_channels_first) -> Report:
    """Grade exercise 1: ``to_channels_first(images)`` turns a channels-last batch
    (batch, height, width, channels) into channels-first (batch, channels, height,
    width), moving the values, on two fixed float32 batches. Worth 10 points."""
    title = translate("Exercise 1 · From channels-last to channels-first")
    items = list(CHANNELS_POINTS.items())
    outcomes, report = _answers(title, items, CHANNELS_CASE, to_channels_first, TRANSPOSE_HINT)
    if report is not None:
        return report
    results = [
        CheckResult.passed("runs", CHANNELS_POINTS["runs"], translate("ran on both batches"))
    ]
    shape_points, values_points = CHANNELS_POINTS["output shape"], CHANNELS_POINTS[items[2][0]]
    for ((images,), value), expected in zip(outcomes, expected_answers(CHANNELS_CASE), strict=True):
        found = _array(value)
        if found is None:
            message = translate(
                "expected a NumPy array or a tensor, found {found}", found=type(value).__name__
            )
            hint = translate("Return the converted batch itself. {hint}", hint=TRANSPOSE_HINT)
            results += [CheckResult.failed(n, p, message, hint) for n, p in items[1:]]
            return Report(title, results).finish()
        if found.shape != expected.shape:
            named = _axis_names(found.shape, images.shape)
            if named:
                message = translate(
                    "on a batch of shape {given} (batch, height, width, channels) expected "
                    "shape {expected} (batch, channels, height, width), found {found}, that "
                    "is {named}",
                    given=images.shape,
                    expected=expected.shape,
                    found=found.shape,
                    named=named,
                )
            else:
                message = translate(
                    "on a batch of shape {given} (batch, height, width, channels) expected "
                    "shape {expected} (batch, channels, height, width), found {found}",
                    given=images.shape,
                    expected=expected.shape,
                    found=found.shape,
                )
            explanation = ""
            if named == "(channels, batch, height, width)":
                explanation = translate(
                    "the channels went in front of the batch axis, which stays first"
                )
            elif named == "(batch, channels, width, height)":
                explanation = translate("height and width are swapped")
            elif named == "(batch, height, width, channels)":
                explanation = translate("the axes are unchanged")
            if explanation:
                message = translate(
                    "{message}: {explanation}", message=message, explanation=explanation
                )
            results.append(
                CheckResult.failed("output shape", shape_points, message, TRANSPOSE_HINT)
            )
            results.append(
                CheckResult.failed(
                    items[2][0], values_points, translate("not compared: wrong shape")
                )
            )
            return Report(title, results).finish()
        if not np.array_equal(found, expected):
            if np.array_equal(found, images.reshape(expected.shape)):
                message = translate(
                    "the shape {shape} is right but the pixels are scrambled: reshape "
                    "re-cuts the numbers in memory order, it does not move an axis",
                    shape=found.shape,
                )
            else:
                message = translate(
                    "the shape {shape} is right but the values are not in place",
                    shape=found.shape,
                )
            shape = translate("shape {shape}", shape=expected.shape)
            results.append(CheckResult.passed("output shape", shape_points, shape))
            results.append(CheckResult.failed(items[2][0], values_points, message, TRANSPOSE_HINT))
            return Report(title, results).finish()
    results.append(
        CheckResult.passed("output shape", shape_points, translate("the shapes are right"))
    )
    results.append(
        CheckResult.passed(items[2][0], values_points, translate("every value is where it belongs"))
    )
    return Report(title, results).finish()


def _whole(value) -> bool:
    """Whether ``value`` is a whole number (an int, or a float such as 32.0), not a bool."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return float(value).is_integer()


def _rounds_to_nearest(outcomes: list[tuple[tuple, object]]) -> bool:
    """Whether every answer is ``round(samples / batch_size)`` and one of them, rounded up,
    shows that it is no floor."""
    quotients = [(samples / batch_size, value) for (samples, batch_size), value in outcomes]
    return all(_whole(value) and value == round(quotient) for quotient, value in quotients) and any(
        round(quotient) > quotient for quotient, _ in quotients
    )


def _steps_mistake(
    arguments: tuple[int, int], found, expected: int, outcomes: list[tuple[tuple, object]]
) -> str:
    """What the learner's number for ``arguments`` (samples, batch_size) suggests, from it
    and from the answers to every call (``outcomes``), or ""."""
    samples, batch_size = arguments
    if found == samples // batch_size:
        partial = samples % batch_size
        if partial and _rounds_to_nearest(outcomes):
            return translate(
                "that rounds {quotient:g} to the nearest whole number, which leaves out the "
                "last batch of {partial} samples whenever it is less than half full; fit runs "
                "every batch, the partial one too, so round up",
                quotient=samples / batch_size,
                partial=partial,
            )
        if found:
            return translate(
                "that drops the last, partial batch of {partial} samples, which fit runs too",
                partial=partial,
            )
        return translate("with fewer samples than a batch there is still one step")
    if found == samples * batch_size:
        return translate(
            "that multiplies the two; the steps are the batches it takes to cover the samples"
        )
    if found in (batch_size // samples, -(-batch_size // samples)) and samples != batch_size:
        return translate("the two arguments are swapped")
    return ""


def _grade_whole_numbers(
    title: str,
    points: dict[str, float],
    case: FunctionCase,
    function,
    *,
    mistake: Callable[[tuple, object, int, list[tuple[tuple, object]]], str],
    not_whole: Callable[[str, object], str],
    wrong: Callable[[str, int, str], str],
    right: str,
    hint: str,
) -> Report:
    """Grade a function that must answer each of the case's calls with a whole number,
    the reference's (:func:`expected_answers`): points for running, for whole numbers
    (``not_whole(call, value)`` says that a call's ``value`` is none), and for the values
    (``wrong(call, expected, found)`` says that one differs, ``right`` that all are
    right); ``mistake(arguments, found, expected, outcomes)`` names what a wrong value
    suggests, from every call's answer too, or gives ""."""
    items = list(points.items())
    outcomes, report = _answers(title, items, case, function, hint)
    if report is not None:
        return report

    def call(arguments: tuple) -> str:
        return f"{case.name}({', '.join(repr(a) for a in arguments)})"

    results = [CheckResult.passed(items[0][0], items[0][1], translate("ran on every call"))]
    not_whole_answers = [(arguments, value) for arguments, value in outcomes if not _whole(value)]
    if not_whole_answers:
        arguments, value = not_whole_answers[0]
        message = not_whole(call(arguments), value)
        results.append(CheckResult.failed(items[1][0], items[1][1], message, hint))
    else:
        results.append(CheckResult.passed(items[1][0], items[1][1], translate("whole numbers")))
    for (arguments, value), want in zip(outcomes, expected_answers(case), strict=True):
        if not (_whole(value) and int(value) == want):
            found = int(value) if _whole(value) else value
            shown = f"{found:,}" if isinstance(found, int) else repr(value)
            message = wrong(call(arguments), want, shown)
            explanation = mistake(arguments, found, want, outcomes)
            if explanation:
                message = translate(
                    "{message}: {explanation}", message=message, explanation=explanation
                )
            results.append(CheckResult.failed(items[2][0], items[2][1], message, hint))
            return Report(title, results).finish()
    results.append(CheckResult.passed(items[2][0], items[2][1], right))
    return Report(title, results).finish()


def check_exercise_2(steps_per_epoch) -> Report:
    """Grade exercise 2: ``steps_per_epoch(samples, batch_size)`` is the number of
    batches in one epoch, ceil(samples / batch_size), as a whole number, on four fixed
    calls. Worth 10 points."""
    return _grade_whole_numbers(
        translate("Exercise 2 · Steps per epoch"),
        STEPS_POINTS,
        STEPS_CASE,
        steps_per_epoch,
        mistake=_steps_mistake,
        not_whole=lambda call, value: translate(
            "{call} returned {value!r} ({type}): a number of steps is a whole number",
            call=call,
            value=value,
            type=type(value).__name__,
        ),
        wrong=lambda call, expected, found: translate(
            "{call}: expected {expected:,}, found {found}",
            call=call,
            expected=expected,
            found=found,
        ),
        right=translate("every call gives the expected number"),
        hint=translate(
            "One step per batch, the last one partial: math.ceil(samples / batch_size)."
        ),
    )


def _params_mistake(arguments: tuple[list[int]], found: int, expected: int, outcomes: list) -> str:
    """What the learner's count for ``arguments`` (layer_sizes,) suggests, given the
    ``expected`` count, or ""."""
    (sizes,) = arguments
    pairs = list(zip(sizes, sizes[1:], strict=False))
    if found == sum(a * b for a, b in pairs):
        return translate(
            "that leaves out the biases; each unit of a Dense layer has one bias besides "
            "its weights"
        )
    if found == sum(a * b + a for a, b in pairs):
        return translate("that gives each layer one bias per input; a Dense layer has one per unit")
    if found == expected + sizes[0]:
        return translate(
            "that gives the input biases too; the input has no parameters, it only says "
            "what one example looks like"
        )
    return ""


def check_exercise_3(dense_parameters) -> Report:
    """Grade exercise 3: ``dense_parameters(layer_sizes)`` counts the parameters of a
    dense network with those layer sizes (the first is the input), as Keras does, on three
    fixed networks. Worth 10 points."""
    return _grade_whole_numbers(
        translate("Exercise 3 · Count a dense network's parameters"),
        PARAMS_POINTS,
        PARAMS_CASE,
        dense_parameters,
        mistake=_params_mistake,
        not_whole=lambda call, value: translate(
            "{call} returned {value!r} ({type}): a count is a whole number",
            call=call,
            value=value,
            type=type(value).__name__,
        ),
        wrong=lambda call, expected, found: translate(
            "{call}: expected {expected:,} as Keras counts, found {found}",
            call=call,
            expected=expected,
            found=found,
        ),
        right=translate("every call gives the expected number as Keras counts"),
        hint=translate(
            "A Dense layer with n inputs and u units has n * u weights and u biases: "
            "(n + 1) * u. Add them up over consecutive sizes."
        ),
    )


watch_cells(sys.modules[__name__])
