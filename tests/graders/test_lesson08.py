"""Tests of lesson 08's checks on real MNIST: the MLP's and the convnet's architectures in
every spelling the lesson accepts, the mistakes learners make with each, and the training
checks on an MLP trained on unscaled pixels and on one that was never trained."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from data_loaders import load_mnist
from graders.lesson08 import check_exercise_1, check_exercise_2
from graders.reference_models import mnist_convnet, mnist_mlp

pytestmark = pytest.mark.model


def _result(report, name: str):
    return next(r for r in report.results if r.name.startswith(name))


def _mlp(*, input_shape=(784,), flatten=False, hidden=512, dropout=0.2, head="softmax"):
    """The lesson's MLP written learner-style, with switches for classic mistakes."""
    stack = [keras.Input(shape=input_shape)]
    if flatten:
        stack.append(layers.Flatten())
    for _ in range(2):
        stack.append(layers.Dense(hidden, activation="relu"))
        if dropout:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(10, activation=head))
    return keras.Sequential(stack)


def _convnet(*, input_shape=(28, 28, 1), padding="valid", pool=True, early_pool=False, head=None):
    """The lesson's convnet written learner-style, with switches for classic mistakes."""
    stack = [keras.Input(shape=input_shape)]
    if input_shape == (28, 28):
        stack.append(layers.Reshape((28, 28, 1)))
    stack.append(layers.Conv2D(32, (3, 3), padding=padding, activation="relu"))
    if early_pool:
        stack.append(layers.MaxPooling2D((2, 2)))
    stack.append(layers.Conv2D(64, (3, 3), activation="relu"))
    if pool and not early_pool:
        stack.append(layers.MaxPooling2D((2, 2)))
    stack += [
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        *(head or [layers.Dense(10, activation="softmax")]),
    ]
    return keras.Sequential(stack)


def _functional_convnet() -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3)(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


MLP_SPELLINGS = {
    "the reference, on flat vectors": mnist_mlp,
    "on (28, 28) images with Flatten": lambda: _mlp(input_shape=(28, 28), flatten=True),
    "on (28, 28, 1) images with Flatten": lambda: _mlp(input_shape=(28, 28, 1), flatten=True),
    "activations as layers": lambda: keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(512),
            layers.ReLU(),
            layers.Dropout(0.2),
            layers.Dense(512),
            layers.Activation("relu"),
            layers.Dropout(0.2),
            layers.Dense(10),
            layers.Softmax(),
        ]
    ),
}
CONVNET_SPELLINGS = {
    "the reference": mnist_convnet,
    "on (28, 28) images with Reshape": lambda: _convnet(input_shape=(28, 28)),
    "functional, with an Activation layer": _functional_convnet,
}


@pytest.mark.parametrize("spelling", sorted(MLP_SPELLINGS))
def test_every_spelling_of_the_mlp_passes_the_architecture_checks(spelling):
    """Do the MLP on flat vectors and on images it flattens itself, with activations as
    arguments or as layers, all pass the input, layer and parameter checks?"""
    report = check_exercise_1(MLP_SPELLINGS[spelling](), None, None)
    passed = {r.name for r in report.results if r.status == "passed"}
    assert passed == {"input shape", "layers", "parameter count"}, str(report)


@pytest.mark.parametrize("spelling", sorted(CONVNET_SPELLINGS))
def test_every_spelling_of_the_convnet_passes_the_architecture_checks(spelling):
    """Does the convnet on (28, 28, 1) digits, or on (28, 28) digits it reshapes itself,
    pass the input, layer and parameter checks?"""
    report = check_exercise_2(CONVNET_SPELLINGS[spelling](), None, None)
    passed = {r.name for r in report.results if r.status == "passed"}
    assert passed == {"input shape", "layers", "parameter count"}, str(report)


MLP_MISTAKES = {
    "no dropout": (
        dict(dropout=0),
        "layers",
        "expected 5 layers, found 3; missing: layer 2: Dropout with rate 0.2; layer 4: "
        "Dropout with rate 0.2",
    ),
    "a sigmoid output": (
        dict(head="sigmoid"),
        "layers",
        "layer 5: expected Dense with softmax activation, found Dense with sigmoid activation",
    ),
    "images without Flatten": (
        dict(input_shape=(28, 28)),
        "layers",
        "layer 1 (Dense): expected output shape (None, 512), found (None, 28, 512)",
    ),
    "hidden layers of 128": (
        dict(hidden=128),
        "parameter count",
        "expected 669,706 parameters, found 118,282",
    ),
    "images with a channel axis, not flattened": (
        dict(input_shape=(28, 28, 1)),
        "layers",
        "layer 1 (Dense): expected output shape (None, 512), found (None, 28, 28, 512)",
    ),
}


@pytest.mark.parametrize("case", sorted(MLP_MISTAKES))
def test_each_mlp_mistake_gets_a_specific_message(case):
    """Is each classic MLP mistake named, with its layer or its count?"""
    options, check, expected = MLP_MISTAKES[case]
    result = _result(check_exercise_1(_mlp(**options), None, None), check)
    assert result.status == "failed"
    assert expected in result.message, result.message


CONVNET_MISTAKES = {
    "same padding": (
        dict(padding="same"),
        "layers",
        "layer 1 (Conv2D): expected output shape (None, 26, 26, 32), found (None, 28, 28, 32)",
        "with the default 'valid' padding: 26x26 feature maps come out",
    ),
    "no pooling": (
        dict(pool=False),
        "layers",
        "expected 8 layers, found 7; missing: layer 3: MaxPooling2D with pool size 2x2",
        "MaxPooling2D((2, 2)) after the two convolutions halves 24x24 to 12x12.",
    ),
    "pooling between the convolutions": (
        dict(early_pool=True),
        "layers",
        "layer 2, MaxPooling2D(2x2), is after Conv2D(32, 3x3, relu); it belongs right after "
        "Conv2D(64, 3x3, relu)",
        "MaxPooling2D((2, 2)) after the two convolutions halves 24x24 to 12x12.",
    ),
    "logits without softmax": (
        dict(head=[layers.Dense(10)]),
        "layers",
        "layer 8: expected Dense with softmax activation, found Dense with no activation",
        "Dense(10, activation='softmax')",
    ),
    "flat input": (
        dict(input_shape=(784,), head=None),
        "input shape",
        "expected input shape (None, 28, 28, 1), found (None, 784)",
        "Conv2D needs a channel axis: give the convnet x_train[..., None]",
    ),
}


def test_a_hint_two_missing_layers_share_is_given_once():
    """Without its two Dropout layers, does the MLP's report give their one hint once?"""
    result = _result(check_exercise_1(_mlp(dropout=0), None, None), "layers")
    assert result.hint == "Dropout(0.2) follows each hidden layer.", result.hint


@pytest.mark.parametrize("case", sorted(CONVNET_MISTAKES))
def test_each_convnet_mistake_gets_a_specific_message_and_hint(case):
    """Is each classic convnet mistake named, with a hint that belongs to it?"""
    options, check, message, hint = CONVNET_MISTAKES[case]
    if options.get("input_shape") == (784,):
        model = keras.Sequential(
            [keras.Input(shape=(784,)), layers.Reshape((28, 28, 1)), *mnist_convnet().layers]
        )
    else:
        model = _convnet(**options)
    result = _result(check_exercise_2(model, None, None), check)
    assert result.status == "failed"
    assert message in result.message, result.message
    assert hint in result.hint, result.hint


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def unscaled_mlp(mnist):
    """The MLP trained one epoch on raw pixels 0..255 (the lesson scales to [0, 1]), with
    its history and its test accuracy evaluated on raw pixels too."""
    (x_train, y_train), (x_test, y_test) = mnist
    keras.utils.set_random_seed(0)
    model = mnist_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train.reshape(-1, 784).astype("float32"), y_train, epochs=1, batch_size=128, verbose=0
    )
    metrics = model.evaluate(
        x_test.reshape(-1, 784).astype("float32"), y_test, return_dict=True, verbose=0
    )
    return model, history, metrics


def test_an_mlp_trained_on_unscaled_pixels_is_told_so(unscaled_mlp):
    """A model trained and tested on raw pixels for one epoch: is each failure named, the
    low training accuracy with this exercise's preprocessing advice, and the reported
    test accuracy as measured on unscaled digits?"""
    model, history, metrics = unscaled_mlp
    results = {r.name: r for r in check_exercise_1(model, history, metrics).results}
    assert results["epochs"].message == "expected at least 2 epochs of training, found 1"
    training = results["training accuracy above 0.95"]
    assert training.status == "failed"
    assert training.hint.startswith("Scale the pixels to [0, 1] (x.astype('float32') / 255)")
    heldout = results["accuracy on the grader's test images"]
    assert heldout.status == "failed"
    assert heldout.message.startswith(
        "expected accuracy of at least 0.96 on 10000 images (MNIST's test digits) scaled to "
        "[0, 1] (x / 255) as the lesson does, found 0."
    ), heldout.message
    reported = results["reported test accuracy at least 0.96"]
    assert reported.status == "failed"
    assert "it matches their accuracy scaled to raw pixels 0..255 (unscaled)" in reported.message
    assert reported.hint == (
        "Scale every image to [0, 1] (x / 255) as the lesson does, train again and evaluate."
    )


@pytest.fixture(scope="module")
def trained_mlp(mnist):
    """The lesson's MLP trained as the lesson does (scaled, 2 epochs), with its accuracy
    evaluated on the test digits and, as a learner might by mistake, on the training
    digits."""
    (x_train, y_train), (x_test, y_test) = mnist
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    keras.utils.set_random_seed(0)
    model = mnist_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=2, batch_size=128, verbose=0)
    on_test = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    on_training = model.evaluate(x_train, y_train, return_dict=True, verbose=0)
    return model, history, on_test, on_training


def test_a_test_accuracy_evaluated_on_the_training_digits_is_caught(trained_mlp):
    """mlp_test_metrics evaluated on the training digits (a few images in a thousand above
    the test accuracy, within the old 0.02 tolerance): does the check say so, with both
    figures, while the same model's real test figure passes?"""
    model, history, on_test, on_training = trained_mlp
    name = "reported test accuracy at least 0.96"
    honest = _result(check_exercise_1(model, history, on_test), name)
    assert honest.status == "passed", honest.message
    assert 0.002 < on_training["accuracy"] - on_test["accuracy"] < 0.02
    result = _result(check_exercise_1(model, history, on_training), name)
    assert result.status == "failed"
    reported, test = on_training["accuracy"], on_test["accuracy"]
    assert result.message.startswith(
        f"the reported test accuracy {reported:.3f} does not match this model's accuracy on "
        f"the test images scaled to [0, 1] (x / 255) as the lesson does, {test:.3f}: it is "
        "this model's accuracy on the training images ("
    ), result.message
    assert result.message.endswith(
        "on the first 10,000), so it was evaluated on the training split, which the model "
        "has learned"
    ), result.message
    assert result.hint.startswith("After training, evaluate once on the test split")


def test_an_untrained_mlp_with_a_made_up_history_fails_every_training_check(mnist):
    """An untrained MLP with a history and a test accuracy typed in by hand: is each figure
    checked against the grader's own measurement on the training and test digits?"""
    keras.utils.set_random_seed(0)
    history = {"loss": [0.2, 0.05], "accuracy": [0.95, 0.99]}
    report = check_exercise_1(mnist_mlp(), history, {"accuracy": 0.99})
    results = {r.name: r for r in report.results}
    assert results["epochs"].status == "passed"
    training = results["training accuracy above 0.95"]
    assert training.status == "failed"
    assert "this history does not come from training this model" in training.message
    heldout = results["accuracy on the grader's test images"]
    assert heldout.status == "failed"
    assert heldout.message.startswith("expected accuracy of at least 0.96 on 10000 images")
    reported = results["reported test accuracy at least 0.96"]
    assert reported.status == "failed"
    assert "does not match this model's accuracy on the test images" in reported.message
    assert report.points == 6  # input shape 1, layers 3, parameter count 1, epochs 1


def test_the_grader_reshapes_the_test_digits_to_each_model_input(mnist):
    """Are the same 10,000 test digits given to a flat-input MLP as (N, 784), to an MLP on
    images as (N, 28, 28) and to the convnet as (N, 28, 28, 1), and left as they are for a
    model whose input would take reordering or other sizes?"""
    from graders.training import shaped_for

    _, (x_test, _) = mnist
    assert shaped_for(mnist_mlp(), x_test).shape == (10000, 784)
    assert shaped_for(_mlp(input_shape=(28, 28), flatten=True), x_test).shape == (10000, 28, 28)
    assert shaped_for(mnist_convnet(), x_test).shape == (10000, 28, 28, 1)
    wrong = keras.Sequential([keras.Input(shape=(32, 32, 1)), layers.Flatten(), layers.Dense(10)])
    assert shaped_for(wrong, x_test).shape == (10000, 28, 28)  # left for the model to refuse
    channels_first = keras.Sequential([keras.Input(shape=(1, 28, 28)), layers.Flatten()])
    assert shaped_for(channels_first, x_test).shape == (10000, 28, 28)  # never reordered
    assert np.shares_memory(shaped_for(mnist_convnet(), x_test), x_test)
