"""Tests of lesson 09's checks on real Fashion-MNIST: a dense network trained once with
early stopping and a checkpoint, then graded with the callbacks and files learners get
wrong (no validation data, the training loss watched, best weights not restored, an .h5
checkpoint, a checkpoint of another model; a file saved before training, weights only,
a Lambda layer that safe_mode refuses)."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from data_loaders import load_fashion_mnist
from graders.cell_errors import CellFailure, reported_failures
from graders.lesson09 import check_exercise_1, check_exercise_2
from graders.report import STRICT_ENV_VAR, GradingFailed

pytestmark = pytest.mark.model


def _result(report, name: str):
    return next(r for r in report.results if r.name.startswith(name))


def _dense(head: str = "softmax") -> keras.Model:
    """The notes' network, as the lesson builds it."""
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(120, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation=head),
        ]
    )


def _callbacks(folder, *, monitor="val_loss", restore=True, path="best.keras", best_only=True):
    return [
        keras.callbacks.EarlyStopping(monitor=monitor, patience=2, restore_best_weights=restore),
        keras.callbacks.ModelCheckpoint(
            str(folder / path), monitor=monitor, save_best_only=best_only
        ),
    ]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The lesson's exercise 1, done right in 3 epochs: (model, history, callbacks, folder)."""
    folder = tmp_path_factory.mktemp("lesson09")
    (x_train, y_train), _ = load_fashion_mnist()
    x = x_train.reshape(-1, 784).astype("float32") / 255.0
    keras.utils.set_random_seed(0)
    model = _dense()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = _callbacks(folder)
    history = model.fit(
        x[:-6000],
        y_train[:-6000],
        validation_data=(x[-6000:], y_train[-6000:]),
        epochs=3,
        batch_size=128,
        callbacks=callbacks,
        verbose=0,
    )
    return model, history, callbacks, folder


def test_the_lesson_s_training_gets_full_marks(trained):
    model, history, callbacks, _ = trained
    report = check_exercise_1(model, history, callbacks)
    assert report.points == report.max_points == 10, str(report)


def test_early_stopping_without_restoring_the_best_weights_is_named(trained):
    model, history, _, folder = trained
    report = check_exercise_1(model, history, _callbacks(folder, restore=False))
    result = _result(report, "early stopping")
    assert result.status == "failed"
    assert result.message == (
        "the early stopping has restore_best_weights=False: the model keeps the weights of "
        "its last epoch, not those of the best one"
    )
    assert result.hint.startswith("Pass restore_best_weights=True")
    kept = _result(report, "best weights kept")  # the same as the checkpoint, by chance
    assert (kept.status, kept.points) == ("failed", 0)
    assert kept.message.startswith("not checked: the model keeps the best epoch only with")


def test_an_early_stopping_of_patience_0_is_named_and_nothing_else_blamed(trained):
    """An early stopping that restores its best weights but has patience=0: is the
    patience named, and does the check it holds back say only that, not that the best
    weights are not restored?"""
    model, history, callbacks, _ = trained
    stopper = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=0, restore_best_weights=True
    )
    report = check_exercise_1(model, history, [stopper, callbacks[1]])
    assert _result(report, "early stopping").message.startswith(
        "the early stopping has patience=0: it stops at the first"
    )
    kept = _result(report, "best weights kept")
    assert (kept.status, kept.message) == (
        "failed",
        "not checked until the early stopping is set up as asked (see 'early stopping')",
    )


def test_watching_the_training_loss_is_named(trained):
    model, history, _, folder = trained
    report = check_exercise_1(model, history, _callbacks(folder, monitor="loss"))
    result = _result(report, "early stopping")
    assert result.message == (
        "the early stopping watches 'loss', expected a validation quantity ('val_loss' or "
        "'val_accuracy')"
    )
    assert "monitor='val_loss'" in result.hint


def test_an_h5_checkpoint_and_one_that_keeps_every_epoch_are_named(trained):
    model, history, _, folder = trained
    report = check_exercise_1(model, history, _callbacks(folder, path="best.h5"))
    result = _result(report, "checkpoint")
    assert result.message == (
        f"the checkpoint writes '{folder / 'best.h5'}', expected a whole model in Keras's "
        "format (a file name ending in .keras)"
    )
    assert _result(report, "best weights kept").message.startswith("not checked")
    report = check_exercise_1(model, history, _callbacks(folder, best_only=False))
    assert _result(report, "checkpoint").message == (
        "the checkpoint has save_best_only=False: its file holds the last epoch, not the best"
    )


def test_a_checkpoint_on_the_training_loss_is_named_even_without_early_stopping(trained):
    model, history, _, folder = trained
    checkpoint = _callbacks(folder, monitor="loss")[1]
    report = check_exercise_1(model, history, [checkpoint])
    assert _result(report, "early stopping").message == (
        "expected a keras.callbacks.EarlyStopping in callbacks, found none"
    )
    assert _result(report, "checkpoint").message == (
        "the checkpoint watches 'loss', expected a validation quantity ('val_loss' or "
        "'val_accuracy')"
    )
    assert _result(report, "best weights kept").points == 0


def test_a_history_without_validation_data_is_named(trained):
    model, history, callbacks, _ = trained
    without = {k: v for k, v in history.history.items() if not k.startswith("val_")}
    result = _result(check_exercise_1(model, without, callbacks), "validation data")
    assert result.status == "failed"
    assert result.message.startswith("the history has no val_loss: fit was given no validation")
    assert "validation_data=(x_val, y_val)" in result.hint


def test_a_checkpoint_of_another_model_is_not_the_best_epoch(trained, tmp_path):
    """A checkpoint file that holds an untrained network: the model and the file do not
    predict the same, and the message says so."""
    model, history, _, _ = trained
    _dense().save(tmp_path / "best.keras")
    result = _result(check_exercise_1(model, history, _callbacks(tmp_path)), "best weights kept")
    assert result.status == "failed"
    assert result.message.startswith(
        f"the model and the checkpoint {tmp_path / 'best.keras'} are not the same epoch: "
        "their probabilities differ by up to"
    )


def test_a_sigmoid_output_loses_the_layer_points_with_the_reason(trained):
    _, history, callbacks, _ = trained
    report = check_exercise_1(_dense(head="sigmoid"), history, callbacks)
    result = _result(report, "layers")
    assert result.status == "failed"
    assert "Dense(10, activation='softmax')" in result.hint
    assert "several labels" in result.hint


def test_missing_callbacks_are_not_attempted_and_missing_model_is_too(trained):
    model, history, _, _ = trained
    report = check_exercise_1(model, history, None)
    assert _result(report, "early stopping").status == "not attempted"
    assert "callbacks is still None" in _result(report, "checkpoint").message
    assert check_exercise_1(None, None, None).status == "not attempted"


def test_a_model_saved_and_loaded_back_gets_full_marks(trained, tmp_path):
    model = trained[0]
    path = str(tmp_path / "fashion_model.keras")
    model.save(path)
    report = check_exercise_2(model, path, keras.saving.load_model(path))
    assert report.points == report.max_points == 10, str(report)


def test_a_file_saved_before_training_predicts_otherwise(trained, tmp_path):
    """The learner saved the network before fit: the file loads, but it is another model."""
    model = trained[0]
    path = tmp_path / "fashion_model.keras"
    _dense().save(path)
    report = check_exercise_2(model, str(path), keras.saving.load_model(path))
    result = _result(report, "same predictions")
    assert result.status == "failed"
    assert result.message.startswith(
        f"the file {path} does not predict what the model predicts: probabilities differ by"
    )
    assert result.hint.startswith("Save the model after training it")
    assert _result(report, "saved file").status == "passed"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "fashion_model.h5",
            "expected a file in Keras's format (a name ending in .keras), found 'fashion_model.h5'",
        ),
        ("fashion.weights.h5", "holds weights only (save_weights): no architecture to load"),
        ("missing.keras", "does not exist"),
    ],
)
def test_wrong_files_are_named(trained, tmp_path, name, message):
    model = trained[0]
    path = tmp_path / name
    if name.endswith(".weights.h5"):
        model.save_weights(path)
    elif name.endswith(".h5"):
        model.save(path)
    result = _result(check_exercise_2(model, str(path), None), "saved file")
    assert result.status == "failed"
    assert message in result.message, result.message


def test_a_lambda_layer_is_refused_by_safe_mode_and_nothing_runs(tmp_path):
    """A model with a Lambda layer: saving stores its Python code, so the check's safe
    load refuses the file, and says why."""
    model = keras.Sequential([keras.Input(shape=(784,)), layers.Lambda(lambda x: x * 2.0)])
    path = tmp_path / "with_lambda.keras"
    model.save(path)
    result = _result(check_exercise_2(model, str(path), None), "saved file")
    assert result.status == "failed"
    assert result.message == (
        f"{path} was refused by keras.saving.load_model(..., safe_mode=True): it holds a "
        "Lambda layer, whose Python code would run when the file is loaded"
    )


def test_a_reloaded_object_that_is_not_a_model_is_named(trained, tmp_path):
    model = trained[0]
    path = str(tmp_path / "fashion_model.keras")
    model.save(path)
    result = _result(check_exercise_2(model, path, path), "loaded back")
    assert result.message == "expected reloaded to be a keras.Model, found str"
    result = _result(check_exercise_2(model, path, model), "loaded back")
    assert result.message == "reloaded is the model itself, not a model loaded from the file"
    assert check_exercise_2(None, None, None).status == "not attempted"
    report = check_exercise_2(model, None, None)
    assert "model_path is still None" in _result(report, "saved file").message


def test_strict_mode_raises_once_with_the_callbacks_in_the_report(trained, monkeypatch):
    """In strict mode (nbgrader scores a cell by whether it raises), does exercise 1 raise
    once, with its whole report, the callbacks' items included, even when the model's own
    items already fail?"""
    _, history, _, folder = trained
    monkeypatch.setenv(STRICT_ENV_VAR, "1")
    with pytest.raises(GradingFailed) as raised:
        check_exercise_1(_dense(head="sigmoid"), history, _callbacks(folder, restore=False))
    assert "the early stopping has restore_best_weights=False" in str(raised.value)


def test_a_callbacks_cell_that_raised_is_named(trained):
    """When the learner's cell that sets callbacks raised (and fit ran without them), do
    the callbacks' items say so, rather than "callbacks is still None"?"""
    model, history, _, _ = trained
    source = "callbacks = [keras.callbacks.EarlyStopping(patience=2, monitor=val_loss)]"
    failure = CellFailure(NameError("name 'val_loss' is not defined"), source)
    with reported_failures({"callbacks": failure}):
        report = check_exercise_1(model, history, None)
    assert _result(report, "validation data").status == "passed"
    stopping = _result(report, "early stopping")
    assert (stopping.status, stopping.message) == (
        "failed",
        "your cell that sets callbacks raised NameError: name 'val_loss' is not defined",
    )
    assert _result(report, "best weights kept").message == (
        "not checked: your cell that sets callbacks did not finish (see 'early stopping')"
    )
