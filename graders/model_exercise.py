"""The shape of most exercises in lessons 01-05: build a model, train it, (evaluate it).

A :class:`ModelExercise` describes what is expected; :meth:`ModelExercise.grade` composes
the architecture and training checks into one report, handling the untouched stub
("not attempted") and wrong types without a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from graders.architecture import (
    LayerSpec,
    check_input_shape,
    check_layers,
    check_param_count,
    normalize_layers,
)
from graders.common import (
    is_keras_model,
    missing_output_activation_hint,
    not_attempted,
    still_none,
    wrong_type,
)
from graders.heldout import TRAINING_SAMPLE
from graders.report import CheckResult, Report
from graders.training import (
    check_epochs,
    check_final_accuracy,
    check_measured_accuracies,
    history_dict,
    measured_training_accuracy,
)

POINTS_WITH_REPORTED_TEST = MappingProxyType(
    {
        "input shape": 1,
        "layers": 3,
        "parameter count": 1,
        "epochs": 1,
        "training accuracy": 1,
        "held-out accuracy": 1,
        "reported test accuracy": 2,
    }
)
"""The points of an exercise whose learner also reports the test accuracy (lessons 06 and
08): 10 in all."""


@dataclass(frozen=True)
class ModelExercise:
    """What one build-and-train exercise expects, and its points per result.

    The model must reach ``heldout_threshold`` on the grader's test images of ``dataset``
    (:func:`graders.heldout.heldout_candidates`), scaled as the lesson teaches. When
    ``test_threshold`` is set the learner also reports ``evaluate(..., return_dict=True)``
    on the test split, checked against it and against the grader's own measurement on the
    same split (:func:`graders.training.check_measured_accuracies`).
    ``preprocessing_hint`` and ``params_hint`` are this exercise's advice for a low
    training accuracy and a wrong parameter count. ``other_input_shapes`` are input shapes
    that pass too, for the spellings in ``equivalents`` that reshape their input first;
    ``input_hint`` is the advice for any other input shape. ``training_sample``: how many
    of the dataset's first training images the grader measures the model on, to confirm
    its history (all the exercise trains on, when that is a small subset: a model trained
    on 200 images scores far lower on 10,000). ``names``: the notebook's names of the
    model, its History and its test metrics, as the messages call them.
    """

    title: str
    input_shape: tuple[int, ...]
    layers: list[LayerSpec]
    params: int
    hints: dict[int, str]
    min_epochs: int
    train_threshold: float
    dataset: str
    heldout_threshold: float
    preprocessing_hint: str
    params_hint: str
    equivalents: tuple[list[LayerSpec], ...] = ()
    other_input_shapes: tuple[tuple[int, ...], ...] = ()
    input_hint: str | None = None
    test_threshold: float | None = None
    training_sample: int = TRAINING_SAMPLE
    names: tuple[str, str, str] = ("model", "history", "test_metrics")
    points: Mapping[str, float] = field(
        default_factory=lambda: {
            "input shape": 1,
            "layers": 4,
            "parameter count": 1,
            "epochs": 1,
            "training accuracy": 2,
            "held-out accuracy": 1,
            "reported test accuracy": 0,
        }
    )

    def _items(self) -> list[tuple[str, float]]:
        names = [
            ("input shape", "input shape"),
            ("layers", "layers"),
            ("parameter count", "parameter count"),
            ("epochs", "epochs"),
            ("training accuracy", f"training accuracy above {self.train_threshold:.2f}"),
            ("held-out accuracy", "accuracy on the grader's test images"),
        ]
        if self.test_threshold is not None:
            names.append(
                (
                    "reported test accuracy",
                    f"reported test accuracy at least {self.test_threshold:.2f}",
                )
            )
        return [(label, self.points[key]) for key, label in names]

    @property
    def max_points(self) -> float:
        return sum(points for _, points in self._items())

    def grade(self, model, history, test_metrics=None) -> Report:
        """Grade ``model`` (a keras.Model), ``history`` (what fit returned) and, when the
        exercise asks for it, ``test_metrics`` (what evaluate(..., return_dict=True) gave)."""
        items = self._items()
        model_name, history_name, metrics_name = self.names
        if model is None:
            return not_attempted(self.title, items, model_name).finish()
        if not is_keras_model(model):
            return wrong_type(self.title, items, model_name, model).finish()
        results = [
            check_input_shape(
                model,
                self.input_shape,
                points=items[0][1],
                alternatives=self.other_input_shapes,
                hint=self.input_hint,
            ),
            check_layers(
                model,
                self.layers,
                points=items[1][1],
                hints=self.hints,
                equivalents=self.equivalents,
            ),
            check_param_count(model, self.params, points=items[2][1], hint=self.params_hint),
        ]
        training_items = items[3:]
        metrics = history_dict(history)
        if history is None or metrics is None:
            fit = f"{history_name} = {model_name}.fit(...)"
            if history is None:
                results += still_none(training_items, history_name, f"train the model with {fit}")
            else:
                why = (
                    f"expected the History returned by {model_name}.fit, found "
                    f"{type(history).__name__}"
                )
                hint = f"Keep what fit returns: {fit}."
                results += [CheckResult.failed(n, pts, why, hint) for n, pts in training_items]
            return Report(self.title, results).finish()
        reported = None
        if self.test_threshold is not None:
            reported = (items[6][0], items[6][1], self.test_threshold)
        measured = check_measured_accuracies(
            model,
            test_metrics,
            self.dataset,
            heldout=(items[5][0], items[5][1], self.heldout_threshold),
            reported=reported,
            history=metrics,
            metrics_name=metrics_name,
        )
        results += [
            check_epochs(metrics, self.min_epochs, points=items[3][1]),
            check_final_accuracy(
                metrics,
                self.train_threshold,
                points=items[4][1],
                hint=self.preprocessing_hint,
                measure=lambda floor: measured_training_accuracy(
                    model, self.dataset, floor, self.training_sample
                ),
            ),
            *measured,
        ]
        missing = self._missing_output_activation(model)
        if missing:
            hint = missing_output_activation_hint(missing)
            accuracy_items = {name for name, _ in training_items[1:3]}  # training, held-out
            results = [
                replace(r, hint=hint) if r.status == "failed" and r.name in accuracy_items else r
                for r in results
            ]
        return Report(self.title, results).finish()

    def _missing_output_activation(self, model) -> str | None:
        """The softmax or sigmoid the exercise's output layer has and ``model``'s lacks
        (its last layer has no activation), or None."""
        wanted = self.layers[-1].activation
        if wanted not in ("softmax", "sigmoid"):
            return None
        try:
            found = normalize_layers(model)
        except Exception:  # noqa: BLE001 - the layers check reports what it cannot read
            return None
        return wanted if found and found[-1].activation == "linear" else None
