"""A learner's cell that raised: the check says so, and the common errors are explained.

The errors are the real ones Keras raises for each mistake; one test runs the mistakes in a
real kernel, where the checks see the failed cells and the tracebacks end with the
explanation.
"""

from __future__ import annotations

import keras
import nbformat
import numpy as np
import pytest
from keras import layers
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_utils import dataset_browser
from graders import lesson01, lesson05
from graders.cell_errors import (
    assigned_names,
    explain,
    explain_in_cell,
    record_cell,
    watch_cells,
)

pytestmark = pytest.mark.model

IMAGES = np.random.default_rng(0).random((32, 32, 32, 3), dtype=np.float32)
LABELS = np.arange(32) % 5


def _dense(units: int, activation: str = "softmax") -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Flatten(),
            layers.Dense(units, activation=activation),
        ]
    )


def _fit_error(model: keras.Model, labels: np.ndarray, *args, **kwargs) -> Exception:
    model.compile(*args, **kwargs)
    with pytest.raises(Exception) as error:  # noqa: PT011 - any error Keras raises
        model.fit(IMAGES, labels, epochs=1, verbose=0)
    return error.value


def _data_error(input_shape: tuple[int, ...], images: np.ndarray) -> Exception:
    model = keras.Sequential(
        [keras.Input(shape=input_shape), layers.Flatten(), layers.Dense(5, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError) as error:
        model.fit(images, LABELS, epochs=1, verbose=0)
    return error.value


def _build_error(*stack) -> Exception:
    with pytest.raises(ValueError) as error:
        keras.Sequential([keras.Input(shape=(32, 32, 3)), *stack])
    return error.value


def _grey_error() -> Exception:
    with pytest.raises(ValueError) as error:
        keras.Sequential([keras.Input(shape=(28, 28)), layers.Conv2D(32, 3, name="conv2d")])
    return error.value


def _add_error() -> Exception:
    inputs = keras.Input(shape=(4, 4, 6))
    with pytest.raises(ValueError) as error:
        layers.Add()([layers.Conv2D(6, 3, padding="valid")(inputs), inputs])
    return error.value


def _shortcut_after_first_conv_error() -> Exception:
    inputs = keras.Input(shape=(15, 15, 256))
    first = layers.Conv2D(64, 1)(inputs)
    main = layers.Conv2D(256, 1)(layers.Conv2D(64, 3, padding="same")(first))
    with pytest.raises(ValueError) as error:
        layers.Add()([main, first])
    return error.value


def _rotation_in_degrees_error() -> Exception:
    with pytest.raises(ValueError) as error:
        layers.RandomRotation(18)
    return error.value


def _missing_folder_error(write) -> Exception:
    model = _dense(5)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(FileNotFoundError) as error:
        write(model)
    return error.value


def _log_into_missing_folder(model) -> None:
    logger = keras.callbacks.CSVLogger("no_such_folder/training_log.csv")
    model.fit(IMAGES, LABELS, epochs=1, callbacks=[logger], verbose=0)


MISSING_FOLDER = (
    "The folder 'no_such_folder' does not exist, and Keras's writers (CSVLogger, model.save, "
    "save_weights) do not create folders: make it first, "
    "Path('no_such_folder').mkdir(parents=True, exist_ok=True), as the lesson's setup cell "
    "does, then run this cell again."
)


CASES = {
    "integer labels with categorical_crossentropy": (
        lambda: _fit_error(_dense(5), LABELS, optimizer="adam", loss="categorical_crossentropy"),
        "The labels are integers, one class number per image (shape (32,)), but "
        "categorical_crossentropy expects one-hot rows like the model's output (32, 5): one-hot "
        "the labels with keras.utils.to_categorical(y, 5), or compile with "
        "loss='sparse_categorical_crossentropy'.",
    ),
    "Conv2D in place of Flatten, one-hot labels": (
        lambda: _fit_error(
            keras.Sequential(
                [keras.Input(shape=(32, 32, 3)), layers.Conv2D(5, 3, activation="softmax")]
            ),
            keras.utils.to_categorical(LABELS, 5),
            optimizer="adam",
            loss="categorical_crossentropy",
        ),
        "The model's output has shape (32, 30, 30, 5): a prediction for every position of a "
        "feature map, not one row of class scores per image like the labels (32, 5). The "
        "labels are right: put Flatten (it turns each image's feature maps into one row) "
        "between the last Conv2D or pooling layer and the Dense layers.",
    ),
    "Keras 2 positional compile": (
        lambda: _fit_error(
            _dense(5),
            keras.utils.to_categorical(LABELS, 5),
            "adam",
            "categorical_crossentropy",
            ["accuracy"],  # Keras 2's metrics, Keras 3's loss_weights
        ),
        "In Keras 3 the third positional argument of compile is loss_weights, not metrics, so "
        "compile('adam', 'categorical_crossentropy', ['accuracy']) passes the string "
        "'accuracy' as a weight. Pass keywords: compile(optimizer='adam', "
        "loss='categorical_crossentropy', metrics=['accuracy']).",
    ),
    "10 output units for 5 one-hot classes": (
        lambda: _fit_error(
            _dense(10),
            keras.utils.to_categorical(LABELS, 5),
            optimizer="adam",
            loss="categorical_crossentropy",
        ),
        "The labels have 5 classes (one-hot rows of 5) but the output layer has 10 units: give "
        "the last Dense layer one unit per class, Dense(5, activation='softmax').",
    ),
    "3 output units for labels 0..4": (
        lambda: _fit_error(
            _dense(3), LABELS, optimizer="adam", loss="sparse_categorical_crossentropy"
        ),
        "A label is 4 but the output layer has only 3 units (classes 0 to 2): give the last "
        "Dense layer one unit per class.",
    ),
    "one-hot labels for one sigmoid unit": (
        lambda: _fit_error(
            _dense(1, "sigmoid"),
            keras.utils.to_categorical(LABELS % 2, 2),
            optimizer="adam",
            loss="binary_crossentropy",
        ),
        "The model ends in one sigmoid unit, but the labels have 2 columns: keep the labels as "
        "0 and 1 (do not one-hot them) with loss='binary_crossentropy'.",
    ),
    "Conv2D after Flatten": (
        lambda: _build_error(layers.Flatten(), layers.Conv2D(32, 3, name="conv2d")),
        "Layer 'conv2d' works on images (batch, height, width, channels) but received flat "
        "rows of shape (None, 3072): a Conv2D or pooling layer must come before Flatten, which "
        "turns the feature maps into one row per image.",
    ),
    "MaxPooling2D after Flatten": (
        lambda: _build_error(layers.Flatten(), layers.MaxPooling2D(name="max_pooling2d")),
        "Layer 'max_pooling2d' works on images (batch, height, width, channels) but received "
        "flat rows of shape (None, 3072): a Conv2D or pooling layer must come before Flatten, "
        "which turns the feature maps into one row per image.",
    ),
    "images for a dense network's flat input": (
        lambda: _data_error((3072,), IMAGES),
        "The model's input takes images of shape (3072,) but it was given images of shape "
        "(32, 32, 3) (the batch axis left out): the same 3072 numbers, arranged differently: "
        "reshape the data for this model, x.reshape(-1, 3072).",
    ),
    "flat rows for a convnet's image input": (
        lambda: _data_error((32, 32, 3), IMAGES.reshape(len(IMAGES), -1)),
        "The model's input takes images of shape (32, 32, 3) but it was given images of shape "
        "(3072,) (the batch axis left out): the same 3072 numbers, arranged differently: "
        "reshape the data for this model, x.reshape(-1, 32, 32, 3).",
    ),
    "images of another size": (
        lambda: _data_error((784,), IMAGES),
        "The model's input takes images of shape (784,) but it was given images of shape "
        "(32, 32, 3) (the batch axis left out): give it the data prepared for this model, or "
        "change keras.Input(shape=...).",
    ),
    "grey images without a channels axis": (
        _grey_error,
        "Layer 'conv2d' works on images (batch, height, width, channels) but received "
        "(None, 28, 28), with no channels axis: grey images need one too. Give the model "
        "x[..., None], of shape (N, height, width, 1), and start it with "
        "keras.Input(shape=(height, width, 1)).",
    ),
    "a rotation factor in degrees": (
        _rotation_in_degrees_error,
        "A preprocessing layer's factor must lie between -1 and 1, and 18 does not: it is a "
        "fraction, not a number of degrees or pixels. RandomRotation's factor is a fraction "
        "of a full turn, so 18° is RandomRotation(18 / 360), that is RandomRotation(0.05).",
    ),
    "residual Add with valid padding": (
        _add_error,
        "An Add got a main path of shape (2, 2, 6) and a shortcut of shape (4, 4, 6): they "
        "must be equal. The fxf convolution needs padding='same' (valid shrinks the maps), the "
        "last convolution needs F3 filters, and in the convolutional block the shortcut's 1x1 "
        "Conv2D takes the same stride s as the main path's first one.",
    ),
    "residual shortcut saved after the first convolution": (
        _shortcut_after_first_conv_error,
        "An Add got a main path of shape (15, 15, 256) and a shortcut of shape (15, 15, 64): "
        "they must be equal. They differ in channels only, so one of them was taken at the "
        "wrong point: the identity block's shortcut is the block's input as it came in (save "
        "X_shortcut = X as the block's first line; saved after the first Conv2D has reassigned "
        "X, it has F1 channels, not F3), the main path's last Conv2D has F3 filters, and the "
        "convolutional block's shortcut goes through a 1x1 Conv2D with F3 filters, even where "
        "s = 1 (stage 2).",
    ),
    "a training log in a folder not made": (
        lambda: _missing_folder_error(_log_into_missing_folder),
        MISSING_FOLDER,
    ),
    "a model saved into a folder not made": (
        lambda: _missing_folder_error(lambda model: model.save("no_such_folder/model.keras")),
        MISSING_FOLDER,
    ),
    "weights saved into a folder not made": (
        lambda: _missing_folder_error(
            lambda model: model.save_weights("no_such_folder/model.weights.h5")
        ),
        MISSING_FOLDER,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_common_error_is_explained(case):
    """Does each real Keras error of a common mistake get its plain-words explanation?"""
    make_error, explanation = CASES[case]
    assert explain(make_error()) == explanation


def test_an_unknown_error_has_no_made_up_explanation():
    """Is an error the course does not know left unexplained (no guess)?"""
    assert explain(ZeroDivisionError("division by zero")) is None


def test_assigned_names_are_the_cell_top_level_names():
    """Are a cell's assigned names its top-level ones, not a function's locals, and are
    they found in a cell that does not parse?"""
    source = "import numpy as np\nmodel = None\ndef block(X):\n    inner = 1\n    return X\n"
    assert sorted(assigned_names(source)) == ["block", "model", "np"]
    assert assigned_names("history = model.fit(\n") == ["history"]


NOTEBOOK = [
    "import keras\nimport numpy as np\nfrom keras import layers\n"
    "from course_utils import show_model_diagram\n"
    "from graders.lesson01 import check_exercise_1\n"
    "x = np.zeros((10, 32, 32, 3), 'float32')\ny = np.arange(10) % 5",
    # Exercise 1, build: a Conv2D after Flatten.
    "model = None\nmodel = keras.Sequential([keras.Input(shape=(32, 32, 3)), layers.Flatten(), "
    "layers.Conv2D(8, 3, name='conv2d')])",
    "check_exercise_1(model, None)",
    # A helper cell run before the model exists.
    "show_model_diagram(model)",
    # Build fixed; train with integer labels and categorical cross-entropy.
    "model = keras.Sequential([keras.Input(shape=(32, 32, 3)), layers.Flatten(), "
    "layers.Dense(5, activation='softmax')])",
    "history = None\nmodel.compile(optimizer='adam', loss='categorical_crossentropy')\n"
    "history = model.fit(x, y, epochs=1, verbose=0)",
    "print(check_exercise_1(model, history))",
]


def _text(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
        parts.extend(output.get("traceback", []))
    return "\n".join(parts)


@pytest.mark.notebook
def test_in_a_kernel_the_checks_report_the_failed_cells_and_tracebacks_explain():
    """In a real kernel: does a check report the learner's failed build and fit cells with
    their errors and explanations, is the explanation shown under the failed cell, and does
    a helper cell that meets a None model say which exercise to complete?"""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in NOTEBOOK]
    )
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True).execute()
    cells = notebook.cells
    build_check = _text(cells[2])
    assert (
        "your cell that sets model raised ValueError: Input 0 with name 'None' of layer "
        "'conv2d' is incompatible with the layer: expected min_ndim=4, found ndim=2. Full "
        "shape received: (None, 3072)" in build_check
    ), build_check
    assert "a Conv2D or pooling layer must come before Flatten" in build_check
    assert "not attempted" not in build_check
    assert (
        "keras-course: model is still None: complete exercise 1 and run its cells first, then "
        "run this cell again." in _text(cells[3])
    ), _text(cells[3])
    fit_traceback = _text(cells[5])
    assert "keras-course: The labels are integers" in fit_traceback, fit_traceback
    fit_check = _text(cells[6])
    assert (
        "your cell that sets history raised ValueError: Arguments `target` and `output` must "
        "have the same rank (ndim). Received: target.shape=(None,), output.shape=(None, 5)"
        in fit_check
    ), fit_check
    assert "hint: The labels are integers, one class number per image" in fit_check


UNFINISHED_NOTEBOOK = [
    "import numpy as np\nfrom graders.lesson01 import check_exercise_1\n"
    "x = np.zeros((4, 32, 32, 3), 'float32')",
    "model = None",  # exercise 1, untouched
    "history = None",
    "predicted = model.predict(x)",  # needs exercise 1
    "print(predicted.shape)",  # needs the cell before
    "print(check_exercise_1(model, history).status)",
    "print('the cells after still run')",
    "1 / 0",  # a real error still raises
    "print('never reached')",
]


@pytest.mark.notebook
def test_run_all_goes_past_the_cells_that_need_an_unfinished_exercise():
    """Run top to bottom in the learner's kernel, stopping at the first error as Run All
    does (nbclient without allow_errors): do the cells that fail only because exercise 1 is
    not done show the course's note, with no traceback, and let the run go on to the check
    ("not attempted") and beyond, while a real error still stops it?"""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in UNFINISHED_NOTEBOOK]
    )
    client = NotebookClient(notebook, timeout=300, kernel_name="python3")
    with pytest.raises(CellExecutionError) as error:
        client.execute()
    assert error.value.ename == "ZeroDivisionError"
    cells = notebook.cells
    assert _text(cells[3]).strip() == (
        "keras-course: model is still None: complete exercise 1 and run its cells first, then "
        "run this cell again. (This cell stopped at AttributeError: 'NoneType' object has no "
        "attribute 'predict')"
    )
    assert _text(cells[4]).strip() == (
        "keras-course: predicted was not set because the cell that sets it failed: model is "
        "still None: complete exercise 1 and run its cells first, then run this cell again. "
        "(This cell stopped at NameError: name 'predicted' is not defined)"
    )
    for cell in cells[3:5]:
        assert all(output.output_type != "error" for output in cell.outputs), cell.outputs
    assert _text(cells[5]).strip() == "not attempted"
    assert _text(cells[6]).strip() == "the cells after still run"
    assert [output.output_type for output in cells[7].outputs] == ["error"]
    assert not cells[8].outputs


def test_a_name_left_unset_by_a_failed_cell_is_explained_by_the_cells_before():
    """Is a NameError for a name whose cell failed explained by that cell's error, through
    a chain of such cells (lesson 08's predictions -> confusion matrices -> most confused
    pairs), and do two cells that fail on each other's names end the explanation instead
    of looping?"""
    watch_cells(lesson01)  # outside a kernel: only learns lesson 01's exercise names
    record_cell(
        "predicted = model.predict(x)",
        AttributeError("'NoneType' object has no attribute 'predict'"),
    )
    unset = NameError("name 'predicted' is not defined", name="predicted")
    assert explain_in_cell(unset, "print(predicted)", {"model": None}) == (
        "predicted was not set because the cell that sets it failed: model is still None: "
        "complete exercise 1 and run its cells first, then run this cell again."
    )
    record_cell("matrix = confusion(predicted)", NameError("name 'predicted'", name="predicted"))
    unset = NameError("name 'matrix' is not defined", name="matrix")
    assert explain_in_cell(unset, "print(matrix)", {"model": None}) == (
        "matrix was not set because the cell that sets it failed: predicted was not set "
        "because the cell that sets it failed: model is still None: complete exercise 1 and "
        "run its cells first, then run this cell again."
    )
    record_cell("a = b", NameError("name 'b' is not defined", name="b"))
    record_cell("b = a", NameError("name 'a' is not defined", name="a"))
    unset = NameError("name 'a' is not defined", name="a")
    assert explain_in_cell(unset, "print(a)", {}) is None


def test_the_cells_after_a_classifier_without_flatten_are_explained_by_its_output():
    """With Conv2D in place of Flatten, the model outputs a prediction per position of a
    feature map: are the later cells' errors (a comparison that cannot broadcast, the
    dataset browser's check of its predictions) explained by the model's output shape,
    while an error that shows no such shape gets no made-up note?"""
    watch_cells(lesson01)  # outside a kernel: only learns lesson 01's exercise names
    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Conv2D(8, 3),
            layers.Dense(5, activation="softmax"),
        ]
    )
    predicted = np.argmax(model.predict(IMAGES, verbose=0), axis=-1)
    with pytest.raises(ValueError) as broadcast:
        np.mean(predicted == LABELS)
    with pytest.raises(ValueError) as browser:
        dataset_browser(IMAGES, LABELS, ["a", "b", "c", "d", "e"], predictions=predicted)
    note = (
        "model's output has shape (None, 30, 30, 5): a prediction for every position of a "
        "feature map, not one row of class scores per image, so what is computed from it "
        "here has the wrong shape. Put Flatten before the Dense layers in exercise 1, run "
        "its cells again, then this cell."
    )
    namespace = {"model": model}
    assert explain_in_cell(broadcast.value, "print(predicted == y_val)", namespace) == note
    assert explain_in_cell(browser.value, "dataset_browser(x, y, names)", namespace) == note
    unrelated = ValueError("expected shape (None, 32, 32, 3), found (None, 28, 28)")
    assert explain_in_cell(unrelated, "model.fit(x)", namespace) is None


def test_a_cell_that_reads_metrics_evaluated_as_a_list_is_explained():
    """Does the cell after lesson 05's exercise, reading test_metrics.items() where
    evaluate returned its default list, say to evaluate with return_dict=True?"""
    watch_cells(lesson05)  # outside a kernel: only learns lesson 05's exercise names
    test_metrics = [0.31, 0.9]
    with pytest.raises(AttributeError) as error:
        test_metrics.items()
    source = "for name, value in test_metrics.items():\n    print(name, value)"
    assert explain_in_cell(error.value, source, {"test_metrics": test_metrics}) == (
        "test_metrics is a list, [loss, accuracy], as evaluate returns by default, not a dict "
        "of named metrics: evaluate with return_dict=True, as exercise 1 asks, then run this "
        "cell again."
    )


@pytest.mark.notebook
def test_a_syntax_error_shows_the_learners_line_not_the_shells_code():
    """With the course's hooks on (a lesson's checks imported), does a cell that does not
    parse show IPython's usual syntax error, the learner's line and caret, without frames
    of IPython's own code?"""
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import graders.lesson01"),
            nbformat.v4.new_code_cell("x = (1,"),
            nbformat.v4.new_code_cell("if True:\nprint('not indented')"),
        ]
    )
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True).execute()
    for cell, error in zip(notebook.cells[1:], ("SyntaxError", "IndentationError"), strict=True):
        (output,) = [o for o in cell.outputs if o.output_type == "error"]
        traceback = "\n".join(output.traceback)
        assert output.ename == error, traceback
        assert "interactiveshell" not in traceback and "compilerop" not in traceback, traceback
