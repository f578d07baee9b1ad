"""Tests of lesson 01's check on real Keras models trained on the real data."""

from __future__ import annotations

import pickle

import keras
import numpy as np
import pytest
from keras import layers

from data_loaders import load_traffic_signs
from data_loaders.sources import forget_loads
from graders import heldout
from graders.common import OUTPUT_PROBABILITIES, missing_output_activation_hint
from graders.heldout import SCALINGS, scale_images, use_grader_heldout
from graders.lesson01 import check_exercise_1
from graders.training import (
    REPORTED_TOLERANCE,
    SCALING_MARGIN,
    TEST_SPLIT_CHANCE,
    accuracy_on,
    chance_of_a_lead,
    check_measured_accuracies,
    likely_scalings,
)

pytestmark = pytest.mark.model


def _model(hidden=128, classes=5, first=None, softmax=True):
    stack = [
        keras.Input(shape=(32, 32, 3)),
        first or layers.Flatten(),
        layers.Dense(hidden),
        layers.Activation("relu"),
        layers.Dense(classes),
    ]
    if softmax:
        stack.append(layers.Activation("softmax"))
    return keras.Sequential(stack)


def _solution_model() -> keras.Model:
    """The exercise's model as the solution writes it."""
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(5, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def trained():
    """The exercise's model, trained as the lesson says (3 epochs, validation_split=0.2)."""
    keras.utils.set_random_seed(0)
    (x_train, y_train), _ = load_traffic_signs()
    model = _solution_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        scale_images(x_train),
        keras.utils.to_categorical(y_train, 5),
        epochs=3,
        validation_split=0.2,
        verbose=0,
    )
    return model, history


def _result(report, name):
    return next(r for r in report.results if r.name == name)


def test_correct_trained_model_gets_full_marks(trained):
    """Does the lesson's solution, trained for 3 epochs, get 10/10?"""
    report = check_exercise_1(*trained)
    assert (report.status, report.points, report.max_points) == ("passed", 10, 10), str(report)


def test_history_dict_and_acc_key_are_accepted(trained):
    """Are history.history (a dict) and the old 'acc' key accepted too?"""
    model, history = trained
    renamed = {("acc" if k == "accuracy" else k): v for k, v in history.history.items()}
    assert check_exercise_1(model, renamed).points == 10


def test_untouched_exercise_is_not_attempted():
    """Does the student stub (model and history still None) report "not attempted"?"""
    report = check_exercise_1(None, None)
    assert report.status == "not attempted" and report.points == 0
    assert all("still None" in r.message for r in report.results)


def test_built_but_untrained_model_scores_architecture_only():
    """Is a right but untrained model given the architecture points and told to train?"""
    report = check_exercise_1(_model(), None)
    assert report.points == 6
    assert _result(report, "epochs").status == "not attempted"


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            lambda: _model(hidden=100),
            "layer 2: expected Dense with 128 units, found Dense with 100 units",
        ),
        (
            lambda: _model(softmax=False),
            "layer 3: expected Dense with softmax activation, found Dense with no activation",
        ),
        (
            lambda: _model(first=layers.Conv2D(8, 3)),
            "layer 1: expected Flatten, found Conv2D with 8 filters",
        ),
        (
            lambda: _model(classes=3),
            "layer 3: expected Dense with 5 units, found Dense with 3 units",
        ),
    ],
    ids=["100 units", "no softmax", "Conv2D for Flatten", "3 classes"],
)
def test_each_wrong_model_gets_a_specific_message(model, message):
    """Does each classic mistake get a message naming the layer, the expectation and the find?"""
    report = check_exercise_1(model(), None)
    layers_result = _result(report, "layers")
    assert layers_result.status == "failed"
    assert layers_result.message.startswith(message), layers_result.message
    assert layers_result.hint


def test_an_output_of_logits_is_told_why_the_model_must_output_probabilities():
    """A model without its softmax, compiled with from_logits=True, trains the same
    classifier: does its layers result say why the exercise still wants the softmax in
    the model (what reads its outputs), not only that it is missing?"""
    model = _model(softmax=False)
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    result = next(r for r in check_exercise_1(model, None).results if r.name == "layers")
    assert result.status == "failed"
    assert "layer 3: expected Dense with softmax activation, found Dense with no" in result.message
    assert result.hint.endswith(OUTPUT_PROBABILITIES), result.hint
    assert "from_logits=True" in OUTPUT_PROBABILITIES


def test_the_low_accuracies_of_a_model_without_its_softmax_point_at_the_softmax():
    """A model without its softmax, trained with categorical_crossentropy, learns little:
    do the low accuracies send the learner to the missing softmax that the layers result
    names, not to scaling and epochs?"""
    keras.utils.set_random_seed(0)
    (x_train, y_train), _ = load_traffic_signs()
    model = _model(softmax=False)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        scale_images(x_train), keras.utils.to_categorical(y_train, 5), epochs=3, verbose=0
    )
    report = check_exercise_1(model, history)
    hint = (
        "Add the missing softmax first (see 'layers'): without it the outputs are not "
        "probabilities, yet the loss (unless from_logits=True) and the grader's accuracy read "
        "them as such, so this figure says little. Then train again: Dense(..., "
        "activation='softmax') as the output layer."
    )
    training = _result(report, "training accuracy above 0.50")
    assert (training.status, training.hint) == ("failed", hint), str(report)
    assert missing_output_activation_hint("softmax") == hint
    held_out = _result(report, "accuracy on the grader's test images")
    assert held_out.status == "passed" or held_out.hint == hint, str(report)


def test_wrong_types_fail_without_a_traceback():
    """Do a non-model and a non-History get readable failures instead of exceptions?"""
    report = check_exercise_1([1, 2], None)
    assert report.status == "failed"
    assert "expected model to be a keras.Model, found list" in report.results[0].message
    report = check_exercise_1(_model(), "history")
    assert (
        "expected the History returned by model.fit, found str" in _result(report, "epochs").message
    )


def test_low_accuracy_and_nan_loss_fail_the_training_results(trained):
    """Do a low final accuracy, a NaN loss and a too-short run each fail their result?"""
    model, _ = trained
    low = {"loss": [1.6, 1.5, 1.5], "accuracy": [0.2, 0.3, 0.41]}
    report = check_exercise_1(model, low)
    assert "found 0.410" in _result(report, "training accuracy above 0.50").message
    nan = {"loss": [1.6, float("nan"), float("nan")], "accuracy": [0.2, 0.2, 0.2]}
    report = check_exercise_1(model, nan)
    assert "became nan" in _result(report, "training accuracy above 0.50").message
    short = {"loss": [1.0], "accuracy": [0.9]}
    assert _result(check_exercise_1(model, short), "epochs").status == "failed"


def test_grader_evaluates_the_model_on_its_own_data(trained):
    """Does a model that claims a good history but predicts badly fail the grader's evaluation?"""
    _, history = trained
    untrained = _model()
    untrained.compile(optimizer="adam", loss="categorical_crossentropy")
    # An untrained model with zeroed weights predicts one class: 20 % accuracy.
    untrained.set_weights([np.zeros_like(w) for w in untrained.get_weights()])
    report = check_exercise_1(untrained, history)
    result = _result(report, "accuracy on the grader's test images")
    assert result.status == "failed" and "found 0.200" in result.message


LESSON = "[-0.5, 0.5] (x / 255 - 0.5)"
UNIT = "[0, 1] (x / 255)"
RAW = "raw pixels 0..255 (unscaled)"


def _trained_on_raw_pixels(model):
    """``model`` trained as the exercise says but on unscaled 0..255 pixels; returns its
    history, its own test metrics on raw pixels and its test accuracy under each of the
    grader's scalings."""
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_traffic_signs()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train.astype("float32"),
        keras.utils.to_categorical(y_train, 5),
        epochs=3,
        validation_split=0.2,
        verbose=0,
    )
    test_metrics = model.evaluate(
        x_test.astype("float32"),
        keras.utils.to_categorical(y_test, 5),
        return_dict=True,
        verbose=0,
    )
    accuracies = {
        name: accuracy_on(model, scale(x_test), y_test) for name, scale in SCALINGS.items()
    }
    return history, test_metrics, accuracies


def _held_out_start(accuracies) -> str:
    """How the held-out message starts: the accuracy under the lesson's scaling."""
    return (
        "expected accuracy of at least 0.50 on 1000 images (the course's test images) scaled "
        f"to [-0.5, 0.5] (x / 255 - 0.5) as the lesson does, found {accuracies[LESSON]:.3f}; "
    )


def _tie_end(accuracies) -> str:
    """How the held-out message ends when [0, 1] and raw pixels tie."""
    return (
        f"the same images give {accuracies[UNIT]:.3f} scaled to [0, 1] (x / 255) and "
        f"{accuracies[RAW]:.3f} scaled to raw pixels 0..255 (unscaled): your model was likely "
        "trained on one of these scalings; it scores about the same on each, so the grader "
        "cannot tell which"
    )


def test_a_model_trained_on_raw_pixels_is_told_so():
    """Is a model trained on unscaled 0..255 pixels named as such, not told to train longer?
    A ReLU network can score within a few images of that on x / 255 too: then both are
    named (which are named is tested in test_scaling_diagnosis.py)."""
    model = _solution_model()
    history, _, accuracies = _trained_on_raw_pixels(model)
    result = _result(check_exercise_1(model, history), "accuracy on the grader's test images")
    assert accuracies[LESSON] < 0.5
    likely = likely_scalings(accuracies, LESSON)
    assert RAW in likely, accuracies
    if likely == [RAW]:
        end = (
            f"scaled to raw pixels 0..255 (unscaled) the same images give {accuracies[RAW]:.3f}: "
            "your model was likely trained on inputs scaled to raw pixels 0..255 (unscaled)"
        )
    else:
        end = _tie_end(accuracies)
    assert result.message == _held_out_start(accuracies) + end
    assert result.hint == (
        "Scale the training images to [-0.5, 0.5] (x / 255 - 0.5) as the lesson does, train "
        "again, then run this check."
    )


@pytest.fixture(scope="module")
def scale_free():
    """A network without biases trained on raw pixels: its logits scale with its input, so
    it predicts the same classes on x and on x / 255, and those two scalings tie."""
    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Flatten(),
            layers.Dense(128, activation="relu", use_bias=False),
            layers.Dense(5, activation="softmax", use_bias=False),
        ]
    )
    return model, *_trained_on_raw_pixels(model)


def test_two_scalings_that_tie_are_both_named(scale_free):
    """When [0, 1] and raw pixels give the same accuracy, does the held-out message name both
    rather than pick one on the last digit?"""
    model, history, _, accuracies = scale_free
    assert abs(accuracies[RAW] - accuracies[UNIT]) <= 0.002
    assert accuracies[RAW] - accuracies[LESSON] > SCALING_MARGIN and accuracies[LESSON] < 0.5
    result = _result(check_exercise_1(model, history), "accuracy on the grader's test images")
    assert result.message == _held_out_start(accuracies) + _tie_end(accuracies)
    assert result.hint == (
        "Scale the training images to [-0.5, 0.5] (x / 255 - 0.5) as the lesson does, train "
        "again, then run this check."
    )


def test_a_reported_accuracy_matching_two_scalings_names_both(scale_free):
    """Is a test accuracy measured on raw pixels, which [0, 1] gives as well, said to match
    both scalings?"""
    model, _, test_metrics, accuracies = scale_free
    assert abs(test_metrics["accuracy"] - accuracies[LESSON]) > REPORTED_TOLERANCE
    _, reported = check_measured_accuracies(
        model,
        test_metrics,
        "traffic_signs",
        heldout=("accuracy on the grader's test images", 1.0, 0.5),
        reported=("reported test accuracy", 1.0, 0.5),
    )
    assert reported.message == (
        f"the reported test accuracy {test_metrics['accuracy']:.3f} does not match this model's "
        "accuracy on the test images scaled to [-0.5, 0.5] (x / 255 - 0.5) as the lesson does, "
        f"{accuracies[LESSON]:.3f}: it matches their accuracy of {accuracies[UNIT]:.3f} scaled "
        f"to [0, 1] (x / 255) and of {accuracies[RAW]:.3f} scaled to raw pixels 0..255 "
        "(unscaled), so the model was likely trained and tested on one of these scalings"
    )


HELD_OUT_CHECK = ("accuracy on the grader's test images", 1.0, 0.5)
REPORTED_CHECK = ("reported test accuracy", 1.0, 0.5)


def _grade_as_a_batch(monkeypatch, relabel_every: int):
    """Set this process up as a batch's checks are: nothing loaded, and the grader's
    held-out split in use, here the public test images with every ``relabel_every``-th
    label changed, so that a model scores lower on them. Returns the public test images
    (uint8 (N, 32, 32, 3)), their labels and the held-out labels (int64 (N,))."""
    _, (x_test, y_test) = load_traffic_signs()
    relabelled = y_test.copy()
    relabelled[::relabel_every] = (relabelled[::relabel_every] + 1) % 5

    def render(dataset, seed):
        forget_loads()  # as the real renderer leaves the process
        return x_test.copy(), relabelled

    monkeypatch.setattr(heldout, "render_grader_heldout", render)
    use_grader_heldout("traffic_signs", 1)
    return x_test, y_test, relabelled


def _evaluated(model, x_test, y_test) -> dict:
    return model.evaluate(
        scale_images(x_test), keras.utils.to_categorical(y_test, 5), return_dict=True, verbose=0
    )


def _correct(accuracy: float, labels) -> tuple[int, int]:
    return round(accuracy * len(labels)), len(labels)


def test_in_batch_grading_a_reported_accuracy_is_compared_on_the_public_test_split(
    trained, monkeypatch
):
    """In batch grading the threshold is measured on the grader's held-out images, which the
    learner never sees: is the reported test accuracy compared with the model's accuracy on
    the public test split it was measured on, so that a correct solution keeps its points
    however differently (within chance) the model scores on the two splits?"""
    model, _ = trained
    x_test, y_test, relabelled = _grade_as_a_batch(monkeypatch, relabel_every=25)
    test_metrics = _evaluated(model, x_test, y_test)
    held_out = accuracy_on(model, scale_images(x_test), relabelled)
    lead = (_correct(test_metrics["accuracy"], y_test), _correct(held_out, relabelled))
    assert test_metrics["accuracy"] - held_out > REPORTED_TOLERANCE
    assert chance_of_a_lead(*lead) >= TEST_SPLIT_CHANCE and held_out >= 0.5
    measured, reported = check_measured_accuracies(
        model, test_metrics, "traffic_signs", heldout=HELD_OUT_CHECK, reported=REPORTED_CHECK
    )
    assert measured.message == (
        f"accuracy {held_out:.3f} >= 0.50 on {len(y_test)} images (the grader's held-out images)"
    )
    assert (reported.status, reported.message) == (
        "passed",
        f"test accuracy {test_metrics['accuracy']:.3f} >= 0.50",
    )


def test_in_batch_grading_a_figure_measured_on_other_images_does_not_match(trained, monkeypatch):
    """Is a reported figure that is the model's accuracy on other images than the public
    test split (here the held-out images themselves) refused in batch grading, with the
    model's accuracy on the public split?"""
    model, _ = trained
    x_test, y_test, relabelled = _grade_as_a_batch(monkeypatch, relabel_every=25)
    public = accuracy_on(model, scale_images(x_test), y_test)
    held_out = accuracy_on(model, scale_images(x_test), relabelled)
    other_scalings = [accuracy_on(model, scale(x_test), y_test) for scale in SCALINGS.values()]
    assert all(abs(held_out - other) > REPORTED_TOLERANCE for other in other_scalings)
    _, reported = check_measured_accuracies(
        model,
        {"accuracy": held_out},
        "traffic_signs",
        heldout=HELD_OUT_CHECK,
        reported=REPORTED_CHECK,
    )
    assert reported.message == (
        f"the reported test accuracy {held_out:.3f} does not match this model's accuracy on the "
        f"test images scaled to [-0.5, 0.5] (x / 255 - 0.5) as the lesson does, {public:.3f}: "
        "it was measured on other images, or before the model's last training"
    )


def test_in_batch_grading_a_model_far_better_on_the_public_split_is_said_trained_on_it(
    trained, monkeypatch
):
    """A learner who trains on the public test split reports a true figure for that split.
    In batch grading, when the model scores so much better there than on the held-out images
    that chance does not explain it, does the reported figure earn nothing, with both
    accuracies named?"""
    model, _ = trained
    x_test, y_test, relabelled = _grade_as_a_batch(monkeypatch, relabel_every=5)
    test_metrics = _evaluated(model, x_test, y_test)
    held_out = accuracy_on(model, scale_images(x_test), relabelled)
    lead = (_correct(test_metrics["accuracy"], y_test), _correct(held_out, relabelled))
    assert chance_of_a_lead(*lead) < TEST_SPLIT_CHANCE and held_out >= 0.5
    measured, reported = check_measured_accuracies(
        model, test_metrics, "traffic_signs", heldout=HELD_OUT_CHECK, reported=REPORTED_CHECK
    )
    assert measured.status == "passed"
    assert (reported.status, reported.message, reported.hint) == (
        "failed",
        f"this model scores {test_metrics['accuracy']:.3f} on the course's test images but "
        f"{held_out:.3f} on the grader's held-out images, a lead that chance gives less than "
        "once in 10,000: it was likely trained on the test images",
        "Train on the training split only (hold out a validation split for your choices) and "
        "evaluate on the test split once, at the end.",
    )


def test_a_reported_figure_for_a_model_that_cannot_predict_earns_nothing():
    """When the grader cannot run the model on the test images, is the reported figure,
    which nothing can confirm, refused rather than taken on trust?"""
    model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(5, activation="softmax")])
    measured, reported = check_measured_accuracies(
        model, {"accuracy": 0.99}, "traffic_signs", heldout=HELD_OUT_CHECK, reported=REPORTED_CHECK
    )
    assert measured.message.startswith("the model could not predict on (1000, 32, 32, 3) inputs")
    assert (reported.status, reported.message) == (
        "failed",
        "not checked: the grader could not run the model (see 'accuracy on the grader's test "
        "images')",
    )


def test_a_model_trained_on_the_original_files_is_measured_on_their_test_file(tmp_path):
    """After the learner loads the original pickles, is the held-out check run on that test
    file (a model trained on other classes than the rendered set's passes), also when the
    rendered set was loaded too, and does it say which images it used?"""
    (x_train, y_train), (x_test, y_test) = load_traffic_signs()
    # Files in the original format whose classes are not the rendered set's: labels rotated.
    files = {}
    for name, images, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        files[name] = tmp_path / f"{name}.p"
        files[name].write_bytes(pickle.dumps({"features": images, "labels": (labels + 1) % 5}))
    (x_file, y_file), _ = load_traffic_signs(train_file=files["train"], test_file=files["test"])
    keras.utils.set_random_seed(0)
    model = _model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        scale_images(x_file), keras.utils.to_categorical(y_file, 5), epochs=3, verbose=0
    )
    for _ in range(2):  # the second time after loading the rendered set again
        result = _result(check_exercise_1(model, history), "accuracy on the grader's test images")
        assert result.status == "passed", result.message
        assert f"1000 images (the test file {files['test']})" in result.message
        load_traffic_signs()
    forget_loads()  # a process that loaded the rendered set only, like the batch grader's
    load_traffic_signs()
    result = _result(check_exercise_1(model, history), "accuracy on the grader's test images")
    assert result.status == "failed" and "(the course's test images)" in result.message


def test_a_hand_made_history_does_not_earn_the_training_points():
    """Does a history written by hand for an untrained model fail the training-accuracy
    result, with the grader's own measurement of the model on the training images?"""
    untrained = _model()
    untrained.set_weights([np.zeros_like(w) for w in untrained.get_weights()])  # 0.2
    forged = {"loss": [0.5, 0.4, 0.3], "accuracy": [0.9, 0.93, 0.95]}
    result = _result(check_exercise_1(untrained, forged), "training accuracy above 0.50")
    assert result.status == "failed"
    assert result.message == (
        "the history's final training accuracy is 0.950, but the model scores only 0.200 on "
        "the training images: this history does not come from training this model"
    )
