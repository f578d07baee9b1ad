"""Lesson 00's checks on the answers learners really give: the right ones in every
spelling get full marks, and each wrong one gets a message that names its mistake."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from graders.lesson00 import check_exercise_1, check_exercise_2, check_exercise_3

pytestmark = pytest.mark.model


def _failures(report) -> list[tuple[str, str]]:
    return [(r.name, r.message) for r in report.results if r.points < r.max_points]


# --- exercise 1: channels-last to channels-first ------------------------------------------
def transpose(images):
    return np.transpose(images, (0, 3, 1, 2))


def keras_transpose(images):
    return keras.ops.transpose(images, axes=(0, 3, 1, 2))


def moveaxis(images):
    return np.moveaxis(images, -1, 1)


def einsum(images):
    return np.einsum("bhwc->bchw", images)


@pytest.mark.parametrize("answer", [transpose, keras_transpose, moveaxis, einsum])
def test_every_spelling_of_the_transpose_gets_full_marks(answer):
    """np.transpose, keras.ops.transpose (a tensor), np.moveaxis and einsum all move
    the channels axis: 10/10?"""
    report = check_exercise_1(answer)
    assert report.points == 10, _failures(report)


def reshape(images):
    batch, height, width, channels = images.shape
    return images.reshape(batch, channels, height, width)


def channels_in_front(images):
    return np.moveaxis(images, -1, 0)


def height_and_width_swapped(images):
    return np.transpose(images, (0, 3, 2, 1))


def unchanged(images):
    return images


def as_list(images):
    return np.transpose(images, (0, 3, 1, 2)).tolist()


def three_axes(images):
    return np.transpose(images, (0, 3, 1))


@pytest.mark.parametrize(
    "answer, points, failed, message",
    [
        (
            reshape,
            6,
            "values moved, not re-cut",
            "the shape (2, 5, 3, 4) is right but the pixels are scrambled: reshape re-cuts "
            "the numbers in memory order, it does not move an axis",
        ),
        (
            channels_in_front,
            2,
            "output shape",
            "on a batch of shape (2, 3, 4, 5) (batch, height, width, channels) expected shape "
            "(2, 5, 3, 4) (batch, channels, height, width), found (5, 2, 3, 4), that is "
            "(channels, batch, height, width): the channels went in front of the batch axis, "
            "which stays first",
        ),
        (
            height_and_width_swapped,
            2,
            "output shape",
            "on a batch of shape (2, 3, 4, 5) (batch, height, width, channels) expected shape "
            "(2, 5, 3, 4) (batch, channels, height, width), found (2, 5, 4, 3), that is "
            "(batch, channels, width, height): height and width are swapped",
        ),
        (
            unchanged,
            2,
            "output shape",
            "on a batch of shape (2, 3, 4, 5) (batch, height, width, channels) expected shape "
            "(2, 5, 3, 4) (batch, channels, height, width), found (2, 3, 4, 5), that is "
            "(batch, height, width, channels): the axes are unchanged",
        ),
        (
            as_list,
            2,
            "output shape",
            "expected a NumPy array or a tensor, found list",
        ),
        (
            three_axes,
            0,
            "runs",
            "calling to_channels_first(a batch of shape (2, 3, 4, 5)) raised ValueError: "
            "axes don't match array",
        ),
    ],
)
def test_each_wrong_conversion_is_named(answer, points, failed, message):
    """reshape, the channels moved to the front, height and width swapped, nothing done,
    a list returned, an axis lost: each gets its own message and the points it earns."""
    report = check_exercise_1(answer)
    assert report.points == points
    assert dict(_failures(report))[failed] == message


def not_written(images):
    """The student notebook's stub: its body is still to be written."""


def test_an_untouched_function_is_not_attempted():
    """The student version's function returns None: "not attempted", not a traceback."""
    report = check_exercise_1(not_written)
    assert report.status == "not attempted"
    assert report.results[0].message == (
        "to_channels_first returned None: complete its body and return the result"
    )


# --- exercise 2: steps per epoch ------------------------------------------------------------
def ceil(samples, batch_size):
    return math.ceil(samples / batch_size)


def negative_floor(samples, batch_size):
    return -(-samples // batch_size)


def numpy_ceil(samples, batch_size):
    return np.ceil(samples / batch_size)


def range_length(samples, batch_size):
    return len(range(0, samples, batch_size))


@pytest.mark.parametrize("answer", [ceil, negative_floor, numpy_ceil, range_length])
def test_every_way_of_rounding_up_gets_full_marks(answer):
    """math.ceil, -(-a // b), np.ceil (a whole float) and len(range(...)): 10/10?"""
    report = check_exercise_2(answer)
    assert report.points == 10, _failures(report)


def floor(samples, batch_size):
    return samples // batch_size


def divide(samples, batch_size):
    return samples / batch_size


def swapped(samples, batch_size):
    return math.ceil(batch_size / samples)


def multiplied(samples, batch_size):
    return samples * batch_size


@pytest.mark.parametrize(
    "answer, points, messages",
    [
        (
            floor,
            5,
            {
                "steps per epoch": "steps_per_epoch(1000, 32): expected 32, found 31: that "
                "drops the last, partial batch of 8 samples, which fit runs too"
            },
        ),
        (
            lambda samples, batch_size: round(samples / batch_size),
            5,
            {
                "steps per epoch": "steps_per_epoch(1000, 32): expected 32, found 31: that "
                "rounds 31.25 to the nearest whole number, which leaves out the last batch of "
                "8 samples whenever it is less than half full; fit runs every batch, the "
                "partial one too, so round up"
            },
        ),
        (
            divide,
            2,
            {
                "a whole number of steps": "steps_per_epoch(1000, 32) returned 31.25 (float): "
                "a number of steps is a whole number",
                "steps per epoch": "steps_per_epoch(1000, 32): expected 32, found 31.25",
            },
        ),
        (
            swapped,
            5,
            {
                "steps per epoch": "steps_per_epoch(1000, 32): expected 32, found 1: the two "
                "arguments are swapped"
            },
        ),
        (
            multiplied,
            5,
            {
                "steps per epoch": "steps_per_epoch(1000, 32): expected 32, found 32,000: that "
                "multiplies the two; the steps are the batches it takes to cover the samples"
            },
        ),
    ],
)
def test_each_wrong_count_of_steps_is_named(answer, points, messages):
    """Rounding down or to the nearest, a fraction, swapped arguments, a product: each
    named, with the points it earns."""
    report = check_exercise_2(answer)
    assert report.points == points
    assert dict(_failures(report)) == messages


def test_fewer_samples_than_a_batch_still_take_one_step():
    """A floor that is only wrong when the samples do not fill one batch (10 of 32)."""

    def floor_unless_exact(samples, batch_size):
        steps = samples // batch_size
        return steps + 1 if samples % batch_size and steps else steps

    report = check_exercise_2(floor_unless_exact)
    assert dict(_failures(report)) == {
        "steps per epoch": "steps_per_epoch(10, 32): expected 1, found 0: with fewer samples "
        "than a batch there is still one step"
    }


# --- exercise 3: a dense network's parameters ------------------------------------------------
def pairs(layer_sizes):
    return sum(
        (inputs + 1) * units for inputs, units in zip(layer_sizes, layer_sizes[1:], strict=False)
    )


def with_keras(layer_sizes):
    model = keras.Sequential(
        [keras.Input(shape=(layer_sizes[0],))]
        + [keras.layers.Dense(units) for units in layer_sizes[1:]]
    )
    return model.count_params()


def loop(layer_sizes):
    total = 0
    for index in range(1, len(layer_sizes)):
        total += layer_sizes[index - 1] * layer_sizes[index] + layer_sizes[index]
    return total


@pytest.mark.parametrize("answer", [pairs, with_keras, loop])
def test_every_way_of_counting_gets_full_marks(answer):
    """By formula, by asking Keras itself, or by a loop: 10/10?"""
    report = check_exercise_3(answer)
    assert report.points == 10, _failures(report)


def no_biases(layer_sizes):
    return sum(inputs * units for inputs, units in zip(layer_sizes, layer_sizes[1:], strict=False))


def bias_per_input(layer_sizes):
    return sum(
        inputs * units + inputs for inputs, units in zip(layer_sizes, layer_sizes[1:], strict=False)
    )


def input_biases(layer_sizes):
    return pairs(layer_sizes) + layer_sizes[0]


def average(layer_sizes):
    return pairs(layer_sizes) / 2


@pytest.mark.parametrize(
    "answer, points, messages",
    [
        (
            no_biases,
            4,
            {
                "parameter counts": "dense_parameters([784, 512, 512, 10]): expected 669,706 "
                "as Keras counts, found 668,672: that leaves out the biases; each unit of a "
                "Dense layer has one bias besides its weights"
            },
        ),
        (
            bias_per_input,
            4,
            {
                "parameter counts": "dense_parameters([784, 512, 512, 10]): expected 669,706 "
                "as Keras counts, found 670,480: that gives each layer one bias per input; a "
                "Dense layer has one per unit"
            },
        ),
        (
            input_biases,
            4,
            {
                "parameter counts": "dense_parameters([784, 512, 512, 10]): expected 669,706 "
                "as Keras counts, found 670,490: that gives the input biases too; the input "
                "has no parameters, it only says what one example looks like"
            },
        ),
        (
            average,
            2,
            {
                "a whole number": "dense_parameters([3072, 128, 5]) returned 196994.5 (float): "
                "a count is a whole number",
                "parameter counts": "dense_parameters([784, 512, 512, 10]): expected 669,706 "
                "as Keras counts, found 334,853",
            },
        ),
    ],
)
def test_each_wrong_count_of_parameters_is_named(answer, points, messages):
    """Biases left out, one per input, biases on the input, a fraction: each named."""
    report = check_exercise_3(answer)
    assert report.points == points
    assert dict(_failures(report)) == messages


def test_a_function_that_raises_is_reported_with_its_error():
    def indexes_past_the_end(layer_sizes):
        return sum((layer_sizes[i] + 1) * layer_sizes[i + 1] for i in range(len(layer_sizes)))

    report = check_exercise_3(indexes_past_the_end)
    assert report.points == 0
    assert report.results[0].message == (
        "calling dense_parameters([784, 512, 512, 10]) raised IndexError: list index out of range"
    )
