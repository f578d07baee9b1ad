"""Checks for lesson 08 · MNIST: a dense network against a convnet.

Both exercises build and train a model on the real MNIST digits
(:func:`data_loaders.load_mnist`), scaled to [0, 1]. The grader measures each model on
MNIST's 10,000 test images, reshaped to the model's input: (N, 784) for a dense network
that takes flat vectors, (N, 28, 28, 1) for the convnet.
"""

from __future__ import annotations

import sys

from course_utils.language import translate
from graders.architecture import LayerSpec
from graders.cell_errors import watch_cells
from graders.model_exercise import POINTS_WITH_REPORTED_TEST, ModelExercise
from graders.report import Report

DATASET = "mnist"  # what the lesson's models learn from and the grader tests them on

PIXELS = 28 * 28  # 784 numbers in one flattened digit
CLASSES = 10

MLP_LAYERS = [
    LayerSpec("Dense", units=512, activation="relu", output_shape=(512,)),
    LayerSpec("Dropout", rate=0.2),
    LayerSpec("Dense", units=512, activation="relu", output_shape=(512,)),
    LayerSpec("Dropout", rate=0.2),
    LayerSpec("Dense", units=CLASSES, activation="softmax", output_shape=(CLASSES,)),
]
MLP_FROM_IMAGES = [LayerSpec("Flatten", output_shape=(PIXELS,)), *MLP_LAYERS]
"""The same network taking (28, 28) or (28, 28, 1) images and flattening them itself."""
MLP_PARAMS = (PIXELS + 1) * 512 + (512 + 1) * 512 + (512 + 1) * CLASSES  # 669,706

CONVNET_LAYERS = [
    LayerSpec(
        "Conv2D", filters=32, kernel_size=(3, 3), activation="relu", output_shape=(26, 26, 32)
    ),
    LayerSpec(
        "Conv2D", filters=64, kernel_size=(3, 3), activation="relu", output_shape=(24, 24, 64)
    ),
    LayerSpec("MaxPooling2D", pool_size=(2, 2), output_shape=(12, 12, 64)),
    LayerSpec("Dropout", rate=0.25),
    LayerSpec("Flatten", output_shape=(12 * 12 * 64,)),
    LayerSpec("Dense", units=128, activation="relu", output_shape=(128,)),
    LayerSpec("Dropout", rate=0.5),
    LayerSpec("Dense", units=CLASSES, activation="softmax", output_shape=(CLASSES,)),
]
CONVNET_FROM_GREY = [LayerSpec("Reshape", output_shape=(28, 28, 1)), *CONVNET_LAYERS]
"""The same convnet taking (28, 28) images and adding the channel axis itself."""
CONV1_PARAMS = (3 * 3 * 1 + 1) * 32  # 320
CONV2_PARAMS = (3 * 3 * 32 + 1) * 64  # 18,496
DENSE_PARAMS = (12 * 12 * 64 + 1) * 128  # 1,179,776
CONVNET_PARAMS = CONV1_PARAMS + CONV2_PARAMS + DENSE_PARAMS + (128 + 1) * CLASSES  # 1,199,882

MIN_EPOCHS = 2
TRAIN_THRESHOLD = 0.95  # a history's last epoch, averaged over it with dropout on: below test
MLP_TEST_THRESHOLD = 0.96
CONVNET_TEST_THRESHOLD = 0.98
PREPROCESSING_HINT = translate(
    "Scale the pixels to [0, 1] (x.astype('float32') / 255), keep the integer labels with "
    "loss='sparse_categorical_crossentropy' (or one-hot labels with "
    "'categorical_crossentropy'), and train for at least {epochs} epochs.",
    epochs=MIN_EPOCHS,
)

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · A dense network (MLP) on MNIST"),
    names=("mlp", "mlp_history", "mlp_test_metrics"),
    input_shape=(PIXELS,),
    other_input_shapes=((28, 28), (28, 28, 1)),
    input_hint=translate(
        "A dense network takes each digit as one vector of 784 numbers: "
        "keras.Input(shape=(784,)) on x_train.reshape(-1, 784), or keras.Input(shape=(28, 28)) "
        "followed by layers.Flatten()."
    ),
    layers=MLP_LAYERS,
    equivalents=(MLP_FROM_IMAGES,),
    params=MLP_PARAMS,
    hints={
        1: translate(
            "The first hidden layer is Dense(512, activation='relu') on the 784 pixels; a "
            "(28, 28) input must be flattened first (layers.Flatten())."
        ),
        2: translate("Dropout(0.2) follows each hidden layer."),
        3: translate("The second hidden layer is Dense(512, activation='relu')."),
        4: translate("Dropout(0.2) follows each hidden layer."),
        5: translate(
            "The output gives one probability per digit: Dense(10, activation='softmax')."
        ),
    },
    min_epochs=MIN_EPOCHS,
    train_threshold=TRAIN_THRESHOLD,
    dataset=DATASET,
    preprocessing_hint=PREPROCESSING_HINT,
    params_hint=translate(
        "(784 + 1) x 512 + (512 + 1) x 512 + (512 + 1) x 10 = {params:,}: a different "
        "count means other layer sizes or a missing hidden layer.",
        params=MLP_PARAMS,
    ),
    heldout_threshold=MLP_TEST_THRESHOLD,
    test_threshold=MLP_TEST_THRESHOLD,
    points=POINTS_WITH_REPORTED_TEST,
)

EXERCISE_2 = ModelExercise(
    title=translate("Exercise 2 · A convnet on MNIST"),
    names=("convnet", "convnet_history", "convnet_test_metrics"),
    input_shape=(28, 28, 1),
    other_input_shapes=((28, 28),),
    input_hint=translate(
        "Conv2D needs a channel axis: give the convnet x_train[..., None], of shape "
        "(60000, 28, 28, 1), and start it with keras.Input(shape=(28, 28, 1))."
    ),
    layers=CONVNET_LAYERS,
    equivalents=(CONVNET_FROM_GREY,),
    params=CONVNET_PARAMS,
    hints={
        1: translate(
            "Start with Conv2D(32, (3, 3), activation='relu') on the 28x28x1 digits, with the "
            "default 'valid' padding: 26x26 feature maps come out."
        ),
        2: translate(
            "Then Conv2D(64, (3, 3), activation='relu'), with no pooling between the two."
        ),
        3: translate("MaxPooling2D((2, 2)) after the two convolutions halves 24x24 to 12x12."),
        4: translate("Dropout(0.25) comes right after the pooling."),
        5: translate(
            "Flatten the 12x12x64 feature maps into 9,216 numbers before the dense layers."
        ),
        6: translate("Dense(128, activation='relu') after Flatten."),
        7: translate("Dropout(0.5) before the output layer."),
        8: translate(
            "The output gives one probability per digit: Dense(10, activation='softmax')."
        ),
    },
    min_epochs=MIN_EPOCHS,
    train_threshold=TRAIN_THRESHOLD,
    dataset=DATASET,
    preprocessing_hint=PREPROCESSING_HINT,
    params_hint=translate(
        "conv 1 (3 x 3 x 1 + 1) x 32 = {conv1}, conv 2 (3 x 3 x 32 + 1) x 64 = "
        "{conv2:,}, Dense(128) (12 x 12 x 64 + 1) x 128 = {dense:,}, output "
        "129 x 10: a different count means 'same' padding, a missing pooling or other sizes.",
        conv1=CONV1_PARAMS,
        conv2=CONV2_PARAMS,
        dense=DENSE_PARAMS,
    ),
    heldout_threshold=CONVNET_TEST_THRESHOLD,
    test_threshold=CONVNET_TEST_THRESHOLD,
    points=POINTS_WITH_REPORTED_TEST,
)


def check_exercise_1(mlp, mlp_history, mlp_test_metrics) -> Report:
    """Grade exercise 1: the MLP (784 -> Dense(512, relu) -> Dropout(0.2) -> Dense(512,
    relu) -> Dropout(0.2) -> Dense(10, softmax); 669,706 parameters), trained at least 2
    epochs on MNIST scaled to [0, 1], with test accuracy of at least 0.96 reported by
    ``evaluate(..., return_dict=True)`` and measured again by the grader on the 10,000
    test digits. Worth 10 points."""
    return EXERCISE_1.grade(mlp, mlp_history, mlp_test_metrics)


def check_exercise_2(convnet, convnet_history, convnet_test_metrics) -> Report:
    """Grade exercise 2: the convnet ((28, 28, 1) -> Conv2D(32, 3x3, relu) -> Conv2D(64,
    3x3, relu) -> MaxPooling2D(2x2) -> Dropout(0.25) -> Flatten -> Dense(128, relu) ->
    Dropout(0.5) -> Dense(10, softmax); 1,199,882 parameters), trained at least 2 epochs,
    with test accuracy of at least 0.98 reported and measured again. Worth 10 points."""
    return EXERCISE_2.grade(convnet, convnet_history, convnet_test_metrics)


watch_cells(sys.modules[__name__])
