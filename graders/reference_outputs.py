"""What the reference implementations give on the checks' fixed inputs.

A check that compares a learner's answer with a reference implementation (lesson 00's
functions, lesson 07's residual blocks and ResNet50) asks this module for the reference's
output by key, e.g. ``reference_output("lesson00/steps_per_epoch")``: a list with the
expected answer to each of the check's fixed calls.

In the repository, the outputs are computed from the reference implementations
(:mod:`graders.reference_values`) the first time they are asked for. The student edition
(``./course release --student OUT``) carries no reference implementation: its checks read
the same outputs from :data:`STORE`, computed when the edition is written, and give the
same messages from them.

The store is JSON: numbers, strings, lists, dicts and None as they are, and NumPy arrays as
``{"array": nested lists, "dtype": "float64"}`` (JSON keeps every float exactly).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

STORE = Path(__file__).resolve().with_name("reference_outputs.json")
_ARRAY = "array"


def reference_output(key: str) -> object:
    """The reference's output named ``key``: from :data:`STORE` where it exists (the
    student edition), else computed by :mod:`graders.reference_values`."""
    stored = _stored()
    if stored is not None:
        if key not in stored:
            raise KeyError(f"{STORE} holds no reference output {key!r}")
        return stored[key]
    from graders import reference_values

    return reference_values.compute(key)


@functools.lru_cache(maxsize=1)
def _stored() -> dict[str, object] | None:
    if not STORE.is_file():
        return None
    return json.loads(STORE.read_text(encoding="utf-8"), object_hook=_decode)


def encode(outputs: dict[str, object]) -> str:
    """``outputs`` (key -> output) as the store's JSON text, keys sorted."""
    return json.dumps(outputs, default=_encode, sort_keys=True, separators=(",", ":")) + "\n"


def _encode(value: object) -> object:
    if isinstance(value, np.ndarray):
        return {_ARRAY: value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"a reference output cannot hold a {type(value).__name__}")


def _decode(value: dict) -> object:
    if set(value) == {_ARRAY, "dtype"}:
        return np.asarray(value[_ARRAY], dtype=value["dtype"])
    return value
