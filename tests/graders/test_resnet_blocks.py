"""Tests of the residual-block grading of lesson 07 on learner-style implementations."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from batch_grader.sandboxed.grade import replay
from graders.function_source import FunctionSourceError, function_source, rebuild
from graders.resnet_blocks import CONVOLUTIONAL_CASE, IDENTITY_CASE, grade_block

pytestmark = pytest.mark.model


def _learner_block(
    X,
    f,
    filters,
    stage,
    block,
    s=1,
    initializer="glorot_uniform",
    training=None,
    *,
    shortcut_conv=False,
    skip_bn=(),
    shortcut_bn=True,
    add_after_relu=False,
    middle_padding="same",
    stride_on_middle=False,
    pass_training=True,
    use_initializer=True,
):
    """A block written the way a learner writes it, with switches for classic mistakes."""
    F1, F2, F3 = filters
    init = {"kernel_initializer": initializer} if use_initializer else {}
    first, middle = (1, s) if stride_on_middle else (s, 1)

    def bn(x, index):
        if index in skip_bn:
            return x
        layer = layers.BatchNormalization(axis=3, momentum=0.9)
        return layer(x, training=training) if pass_training else layer(x)

    X_shortcut = X
    X = layers.Conv2D(F1, (1, 1), strides=(first, first), padding="valid", **init)(X)
    X = layers.Activation("relu")(bn(X, 0))
    X = layers.Conv2D(F2, (f, f), strides=(middle, middle), padding=middle_padding, **init)(X)
    X = layers.Activation("relu")(bn(X, 1))
    X = bn(layers.Conv2D(F3, (1, 1), padding="valid", **init)(X), 2)
    if shortcut_conv:
        X_shortcut = layers.Conv2D(F3, (1, 1), strides=(s, s), padding="valid", **init)(X_shortcut)
        if shortcut_bn:
            X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)
    if add_after_relu:
        return layers.Add()([layers.Activation("relu")(X), X_shortcut])
    return layers.Activation("relu")(layers.Add()([X, X_shortcut]))


def _identity(**mistake):
    def identity_block(X, f, filters, stage, block, initializer="glorot_uniform", training=None):
        return _learner_block(
            X, f, filters, stage, block, initializer=initializer, training=training, **mistake
        )

    return identity_block


def _convolutional(**mistake):
    def convolutional_block(
        X, f, filters, stage, block, s=2, initializer="glorot_uniform", training=None
    ):
        return _learner_block(
            X,
            f,
            filters,
            stage,
            block,
            s=s,
            initializer=initializer,
            training=training,
            shortcut_conv=True,
            **mistake,
        )

    return convolutional_block


def test_correct_blocks_get_full_marks():
    """Do a correct identity block and a correct convolutional block earn 10 of 10?"""
    for case, function in ((IDENTITY_CASE, _identity()), (CONVOLUTIONAL_CASE, _convolutional())):
        report = grade_block("block", case, function)
        assert report.points == report.max_points == 10, str(report)


def test_the_untouched_stub_is_not_attempted():
    """Does a block still set to None, or a stub whose body returns nothing, report "not
    attempted" and 0 points?"""

    def identity_block(X, f, filters, stage, block, initializer=None, training=None):
        """The stub of the student notebook: its body is a comment."""

    for function in (None, identity_block):
        report = grade_block("block", IDENTITY_CASE, function)
        assert report.status == "not attempted" and report.points == 0, str(report)


MISTAKES = {
    "missing BatchNorm": (
        IDENTITY_CASE,
        _identity(skip_bn=(1,)),
        "no BatchNormalization after its fxf convolution",
    ),
    "shortcut added after the ReLU": (
        IDENTITY_CASE,
        _identity(add_after_relu=True),
        "the shortcut is added after the final ReLU",
    ),
    "valid where same belongs": (
        IDENTITY_CASE,
        _identity(middle_padding="valid"),
        "padding='same' (valid shrinks the maps)",
    ),
    "wrong stride": (
        CONVOLUTIONAL_CASE,
        _convolutional(stride_on_middle=True),
        "the stride s is on the fxf convolution",
    ),
    "shortcut without BatchNorm": (
        CONVOLUTIONAL_CASE,
        _convolutional(shortcut_bn=False),
        "the shortcut has no BatchNormalization",
    ),
    "training flag ignored": (
        IDENTITY_CASE,
        _identity(pass_training=False),
        "ignore the training argument",
    ),
    "initializer ignored": (
        IDENTITY_CASE,
        _identity(use_initializer=False),
        "draws its own random weights",
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_wrong_block_gets_a_specific_message(case):
    """Is each classic block mistake named in the feedback, with points lost?"""
    block_case, function, expected = MISTAKES[case]
    report = grade_block("block", block_case, function)
    assert report.points < report.max_points
    assert expected in str(report), str(report)


def test_a_block_that_raises_is_reported_with_the_error():
    """Does a block that raises (no stride on the shortcut) get the error and a hint?"""

    def convolutional_block(X, f, filters, stage, block, s=2, initializer=None, training=None):
        main = layers.Conv2D(filters[2], 1, strides=s)(X)
        return layers.Add()([main, layers.Conv2D(filters[2], 1)(X)])

    report = grade_block("block", CONVOLUTIONAL_CASE, convolutional_block)
    assert report.points == 0
    text = str(report)
    assert "raised ValueError" in text, text
    assert report.results[0].hint == (
        "An Add got a main path of shape (4, 4, 6) and a shortcut of shape (8, 8, 6): they "
        "must be equal. The fxf convolution needs padding='same' (valid shrinks the maps), the "
        "last convolution needs F3 filters, and in the convolutional block the shortcut's 1x1 "
        "Conv2D takes the same stride s as the main path's first one."
    )


def test_a_shortcut_saved_after_the_first_convolution_is_named():
    """Does an identity block whose shortcut is saved after the first Conv2D (so the Add
    gets F1 channels where it needs F3) hear exactly that, not the shape mistakes of the
    other blocks?"""

    def identity_block(X, f, filters, stage, block, initializer=None, training=None):
        F1, F2, F3 = filters
        X = layers.Conv2D(F1, 1, kernel_initializer=initializer)(X)
        X_shortcut = X
        X = layers.Activation("relu")(layers.BatchNormalization(axis=3)(X, training=training))
        X = layers.Conv2D(F2, f, padding="same", kernel_initializer=initializer)(X)
        X = layers.Activation("relu")(layers.BatchNormalization(axis=3)(X, training=training))
        X = layers.Conv2D(F3, 1, kernel_initializer=initializer)(X)
        X = layers.BatchNormalization(axis=3)(X, training=training)
        return layers.Activation("relu")(layers.Add()([X, X_shortcut]))

    report = grade_block("block", IDENTITY_CASE, identity_block)
    assert report.points == 0, str(report)
    assert report.results[0].hint == (
        "One input of the Add has F1 = 4 channels, those of the first convolution's output: "
        "the shortcut was saved after the first Conv2D had reassigned X. The identity block's "
        "shortcut is its input as it came in: write X_shortcut = X as the block's first line, "
        "before any layer."
    )


def test_valid_padding_in_the_convolutional_block_cannot_pass_by_broadcasting():
    """Does a convolutional block with a 'valid' fxf convolution fail to run (its 2x2 main
    path cannot be added to the 4x4 shortcut) instead of passing the shape check?"""
    report = grade_block("block", CONVOLUTIONAL_CASE, _convolutional(middle_padding="valid"))
    assert report.points == 0, str(report)
    runs = report.results[0]
    assert runs.message.startswith(
        "calling convolutional_block on an input of shape (2, 8, 8, 3) raised ValueError:"
    )
    assert "padding='same' (valid shrinks the maps)" in runs.hint


def test_calling_the_initializer_with_a_seed_is_explained():
    """Is initializer(seed=0), the older code's spelling, explained instead of a bare
    TypeError?"""

    def identity_block(X, f, filters, stage, block, initializer=None, training=None):
        return layers.Conv2D(filters[2], 1, kernel_initializer=initializer(seed=0))(X)

    report = grade_block("block", IDENTITY_CASE, identity_block)
    assert report.points == 0
    assert report.results[0].hint == (
        "initializer is already an initializer object: pass it as it is, "
        "kernel_initializer=initializer. Calling it, as in initializer(seed=0), asks it for "
        "weights (glorot_uniform(seed=0) in older code made a new initializer; here the "
        "grader passes one in)."
    )


def test_a_block_with_its_own_seeded_initializer_is_told_it_ignores_the_argument():
    """Is a block whose Conv2D layers use glorot_uniform(seed=0) instead of the initializer
    argument told so (its outputs repeat, so it does not look random)?"""

    def identity_block(X, f, filters, stage, block, initializer=None, training=None):
        seeded = keras.initializers.GlorotUniform(seed=0)
        return _learner_block(X, f, filters, stage, block, initializer=seeded, training=training)

    report = grade_block("block", IDENTITY_CASE, identity_block)
    assert [r.status for r in report.results] == ["passed", "passed", "failed", "failed"]
    assert report.results[2].message == (
        "two calls with different initializers gave the same output, so the block ignores its "
        "initializer argument (its Conv2D layers make their own weights)"
    )


# --- functions defined in a notebook: graded from their source, like the batch grader ------

HELPER_CELLS = """
from keras import layers

MOMENTUM = 0.9


def conv_bn(X, filters, size, name, initializer, training, padding="valid"):
    X = layers.Conv2D(filters, size, padding=padding, kernel_initializer=initializer)(X)
    return layers.BatchNormalization(axis=3, momentum=MOMENTUM)(X, training=training)


def identity_block(X, f, filters, stage, block, initializer="glorot_uniform", training=None):
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Activation("relu")(conv_bn(X, F1, 1, "2a", initializer, training))
    X = layers.Activation("relu")(conv_bn(X, F2, f, "2b", initializer, training, "same"))
    X = conv_bn(X, F3, 1, "2c", initializer, training)
    return layers.Activation("relu")(layers.Add()([X, X_shortcut]))
"""


def _notebook_namespace(tmp_path, source: str) -> dict:
    """Run ``source`` as a notebook cell runs: module __main__, its source readable."""
    path = tmp_path / "cell.py"
    path.write_text(source)
    namespace = {"__name__": "__main__"}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102
    return namespace


def test_a_block_that_calls_a_helper_from_another_cell_is_graded_from_its_source(tmp_path):
    """Does an identity block that calls a helper defined in another cell get full marks in
    the notebook, from the same self-contained source the batch grader receives?"""
    function = _notebook_namespace(tmp_path, HELPER_CELLS)["identity_block"]
    source = function_source(function)
    assert "MOMENTUM = 0.9" in source and "def conv_bn(" in source
    assert source.index("def conv_bn(") < source.index("def identity_block(")
    report = grade_block("block", IDENTITY_CASE, function)
    assert report.points == 10, str(report)


def test_a_block_that_uses_an_object_made_in_the_notebook_is_refused_with_the_reason(tmp_path):
    """Is a block that uses an initializer object created in another cell (which the batch
    grader cannot receive) refused in the notebook, naming it?"""
    cells = HELPER_CELLS.replace(
        "MOMENTUM = 0.9", "MOMENTUM = 0.9\nseeded = keras.initializers.Zeros()"
    )
    cells = "import keras\n" + cells.replace(
        "kernel_initializer=initializer)", "kernel_initializer=seeded)"
    )
    function = _notebook_namespace(tmp_path, cells)["identity_block"]
    report = grade_block("block", IDENTITY_CASE, function)
    assert report.points == 0
    assert report.results[0].message == (
        "conv_bn uses seeded, a Zeros made in the notebook, which the grader cannot receive "
        "(only code and plain numbers travel): create it inside conv_bn, or pass it as an "
        "argument"
    )


FUNCTION_SOURCE_CASES = {
    "a constant used as a default value": (
        "SIZE = 1\nINF = float('inf')\nSHAPE = [1, 1]\n\n\n"
        "def block(X, size=SIZE):\n    return (X, size, INF, SHAPE)\n",
        (7, 1, float("inf"), [1, 1]),
    ),
    "a function wrapped by functools.cache": (
        "import functools\n\n\n@functools.cache\ndef block(X):\n    return X\n",
        7,
    ),
    "a callable object": (
        "class Block:\n    def __call__(self, X):\n        return X\n\n\nblock = Block()\n",
        "block is a Block, not a function defined with def: the grader runs functions from "
        "their source",
    ),
    "the course's reference block imported in the cell": (
        "from graders.reference_models import residual_block\n\n\n"
        "def block(X):\n    return residual_block(X, 3, (4, 3, 6), 1, 'a')\n",
        "block uses residual_block from the course's own graders.reference_models: the "
        "exercise is to write it yourself",
    ),
    "the course's reference block imported in the function": (
        "def block(X):\n    from graders import reference_models\n\n"
        "    return reference_models.residual_block(X, 3, (4, 3, 6), 1, 'a')\n",
        "block imports the course's own graders: the exercise is to write it yourself",
    ),
}


@pytest.mark.parametrize("case", sorted(FUNCTION_SOURCE_CASES))
def test_function_source_writes_out_what_travels_and_refuses_the_rest(tmp_path, case):
    """Do defaults, infinite and list constants and a decorated function travel as source,
    and are a callable object and the course's own reference implementation refused by
    name?"""
    cells, outcome = FUNCTION_SOURCE_CASES[case]
    function = _notebook_namespace(tmp_path, cells)["block"]
    if not isinstance(outcome, str):
        assert rebuild(function)(7) == outcome
    else:
        refusal = outcome
        with pytest.raises(FunctionSourceError) as error:
            function_source(function, "block")
        assert str(error.value) == refusal


def test_a_replayed_type_error_keeps_its_explanation():
    """In the batch grader, where the block's error comes back from the re-run, is
    initializer(seed=0)'s TypeError still explained?"""
    message = "PatternInitializer.__call__() got an unexpected keyword argument 'seed'"
    function = replay({"0": {"error": "TypeError", "message": message}})
    report = grade_block("block", IDENTITY_CASE, function)
    assert report.results[0].hint.startswith("initializer is already an initializer object")
