"""Do two models predict the same? The learner's model against one loaded from a file
(a checkpoint, a saved model), on the same inputs: a :class:`Comparison`, judged by
:func:`predicts_as_the_model`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from course_utils.language import translate
from graders.rules import Rule, Rules


@dataclass(frozen=True)
class Comparison:
    """``first`` (the learner's model) and ``second``, which messages call ``other``,
    compared on ``inputs(first)`` (float32, (N, ...) in ``first``'s input shape), measured
    once, when first asked for."""

    first: Any
    second: Any
    other: str
    inputs: Callable[[Any], np.ndarray]

    @cached_property
    def _measured(self) -> tuple[float, Exception | None]:
        try:
            x = self.inputs(self.first)
            a = np.asarray(self.first.predict(x, verbose=0), dtype=np.float64)
            b = np.asarray(self.second.predict(x, verbose=0), dtype=np.float64)
        except Exception as error:  # noqa: BLE001 - the model's own error is the message
            return float("inf"), error
        if a.shape != b.shape:
            return float("inf"), None
        return float(np.abs(a - b).max()), None

    @property
    def difference(self) -> float:
        """The largest absolute difference between the two models' outputs (inf when
        their shapes differ or one raised)."""
        return self._measured[0]

    @property
    def error(self) -> Exception | None:
        """What predicting (or preparing the inputs) raised, or None."""
        return self._measured[1]

    def agrees(self, tolerance: float) -> bool:
        """Whether no output differs by more than ``tolerance``."""
        return self.difference <= tolerance


def predicts_as_the_model(tolerance: float, inputs: str, hint: str) -> Rules[Comparison]:
    """The check that a model (the comparison's ``other``) predicts what the learner's model
    predicts, within ``tolerance``, on ``inputs`` (in words: "500 test photos"); ``hint``
    for a model that predicts otherwise."""
    return Rules(
        rules=(
            Rule(
                lambda comparison: comparison.error is not None,
                lambda comparison: translate(
                    "{other} could not predict: {error}",
                    other=comparison.other,
                    error=comparison.error,
                ),
            ),
            Rule(
                lambda comparison: not comparison.agrees(tolerance),
                lambda comparison: translate(
                    "{other} does not predict what the model predicts: probabilities differ by "
                    "up to {difference:.3g} on {inputs}",
                    other=comparison.other,
                    difference=comparison.difference,
                    inputs=inputs,
                ),
                hint,
            ),
        ),
        passed=lambda comparison: translate(
            "{other} predicts what the model predicts, on {inputs}",
            other=comparison.other,
            inputs=inputs,
        ),
    )
