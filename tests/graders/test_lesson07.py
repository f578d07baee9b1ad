"""Tests of lesson 07's checks: the assembled ResNet50, and the untouched exercises."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from graders import lesson07
from graders.reference_models import (
    BN_MOMENTUM,
    REFERENCE,
    RESNET50_STAGES,
    BlockVariant,
    residual_block,
    resnet50,
)

pytestmark = pytest.mark.model


def _resnet(
    variant_at: tuple[int, str] | None = None,
    variant: BlockVariant = REFERENCE,
    skip: tuple[int, str] | None = None,
    shortcut_first: bool = False,
    global_pooling: bool = False,
):
    """ResNet50 assembled learner-style; one block may be miswired or skipped."""
    inputs = keras.Input(shape=(64, 64, 3))
    x = layers.ZeroPadding2D((3, 3))(inputs)
    x = layers.Conv2D(64, (7, 7), strides=(2, 2), name="conv1")(x)
    x = layers.BatchNormalization(axis=3, momentum=BN_MOMENTUM, name="bn_conv1")(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for stage, filters, stride, identities in RESNET50_STAGES:
        for index, block in enumerate("abcdef"[: identities + 1]):
            if (stage, block) == skip:
                continue
            chosen = variant if (stage, block) == variant_at else REFERENCE
            if index == 0 and shortcut_first:
                # Write the shortcut branch before the main path: a different layer order.
                shortcut = layers.Conv2D(
                    filters[2], 1, strides=stride, name=f"res{stage}a_branch1"
                )(x)
                shortcut = layers.BatchNormalization(
                    axis=3, momentum=BN_MOMENTUM, name=f"bn{stage}a_branch1"
                )(shortcut)
                main = x
                for part, (f, size, s, pad) in zip(
                    "abc",
                    [
                        (filters[0], 1, stride, "valid"),
                        (filters[1], 3, 1, "same"),
                        (filters[2], 1, 1, "valid"),
                    ],
                    strict=True,
                ):
                    main = layers.Conv2D(
                        f, size, strides=s, padding=pad, name=f"res{stage}a_branch2{part}"
                    )(main)
                    main = layers.BatchNormalization(
                        axis=3, momentum=BN_MOMENTUM, name=f"bn{stage}a_branch2{part}"
                    )(main)
                    if part != "c":
                        main = layers.Activation("relu")(main)
                x = layers.Activation("relu")(layers.Add()([main, shortcut]))
                continue
            x = residual_block(
                x,
                3,
                filters,
                stage,
                block,
                s=stride if index == 0 else 1,
                shortcut_conv=index == 0,
                variant=chosen,
            )
    if global_pooling:  # the stage-5 maps are 2x2: the same averages, already flat
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    else:
        x = layers.AveragePooling2D((2, 2), name="avg_pool")(x)
        x = layers.Flatten()(x)
    outputs = layers.Dense(6, activation="softmax", name="fc6")(x)
    return keras.Model(inputs, outputs, name="ResNet50")


def test_the_reference_and_a_differently_ordered_model_get_full_marks():
    """Does ResNet50 pass whether the shortcut branch is written before or after the
    main path (a different order of model.layers), and with GlobalAveragePooling2D named
    avg_pool in place of AveragePooling2D((2, 2)) + Flatten, which computes the same
    function on the 2x2 maps of stage 5 with the same 23,600,006 parameters?"""
    for model in (resnet50(), _resnet(shortcut_first=True), _resnet(global_pooling=True)):
        report = lesson07.check_exercise_3(model)
        assert report.points == report.max_points == 10, str(report)


def test_a_skipped_block_is_named():
    """Does leaving out one identity block name its missing layers?"""
    report = lesson07.check_exercise_3(_resnet(skip=(4, "f")))
    text = str(report)
    assert "no layer named 'res4f_branch2a'" in text, text
    assert report.points < report.max_points


def test_a_miswired_block_fails_the_function_check_only():
    """Does a block without its final ReLU keep the names and parameters but fail "same
    function"?"""
    model = _resnet(variant_at=(3, "b"), variant=BlockVariant(final_relu=False))
    report = lesson07.check_exercise_3(model)
    statuses = {result.name: result.status for result in report.results}
    assert statuses == {
        "input and output": "passed",
        "named layers": "passed",
        "parameter count": "passed",
        "same function": "failed",
    }, str(report)


def test_the_default_batch_norm_momentum_is_named():
    """Does a model with Keras's default BatchNormalization momentum get told which layer
    and which value?"""
    model = resnet50()
    model.get_layer("bn_conv1").momentum = 0.99
    text = str(lesson07.check_exercise_3(model))
    assert "'bn_conv1': momentum 0.9 expected, found 0.99" in text, text


@pytest.mark.parametrize(
    "check, arguments",
    [
        (lesson07.check_exercise_1, (None,)),
        (lesson07.check_exercise_2, (None,)),
        (lesson07.check_exercise_3, (None,)),
        (lesson07.check_exercise_4, (None, None, None)),
    ],
    ids=["identity block", "convolutional block", "assemble", "train"],
)
def test_untouched_exercises_are_not_attempted(check, arguments):
    """Does every exercise left at None report "not attempted" with 0 points?"""
    report = check(*arguments)
    assert report.status == "not attempted" and report.points == 0


def test_training_check_refuses_a_wrong_history():
    """Does exercise 4 explain a history that is not what fit returned?"""
    report = lesson07.check_exercise_4(resnet50(), "fitted", None)
    assert "expected the History returned by model.fit" in str(report)


def test_a_wrong_identity_block_sends_the_learner_back_to_exercise_1():
    """When every identity block lacks a BatchNormalization (a mistake of exercise 1), is
    the learner told to fix exercise 1 first, not to rename layers?"""
    inputs = keras.Input(shape=(64, 64, 3))
    x = layers.ZeroPadding2D((3, 3))(inputs)
    x = layers.Conv2D(64, (7, 7), strides=(2, 2), name="conv1")(x)
    x = layers.BatchNormalization(axis=3, momentum=BN_MOMENTUM, name="bn_conv1")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(layers.Activation("relu")(x))
    no_bn = BlockVariant(main_bn=(True, False, True))
    for stage, filters, stride, identities in RESNET50_STAGES:
        x = residual_block(x, 3, filters, stage, "a", s=stride, shortcut_conv=True)
        for block in "bcdef"[:identities]:
            x = residual_block(x, 3, filters, stage, block, variant=no_bn)
    x = layers.Flatten()(layers.AveragePooling2D((2, 2), name="avg_pool")(x))
    model = keras.Model(inputs, layers.Dense(6, activation="softmax", name="fc6")(x))
    result = next(r for r in lesson07.check_exercise_3(model).results if r.name == "named layers")
    assert result.status == "failed"
    assert result.message.startswith("12 named layer(s) differ from the recipe: no layer named")
    assert result.hint == (
        "Every identity block differs from the recipe: fix exercise 1 first (its check names "
        "the mistake); ResNet50 is assembled from your identity_block."
    )


def test_keras_default_momentum_everywhere_is_told_about_momentum_not_names():
    """Is a ResNet50 whose BatchNormalization layers all keep Keras's default momentum told
    about momentum in the hint?"""
    model = resnet50()
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = 0.99
    result = next(r for r in lesson07.check_exercise_3(model).results if r.name == "named layers")
    assert result.hint == (
        "Create every BatchNormalization with momentum=0.9, in your blocks (exercises 1 and 2) "
        "and for bn_conv1: Keras's default, 0.99, lets the moving averages lag far behind the "
        "weights in a training this short."
    )
