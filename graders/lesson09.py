"""Checks for lesson 09 · The whole workflow: load, preprocess, define, compile, fit,
evaluate, predict, save and load.

Exercise 1 trains the source notes' dense network on the real Fashion-MNIST photos
(:func:`data_loaders.load_fashion_mnist`), flattened to 784 numbers and scaled to [0, 1],
with early stopping and a checkpoint of the best epoch. Exercise 2 saves the trained
model in Keras's format and loads it back. Both load the learner's files themselves,
with ``safe_mode=True``, so a file that would run code is never loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from course_utils.lesson_files import SAVED_FOLDER
from graders.architecture import LayerSpec
from graders.cell_errors import watch_cells
from graders.common import is_keras_model, still_none
from graders.heldout import LESSON_SCALING, heldout_candidates
from graders.model_exercise import ModelExercise
from graders.report import CheckResult, Report
from graders.training import history_dict, shaped_for

DATASET = "fashion_mnist"  # what the lesson's models learn from and the grader tests them on

PIXELS = 28 * 28  # 784 numbers in one flattened photo
CLASSES = 10

DENSE_LAYERS = [
    LayerSpec("Dense", units=512, activation="relu", output_shape=(512,)),
    LayerSpec("Dropout", rate=0.2),
    LayerSpec("Dense", units=120, activation="relu", output_shape=(120,)),
    LayerSpec("Dropout", rate=0.2),
    LayerSpec("Dense", units=CLASSES, activation="softmax", output_shape=(CLASSES,)),
]
DENSE_FROM_IMAGES = [LayerSpec("Flatten", output_shape=(PIXELS,)), *DENSE_LAYERS]
"""The same network taking (28, 28) images and flattening them itself."""
DENSE_PARAMS = (PIXELS + 1) * 512 + (512 + 1) * 120 + (120 + 1) * CLASSES  # 464,690

MIN_EPOCHS = 3
TRAIN_THRESHOLD = 0.83  # a history's last epoch, averaged over it with dropout on
TEST_THRESHOLD = 0.86
PREPROCESSING_HINT = (
    "Flatten and scale the photos (x.reshape(-1, 784).astype('float32') / 255), keep the "
    "integer labels with loss='sparse_categorical_crossentropy', and let the early stopping "
    f"run: epochs=20 with patience=2 (at least {MIN_EPOCHS} epochs)."
)
CHECKPOINT_FILE = f"{SAVED_FOLDER}/fashion_best.keras"  # the names the lesson asks for
MODEL_FILE = f"{SAVED_FOLDER}/fashion_model.keras"
MONITORED = ("val_loss", "val_accuracy")
"""What the early stopping and the checkpoint may watch: a validation quantity."""

POINTS = {
    "input shape": 1,
    "layers": 1,
    "parameter count": 1,
    "epochs": 0,
    "training accuracy": 1,
    "held-out accuracy": 1,
    "reported test accuracy": 0,
}
EXERCISE_1_MODEL = ModelExercise(
    title="Exercise 1 · Train with early stopping and a checkpoint",
    input_shape=(PIXELS,),
    other_input_shapes=((28, 28),),
    input_hint=(
        "The dense network takes each photo as one vector of 784 numbers: "
        "keras.Input(shape=(784,)) on x_train.reshape(-1, 784)."
    ),
    layers=DENSE_LAYERS,
    equivalents=(DENSE_FROM_IMAGES,),
    params=DENSE_PARAMS,
    hints={
        1: "The first hidden layer is Dense(512, activation='relu') on the 784 pixels.",
        2: "Dropout(0.2) follows each hidden layer.",
        3: "The second hidden layer is Dense(120, activation='relu').",
        4: "Dropout(0.2) follows each hidden layer.",
        5: "One probability per class, summing to 1: Dense(10, activation='softmax'). A "
        "sigmoid output scores each class on its own, for problems where an image may "
        "have several labels.",
    },
    min_epochs=MIN_EPOCHS,
    train_threshold=TRAIN_THRESHOLD,
    dataset=DATASET,
    preprocessing_hint=PREPROCESSING_HINT,
    params_hint=(
        f"(784 + 1) x 512 + (512 + 1) x 120 + (120 + 1) x 10 = {DENSE_PARAMS:,}: a "
        "different count means other layer sizes or a missing hidden layer."
    ),
    heldout_threshold=TEST_THRESHOLD,
    points=POINTS,
)
CALLBACK_POINTS = {
    "validation data": 1,
    "early stopping": 1,
    "checkpoint": 2,
    "best weights kept": 1,
}
SAVE_POINTS = {"saved file": 3, "same predictions": 4, "loaded back": 3}
SAMPLE = 500
"""How many of the test photos the checks predict to compare two models."""
SAME_TOLERANCE = 1e-5
"""The largest difference between two models' probabilities that counts as the same
model: a saved and reloaded model predicts the same numbers, up to float rounding."""


def _sample_images(model) -> np.ndarray:
    """The first :data:`SAMPLE` test photos, scaled as the lesson teaches and shaped for
    ``model``'s input."""
    heldout = heldout_candidates(DATASET)[0]
    x = heldout.scaled(LESSON_SCALING[DATASET])[:SAMPLE]
    return shaped_for(model, x)


def _largest_difference(first, second, x: np.ndarray) -> float:
    a = np.asarray(first.predict(x, verbose=0), dtype=np.float64)
    b = np.asarray(second.predict(x, verbose=0), dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a - b).max())


def _load_safely(path: Path):
    """The model in ``path``, loaded with ``safe_mode=True``; raises what Keras raises."""
    import keras

    return keras.saving.load_model(path, safe_mode=True)


def _load_failure(path: Path, error: Exception) -> tuple[str, str]:
    """The message and hint for a file that Keras would not load."""
    text = str(error)
    if "safe_mode" in text or "Lambda" in text:
        return (
            f"{path} was refused by keras.saving.load_model(..., safe_mode=True): it holds "
            "a Lambda layer, whose Python code would run when the file is loaded",
            "Replace the Lambda layer with Keras layers (or a registered custom layer): "
            "a file that runs code cannot be loaded safely by anyone you send it to.",
        )
    return (
        f"{path} could not be loaded: {type(error).__name__}: {text.splitlines()[0][:200]}",
        "Save the whole model with model.save('name.keras'), not only its weights.",
    )


def _callbacks_of(kind: str, callbacks) -> list:
    import keras

    wanted = getattr(keras.callbacks, kind)
    return [c for c in callbacks if isinstance(c, wanted)]


def _check_validation(metrics: dict[str, list[float]], points: float) -> CheckResult:
    if any(key.startswith("val_") for key in metrics):
        return CheckResult.passed(
            "validation data", points, "the history records validation loss and accuracy"
        )
    return CheckResult.failed(
        "validation data",
        points,
        "the history has no val_loss: fit was given no validation data, so early stopping "
        "and the checkpoint had nothing to judge the epochs by",
        "Pass validation_data=(x_val, y_val) to model.fit: images the model does not train on.",
    )


def _check_early_stopping(callbacks, points: float) -> CheckResult:
    stoppers = _callbacks_of("EarlyStopping", callbacks)
    if not stoppers:
        return CheckResult.failed(
            "early stopping",
            points,
            "expected a keras.callbacks.EarlyStopping in callbacks, found none",
            "Add keras.callbacks.EarlyStopping(monitor='val_loss', patience=2, "
            "restore_best_weights=True) to the callbacks you pass to fit.",
        )
    stopper = stoppers[0]
    if not isinstance(stopper.patience, int) or isinstance(stopper.patience, bool):
        return CheckResult.failed(
            "early stopping",
            points,
            f"the early stopping's patience is {stopper.patience!r}, expected a whole number "
            "of epochs",
            "Give it patience=2: two epochs without improvement before stopping.",
        )
    if stopper.monitor not in MONITORED:
        return CheckResult.failed(
            "early stopping",
            points,
            f"the early stopping watches {stopper.monitor!r}, expected a validation "
            f"quantity ({' or '.join(map(repr, MONITORED))})",
            "The training loss keeps falling while the model overfits: watch the loss on "
            "the validation images, monitor='val_loss'.",
        )
    if not stopper.restore_best_weights:
        return CheckResult.failed(
            "early stopping",
            points,
            "the early stopping has restore_best_weights=False: the model keeps the weights "
            "of its last epoch, not those of the best one",
            "Pass restore_best_weights=True, so that the model ends with its best epoch's weights.",
        )
    if stopper.patience < 1:
        return CheckResult.failed(
            "early stopping",
            points,
            f"the early stopping has patience={stopper.patience}: it stops at the first "
            "epoch that is not better, however noisy the validation loss",
            "Give it patience=2: two epochs without improvement before stopping.",
        )
    return CheckResult.passed(
        "early stopping",
        points,
        f"EarlyStopping on {stopper.monitor!r}, patience {stopper.patience}, best weights restored",
    )


def _checkpoint_path(callbacks, monitor: str | None) -> tuple[CheckResult | None, Path | None]:
    """The checkpoint's file, or the failed result that says what is wrong with it."""
    name = "checkpoint"
    points = CALLBACK_POINTS[name]
    checkpoints = _callbacks_of("ModelCheckpoint", callbacks)
    if not checkpoints:
        return CheckResult.failed(
            name,
            points,
            "expected a keras.callbacks.ModelCheckpoint in callbacks, found none",
            f"Add keras.callbacks.ModelCheckpoint({CHECKPOINT_FILE!r}, monitor='val_loss', "
            "save_best_only=True) to the callbacks.",
        ), None
    checkpoint = checkpoints[0]
    path = str(checkpoint.filepath)
    if checkpoint.save_weights_only or not path.endswith(".keras"):
        return CheckResult.failed(
            name,
            points,
            f"the checkpoint writes {path!r}, expected a whole model in Keras's format (a "
            "file name ending in .keras)",
            f"Use ModelCheckpoint({CHECKPOINT_FILE!r}, ...) without save_weights_only: the "
            ".keras file holds the architecture, the weights and the optimizer, and loads "
            "with keras.saving.load_model. (.h5 is the legacy format.)",
        ), None
    if "{" in path:
        return CheckResult.failed(
            name,
            points,
            f"the checkpoint's file name {path!r} changes with each epoch",
            f"Use one fixed name, e.g. {CHECKPOINT_FILE!r}: with save_best_only=True it "
            "always holds the best epoch.",
        ), None
    if not checkpoint.save_best_only:
        return CheckResult.failed(
            name,
            points,
            "the checkpoint has save_best_only=False: its file holds the last epoch, not the best",
            "Pass save_best_only=True.",
        ), None
    if checkpoint.monitor not in MONITORED:
        return CheckResult.failed(
            name,
            points,
            f"the checkpoint watches {checkpoint.monitor!r}, expected a validation quantity "
            f"({' or '.join(map(repr, MONITORED))})",
            "Keep the epoch that does best on the validation images: monitor='val_loss'.",
        ), None
    if monitor is not None and checkpoint.monitor != monitor:
        return CheckResult.failed(
            name,
            points,
            f"the checkpoint watches {checkpoint.monitor!r} but the early stopping "
            f"{monitor!r}: they may choose different best epochs",
            f"Give both monitor={monitor!r}.",
        ), None
    return None, Path(path)


def check_exercise_1(model, history, callbacks) -> Report:
    """Grade exercise 1: the notes' dense network (784 -> Dense(512, relu) -> Dropout(0.2)
    -> Dense(120, relu) -> Dropout(0.2) -> Dense(10, softmax); 464,690 parameters) trained
    on Fashion-MNIST with validation data, ``callbacks`` holding an EarlyStopping on a
    validation quantity with ``restore_best_weights=True`` and a ModelCheckpoint that saves
    the best epoch to a ``.keras`` file; the model must reach 0.86 on the test photos, and
    the checkpoint, loaded with ``safe_mode=True``, must predict as the model does (both
    are the best epoch). Worth 10 points."""
    model_report = EXERCISE_1_MODEL.grade(model, history)
    results = list(model_report.results)
    items = list(CALLBACK_POINTS.items())
    metrics = history_dict(history)
    todo = "train the model with history = model.fit(..., callbacks=callbacks)"
    if model is None:
        results += still_none(items, "model", todo)
        return Report(model_report.title, results).finish()
    if not is_keras_model(model) or metrics is None:
        why = "not checked: " + (
            "model is not a keras.Model" if metrics is not None else "no History from fit"
        )
        if metrics is None and history is None:
            results += still_none(items, "history", todo)
        else:
            results += [CheckResult.failed(n, p, why) for n, p in items]
        return Report(model_report.title, results).finish()
    if callbacks is None:
        results.append(_check_validation(metrics, CALLBACK_POINTS["validation data"]))
        message = "callbacks is still None: pass your list of callbacks to fit and to this check"
        results += [CheckResult.not_attempted(n, p, message) for n, p in items[1:]]
        return Report(model_report.title, results).finish()
    callbacks = list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]
    stopping = _check_early_stopping(callbacks, CALLBACK_POINTS["early stopping"])
    stoppers = _callbacks_of("EarlyStopping", callbacks)
    failed, path = _checkpoint_path(callbacks, stoppers[0].monitor if stoppers else None)
    results += [_check_validation(metrics, CALLBACK_POINTS["validation data"]), stopping]
    best = "best weights kept"
    if failed is not None:
        why = "not checked: the checkpoint is not set up as asked (see 'checkpoint')"
        results += [failed, CheckResult.failed(best, CALLBACK_POINTS[best], why)]
        return Report(model_report.title, results).finish()
    restores = bool(stoppers) and bool(stoppers[0].restore_best_weights)
    unchecked = None if stopping.status == "passed" else _NOT_THE_BEST_EPOCH[restores]
    results += _check_checkpoint_file(model, path, unchecked)
    return Report(model_report.title, results).finish()


_NOT_THE_BEST_EPOCH = {
    False: "not checked: the model keeps the best epoch only with an early stopping that "
    "restores its weights (see 'early stopping')",
    True: "not checked until the early stopping is set up as asked (see 'early stopping')",
}
"""Why the model and its checkpoint are not compared while the early stopping is wrong, by
whether it restores the best weights."""


def _not_best_unless_stopping(result: CheckResult, unchecked: str | None) -> CheckResult:
    """While the early stopping is wrong (``unchecked`` says why, None when it is right),
    the model may be the last epoch: agreeing with the checkpoint then proves nothing (the
    last epoch may have been the best by chance)."""
    if unchecked is None or result.status != "passed":
        return result
    return CheckResult.failed(result.name, result.max_points, unchecked)


def _check_checkpoint_file(model, path: Path, unchecked: str | None) -> list[CheckResult]:
    name, best = "checkpoint", "best weights kept"
    if not path.is_file():
        return [
            CheckResult.failed(
                name,
                CALLBACK_POINTS[name],
                f"the checkpoint's file {path} does not exist: did fit run with these callbacks?",
                "Pass callbacks=callbacks to model.fit, then run this check.",
            ),
            CheckResult.failed(best, CALLBACK_POINTS[best], "not checked: no checkpoint file"),
        ]
    try:
        saved = _load_safely(path)
    except Exception as error:  # noqa: BLE001 - whatever Keras raises, it is the message
        message, hint = _load_failure(path, error)
        results = [CheckResult.failed(name, CALLBACK_POINTS[name], message, hint)]
        return results + [
            CheckResult.failed(best, CALLBACK_POINTS[best], "not checked: no loadable file")
        ]
    results = [
        CheckResult.passed(
            name, CALLBACK_POINTS[name], f"{path} holds a model that loads with safe_mode=True"
        )
    ]
    try:
        difference = _largest_difference(model, saved, _sample_images(model))
    except Exception as error:  # noqa: BLE001
        difference, problem = float("inf"), f"{type(error).__name__}: {error}"
    else:
        problem = f"their probabilities differ by up to {difference:.3g}"
    if difference <= SAME_TOLERANCE:
        message = "the model and its checkpoint predict the same: both are the best epoch"
        passed = CheckResult.passed(best, CALLBACK_POINTS[best], message)
        return results + [_not_best_unless_stopping(passed, unchecked)]
    hint = (
        "Train once more with restore_best_weights=True in the early stopping and the "
        "same monitor in both callbacks, and run this check right after fit."
    )
    if unchecked is not None:
        hint = "Fix the early stopping first (see 'early stopping'). " + hint
    message = f"the model and the checkpoint {path} are not the same epoch: {problem}"
    return results + [CheckResult.failed(best, CALLBACK_POINTS[best], message, hint)]


def check_exercise_2(model, model_path, reloaded) -> Report:
    """Grade exercise 2: ``model_path`` names the file where the trained ``model`` was
    saved with ``model.save``, in Keras's format (``.keras``); the check loads that file
    itself with ``safe_mode=True`` and compares its predictions with the model's on the
    test photos; ``reloaded`` is the model the learner loaded back with
    ``keras.saving.load_model``, which must predict the same. Worth 10 points."""
    title = "Exercise 2 · Save the model and load it back"
    items = list(SAVE_POINTS.items())
    if model is None or not is_keras_model(model):
        what = "model"
        if model is None:
            return Report(title, still_none(items, what, "train it in exercise 1")).finish()
        message = f"expected model to be a keras.Model, found {type(model).__name__}"
        return Report(title, [CheckResult.failed(n, p, message) for n, p in items]).finish()
    if model_path is None:
        todo = "save the model with model.save(model_path) and set model_path to its name"
        return Report(title, still_none(items, "model_path", todo)).finish()
    name, same, loaded = items
    saved, results = _check_saved_file(model_path, name)
    if saved is None:
        why = "not checked: the grader could not load the saved file (see 'saved file')"
        results += [CheckResult.failed(same[0], same[1], why)]
    else:
        results.append(_same_model(model, saved, same, f"the file {model_path}"))
    if reloaded is None:
        todo = "load it back with reloaded = keras.saving.load_model(model_path)"
        results += still_none([loaded], "reloaded", todo)
    elif not is_keras_model(reloaded):
        message = f"expected reloaded to be a keras.Model, found {type(reloaded).__name__}"
        hint = "keras.saving.load_model(model_path) returns the model: keep what it returns."
        results.append(CheckResult.failed(loaded[0], loaded[1], message, hint))
    elif reloaded is model:
        message = "reloaded is the model itself, not a model loaded from the file"
        hint = "reloaded = keras.saving.load_model(model_path): a new model, read from disk."
        results.append(CheckResult.failed(loaded[0], loaded[1], message, hint))
    else:
        results.append(_same_model(model, reloaded, loaded, "reloaded"))
    return Report(title, results).finish()


def _check_saved_file(model_path, item: tuple[str, float]):
    """The model in ``model_path``, loaded safely, and the results so far; None for the
    model when it could not be loaded."""
    name, points = item
    if not isinstance(model_path, str | os.PathLike):
        message = f"expected model_path to be a file name, found {type(model_path).__name__}"
        return None, [CheckResult.failed(name, points, message, "model_path = 'name.keras'")]
    path = Path(model_path)
    if path.name.endswith(".weights.h5"):
        return None, [
            CheckResult.failed(
                name,
                points,
                f"{path} holds weights only (save_weights): no architecture to load it into",
                f"Save the whole model: model.save({MODEL_FILE!r}). Weights alone load "
                "only into a model you rebuild first.",
            )
        ]
    if path.suffix != ".keras":
        return None, [
            CheckResult.failed(
                name,
                points,
                f"expected a file in Keras's format (a name ending in .keras), found {path.name!r}",
                f"model.save({MODEL_FILE!r}). The .h5 format is Keras 2's legacy one, "
                "and Keras 3 saves nothing else under other names.",
            )
        ]
    if not path.is_file():
        return None, [
            CheckResult.failed(
                name,
                points,
                f"{path} does not exist",
                "Run model.save(model_path) before this check.",
            )
        ]
    try:
        saved = _load_safely(path)
    except Exception as error:  # noqa: BLE001 - whatever Keras raises, it is the message
        message, hint = _load_failure(path, error)
        return None, [CheckResult.failed(name, points, message, hint)]
    return saved, [
        CheckResult.passed(name, points, f"{path} loads with keras.saving.load_model, safely")
    ]


def _same_model(model, other, item: tuple[str, float], what: str) -> CheckResult:
    name, points = item
    try:
        difference = _largest_difference(model, other, _sample_images(model))
    except Exception as error:  # noqa: BLE001 - the model's own error is the message
        return CheckResult.failed(name, points, f"{what} could not predict: {error}")
    if difference <= SAME_TOLERANCE:
        return CheckResult.passed(
            name, points, f"{what} predicts what the model predicts, on {SAMPLE} test photos"
        )
    return CheckResult.failed(
        name,
        points,
        f"{what} does not predict what the model predicts: probabilities differ by up to "
        f"{difference:.3g} on {SAMPLE} test photos",
        "Save the model after training it (model.save after fit), then load that same "
        "file: a file saved earlier holds other weights.",
    )


watch_cells(sys.modules[__name__])
