"""Checks for lesson 06 · HappyModel."""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders.architecture import LayerSpec
from graders.cell_errors import watch_cells
from graders.common import OUTPUT_PROBABILITIES
from graders.model_exercise import POINTS_WITH_REPORTED_TEST, ModelExercise
from graders.report import Report

INPUT_SHAPE = (64, 64, 3)

HAPPY_MODEL_LAYERS = [
    LayerSpec("ZeroPadding2D", padding=((3, 3), (3, 3)), output_shape=(70, 70, 3)),
    LayerSpec(
        "Conv2D",
        name="conv0",
        filters=32,
        kernel_size=(7, 7),
        strides=(1, 1),
        padding="valid",
        activation="linear",
        output_shape=(64, 64, 32),
    ),
    LayerSpec("BatchNormalization", name="bn0", output_shape=(64, 64, 32)),
    LayerSpec("Activation", activation="relu"),
    LayerSpec(
        "MaxPooling2D",
        name="max_pool",
        pool_size=(2, 2),
        strides=(2, 2),
        padding="valid",
        output_shape=(32, 32, 32),
    ),
    LayerSpec("Flatten", output_shape=(32 * 32 * 32,)),
    LayerSpec("Dense", name="fc", units=1, activation="sigmoid", output_shape=(1,)),
]
CONV0_PARAMS = (7 * 7 * 3 + 1) * 32  # 4,736
BN0_PARAMS = 4 * 32  # gamma, beta, moving mean, moving variance
FC_PARAMS = 32 * 32 * 32 + 1  # 32,769
HAPPY_MODEL_PARAMS = CONV0_PARAMS + BN0_PARAMS + FC_PARAMS  # 37,633

DATASET = "happy_faces"  # what the lesson's models learn from and the grader tests them on

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · Build, train and test HappyModel"),
    input_shape=INPUT_SHAPE,
    layers=HAPPY_MODEL_LAYERS,
    params=HAPPY_MODEL_PARAMS,
    hints={
        1: translate(
            "Start with ZeroPadding2D((3, 3)) on the 64x64x3 input: the 7x7 convolution then "
            "keeps the 64x64 size."
        ),
        2: translate(
            "Conv2D(32, (7, 7), strides=(1, 1), name='conv0'), with no activation of its own: "
            "the ReLU comes after the batch normalization."
        ),
        3: translate("BatchNormalization(axis=3, name='bn0') normalizes each of the 32 channels."),
        4: translate("Apply the ReLU after bn0: layers.Activation('relu')."),
        5: translate("MaxPooling2D((2, 2), name='max_pool') halves 64x64 to 32x32."),
        6: translate("Flatten the 32x32x32 feature maps into 32,768 numbers."),
        7: translate(
            "The output is one unit with a sigmoid, named 'fc': Dense(1, activation='sigmoid', "
            "name='fc'). It is the probability of a smile. {probabilities}",
            probabilities=OUTPUT_PROBABILITIES,
        ),
    },
    min_epochs=10,
    train_threshold=0.95,
    dataset=DATASET,
    preprocessing_hint=translate(
        "Scale the images to [0, 1] (x_train.astype('float32') / 255), keep the labels 0 and 1 "
        "with loss='binary_crossentropy', and train for at least 10 epochs."
    ),
    params_hint=translate(
        "conv0 has (7 x 7 x 3 + 1) x 32 = {conv0:,} parameters, bn0 4 x 32 = "
        "{bn0} (64 of them the moving mean and variance), fc (32 x 32 x 32 + 1) x 1 = "
        "{fc:,}: a different count means a missing ZeroPadding2D or pooling, other "
        "filters, kernel or strides, or a BatchNormalization over another axis than the "
        "channels (axis=3).",
        conv0=CONV0_PARAMS,
        bn0=BN0_PARAMS,
        fc=FC_PARAMS,
    ),
    heldout_threshold=0.90,
    test_threshold=0.90,
    points=POINTS_WITH_REPORTED_TEST,
)


def check_exercise_1(model, history, test_metrics) -> Report:
    """Grade exercise 1: HappyModel (ZeroPadding2D(3) -> Conv2D(32, 7x7) "conv0" ->
    BatchNormalization "bn0" -> ReLU -> MaxPooling2D(2x2) "max_pool" -> Flatten ->
    Dense(1, sigmoid) "fc"; 37,633 parameters), trained at least 10 epochs to training
    accuracy above 0.95, with test accuracy of at least 0.90 reported by
    ``model.evaluate(x_test, y_test, return_dict=True)`` and measured again by the grader.
    Worth 10 points."""
    return EXERCISE_1.grade(model, history, test_metrics)


watch_cells(sys.modules[__name__])
