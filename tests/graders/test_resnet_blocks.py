"""Tests of the residual-block grading of lesson 07 on learner-style implementations."""

from __future__ import annotations

import pytest
from keras import layers

from graders.resnet_blocks import CONVOLUTIONAL_CASE, IDENTITY_CASE, grade_block


def _learner_block(
    X,
    f,
    filters,
    stage,
    block,
    s=1,
    initializer="glorot_uniform",
    training=None,
    *,
    shortcut_conv=False,
    skip_bn=(),
    shortcut_bn=True,
    add_after_relu=False,
    middle_padding="same",
    stride_on_middle=False,
    pass_training=True,
    use_initializer=True,
):
    """A block written the way a learner writes it, with switches for classic mistakes."""
    F1, F2, F3 = filters
    init = {"kernel_initializer": initializer} if use_initializer else {}
    first, middle = (1, s) if stride_on_middle else (s, 1)

    def bn(x, index):
        if index in skip_bn:
            return x
        layer = layers.BatchNormalization(axis=3, momentum=0.9)
        return layer(x, training=training) if pass_training else layer(x)

    X_shortcut = X
    X = layers.Conv2D(F1, (1, 1), strides=(first, first), padding="valid", **init)(X)
    X = layers.Activation("relu")(bn(X, 0))
    X = layers.Conv2D(F2, (f, f), strides=(middle, middle), padding=middle_padding, **init)(X)
    X = layers.Activation("relu")(bn(X, 1))
    X = bn(layers.Conv2D(F3, (1, 1), padding="valid", **init)(X), 2)
    if shortcut_conv:
        X_shortcut = layers.Conv2D(F3, (1, 1), strides=(s, s), padding="valid", **init)(X_shortcut)
        if shortcut_bn:
            X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)
    if add_after_relu:
        return layers.Add()([layers.Activation("relu")(X), X_shortcut])
    return layers.Activation("relu")(layers.Add()([X, X_shortcut]))


def _identity(**mistake):
    def identity_block(X, f, filters, stage, block, initializer="glorot_uniform", training=None):
        return _learner_block(
            X, f, filters, stage, block, initializer=initializer, training=training, **mistake
        )

    return identity_block


def _convolutional(**mistake):
    def convolutional_block(
        X, f, filters, stage, block, s=2, initializer="glorot_uniform", training=None
    ):
        return _learner_block(
            X,
            f,
            filters,
            stage,
            block,
            s=s,
            initializer=initializer,
            training=training,
            shortcut_conv=True,
            **mistake,
        )

    return convolutional_block


def test_correct_blocks_get_full_marks():
    """Do a correct identity block and a correct convolutional block earn 10 of 10?"""
    for case, function in ((IDENTITY_CASE, _identity()), (CONVOLUTIONAL_CASE, _convolutional())):
        report = grade_block("block", case, function)
        assert report.points == report.max_points == 10, str(report)


def test_the_untouched_stub_is_not_attempted():
    """Does a block still set to None, or a stub whose body returns nothing, report "not
    attempted" and 0 points?"""

    def identity_block(X, f, filters, stage, block, initializer=None, training=None):
        """The stub of the student notebook: its body is a comment."""

    for function in (None, identity_block):
        report = grade_block("block", IDENTITY_CASE, function)
        assert report.status == "not attempted" and report.points == 0, str(report)


MISTAKES = {
    "missing BatchNorm": (
        IDENTITY_CASE,
        _identity(skip_bn=(1,)),
        "no BatchNormalization after its fxf convolution",
    ),
    "shortcut added after the ReLU": (
        IDENTITY_CASE,
        _identity(add_after_relu=True),
        "the shortcut is added after the final ReLU",
    ),
    "valid where same belongs": (
        IDENTITY_CASE,
        _identity(middle_padding="valid"),
        "padding='same' (valid shrinks the maps)",
    ),
    "wrong stride": (
        CONVOLUTIONAL_CASE,
        _convolutional(stride_on_middle=True),
        "the stride s is on the fxf convolution",
    ),
    "shortcut without BatchNorm": (
        CONVOLUTIONAL_CASE,
        _convolutional(shortcut_bn=False),
        "the shortcut has no BatchNormalization",
    ),
    "training flag ignored": (
        IDENTITY_CASE,
        _identity(pass_training=False),
        "ignore the training argument",
    ),
    "initializer ignored": (
        IDENTITY_CASE,
        _identity(use_initializer=False),
        "draws its own random weights",
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_wrong_block_gets_a_specific_message(case):
    """Is each classic block mistake named in the feedback, with points lost?"""
    block_case, function, expected = MISTAKES[case]
    report = grade_block("block", block_case, function)
    assert report.points < report.max_points
    assert expected in str(report), str(report)


def test_a_block_that_raises_is_reported_with_the_error():
    """Does a block that raises (no stride on the shortcut) get the error and a hint?"""

    def convolutional_block(X, f, filters, stage, block, s=2, initializer=None, training=None):
        main = layers.Conv2D(filters[2], 1, strides=s)(X)
        return layers.Add()([main, layers.Conv2D(filters[2], 1)(X)])

    report = grade_block("block", CONVOLUTIONAL_CASE, convolutional_block)
    assert report.points == 0
    text = str(report)
    assert "raised ValueError" in text and "same shape when they are added" in text, text
