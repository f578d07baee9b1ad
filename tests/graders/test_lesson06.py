"""Tests of lesson 06's check: HappyModel's architecture, in both spellings, and mistakes."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from graders.lesson06 import check_exercise_1
from graders.reference_models import happy_model


def _happy(*, conv_activation=None, batch_norm=True, relu=True, names=True, head=None):
    """HappyModel written learner-style (Sequential), with switches for classic mistakes."""
    name = (lambda n: {"name": n}) if names else (lambda n: {})
    stack = [
        keras.Input(shape=(64, 64, 3)),
        layers.ZeroPadding2D((3, 3)),
        layers.Conv2D(32, (7, 7), activation=conv_activation, **name("conv0")),
    ]
    if batch_norm:
        stack.append(layers.BatchNormalization(axis=3, **name("bn0")))
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
        "missing: layer 3: BatchNormalization named 'bn0'",
    ),
    "layers not named": (dict(names=False), "expected Conv2D named 'conv0'"),
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


def test_untouched_exercise_is_not_attempted():
    """Does the stub (model None) report "not attempted" and 0 points?"""
    report = check_exercise_1(None, None, None)
    assert report.status == "not attempted" and report.points == 0
