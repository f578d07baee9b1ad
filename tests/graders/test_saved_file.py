"""Tests of the saved-file check (graders.saved_file, graders.same_predictions) on small
real models saved to .keras files: a file that loads and predicts as the model, one that
does not exist, one that does not load, one that Keras refuses in safe mode, one that
holds other weights, and names that are no model file."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from graders.same_predictions import Comparison, predicts_as_the_model
from graders.saved_file import SavedModelFile, saved_file_rules

pytestmark = pytest.mark.model

CHECK = saved_file_rules("model_path", "saved/model.keras", "saved file")
SAME = predicts_as_the_model(1e-6, "8 rows", "Save the model after training it.")


def _model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2, activation="softmax")])


def _rows(model) -> np.ndarray:
    return np.linspace(0, 1, 24, dtype="float32").reshape(8, 3)


def test_a_saved_model_loads_safely_and_predicts_as_the_model(tmp_path):
    model = _model()
    model.save(tmp_path / "model.keras")
    outcome = CHECK(SavedModelFile(str(tmp_path / "model.keras")))
    assert outcome.passed, outcome.message
    assert (
        outcome.message == f"{tmp_path / 'model.keras'} loads with keras.saving.load_model, safely"
    )
    comparison = Comparison(model, outcome.value.model, "the file", _rows)
    assert SAME(comparison).message == "the file predicts what the model predicts, on 8 rows"


def test_a_file_that_does_not_exist_is_named(tmp_path):
    outcome = CHECK(SavedModelFile(tmp_path / "missing.keras"))
    assert (outcome.passed, outcome.message) == (
        False,
        f"{tmp_path / 'missing.keras'} does not exist",
    )
    assert outcome.hint == "Run model.save(model_path) before this check."
    assert (
        outcome.withheld
        == "not checked: the grader could not load the saved file (see 'saved file')"
    )


def test_a_file_that_does_not_load_is_named_with_keras_s_error(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_text("not a zip file")
    outcome = CHECK(SavedModelFile(str(path)))
    assert outcome.message.startswith(f"{path} could not be loaded: "), outcome.message
    assert outcome.hint.startswith("Save the whole model with model.save")


def test_a_lambda_layer_is_refused_by_safe_mode_and_its_code_never_runs(tmp_path):
    ran = []
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Lambda(lambda x: ran.append(1) or x)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    ran.clear()
    outcome = CHECK(SavedModelFile(str(path)))
    assert outcome.message == (
        f"{path} was refused by keras.saving.load_model(..., safe_mode=True): it holds a "
        "Lambda layer, whose Python code would run when the file is loaded"
    )
    assert ran == []


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (3, "expected model_path to be a file name, found int"),
        ("m.weights.h5", "m.weights.h5 holds weights only (save_weights): no architecture"),
        ("m.h5", "expected a file in Keras's format (a name ending in .keras), found 'm.h5'"),
    ],
)
def test_a_name_that_is_no_model_file_is_named_before_any_file_is_read(given, message):
    outcome = CHECK(SavedModelFile(given))
    assert outcome.message.startswith(message), outcome.message


def test_a_file_of_other_weights_predicts_otherwise(tmp_path):
    _model(seed=1).save(tmp_path / "other.keras")
    other = SavedModelFile(tmp_path / "other.keras").model
    outcome = SAME(Comparison(_model(seed=0), other, "the file", _rows))
    assert not outcome.passed
    assert outcome.message.startswith(
        "the file does not predict what the model predicts: probabilities differ by up to "
    )
    assert (
        outcome.message.endswith(" on 8 rows")
        and outcome.hint == "Save the model after training it."
    )


def test_a_model_that_cannot_predict_the_inputs_is_named():
    narrow = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(2)])
    comparison = Comparison(_model(), narrow, "reloaded", _rows)
    assert comparison.error is not None and comparison.difference == float("inf")
    assert SAME(comparison).message.startswith("reloaded could not predict: ")
