"""A small fixed subset of every dataset, for tests that check messages and flow, not
accuracy, such as the browser run of every student notebook.

With ``KERAS_COURSE_SMALL=1`` in the environment, every loader returns, of each split, the
first :data:`SMALL_PER_CLASS` images of each class (train, test), in the order the full
split has them, and records that subset as the load (:mod:`data_loaders.sources`), so that
the checks measure a model on the test images the notebook holds. The images and labels
keep their shapes after the first axis and their dtypes. A model trained on so few images
learns little: never grade or measure with it.
"""

from __future__ import annotations

import os

import numpy as np

from data_loaders._idx import Split

SMALL_ENV_VAR = "KERAS_COURSE_SMALL"
"""The environment variable that asks every loader for its small subset (value ``1``)."""

SMALL_PER_CLASS = (40, 20)
"""Images of each class kept in the training and in the test split."""


def small_data_requested() -> bool:
    """Whether this process's environment asks for the small subset."""
    return os.environ.get(SMALL_ENV_VAR) == "1"


def first_of_each_class(images: np.ndarray, labels: np.ndarray, per_class: int) -> Split:
    """The first ``per_class`` images of each class in ``labels`` ((N,) integers), with
    their labels, in their order in ``images`` ((N, ...))."""
    keep = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        keep[np.flatnonzero(labels == label)[:per_class]] = True
    return images[keep], labels[keep]


def small_splits(splits: tuple[Split, Split]) -> tuple[Split, Split]:
    """``(train, test)`` cut to :data:`SMALL_PER_CLASS` images of each class."""
    train, test = splits
    return (
        first_of_each_class(*train, SMALL_PER_CLASS[0]),
        first_of_each_class(*test, SMALL_PER_CLASS[1]),
    )
