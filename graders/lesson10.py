"""Checks for lesson 10 · Data augmentation.

Exercise 1 builds an augmentation block for the real MNIST digits
(:func:`data_loaders.load_mnist`, scaled to [0, 1], shape (N, 28, 28, 1)): a
``keras.Sequential`` of ``RandomRotation``, ``RandomZoom`` and ``RandomTranslation`` with
the ranges the lesson asks for, which changes the digits only when ``training=True``. The
check runs the block on test digits both ways. Exercise 2 puts the block in front of the
lesson's small convnet, trains it on the first 200 training digits and measures it on
MNIST's 10,000 test digits.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from graders.architecture import LayerSpec
from graders.cell_errors import failure_for, watch_cells
from graders.common import is_keras_model, still_none
from graders.heldout import LESSON_SCALING, heldout_candidates
from graders.model_exercise import ModelExercise
from graders.report import CheckResult, Report

DATASET = "mnist"  # what the lesson's models learn from and the grader tests them on
ALSO_SHOWN = ("traffic_signs",)  # loaded to show which flips keep a label; not graded on

CLASSES = 10
SUBSET = 200
"""The lesson trains on the first this-many training digits: few enough that a convnet
overfits them, so that augmentation shows what it buys."""


@dataclass(frozen=True)
class RandomLayer:
    """One preprocessing layer the block must hold: its Keras class, the constructor call
    the lesson teaches, and each range argument as the (lower, upper) interval it means.
    A range of ``None`` in ``ranges`` accepts the layer's default ``None`` too (RandomZoom's
    width follows its height then)."""

    kind: str
    spelling: str
    ranges: dict[str, tuple[float, float]]
    optional: tuple[str, ...] = ()


AUGMENTATION = (
    RandomLayer("RandomRotation", "RandomRotation(0.05)", {"factor": (-0.05, 0.05)}),
    RandomLayer(
        "RandomZoom",
        "RandomZoom(0.1)",
        {"height_factor": (-0.1, 0.1), "width_factor": (-0.1, 0.1)},
        optional=("width_factor",),
    ),
    RandomLayer(
        "RandomTranslation",
        "RandomTranslation(0.1, 0.1)",
        {"height_factor": (-0.1, 0.1), "width_factor": (-0.1, 0.1)},
    ),
)
"""The block of exercise 1, in the lesson's order (any order passes)."""
ASKED = ", ".join(layer.spelling for layer in AUGMENTATION)
LABEL_CHANGING = {
    "RandomFlip": "a flip turns a digit into its mirror image, left-right or upside down, "
    "which is no digit at all (a mirrored 2, 3 or 7) or another one",
}
"""Preprocessing layers that change a digit's label, and why."""
HALF_TURN = 0.5
"""A rotation factor that turns a digit upside down (Keras caps factors at 1)."""
RANGE_TOLERANCE = 1e-6
SAME_TOLERANCE = 1e-6
"""The largest change to a pixel (in [0, 1]) that counts as unchanged at inference."""
CHANGED = 0.01
"""A pixel that moves more than this was changed by the augmentation."""
SAMPLE = 32
"""How many test digits the checks run the block on."""

BLOCK_POINTS = {
    "layers": 4,
    "ranges": 3,
    "unchanged at inference": 2,
    "random in training": 1,
}
BLOCK_HINT = f"Build it as keras.Sequential([{ASKED}], name='augmentation')."

BLOCK_KINDS = ("Sequential", "Functional", "Pipeline")
"""What an augmentation block may be (see :func:`is_block`), as the model lists it."""
CONVNET_LAYERS = [
    LayerSpec(BLOCK_KINDS[0]),
    LayerSpec(
        "Conv2D", filters=16, kernel_size=(3, 3), activation="relu", output_shape=(26, 26, 16)
    ),
    LayerSpec("MaxPooling2D", pool_size=(2, 2), output_shape=(13, 13, 16)),
    LayerSpec(
        "Conv2D", filters=32, kernel_size=(3, 3), activation="relu", output_shape=(11, 11, 32)
    ),
    LayerSpec("MaxPooling2D", pool_size=(2, 2), output_shape=(5, 5, 32)),
    LayerSpec("Flatten", output_shape=(5 * 5 * 32,)),
    LayerSpec("Dense", units=CLASSES, activation="softmax", output_shape=(CLASSES,)),
]
CONVNET_PARAMS = (3 * 3 * 1 + 1) * 16 + (3 * 3 * 16 + 1) * 32 + (5 * 5 * 32 + 1) * CLASSES
"""12,810: the augmentation layers have no weights."""
EPOCHS = 30
BATCH_SIZE = 16
TRAIN_THRESHOLD = 0.75  # the last epoch, on augmented digits (0.82-0.86 over 5 seeds)
TEST_THRESHOLD = 0.85
"""Exercise 2's target on the 10,000 test digits. The same convnet without augmentation
stays below it (bench/lesson_runs.py 10 prints both over seeds)."""
MODEL_POINTS = {
    "input shape": 1,
    "layers": 1,
    "parameter count": 1,
    "epochs": 1,
    "training accuracy": 1,
    "held-out accuracy": 1,
    "reported test accuracy": 1,
}
AUGMENTATION_INSIDE_POINTS = 2
TRAINING_DATA_POINTS = 1
STEPS_PER_EPOCH = math.ceil(SUBSET / BATCH_SIZE)
"""13: the 200 digits in batches of 16, as the history's params record them."""
FRESH_START = 0.5
"""A first epoch's training accuracy at least this high means the fit went on from a model
trained before: from scratch, the augmented convnet's first epoch scores 0.1-0.3."""
PREPROCESSING_HINT = (
    "Train on x_small, y_small (the first 200 digits, scaled to [0, 1], shape (200, 28, 28, "
    f"1)) for {EPOCHS} epochs with batch_size={BATCH_SIZE}: with the augmentation each "
    "epoch shows the model new versions of the digits, so it needs those epochs."
)

EXERCISE_2_MODEL = ModelExercise(
    title="Exercise 2 · Train the convnet with augmentation",
    names=("augmented_model", "augmented_history", "augmented_test_metrics"),
    input_shape=(28, 28, 1),
    input_hint="The convnet takes the digits with their channel axis: keras.Input(shape=(28, "
    "28, 1)), as build_convnet does.",
    layers=CONVNET_LAYERS,
    equivalents=tuple([LayerSpec(kind), *CONVNET_LAYERS[1:]] for kind in BLOCK_KINDS[1:]),
    params=CONVNET_PARAMS,
    hints={
        position: "Put your augmentation block first, right after the input: "
        "augmented_model = build_convnet(augmentation)."
        for position in (1, 2)
    },
    min_epochs=EPOCHS,
    train_threshold=TRAIN_THRESHOLD,
    dataset=DATASET,
    preprocessing_hint=PREPROCESSING_HINT,
    params_hint=f"build_convnet's convnet has {CONVNET_PARAMS:,} parameters and the "
    "augmentation layers none: build the model with build_convnet(augmentation).",
    heldout_threshold=TEST_THRESHOLD,
    test_threshold=TEST_THRESHOLD,
    points=MODEL_POINTS,
    training_sample=SUBSET,  # its history is measured on the 200 digits it trained on
)


def _interval(value) -> tuple[float, float] | None:
    """A range argument as (lower, upper): 0.1 means (-0.1, 0.1); None stays None."""
    if value is None:
        return None
    if isinstance(value, list | tuple) and len(value) == 2:
        return float(value[0]), float(value[1])
    return -abs(float(value)), abs(float(value))


def _phrase(kind: str, argument: str, interval: tuple[float, float] | None) -> str:
    """``interval`` in words: degrees for a rotation, percent for a zoom or a shift."""
    if interval is None:
        return "None"
    low, high = interval
    if kind == "RandomRotation":
        return f"({low:g}, {high:g}), a turn of {low * 360:+g}° to {high * 360:+g}°"
    what = "of the size" if kind == "RandomZoom" else f"of the {argument.split('_')[0]}"
    return f"({low:g}, {high:g}), {low * 100:+g}% to {high * 100:+g}% {what}"


def is_block(value) -> bool:
    """Whether ``value`` holds layers that run in turn, as an augmentation block does: a
    keras.Sequential (as the lesson builds it), another keras.Model or a layers.Pipeline."""
    import keras

    return isinstance(value, keras.Model | keras.layers.Pipeline)


def block_layers(block) -> list:
    """The layers of ``block`` in order, nested blocks opened, input layers skipped."""
    found = []
    for layer in block.layers:
        if is_block(layer):
            found += block_layers(layer)
        elif type(layer).__name__ != "InputLayer":
            found.append(layer)
    return found


def _check_kinds(layers: list, points: float) -> CheckResult:
    name = "layers"
    kinds = [type(layer).__name__ for layer in layers]
    for kind, why in LABEL_CHANGING.items():
        if kind in kinds:
            return CheckResult.failed(
                name,
                points,
                f"the block holds a {kind}: {why}, so the model would learn from digits "
                "with the wrong label",
                f"Remove the {kind}. For digits only small turns, zooms and shifts keep the "
                f"label: {ASKED}.",
            )
    wanted = [layer.kind for layer in AUGMENTATION]
    missing = [kind for kind in wanted if kind not in kinds]
    extra = [kind for kind in kinds if kind not in wanted]
    twice = sorted({kind for kind in kinds if kinds.count(kind) > 1 and kind in wanted})
    if missing or extra or twice:
        problems = []
        if missing:
            problems.append("missing: " + ", ".join(missing))
        if extra:
            problems.append("not asked for: " + ", ".join(extra))
        if twice:
            problems.append("more than once: " + ", ".join(twice))
        return CheckResult.failed(
            name,
            points,
            f"expected {', '.join(wanted)} (in any order), found "
            f"{', '.join(kinds) or 'no layers'}; " + "; ".join(problems),
            BLOCK_HINT,
        )
    return CheckResult.passed(name, points, f"{', '.join(kinds)}: each keeps a digit's label")


def _range_problems(layer, expected: RandomLayer) -> list[str]:
    config = layer.get_config()
    problems = []
    for argument, wanted in expected.ranges.items():
        try:
            found = _interval(config.get(argument))
        except (TypeError, ValueError):
            found = None
        if found is None and argument in expected.optional:
            continue
        if found is not None and np.allclose(found, wanted, atol=RANGE_TOLERANCE, rtol=0):
            continue
        problem = (
            f"{expected.kind}'s {argument} is {_phrase(expected.kind, argument, found)}, "
            f"expected {_phrase(expected.kind, argument, wanted)}"
        )
        if expected.kind == "RandomRotation" and found and max(map(abs, found)) >= HALF_TURN:
            problem += ": turned that far, a 6 reads as a 9"
        problems.append(problem)
    return problems


def _check_ranges(layers: list, points: float) -> CheckResult:
    name = "ranges"
    problems = []
    checked = []
    for expected in AUGMENTATION:
        found = [layer for layer in layers if type(layer).__name__ == expected.kind]
        if found:
            problems += _range_problems(found[0], expected)
            checked.append(expected.spelling)
    if problems:
        return CheckResult.failed(
            name,
            points,
            "; ".join(problems),
            f"The lesson's ranges: {ASKED}. Small enough that every digit stays readable.",
        )
    if not checked:
        return CheckResult.failed(
            name, points, "not checked: the block holds none of the asked layers (see 'layers')"
        )
    if len(checked) < len(AUGMENTATION):
        return CheckResult.passed(
            name, points, f"those present are right: {', '.join(checked)} (see 'layers')"
        )
    return CheckResult.passed(name, points, f"{ASKED}: up to 18°, 10% zoom, 10% shift")


def sample_digits() -> np.ndarray:
    """The first :data:`SAMPLE` test digits, float32 in [0, 1], shape (32, 28, 28, 1)."""
    heldout = heldout_candidates(DATASET)[0]
    return heldout.scaled(LESSON_SCALING[DATASET])[:SAMPLE, ..., None]


def _run(block, digits: np.ndarray, training: bool) -> np.ndarray:
    return np.asarray(block(digits, training=training), dtype=np.float32)


def _check_inference(block, digits: np.ndarray, points: float) -> CheckResult:
    name = "unchanged at inference"
    try:
        out = _run(block, digits, training=False)
    except Exception as error:  # noqa: BLE001 - whatever the block raises is the message
        return CheckResult.failed(
            name,
            points,
            f"augmentation(digits, training=False) on {digits.shape} digits raised "
            f"{type(error).__name__}: {str(error).splitlines()[0][:200]}",
            "The block takes the digits as the convnet does: float32 in [0, 1], shape "
            "(N, 28, 28, 1).",
        )
    if out.shape != digits.shape:
        return CheckResult.failed(
            name,
            points,
            f"with training=False the block turned {digits.shape} digits into {out.shape}",
            "Augmentation changes pixels, never the shape: keep only the asked layers.",
        )
    difference = float(np.abs(out - digits).max())
    if difference > SAME_TOLERANCE:
        return CheckResult.failed(
            name,
            points,
            f"with training=False the block still changed the digits (pixels moved by up to "
            f"{difference:.2f}): at inference, a test digit must reach the convnet as it is",
            "Keras's Random* layers act only when training=True; a Lambda or another layer "
            "that always transforms would change the test digits too.",
        )
    return CheckResult.passed(
        name, points, f"training=False leaves all {len(digits)} test digits exactly as they are"
    )


def _check_training(block, digits: np.ndarray, points: float) -> CheckResult:
    name = "random in training"
    try:
        first = _run(block, digits, training=True)
        second = _run(block, digits, training=True)
    except Exception as error:  # noqa: BLE001
        return CheckResult.failed(
            name,
            points,
            f"augmentation(digits, training=True) raised {type(error).__name__}: "
            f"{str(error).splitlines()[0][:200]}",
        )
    if first.shape != digits.shape:
        return CheckResult.failed(
            name, points, f"with training=True the block returned shape {first.shape}"
        )
    changed = np.abs(first - digits).reshape(len(digits), -1).max(axis=1) > CHANGED
    varies = np.abs(first - second).reshape(len(digits), -1).max(axis=1) > CHANGED
    if changed.mean() >= 0.5 and varies.mean() < 0.5:
        return CheckResult.failed(
            name,
            points,
            f"with training=True the block changed {changed.sum()} of {len(digits)} digits but "
            f"the same way on every call (two calls differed on {varies.sum()}): it "
            "transforms, but not at random",
            "Keep only the Random* layers: a layer that always does the same (Rescaling, a "
            "Lambda) gives the model no new versions of the digits.",
        )
    if changed.mean() < 0.5:
        return CheckResult.failed(
            name,
            points,
            f"with training=True the block changed only {changed.sum()} of {len(digits)} "
            f"digits, and two calls differed on {varies.sum()}: it augments almost nothing",
            "Give each layer the range the exercise asks for; a factor of 0 never changes "
            "anything.",
        )
    return CheckResult.passed(
        name,
        points,
        f"training=True changes {changed.sum()} of {len(digits)} digits, differently on each call",
    )


def _block_problem(block) -> str | None:
    """Why ``block`` cannot be graded as an augmentation block, or None."""
    if is_block(block):
        return None
    if isinstance(block, list | tuple):
        return (
            f"expected augmentation to be a keras.Sequential, found a {type(block).__name__} "
            "of layers: a list cannot be called on images or put inside a model"
        )
    return f"expected augmentation to be a keras.Sequential, found {type(block).__name__}"


def check_exercise_1(augmentation) -> Report:
    """Grade exercise 1: ``augmentation`` is a ``keras.Sequential`` holding
    ``RandomRotation(0.05)``, ``RandomZoom(0.1)`` and ``RandomTranslation(0.1, 0.1)`` (in
    any order, nothing else: no flip, which changes a digit's label); run on 32 test
    digits (float32 in [0, 1], shape (32, 28, 28, 1)) it returns them unchanged with
    ``training=False`` and changes them, differently on each call, with ``training=True``.
    Worth 10 points."""
    title = "Exercise 1 · An augmentation block that keeps the label"
    items = list(BLOCK_POINTS.items())
    if augmentation is None:
        todo = "build it with keras.Sequential([...]) and run its cell"
        return Report(title, still_none(items, "augmentation", todo)).finish()
    problem = _block_problem(augmentation)
    if problem is not None:
        hint = f"Wrap the layers: augmentation = keras.Sequential([{ASKED}])."
        return Report(title, [CheckResult.failed(n, p, problem, hint) for n, p in items]).finish()
    layers = block_layers(augmentation)
    digits = sample_digits()
    results = [
        _check_kinds(layers, BLOCK_POINTS["layers"]),
        _check_ranges(layers, BLOCK_POINTS["ranges"]),
        _check_inference(augmentation, digits, BLOCK_POINTS["unchanged at inference"]),
        _check_training(augmentation, digits, BLOCK_POINTS["random in training"]),
    ]
    return Report(title, results).finish()


def _check_block_inside(model, points: float) -> CheckResult:
    name = "augmentation inside"
    model_layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    inner = [index for index, layer in enumerate(model_layers) if is_block(layer)]
    if not inner:
        failure = failure_for("augmentation")
        if failure is not None:  # build_convnet(None) builds the convnet without a block
            return CheckResult.failed(
                name,
                points,
                "the model holds no augmentation block because exercise 1's block was never "
                f"built: {failure.describe('augmentation')}",
                "Fix exercise 1 first (see its report), then run this exercise's cells "
                "again: build_convnet(augmentation) puts your block in the model.",
            )
        return CheckResult.failed(
            name,
            points,
            "the model holds no augmentation block: it trains on the same 200 digits every epoch",
            "Build it with build_convnet(augmentation), your block from exercise 1.",
        )
    if inner[0] != 0:
        before = ", ".join(type(layer).__name__ for layer in model_layers[: inner[0]])
        return CheckResult.failed(
            name,
            points,
            f"the augmentation block is layer {inner[0] + 1}, after {before}: it must come "
            "first, so that it transforms the digits themselves before any layer sees them",
            "Build the model with build_convnet(augmentation), which puts the block right "
            "after the input.",
        )
    layers = block_layers(model_layers[0])
    failed = [
        result
        for result in (_check_kinds(layers, points), _check_ranges(layers, points))
        if result.status != "passed"
    ]
    if failed:
        return CheckResult.failed(
            name,
            points,
            "the block inside the model is not exercise 1's: " + failed[0].message,
            failed[0].hint or BLOCK_HINT,
        )
    return CheckResult.passed(
        name, points, f"the model starts with {', '.join(type(x).__name__ for x in layers)}"
    )


def check_exercise_2(augmented_model, augmented_history, augmented_test_metrics) -> Report:
    """Grade exercise 2: ``augmented_model`` is exercise 1's block followed by the lesson's
    convnet ((28, 28, 1) -> augmentation -> Conv2D(16, 3x3, relu) -> MaxPooling2D(2x2) ->
    Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> Flatten -> Dense(10, softmax); 12,810
    parameters), trained for at least 30 epochs on the first 200 training digits in batches
    of 16 (13 steps an epoch), with test accuracy of at least 0.85 reported by
    ``evaluate(..., return_dict=True)`` and measured again by the grader on the 10,000 test
    digits. Worth 10 points."""
    report = EXERCISE_2_MODEL.grade(augmented_model, augmented_history, augmented_test_metrics)
    if augmented_model is None or not is_keras_model(augmented_model):
        name, points = "augmentation inside", AUGMENTATION_INSIDE_POINTS
        if augmented_model is None:
            todo = "complete the exercise, run its cells, then this check"
            extra = still_none([(name, points)], "augmented_model", todo)
        else:
            extra = [CheckResult.failed(name, points, "not checked: not a keras.Model")]
    else:
        extra = [_check_block_inside(augmented_model, AUGMENTATION_INSIDE_POINTS)]
    results = list(report.results)
    after_layers = next(i for i, r in enumerate(results) if r.name == "layers") + 1
    results[after_layers:after_layers] = extra
    results.append(_check_training_data(augmented_history, TRAINING_DATA_POINTS))
    return Report(report.title, results).finish()


def _check_training_data(history, points: float) -> CheckResult:
    """Was the model trained on the 200 digits of ``x_small`` in batches of 16? The
    History's params record the steps of each epoch."""
    name = "training data"
    if history is None:
        todo = "train the model with augmented_history = augmented_model.fit(...)"
        return still_none([(name, points)], "augmented_history", todo)[0]
    params = getattr(history, "params", None)
    steps = params.get("steps") if isinstance(params, dict) else None
    if steps != STEPS_PER_EPOCH:
        fewer = (
            ": fewer digits than x_small's 200 (validation_split keeps some of them back; "
            "pass validation_data=(x_val, y_val) instead)"
            if isinstance(steps, int) and steps < STEPS_PER_EPOCH
            else ""
        )
        return CheckResult.failed(
            name,
            points,
            f"expected {STEPS_PER_EPOCH} steps per epoch (the {SUBSET} digits of x_small in "
            f"batches of {BATCH_SIZE}), found {steps}{fewer}",
            f"Train on x_small, y_small with batch_size={BATCH_SIZE}: the exercise measures "
            f"what augmentation buys when there are only {SUBSET} digits to learn from.",
        )
    accuracy = getattr(history, "history", {}).get("accuracy") or [0.0]
    if not isinstance(accuracy[0], int | float) or accuracy[0] >= FRESH_START:
        return CheckResult.failed(
            name,
            points,
            f"the first epoch's training accuracy is already {accuracy[0]}: this fit went on "
            "training a model trained before (a training cell run twice, or the baseline's "
            "layers reused), so it is not the convnet trained with augmentation from the start",
            "Run the build cell again (seed_everything(0), then build_convnet(augmentation)), "
            "then train once.",
        )
    return CheckResult.passed(
        name,
        points,
        f"{steps} steps per epoch from a fresh start: the {SUBSET} digits in batches of "
        f"{BATCH_SIZE}",
    )


watch_cells(sys.modules[__name__])
