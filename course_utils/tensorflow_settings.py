"""Settings for TensorFlow on a CPU that the learner's kernel, the tests, the graders and the
benchmarks share. They are environment variables, read when TensorFlow loads, so each
process sets them before its first ``import tensorflow`` (or ``import keras``).

``TF_ENABLE_ONEDNN_OPTS=1`` runs TensorFlow's convolutions and matrix products on oneDNN,
Intel's library of deep-learning kernels. TensorFlow's Linux x86 wheels do so by default
only on CPUs with AVX-512 VNNI, BF16 or AMX units (Intel Cascade Lake and later server
chips); on the many laptops and machines whose CPUs have AVX2 alone, they use their own
slower kernels unless this variable asks for oneDNN. ``python bench/onednn_speed.py``
prints what it changes on the machine at hand. Results may differ in the last digits
(floating-point sums in another order), as they already do between those two kinds of CPU.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

TENSORFLOW_ENVIRONMENT: dict[str, str] = {"TF_ENABLE_ONEDNN_OPTS": "1"}
"""Each variable and the value the course runs TensorFlow with."""


def use_tensorflow_settings(environment: MutableMapping[str, str] = os.environ) -> None:
    """Put :data:`TENSORFLOW_ENVIRONMENT` into ``environment`` (this process's by default),
    keeping any variable already set there: ``TF_ENABLE_ONEDNN_OPTS=0 ./course lab`` still
    turns oneDNN off. Call it before TensorFlow is imported; later it changes nothing."""
    for name, value in TENSORFLOW_ENVIRONMENT.items():
        environment.setdefault(name, value)


def onednn_enabled() -> bool:
    """Whether this process's TensorFlow runs on oneDNN (imports TensorFlow). TensorFlow
    has no public name for it; this is the one place that asks its private one."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())
