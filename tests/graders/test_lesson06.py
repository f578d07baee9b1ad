"""Tests of lesson 06's check: HappyModel's architecture, in both spellings, and mistakes."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from data_loaders import load_happy_faces
from graders.heldout import raw_pixels, scale_images, unit_scale
from graders.lesson06 import check_exercise_1
from graders.reference_models import happy_model
from graders.training import SCALING_MARGIN, accuracy_on

pytestmark = pytest.mark.model


def _happy(
    *, conv_activation=None, batch_norm=True, batch_norm_axis=3, relu=True, names=True, head=None
):
    """HappyModel written learner-style (Sequential), with switches for classic mistakes."""
    name = (lambda n: {"name": n}) if names else (lambda n: {})
    stack = [
        keras.Input(shape=(64, 64, 3)),
        layers.ZeroPadding2D((3, 3)),
        layers.Conv2D(32, (7, 7), activation=conv_activation, **name("conv0")),
    ]
    if batch_norm:
        stack.append(layers.BatchNormalization(axis=batch_norm_axis, **name("bn0")))
    if relu:
        stack.append(layers.Activation("relu"))
    stack += [
        layers.MaxPooling2D((2, 2), **name("max_pool")),
        layers.Flatten(),
        head or layers.Dense(1, activation="sigmoid", **name("fc")),
    ]
    return keras.Sequential(stack)


def _layers_result(model):
    report = check_exercise_1(model, None, None)
    return next(r for r in report.results if r.name == "layers")


def test_functional_and_sequential_spellings_pass_the_architecture_checks():
    """Do the functional reference and the Sequential spelling both pass the layer,
    input and parameter checks?"""
    for model in (happy_model(), _happy()):
        report = check_exercise_1(model, None, None)
        passed = {r.name for r in report.results if r.status == "passed"}
        assert {"input shape", "layers", "parameter count"} <= passed, str(report)


MISTAKES = {
    "ReLU before BatchNorm": (
        dict(conv_activation="relu", relu=False),
        "layer 2: expected Conv2D with no activation, found Conv2D with relu activation; "
        "expected 7 layers, found 6; missing: layer 4: Activation('relu')",
    ),
    "BatchNorm missing": (
        dict(batch_norm=False),
        "expected 7 layers, found 6; missing: layer 3: BatchNormalization named 'bn0'",
    ),
    "layers not named": (dict(names=False), "expected Conv2D named 'conv0'"),
    "BatchNorm over the rows": (
        dict(batch_norm_axis=1),
        "layer 3: expected BatchNormalization with axis=3, found BatchNormalization with axis=1",
    ),
    "softmax head": (
        dict(head=layers.Dense(2, activation="softmax", name="fc")),
        "layer 7: expected Dense with 1 units and sigmoid activation, found Dense with 2 units "
        "and softmax activation",
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_gets_a_specific_message(case):
    """Is each classic HappyModel mistake named, with its layer?"""
    options, expected = MISTAKES[case]
    result = _layers_result(_happy(**options))
    assert result.status == "failed"
    assert expected in result.message, result.message


def test_hints_belong_to_lesson_06():
    """Do the parameter-count and training-accuracy hints speak of HappyModel's layers and
    of [0, 1] pixels with 0/1 labels, not of lesson 01's Dense layers and [-0.5, 0.5]?"""
    report = check_exercise_1(
        _happy(batch_norm=False), {"loss": [0.7] * 10, "accuracy": [0.6] * 10}, None
    )
    by_name = {r.name: r for r in report.results}
    assert by_name["parameter count"].hint == (
        "conv0 has (7 x 7 x 3 + 1) x 32 = 4,736 parameters, bn0 4 x 32 = 128 (64 of them the "
        "moving mean and variance), fc (32 x 32 x 32 + 1) x 1 = 32,769: a different count means "
        "a missing ZeroPadding2D or pooling, other filters, kernel or strides, or a "
        "BatchNormalization over another axis than the channels (axis=3)."
    )
    assert by_name["training accuracy above 0.95"].hint == (
        "Scale the images to [0, 1] (x_train.astype('float32') / 255), keep the labels 0 and 1 "
        "with loss='binary_crossentropy', and train for at least 10 epochs."
    )


def test_a_model_trained_on_raw_pixels_is_told_so():
    """Is HappyModel trained on unscaled 0..255 pixels named as such, in the held-out result
    and in the reported test accuracy? Its BatchNorm's moving mean is of raw-pixel size, so
    on [0, 1] or [-0.5, 0.5] pixels it scores far lower."""
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_happy_faces()
    model = happy_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(raw_pixels(x_train), y_train, epochs=5, batch_size=16, verbose=0)
    test_metrics = model.evaluate(raw_pixels(x_test), y_test, return_dict=True, verbose=0)
    report = check_exercise_1(model, history, test_metrics)
    by_name = {r.name: r for r in report.results}
    lesson = accuracy_on(model, unit_scale(x_test), y_test)
    raw = accuracy_on(model, raw_pixels(x_test), y_test)
    assert raw - lesson > SCALING_MARGIN
    assert accuracy_on(model, scale_images(x_test), y_test) < raw - SCALING_MARGIN
    held_out = by_name["accuracy on the grader's test images"]
    assert held_out.message == (
        "expected accuracy of at least 0.90 on 300 images (the course's test images) scaled to "
        f"[0, 1] (x / 255) as the lesson does, found {lesson:.3f}; scaled to raw pixels 0..255 "
        f"(unscaled) the same images give {raw:.3f}: your model was likely trained on inputs "
        "scaled to raw pixels 0..255 (unscaled)"
    )
    assert held_out.hint == (
        "Scale the training images to [0, 1] (x / 255) as the lesson does, train again, then "
        "run this check."
    )
    assert by_name["reported test accuracy at least 0.90"].message == (
        f"the reported test accuracy {test_metrics['accuracy']:.3f} does not match this model's "
        f"accuracy on the test images scaled to [0, 1] (x / 255) as the lesson does, "
        f"{lesson:.3f}: it matches their accuracy scaled to raw pixels 0..255 (unscaled), "
        f"{raw:.3f}, so the model was likely trained and tested on inputs scaled that way"
    )


def test_untouched_exercise_is_not_attempted():
    """Does the stub (model None) report "not attempted" and 0 points?"""
    report = check_exercise_1(None, None, None)
    assert report.status == "not attempted" and report.points == 0
