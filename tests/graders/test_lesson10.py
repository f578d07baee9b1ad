"""Tests of lesson 10's checks on real MNIST: the augmentation block in every spelling the
lesson accepts and with the mistakes learners make (a flip, degrees for a fraction of a
turn, a half turn, a missing layer, a list, a layer that also acts at inference), and the
convnet trained with it, without it and too briefly."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras import layers

from data_loaders import load_mnist
from graders.cell_errors import CellFailure, reported_failures
from graders.lesson10 import (
    BATCH_SIZE,
    EPOCHS,
    SUBSET,
    TEST_THRESHOLD,
    check_exercise_1,
    check_exercise_2,
)

pytestmark = pytest.mark.model


def _result(report, name: str):
    return next(r for r in report.results if r.name.startswith(name))


def _block(*stack, name="augmentation"):
    return keras.Sequential(list(stack), name=name)


def _lesson_layers():
    return [
        layers.RandomRotation(0.05),
        layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, 0.1),
    ]


def _convnet(augmentation=None):
    """The lesson's build_convnet."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            *([augmentation] if augmentation is not None else []),
            layers.Conv2D(16, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def _functional_block():
    inputs = keras.Input(shape=(28, 28, 1))
    outputs = inputs
    for layer in _lesson_layers():
        outputs = layer(outputs)
    return keras.Model(inputs, outputs, name="augmentation")


BLOCK_SPELLINGS = {
    "the lesson's": lambda: _block(*_lesson_layers()),
    "another order": lambda: _block(*reversed(_lesson_layers())),
    "ranges as intervals": lambda: _block(
        layers.RandomRotation((-0.05, 0.05)),
        layers.RandomZoom((-0.1, 0.1), (-0.1, 0.1)),
        layers.RandomTranslation((-0.1, 0.1), (-0.1, 0.1)),
    ),
    "with an Input and another fill mode": lambda: _block(
        keras.Input(shape=(28, 28, 1)),
        layers.RandomRotation(0.05, fill_mode="constant"),
        layers.RandomZoom(0.1, fill_mode="constant"),
        layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
    ),
    "a Functional model": lambda: _functional_block(),
    "a Pipeline": lambda: layers.Pipeline(_lesson_layers()),
    "nested blocks": lambda: _block(
        _block(layers.RandomRotation(0.05), name="turn"),
        _block(layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1), name="resize"),
    ),
}


@pytest.mark.parametrize("build", BLOCK_SPELLINGS.values(), ids=BLOCK_SPELLINGS.keys())
def test_every_spelling_of_the_block_gets_full_marks(build):
    """Do the lesson's block, its layers in another order, ranges written as intervals, an
    Input with another fill mode, and blocks nested in a block all get 10/10?"""
    report = check_exercise_1(build())
    assert report.points == report.max_points == 10, str(report)


BLOCK_MISTAKES = {
    "a flip": (
        lambda: _block(layers.RandomFlip("horizontal"), *_lesson_layers()),
        "layers",
        "the block holds a RandomFlip: a flip turns a digit into its mirror image, left-right "
        "or upside down, which is no digit at all (a mirrored 2, 3 or 7) or another one, so "
        "the model would learn from digits with the wrong label",
        "Remove the RandomFlip.",
    ),
    "half a turn": (
        lambda: _block(
            layers.RandomRotation(0.5), layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1)
        ),
        "ranges",
        "RandomRotation's factor is (-0.5, 0.5), a turn of -180° to +180°, expected (-0.05, "
        "0.05), a turn of -18° to +18°: turned that far, a 6 reads as a 9",
        "The lesson's ranges",
    ),
    "zoom too large": (
        lambda: _block(
            layers.RandomRotation(0.05), layers.RandomZoom(0.5), layers.RandomTranslation(0.1, 0.1)
        ),
        "ranges",
        "RandomZoom's height_factor is (-0.5, 0.5), -50% to +50% of the size, expected (-0.1, "
        "0.1), -10% to +10% of the size",
        "The lesson's ranges",
    ),
    "a missing layer": (
        lambda: _block(layers.RandomRotation(0.05), layers.RandomZoom(0.1)),
        "layers",
        "expected RandomRotation, RandomZoom, RandomTranslation (in any order), found "
        "RandomRotation, RandomZoom; missing: RandomTranslation",
        "Build it as keras.Sequential([RandomRotation(0.05), RandomZoom(0.1), "
        "RandomTranslation(0.1, 0.1)], name='augmentation').",
    ),
    "an extra layer": (
        lambda: _block(*_lesson_layers(), layers.RandomContrast(0.2)),
        "layers",
        "found RandomRotation, RandomZoom, RandomTranslation, RandomContrast; not asked for: "
        "RandomContrast",
        "Build it as keras.Sequential(",
    ),
    "a list": (
        _lesson_layers,
        "layers",
        "expected augmentation to be a keras.Sequential, found a list of layers: a list "
        "cannot be called on images or put inside a model",
        "Wrap the layers: augmentation = keras.Sequential(",
    ),
    "one layer alone": (
        lambda: layers.RandomRotation(0.05),
        "layers",
        "expected augmentation to be a keras.Sequential, found RandomRotation",
        "Wrap the layers",
    ),
}


@pytest.mark.parametrize(
    ("build", "item", "message", "hint"), BLOCK_MISTAKES.values(), ids=BLOCK_MISTAKES.keys()
)
def test_each_mistake_in_the_block_is_named(build, item, message, hint):
    """Does a flip, a rotation of half a turn, a zoom too large, a missing or an extra
    layer, a plain list or a lone layer fail with a message that names it? (A rotation in
    degrees, RandomRotation(18), raises in the learner's cell: tests/graders/
    test_cell_errors.py pins its explanation.)"""
    report = check_exercise_1(build())
    result = _result(report, item)
    assert result.status == "failed", str(report)
    assert message in result.message, result.message
    assert hint in result.hint, result.hint
    assert report.points < report.max_points


def test_a_layer_that_also_acts_at_inference_is_caught():
    """Does a block that inverts the digits whether training or not (a Lambda) fail
    "unchanged at inference", naming by how much it changed them?"""
    block = _block(*_lesson_layers(), layers.Lambda(lambda x: 1.0 - x))
    report = check_exercise_1(block)
    result = _result(report, "unchanged at inference")
    assert result.status == "failed"
    assert result.message == (
        "with training=False the block still changed the digits (pixels moved by up to "
        "1.00): at inference, a test digit must reach the convnet as it is"
    ), result.message
    assert "act only when training=True" in result.hint


def test_a_block_that_always_rescales_is_told_it_is_not_random():
    """Does a block with a Rescaling (the digits are already in [0, 1]) fail "layers",
    naming it, and "random in training" for transforming the same way on every call?"""
    report = check_exercise_1(_block(*_lesson_layers(), layers.Rescaling(1 / 255)))
    assert "not asked for: Rescaling" in _result(report, "layers").message
    result = _result(report, "random in training")
    assert result.status == "failed"
    assert result.message == (
        "with training=True the block changed 32 of 32 digits but the same way on every "
        "call (two calls differed on 0): it transforms, but not at random"
    ), result.message
    assert "Rescaling" in result.hint


def test_a_block_of_zero_ranges_augments_nothing():
    """Do factors of 0 fail both the ranges and "random in training"?"""
    block = _block(
        layers.RandomRotation(0.0), layers.RandomZoom(0.0), layers.RandomTranslation(0.0, 0.0)
    )
    report = check_exercise_1(block)
    assert _result(report, "ranges").status == "failed"
    result = _result(report, "random in training")
    assert result.status == "failed"
    assert result.message.startswith("with training=True the block changed only 0 of 32")
    assert result.message.endswith("it augments almost nothing"), result.message


def test_an_untouched_block_is_not_attempted():
    report = check_exercise_1(None)
    assert report.status == "not attempted" and report.points == 0, str(report)


@pytest.fixture(scope="module")
def digits():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train = x_train.astype("float32")[..., None] / 255.0
    x_test = x_test.astype("float32")[..., None] / 255.0
    return x_train[:SUBSET], y_train[:SUBSET], x_test, y_test


def _trained(digits, augmentation, epochs=EPOCHS):
    x_small, y_small, x_test, y_test = digits
    keras.utils.set_random_seed(0)
    model = _convnet(augmentation)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_small, y_small, epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
    metrics = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    return model, history, metrics


def test_the_convnet_without_augmentation_fails_and_is_told_why(digits):
    """Does the baseline, submitted as exercise 2, fail for its missing block (layers and
    "augmentation inside") and its test accuracy below the target, each said plainly?"""
    model, history, metrics = _trained(digits, None)
    assert metrics["accuracy"] < TEST_THRESHOLD  # what the exercise is about
    report = check_exercise_2(model, history, metrics)
    layers_result = _result(report, "layers")
    assert layers_result.status == "failed"
    assert "missing: layer 1: Sequential" in layers_result.message, layers_result.message
    assert "augmented_model = build_convnet(augmentation)" in layers_result.hint
    inside = _result(report, "augmentation inside")
    assert inside.message == (
        "the model holds no augmentation block: it trains on the same 200 digits every epoch"
    )
    held_out = _result(report, "accuracy on the grader's test images")
    assert held_out.status == "failed" and "0.85" in held_out.message, held_out.message
    # Its perfect training accuracy is its own: the grader measures 1.0 on the 200 digits.
    assert _result(report, "training accuracy").status == "passed"
    assert _result(report, "training data").status == "passed"


# The lesson's own run gets full marks in lessons/solutions/10_augmentation.ipynb, which the
# suite executes with every check required to pass.


def test_too_few_epochs_are_named(digits):
    """Does a convnet with the block trained for 3 epochs fail "epochs", naming 30?"""
    report = check_exercise_2(*_trained(digits, _block(*_lesson_layers()), epochs=3))
    result = _result(report, "epochs")
    assert result.status == "failed"
    assert "3" in result.message and "30" in result.message, result.message


def test_training_on_all_the_digits_is_named():
    """Does a history of 3,750 steps an epoch (all 60,000 digits in batches of 16) fail
    "training data", naming the 13 steps of the 200 digits?"""
    report = check_exercise_2(_convnet(_block(*_lesson_layers())), _history(3750, 0.2), None)
    result = _result(report, "training data")
    assert result.status == "failed"
    assert result.message == (
        "expected 13 steps per epoch (the 200 digits of x_small in batches of 16), found 3750"
    )
    assert "batch_size=16" in result.hint


def _history(steps: int, first_accuracy: float) -> SimpleNamespace:
    accuracy = [first_accuracy] + [0.9] * (EPOCHS - 1)
    return SimpleNamespace(
        history={"loss": [0.3] * EPOCHS, "accuracy": accuracy},
        params={"epochs": EPOCHS, "steps": steps, "verbose": 0},
    )


def test_training_on_part_of_the_digits_names_validation_split():
    """Does a history of 10 steps an epoch (validation_split=0.2 kept 160 digits) say that
    fewer digits were used, and how to keep all 200?"""
    report = check_exercise_2(_convnet(_block(*_lesson_layers())), _history(10, 0.2), None)
    result = _result(report, "training data")
    assert result.message == (
        "expected 13 steps per epoch (the 200 digits of x_small in batches of 16), found 10: "
        "fewer digits than x_small's 200 (validation_split keeps some of them back; pass "
        "validation_data=(x_val, y_val) instead)"
    ), result.message


def test_a_fit_that_goes_on_from_a_trained_model_is_refused():
    """Does a history whose first epoch already scores 0.88 (a training cell run twice,
    or the trained baseline's layers behind the block) fail "training data", saying so?"""
    report = check_exercise_2(_convnet(_block(*_lesson_layers())), _history(13, 0.88), None)
    result = _result(report, "training data")
    assert result.status == "failed"
    assert result.message.startswith(
        "the first epoch's training accuracy is already 0.88: this fit went on training a "
        "model trained before"
    ), result.message
    assert "build_convnet(augmentation)" in result.hint


def test_a_block_after_the_first_convolution_is_named():
    """Does a model with the block after its first Conv2D fail "augmentation inside",
    saying where it is and where it belongs?"""
    block = _block(*_lesson_layers())
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), activation="relu"),
            block,
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    report = check_exercise_2(model, None, None)
    inside = _result(report, "augmentation inside")
    assert inside.status == "failed"
    assert inside.message == (
        "the augmentation block is layer 2, after Conv2D: it must come first, so that it "
        "transforms the digits themselves before any layer sees them"
    )
    assert "build_convnet(augmentation)" in _result(report, "layers").hint


def test_a_convnet_built_after_exercise_1_failed_is_told_that_exercise_1_failed():
    """When exercise 1's cell raised (degrees for a fraction of a turn), augmentation is
    still None and build_convnet(augmentation) builds the convnet without a block: does
    "augmentation inside" say that exercise 1's cell raised, instead of asking for the
    build_convnet(augmentation) the learner wrote?"""
    source = "augmentation = None\naugmentation = keras.Sequential([layers.RandomRotation(18)])"
    with pytest.raises(ValueError) as raised:
        layers.RandomRotation(18)
    with reported_failures({"augmentation": CellFailure(raised.value, source)}):
        report = check_exercise_2(_convnet(None), None, None)
    inside = _result(report, "augmentation inside")
    assert inside.status == "failed"
    assert inside.message.startswith(
        "the model holds no augmentation block because exercise 1's block was never built: "
        "your cell that sets augmentation raised ValueError: "
    ), inside.message
    assert inside.hint.startswith("Fix exercise 1 first (see its report)"), inside.hint


def test_a_flip_inside_the_model_is_named_before_training():
    """Does a model whose block holds a flip fail "augmentation inside" with the flip's
    reason, while its training is still "not attempted"?"""
    block = _block(layers.RandomFlip("horizontal"), *_lesson_layers())
    report = check_exercise_2(_convnet(block), None, None)
    inside = _result(report, "augmentation inside")
    assert inside.status == "failed"
    assert inside.message.startswith(
        "the block inside the model is not exercise 1's: the block holds a RandomFlip"
    ), inside.message
    assert _result(report, "epochs").status == "not attempted"


def test_an_untouched_exercise_2_is_not_attempted():
    report = check_exercise_2(None, None, None)
    assert report.status == "not attempted" and report.points == 0, str(report)
    assert {r.status for r in report.results} == {"not attempted"}


def test_a_model_that_is_not_a_keras_model_fails_every_item():
    report = check_exercise_2(np.zeros(3), None, None)
    assert report.points == 0
    assert (
        report.results[0].message == "expected augmented_model to be a keras.Model, found ndarray"
    )
