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
from typing import Any

import numpy as np

from course_utils.language import semicolons, translate
from graders.architecture import LayerSpec
from graders.augmentation_block import (
    BlockPlacement,
    RandomLayer,
    asked_present,
    block_layers,
    is_block,
    kind_problems,
    kinds_of,
    range_problems,
)
from graders.behaviour_probe import probe
from graders.cell_errors import failure_for, watch_cells
from graders.common import is_keras_model
from graders.exercise_items import Item, ItemExercise, Need, Outcome
from graders.heldout import LESSON_SCALING, heldout_candidates
from graders.model_exercise import ModelExercise
from graders.report import Report
from graders.rules import Rule, Rules

DATASET = "mnist"  # what the lesson's models learn from and the grader tests them on
ALSO_SHOWN = ("traffic_signs",)  # loaded to show which flips keep a label; not graded on

CLASSES = 10
SUBSET = 200
"""The lesson trains on the first this-many training digits: few enough that a convnet
overfits them, so that augmentation shows what it buys."""

HALF_TURN = 0.5
"""A rotation factor that turns a digit upside down (Keras caps factors at 1)."""
AUGMENTATION = (
    RandomLayer(
        "RandomRotation",
        "RandomRotation(0.05)",
        {"factor": (-0.05, 0.05)},
        too_far=(HALF_TURN, translate("turned that far, a 6 reads as a 9")),
    ),
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
WANTED = [layer.kind for layer in AUGMENTATION]
LABEL_CHANGING = {
    "RandomFlip": translate(
        "a flip turns a digit into its mirror image, left-right or upside down, "
        "which is no digit at all (a mirrored 2, 3 or 7) or another one"
    ),
}
"""Preprocessing layers that change a digit's label, and why."""
SAME_TOLERANCE = 1e-6
"""The largest change to a pixel (in [0, 1]) that counts as unchanged at inference."""
CHANGED = 0.01
"""A pixel that moves more than this was changed by the augmentation."""
MOSTLY = 0.5
"""The share of the digits that the block must change in training, differently each call."""
SAMPLE = 32
"""How many test digits the checks run the block on."""

BLOCK_POINTS = {
    "layers": 4,
    "ranges": 3,
    "unchanged at inference": 2,
    "random in training": 1,
}
BLOCK_HINT = translate("Build it as keras.Sequential([{asked}], name='augmentation').", asked=ASKED)

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
PREPROCESSING_HINT = translate(
    "Train on x_small, y_small (the first 200 digits, scaled to [0, 1], shape (200, 28, 28, "
    "1)) for {epochs} epochs with batch_size={batch_size}: with the augmentation each "
    "epoch shows the model new versions of the digits, so it needs those epochs.",
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
)


def sample_digits() -> np.ndarray:
    """The first :data:`SAMPLE` test digits, float32 in [0, 1], shape (32, 28, 28, 1)."""
    heldout = heldout_candidates(DATASET)[0]
    return heldout.scaled(LESSON_SCALING[DATASET], first=SAMPLE)[..., None]


# --- exercise 1: the block ---------------------------------------------------------------


def _label_changing(kind: str, why: str) -> Rule[list[str]]:
    return Rule(
        lambda kinds: kind in kinds,
        translate(
            "the block holds a {kind}: {why}, so the model would learn from digits with the "
            "wrong label",
            kind=kind,
            why=why,
        ),
        translate(
            "Remove the {kind}. For digits only small turns, zooms and shifts keep the label: "
            "{asked}.",
            kind=kind,
            asked=ASKED,
        ),
    )


LAYER_KINDS = Rules(
    rules=(
        *(_label_changing(kind, why) for kind, why in LABEL_CHANGING.items()),
        Rule(
            lambda kinds: bool(kind_problems(kinds, WANTED)),
            lambda kinds: translate(
                "expected {wanted} (in any order), found {found}; {problems}",
                wanted=", ".join(WANTED),
                found=", ".join(kinds) or translate("no layers"),
                problems=semicolons(kind_problems(kinds, WANTED)),
            ),
            BLOCK_HINT,
        ),
    ),
    passed=lambda kinds: translate("{kinds}: each keeps a digit's label", kinds=", ".join(kinds)),
)
"""Over the kinds of the block's layers (class names, in order)."""


def _ranges_passed(layers: list) -> str:
    present = asked_present(AUGMENTATION, layers)
    if len(present) < len(AUGMENTATION):
        spellings = ", ".join(expected.spelling for expected, _ in present)
        return translate("those present are right: {spellings} (see 'layers')", spellings=spellings)
    return translate("{asked}: up to 18°, 10% zoom, 10% shift", asked=ASKED)


RANGES = Rules(
    rules=(
        Rule(
            lambda layers: bool(range_problems(AUGMENTATION, layers)),
            lambda layers: semicolons(range_problems(AUGMENTATION, layers)),
            translate(
                "The lesson's ranges: {asked}. Small enough that every digit stays readable.",
                asked=ASKED,
            ),
        ),
        Rule(
            lambda layers: not asked_present(AUGMENTATION, layers),
            translate("not checked: the block holds none of the asked layers (see 'layers')"),
        ),
    ),
    passed=_ranges_passed,
)
"""Over the block's layers (nested blocks opened)."""

UNCHANGED_AT_INFERENCE = Rules(
    rules=(
        Rule(
            lambda run: run.error is not None,
            lambda run: translate(
                "augmentation(digits, training=False) on {shape} digits raised {raised}",
                shape=run.inputs.shape,
                raised=run.raised,
            ),
            translate(
                "The block takes the digits as the convnet does: float32 in [0, 1], shape "
                "(N, 28, 28, 1)."
            ),
        ),
        Rule(
            lambda run: run.reshaped,
            lambda run: translate(
                "with training=False the block turned {inputs} digits into {shape}",
                inputs=run.inputs.shape,
                shape=run.shape,
            ),
            translate("Augmentation changes pixels, never the shape: keep only the asked layers."),
        ),
        Rule(
            lambda run: run.largest_change > SAME_TOLERANCE,
            lambda run: translate(
                "with training=False the block still changed the digits (pixels moved "
                "by up to {change:.2f}): at inference, a test digit must reach the "
                "convnet as it is",
                change=run.largest_change,
            ),
            translate(
                "Keras's Random* layers act only when training=True; a Lambda or another layer "
                "that always transforms would change the test digits too."
            ),
        ),
    ),
    passed=lambda run: translate(
        "training=False leaves all {count} test digits exactly as they are", count=run.count
    ),
)
RANDOM_IN_TRAINING = Rules(
    rules=(
        Rule(
            lambda runs: runs.error is not None,
            lambda runs: translate(
                "augmentation(digits, training=True) raised {raised}", raised=runs.raised
            ),
        ),
        Rule(
            lambda runs: runs.reshaped,
            lambda runs: translate(
                "with training=True the block returned shape {shape}", shape=runs.shape
            ),
        ),
        Rule(
            lambda runs: (
                runs.changed(CHANGED) / runs.count >= MOSTLY
                and runs.varied(CHANGED) / runs.count < MOSTLY
            ),
            lambda runs: translate(
                "with training=True the block changed {changed} of "
                "{count} digits but the same way on every call (two calls differed on "
                "{varied}): it transforms, but not at random",
                changed=runs.changed(CHANGED),
                count=runs.count,
                varied=runs.varied(CHANGED),
            ),
            translate(
                "Keep only the Random* layers: a layer that always does the same (Rescaling, a "
                "Lambda) gives the model no new versions of the digits."
            ),
        ),
        Rule(
            lambda runs: runs.changed(CHANGED) / runs.count < MOSTLY,
            lambda runs: translate(
                "with training=True the block changed only {changed} "
                "of {count} digits, and two calls differed on {varied}: it "
                "augments almost nothing",
                changed=runs.changed(CHANGED),
                count=runs.count,
                varied=runs.varied(CHANGED),
            ),
            translate(
                "Give each layer the range the exercise asks for; a factor of 0 never changes "
                "anything."
            ),
        ),
    ),
    passed=lambda runs: translate(
        "training=True changes {changed} of {count} digits, differently on each call",
        changed=runs.changed(CHANGED),
        count=runs.count,
    ),
)


def _block_problem(block: object) -> str:
    """Why ``block`` cannot be graded as an augmentation block."""
    if isinstance(block, list | tuple):
        return translate(
            "expected augmentation to be a keras.Sequential, found a {found} "
            "of layers: a list cannot be called on images or put inside a model",
            found=type(block).__name__,
        )
    return translate(
        "expected augmentation to be a keras.Sequential, found {found}",
        found=type(block).__name__,
    )


BLOCK = Need(
    "augmentation",
    todo=translate("build it with keras.Sequential([...]) and run its cell"),
    valid=is_block,
    invalid=_block_problem,
    hint=translate("Wrap the layers: augmentation = keras.Sequential([{asked}]).", asked=ASKED),
)
EXERCISE_1 = ItemExercise(
    title=translate("Exercise 1 · An augmentation block that keeps the label"),
    items=(
        Item(
            "layers",
            BLOCK_POINTS["layers"],
            LAYER_KINDS,
            subject=lambda found: kinds_of(block_layers(found["augmentation"])),
            needs=(BLOCK,),
        ),
        Item(
            "ranges",
            BLOCK_POINTS["ranges"],
            RANGES,
            subject=lambda found: block_layers(found["augmentation"]),
            needs=(BLOCK,),
        ),
        Item(
            "unchanged at inference",
            BLOCK_POINTS["unchanged at inference"],
            UNCHANGED_AT_INFERENCE,
            subject=lambda found: probe(found["augmentation"], sample_digits(), training=False),
            needs=(BLOCK,),
        ),
        Item(
            "random in training",
            BLOCK_POINTS["random in training"],
            RANDOM_IN_TRAINING,
            subject=lambda found: probe(
                found["augmentation"], sample_digits(), training=True, calls=2
            ),
            needs=(BLOCK,),
        ),
    ),
)


def check_exercise_1(augmentation) -> Report:
    """Grade exercise 1: ``augmentation`` is a ``keras.Sequential`` holding
    ``RandomRotation(0.05)``, ``RandomZoom(0.1)`` and ``RandomTranslation(0.1, 0.1)`` (in
    any order, nothing else: no flip, which changes a digit's label); run on 32 test
    digits (float32 in [0, 1], shape (32, 28, 28, 1)) it returns them unchanged with
    ``training=False`` and changes them, differently on each call, with ``training=True``.
    Worth 10 points."""
    return EXERCISE_1.grade(augmentation=augmentation)


# --- exercise 2: the convnet with the block ----------------------------------------------


def _not_exercise_1s(place: BlockPlacement) -> Outcome | None:
    """The first of exercise 1's layers and ranges checks that the model's block fails
    (None: neither)."""
    layers = place.block_layers
    outcomes = (LAYER_KINDS(kinds_of(layers)), RANGES(layers))
    return next((outcome for outcome in outcomes if not outcome.passed), None)


AUGMENTATION_INSIDE = Rules(
    rules=(
        Rule(  # build_convnet(None) builds the convnet without a block
            lambda place: place.first_block is None and failure_for("augmentation") is not None,
            lambda place: translate(
                "the model holds no augmentation block because exercise 1's block "
                "was never built: {error}",
                error=failure_for("augmentation").describe("augmentation"),
            ),
            translate(
                "Fix exercise 1 first (see its report), then run this exercise's cells again: "
                "build_convnet(augmentation) puts your block in the model."
            ),
        ),
        Rule(
            lambda place: place.first_block is None,
            translate(
                "the model holds no augmentation block: it trains on the same 200 digits every "
                "epoch"
            ),
            translate("Build it with build_convnet(augmentation), your block from exercise 1."),
        ),
        Rule(
            lambda place: place.first_block != 0,
            lambda place: translate(
                "the augmentation block is layer {position}, after "
                "{before}: it must come first, so that it transforms the digits themselves "
                "before any layer sees them",
                position=place.first_block + 1,
                before=place.before,
            ),
            translate(
                "Build the model with build_convnet(augmentation), which puts the block right "
                "after the input."
            ),
        ),
        Rule(
            lambda place: _not_exercise_1s(place) is not None,
            lambda place: translate(
                "the block inside the model is not exercise 1's: {problem}",
                problem=_not_exercise_1s(place).message,
            ),
            lambda place: _not_exercise_1s(place).hint or BLOCK_HINT,
        ),
    ),
    passed=lambda place: translate(
        "the model starts with {kinds}", kinds=", ".join(kinds_of(place.block_layers))
    ),
)


@dataclass(frozen=True)
class Training:
    """What the learner's History records of the fit."""

    history: Any

    @property
    def steps(self) -> Any:
        """The steps of each epoch, as the History's params record them (None: unknown)."""
        params = getattr(self.history, "params", None)
        return params.get("steps") if isinstance(params, dict) else None

    @property
    def first_accuracy(self) -> Any:
        """The training accuracy of the first epoch (0.0 when none is recorded)."""
        return (getattr(self.history, "history", {}).get("accuracy") or [0.0])[0]


def _wrong_steps(steps: Any) -> str:
    """What the history's steps per epoch say when they are not the asked ones, and why
    when they are fewer."""
    fields = {"expected": STEPS_PER_EPOCH, "subset": SUBSET, "batch": BATCH_SIZE, "found": steps}
    if isinstance(steps, int) and steps < STEPS_PER_EPOCH:
        return translate(
            "expected {expected} steps per epoch (the {subset} digits of x_small in batches of "
            "{batch}), found {found}: fewer digits than x_small's 200 (validation_split keeps "
            "some of them back; pass validation_data=(x_val, y_val) instead)",
            **fields,
        )
    return translate(
        "expected {expected} steps per epoch (the {subset} digits of x_small in batches of "
        "{batch}), found {found}",
        **fields,
    )


TRAINING_DATA = Rules(
    rules=(
        Rule(
            lambda fit: fit.steps != STEPS_PER_EPOCH,
            lambda fit: _wrong_steps(fit.steps),
            translate(
                "Train on x_small, y_small with batch_size={batch}: the exercise measures "
                "what augmentation buys when there are only {subset} digits to learn from.",
                batch=BATCH_SIZE,
                subset=SUBSET,
            ),
        ),
        Rule(
            lambda fit: (
                not isinstance(fit.first_accuracy, int | float) or fit.first_accuracy >= FRESH_START
            ),
            lambda fit: translate(
                "the first epoch's training accuracy is already {accuracy}: "
                "this fit went on training a model trained before (a training cell run twice, or "
                "the baseline's layers reused), so it is not the convnet trained with augmentation "
                "from the start",
                accuracy=fit.first_accuracy,
            ),
            translate(
                "Run the build cell again (seed_everything(0), then build_convnet(augmentation)), "
                "then train once."
            ),
        ),
    ),
    passed=lambda fit: translate(
        "{steps} steps per epoch from a fresh start: the {subset} digits in batches of {batch}",
        steps=fit.steps,
        subset=SUBSET,
        batch=BATCH_SIZE,
    ),
)
"""Was the model trained on the 200 digits of ``x_small`` in batches of 16, from scratch?"""

EXERCISE_2 = ModelExercise(
    title=translate("Exercise 2 · Train the convnet with augmentation"),
    names=("augmented_model", "augmented_history", "augmented_test_metrics"),
    input_shape=(28, 28, 1),
    input_hint=translate(
        "The convnet takes the digits with their channel axis: keras.Input(shape=(28, "
        "28, 1)), as build_convnet does."
    ),
    layers=CONVNET_LAYERS,
    equivalents=tuple([LayerSpec(kind), *CONVNET_LAYERS[1:]] for kind in BLOCK_KINDS[1:]),
    params=CONVNET_PARAMS,
    hints={
        position: translate(
            "Put your augmentation block first, right after the input: "
            "augmented_model = build_convnet(augmentation)."
        )
        for position in (1, 2)
    },
    min_epochs=EPOCHS,
    train_threshold=TRAIN_THRESHOLD,
    dataset=DATASET,
    preprocessing_hint=PREPROCESSING_HINT,
    params_hint=translate(
        "build_convnet's convnet has {params:,} parameters and the "
        "augmentation layers none: build the model with build_convnet(augmentation).",
        params=CONVNET_PARAMS,
    ),
    heldout_threshold=TEST_THRESHOLD,
    test_threshold=TEST_THRESHOLD,
    points=MODEL_POINTS,
    training_sample=SUBSET,  # its history is measured on the 200 digits it trained on
    extra_items=(
        Item(
            "augmentation inside",
            AUGMENTATION_INSIDE_POINTS,
            AUGMENTATION_INSIDE,
            subject=lambda found: BlockPlacement.of(found["augmented_model"]),
            needs=(
                Need(
                    "augmented_model",
                    todo=translate("complete the exercise, run its cells, then this check"),
                    valid=is_keras_model,
                    invalid=translate("not checked: not a keras.Model"),
                ),
            ),
            after="layers",
        ),
        Item(
            "training data",
            TRAINING_DATA_POINTS,
            TRAINING_DATA,
            subject=lambda found: Training(found["augmented_history"]),
            needs=(
                Need(
                    "augmented_history",
                    todo=translate(
                        "train the model with augmented_history = augmented_model.fit(...)"
                    ),
                ),
            ),
        ),
    ),
)


def check_exercise_2(augmented_model, augmented_history, augmented_test_metrics) -> Report:
    """Grade exercise 2: ``augmented_model`` is exercise 1's block followed by the lesson's
    convnet ((28, 28, 1) -> augmentation -> Conv2D(16, 3x3, relu) -> MaxPooling2D(2x2) ->
    Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> Flatten -> Dense(10, softmax); 12,810
    parameters), trained for at least 30 epochs on the first 200 training digits in batches
    of 16 (13 steps an epoch), with test accuracy of at least 0.85 reported by
    ``evaluate(..., return_dict=True)`` and measured again by the grader on the 10,000 test
    digits. Worth 10 points."""
    return EXERCISE_2.grade(augmented_model, augmented_history, augmented_test_metrics)


watch_cells(sys.modules[__name__])
