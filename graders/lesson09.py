"""Checks for lesson 09 · The whole workflow: load, preprocess, define, compile, fit,
evaluate, predict, save and load.

Exercise 1 trains the source notes' dense network on the real Fashion-MNIST photos
(:func:`data_loaders.load_fashion_mnist`), flattened to 784 numbers and scaled to [0, 1],
with early stopping and a checkpoint of the best epoch. Exercise 2 saves the trained
model in Keras's format and loads it back. Both load the learner's files themselves,
with ``safe_mode=True``, so a file that would run code is never loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from course_utils.language import translate
from course_utils.lesson_files import SAVED_FOLDER
from graders.architecture import LayerSpec
from graders.cell_errors import watch_cells
from graders.common import is_keras_model, not_a_model
from graders.exercise_items import Findings, Item, ItemExercise, Need
from graders.heldout import LESSON_SCALING, heldout_candidates
from graders.model_exercise import ModelExercise
from graders.report import Report
from graders.rules import Rule, Rules, first_instance
from graders.same_predictions import Comparison, predicts_as_the_model
from graders.saved_file import LOADS_SAFELY, SavedModelFile, saved_file_rules
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
PREPROCESSING_HINT = translate(
    "Flatten and scale the photos (x.reshape(-1, 784).astype('float32') / 255), keep the "
    "integer labels with loss='sparse_categorical_crossentropy', and let the early stopping "
    "run: epochs=20 with patience=2 (at least {min_epochs} epochs).",
    min_epochs=MIN_EPOCHS,
)
CHECKPOINT_FILE = f"{SAVED_FOLDER}/fashion_best.keras"  # the names the lesson asks for
MODEL_FILE = f"{SAVED_FOLDER}/fashion_model.keras"
MONITORED = ("val_loss", "val_accuracy")
"""What the early stopping and the checkpoint may watch: a validation quantity."""
WATCHED = translate("{first!r} or {second!r}", first=MONITORED[0], second=MONITORED[1])

POINTS = {
    "input shape": 1,
    "layers": 1,
    "parameter count": 1,
    "epochs": 0,
    "training accuracy": 1,
    "held-out accuracy": 1,
    "reported test accuracy": 0,
}
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
    x = heldout.scaled(LESSON_SCALING[DATASET], first=SAMPLE)
    return shaped_for(model, x)


def _compared_with(
    other: Callable[[Findings], Any], called: Callable[[Findings], str]
) -> Callable[[Findings], Comparison]:
    """An item's subject: the learner's model against ``other(found)``, which messages
    call ``called(found)``, on :func:`_sample_images`."""
    return lambda found: Comparison(found["model"], other(found), called(found), _sample_images)


def _callback(kind: str, callbacks) -> Any:
    """The first ``keras.callbacks.<kind>`` in ``callbacks``, or None."""
    import keras

    return first_instance(getattr(keras.callbacks, kind), callbacks)


# --- exercise 1: early stopping and a checkpoint ----------------------------------------

FIT = translate("train the model with history = model.fit(..., callbacks=callbacks)")
TRAINED = (
    Need("model", todo=FIT),
    Need(
        "history",
        todo=FIT,
        valid=lambda history: history_dict(history) is not None,
        invalid=translate("not checked: no History from fit"),
    ),
    Need(
        "model",
        valid=is_keras_model,
        invalid=translate("not checked: model is not a keras.Model"),
    ),
)
WITH_CALLBACKS = (
    *TRAINED,
    Need("callbacks", todo=translate("pass your list of callbacks to fit and to this check")),
)

VALIDATION_DATA = Rules(
    rules=(
        Rule(
            lambda metrics: not any(key.startswith("val_") for key in metrics),
            translate(
                "the history has no val_loss: fit was given no validation data, so early "
                "stopping and the checkpoint had nothing to judge the epochs by"
            ),
            translate(
                "Pass validation_data=(x_val, y_val) to model.fit: images the model does not "
                "train on."
            ),
        ),
    ),
    passed=translate("the history records validation loss and accuracy"),
)


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


PATIENCE_HINT = translate("Give it patience=2: two epochs without improvement before stopping.")
NOT_THE_BEST_EPOCH = {
    False: translate(
        "not checked: the model keeps the best epoch only with an early stopping that "
        "restores its weights (see 'early stopping')"
    ),
    True: translate(
        "not checked until the early stopping is set up as asked (see 'early stopping')"
    ),
}
"""Why the model and its checkpoint are not compared while the early stopping is wrong (the
model may be the last epoch, the same as the checkpoint by chance), by whether it restores
the best weights."""
EARLY_STOPPING = Rules(
    rules=(
        Rule(
            lambda stopper: stopper is None,
            translate("expected a keras.callbacks.EarlyStopping in callbacks, found none"),
            translate(
                "Add keras.callbacks.EarlyStopping(monitor='val_loss', patience=2, "
                "restore_best_weights=True) to the callbacks you pass to fit."
            ),
        ),
        Rule(
            lambda stopper: not _whole_number(stopper.patience),
            lambda stopper: translate(
                "the early stopping's patience is {patience!r}, expected a whole number of epochs",
                patience=stopper.patience,
            ),
            PATIENCE_HINT,
        ),
        Rule(
            lambda stopper: stopper.monitor not in MONITORED,
            lambda stopper: translate(
                "the early stopping watches {monitor!r}, expected a validation quantity "
                "({watched})",
                monitor=stopper.monitor,
                watched=WATCHED,
            ),
            translate(
                "The training loss keeps falling while the model overfits: watch the loss on "
                "the validation images, monitor='val_loss'."
            ),
        ),
        Rule(
            lambda stopper: not stopper.restore_best_weights,
            translate(
                "the early stopping has restore_best_weights=False: the model keeps the weights "
                "of its last epoch, not those of the best one"
            ),
            translate(
                "Pass restore_best_weights=True, so that the model ends with its best epoch's "
                "weights."
            ),
        ),
        Rule(
            lambda stopper: stopper.patience < 1,
            lambda stopper: translate(
                "the early stopping has patience={patience}: it stops at the first epoch that "
                "is not better, however noisy the validation loss",
                patience=stopper.patience,
            ),
            PATIENCE_HINT,
        ),
    ),
    passed=lambda stopper: translate(
        "EarlyStopping on {monitor!r}, patience {patience}, best weights restored",
        monitor=stopper.monitor,
        patience=stopper.patience,
    ),
    withheld=lambda stopper: NOT_THE_BEST_EPOCH[
        stopper is not None and bool(stopper.restore_best_weights)
    ],
)


@dataclass(frozen=True)
class CheckpointSettings:
    """The learner's first ModelCheckpoint (None: none) and first EarlyStopping."""

    checkpoint: Any
    stopper: Any

    @property
    def path(self) -> str:
        return str(self.checkpoint.filepath)


CHECKPOINT_FILE_SAVED = Rules(
    rules=(
        Rule(
            lambda file: not file.exists,
            lambda file: translate(
                "the checkpoint's file {path} does not exist: did fit run with these callbacks?",
                path=file.path,
            ),
            translate("Pass callbacks=callbacks to model.fit, then run this check."),
            withheld=translate("not checked: no checkpoint file"),
        ),
        replace(LOADS_SAFELY, withheld=translate("not checked: no loadable file")),
    ),
    passed=lambda file: translate(
        "{path} holds a model that loads with safe_mode=True", path=file.path
    ),
)
CHECKPOINT = Rules(
    rules=(
        Rule(
            lambda s: s.checkpoint is None,
            translate("expected a keras.callbacks.ModelCheckpoint in callbacks, found none"),
            translate(
                "Add keras.callbacks.ModelCheckpoint({file!r}, monitor='val_loss', "
                "save_best_only=True) to the callbacks.",
                file=CHECKPOINT_FILE,
            ),
        ),
        Rule(
            lambda s: s.checkpoint.save_weights_only or not s.path.endswith(".keras"),
            lambda s: translate(
                "the checkpoint writes {path!r}, expected a whole model in Keras's format (a "
                "file name ending in .keras)",
                path=s.path,
            ),
            translate(
                "Use ModelCheckpoint({file!r}, ...) without save_weights_only: the .keras file "
                "holds the architecture, the weights and the optimizer, and loads with "
                "keras.saving.load_model. (.h5 is the legacy format.)",
                file=CHECKPOINT_FILE,
            ),
        ),
        Rule(
            lambda s: "{" in s.path,
            lambda s: translate(
                "the checkpoint's file name {path!r} changes with each epoch", path=s.path
            ),
            translate(
                "Use one fixed name, e.g. {file!r}: with save_best_only=True it always holds "
                "the best epoch.",
                file=CHECKPOINT_FILE,
            ),
        ),
        Rule(
            lambda s: not s.checkpoint.save_best_only,
            translate(
                "the checkpoint has save_best_only=False: its file holds the last epoch, not "
                "the best"
            ),
            translate("Pass save_best_only=True."),
        ),
        Rule(
            lambda s: s.checkpoint.monitor not in MONITORED,
            lambda s: translate(
                "the checkpoint watches {monitor!r}, expected a validation quantity ({watched})",
                monitor=s.checkpoint.monitor,
                watched=WATCHED,
            ),
            translate(
                "Keep the epoch that does best on the validation images: monitor='val_loss'."
            ),
        ),
        Rule(
            lambda s: s.stopper is not None and s.checkpoint.monitor != s.stopper.monitor,
            lambda s: translate(
                "the checkpoint watches {monitor!r} but the early stopping {stopper!r}: they "
                "may choose different best epochs",
                monitor=s.checkpoint.monitor,
                stopper=s.stopper.monitor,
            ),
            lambda s: translate("Give both monitor={monitor!r}.", monitor=s.stopper.monitor),
        ),
    ),
    then=lambda s: CHECKPOINT_FILE_SAVED(SavedModelFile(s.path)),
    withheld=translate("not checked: the checkpoint is not set up as asked (see 'checkpoint')"),
)


def _not_the_same_epoch(comparison: Comparison) -> str:
    error = comparison.error
    problem = (
        f"{type(error).__name__}: {error}"
        if error is not None
        else translate(
            "their probabilities differ by up to {difference:.3g}",
            difference=comparison.difference,
        )
    )
    return translate(
        "the model and the checkpoint {other} are not the same epoch: {problem}",
        other=comparison.other,
        problem=problem,
    )


BEST_WEIGHTS_KEPT = Rules(
    rules=(
        Rule(
            lambda comparison: not comparison.agrees(SAME_TOLERANCE),
            _not_the_same_epoch,
            translate(
                "Train once more with restore_best_weights=True in the early stopping and the "
                "same monitor in both callbacks, and run this check right after fit."
            ),
        ),
    ),
    passed=translate("the model and its checkpoint predict the same: both are the best epoch"),
)

EXERCISE_1 = ModelExercise(
    title=translate("Exercise 1 · Train with early stopping and a checkpoint"),
    input_shape=(PIXELS,),
    other_input_shapes=((28, 28),),
    input_hint=translate(
        "The dense network takes each photo as one vector of 784 numbers: "
        "keras.Input(shape=(784,)) on x_train.reshape(-1, 784)."
    ),
    layers=DENSE_LAYERS,
    equivalents=(DENSE_FROM_IMAGES,),
    params=DENSE_PARAMS,
    hints={
        1: translate("The first hidden layer is Dense(512, activation='relu') on the 784 pixels."),
        2: translate("Dropout(0.2) follows each hidden layer."),
        3: translate("The second hidden layer is Dense(120, activation='relu')."),
        4: translate("Dropout(0.2) follows each hidden layer."),
        5: translate(
            "One probability per class, summing to 1: Dense(10, activation='softmax'). A "
            "sigmoid output scores each class on its own, for problems where an image may "
            "have several labels."
        ),
    },
    min_epochs=MIN_EPOCHS,
    train_threshold=TRAIN_THRESHOLD,
    dataset=DATASET,
    preprocessing_hint=PREPROCESSING_HINT,
    params_hint=translate(
        "(784 + 1) x 512 + (512 + 1) x 120 + (120 + 1) x 10 = {params:,}: a "
        "different count means other layer sizes or a missing hidden layer.",
        params=DENSE_PARAMS,
    ),
    heldout_threshold=TEST_THRESHOLD,
    points=POINTS,
    extra_items=(
        Item(
            "validation data",
            CALLBACK_POINTS["validation data"],
            VALIDATION_DATA,
            subject=lambda found: history_dict(found["history"]),
            needs=TRAINED,
        ),
        Item(
            "early stopping",
            CALLBACK_POINTS["early stopping"],
            EARLY_STOPPING,
            subject=lambda found: _callback("EarlyStopping", found["callbacks"]),
            needs=WITH_CALLBACKS,
        ),
        Item(
            "checkpoint",
            CALLBACK_POINTS["checkpoint"],
            CHECKPOINT,
            subject=lambda found: CheckpointSettings(
                _callback("ModelCheckpoint", found["callbacks"]),
                _callback("EarlyStopping", found["callbacks"]),
            ),
            needs=WITH_CALLBACKS,
        ),
        Item(
            "best weights kept",
            CALLBACK_POINTS["best weights kept"],
            BEST_WEIGHTS_KEPT,
            subject=_compared_with(
                lambda found: found.value("checkpoint").model,
                lambda found: str(found.value("checkpoint").path),
            ),
            needs=WITH_CALLBACKS,
            uses=("checkpoint",),
            trusts=("early stopping",),
        ),
    ),
)


def check_exercise_1(model, history, callbacks) -> Report:
    """Grade exercise 1: the notes' dense network (784 -> Dense(512, relu) -> Dropout(0.2)
    -> Dense(120, relu) -> Dropout(0.2) -> Dense(10, softmax); 464,690 parameters) trained
    on Fashion-MNIST with validation data, ``callbacks`` holding an EarlyStopping on a
    validation quantity with ``restore_best_weights=True`` and a ModelCheckpoint that saves
    the best epoch to a ``.keras`` file; the model must reach 0.86 on the test photos, and
    the checkpoint, loaded with ``safe_mode=True``, must predict as the model does (both
    are the best epoch). Worth 10 points."""
    return EXERCISE_1.grade(model, history, callbacks=callbacks)


# --- exercise 2: save the model and load it back ----------------------------------------

TRAINED_MODEL = Need(
    "model",
    todo=translate("train it in exercise 1"),
    valid=is_keras_model,
    invalid=lambda model: not_a_model("model", model),
)
MODEL_PATH = Need(
    "model_path",
    todo=translate("save the model with model.save(model_path) and set model_path to its name"),
)
RELOADED = Need(
    "reloaded",
    todo=translate("load it back with reloaded = keras.saving.load_model(model_path)"),
    valid=is_keras_model,
    invalid=lambda reloaded: not_a_model("reloaded", reloaded),
    hint=translate("keras.saving.load_model(model_path) returns the model: keep what it returns."),
)

PREDICTS_AS_THE_MODEL = predicts_as_the_model(
    SAME_TOLERANCE,
    translate("{sample} test photos", sample=SAMPLE),
    translate(
        "Save the model after training it (model.save after fit), then load that same file: "
        "a file saved earlier holds other weights."
    ),
)
LOADED_BACK = replace(
    PREDICTS_AS_THE_MODEL,
    rules=(
        Rule(
            lambda comparison: comparison.second is comparison.first,
            translate("reloaded is the model itself, not a model loaded from the file"),
            translate(
                "reloaded = keras.saving.load_model(model_path): a new model, read from disk."
            ),
        ),
        *PREDICTS_AS_THE_MODEL.rules,
    ),
)

EXERCISE_2 = ItemExercise(
    title=translate("Exercise 2 · Save the model and load it back"),
    items=(
        Item(
            "saved file",
            SAVE_POINTS["saved file"],
            saved_file_rules("model_path", MODEL_FILE, "saved file"),
            subject=lambda found: SavedModelFile(found["model_path"]),
            needs=(TRAINED_MODEL, MODEL_PATH),
        ),
        Item(
            "same predictions",
            SAVE_POINTS["same predictions"],
            PREDICTS_AS_THE_MODEL,
            subject=_compared_with(
                lambda found: found.value("saved file").model,
                lambda found: translate("the file {path}", path=found["model_path"]),
            ),
            needs=(TRAINED_MODEL, MODEL_PATH),
            uses=("saved file",),
        ),
        Item(
            "loaded back",
            SAVE_POINTS["loaded back"],
            LOADED_BACK,
            subject=_compared_with(lambda found: found["reloaded"], lambda found: "reloaded"),
            needs=(TRAINED_MODEL, MODEL_PATH, RELOADED),
        ),
    ),
)


def check_exercise_2(model, model_path, reloaded) -> Report:
    """Grade exercise 2: ``model_path`` names the file where the trained ``model`` was
    saved with ``model.save``, in Keras's format (``.keras``); the check loads that file
    itself with ``safe_mode=True`` and compares its predictions with the model's on the
    test photos; ``reloaded`` is the model the learner loaded back with
    ``keras.saving.load_model``, which must predict the same. Worth 10 points."""
    return EXERCISE_2.grade(model=model, model_path=model_path, reloaded=reloaded)


watch_cells(sys.modules[__name__])
