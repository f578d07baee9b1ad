"""The layer lists that lessons 02-05 build on the traffic signs, and their equivalents.

Each lesson adds one layer to the previous model. ReLU commutes with max pooling and with
dropout, so a ReLU placed anywhere between the convolution and Flatten computes the same
function; those spellings are accepted as equivalents.
"""

from __future__ import annotations

from course_utils.language import translate
from graders.architecture import LayerSpec
from graders.common import OUTPUT_PROBABILITIES

INPUT_SHAPE = (32, 32, 3)


def conv(activation: str = "linear") -> LayerSpec:
    return LayerSpec(
        "Conv2D",
        filters=32,
        kernel_size=(3, 3),
        strides=(1, 1),
        padding="valid",
        activation=activation,
        output_shape=(30, 30, 32),
    )


POOL = LayerSpec(
    "MaxPooling2D", pool_size=(2, 2), strides=(2, 2), padding="valid", output_shape=(15, 15, 32)
)
DROPOUT = LayerSpec("Dropout", rate=0.5, output_shape=(15, 15, 32))
RELU = LayerSpec("Activation", activation="relu")


def head(flat: int) -> list[LayerSpec]:
    """Flatten -> Dense(128, relu) -> Dense(5, softmax) on ``flat`` features."""
    return [
        LayerSpec("Flatten", output_shape=(flat,)),
        LayerSpec("Dense", units=128, activation="relu", output_shape=(128,)),
        LayerSpec("Dense", units=5, activation="softmax", output_shape=(5,)),
    ]


def params(flat: int, conv_layer: bool = True) -> int:
    """Parameters of [Conv2D(32, 3x3) on 3 channels] + Dense(128) on ``flat`` + Dense(5)."""
    return (3 * 3 * 3 + 1) * 32 * conv_layer + (flat + 1) * 128 + (128 + 1) * 5


# Lesson 02: Conv2D(32, 3x3, valid) -> ReLU -> Flatten -> Dense(128) -> ReLU -> Dense(5).
CONV_LAYERS = [conv("relu"), *head(30 * 30 * 32)]
CONV_PARAMS = params(30 * 30 * 32)  # 3,688,069

# Lesson 03: ... Conv2D -> MaxPooling2D(2x2) -> ReLU -> Flatten ...
POOL_LAYERS = [conv(), POOL, RELU, *head(15 * 15 * 32)]
POOL_EQUIVALENTS = ([conv("relu"), POOL, *head(15 * 15 * 32)],)
POOL_PARAMS = params(15 * 15 * 32)  # 923,269

# Lessons 04 and 05: ... Conv2D -> MaxPooling2D -> Dropout(0.5) -> ReLU -> Flatten ...
DROPOUT_LAYERS = [conv(), POOL, DROPOUT, RELU, *head(15 * 15 * 32)]
DROPOUT_EQUIVALENTS = (
    [conv("relu"), POOL, DROPOUT, *head(15 * 15 * 32)],
    [conv(), POOL, RELU, DROPOUT, *head(15 * 15 * 32)],
)
DROPOUT_PARAMS = POOL_PARAMS

CONV_HINT = translate(
    "The convolution is Conv2D(32, (3, 3), padding='valid') on the 32x32x3 input."
)
HEAD_HINTS = {
    "flatten": translate(
        "Flatten turns the feature maps into one row of numbers for the Dense layers."
    ),
    "dense": translate("The hidden layer is Dense(128) with a ReLU activation."),
    "output": translate(
        "The output layer has one unit per class (5) and a softmax activation. {why}",
        why=OUTPUT_PROBABILITIES,
    ),
}

PREPROCESSING_HINT = translate(
    "Scale the images to [-0.5, 0.5] (x_train.astype('float32') / 255 - 0.5), one-hot the "
    "labels with keras.utils.to_categorical(y_train, 5), and train for the epochs the "
    "exercise asks."
)
CONV_PARAMS_EACH = (3 * 3 * 3 + 1) * 32  # 896
HEAD_OUTPUT_PARAMS = (128 + 1) * 5  # 645


def params_hint(flat: int, where: str) -> str:
    """Where a convnet's parameters come from, with Dense(128) on ``flat`` features that
    ``where`` describes (a clause: why there are that many)."""
    return translate(
        "Conv2D(32, (3, 3)) on 3 channels has (3 x 3 x 3 + 1) x 32 = {conv:,} "
        "parameters; {where}, so Dense(128) gets {flat:,} features and has ({flat:,} + 1) x 128 "
        "= {dense:,}; Dense(5) has {output:,}. Pooling, Dropout, "
        "Flatten and ReLU have none: a different count means a different padding, kernel, "
        "stride, dilation, pooling or layer size.",
        conv=CONV_PARAMS_EACH,
        where=where,
        flat=flat,
        dense=(flat + 1) * 128,
        output=HEAD_OUTPUT_PARAMS,
    )


CONV_PARAMS_HINT = params_hint(30 * 30 * 32, translate("with valid padding the maps are 30x30x32"))
POOL_PARAMS_HINT = params_hint(15 * 15 * 32, translate("the pooling halves 30x30x32 to 15x15x32"))
