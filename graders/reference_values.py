"""The reference outputs computed from the reference implementations.

:func:`compute` answers :func:`graders.reference_outputs.reference_output` in the
repository; :func:`compute_all` gives every output at once, which the student edition
stores instead of this module and :mod:`graders.reference_models` (see
:mod:`course_utils.student_edition`). Keys:

- ``lesson00/<function name>``: the answer to each of the function's fixed calls
  (:data:`graders.lesson00.FUNCTION_CASES`);
- ``<block function>/<wiring>``: what a residual block wired so gives on its fixed input,
  ``{"inference": array, "training": array}``, or None when that wiring cannot run on it
  (:data:`graders.resnet_blocks.WIRINGS`);
- ``resnet50/...``: the reference ResNet50's named layers and its features with fixed
  weights (:mod:`graders.resnet_model`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace

import keras
import numpy as np

from graders import lesson00, resnet_model
from graders.reference_models import REFERENCE, BlockVariant, residual_block, resnet50
from graders.resnet_blocks import (
    CONVOLUTIONAL_CASE,
    IDENTITY_CASE,
    REFERENCE_WIRING,
    WIRINGS,
    BlockCase,
    as_numpy,
    wiring_key,
)

# The wirings that graders.resnet_blocks.MISTAKES names, as the reference builds them.
BLOCK_VARIANTS: dict[str, BlockVariant] = {
    REFERENCE_WIRING: REFERENCE,
    "no first main batch norm": replace(REFERENCE, main_bn=(False, True, True)),
    "no middle main batch norm": replace(REFERENCE, main_bn=(True, False, True)),
    "no last main batch norm": replace(REFERENCE, main_bn=(True, True, False)),
    "add after relu": replace(REFERENCE, add_after_relu=True),
    "relu on main before add": replace(REFERENCE, relu_main_before_add=True),
    "no final relu": replace(REFERENCE, final_relu=False),
    "stride on middle": replace(REFERENCE, stride_on_middle=True),
    "no shortcut batch norm": replace(REFERENCE, shortcut_bn=False),
}


def _to_channels_first(images: np.ndarray) -> np.ndarray:
    return np.transpose(images, (0, 3, 1, 2))


def _steps_per_epoch(samples: int, batch_size: int) -> int:
    return math.ceil(samples / batch_size)


def _dense_parameters(layer_sizes: list[int]) -> int:
    """What Keras counts for ``keras.Input(shape=(layer_sizes[0],))`` followed by one
    ``Dense`` layer of each later size."""
    model = keras.Sequential(
        [keras.Input(shape=(layer_sizes[0],)), *(keras.layers.Dense(u) for u in layer_sizes[1:])]
    )
    return model.count_params()


LESSON00_REFERENCES: dict[str, Callable] = {
    "to_channels_first": _to_channels_first,
    "steps_per_epoch": _steps_per_epoch,
    "dense_parameters": _dense_parameters,
}


def _function_answers(name: str) -> list:
    case = next(case for case in lesson00.FUNCTION_CASES.values() if case.name == name)
    reference = LESSON00_REFERENCES[name]
    return [reference(*arguments, **keywords) for arguments, keywords in case.calls()]


def _block_outputs(case: BlockCase, wiring: str) -> dict[str, np.ndarray] | None:
    outputs = {}
    for mode, training in (("inference", False), ("training", True)):
        kwargs = case.kwargs(training)
        s = kwargs.pop("s", 1)
        try:
            output = residual_block(
                case.inputs(),
                s=s,
                shortcut_conv=case.s is not None,
                variant=BLOCK_VARIANTS[wiring],
                **kwargs,
            )
        except ValueError:  # e.g. a stride that makes the main path and shortcut differ
            return None
        outputs[mode] = as_numpy(output)
    return outputs


@functools.lru_cache(maxsize=1)
def _resnet50() -> keras.Model:
    """The reference ResNet50, built once: its named layers are read before its features,
    which give it fixed weights (settings and weight shapes stay as they were)."""
    return resnet50(resnet_model.INPUT_SHAPE, resnet_model.CLASSES)


@functools.cache
def _computations() -> dict[str, Callable[[], object]]:
    computations: dict[str, Callable[[], object]] = {
        f"lesson00/{name}": functools.partial(_function_answers, name)
        for name in LESSON00_REFERENCES
    }
    for case in (IDENTITY_CASE, CONVOLUTIONAL_CASE):
        for wiring in WIRINGS:
            computations[wiring_key(case, wiring)] = functools.partial(_block_outputs, case, wiring)
    computations[resnet_model.NAMED_LAYERS_KEY] = lambda: resnet_model.named_layer_entries(
        _resnet50()
    )
    computations[resnet_model.FEATURES_KEY] = lambda: resnet_model.fixed_weight_features(
        _resnet50()
    )
    return computations


@functools.cache
def compute(key: str) -> object:
    """The reference output named ``key``, computed once per process."""
    computations = _computations()
    if key not in computations:
        raise KeyError(f"no reference output is named {key!r}; known: {sorted(computations)}")
    return computations[key]()


def compute_all() -> dict[str, object]:
    """Every reference output, by key."""
    return {key: compute(key) for key in _computations()}
