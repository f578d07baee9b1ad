"""Tests of the checks of lessons 02-05: equivalent spellings pass, each mistake is named."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from data_loaders import load_traffic_signs
from graders import lesson02, lesson03, lesson04, lesson05
from graders.architecture import normalize_layers
from graders.heldout import scale_images
from graders.training import accuracy_on

pytestmark = pytest.mark.model


def _model(*middle, dense=128):
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            *middle,
            layers.Flatten(),
            layers.Dense(dense, activation="relu"),
            layers.Dense(5, activation="softmax"),
        ]
    )


def _layers_result(report):
    return next(r for r in report.results if r.name == "layers")


def _conv(**kwargs):
    return layers.Conv2D(32, (3, 3), **kwargs)


ACCEPTED = {
    "02 activation argument": (lesson02, lambda: _model(_conv(activation="relu"))),
    "02 ReLU layer": (lesson02, lambda: _model(_conv(padding="valid"), layers.ReLU())),
    "03 ReLU after pooling": (
        lesson03,
        lambda: _model(_conv(), layers.MaxPooling2D(), layers.Activation("relu")),
    ),
    "03 ReLU on the convolution": (
        lesson03,
        lambda: _model(_conv(activation="relu"), layers.MaxPooling2D((2, 2))),
    ),
    "03 ReLU before pooling": (
        lesson03,
        lambda: _model(_conv(), layers.ReLU(), layers.MaxPooling2D()),
    ),
    "04 ReLU after dropout": (
        lesson04,
        lambda: _model(_conv(), layers.MaxPooling2D(), layers.Dropout(0.5), layers.ReLU()),
    ),
    "04 ReLU before dropout": (
        lesson04,
        lambda: _model(_conv(), layers.MaxPooling2D(), layers.ReLU(), layers.Dropout(0.5)),
    ),
    "04 ReLU on the convolution": (
        lesson04,
        lambda: _model(_conv(activation="relu"), layers.MaxPooling2D(), layers.Dropout(0.5)),
    ),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_equivalent_spellings_get_the_architecture_points(case):
    """Does every equivalent spelling of a lesson's model get full architecture points?"""
    lesson, build = ACCEPTED[case]
    report = lesson.check_exercise_1(build(), None)
    assert report.points == 6, str(report)


MISTAKES = {
    "02 16 filters": (
        lesson02,
        lambda: _model(layers.Conv2D(16, 3, activation="relu")),
        "layer 1: expected Conv2D with 32 filters, found Conv2D with 16 filters",
    ),
    "02 5x5 kernel": (
        lesson02,
        lambda: _model(layers.Conv2D(32, 5, activation="relu")),
        "layer 1: expected Conv2D with a 3x3 kernel, found Conv2D with a 5x5 kernel",
    ),
    "02 same padding": (
        lesson02,
        lambda: _model(_conv(padding="same", activation="relu")),
        "layer 1: expected Conv2D with valid padding, found Conv2D with same padding",
    ),
    "02 no ReLU": (
        lesson02,
        lambda: _model(_conv()),
        "layer 1: expected Conv2D with relu activation, found Conv2D with no activation",
    ),
    "02 dilated convolution": (
        lesson02,
        lambda: _model(_conv(activation="relu", dilation_rate=2)),
        "layer 1: expected Conv2D with dilation rate 1x1, found Conv2D with dilation rate 2x2",
    ),
    "03 pool 3x3": (
        lesson03,
        lambda: _model(_conv(), layers.MaxPooling2D(3), layers.ReLU()),
        "layer 2: expected MaxPooling2D with strides 2x2 and pool size 2x2, "
        "found MaxPooling2D with strides 3x3 and pool size 3x3",
    ),
    "03 average pooling": (
        lesson03,
        lambda: _model(_conv(), layers.AveragePooling2D(2), layers.ReLU()),
        "layer 2: expected MaxPooling2D with",
    ),
    "03 pooling before the convolution": (
        lesson03,
        lambda: _model(layers.MaxPooling2D(), _conv(), layers.ReLU()),
        "layer 1, MaxPooling2D(2x2), is at the start; it belongs right after Conv2D(32, 3x3)",
    ),
    "04 keep probability": (
        lesson04,
        lambda: _model(_conv(), layers.MaxPooling2D(), layers.Dropout(0.2), layers.ReLU()),
        "layer 3: expected Dropout with rate 0.5, found Dropout with rate 0.2",
    ),
    "04 dropout after the hidden Dense layer": (
        lesson04,
        lambda: keras.Sequential(
            [
                keras.Input(shape=(32, 32, 3)),
                _conv(),
                layers.MaxPooling2D(),
                layers.ReLU(),
                layers.Flatten(),
                layers.Dense(128, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(5, activation="softmax"),
            ]
        ),
        "layer 6, Dropout(0.5), is after Dense(128, relu); it belongs right after "
        "MaxPooling2D(2x2)",
    ),
    "04 dropout before pooling": (
        lesson04,
        lambda: _model(_conv(), layers.Dropout(0.5), layers.MaxPooling2D(), layers.ReLU()),
        "layer 2, Dropout(0.5), is after Conv2D(32, 3x3); it belongs right after MaxPooling2D(2x2)",
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_gets_a_message_naming_layer_and_setting(case):
    """Is each classic mistake (filters, kernel, padding, pool size, rate, order) named?"""
    lesson, build, message = MISTAKES[case]
    result = _layers_result(lesson.check_exercise_1(build(), None))
    assert result.status == "failed"
    assert result.message.startswith(message), result.message
    assert result.hint


def test_dropout_hint_explains_the_rate():
    """Does a wrong dropout rate come with the hint that rate is the fraction dropped?"""
    report = lesson04.check_exercise_1(
        _model(_conv(), layers.MaxPooling2D(), layers.Dropout(0.2), layers.ReLU()), None
    )
    assert "fraction of values dropped" in _layers_result(report).hint


def test_lesson05_reports_each_missing_piece_as_not_attempted():
    """Does lesson 05 say "not attempted" for the stub, and for a missing test_metrics?"""
    assert lesson05.check_exercise_1(None, None, None).status == "not attempted"
    model = _model(_conv(), layers.MaxPooling2D(), layers.Dropout(0.5), layers.ReLU())
    history = {"loss": [1.0] * 8, "accuracy": [0.95] * 8}
    report = lesson05.check_exercise_1(model, history, None)
    reported = report.results[-1]
    assert reported.status == "not attempted" and "test_metrics is still None" in reported.message


def _zeroed(model):
    """``model`` with every weight zero: it predicts class 0 for every image (accuracy 0.2
    on the balanced test split)."""
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    return model


def test_lesson05_checks_the_reported_and_the_regraded_test_accuracy():
    """Are a low reported accuracy, a list instead of a dict, and too few epochs caught?"""
    model = _zeroed(_model(_conv(), layers.MaxPooling2D(), layers.Dropout(0.5), layers.ReLU()))
    short = {"loss": [1.0] * 3, "accuracy": [0.95] * 3}
    report = lesson05.check_exercise_1(model, short, {"accuracy": 0.2, "loss": 1.0})
    by_name = {r.name: r for r in report.results}
    assert by_name["epochs"].status == "failed"
    reported = by_name["reported test accuracy at least 0.90"]
    assert reported.message == "expected test accuracy of at least 0.90, found 0.200"
    assert by_name["accuracy on the grader's test images"].status == "failed"  # untrained
    report = lesson05.check_exercise_1(model, short, [0.1, 0.9])
    assert "return_dict=True" in report.results[-1].hint
    assert normalize_layers(model)[2].rate == 0.5


def test_lesson05_refuses_test_metrics_measured_on_the_training_images():
    """Does a model evaluated on the images it was trained on lose the reported-accuracy
    points, with a message saying so, while its own test accuracy is measured?"""
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_traffic_signs()
    x_small, y_small = scale_images(x_train[:300]), keras.utils.to_categorical(y_train[:300], 5)
    model = _model(_conv(), layers.MaxPooling2D(), layers.Dropout(0.5), layers.ReLU())
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_small, y_small, epochs=8, verbose=0)
    on_training = model.evaluate(x_small, y_small, return_dict=True, verbose=0)
    report = lesson05.check_exercise_1(model, history, on_training)
    measured = accuracy_on(model, scale_images(x_test), y_test)
    assert on_training["accuracy"] - measured > 0.1
    assert report.results[-1].message == (
        f"the reported test accuracy {on_training['accuracy']:.3f} does not match this "
        "model's accuracy on the test images scaled to [-0.5, 0.5] (x / 255 - 0.5) as the "
        f"lesson does, {measured:.3f}: a higher figure like this "
        "comes from evaluating on the training images, which the model has learned"
    )


def test_lesson05_in_the_notebook_a_test_accuracy_far_above_validation_is_caught():
    """In the notebook the grader holds no images the learner lacks, so a model trained on
    the test images scores a true figure there. Is its lead over the validation accuracy of
    its history caught (here: trained again on the test images after fit), with both
    figures and the validation images counted from the history, while the same model's
    honest figure before that passes?"""
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_traffic_signs()
    x_train, x_test = scale_images(x_train), scale_images(x_test)
    y_train, y_test = (keras.utils.to_categorical(y, 5) for y in (y_train, y_test))
    model = _model(_conv(), layers.MaxPooling2D(), layers.Dropout(0.5), layers.ReLU())
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=8, validation_split=0.2, verbose=0)
    honest = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    reported = lesson05.check_exercise_1(model, history, honest).results[-1]
    assert reported.status == "passed", reported.message
    model.fit(x_test, y_test, epochs=4, verbose=0)
    leaked = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    reported = lesson05.check_exercise_1(model, history, leaked).results[-1]
    validation = max(history.history["val_accuracy"])
    assert (reported.status, reported.message, reported.hint) == (
        "failed",
        f"this model scores {leaked['accuracy']:.3f} on the course's test images but at best "
        f"{validation:.3f} on its 600 validation images during training, a lead "
        "that chance gives less than once in 10,000: it was likely trained on the test images "
        "(or trained again after this history)",
        "Train on the training split only (hold out a validation split for your choices) and "
        "evaluate on the test split once, at the end.",
    )
