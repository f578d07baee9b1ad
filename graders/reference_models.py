"""Reference implementations of the models that lessons 06, 07 and 08 build.

What they give on the checks' fixed inputs is what the checks compare a learner's function
or model with (:mod:`graders.reference_values` computes it, :mod:`graders.reference_outputs`
hands it to the checks); the tests and benchmarks build them too.
Layer names follow the original style (``res2a_branch2a``, ``bn2a_branch2a``, ...).

ResNet50's batch normalizations use ``momentum=0.9`` (Keras's default is 0.99). Trained
from scratch for only a few hundred steps, as lesson 07 does, the default moving averages
lag far behind the changing weights, and the model in inference mode scores near chance
while its training accuracy climbs (measured: validation 0.17 after 3 epochs with 0.99,
0.77 with 0.9, on the same data and seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers


def happy_model(input_shape: tuple[int, int, int] = (64, 64, 3)) -> keras.Model:
    """HappyModel: ZeroPadding2D(3) -> Conv2D(32, 7x7) "conv0" -> BatchNormalization "bn0"
    -> ReLU -> MaxPooling2D(2x2) "max_pool" -> Flatten -> Dense(1, sigmoid) "fc".

    On (64, 64, 3) input: 37,633 parameters, 64 of them non-trainable.
    """
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D(3)(inputs)
    x = layers.Conv2D(32, 7, strides=1, name="conv0")(x)
    x = layers.BatchNormalization(axis=3, name="bn0")(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(2, name="max_pool")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(1, activation="sigmoid", name="fc")(x)
    return keras.Model(inputs, outputs, name="HappyModel")


BN_MOMENTUM = 0.9


def _batch_norm(name: str):
    return layers.BatchNormalization(axis=3, momentum=BN_MOMENTUM, name=name)


@dataclass(frozen=True)
class BlockVariant:
    """How a residual block is wired. The default is the reference; the grader builds the
    other settings to recognise classic mistakes by their outputs."""

    main_bn: tuple[bool, bool, bool] = (True, True, True)  # BN after each main-path conv
    stride_on_middle: bool = False  # stride s on the fxf conv instead of the first 1x1
    shortcut_bn: bool = True  # convolutional block: BN after the shortcut's 1x1 conv
    relu_main_before_add: bool = False  # ReLU on the main path before the addition
    add_after_relu: bool = False  # relu(main) + shortcut, no ReLU after the addition
    final_relu: bool = True


REFERENCE = BlockVariant()


def residual_block(
    x,
    f: int,
    filters: tuple[int, int, int],
    stage: int,
    block: str,
    *,
    s: int = 1,
    shortcut_conv: bool = False,
    initializer="glorot_uniform",
    training=None,
    variant: BlockVariant = REFERENCE,
):
    """The identity block (``shortcut_conv=False``) or the convolutional block, wired as
    ``variant`` says. ``x``: (batch, H, W, C) tensor."""
    f1, f2, f3 = filters
    conv, bn = f"res{stage}{block}_branch", f"bn{stage}{block}_branch"
    first_stride, middle_stride = (1, s) if variant.stride_on_middle else (s, 1)
    main = x
    steps = (
        (f1, 1, first_stride, "valid"),
        (f2, f, middle_stride, "same"),
        (f3, 1, 1, "valid"),
    )
    for index, (filters_, size, stride, padding) in enumerate(steps):
        part = "abc"[index]
        main = layers.Conv2D(
            filters_,
            size,
            strides=stride,
            padding=padding,
            name=f"{conv}2{part}",
            kernel_initializer=initializer,
        )(main)
        if variant.main_bn[index]:
            main = _batch_norm(f"{bn}2{part}")(main, training=training)
        if index < 2 or variant.relu_main_before_add or variant.add_after_relu:
            main = layers.Activation("relu")(main)
    shortcut = x
    if shortcut_conv:
        shortcut = layers.Conv2D(
            f3, 1, strides=s, padding="valid", name=conv + "1", kernel_initializer=initializer
        )(x)
        if variant.shortcut_bn:
            shortcut = _batch_norm(bn + "1")(shortcut, training=training)
    out = layers.Add()([main, shortcut])
    if variant.final_relu and not variant.add_after_relu:
        out = layers.Activation("relu")(out)
    return out


def identity_block(
    x,
    f: int,
    filters: tuple[int, int, int],
    stage: int,
    block: str,
    initializer="glorot_uniform",
    training=None,
):
    """The identity block: three convolutions on the main path, the input as shortcut.

    Main path: Conv2D(F1, 1x1, valid) -> BN -> ReLU -> Conv2D(F2, fxf, same) -> BN -> ReLU
    -> Conv2D(F3, 1x1, valid) -> BN; then add the shortcut and apply ReLU. The input must
    already have F3 channels. ``x``: (batch, H, W, F3) tensor; returns the same shape.
    """
    return residual_block(x, f, filters, stage, block, initializer=initializer, training=training)


def convolutional_block(
    x,
    f: int,
    filters: tuple[int, int, int],
    stage: int,
    block: str,
    s: int = 2,
    initializer="glorot_uniform",
    training=None,
):
    """The convolutional block: the identity block's main path with stride ``s`` on the
    first 1x1 convolution, and a 1x1 convolution (stride ``s``) + BN on the shortcut.

    ``x``: (batch, H, W, C) tensor; returns (batch, ceil(H/s), ceil(W/s), F3).
    """
    return residual_block(
        x,
        f,
        filters,
        stage,
        block,
        s=s,
        shortcut_conv=True,
        initializer=initializer,
        training=training,
    )


RESNET50_STAGES = (
    (2, (64, 64, 256), 1, 2),
    (3, (128, 128, 512), 2, 3),
    (4, (256, 256, 1024), 2, 5),
    (5, (512, 512, 2048), 2, 2),
)
"""(stage, filters, stride of its convolutional block, number of identity blocks)."""


def resnet50(input_shape: tuple[int, int, int] = (64, 64, 3), classes: int = 6) -> keras.Model:
    """ResNet50 for small images: 23,600,006 parameters on (64, 64, 3) input, 6 classes.

    ZeroPadding2D(3) -> conv1 7x7/2 (64) -> BN -> ReLU -> MaxPooling 3x3/2 -> stages 2-5
    (:data:`RESNET50_STAGES`) -> AveragePooling2D 2x2 "avg_pool" -> Flatten -> Dense
    softmax "fc{classes}".
    """
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D(3)(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1")(x)
    x = _batch_norm("bn_conv1")(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(3, strides=2)(x)
    for stage, filters, stride, identities in RESNET50_STAGES:
        x = convolutional_block(x, 3, filters, stage, "a", s=stride)
        for block in "bcdef"[:identities]:
            x = identity_block(x, 3, filters, stage, block)
    x = layers.AveragePooling2D(2, name="avg_pool")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax", name=f"fc{classes}")(x)
    return keras.Model(inputs, outputs, name="ResNet50")


def mnist_mlp() -> keras.Model:
    """Lesson 08's dense network, from the source notes: (784,) flattened digits ->
    Dense(512, relu) -> Dropout(0.2) -> Dense(512, relu) -> Dropout(0.2) -> Dense(10,
    softmax); 669,706 parameters. Not compiled."""
    return keras.Sequential(
        [
            keras.Input(shape=(28 * 28,)),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ],
        name="mlp",
    )


def mnist_convnet() -> keras.Model:
    """Lesson 08's convnet, from the source notes: (28, 28, 1) digits -> Conv2D(32, 3x3,
    relu) -> Conv2D(64, 3x3, relu) -> MaxPooling2D(2x2) -> Dropout(0.25) -> Flatten ->
    Dense(128, relu) -> Dropout(0.5) -> Dense(10, softmax); 1,199,882 parameters. Not
    compiled."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="convnet",
    )
