"""The shape of most exercises: build a model, train it, (evaluate it), and maybe more.

A :class:`ModelExercise` describes what is expected; :meth:`ModelExercise.grade` composes
the architecture and training checks, and the exercise's extra items
(:class:`graders.exercise_items.Item`), into one report, handling the untouched stub
("not attempted") and wrong types without a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from course_utils.language import translate
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
from graders.exercise_items import Item, check_dependencies, grade_items
from graders.heldout import TRAINING_SAMPLE
from graders.report import CheckResult, Report, finishes
from graders.training import (
    check_epochs,
    check_final_accuracy,
    check_measured_accuracies,
    history_dict,
    measured_training_accuracy,
)

TRAINING_KEYS = ("epochs", "training accuracy", "held-out accuracy", "reported test accuracy")
"""The items of a model exercise that read its training (the History), by key."""

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
    model, its History and its test metrics, as the messages call them. ``extra_items``:
    the exercise's further items (callbacks, files, a block inside the model), each placed
    after the model item its ``after`` names by its key in ``points`` (None: at the end).
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
    extra_items: tuple[Item, ...] = ()

    def __post_init__(self) -> None:
        check_dependencies(self.extra_items)
        keys = list(self._items())
        unknown = [item.name for item in self.extra_items if item.after not in (None, *keys)]
        if unknown:
            raise ValueError(
                f"extra items {unknown} follow no item of the exercise: expected an 'after' "
                f"among {keys} or None"
            )

    def _items(self) -> dict[str, tuple[str, float]]:
        """The model's items, by key of ``points``: (name in the report, points)."""
        names = {
            "input shape": "input shape",
            "layers": "layers",
            "parameter count": "parameter count",
            "epochs": "epochs",
            "training accuracy": f"training accuracy above {self.train_threshold:.2f}",
            "held-out accuracy": "accuracy on the grader's test images",
        }
        if self.test_threshold is not None:
            names["reported test accuracy"] = (
                f"reported test accuracy at least {self.test_threshold:.2f}"
            )
        return {key: (name, self.points[key]) for key, name in names.items()}

    @property
    def max_points(self) -> float:
        model_points = sum(points for _, points in self._items().values())
        return model_points + sum(item.points for item in self.extra_items)

    @finishes
    def grade(self, model, history, test_metrics=None, **others: object) -> Report:
        """Grade ``model`` (a keras.Model), ``history`` (what fit returned) and, when the
        exercise asks for it, ``test_metrics`` (what evaluate(..., return_dict=True) gave);
        ``others`` are the learner's further objects that :attr:`extra_items` read, by the
        notebook's names."""
        model_results = self._model_results(model, history, test_metrics)
        model_name, history_name, metrics_name = self.names
        objects = {model_name: model, history_name: history, metrics_name: test_metrics}
        extra = grade_items(self.extra_items, {**objects, **others})
        following: dict[str | None, list[CheckResult]] = {}
        for item, result in zip(self.extra_items, extra, strict=True):
            following.setdefault(item.after, []).append(result)
        keys = {name: key for key, (name, _) in self._items().items()}
        results = []
        for result in model_results:
            results += [result, *following.get(keys[result.name], [])]
        return Report(self.title, results + following.get(None, []))

    def _model_results(self, model, history, test_metrics) -> list[CheckResult]:
        """The results of the model's items, in the order of :meth:`_items`."""
        items = self._items()
        listed = list(items.values())
        model_name, history_name, metrics_name = self.names
        if model is None:
            return not_attempted(self.title, listed, model_name).results
        if not is_keras_model(model):
            return wrong_type(self.title, listed, model_name, model).results
        results = [
            check_input_shape(
                model,
                self.input_shape,
                points=items["input shape"][1],
                alternatives=self.other_input_shapes,
                hint=self.input_hint,
            ),
            check_layers(
                model,
                self.layers,
                points=items["layers"][1],
                hints=self.hints,
                equivalents=self.equivalents,
            ),
            check_param_count(
                model, self.params, points=items["parameter count"][1], hint=self.params_hint
            ),
        ]
        training_items = [items[key] for key in TRAINING_KEYS if key in items]
        metrics = history_dict(history)
        if history is None or metrics is None:
            fit = f"{history_name} = {model_name}.fit(...)"
            if history is None:
                return results + still_none(
                    training_items, history_name, translate("train the model with {fit}", fit=fit)
                )
            why = translate(
                "expected the History returned by {model}.fit, found {found}",
                model=model_name,
                found=type(history).__name__,
            )
            hint = translate("Keep what fit returns: {fit}.", fit=fit)
            return results + [CheckResult.failed(n, pts, why, hint) for n, pts in training_items]
        reported = None
        if self.test_threshold is not None:
            reported = (*items["reported test accuracy"], self.test_threshold)
        measured = check_measured_accuracies(
            model,
            test_metrics,
            self.dataset,
            heldout=(*items["held-out accuracy"], self.heldout_threshold),
            reported=reported,
            history=metrics,
            metrics_name=metrics_name,
        )
        results += [
            check_epochs(metrics, self.min_epochs, points=items["epochs"][1]),
            check_final_accuracy(
                metrics,
                self.train_threshold,
                points=items["training accuracy"][1],
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
            accuracy_items = {items[key][0] for key in ("training accuracy", "held-out accuracy")}
            results = [
                replace(r, hint=hint) if r.status == "failed" and r.name in accuracy_items else r
                for r in results
            ]
        return results

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
