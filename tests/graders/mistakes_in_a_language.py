"""One classic mistake per lesson, checked in the language of ``KERAS_COURSE_LANG``:
prints ``{lesson: report.to_dict()}`` as JSON (tests/graders/test_two_languages.py runs it
once per language). Each mistake is structural (a wrong layer, a wrong function), so no
model is trained."""

from __future__ import annotations

import json
import sys

import keras
from keras import layers


def _sequential(input_shape, *stack, name="mistake"):
    return keras.Sequential([keras.Input(shape=input_shape), *stack], name=name)


def _signs(*stack):
    return _sequential((32, 32, 3), *stack)


def to_channels_first(images):
    """A reshape where the axes must be moved."""
    batch, height, width, channels = images.shape
    return images.reshape(batch, channels, height, width)


def identity_block(X, f, filters, stage, block, initializer="glorot_uniform", training=None):
    """The block without its layers."""
    return X


def mistakes() -> dict:
    """Each lesson's check, called on a mistake a learner makes there."""
    from graders import (
        lesson00,
        lesson01,
        lesson02,
        lesson03,
        lesson04,
        lesson05,
        lesson06,
        lesson07,
        lesson08,
        lesson09,
        lesson10,
    )

    def head():  # new layers for each model
        return layers.Flatten(), layers.Dense(5, activation="softmax")

    def conv():
        return layers.Conv2D(32, (3, 3), activation="relu")

    return {
        "00": lambda: lesson00.check_exercise_1(to_channels_first),
        "01": lambda: lesson01.check_exercise_1(_signs(*head()), None),  # no hidden Dense(128)
        "02": lambda: lesson02.check_exercise_1(_signs(*head()), None),  # no convolution
        "03": lambda: lesson03.check_exercise_1(_signs(conv(), *head()), None),  # no pooling
        "04": lambda: lesson04.check_exercise_1(  # no dropout
            _signs(conv(), layers.MaxPooling2D((2, 2)), *head()), None
        ),
        "05": lambda: lesson05.check_exercise_1(_signs(*head()), None, None),
        "06": lambda: lesson06.check_exercise_1(  # a softmax of 2 for a binary label
            _sequential((64, 64, 3), layers.Flatten(), layers.Dense(2, activation="softmax")),
            None,
            None,
        ),
        "07": lambda: lesson07.check_exercise_1(identity_block),
        "08": lambda: lesson08.check_exercise_1(  # the dense network without hidden layers
            _sequential((784,), layers.Dense(10, activation="softmax")), None, None
        ),
        "09": lambda: lesson09.check_exercise_1(  # a sigmoid output for ten classes
            _sequential((784,), layers.Dense(10, activation="sigmoid")), None, []
        ),
        "10": lambda: lesson10.check_exercise_1(  # a flip, which turns a 6 into a 9
            keras.Sequential([layers.RandomFlip("horizontal_and_vertical", seed=0)])
        ),
    }


def main() -> None:
    keras.utils.set_random_seed(0)  # the same draws in every language's run
    reports = {lesson: check().to_dict() for lesson, check in mistakes().items()}
    json.dump(reports, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
