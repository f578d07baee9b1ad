"""What a learner's layer or model does when called: on fixed inputs, in one mode
(``training=True`` or ``False``), once or more, compared with the inputs and between
calls. Rules over a :class:`Behaviour` judge it (an augmentation block must leave its
inputs alone at inference and change them, differently each call, in training)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graders.cell_errors import error_line

PROBE_ERROR_CHARS = 200  # of the error a call of the block raised, in the message


@dataclass(frozen=True)
class Behaviour:
    """What ``subject(inputs, training=training)`` gave: ``inputs`` float32 (N, ...), and
    each call's output as float32, or ``error``, what a call raised (no outputs then)."""

    inputs: np.ndarray
    training: bool
    outputs: tuple[np.ndarray, ...] = ()
    error: Exception | None = None

    @property
    def count(self) -> int:
        """How many examples the inputs hold (N)."""
        return len(self.inputs)

    @property
    def raised(self) -> str:
        """The error as ``Type: first line of its message`` (200 characters at most)."""
        return error_line(self.error, PROBE_ERROR_CHARS)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the first call's output."""
        return self.outputs[0].shape

    @property
    def reshaped(self) -> bool:
        """Whether the first call's output has another shape than the inputs."""
        return self.shape != self.inputs.shape

    @property
    def largest_change(self) -> float:
        """How far the first call moved any value of the inputs."""
        return float(np.abs(self.outputs[0] - self.inputs).max())

    def changed(self, threshold: float) -> int:
        """How many examples the first call moved by more than ``threshold`` somewhere."""
        return int(_moved(self.outputs[0], self.inputs, threshold).sum())

    def varied(self, threshold: float) -> int:
        """How many examples the first two calls gave apart by more than ``threshold``."""
        return int(_moved(self.outputs[0], self.outputs[1], threshold).sum())


def _moved(a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Per example (first axis): whether any value of ``a`` and ``b`` differs by more
    than ``threshold``; bool, shape (N,)."""
    return np.abs(a - b).reshape(len(a), -1).max(axis=1) > threshold


def probe(subject: Any, inputs: np.ndarray, *, training: bool, calls: int = 1) -> Behaviour:
    """Call ``subject`` on ``inputs`` ``calls`` times with ``training=training``; an error
    is kept, not raised."""
    outputs = []
    try:
        for _ in range(calls):
            outputs.append(np.asarray(subject(inputs, training=training), dtype=np.float32))
    except Exception as error:  # noqa: BLE001 - whatever the subject raises is the finding
        return Behaviour(inputs, training, error=error)
    return Behaviour(inputs, training, tuple(outputs))
