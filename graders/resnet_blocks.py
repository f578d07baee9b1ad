"""Grading a learner's residual-block function by running it.

The learner's ``identity_block`` or ``convolutional_block`` is called on a fixed input with
a fixed, non-random kernel initializer, once in inference mode and once in training mode,
and its outputs are compared with the reference implementation's outputs on the same calls
(:mod:`graders.reference_outputs`). Nothing depends on a random generator's stream, so the
comparison is exact up to float rounding on any machine. Both modes matter: at inference
a fresh BatchNormalization barely changes its input, so a missing one only shows in
training mode.

When the outputs differ, they are compared with the outputs of the classic wrong wirings
(a missing BatchNormalization, the shortcut added after the ReLU, the stride on the wrong
convolution, ...: :data:`MISTAKES`), and the check names the one the learner's matches. A
wiring that cannot run (``valid`` where ``same`` belongs makes the main path smaller than
the shortcut) is explained from the error it raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from course_utils.language import translate
from graders.cell_errors import RESIDUAL_SHAPES, added_shapes, explain
from graders.function_exercise import gradable_function
from graders.reference_outputs import reference_output
from graders.report import CheckResult, Report


class PatternInitializer(keras.initializers.Initializer):
    """Fixed kernel values, ``cos(0.7 i + phase) / sqrt(fan_in)`` for the i-th weight:
    varied across filters (unlike a constant, which would make every filter the same), and
    the same on every machine and every call. Another ``phase`` gives other weights."""

    def __init__(self, phase: float = 0.3) -> None:
        self.phase = phase

    def __call__(self, shape, dtype=None):
        shape = tuple(int(d) for d in shape)
        fan_in = max(1, int(np.prod(shape[:-1])))
        values = np.cos(0.7 * np.arange(int(np.prod(shape))) + self.phase) / np.sqrt(fan_in)
        return keras.ops.convert_to_tensor(values.reshape(shape), dtype=dtype or "float32")

    def get_config(self) -> dict:
        return {"phase": self.phase}


OTHER_PHASE = 1.1  # the weights of the call that shows whether the initializer is used


@dataclass(frozen=True)
class BlockCase:
    """The fixed call a block is graded on."""

    name: str  # "identity_block" or "convolutional_block"
    input_shape: tuple[int, int, int, int]
    f: int
    filters: tuple[int, int, int]
    s: int | None  # None for the identity block, which takes no stride
    signature: str

    def inputs(self) -> np.ndarray:
        count = int(np.prod(self.input_shape))
        return (
            (2.0 * np.sin(0.37 * np.arange(count) + 0.1))
            .reshape(self.input_shape)
            .astype(np.float32)
        )

    def calls(self) -> list[tuple[tuple, dict]]:
        """The calls a block is graded on, in order (:data:`CALLS`), as (positional
        arguments, keyword arguments): what the batch grader re-runs."""
        return [((self.inputs(),), self.kwargs(training, phase)) for training, phase in CALLS]

    def kwargs(self, training: bool, phase: float = 0.3) -> dict:
        extra = {} if self.s is None else {"s": self.s}
        return dict(
            f=self.f,
            filters=self.filters,
            stage=1,
            block="a",
            **extra,
            initializer=PatternInitializer(phase),
            training=training,
        )


IDENTITY_CASE = BlockCase(
    "identity_block",
    (2, 4, 4, 6),
    3,
    (4, 3, 6),
    None,
    "identity_block(X, f, filters, stage, block, initializer=..., training=None)",
)
# 8x8 so that no wrong padding or stride can pass by broadcasting: with s=2 the main path
# is 4x4, and a 'valid' fxf convolution makes it 2x2, which Add cannot broadcast to 4x4 (a
# 1x1 map, as a 6x6 input gave, it would).
CONVOLUTIONAL_CASE = BlockCase(
    "convolutional_block",
    (2, 8, 8, 3),
    3,
    (4, 3, 6),
    2,
    "convolutional_block(X, f, filters, stage, block, s=2, initializer=..., training=None)",
)


@dataclass(frozen=True)
class BlockMistake:
    """A classic wrong wiring of a residual block, recognised by its outputs: ``wiring``
    names it among the reference outputs (:func:`wiring_outputs`), ``what`` says what is
    wrong and ``hint`` how to fix it."""

    wiring: str
    what: str
    hint: str
    convolutional_only: bool = False


MISTAKES: list[BlockMistake] = [
    BlockMistake(
        "no first main batch norm",
        translate("the main path has no BatchNormalization after its first 1x1 convolution"),
        translate(
            "Follow every Conv2D of the main path with BatchNormalization(axis=3)(X, "
            "training=training)."
        ),
    ),
    BlockMistake(
        "no middle main batch norm",
        translate("the main path has no BatchNormalization after its fxf convolution"),
        translate(
            "Follow every Conv2D of the main path with BatchNormalization(axis=3)(X, "
            "training=training)."
        ),
    ),
    BlockMistake(
        "no last main batch norm",
        translate("the main path has no BatchNormalization after its last 1x1 convolution"),
        translate(
            "The third Conv2D needs its BatchNormalization too, before the shortcut is added."
        ),
    ),
    BlockMistake(
        "add after relu",
        translate("the shortcut is added after the final ReLU"),
        translate(
            "Add the shortcut to the output of the last BatchNormalization, then apply the ReLU "
            "to the sum: X = Activation('relu')(Add()([X, X_shortcut]))."
        ),
    ),
    BlockMistake(
        "relu on main before add",
        translate("the main path goes through a ReLU before the shortcut is added"),
        translate(
            "The third BatchNormalization's output goes straight into the Add; the only ReLU "
            "after it is the one applied to the sum."
        ),
    ),
    BlockMistake(
        "no final relu",
        translate("there is no ReLU after the shortcut is added"),
        translate("Finish the block with X = Activation('relu')(X) after the Add."),
    ),
    BlockMistake(
        "stride on middle",
        translate("the stride s is on the fxf convolution instead of the first 1x1 convolution"),
        translate(
            "Put strides=(s, s) on the first Conv2D of the main path (and on the shortcut's "
            "Conv2D); the fxf convolution has stride 1."
        ),
        convolutional_only=True,
    ),
    BlockMistake(
        "no shortcut batch norm",
        translate("the shortcut has no BatchNormalization after its 1x1 convolution"),
        translate(
            "Follow the shortcut's Conv2D with BatchNormalization(axis=3)(X_shortcut, "
            "training=training)."
        ),
        convolutional_only=True,
    ),
]
REFERENCE_WIRING = "reference"
WIRINGS = (REFERENCE_WIRING, *(mistake.wiring for mistake in MISTAKES))
"""Every wiring whose outputs the checks compare with, the reference's first."""

SHAPE_HINT = translate(
    "Check the strides and padding of each Conv2D, and that the last one has F3 filters."
)
TRAINING_FLAG = (
    translate(
        "the BatchNormalization layers ignore the training argument (in training mode they "
        "give what they give at inference)"
    ),
    translate(
        "Call every BatchNormalization with training=training, e.g. "
        "BatchNormalization(axis=3)(X, training=training)."
    ),
)

# The calls a block is graded on, in order, as (training, initializer phase): inference,
# training, inference again (the repeat shows whether the block draws random weights), and
# inference with other fixed weights (which shows whether it uses the initializer at all).
CALLS = ((False, 0.3), (True, 0.3), (False, 0.3), (False, OTHER_PHASE))

POINTS = {"runs": 2, "output shape": 2, "output at inference": 3, "output in training": 3}


def as_numpy(value) -> np.ndarray:
    """A block's output (a tensor or an array) as a float64 NumPy array."""
    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def wiring_key(case: BlockCase, wiring: str) -> str:
    """The reference outputs' key of ``wiring`` (one of :data:`WIRINGS`) on ``case``."""
    return f"{case.name}/{wiring}"


def wiring_outputs(case: BlockCase, wiring: str) -> dict[bool, np.ndarray] | None:
    """What a block wired as ``wiring`` gives on ``case``'s input with the first calls'
    initializer, by mode (training False and True), or None when that wiring cannot run on
    it."""
    outputs = reference_output(wiring_key(case, wiring))
    if outputs is None:
        return None
    return {False: outputs["inference"], True: outputs["training"]}


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-4)


def _diagnose(case: BlockCase, found: dict[bool, np.ndarray]) -> tuple[str, str] | None:
    """The known mistake whose outputs the learner's match, as (what, hint), if any."""
    reference = wiring_outputs(case, REFERENCE_WIRING)
    if _close(found[False], reference[False]) and _close(found[True], reference[False]):
        return TRAINING_FLAG
    for mistake in MISTAKES:
        if mistake.convolutional_only and case.s is None:
            continue
        expected = wiring_outputs(case, mistake.wiring)
        if expected is None:  # a wiring that cannot run on this case
            continue
        if all(_close(found[mode], expected[mode]) for mode in (False, True)):
            return mistake.what, mistake.hint
    return None


def _misplaced_shortcut(case: BlockCase, error: Exception) -> str | None:
    """What to do when the identity block's Add got the main path right and a shortcut
    with the first convolution's F1 channels: the shortcut was saved after the first Conv2D
    reassigned X. None for any other error."""
    shapes = added_shapes(error)
    if case.s is not None or shapes is None:
        return None
    height, width, _ = case.input_shape[1:]
    f1, _, f3 = case.filters
    if sorted(shapes) != sorted([(height, width, f3), (height, width, f1)]) or f1 == f3:
        return None
    return translate(
        "One input of the Add has F1 = {f1} channels, those of the first convolution's "
        "output: the shortcut was saved after the first Conv2D had reassigned X. The "
        "identity block's shortcut is its input as it came in: write X_shortcut = X as the "
        "block's first line, before any layer.",
        f1=f1,
    )


def _error_hint(case: BlockCase, error: Exception) -> str:
    """What to do about the error the learner's block raised."""
    text = str(error)
    if isinstance(error, TypeError) and "seed" in text:
        return translate(
            "initializer is already an initializer object: pass it as it is, "
            "kernel_initializer=initializer. Calling it, as in initializer(seed=0), asks it "
            "for weights (glorot_uniform(seed=0) in older code made a new initializer; here "
            "the grader passes one in)."
        )
    shortcut = _misplaced_shortcut(case, error)
    if shortcut:
        return shortcut
    if added_shapes(error):
        return explain(error)
    if "shape" in text.lower():
        return translate(
            "The main path and the shortcut must have the same shape when they are added. {shapes}",
            shapes=RESIDUAL_SHAPES,
        )
    return translate(
        "Keep the signature {signature}, and read the error above.", signature=case.signature
    )


def grade_block(title: str, case: BlockCase, function: Callable | None) -> Report:
    """Run the learner's block ``function`` on ``case`` and grade it (10 points).

    A function defined in a notebook (module ``__main__``) is graded from its source,
    rebuilt with the helpers, constants and imports it uses
    (:func:`graders.function_source.rebuild`), exactly as the batch grader receives it.
    """
    items = list(POINTS.items())
    function, report = gradable_function(title, items, case, function)
    if report is not None:
        return report
    outputs = []
    try:
        for arguments, keywords in case.calls():
            output = function(*arguments, **keywords)
            if output is None:
                message = translate(
                    "{name} returned None: complete its body and return X", name=case.name
                )
                return Report(
                    title, [CheckResult.not_attempted(n, p, message) for n, p in items]
                ).finish()
            outputs.append(as_numpy(output))
        found = {False: outputs[0], True: outputs[1]}
        repeat, other_weights = outputs[2], outputs[3]
    except Exception as error:  # noqa: BLE001 - any failure of learner code is feedback
        message = translate(
            "calling {name} on an input of shape {shape} raised {error_type}: {error}",
            name=case.name,
            shape=case.input_shape,
            error_type=type(error).__name__,
            error=str(error).strip().splitlines()[0][:300],
        )
        hint = _error_hint(case, error)
        results = [CheckResult.failed("runs", POINTS["runs"], message, hint)]
        results += [
            CheckResult.failed(n, p, translate("not checked: the block did not run"))
            for n, p in items[1:]
        ]
        return Report(title, results).finish()

    ran = translate("{name} ran in both modes", name=case.name)
    results = [CheckResult.passed("runs", POINTS["runs"], ran)]
    expected = wiring_outputs(case, REFERENCE_WIRING)
    want_shape = (None, *expected[False].shape[1:])
    got_shape = (None, *found[False].shape[1:])
    diagnosis = None
    if got_shape != want_shape:
        diagnosis = _diagnose(case, found)
        hint = diagnosis[1] if diagnosis else SHAPE_HINT
        shapes = dict(shape=case.input_shape, want=want_shape, got=got_shape)
        if diagnosis:
            message = translate(
                "on input {shape} expected output shape {want}, found {got} ({what})",
                **shapes,
                what=diagnosis[0],
            )
        else:
            message = translate(
                "on input {shape} expected output shape {want}, found {got}", **shapes
            )
        results.append(CheckResult.failed("output shape", POINTS["output shape"], message, hint))
        results += [
            CheckResult.failed(n, p, translate("not compared: the output shape is wrong"))
            for n, p in items[2:]
        ]
        return Report(title, results).finish()
    results.append(
        CheckResult.passed(
            "output shape",
            POINTS["output shape"],
            translate("output shape {shape}", shape=got_shape),
        )
    )
    if not _close(found[False], repeat):
        why = translate(
            "two calls with the same initializer gave different outputs, so some Conv2D "
            "draws its own random weights"
        )
        hint = translate("Pass kernel_initializer=initializer to every Conv2D in the block.")
        results += [CheckResult.failed(n, p, why, hint) for n, p in items[2:]]
        return Report(title, results).finish()
    if _close(found[False], other_weights):
        why = translate(
            "two calls with different initializers gave the same output, so the block "
            "ignores its initializer argument (its Conv2D layers make their own weights)"
        )
        hint = translate(
            "Pass kernel_initializer=initializer to every Conv2D in the block, instead of "
            "an initializer of your own such as glorot_uniform(seed=0)."
        )
        results += [CheckResult.failed(n, p, why, hint) for n, p in items[2:]]
        return Report(title, results).finish()
    for training, name in ((False, "output at inference"), (True, "output in training")):
        if _close(found[training], expected[training]):
            results.append(
                CheckResult.passed(
                    name, POINTS[name], translate("matches the reference implementation")
                )
            )
            continue
        if diagnosis is None:
            diagnosis = _diagnose(case, found) or ("", "")
        difference = float(np.max(np.abs(found[training] - expected[training])))
        what, hint = diagnosis
        if what:
            message = translate(
                "{what}: differs from the reference by up to {difference:.3g}",
                what=what,
                difference=difference,
            )
        else:
            message = translate(
                "differs from the reference by up to {difference:.3g}", difference=difference
            )
        if not hint:
            hint = translate(
                "Compare your block with the recipe step by step: Conv2D -> "
                "BatchNormalization(training=training) -> ReLU twice, then Conv2D -> "
                "BatchNormalization, add the shortcut, ReLU."
            )
        results.append(CheckResult.failed(name, POINTS[name], message, hint))
    return Report(title, results).finish()
