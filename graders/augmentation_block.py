"""What an augmentation block is made of: its layers in order (nested blocks opened),
which layer kinds it lacks or holds too many of, the range arguments of Keras's Random*
preprocessing layers as rules (:class:`RandomLayer`), and where a model holds the block
(:class:`BlockPlacement`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from course_utils.language import translate
from graders.rules import Rule, broken_messages

RANGE_TOLERANCE = 1e-6
"""How far a range's bound may be from the asked one and still count as asked."""


def is_block(value: object) -> bool:
    """Whether ``value`` holds layers that run in turn, as an augmentation block does: a
    keras.Sequential (as the lessons build it), another keras.Model or a layers.Pipeline."""
    import keras

    return isinstance(value, keras.Model | keras.layers.Pipeline)


def block_layers(block: Any) -> list:
    """The layers of ``block`` in order, nested blocks opened, input layers skipped."""
    found = []
    for layer in block.layers:
        if is_block(layer):
            found += block_layers(layer)
        elif type(layer).__name__ != "InputLayer":
            found.append(layer)
    return found


@dataclass(frozen=True)
class BlockPlacement:
    """Where a model holds its augmentation block: the model's ``layers``, input layers
    skipped."""

    layers: list

    @classmethod
    def of(cls, model: Any) -> BlockPlacement:
        return cls([layer for layer in model.layers if type(layer).__name__ != "InputLayer"])

    @property
    def first_block(self) -> int | None:
        """The index of the first block among :attr:`layers` (None: no block)."""
        return next((i for i, layer in enumerate(self.layers) if is_block(layer)), None)

    @property
    def before(self) -> str:
        """The kinds of the layers before the first block, in order."""
        return ", ".join(kinds_of(self.layers[: self.first_block]))

    @property
    def block_layers(self) -> list:
        """The layers of the model's first layer, a block (see :func:`block_layers`)."""
        return block_layers(self.layers[0])


def kinds_of(layers: list) -> list[str]:
    """The class name of each layer, in order."""
    return [type(layer).__name__ for layer in layers]


def kind_problems(kinds: list[str], wanted: list[str]) -> list[str]:
    """What keeps ``kinds`` (layer class names) from being ``wanted`` in any order: the
    missing ones, those not asked for, those more than once; empty when none."""
    missing = [kind for kind in wanted if kind not in kinds]
    extra = [kind for kind in kinds if kind not in wanted]
    twice = sorted({kind for kind in kinds if kinds.count(kind) > 1 and kind in wanted})
    problems = []
    if missing:
        problems.append(translate("missing: {kinds}", kinds=", ".join(missing)))
    if extra:
        problems.append(translate("not asked for: {kinds}", kinds=", ".join(extra)))
    if twice:
        problems.append(translate("more than once: {kinds}", kinds=", ".join(twice)))
    return problems


def interval(value: object) -> tuple[float, float] | None:
    """A range argument as (lower, upper): 0.1 means (-0.1, 0.1); None stays None; raises
    TypeError or ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, list | tuple) and len(value) == 2:
        return float(value[0]), float(value[1])
    return -abs(float(value)), abs(float(value))  # type: ignore[arg-type]


def _phrase(kind: str, argument: str, bounds: tuple[float, float] | None) -> str:
    """``bounds`` in words: degrees for a rotation, percent for a zoom or a shift."""
    if bounds is None:
        return "None"
    low, high = bounds
    if kind == "RandomRotation":
        return translate(
            "({low:g}, {high:g}), a turn of {low_degrees:+g}° to {high_degrees:+g}°",
            low=low,
            high=high,
            low_degrees=low * 360,
            high_degrees=high * 360,
        )
    share = {"low": low, "high": high, "low_percent": low * 100, "high_percent": high * 100}
    dimension = "size" if kind == "RandomZoom" else argument.split("_")[0]
    if dimension == "size":
        return translate(
            "({low:g}, {high:g}), {low_percent:+g}% to {high_percent:+g}% of the size", **share
        )
    if dimension == "height":
        return translate(
            "({low:g}, {high:g}), {low_percent:+g}% to {high_percent:+g}% of the height", **share
        )
    if dimension == "width":
        return translate(
            "({low:g}, {high:g}), {low_percent:+g}% to {high_percent:+g}% of the width", **share
        )
    return translate(
        "({low:g}, {high:g}), {low_percent:+g}% to {high_percent:+g}% of the {dimension}",
        dimension=dimension,
        **share,
    )


def _found_range(layer: Any, argument: str) -> tuple[float, float] | None:
    try:
        return interval(layer.get_config().get(argument))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RandomLayer:
    """One preprocessing layer a block must hold: its Keras class, the constructor call a
    lesson teaches, and each range argument as the (lower, upper) interval it means. An
    argument in ``optional`` may keep the layer's default None (RandomZoom's width follows
    its height then). ``too_far``: (bound, why), the words added when a range reaches that
    far either way."""

    kind: str
    spelling: str
    ranges: dict[str, tuple[float, float]]
    optional: tuple[str, ...] = ()
    too_far: tuple[float, str] | None = None

    def rules(self) -> tuple[Rule[Any], ...]:
        """One rule per range argument, over a layer of this kind."""
        return tuple(self._rule(argument, wanted) for argument, wanted in self.ranges.items())

    def _rule(self, argument: str, wanted: tuple[float, float]) -> Rule[Any]:
        def broken(layer: Any) -> bool:
            found = _found_range(layer, argument)
            if found is None:
                return argument not in self.optional
            return not np.allclose(found, wanted, atol=RANGE_TOLERANCE, rtol=0)

        def message(layer: Any) -> str:
            found = _found_range(layer, argument)
            fields = {
                "kind": self.kind,
                "argument": argument,
                "found": _phrase(self.kind, argument, found),
                "expected": _phrase(self.kind, argument, wanted),
            }
            if self.too_far is not None and found and max(map(abs, found)) >= self.too_far[0]:
                return translate(
                    "{kind}'s {argument} is {found}, expected {expected}: {why}",
                    why=self.too_far[1],
                    **fields,
                )
            return translate("{kind}'s {argument} is {found}, expected {expected}", **fields)

        return Rule(broken, message)


def asked_present(asked: tuple[RandomLayer, ...], layers: list) -> list[tuple[RandomLayer, Any]]:
    """Each layer of ``asked`` that ``layers`` hold, with its first instance, in the order
    of ``asked``."""
    present = []
    for expected in asked:
        found = [layer for layer in layers if type(layer).__name__ == expected.kind]
        if found:
            present.append((expected, found[0]))
    return present


def range_problems(asked: tuple[RandomLayer, ...], layers: list) -> list[str]:
    """What is wrong with the ranges of each layer of ``asked`` that ``layers`` hold."""
    return [
        problem
        for expected, layer in asked_present(asked, layers)
        for problem in broken_messages(expected.rules(), layer)
    ]
