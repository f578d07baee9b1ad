"""Which device runs the lesson: a one-line banner for every setup cell."""

from __future__ import annotations

import os


def device_banner() -> str:
    """One line naming the device TensorFlow will use and the library versions, e.g.
    ``Device: CPU (2 cores) · TensorFlow 2.21.0 · Keras 3.15.1``."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        name = details.get("device_name", gpus[0].name)
        more = f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else ""
        device = f"GPU {name}{more}"
    else:
        device = f"CPU ({os.cpu_count()} cores)"
    return f"Device: {device} · TensorFlow {tf.__version__} · Keras {keras.__version__}"


def print_device_banner() -> None:
    """Print :func:`device_banner`."""
    print(device_banner())
