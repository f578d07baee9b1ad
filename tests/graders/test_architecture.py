"""Tests of the architecture check: normalization and position-named mismatches."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from graders.architecture import LayerSpec, check_layers, compare_layers, normalize_layers
from graders.lesson01 import EXERCISE_1_LAYERS

pytestmark = pytest.mark.model


def _input():
    return keras.Input(shape=(32, 32, 3))


SPELLINGS = {
    "activation argument": lambda: keras.Sequential(
        [
            _input(),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(5, activation="softmax"),
        ]
    ),
    "Activation layers": lambda: keras.Sequential(
        [
            _input(),
            layers.Flatten(),
            layers.Dense(128),
            layers.Activation("relu"),
            layers.Dense(5),
            layers.Activation("softmax"),
        ]
    ),
    "ReLU and Softmax layers": lambda: keras.Sequential(
        [
            _input(),
            layers.Flatten(),
            layers.Dense(128),
            layers.ReLU(),
            layers.Dense(5),
            layers.Softmax(),
        ]
    ),
    "input_shape argument": lambda: keras.Sequential(
        [
            layers.Flatten(input_shape=(32, 32, 3)),
            layers.Dense(128),
            layers.Activation("relu"),
            layers.Dense(5, activation="softmax"),
        ]
    ),
    "functional API": lambda: _functional(),
}


def _functional():
    inputs = _input()
    x = layers.Flatten()(inputs)
    x = layers.ReLU()(layers.Dense(128)(x))
    outputs = layers.Dense(5, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_equivalent_spellings_normalize_to_the_same_layers(spelling):
    """Do all equivalent spellings of the exercise model pass the layer comparison?"""
    model = SPELLINGS[spelling]()
    assert compare_layers(EXERCISE_1_LAYERS, normalize_layers(model)) == []


def test_activation_after_a_layer_with_its_own_activation_stays_separate():
    """Is a softmax after Dense(activation="relu") kept as its own layer, not merged?"""
    model = keras.Sequential(
        [_input(), layers.Flatten(), layers.Dense(4, activation="relu"), layers.Softmax()]
    )
    kinds = [spec.kind for spec in normalize_layers(model)]
    assert kinds == ["Flatten", "Dense", "Activation"]


def test_a_relu_on_non_negative_values_is_dropped_with_a_note():
    """Is a second ReLU (right after one, or through pooling) accepted as the no-op it is,
    and is the learner told that it does nothing?"""
    model = keras.Sequential(
        [
            _input(),
            layers.Conv2D(2, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.ReLU(),
            layers.Flatten(),
            layers.Dense(4, activation="relu"),
            layers.Activation("relu"),
        ]
    )
    kinds = [spec.kind for spec in normalize_layers(model)]
    assert kinds == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    expected = [
        LayerSpec("Conv2D", activation="relu"),
        LayerSpec("MaxPooling2D"),
        LayerSpec("Flatten"),
        LayerSpec("Dense", units=4, activation="relu"),
    ]
    result = check_layers(model, expected, points=1)
    assert result.status == "passed"
    assert result.message.endswith(
        " Note: the Activation('relu') after MaxPooling2D(2x2) does nothing: its input is "
        "already non-negative after a ReLU, and relu(relu(x)) = relu(x), so you can remove it."
        " Note: the Activation('relu') after Dense(4, relu) does nothing: its input is already "
        "non-negative after a ReLU, and relu(relu(x)) = relu(x), so you can remove it."
    )


def test_a_moved_layer_is_named_as_moved():
    """Is one layer in the wrong place reported as moved, not as a cascade of mismatches?"""
    expected = [
        LayerSpec("Conv2D"),
        LayerSpec("MaxPooling2D", pool_size=(2, 2)),
        LayerSpec("Dropout", rate=0.5),
        LayerSpec("Flatten"),
        LayerSpec("Dense", units=8),
    ]
    model = keras.Sequential(
        [
            _input(),
            layers.Conv2D(2, 3),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(8),
            layers.Dropout(0.3),
        ]
    )
    assert compare_layers(expected, normalize_layers(model)) == [
        "layer 5, Dropout(0.3), is after Dense(8); it belongs right after MaxPooling2D(2x2)",
        "layer 5: expected Dropout with rate 0.5, found Dropout with rate 0.3",
    ]


def test_custom_relu_is_not_plain_relu():
    """Is ReLU(max_value=6) told apart from a plain ReLU?"""
    model = keras.Sequential([_input(), layers.Flatten(), layers.Dense(4), layers.ReLU(6.0)])
    assert normalize_layers(model)[1].activation == "relu (custom)"


def test_missing_and_extra_layers_are_listed():
    """Are missing and extra layers named by position?"""
    short = keras.Sequential([_input(), layers.Flatten(), layers.Dense(128, activation="relu")])
    problems = compare_layers(EXERCISE_1_LAYERS, normalize_layers(short))
    assert problems == [
        "expected 3 layers, found 2; missing: layer 3: Dense with 5 units and softmax activation"
    ]
    long = keras.Sequential(
        [
            _input(),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(5, activation="softmax"),
            layers.Dropout(0.5),
        ]
    )
    problems = compare_layers(EXERCISE_1_LAYERS, normalize_layers(long))
    assert problems == ["expected 3 layers, found 4; extra: layer 4: Dropout with rate 0.5"]


def test_conv_layer_description_names_every_setting():
    """Does a Conv2D mismatch name filters, kernel, strides, padding and activation?"""
    expected = [
        LayerSpec("Conv2D", filters=32, kernel_size=(3, 3), padding="valid", activation="relu")
    ]
    model = keras.Sequential([_input(), layers.Conv2D(16, 5, padding="same")])
    (problem,) = compare_layers(expected, normalize_layers(model))
    assert problem == (
        "layer 1: expected Conv2D with 32 filters, a 3x3 kernel, valid padding and relu "
        "activation, found Conv2D with 16 filters, a 5x5 kernel, same padding and no activation"
    )
