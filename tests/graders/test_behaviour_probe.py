"""Tests of the behaviour probe (graders.behaviour_probe) on real Keras layers: a random
layer that acts only in training, a layer that always transforms, one that changes the
shape and one that cannot take the inputs."""

from __future__ import annotations

import numpy as np
import pytest
from keras import layers

from graders.behaviour_probe import probe

pytestmark = pytest.mark.model

MOVED = 0.01


def _images() -> np.ndarray:
    """Eight 8x8 grey images with a bright square off the centre, float32 in [0, 1]."""
    images = np.zeros((8, 8, 8, 1), dtype="float32")
    images[:, 1:4, 1:4] = 1.0
    return images


def test_a_random_layer_leaves_the_inputs_alone_at_inference_and_varies_in_training():
    shift = layers.RandomTranslation(0.3, 0.3, seed=1)
    inference = probe(shift, _images(), training=False)
    assert inference.error is None and not inference.reshaped
    assert inference.largest_change == 0.0
    training = probe(shift, _images(), training=True, calls=2)
    assert training.changed(MOVED) > training.count / 2
    assert training.varied(MOVED) > training.count / 2


def test_a_layer_that_always_transforms_changes_the_inputs_the_same_way_each_call():
    invert = layers.Rescaling(-1.0, offset=1.0)
    inference = probe(invert, _images(), training=False)
    assert inference.largest_change == 1.0
    training = probe(invert, _images(), training=True, calls=2)
    assert (training.changed(MOVED), training.varied(MOVED)) == (8, 0)


def test_a_changed_shape_and_an_error_are_findings_not_exceptions():
    flattened = probe(layers.Flatten(), _images(), training=False)
    assert flattened.reshaped and flattened.shape == (8, 64)
    failed = probe(layers.Conv2D(1, 3), _images()[..., 0], training=True)
    assert failed.error is not None and failed.outputs == ()
    assert failed.raised.startswith(type(failed.error).__name__ + ": ")
