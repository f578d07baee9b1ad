"""Training checks: read a History with thresholds, and re-evaluate a model on data the
grader holds. Never compares exact floating-point values."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from course_utils.language import TRANSLATED, listed, module_translations, translate
from graders.common import still_none
from graders.heldout import (
    LESSON_SCALING,
    SCALINGS,
    TRAINING_SAMPLE,
    HeldOut,
    grader_heldout_in_use,
    heldout_candidates,
    public_test_candidates,
    scaling_name,
    training_candidates,
)
from graders.report import CheckResult

_ACCURACY_KEYS = ("accuracy", "acc")


def history_dict(history) -> dict[str, list[float]] | None:
    """The metrics of a ``keras.callbacks.History`` (or of its ``.history`` dict), or None
    when ``history`` is neither."""
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        return None
    return {str(k): [float(v) for v in values] for k, values in data.items()}


def check_epochs(history: dict[str, list[float]], minimum: int, *, points: float) -> CheckResult:
    """At least ``minimum`` epochs recorded in the history."""
    epochs = len(history.get("loss", []))
    if epochs < minimum:
        return CheckResult.failed(
            "epochs",
            points,
            translate(
                "expected at least {minimum} epochs of training, found {epochs}",
                minimum=minimum,
                epochs=epochs,
            ),
            translate("Pass epochs={minimum} to model.fit.", minimum=minimum),
        )
    return CheckResult.passed(
        "epochs", points, translate("trained for {epochs} epochs", epochs=epochs)
    )


TRAINING_TOLERANCE = 0.15
"""How much higher a history's final training accuracy may be than the grader's own
measurement of the model on the training images. A real history is usually lower (it
averages the epoch, with dropout on); much higher means it does not belong to the model."""


def measured_training_accuracy(
    model, dataset: str, floor: float, count: int = TRAINING_SAMPLE
) -> float | None:
    """The grader's own accuracy of ``model`` on the first ``count`` training images of
    ``dataset``: the best over the sources loaded and every input scaling (the checks of
    the held-out images name a wrong scaling), the lesson's scaling first; it stops at the
    first that reaches ``floor``. None when the model cannot predict on them."""
    scalings = [LESSON_SCALING[dataset], *(s for s in SCALINGS if s != LESSON_SCALING[dataset])]
    best = 0.0
    try:
        for scaling in scalings:
            for heldout in training_candidates(dataset, count):
                best = max(best, accuracy_on(model, heldout.scaled(scaling), heldout.labels))
                if best >= floor:
                    return best
    except Exception:  # noqa: BLE001 - the held-out check reports why the model failed
        return None
    return best


def check_final_accuracy(
    history: dict[str, list[float]],
    threshold: float,
    *,
    points: float,
    hint: str,
    key_prefix: str = "",
    measure: Callable[[float], float | None] | None = None,
) -> CheckResult:
    """The last epoch's accuracy (``accuracy`` or ``acc``, optionally ``val_``-prefixed)
    is above ``threshold``, and the loss never became NaN. ``hint``: the exercise's own
    advice for a low accuracy (its preprocessing and layers). ``measure(floor)``: the
    grader's own training accuracy of the model (it may stop once it reaches ``floor``),
    asked only of a history that passes; one that claims more than
    :data:`TRAINING_TOLERANCE` above it fails, since it does not belong to the model."""
    label = "validation accuracy" if key_prefix == "val_" else "training accuracy"
    name = f"{label} above {threshold:.2f}"  # an item's name: never translated
    shown = (
        translate("validation accuracy") if key_prefix == "val_" else translate("training accuracy")
    )
    losses = history.get(f"{key_prefix}loss", [])
    if any(math.isnan(v) or math.isinf(v) for v in losses):
        return CheckResult.failed(
            name,
            points,
            translate(
                "the {key} became {value} during training",
                key=f"{key_prefix}loss",
                value=losses[-1],
            ),
            translate("A NaN loss usually means unscaled inputs or a too-large learning rate."),
        )
    key = next((key_prefix + k for k in _ACCURACY_KEYS if key_prefix + k in history), None)
    if key is None:
        return CheckResult.failed(
            name,
            points,
            translate(
                "expected a '{key}' entry in the history, found keys {keys}",
                key=f"{key_prefix}accuracy",
                keys=sorted(history),
            ),
            translate('Compile with metrics=["accuracy"] and train with validation_split.')
            if key_prefix
            else translate('Compile with metrics=["accuracy"].'),
        )
    final = history[key][-1]
    floor = final - TRAINING_TOLERANCE
    measured = measure(floor) if measure is not None and final > threshold else None
    if measured is not None and measured < floor:
        return CheckResult.failed(
            name,
            points,
            translate(
                "the history's final {label} is {final:.3f}, but the model scores only "
                "{measured:.3f} on the training images: this history does not come from "
                "training this model",
                label=shown,
                final=final,
                measured=measured,
            ),
            translate(
                "Keep what model.fit returns for the model you grade: history = model.fit(...), "
                "and do not build or load another model after training it."
            ),
        )
    if not final > threshold:
        return CheckResult.failed(
            name,
            points,
            translate(
                "expected final {label} above {threshold:.2f}, found {final:.3f}",
                label=shown,
                threshold=threshold,
                final=final,
            ),
            hint,
        )
    return CheckResult.passed(
        name,
        points,
        translate(
            "final {label} {final:.3f} > {threshold:.2f}",
            label=shown,
            final=final,
            threshold=threshold,
        ),
    )


def shaped_for(model, x: np.ndarray) -> np.ndarray:
    """``x`` (N, ...) reshaped to ``model``'s input shape when that is the same images
    flattened, or with a channels axis of 1 added or removed: MNIST's (N, 28, 28) digits
    for a dense network's (784,) input or a convnet's (28, 28, 1). Otherwise ``x`` as it
    is, and the model says what it expected (axes are never reordered)."""
    try:
        shape = tuple(model.input_shape)[1:]
    except (AttributeError, ValueError, TypeError):
        return x
    image = x.shape[1:]
    same_images = [(math.prod(image),), (*image, 1)]
    if image and image[-1] == 1:
        same_images.append(image[:-1])
    return x.reshape(len(x), *shape) if shape != image and shape in same_images else x


def accuracy_on(model, x: np.ndarray, y: np.ndarray, *, batch_size: int = 256) -> float:
    """The accuracy of ``model``'s predictions on ``x`` (float32, preprocessed; reshaped by
    :func:`shaped_for`) against integer labels ``y`` (N,): argmax for a softmax, 0.5 for
    one sigmoid unit. Raises whatever the model raises."""
    x = shaped_for(model, x)
    probabilities = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    if probabilities.ndim == 2 and probabilities.shape[1] > 1:
        predicted = probabilities.argmax(axis=-1)
    else:  # one sigmoid unit
        predicted = (probabilities.reshape(-1) > 0.5).astype(np.int64)
    return float((predicted == y).mean())


SCALING_MARGIN = 0.15
"""How much better the grader's images must score under another scaling than under the
lesson's before the model is said to have been trained on that scaling."""

SCALING_TIE = 0.05
"""How close to the best other scaling another must score for the message to name both. A
ReLU network with small biases predicts nearly the same classes on x and on x / 255, so it
cannot tell which of raw pixels and [0, 1] it was trained on: lesson 01's network trained
on raw pixels scores a few images in 100 higher or lower on [0, 1] than on raw pixels,
from one run to the next."""

ROUNDING_SLACK = 1e-9
"""Added to every margin an accuracy is compared with: accuracies are whole numbers of
images over a count, and a gap of exactly the margin must count the same whatever the
floating-point rounding of the two fractions."""


def likely_scalings(accuracies: Mapping[str, float], scaling: str) -> list[str]:
    """The scalings, other than the lesson's ``scaling``, that a model scoring
    ``accuracies`` (scaling name -> accuracy, in the order of
    :data:`graders.heldout.SCALINGS`) was likely trained on, in that order: each that
    scores at least :data:`SCALING_MARGIN` above the lesson's scaling and within
    :data:`SCALING_TIE` of the best of them. Empty when none is that far ahead."""
    others = [other for other in accuracies if other != scaling]
    if not others:
        return []
    best = max(accuracies[other] for other in others)
    floor = max(accuracies[scaling] + SCALING_MARGIN, best - SCALING_TIE) - ROUNDING_SLACK
    return [other for other in others if accuracies[other] >= floor]


class Measured:
    """The grader's own measurement of ``model`` on candidate sets of test images, with
    the lesson's ``scaling``. Each (candidate, scaling) is predicted once, when first
    needed: a model that passes is predicted under the lesson's scaling only. Any method
    raises what the model raises."""

    def __init__(self, model, heldouts: list[HeldOut], scaling: str) -> None:
        self.model = model
        self.heldouts = heldouts
        self.scaling = scaling
        self._accuracies: dict[tuple[int, str], float] = {}

    def accuracy(self, index: int, scaling: str) -> float:
        """The accuracy on candidate ``index`` under ``scaling``."""
        if (index, scaling) not in self._accuracies:
            heldout = self.heldouts[index]
            self._accuracies[index, scaling] = accuracy_on(
                self.model, heldout.scaled(scaling), heldout.labels
            )
        return self._accuracies[index, scaling]

    @property
    def best(self) -> int:
        """The index of the candidate on which the model does best, as the lesson scales."""
        return max(range(len(self.heldouts)), key=lambda i: self.accuracy(i, self.scaling))

    def by_scaling(self, index: int) -> dict[str, float]:
        """The accuracy on candidate ``index`` under every scaling of
        :data:`graders.heldout.SCALINGS`."""
        return {scaling: self.accuracy(index, scaling) for scaling in SCALINGS}

    def agrees_with(
        self, reported: float, scaling: str | None = None, index: int | None = None
    ) -> bool:
        """Whether ``reported`` is, within :func:`reported_tolerance`, the model's accuracy
        under ``scaling`` (by default the lesson's) on candidate ``index``, or by default on
        one of the candidates."""
        scaling = scaling or self.scaling
        indices = range(len(self.heldouts)) if index is None else [index]
        return any(
            abs(reported - self.accuracy(i, scaling))
            <= reported_tolerance(len(self.heldouts[i].labels)) + ROUNDING_SLACK
            for i in indices
        )


def check_accuracy_on(
    model,
    heldouts: list[HeldOut],
    scaling: str,
    threshold: float,
    *,
    points: float,
    name: str,
) -> tuple[CheckResult, Measured | None]:
    """Predict the grader's test images, scaled as the lesson teaches (``scaling``, a key
    of :data:`graders.heldout.SCALINGS`), and check that the accuracy reaches
    ``threshold`` on the best of the ``heldouts`` candidates (the source the model was
    trained on). When another scaling scores :data:`SCALING_MARGIN` better, the message
    says the model was likely trained on inputs scaled that way (or names each of the
    :func:`likely_scalings` when they tie). Returns the result and the measurement (None
    when the model could not predict)."""
    measured = Measured(model, heldouts, scaling)
    try:
        heldout = heldouts[measured.best]
        accuracy = measured.accuracy(measured.best, scaling)
    except Exception as error:  # noqa: BLE001 - the student's model may fail in any way
        shape = heldouts[0].images.shape
        return CheckResult.failed(
            name,
            points,
            translate(
                "the model could not predict on {shape} inputs: {error_type}: {error}",
                shape=shape,
                error_type=type(error).__name__,
                error=error,
            ),
            translate("Check the input shape and that the model was built."),
        ), None
    images, source = len(heldout.labels), heldout.source
    if accuracy >= threshold:
        message = translate(
            "accuracy {accuracy:.3f} >= {threshold:.2f} on {images} images ({source})",
            accuracy=accuracy,
            threshold=threshold,
            images=images,
            source=source,
        )
        return CheckResult.passed(name, points, message), measured
    message = translate(
        "expected accuracy of at least {threshold:.2f} on {images} images ({source}) scaled "
        "to {scaling} as the lesson does, found {accuracy:.3f}",
        threshold=threshold,
        images=images,
        source=source,
        scaling=scaling_name(scaling),
        accuracy=accuracy,
    )
    accuracies = measured.by_scaling(measured.best)
    likely = likely_scalings(accuracies, scaling)
    if likely:
        return CheckResult.failed(
            name,
            points,
            translate("{message}; {cause}", message=message, cause=_trained_on(likely, accuracies)),
            translate(
                "Scale the training images to {scaling} as the lesson does, train again, then "
                "run this check.",
                scaling=scaling_name(scaling),
            ),
        ), measured
    return CheckResult.failed(
        name,
        points,
        message,
        translate(
            "Train for the epochs the exercise asks, and check the layers and the preprocessing."
        ),
    ), measured


def _trained_on(likely: list[str], accuracies: Mapping[str, float]) -> str:
    """The end of a held-out failure: which of the ``likely`` scalings the model was
    probably trained on, with the accuracy each gives."""
    if len(likely) == 1:
        (best,) = likely
        return translate(
            "scaled to {scaling} the same images give {accuracy:.3f}: your model was "
            "likely trained on inputs scaled to {scaling}",
            scaling=scaling_name(best),
            accuracy=accuracies[best],
        )
    scores = listed(
        translate(
            "{accuracy:.3f} scaled to {scaling}", accuracy=accuracies[s], scaling=scaling_name(s)
        )
        for s in likely
    )
    return translate(
        "the same images give {scores}: your model was likely trained on one of these "
        "scalings; it scores about the same on each, so the grader cannot tell which",
        scores=scores,
    )


REPORTED_TOLERANCE = 0.02
"""How far a reported test accuracy may lie, at most, from the grader's own measurement of
the same model on the same test images: 2 images in 100 (on lesson 07's 120 test images,
two predictions that flip on rounding, 0.017, stay within it)."""

REPORTED_FLIPS = 20
"""How many images' predictions may differ between the learner's evaluation and the
grader's measurement of the same model on the same images (float rounding on another
machine, other batch sizes). On MNIST's 10,000 test digits that is 0.002, tighter than
:data:`REPORTED_TOLERANCE`: the gap between the training and the test accuracy of a model
that learned MNIST well is a few images in a thousand, and a figure evaluated on the
training digits must not pass for a test figure."""


def reported_tolerance(images: int) -> float:
    """How far a reported accuracy on ``images`` images may lie from the grader's
    measurement on the same images: :data:`REPORTED_FLIPS` images, at most
    :data:`REPORTED_TOLERANCE`."""
    return min(REPORTED_TOLERANCE, REPORTED_FLIPS / max(images, 1))


def check_reported_accuracy(
    test_metrics,
    threshold: float,
    *,
    points: float,
    name: str,
    measured: Measured | None = None,
    on_training: Callable[[], Measured] | None = None,
    metrics_name: str = "test_metrics",
) -> CheckResult:
    """The ``accuracy`` in the dict that ``model.evaluate(..., return_dict=True)`` returned
    reaches ``threshold``; None means the learner has not evaluated yet. ``measured``: the
    grader's own measurement of the same model; a reported figure that matches it on none
    of the test images (within :func:`reported_tolerance`) fails, since it was not
    measured on them. ``on_training``: makes the same model's measurement on the training
    images, which names the mistake when the figure matches them (made only then).
    ``metrics_name``: the notebook's name of ``test_metrics``."""
    if test_metrics is None:
        todo = translate("evaluate the model on the test split")
        return still_none([(name, points)], metrics_name, todo)[0]
    if not isinstance(test_metrics, Mapping) or "accuracy" not in test_metrics:
        found = (
            sorted(test_metrics)
            if isinstance(test_metrics, Mapping)
            else type(test_metrics).__name__
        )
        return CheckResult.failed(
            name,
            points,
            translate(
                "expected the dict from model.evaluate(x_test, y_test, return_dict=True) with "
                "an 'accuracy' entry, found {found}",
                found=found,
            ),
            translate("Pass return_dict=True to evaluate, and compile with metrics=['accuracy']."),
        )
    accuracy = float(test_metrics["accuracy"])
    if measured is not None and not measured.agrees_with(accuracy):
        return _mismatch(name, points, accuracy, measured, on_training)
    if not accuracy >= threshold:
        return CheckResult.failed(
            name,
            points,
            translate(
                "expected test accuracy of at least {threshold:.2f}, found {accuracy:.3f}",
                threshold=threshold,
                accuracy=accuracy,
            ),
            translate("Train for more epochs, or check the layers and preprocessing."),
        )
    return CheckResult.passed(
        name,
        points,
        translate(
            "test accuracy {accuracy:.3f} >= {threshold:.2f}",
            accuracy=accuracy,
            threshold=threshold,
        ),
    )


def _mismatch(
    name: str,
    points: float,
    reported: float,
    measured: Measured,
    on_training: Callable[[], Measured] | None,
) -> CheckResult:
    """The failure for a reported test accuracy that the grader's measurement contradicts,
    with the likeliest cause."""
    scaling = measured.scaling
    accuracies = measured.by_scaling(measured.best)
    lesson = accuracies[scaling]
    others = [  # on the candidate whose accuracies the message quotes
        other
        for other in accuracies
        if other != scaling and measured.agrees_with(reported, other, measured.best)
    ]
    if others:
        likely = _tested_on(others, accuracies)
        hint = translate(
            "Scale every image to {scaling} as the lesson does, train again and evaluate.",
            scaling=scaling_name(scaling),
        )
    else:
        likely = (
            _on_the_training_images(reported, on_training)
            if reported > lesson
            else translate("it was measured on other images, or before the model's last training")
        )
        hint = translate(
            "After training, evaluate once on the test split, preprocessed like the training "
            "data: test_metrics = model.evaluate(x_test_..., y_test_..., return_dict=True)."
        )
    return CheckResult.failed(
        name,
        points,
        translate(
            "the reported test accuracy {reported:.3f} does not match this model's accuracy on "
            "the test images scaled to {scaling} as the lesson does, {lesson:.3f}: {likely}",
            reported=reported,
            scaling=scaling_name(scaling),
            lesson=lesson,
            likely=likely,
        ),
        hint,
    )


TRAINING_MATCH = 0.005
"""How close a reported test accuracy must lie to the grader's measurement on a sample of
the training images (the first :data:`graders.heldout.TRAINING_SAMPLE`) to be called the
training accuracy: the sample's accuracy differs from the whole split's by a few images in
a thousand."""


def _on_the_training_images(reported: float, on_training: Callable[[], Measured] | None) -> str:
    """Why a reported test accuracy above the model's is likely its training accuracy,
    with the grader's measurement on the training images when it confirms it."""
    guess = translate(
        "a higher figure like this comes from evaluating on the training images, which the "
        "model has learned"
    )
    if on_training is None:
        return guess
    try:
        measured = on_training()
        best = measured.best
        training = measured.accuracy(best, measured.scaling)
    except Exception:  # noqa: BLE001 - the measurement on the test images said what failed
        return guess
    if abs(reported - training) > TRAINING_MATCH + ROUNDING_SLACK:
        return guess
    images = len(measured.heldouts[best].labels)
    return translate(
        "it is this model's accuracy on the training images ({training:.3f} on the first "
        "{images:,}), so it was evaluated on the training split, which the model has "
        "learned",
        training=training,
        images=images,
    )


def _tested_on(matching: list[str], accuracies: Mapping[str, float]) -> str:
    """The end of a reported-accuracy mismatch: the ``matching`` scalings, under which the
    test images give the reported figure, each with its accuracy."""
    if len(matching) == 1:
        (other,) = matching
        return translate(
            "it matches their accuracy scaled to {scaling}, {accuracy:.3f}, so the "
            "model was likely trained and tested on inputs scaled that way",
            scaling=scaling_name(other),
            accuracy=accuracies[other],
        )
    matches = listed(
        translate(
            "of {accuracy:.3f} scaled to {scaling}", accuracy=accuracies[o], scaling=scaling_name(o)
        )
        for o in matching
    )
    return translate(
        "it matches their accuracy {matches}, so the model was likely trained and tested on "
        "one of these scalings",
        matches=matches,
    )


TEST_SPLIT_CHANCE = 1e-4
"""How unlikely a model's lead on the public test split over the grader's held-out images
must be, were the two splits samples of the same images, before the grader says the model
was trained on the test split (Fisher's exact test, :func:`chance_of_a_lead`): a correct
solution is told so by chance once in ten thousand."""

LEAD_MESSAGE = "{found}, a lead that chance gives less than once in {times:,.0f}: {cause}"
"""The message of every failure for a model's lead on the public test split (over the
held-out images or over its own validation images), in English: the class report
(:mod:`batch_grader.report.summary`) finds the students to look at by its words in any
language (:func:`lead_words`)."""


def lead_words() -> tuple[str, ...]:
    """The words of :data:`LEAD_MESSAGE` between what was found and its cause, in English
    and in each translation (e.g. "a lead that chance gives less than once in 10,000")."""
    found = [LEAD_MESSAGE]
    for language in TRANSLATED:
        found.append(module_translations(language).get(__name__, {}).get(LEAD_MESSAGE, ""))
    words = []
    for template in filter(None, found):
        middle = template.split("{found}", 1)[-1].split("{cause}", 1)[0]
        words.append(middle.format(times=1 / TEST_SPLIT_CHANCE).strip(" ,:，：、"))
    return tuple(words)


def chance_of_a_lead(public: tuple[int, int], heldout: tuple[int, int]) -> float:
    """One-sided Fisher's exact test on a model's ``(correct, count)`` predictions on the
    public test split and on the held-out images: the chance that, were the two one pool
    of images split at random, the public part would hold at least as many of the correct
    predictions as it does."""
    (public_correct, public_count), (heldout_correct, heldout_count) = public, heldout
    total = public_count + heldout_count
    correct = public_correct + heldout_correct

    def log_comb(n: int, k: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)

    tables = range(public_correct, min(public_count, correct) + 1)
    log_all = log_comb(total, public_count)
    chance = sum(
        math.exp(log_comb(correct, k) + log_comb(total - correct, public_count - k) - log_all)
        for k in tables
    )
    return min(1.0, chance)


def _lead_on_the_test_split(
    on_public: Measured, on_heldout: Measured, name: str, points: float
) -> CheckResult | None:
    """The failure for a model that scores on the public test split so far above the
    grader's held-out images that chance does not explain it; None otherwise."""
    public, heldout = on_public.heldouts[on_public.best], on_heldout.heldouts[on_heldout.best]
    public_accuracy = on_public.accuracy(on_public.best, on_public.scaling)
    heldout_accuracy = on_heldout.accuracy(on_heldout.best, on_heldout.scaling)
    counts = [
        (round(accuracy * len(split.labels)), len(split.labels))
        for accuracy, split in ((public_accuracy, public), (heldout_accuracy, heldout))
    ]
    found = translate(
        "this model scores {public_accuracy:.3f} on {public_source} but "
        "{heldout_accuracy:.3f} on {heldout_source}",
        public_accuracy=public_accuracy,
        public_source=public.source,
        heldout_accuracy=heldout_accuracy,
        heldout_source=heldout.source,
    )
    cause = translate("it was likely trained on the test images")
    return _unlikely_lead(name, points, counts, found, cause)


def _unlikely_lead(
    name: str, points: float, counts: list[tuple[int, int]], found: str, cause: str
) -> CheckResult | None:
    """The failure for a lead of the public test split's ``(correct, count)`` over the
    other's, in ``counts``, that chance gives less than :data:`TEST_SPLIT_CHANCE`, saying
    what was ``found`` and its likely ``cause``; None for a lead chance explains."""
    if chance_of_a_lead(*counts) >= TEST_SPLIT_CHANCE:
        return None
    return CheckResult.failed(
        name,
        points,
        translate(
            LEAD_MESSAGE,
            found=found,
            times=1 / TEST_SPLIT_CHANCE,
            cause=cause,
        ),
        translate(
            "Train on the training split only (hold out a validation split for your choices) "
            "and evaluate on the test split once, at the end."
        ),
    )


VALIDATION_LIMIT = 100_000
"""The most validation images :func:`images_behind` looks for: more than the course's
largest training split (60,000)."""

FRACTION_ROUNDING = 1e-7
"""How far an accuracy Keras reports may lie from the exact fraction of images it counts:
its metrics divide two float32 counts, which rounds by at most half of float32's 2**-23."""


def images_behind(accuracies: Iterable[float], limit: int) -> int | None:
    """The fewest images, at most ``limit``, on which every accuracy of ``accuracies`` is
    a whole number of correct ones, within :data:`FRACTION_ROUNDING`: a history's
    validation accuracies share one count of images, and this is that count or a divisor
    of it (never more). None when no count up to ``limit`` fits."""
    values = [float(value) for value in accuracies]
    if not values or limit < 1:
        return None
    counts = np.arange(1, limit + 1, dtype=np.float64)
    for value in values:  # keep the counts every accuracy fits so far
        scaled = value * counts
        counts = counts[np.abs(scaled - np.round(scaled)) <= FRACTION_ROUNDING * counts]
    return int(counts[0]) if counts.size else None


def _lead_over_validation(
    on_public: Measured,
    history: Mapping[str, list[float]],
    name: str,
    points: float,
) -> CheckResult | None:
    """The failure for a model that scores on the public test split so far above the
    best validation accuracy of its history that chance does not explain it (it was trained
    on the test images, or trained again after its history ended); None otherwise, and when
    the history holds no validation accuracy. The best epoch, not the last, because a model
    may hold its best epoch's weights (EarlyStopping with restore_best_weights=True); the
    validation images are counted from the accuracies themselves (:func:`images_behind`),
    so the count is never too high. Both only understate a lead, never overstate it."""
    validation = history.get("val_accuracy") or history.get("val_acc")
    if not validation:
        return None
    validation_images = images_behind(validation, VALIDATION_LIMIT)
    if validation_images is None:
        return None
    public = on_public.heldouts[on_public.best]
    public_accuracy = on_public.accuracy(on_public.best, on_public.scaling)
    best = max(validation)
    counts = [
        (round(public_accuracy * len(public.labels)), len(public.labels)),
        (round(best * validation_images), validation_images),
    ]
    found = translate(
        "this model scores {public_accuracy:.3f} on {source} but at best "
        "{best:.3f} on its {images:,} validation images during training",
        public_accuracy=public_accuracy,
        source=public.source,
        best=best,
        images=validation_images,
    )
    cause = translate(
        "it was likely trained on the test images (or trained again after this history)"
    )
    return _unlikely_lead(name, points, counts, found, cause)


def check_measured_accuracies(
    model,
    test_metrics,
    dataset: str,
    *,
    heldout: tuple[str, float, float],
    reported: tuple[str, float, float] | None = None,
    history: Mapping[str, list[float]] | None = None,
    metrics_name: str = "test_metrics",
) -> list[CheckResult]:
    """The grader's own test accuracy of ``model`` on ``dataset`` and, when ``reported``
    is given, the learner's ``test_metrics`` checked against the model's accuracy on the
    test splits the learner could evaluate on. In batch grading the first is measured on
    the grader's held-out images and the second on the public test split: a model scores a
    few images in a hundred differently on two samples of the same classes, so only a
    measurement on the same images can tell whether a reported figure is this model's;
    and a model that scores far better on the public split than on the held-out images
    (:data:`TEST_SPLIT_CHANCE`) was trained on it, so its figure earns nothing. In the
    notebook, where the learner holds every image the grader has, the test accuracy is
    weighed against ``history``'s validation accuracy instead; with no validation split
    nothing shows a model trained on the test images there. A figure the grader could not
    measure (the model did not predict) earns nothing either. ``heldout`` and ``reported``
    are ``(name, points, threshold)``; ``metrics_name`` is the notebook's name of
    ``test_metrics``."""
    heldout_name, points, threshold = heldout
    scaling = LESSON_SCALING[dataset]
    result, measured = check_accuracy_on(
        model, heldout_candidates(dataset), scaling, threshold, points=points, name=heldout_name
    )
    if reported is None:
        return [result]
    name, points, threshold = reported
    if measured is None:
        checked = check_reported_accuracy(
            test_metrics, threshold, points=points, name=name, metrics_name=metrics_name
        )
        if checked.status == "passed":
            why = translate(
                "not checked: the grader could not run the model (see '{name}')",
                name=heldout_name,
            )
            checked = CheckResult.failed(name, points, why)
        return [result, checked]
    on_public = measured
    if grader_heldout_in_use(dataset):  # the learner measured on the public split, not here
        on_public = Measured(model, public_test_candidates(dataset), scaling)
        try:
            on_public.accuracy(on_public.best, scaling)
        except Exception as error:  # noqa: BLE001 - the student's model may fail in any way
            why = translate(
                "the model could not predict on the public test images: {error_type}: {error}",
                error_type=type(error).__name__,
                error=error,
            )
            return [result, CheckResult.failed(name, points, why)]
    checked = check_reported_accuracy(
        test_metrics,
        threshold,
        points=points,
        name=name,
        measured=on_public,
        on_training=lambda: Measured(model, training_candidates(dataset), scaling),
        metrics_name=metrics_name,
    )
    if checked.status == "passed" and on_public is not measured:
        checked = _lead_on_the_test_split(on_public, measured, name, points) or checked
    elif checked.status == "passed" and history:
        lead = _lead_over_validation(on_public, history, name, points)
        checked = lead or checked
    return [result, checked]
