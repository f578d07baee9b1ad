"""Grading a learner's assembled ResNet50 against the reference.

Layer order in ``model.layers`` depends on the order in which branches were written, so
the check does not compare layer lists. It compares, by the names the exercise prescribes
(``conv1``, ``res2a_branch2a``, ``bn2a_branch2a``, ..., ``fc6``), each named layer's kind
and settings with the reference's; then it gives every named layer of the learner's model
fixed weights (:func:`fixed_weights`), runs it on fixed images and compares its features
with the reference model's, which had the same weights: if the wiring between the named
layers differs anywhere (a missing shortcut, a ReLU in the wrong place, a block skipped),
the features differ. What the reference gives comes from :mod:`graders.reference_outputs`.
"""

from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass

import keras
import numpy as np

from course_utils.language import translate
from graders.reference_outputs import reference_output
from graders.report import CheckResult

INPUT_SHAPE = (64, 64, 3)
CLASSES = 6
PARAMS = 23_600_006
_SETTINGS = ("filters", "kernel_size", "strides", "padding", "pool_size", "units", "momentum")
_SHOWN = 4  # named-layer problems listed before "and N more"


NAMED_KINDS = ("Conv2D", "BatchNormalization", "Dense", "AveragePooling2D")
NAMED_LAYERS_KEY = "resnet50/named layers"
FEATURES_KEY = "resnet50/features"


def named_layer_entries(model: keras.Model) -> list[dict[str, object]]:
    """The layers of ``model`` whose kind is one of :data:`NAMED_KINDS`, in order, each as
    ``{"name", "kind", "settings", "weights"}`` (weights: each weight's name and shape), and
    for a pooling layer ``"map"``: the height and width of its input."""
    entries = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in NAMED_KINDS:
            continue
        entry = {
            "name": layer.name,
            "kind": kind,
            "settings": _settings(layer),
            "weights": [[_weight_name(weight), list(weight.shape)] for weight in layer.weights],
        }
        if kind == "AveragePooling2D":
            entry["map"] = list(layer.input.shape[1:3])
        entries.append(entry)
    return entries


@functools.cache
def _named_layers() -> list[dict[str, object]]:
    """The reference's :func:`named_layer_entries`, settings with tuples as Keras gives
    them (stored outputs hold lists); read once per process, never changed."""
    entries = []
    for entry in reference_output(NAMED_LAYERS_KEY):
        settings = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in entry["settings"].items()
        }
        entries.append({**entry, "settings": settings})
    return entries


def _settings(layer) -> dict[str, object]:
    values = {}
    for name in _SETTINGS:
        if hasattr(layer, name):
            value = getattr(layer, name)
            values[name] = tuple(value) if isinstance(value, list) else value
    activation = getattr(layer, "activation", None)
    if activation is not None:
        values["activation"] = getattr(activation, "__name__", str(activation))
    return values


def _weight_name(weight) -> str:
    """A weight's own name ('kernel', 'gamma', 'moving_variance', ...), without its path."""
    return weight.name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LayerProblem:
    """One named layer that differs from the recipe: its ``name``, a sentence, and which
    settings differ (``{"missing"}`` or ``{"kind"}`` when the layer itself is wrong)."""

    name: str
    text: str
    keys: frozenset[str]


def layer_problems(model: keras.Model) -> list[LayerProblem]:
    """Every named layer of the reference that ``model`` lacks or configures otherwise."""
    found = {layer.name: layer for layer in model.layers}
    problems = []
    for expected in _named_layers():
        name, kind = expected["name"], expected["kind"]
        if name not in found:
            text = translate("no layer named {name!r} (a {kind})", name=name, kind=kind)
            problems.append(LayerProblem(name, text, frozenset({"missing"})))
            continue
        layer = found[name]
        if _pools_the_whole_map(expected, layer):
            continue
        if type(layer).__name__ != kind:
            text = translate(
                "{name!r} should be a {kind}, found {found}",
                name=name,
                kind=kind,
                found=type(layer).__name__,
            )
            problems.append(LayerProblem(name, text, frozenset({"kind"})))
            continue
        want, have = expected["settings"], _settings(layer)
        wrong = [key for key in want if want[key] != have.get(key)]
        if wrong:
            details = ", ".join(
                translate(
                    "{setting} {expected!r} expected, found {found!r}",
                    setting=key,
                    expected=want[key],
                    found=have.get(key),
                )
                for key in wrong
            )
            text = translate("{name!r}: {details}", name=name, details=details)
            problems.append(LayerProblem(name, text, frozenset(wrong)))
    return problems


def _pools_the_whole_map(expected: dict[str, object], layer) -> bool:
    """Whether ``layer`` is a GlobalAveragePooling2D standing for the recipe's
    AveragePooling2D (``expected``, a :func:`named_layer_entries` entry), whose pool covers
    the whole feature map: the two compute the same averages (Flatten after the pooling
    gives the same row)."""
    if type(layer).__name__ != "GlobalAveragePooling2D":
        return False
    if expected["kind"] != "AveragePooling2D":
        return False
    return tuple(expected["map"]) == expected["settings"]["pool_size"]


_BLOCK_LAYER = re.compile(r"^(?:res|bn)(\d)([a-f])_branch")  # the recipe's block layers
_ANY_BLOCK_LAYER = re.compile(r"^(?:res|bn)\d")  # also those the recipe does not name
NAMES_HINT = translate(
    "Pass stage and block to every block call (stage 2: 'a' then 'b', 'c'; stage 3: 'a' to "
    "'d'; stage 4: 'a' to 'f'; stage 5: 'a' to 'c'), and name conv1, bn_conv1, avg_pool and "
    "the output layer as in the recipe."
)
MOMENTUM_HINT = translate(
    "Create every BatchNormalization with momentum=0.9, in your blocks (exercises 1 and 2) "
    "and for bn_conv1: Keras's default, 0.99, lets the moving averages lag far behind the "
    "weights in a training this short."
)
BLOCKS_FIRST = translate(
    "If exercise 1 or 2 does not pass yet, fix it first: ResNet50 is made of your blocks."
)


def _blocks(names: list[str]) -> set[tuple[str, str]]:
    """The (stage, block) pairs of the block layers among ``names``."""
    return {match.groups() for name in names if (match := _BLOCK_LAYER.match(name))}


def problems_hint(problems: list[LayerProblem], model: keras.Model) -> str:
    """The hint for the named-layer problems: momentum when only momentum differs; the
    blocks' exercise when every identity (or convolutional) block differs and nothing
    else does (and the model has no block layer the recipe does not name, as a block
    called with the wrong stage or letter has); else how to name the layers."""
    if all(problem.keys == {"momentum"} for problem in problems):
        return MOMENTUM_HINT
    names = [problem.name for problem in problems]
    expected = {entry["name"] for entry in _named_layers()}
    misnamed = [
        layer.name
        for layer in model.layers
        if _ANY_BLOCK_LAYER.match(layer.name) and layer.name not in expected
    ]
    if misnamed or not all(_BLOCK_LAYER.match(name) for name in names):
        return NAMES_HINT
    wrong = _blocks(names)
    every = _blocks([entry["name"] for entry in _named_layers()])
    kinds = {
        1: {b for b in every if b[1] != "a"},  # exercise 1: the identity blocks
        2: {b for b in every if b[1] == "a"},  # exercise 2: the convolutional blocks
    }
    exercises = tuple(number for number, blocks in kinds.items() if blocks <= wrong)
    covered = set().union(*(kinds[number] for number in exercises))
    if not exercises or not wrong <= covered:
        return NAMES_HINT
    if exercises == (1,):
        return translate(
            "Every identity block differs from the recipe: fix exercise 1 first (its check "
            "names the mistake); ResNet50 is assembled from your identity_block."
        )
    if exercises == (2,):
        return translate(
            "Every convolutional block differs from the recipe: fix exercise 2 first (its "
            "check names the mistake); ResNet50 is assembled from your convolutional_block."
        )
    return translate(
        "Every identity and convolutional block differs from the recipe: fix exercises 1 and "
        "2 first (its check names the mistake); ResNet50 is assembled from your "
        "identity_block and convolutional_block."
    )


FEATURE_IMAGES = 2


def feature_images() -> np.ndarray:
    """The fixed images the features are computed on: (2, 64, 64, 3) float32 in [0, 1]."""
    count = FEATURE_IMAGES * int(np.prod(INPUT_SHAPE))
    images = (0.5 + 0.5 * np.sin(0.01 * np.arange(count))).reshape((FEATURE_IMAGES, *INPUT_SHAPE))
    return images.astype(np.float32)


def _hashed_uniform(size: int, seed: int) -> np.ndarray:
    """``size`` values in [-1, 1) from an integer hash of their index and ``seed``: spread
    like random numbers, but from integer arithmetic alone, so the same on every machine
    and with every NumPy (a random generator's stream may change between versions)."""
    mask = np.uint64(0xFFFFFFFF)
    h = (np.arange(size, dtype=np.uint64) * np.uint64(0x9E3779B1) + np.uint64(seed)) & mask
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x2C1B3C6D)) & mask
    h ^= h >> np.uint64(12)
    h = (h * np.uint64(0x297A2D39)) & mask
    h ^= h >> np.uint64(15)
    return h.astype(np.float64) / 2.0**31 - 1.0


def fixed_weights(layer_name: str, weights: list[tuple[str, tuple[int, ...]]]) -> list[np.ndarray]:
    """Fixed float32 values for a layer's ``weights`` (each weight's name and shape), the
    same on every machine and different for each layer: kernels spread as He's uniform
    initializer spreads them, biases and batch-norm offsets small, scales and variances
    near 1, so that the ReLUs cut and the features stay finite through the 50 layers."""
    values = []
    for index, (name, shape) in enumerate(weights):
        seed = zlib.crc32(f"{layer_name}/{index}".encode())
        uniform = _hashed_uniform(int(np.prod(shape)), seed).reshape(shape)
        if name == "kernel":
            value = uniform * np.sqrt(6.0 / max(1, int(np.prod(shape[:-1]))))
        elif name in ("gamma", "moving_variance"):
            value = 1.0 + 0.25 * uniform
        else:  # bias, beta, moving_mean
            value = 0.1 * uniform
        values.append(value.astype(np.float32))
    return values


def fixed_weight_features(model: keras.Model) -> np.ndarray:
    """Give every layer of ``model`` named as in the reference :func:`fixed_weights`, and
    return the 'avg_pool' layer's output on :func:`feature_images` in inference mode, one
    row per image: (2, features) float32. The model keeps the fixed weights: callers
    restore their own. Raises ValueError or KeyError when a layer is missing or its
    weights do not fit."""
    for entry in _named_layers():
        if entry["weights"]:
            layer = model.get_layer(entry["name"])
            layer.set_weights(fixed_weights(entry["name"], entry["weights"]))
    extractor = keras.Model(model.input, model.get_layer("avg_pool").output)
    images = feature_images()
    features = np.asarray(keras.ops.convert_to_numpy(extractor(images, training=False)))
    return features.reshape(len(images), -1)


def functional_difference(model: keras.Model) -> str | None:
    """Compare the features of ``model`` with the reference's, both with the same fixed
    weights in every named layer (:func:`fixed_weight_features`). ``model`` keeps its own
    weights. None when they agree, else why."""
    names = [entry["name"] for entry in _named_layers() if entry["weights"]]
    try:
        layers = [model.get_layer(name) for name in names]
    except ValueError as error:
        return translate("the weights could not be compared layer by layer: {error}", error=error)
    saved = [layer.get_weights() for layer in layers]
    try:
        have = fixed_weight_features(model)
    except (ValueError, KeyError) as error:
        return translate("the weights could not be compared layer by layer: {error}", error=error)
    finally:
        for layer, weights in zip(layers, saved, strict=True):
            layer.set_weights(weights)
    want = reference_output(FEATURES_KEY)
    if want.shape != have.shape:
        return translate(
            "the 'avg_pool' output has shape {found}, expected {expected}",
            found=have.shape[1:],
            expected=want.shape[1:],
        )
    scale = float(np.max(np.abs(want))) or 1.0
    difference = float(np.max(np.abs(want - have))) / scale
    if difference > 1e-3:
        return translate(
            "with the same weights in every named layer, your model computes different "
            "features than the reference (relative difference {difference:.2g}): some "
            "connection between the named layers differs (a shortcut, an Add, a ReLU, or a "
            "block in the wrong place)",
            difference=difference,
        )
    return None


def check_resnet50(model: keras.Model, points: dict[str, float]) -> list[CheckResult]:
    """The architecture results for a learner's ResNet50: input and output, named layers,
    parameter count, and the function it computes."""
    results = []
    want_in, want_out = (None, *INPUT_SHAPE), (None, CLASSES)
    try:
        got_in, got_out = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, ValueError):
        got_in = got_out = None
    if (got_in, got_out) != (want_in, want_out):
        results.append(
            CheckResult.failed(
                "input and output",
                points["input and output"],
                translate(
                    "expected input {want_in} and output {want_out}, found {got_in} and {got_out}",
                    want_in=want_in,
                    want_out=want_out,
                    got_in=got_in,
                    got_out=got_out,
                ),
                translate(
                    "Start from keras.Input(shape=input_shape) and end with Dense(classes, "
                    "activation='softmax', name='fc' + str(classes))."
                ),
            )
        )
    else:
        results.append(
            CheckResult.passed(
                "input and output",
                points["input and output"],
                translate("input {got_in}, output {got_out}", got_in=got_in, got_out=got_out),
            )
        )
    problems = layer_problems(model)
    if problems:
        shown = "; ".join(problem.text for problem in problems[:_SHOWN])
        if len(problems) > _SHOWN:
            message = translate(
                "{count} named layer(s) differ from the recipe: {shown}; and {more} more",
                count=len(problems),
                shown=shown,
                more=len(problems) - _SHOWN,
            )
        else:
            message = translate(
                "{count} named layer(s) differ from the recipe: {shown}",
                count=len(problems),
                shown=shown,
            )
        results.append(
            CheckResult.failed(
                "named layers",
                points["named layers"],
                message,
                problems_hint(problems, model),
            )
        )
    else:
        count = len(_named_layers())
        results.append(
            CheckResult.passed(
                "named layers",
                points["named layers"],
                translate("all {count} named layers as expected", count=count),
            )
        )
    found = model.count_params()
    if found != PARAMS:
        results.append(
            CheckResult.failed(
                "parameter count",
                points["parameter count"],
                translate(
                    "expected {expected:,} parameters, found {found:,}",
                    expected=PARAMS,
                    found=found,
                ),
                translate("Compare the filters of each stage with the recipe."),
            )
        )
    else:
        results.append(
            CheckResult.passed(
                "parameter count",
                points["parameter count"],
                translate("{found:,} parameters", found=found),
            )
        )
    if problems:
        why = translate("not compared: fix the named layers first")
        results.append(CheckResult.failed("same function", points["same function"], why))
        return results
    difference = functional_difference(model)
    if difference:
        results.append(
            CheckResult.failed(
                "same function",
                points["same function"],
                difference,
                translate(
                    "{blocks_first} Then check each stage: one convolutional block, then "
                    "identity blocks, each fed the previous block's output.",
                    blocks_first=BLOCKS_FIRST,
                ),
            )
        )
    else:
        results.append(
            CheckResult.passed(
                "same function",
                points["same function"],
                translate("with the same weights, it computes the same features as the reference"),
            )
        )
    return results
