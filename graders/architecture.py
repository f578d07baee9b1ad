"""Architecture checks: compare a model's normalized layer list with the expected one.

Normalization makes equivalent spellings equal: a standalone ``Activation("relu")``,
``ReLU()`` or ``Softmax()`` right after a ``Dense`` or ``Conv2D`` without its own activation
is folded into that layer, so ``Dense(128, activation="relu")``, ``Dense(128)`` +
``Activation("relu")`` and ``Dense(128)`` + ``ReLU()`` all become one ``Dense`` with 128
units and ``relu``. Input layers are skipped, so ``keras.Input(...)`` and ``input_shape=``
are the same. A ReLU applied to values that are already non-negative (a second ReLU, also
through pooling, dropout or Flatten) computes nothing new: it is dropped, with a note.

The comparison names what the learner wrote: a layer in the wrong place is reported as
moved ("Dropout(0.5) is after Dense(128, relu); it belongs right after MaxPooling2D(2x2)"),
and when the expected list keeps an activation separate (HappyModel's Conv2D ->
BatchNormalization -> ReLU), the learner's layers are compared unfolded too, so a missing
BatchNormalization is named as missing instead of as a Conv2D with a ReLU.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from difflib import SequenceMatcher

from course_utils.language import listed, semicolons, translate
from graders.report import CheckResult

_FOLDS_ACTIVATION = {"Dense", "Conv2D"}
_ACTIVATION_LAYERS = {"Activation", "ReLU", "Softmax"}


@dataclass(frozen=True)
class LayerSpec:
    """One normalized layer. In an *expected* spec, a field left as ``None`` is not checked.

    ``activation`` is ``"linear"`` for a layer without one. ``output_shape`` excludes the
    batch axis. An expected spec that leaves ``dilation_rate`` or ``axis`` unset still asks
    for the layer's usual value (no dilation; the channels, the last axis): another value
    computes something else (see :func:`expected_value`).
    """

    kind: str
    name: str | None = None
    units: int | None = None
    filters: int | None = None
    kernel_size: tuple[int, ...] | None = None
    strides: tuple[int, ...] | None = None
    dilation_rate: tuple[int, ...] | None = None
    padding: str | tuple[tuple[int, int], ...] | None = None
    pool_size: tuple[int, ...] | None = None
    rate: float | None = None
    axis: int | None = None  # the axis BatchNormalization normalizes, counting the batch axis
    activation: str | None = None
    output_shape: tuple[int | None, ...] | None = None
    params: int | None = None
    separate_activation: bool = False  # the activation was its own layer, folded in

    def short(self) -> str:
        """A compact spelling such as ``Dense(128, relu)``, ``Conv2D(32, 3x3)`` or
        ``Dropout(0.5)``, for sentences that name several layers."""
        if self.kind == "Activation":
            return f"Activation({self.activation!r})"
        parts = [str(v) for v in (self.units, self.filters) if v is not None]
        for value in (self.kernel_size, self.pool_size):
            if value is not None:
                parts.append(_size(value))
        if self.rate is not None:
            parts.append(f"{self.rate:g}")
        if self.activation not in (None, "linear") and not self.separate_activation:
            parts.append(self.activation)
        text = f"{self.kind}({', '.join(parts)})" if parts else self.kind
        if self.name is not None:
            text += f" {self.name!r}"
        if self.separate_activation and self.activation not in (None, "linear"):
            text += f" + Activation({self.activation!r})"
        return text

    def describe(self) -> str:
        """A short phrase such as ``Dense with 128 units and relu activation``."""
        parts = []
        if self.units is not None:
            parts.append(translate("{units} units", units=self.units))
        if self.filters is not None:
            parts.append(translate("{filters} filters", filters=self.filters))
        if self.kernel_size is not None:
            parts.append(translate("a {size} kernel", size=_size(self.kernel_size)))
        if self.strides is not None:
            parts.append(translate("strides {size}", size=_size(self.strides)))
        if self.dilation_rate is not None:
            parts.append(translate("dilation rate {size}", size=_size(self.dilation_rate)))
        if self.pool_size is not None:
            parts.append(translate("pool size {size}", size=_size(self.pool_size)))
        if isinstance(self.padding, str):
            parts.append(translate("{padding} padding", padding=self.padding))
        elif self.padding is not None:  # ZeroPadding2D: ((top, bottom), (left, right))
            parts.append(translate("padding {padding}", padding=self.padding))
        if self.rate is not None:
            parts.append(translate("rate {rate:g}", rate=self.rate))
        if self.axis is not None:
            parts.append(f"axis={self.axis}")
        folded = self.separate_activation and self.activation not in (None, "linear")
        if self.activation is not None and self.kind not in _ACTIVATION_LAYERS and not folded:
            parts.append(_activation_phrase(self.activation))
        head = self.kind if self.kind != "Activation" else f"Activation({self.activation!r})"
        if self.name is not None:
            head = translate("{layer} named {name!r}", layer=head, name=self.name)
        text = (
            translate("{layer} with {settings}", layer=head, settings=listed(parts))
            if parts
            else head
        )
        if folded:
            text = translate(
                "{layer} followed by Activation({activation!r})",
                layer=text,
                activation=self.activation,
            )
        return text


def _size(value: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in value)


def _activation_phrase(name: str) -> str:
    if name == "linear":
        return translate("no activation")
    return translate("{activation} activation", activation=name)


def _activation_name(layer) -> str:
    kind = type(layer).__name__
    if kind == "ReLU":
        custom = layer.max_value is not None or layer.negative_slope or layer.threshold
        return "relu (custom)" if custom else "relu"
    if kind == "Softmax":
        return "softmax"
    function = getattr(layer, "activation", None)
    return getattr(function, "__name__", str(function)) if function is not None else "linear"


def _tuple(value) -> tuple[int, ...] | None:
    if value is None:
        return None
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _normalized_axis(layer) -> int | None:
    """The axis a BatchNormalization normalizes, as a non-negative index of its input's
    shape, batch axis included (-1 of a 4-D input is 3)."""
    axis = getattr(layer, "axis", None)
    if isinstance(axis, (list, tuple)):
        axis = axis[0] if len(axis) == 1 else None
    if not isinstance(axis, int):
        return None
    if axis < 0:
        try:
            axis += len(layer.input.shape)
        except (AttributeError, ValueError):
            return None
    return axis


def _raw_spec(layer) -> LayerSpec:
    kind = type(layer).__name__
    try:
        output_shape = tuple(layer.output.shape)[1:]
    except (AttributeError, ValueError):  # a layer that was never called
        output_shape = None
    padding = getattr(layer, "padding", None)
    if isinstance(padding, (tuple, list)):
        padding = tuple(_tuple(side) for side in padding)
    spec = LayerSpec(
        kind=kind,
        name=layer.name,
        units=getattr(layer, "units", None) if kind == "Dense" else None,
        filters=getattr(layer, "filters", None),
        kernel_size=_tuple(getattr(layer, "kernel_size", None)),
        strides=_tuple(getattr(layer, "strides", None)),
        dilation_rate=_tuple(getattr(layer, "dilation_rate", None)),
        padding=padding,
        pool_size=_tuple(getattr(layer, "pool_size", None)),
        rate=getattr(layer, "rate", None) if kind == "Dropout" else None,
        axis=_normalized_axis(layer) if kind == "BatchNormalization" else None,
        activation=None,
        output_shape=output_shape,
        params=layer.count_params() if layer.built else None,
    )
    if kind in _FOLDS_ACTIVATION or kind in _ACTIVATION_LAYERS:
        spec = replace(spec, activation=_activation_name(layer))
    if kind in _ACTIVATION_LAYERS:
        spec = replace(spec, kind="Activation")
    return spec


# Layers whose output is non-negative when their input is (so a ReLU after them is a no-op).
_KEEPS_SIGN = {"MaxPooling2D", "AveragePooling2D", "Dropout", "Flatten", "ZeroPadding2D"}


def _normalize(model, *, fold: bool = True) -> tuple[list[LayerSpec], list[str]]:
    """The normalized layers, and a note for each ReLU dropped because its input was
    already non-negative. ``fold``: fold activation layers into the Dense or Conv2D before.
    """
    specs: list[LayerSpec] = []
    notes: list[str] = []
    non_negative = False
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        spec = _raw_spec(layer)
        previous = specs[-1] if specs else None
        if spec.kind == "Activation" and spec.activation == "relu" and non_negative:
            after = _unnamed(previous).short() if previous is not None else translate("the input")
            notes.append(
                translate(
                    "the Activation('relu') after {layer} does nothing: its input is already "
                    "non-negative after a ReLU, and relu(relu(x)) = relu(x), so you can remove it",
                    layer=after,
                )
            )
            continue
        if spec.activation == "relu":
            non_negative = True
        elif spec.kind not in _KEEPS_SIGN:
            non_negative = False
        if (
            fold
            and spec.kind == "Activation"
            and previous is not None
            and previous.kind in _FOLDS_ACTIVATION
            and previous.activation == "linear"
        ):
            specs[-1] = replace(
                previous,
                activation=spec.activation,
                output_shape=spec.output_shape,
                separate_activation=True,
            )
            continue
        specs.append(spec)
    return specs, notes


def normalize_layers(model) -> list[LayerSpec]:
    """The model's layers as a normalized list (input layers skipped, activations folded,
    ReLUs that change nothing dropped)."""
    return _normalize(model)[0]


_NOT_COMPARED = ("kind", "output_shape", "params", "separate_activation")
_COMPARED = [f.name for f in fields(LayerSpec) if f.name not in _NOT_COMPARED]


def _unnamed(spec: LayerSpec) -> LayerSpec:
    """``spec`` without its name: a name matters only where the exercise asks for one."""
    return replace(spec, name=None)


def expected_value(expected: LayerSpec, found: LayerSpec, field: str):
    """What ``expected`` asks of ``found``'s ``field``: its own value, or, where it leaves
    it unset, the usual one of a field whose other values compute something else: no
    dilation, and BatchNormalization over the channels (the last axis). None: not checked."""
    value = getattr(expected, field)
    if value is not None:
        return value
    if field == "dilation_rate" and found.dilation_rate is not None:
        return tuple(1 for _ in found.dilation_rate)
    if field == "axis" and found.axis is not None and found.output_shape is not None:
        return len(found.output_shape)
    return None


def _layer_mismatch(
    position: int, expected: LayerSpec, found: LayerSpec
) -> tuple[str, bool] | None:
    """The problem of ``found`` at ``position``, and whether it is only its output shape
    (None: as expected)."""
    if expected.kind != found.kind:
        shown = found if expected.name is not None else _unnamed(found)
        return _mismatch(position, expected.describe(), shown.describe()), False
    wanted = {name: expected_value(expected, found, name) for name in _COMPARED}
    wrong = [
        name
        for name, value in wanted.items()
        if value is not None and value != getattr(found, name)
    ]
    if wrong:
        shown_expected = replace(LayerSpec(kind=expected.kind), **{n: wanted[n] for n in wrong})
        shown_found = replace(
            LayerSpec(kind=found.kind, separate_activation=found.separate_activation),
            **{n: getattr(found, n) for n in wrong},
        )
        return _mismatch(position, shown_expected.describe(), shown_found.describe()), False
    if (
        expected.output_shape is not None
        and found.output_shape is not None
        and expected.output_shape != found.output_shape
    ):
        problem = translate(
            "layer {position} ({kind}): expected output shape {expected}, found {found}",
            position=position,
            kind=found.kind,
            expected=_shape(expected.output_shape),
            found=_shape(found.output_shape),
        )
        return problem, True
    return None


def _mismatch(position: int, expected: str, found: str) -> str:
    return translate(
        "layer {position}: expected {expected}, found {found}",
        position=position,
        expected=expected,
        found=found,
    )


def _shape(shape: tuple) -> str:
    return str((None, *shape))


def _compare(
    expected: list[LayerSpec], found: list[LayerSpec], numbers: list[int] | None = None
) -> tuple[list[str], set[int]]:
    """The problems, and the expected positions (1-based) they concern.

    One layer in the wrong place is reported as moved, and the rest compared as if it
    were in place. When the lists differ in length only by missing or extra layers, they
    are aligned by layer kind, so that one missing layer is reported as such rather than as
    a mismatch at every position after it; otherwise (layers swapped, replaced) they are
    compared position by position. ``numbers``: the learner's layer number of each entry of
    ``found`` (1, 2, ... by default).
    """

    def number(index: int) -> int:
        """The learner's number of ``found[index]``."""
        return numbers[index] if numbers else index + 1

    move = _single_move(expected, found) if numbers is None else None
    if move is not None:
        origin, target = move
        # Shapes after a moved layer are consequences of the move: not compared again.
        shapeless = [replace(_unnamed(spec), output_shape=None) for spec in found]
        moved = shapeless[origin]
        rest = shapeless[:origin] + shapeless[origin + 1 :]
        if origin == 0:  # then target > 0
            problem = translate(
                "layer {number}, {layer}, is at the start; it belongs right after {target}",
                number=origin + 1,
                layer=moved.short(),
                target=rest[target - 1].short(),
            )
        elif target == 0:
            problem = translate(
                "layer {number}, {layer}, is after {previous}; it belongs first",
                number=origin + 1,
                layer=moved.short(),
                previous=shapeless[origin - 1].short(),
            )
        else:
            problem = translate(
                "layer {number}, {layer}, is after {previous}; it belongs right after {target}",
                number=origin + 1,
                layer=moved.short(),
                previous=shapeless[origin - 1].short(),
                target=rest[target - 1].short(),
            )
        problems = [problem]
        reordered = rest[:target] + [moved] + rest[target:]
        order = [index for index in range(len(found)) if index != origin]
        order.insert(target, origin)  # the learner's layer numbers, in the reordered list
        more, positions = _compare(expected, reordered, [index + 1 for index in order])
        return problems + more, positions | {target + 1}
    matcher = SequenceMatcher(
        a=[spec.kind for spec in expected], b=[spec.kind for spec in found], autojunk=False
    )
    opcodes = matcher.get_opcodes()
    unpaired = sum(
        (i2 - i1) + (j2 - j1)
        for tag, i1, i2, j1, j2 in opcodes
        if tag != "equal" and not (tag == "replace" and i2 - i1 == j2 - j1)
    )
    if unpaired != abs(len(expected) - len(found)):
        common = min(len(expected), len(found))
        opcodes = [("replace", 0, common, 0, common)] if common else []
        if len(expected) > common:
            opcodes.append(("delete", common, len(expected), common, common))
        if len(found) > common:
            opcodes.append(("insert", common, common, common, len(found)))
    problems: list[str] = []
    positions: set[int] = set()
    missing: list[str] = []
    extra: list[str] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for offset in range(i2 - i1):
                mismatch = _layer_mismatch(
                    number(j1 + offset), expected[i1 + offset], found[j1 + offset]
                )
                # A wrong output shape after an earlier wrong layer is a consequence, not news.
                if mismatch and not (problems and mismatch[1]):
                    problems.append(mismatch[0])
                    positions.add(i1 + offset + 1)
            continue
        for i in range(i1, i2):
            missing.append(_numbered(i + 1, expected[i].describe()))
            positions.add(i + 1)
        for j in range(j1, j2):
            extra.append(_numbered(number(j), _unnamed(found[j]).describe()))
    if missing or extra:
        summary = translate(
            "expected {expected} layers, found {found}", expected=len(expected), found=len(found)
        )
        if missing:
            summary = translate(
                "{summary}; missing: {layers}", summary=summary, layers=semicolons(missing)
            )
        if extra:
            summary = translate(
                "{summary}; extra: {layers}", summary=summary, layers=semicolons(extra)
            )
        problems.append(summary)
    return problems, positions


def _numbered(position: int, layer: str) -> str:
    return translate("layer {position}: {layer}", position=position, layer=layer)


def _single_move(expected: list[LayerSpec], found: list[LayerSpec]) -> tuple[int, int] | None:
    """``(origin, target)`` when moving ``found[origin]`` to index ``target`` (of the list
    without it) gives the expected order of layer kinds, and the kinds differ as they are."""
    want = [spec.kind for spec in expected]
    kinds = [spec.kind for spec in found]
    if kinds == want or sorted(kinds) != sorted(want):
        return None
    for origin, kind in enumerate(kinds):
        rest = kinds[:origin] + kinds[origin + 1 :]
        for target in range(len(kinds)):
            if target != origin and rest[:target] + [kind] + rest[target:] == want:
                return origin, target
    return None


def compare_layers(expected: list[LayerSpec], found: list[LayerSpec]) -> list[str]:
    """Every difference between two normalized layer lists, one sentence each. Positions
    are 1-based (input layers not counted): of ``found`` for a mismatch or an extra layer,
    of ``expected`` for a missing one."""
    return _compare(expected, found)[0]


def check_layers(
    model,
    expected: list[LayerSpec],
    *,
    points: float,
    hints: dict[int, str] | None = None,
    name: str = "layers",
    equivalents: tuple[list[LayerSpec], ...] = (),
) -> CheckResult:
    """Compare ``model``'s normalized layers with ``expected``.

    ``equivalents`` are other layer lists that compute the same function (e.g. ReLU before
    or after max pooling) and pass too; problems are reported against ``expected``, the
    order the lesson teaches. ``hints`` maps a 1-based layer position to a hint shown when
    that layer is wrong.
    """
    views = [_normalize(model, fold=True), _normalize(model, fold=False)]
    best = None
    for found, notes in views:
        problems, positions = _compare(expected, found)
        if problems and any(not compare_layers(other, found) for other in equivalents):
            problems = []
        if best is None or len(problems) < len(best[0]):
            best = problems, positions, found, notes
    problems, positions, found, notes = best
    note = "".join(" " + translate("Note: {note}.", note=text) for text in notes)
    if not problems:
        listing = " -> ".join(_unnamed(spec).describe() for spec in found)
        message = translate(
            "all {count} layers as expected: {layers}.", count=len(found), layers=listing
        )
        return CheckResult.passed(name, points, message + note)
    hint_texts = []  # each once: several positions may share one hint
    for position, hint in sorted((hints or {}).items()):
        if position in positions and hint not in hint_texts:
            hint_texts.append(hint)
    if not hint_texts:
        hint_texts.append(
            translate(
                "Compare your layers with the list in the exercise, one by one, using "
                "model.summary()."
            )
        )
    hint = hint_texts[0]
    for more in hint_texts[1:]:
        hint = translate("{hints} {hint}", hints=hint, hint=more)
    return CheckResult.failed(name, points, semicolons(problems) + note, hint)


def check_input_shape(
    model,
    expected: tuple[int, ...],
    *,
    points: float,
    alternatives: tuple[tuple[int, ...], ...] = (),
    hint: str | None = None,
) -> CheckResult:
    """Check ``model.input_shape`` (batch axis excluded) against ``expected``, or one of
    ``alternatives`` (other shapes of the same data that the layers may reshape, such as
    (28, 28) before a ``Flatten`` for an expected (784,)). ``hint``: the exercise's own
    advice for a wrong shape."""
    want = (None, *expected)
    try:
        found = tuple(model.input_shape)
    except (AttributeError, ValueError):
        return CheckResult.failed(
            "input shape",
            points,
            translate(
                "expected input shape {expected}, found a model whose input shape is not known yet",
                expected=want,
            ),
            translate("Start the model with keras.Input(shape={shape}).", shape=expected),
        )
    if found != want and found not in {(None, *shape) for shape in alternatives}:
        return CheckResult.failed(
            "input shape",
            points,
            translate("expected input shape {expected}, found {found}", expected=want, found=found),
            hint
            or translate(
                "The images are {size}: use keras.Input(shape={shape}).",
                size="x".join(map(str, expected)),
                shape=expected,
            ),
        )
    return CheckResult.passed(
        "input shape", points, translate("input shape {found} as expected", found=found)
    )


def check_param_count(model, expected: int, *, points: float, hint: str) -> CheckResult:
    """Check the total parameter count of a built model; ``hint``: the exercise's own
    advice on where its parameters come from."""
    try:
        found = model.count_params()
    except ValueError:
        found = None
    if found != expected:
        shown = translate("an unbuilt model") if found is None else f"{found:,}"
        return CheckResult.failed(
            "parameter count",
            points,
            translate(
                "expected {expected:,} parameters, found {found}", expected=expected, found=shown
            ),
            hint,
        )
    return CheckResult.passed(
        "parameter count", points, translate("{count:,} parameters as expected", count=found)
    )
