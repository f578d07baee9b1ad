"""Which device runs the lesson: a one-line banner for every setup cell."""

from __future__ import annotations

import os
from pathlib import Path

from course_utils.language import translate


def device_banner() -> str:
    """One line naming the device TensorFlow will use and the library versions, e.g.
    ``Device: CPU (2 cores, without AVX-512) · TensorFlow 2.21.0 · Keras 3.15.1``. On a
    CPU it says whether the CPU has AVX-512, which TensorFlow's oneDNN kernels use where
    present (see :func:`vector_units`)."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        name = details.get("device_name", gpus[0].name)
        if len(gpus) > 1:
            device = translate("GPU {name} (+{more} more)", name=name, more=len(gpus) - 1)
        else:
            device = f"GPU {name}"
    else:
        device = _cpu_text(os.cpu_count(), vector_units())
    return translate(
        "Device: {device} · TensorFlow {tensorflow} · Keras {keras}",
        device=device,
        tensorflow=tf.__version__,
        keras=keras.__version__,
    )


def print_device_banner() -> None:
    """Print :func:`device_banner`."""
    print(device_banner())


def vector_units(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's AVX and AMX units, read from the first ``flags`` line of ``cpuinfo``, e.g.
    ``"avx avx2"`` or ``"amx_bf16 ... avx512f ..."``; "no AVX" when it lists none and
    "unknown" where there is no such file (macOS, Windows). TensorFlow's oneDNN kernels
    use AVX-512 where the CPU has it: lesson 07's ResNet50 trains faster with it than
    with AVX2 alone (``ONEDNN_MAX_CPU_ISA=AVX2 python bench/onednn_speed.py`` shows how
    much on an AVX-512 machine)."""
    try:
        lines = cpuinfo.read_text().splitlines()
        flags = next(line for line in lines if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    return " ".join(sorted({f for f in flags if f.startswith(("avx", "amx"))})) or "no AVX"


def _cpu_text(cores: int | None, units: str) -> str:
    """``CPU (2 cores, with AVX-512)`` or ``CPU (2 cores, without AVX-512)`` for the
    :func:`vector_units` ``units``; ``CPU (2 cores)`` when they are unknown."""
    if units == "unknown":
        return translate("CPU ({cores} cores)", cores=cores)
    if "avx512f" in units.split():
        return translate("CPU ({cores} cores, with AVX-512)", cores=cores)
    return translate("CPU ({cores} cores, without AVX-512)", cores=cores)
